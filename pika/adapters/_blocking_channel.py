"""BlockingChannel: the synchronous face of a :class:`pika.channel.Channel`.

See :mod:`pika.adapters.blocking_connection` for the theory of operation.
Every RPC sends the request through the asynchronous channel (``_impl``),
then pumps the connection until the reply arrives or the channel closes, in
which case the broker's reason (:class:`pika.exceptions.ChannelClosedByBroker`)
is raised from the waiting call. Deliveries, returned messages and broker
cancellations are queued in ``_pending_events`` and dispatched, in arrival
order, by the connection's ``process_data_events``.
"""

import collections
import logging
import time
from types import TracebackType
from typing import (TYPE_CHECKING, Any, Callable, Deque, Dict, Generator, List,
                    Optional, Protocol, Tuple, Type, TypeVar, Union, cast,
                    overload)

from pika import exceptions, frame, spec, validators
from pika.adapters._blocking_events import (ReturnedMessage, _CallbackResult,
                                            _ConsumerCancellationEvt,
                                            _ConsumerDeliveryEvt, _ConsumerInfo,
                                            _QueueConsumerGeneratorInfo,
                                            _ReturnedMessageEvt)
from pika.adapters._forwarding import rpc_arguments
from pika.exchange_type import ExchangeType

if TYPE_CHECKING:
    from pika.adapters.blocking_connection import BlockingConnection
    # The class users see: blocking_connection's name for this one.
    from pika.adapters.blocking_connection import \
        BlockingChannel as _PublicChannel
    import pika.channel
    from pika.channel import Channel
    from pika.recovery import TopologyRecoveryEntity

LOGGER = logging.getLogger('pika.adapters.blocking_connection')

_NO_MESSAGE: Tuple[None, None, None] = (None, None, None)

#: What :meth:`BlockingChannel.consume` yields for a message.
_Delivery = Tuple[spec.Basic.Deliver, spec.BasicProperties, bytes]

#: What :meth:`BlockingChannel.basic_get` returns.
_GetResult = Union[Tuple[spec.Basic.GetOk, spec.BasicProperties, bytes],
                   Tuple[None, None, None]]

_ChannelT = TypeVar('_ChannelT', bound='BlockingChannel')


class OnMessageCallback(Protocol):
    """``on_message_callback(channel, method, properties, body)`` of
    :meth:`BlockingChannel.basic_consume`."""

    def __call__(self, channel: '_PublicChannel', method: spec.Basic.Deliver,
                 properties: spec.BasicProperties, body: bytes, /) -> object:
        """Receive one delivered message."""


class OnReturnCallback(Protocol):
    """``callback(channel, method, properties, body)`` of
    :meth:`BlockingChannel.add_on_return_callback`."""

    def __call__(self, channel: '_PublicChannel', method: spec.Basic.Return,
                 properties: spec.BasicProperties, body: bytes, /) -> object:
        """Receive a message the broker returned."""


_monotonic = time.monotonic


def _check_timeout(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError('%s must be a number or None, but got %r' %
                        (name, value))
    if value < 0:
        raise ValueError('%s must be non-negative, but got %r' % (name, value))


class _ChannelOwner(Protocol):
    """What a :class:`BlockingChannel` needs of its
    :class:`~pika.adapters.blocking_connection.BlockingConnection`: the pump
    (waits that raise the connection's close reason), dispatch requests and
    the notice that the channel closed.
    """

    _event_dispatch_suspend_depth: int

    def _channel_dispatch_requester(
            self) -> Callable[['BlockingChannel'], None]:
        ...

    def _wait_until(self, done: Callable[[], object]) -> None:
        ...

    def _wait_for_reply(self, done: Callable[[], object]) -> None:
        ...

    def _flush_output(self, *waiters: Callable[[], object]) -> None:
        ...

    def _flush_published(self) -> None:
        ...

    def _process_data_events(self, time_limit: Optional[float], *extra_waiters:
                             Callable[[], object]) -> None:
        ...

    def _on_channel_closed(self, channel: 'BlockingChannel') -> None:
        ...


class BlockingChannel:
    """A synchronous AMQP channel; made by
    :meth:`BlockingConnection.channel`, not directly.

    RPC methods return the broker's reply (a :class:`pika.frame.Method`)
    once it has arrived. When the broker closes the channel because of a
    call, that call raises :class:`pika.exceptions.ChannelClosedByBroker`;
    later calls raise :class:`pika.exceptions.ChannelWrongStateError`.

    :param channel_impl: the asynchronous :class:`pika.channel.Channel`
    :param connection: the owning :class:`BlockingConnection`
    """

    __module__ = 'pika.adapters.blocking_connection'

    def __init__(self, channel_impl: 'pika.channel.Channel',
                 connection: Any) -> None:
        self._impl: Channel = channel_impl
        self._connection: _ChannelOwner = connection
        # consumer_tag -> _ConsumerInfo, for basic_consume and consume()
        self._consumer_infos: Dict[str, _ConsumerInfo] = {}
        self._queue_consumer_generator: Optional[
            _QueueConsumerGeneratorInfo] = None
        self._delivery_confirmation = False
        # Basic.Ack/Nack frame for the message being published in confirm
        # mode, once it has arrived
        self._confirmation: Optional[frame.Method[Union[
            spec.Basic.Ack, spec.Basic.Nack]]] = None
        # One entry per confirmation or closure since the publish began:
        # its ``__len__`` is the publish's wait predicate (a C call per
        # check, the round trip's hot path).
        self._confirm_signals: List[None] = []
        self._confirmed_or_closed = self._confirm_signals.__len__
        # Delivery tag of the last message published in confirm mode
        self._publish_seq = 0
        # Basic.Return received while publishing in confirm mode
        self._puback_return: Optional[ReturnedMessage] = None
        # _ConsumerDeliveryEvt, _ReturnedMessageEvt, _ConsumerCancellationEvt
        # (Any: dispatched by exact type, a test mypy does not narrow on)
        self._pending_events: Deque[Any] = collections.deque()
        # callback(channel, method, properties, body): OnReturnCallback
        self._return_callbacks: List[Callable[..., object]] = []
        self._cancel_callbacks: List[Callable[[frame.Method[spec.Basic.Cancel]],
                                              object]] = []
        # (method, properties, body) of the pending basic_get's Basic.GetOk,
        # or _NO_MESSAGE after Basic.GetEmpty; None while waiting
        self._get_reply: Optional[_GetResult] = None
        # The reason the channel closed, once it has
        self._closing_reason: Optional[BaseException] = None
        self._request_dispatch = connection._channel_dispatch_requester()
        self._bind_impl(channel_impl)

    def _bind_impl(self, channel_impl: 'Channel') -> None:
        """Register this channel's handlers on an asynchronous channel (at
        creation, and again on the channel automatic recovery reopens)."""
        channel_impl.add_on_close_callback(self._on_channel_closed)
        channel_impl.add_on_cancel_callback(
            self._on_consumer_cancelled_by_broker)
        channel_impl.add_on_return_callback(self._on_message_returned)
        channel_impl.add_callback(self._on_get_empty,
                                  replies=[spec.Basic.GetEmpty],
                                  one_shot=False)

    def __repr__(self) -> str:
        return '<%s impl=%r>' % (type(self).__name__, self._impl)

    def __int__(self) -> int:
        """The channel number, as :attr:`channel_number` (kept for code
        written against older pika).

        :rtype: int
        """
        return self._impl.channel_number

    def __enter__(self: _ChannelT) -> _ChannelT:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]],
                 value: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        if self.is_open:
            self.close()

    # -- plumbing -------------------------------------------------------------

    def _is_closed_result(self) -> bool:
        return self._closing_reason is not None

    def _raise_if_closed(self) -> None:
        if self._closing_reason is not None or self._impl.is_closed:
            raise exceptions.ChannelWrongStateError('Channel is closed.')

    def _raise_if_closed_by_broker(self) -> None:
        reason = self._closing_reason
        if reason is not None and not isinstance(
                reason, exceptions.ChannelClosedByClient):
            raise reason

    def _flush_output(self, *waiters: Callable[[], object]) -> None:
        """Pump the connection until a waiter is satisfied (with no waiters:
        until the output is written) or this channel closes; raise the
        channel's close reason if the broker closed it.
        """
        self._raise_if_closed()
        if len(waiters) == 1:
            waiter = waiters[0]

            def is_done() -> object:
                return self._closing_reason is not None or waiter()

            self._connection._wait_until(is_done)
        else:
            self._connection._flush_output(self._is_closed_result, *waiters)
        self._raise_if_closed_by_broker()

    def _rpc(self, method_name: str,
             method_locals: Dict[str, Any]) -> 'frame.Method[Any]':
        """Call the asynchronous channel's RPC method ``method_name`` with
        the parameters of the calling method (its ``locals()``, see
        :mod:`pika.adapters._forwarding`) and return the reply frame.
        """
        self._raise_if_closed()
        result = _CallbackResult()
        getattr(self._impl, method_name)(callback=result.set_value_once,
                                         **rpc_arguments(method_locals))
        self._flush_output(result.is_ready)
        assert result.value is not None
        reply: frame.Method[Any] = result.value[0]
        return reply

    def _flush_published(self) -> None:
        """Pump once after a fire-and-forget send; raise the broker's reason
        if that showed the channel closed (an earlier publish to a missing
        exchange, a bad ack...), as pika does.
        """
        self._connection._flush_published()
        if self._closing_reason is not None:
            self._raise_if_closed_by_broker()

    def _process_data_events(self, time_limit: Optional[float], *waiters:
                             Callable[[], object]) -> None:
        self._connection._process_data_events(time_limit,
                                              self._is_closed_result, *waiters)
        self._raise_if_closed_by_broker()

    def _on_channel_closed(self, _channel: 'Channel', reason: object) -> None:
        # recovery hook: a connection loss that automatic recovery takes over
        # keeps the channel, its consumers and callbacks for the new channel.
        recovery = getattr(self._connection, '_recovery', None)
        if recovery is not None and recovery.on_channel_closed(self, reason):
            return
        LOGGER.debug('Channel %s closed: %r', self.channel_number, reason)
        if not isinstance(reason, BaseException):
            reason = exceptions.ChannelClosed(0, repr(reason))
        self._closing_reason = reason
        self._confirm_signals.append(None)
        self._cleanup()

    def _cleanup(self) -> None:
        """Forget consumers and undelivered events once closed."""
        self._pending_events.clear()
        self._consumer_infos.clear()
        self._queue_consumer_generator = None
        self._connection._on_channel_closed(self)

    def _add_pending_event(
        self, evt: Union[_ConsumerDeliveryEvt, _ReturnedMessageEvt,
                         _ConsumerCancellationEvt]
    ) -> None:
        self._pending_events.append(evt)
        self._request_dispatch(self)

    def _on_consumer_message_delivery(self, _channel: 'Channel',
                                      method: spec.Basic.Deliver,
                                      properties: spec.BasicProperties,
                                      body: bytes) -> None:
        # Hot path: queue the delivery for dispatch.
        self._pending_events.append(
            _ConsumerDeliveryEvt(method, properties, body))
        self._request_dispatch(self)

    def _on_consumer_generator_delivery(self, _channel: 'Channel',
                                        method: spec.Basic.Deliver,
                                        properties: spec.BasicProperties,
                                        body: bytes) -> None:
        generator = self._queue_consumer_generator
        if generator is not None:
            generator.pending_events.append(
                _ConsumerDeliveryEvt(method, properties, body))
        else:
            LOGGER.debug('Delivery for an inactive consumer generator: %r',
                         method)

    def _on_consumer_cancelled_by_broker(
            self, method_frame: frame.Method[spec.Basic.Cancel]) -> None:
        consumer_tag = method_frame.method.consumer_tag
        info = (None if consumer_tag is None else
                self._consumer_infos.get(consumer_tag))
        if info is None or info.tearing_down:
            return
        info.state = _ConsumerInfo.CANCELLED_BY_BROKER
        evt = _ConsumerCancellationEvt(method_frame)
        if info.alternate_event_sink is not None:
            info.alternate_event_sink(evt)
        else:
            self._add_pending_event(evt)

    def _on_message_returned(self, _channel: 'Channel',
                             method: spec.Basic.Return,
                             properties: spec.BasicProperties,
                             body: bytes) -> None:
        if self._delivery_confirmation:
            self._puback_return = ReturnedMessage(method, properties, body)
        for callback in self._return_callbacks:
            self._add_pending_event(
                _ReturnedMessageEvt(callback, self, method, properties, body))

    def _on_message_confirmation(
        self, method_frame: frame.Method[Union[spec.Basic.Ack,
                                               spec.Basic.Nack]]) -> None:
        # Only a confirmation that covers the message being published
        # counts: a late one for an earlier, interrupted publish does not.
        if (self._confirmation is None and
                method_frame.method.delivery_tag >= self._publish_seq):
            self._confirmation = method_frame
            self._confirm_signals.append(None)

    def _on_get_reply(self, _channel: 'Channel', method: spec.Basic.GetOk,
                      properties: spec.BasicProperties, body: bytes) -> None:
        self._get_reply = (method, properties, body)

    def _on_get_empty(self,
                      _method_frame: frame.Method[spec.Basic.GetEmpty]) -> None:
        if self._get_reply is None:
            self._get_reply = _NO_MESSAGE

    def _is_get_done(self) -> bool:
        return self._get_reply is not None or self._closing_reason is not None

    def _dispatch_events(self) -> None:
        """Run the callbacks of the events pending now, in order."""
        pending = self._pending_events
        popleft = pending.popleft
        consumer_infos = self._consumer_infos
        try:
            # As pika does, events that arrive while the callbacks run (an
            # ack pumps I/O) are dispatched in the same pass; a callback may
            # also cancel consumers and so remove later events.
            while pending:
                evt = popleft()
                evt_type = type(evt)
                if evt_type is _ConsumerDeliveryEvt:
                    method = evt.method
                    info = consumer_infos.get(method.consumer_tag)
                    if info is None or info.on_message_callback is None:
                        LOGGER.debug(
                            'Dropping delivery for cancelled consumer: %r',
                            method)
                        continue
                    info.on_message_callback(self, method, evt.properties,
                                             evt.body)
                elif evt_type is _ConsumerCancellationEvt:
                    consumer_infos.pop(evt.method_frame.method.consumer_tag,
                                       None)
                    for callback in list(self._cancel_callbacks):
                        callback(evt.method_frame)
                else:
                    evt.dispatch()
        finally:
            if pending:
                self._request_dispatch(self)

    def _remove_pending_for(self, source: Deque[Any],
                            consumer_tag: str) -> List[_ConsumerDeliveryEvt]:
        """Take the events of ``consumer_tag`` out of ``source``; return its
        deliveries.
        """
        kept: Deque[Any] = collections.deque()
        removed = []
        for evt in source:
            evt_type = type(evt)
            if evt_type is _ConsumerDeliveryEvt:
                if evt.method.consumer_tag == consumer_tag:
                    removed.append(evt)
                    continue
            elif evt_type is _ConsumerCancellationEvt:
                if evt.method_frame.method.consumer_tag == consumer_tag:
                    continue
            kept.append(evt)
        if len(kept) != len(source):
            source.clear()
            source.extend(kept)
        return removed

    # -- properties ---------------------------------------------------------

    @property
    def channel_number(self) -> int:
        """The channel number."""
        return self._impl.channel_number

    @property
    def connection(self) -> 'BlockingConnection':
        """The :class:`BlockingConnection` this channel belongs to."""
        return cast('BlockingConnection', self._connection)

    @property
    def is_closed(self) -> bool:
        """True once the channel is closed."""
        return self._impl.is_closed

    @property
    def is_open(self) -> bool:
        """True while the channel is open."""
        return self._impl.is_open

    @property
    def consumer_tags(self) -> List[str]:
        """Tags of this channel's active consumers (including the one behind
        :meth:`consume`).
        """
        return list(self._consumer_infos)

    # -- lifecycle ----------------------------------------------------------

    def close(self,
              reply_code: int = 0,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the channel and wait until the broker confirms. Pending
        deliveries are dropped; unacknowledged messages are requeued by the
        broker.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        :raises pika.exceptions.ChannelWrongStateError: if already closed
        """
        self._raise_if_closed()
        LOGGER.debug('Channel.close(%s, %s)', reply_code, reply_text)
        # As pika: cancel the consumers first (Basic.Cancel, waiting for
        # CancelOk; waiting messages of manual-ack consumers rejected with
        # requeue), then close.
        if self._impl.is_open and self._consumer_infos:
            self._cancel_all_consumers()
        self._impl.close(reply_code=reply_code, reply_text=reply_text)
        self._connection._flush_output(self._is_closed_result)

    def add_on_cancel_callback(
        self, callback: Callable[['frame.Method[spec.Basic.Cancel]'],
                                 object]) -> None:
        """Call ``callback(method_frame)`` when the broker cancels one of this
        channel's ``basic_consume`` consumers (e.g. its queue was deleted).
        Dispatched in order with deliveries.

        :param callable callback: receives the :class:`pika.frame.Method`
            carrying :class:`pika.spec.Basic.Cancel`
        """
        validators.require_callback(callback)
        self._cancel_callbacks.append(callback)

    def add_on_return_callback(self, callback: OnReturnCallback) -> None:
        """Call ``callback(channel, method, properties, body)`` for messages
        the broker returns (``mandatory`` publishes it could not route).
        Dispatched in order with deliveries.

        :param callable callback: receives this channel, the
            :class:`pika.spec.Basic.Return` method, the
            :class:`pika.spec.BasicProperties` and the body
        """
        validators.require_callback(callback)
        self._return_callbacks.append(callback)

    # -- automatic recovery (pika.recovery) ----------------------------------

    def add_on_recovery_started_callback(
            self, callback: Callable[['BlockingChannel', BaseException],
                                     object]) -> None:
        """With ``recovery=`` on the connection: call
        ``callback(channel, error)`` when the connection is lost and
        recovery starts.

        :param callable callback: receives this channel and the loss
        :raises ValueError: if the connection has no ``recovery=``
        """
        self._recovery_listener('started', callback)

    def add_on_recovery_succeeded_callback(
        self,
        callback: Callable[['BlockingChannel', List['TopologyRecoveryEntity']],
                           object]
    ) -> None:
        """With ``recovery=`` on the connection: call
        ``callback(channel, skipped)`` once this channel is restored;
        ``skipped`` lists its :class:`pika.recovery.TopologyRecoveryEntity`
        objects that could not be (e.g. consumers of a vanished queue).

        :param callable callback: receives this channel and the list
        :raises ValueError: if the connection has no ``recovery=``
        """
        self._recovery_listener('succeeded', callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['BlockingChannel', BaseException],
                                     object]) -> None:
        """With ``recovery=`` on the connection: call
        ``callback(channel, error)`` when recovery gives up.

        :param callable callback: receives this channel and the last error
        :raises ValueError: if the connection has no ``recovery=``
        """
        self._recovery_listener('failed', callback)

    def _recovery_listener(self, kind: str, callback: Callable[...,
                                                               object]) -> None:
        recovery = getattr(self._connection, '_recovery', None)
        if recovery is None:
            raise ValueError('automatic recovery is not enabled on this '
                             'connection (see the recovery= argument)')
        recovery.add_channel_listener(kind, self, callback)

    # -- consuming ------------------------------------------------------------

    def basic_consume(self,
                      queue: str,
                      on_message_callback: OnMessageCallback,
                      auto_ack: bool = False,
                      exclusive: bool = False,
                      consumer_tag: Optional[str] = None,
                      arguments: Optional[Dict[str, Any]] = None) -> str:
        """Start a consumer and wait for ``Basic.ConsumeOk``. Its messages
        are passed to ``on_message_callback(channel, method, properties,
        body)`` from :meth:`start_consuming` or
        :meth:`BlockingConnection.process_data_events`.

        :param str queue: the queue to consume from
        :param callable on_message_callback: receives this channel, the
            :class:`pika.spec.Basic.Deliver` method, the
            :class:`pika.spec.BasicProperties` and the body
        :param bool auto_ack: True if the broker should not wait for acks
        :param bool exclusive: True to be the queue's only consumer
        :param str consumer_tag: a tag to use; None lets pika make one
        :param dict arguments: custom arguments for ``Basic.Consume``
        :returns: the consumer tag
        :rtype: str
        :raises pika.exceptions.DuplicateConsumerTag: if the tag is in use
        """
        validators.require_string(queue, 'queue')
        validators.require_callback(on_message_callback, 'on_message_callback')
        return self._basic_consume_impl(queue=queue,
                                        auto_ack=auto_ack,
                                        exclusive=exclusive,
                                        consumer_tag=consumer_tag,
                                        arguments=arguments,
                                        on_message_callback=on_message_callback)

    def _basic_consume_impl(
        self,
        queue: str,
        auto_ack: bool,
        exclusive: bool,
        consumer_tag: Optional[str],
        arguments: Optional[Dict[str, Any]] = None,
        on_message_callback: Optional[OnMessageCallback] = None,
        alternate_event_sink: Optional[
            Callable[[Union[_ConsumerDeliveryEvt, _ConsumerCancellationEvt]],
                     None]] = None
    ) -> str:
        self._raise_if_closed()
        if consumer_tag and consumer_tag in self._consumer_infos:
            raise exceptions.DuplicateConsumerTag(consumer_tag)
        if alternate_event_sink is None:
            impl_callback = self._on_consumer_message_delivery
        else:
            impl_callback = self._on_consumer_generator_delivery
        ok_result = _CallbackResult()
        consumer_tag = self._impl.basic_consume(
            queue=queue,
            on_message_callback=impl_callback,
            auto_ack=auto_ack,
            exclusive=exclusive,
            consumer_tag=consumer_tag,
            arguments=arguments,
            callback=ok_result.signal_once)
        assert consumer_tag is not None
        info = _ConsumerInfo(consumer_tag,
                             auto_ack=auto_ack,
                             on_message_callback=on_message_callback,
                             alternate_event_sink=alternate_event_sink)
        self._consumer_infos[consumer_tag] = info
        try:
            self._flush_output(ok_result.is_ready)
        except Exception:
            self._consumer_infos.pop(consumer_tag, None)
            raise
        if info.setting_up:
            info.state = _ConsumerInfo.ACTIVE
        return consumer_tag

    def basic_cancel(self, consumer_tag: str) -> List[_Delivery]:
        """Cancel a consumer and wait for ``Basic.CancelOk``.

        Messages that arrived for it but were not dispatched yet are not
        passed to its callback: for a manual-ack consumer they are rejected
        with requeue; for an ``auto_ack`` consumer they are returned.

        :param str consumer_tag: the consumer's tag
        :returns: for an ``auto_ack`` consumer, the undispatched messages as
            ``(method, properties, body)`` tuples; else an empty list
        :rtype: list
        """
        validators.require_string(consumer_tag, 'consumer_tag')
        return self._cancel_consumer(consumer_tag)[0]

    def _cancel_consumer(self,
                         consumer_tag: str) -> Tuple[List[_Delivery], int]:
        """Cancel a consumer as :meth:`basic_cancel` describes.

        :returns: the undispatched ``auto_ack`` messages, and how many
            undispatched messages were rejected with requeue
        """
        info = self._consumer_infos.get(consumer_tag)
        if info is None:
            LOGGER.warning(
                'User is attempting to cancel an unknown consumer=%s;'
                ' already cancelled by user or broker?', consumer_tag)
            return [], 0
        generator = self._queue_consumer_generator
        is_generator = (generator is not None and
                        generator.consumer_tag == consumer_tag)
        if is_generator:
            assert generator is not None
            source = generator.pending_events
        else:
            source = self._pending_events
        rejected = 0
        try:
            if info.active or info.setting_up:
                info.state = _ConsumerInfo.TEARING_DOWN
                if self._impl.is_open:
                    if not info.auto_ack:
                        # As pika: what is waiting already is rejected before
                        # Basic.Cancel goes out.
                        for evt in self._remove_pending_for(
                                source, consumer_tag):
                            self._impl.basic_reject(evt.method.delivery_tag,
                                                    requeue=True)
                            rejected += 1
                    cancel_ok = _CallbackResult()
                    self._impl.basic_cancel(consumer_tag=consumer_tag,
                                            callback=cancel_ok.signal_once)
                    self._flush_output(cancel_ok.is_ready)
            undelivered = self._remove_pending_for(source, consumer_tag)
            if info.auto_ack:
                return [(evt.method, evt.properties, evt.body)
                        for evt in undelivered], 0
            if undelivered and self._impl.is_open:
                for evt in undelivered:
                    self._impl.basic_reject(evt.method.delivery_tag,
                                            requeue=True)
                self._flush_published()
                rejected += len(undelivered)
            return [], rejected
        finally:
            self._consumer_infos.pop(consumer_tag, None)
            if is_generator:
                self._queue_consumer_generator = None

    def _cancel_all_consumers(self) -> None:
        for consumer_tag in list(self._consumer_infos):
            self.basic_cancel(consumer_tag)

    def start_consuming(self) -> None:
        """Do I/O and dispatch callbacks until every consumer of this channel
        is cancelled (by :meth:`stop_consuming`, :meth:`basic_cancel` or the
        broker).

        :raises pika.exceptions.ReentrancyError: if called from a callback
            that this connection dispatched
        :raises pika.exceptions.ChannelClosedByBroker: if the broker closes
            the channel meanwhile
        """
        if self._connection._event_dispatch_suspend_depth > 0:
            raise exceptions.ReentrancyError(
                'start_consuming may not be called from the scope of '
                'another BlockingConnection or BlockingChannel callback')
        self._raise_if_closed()
        while self._consumer_infos:
            self._process_data_events(None)

    def stop_consuming(self, consumer_tag: Optional[str] = None) -> None:
        """Cancel one consumer, or all of them; makes
        :meth:`start_consuming` return. May be called from a consumer
        callback, or from another thread through
        :meth:`BlockingConnection.add_callback_threadsafe`.

        :param str consumer_tag: the consumer to cancel; None for all
        """
        if consumer_tag:
            self.basic_cancel(consumer_tag)
        else:
            self._cancel_all_consumers()

    @overload
    def consume(
            self,
            queue: str,
            auto_ack: bool = ...,
            exclusive: bool = ...,
            arguments: Optional[Dict[str, Any]] = ...,
            inactivity_timeout: None = ...,
            consumer_tag: Optional[str] = ...
    ) -> Generator[_Delivery, None, None]:
        ...

    @overload
    def consume(
        self,
        queue: str,
        auto_ack: bool = ...,
        exclusive: bool = ...,
        arguments: Optional[Dict[str, Any]] = ...,
        inactivity_timeout: Optional[float] = ...,
        consumer_tag: Optional[str] = ...
    ) -> Generator[Union[_Delivery, Tuple[None, None, None]], None, None]:
        ...

    def consume(
        self,
        queue: str,
        auto_ack: bool = False,
        exclusive: bool = False,
        arguments: Optional[Dict[str, Any]] = None,
        inactivity_timeout: Optional[float] = None,
        consumer_tag: Optional[str] = None
    ) -> Generator[Union[_Delivery, Tuple[None, None, None]], None, None]:
        """Consume ``queue`` as a generator of ``(method, properties, body)``.

        One such consumer per channel; calling again with the same
        ``(queue, auto_ack, exclusive)`` resumes it. While it waits, timers
        and other callbacks are dispatched. It ends when the broker cancels
        the consumer; :meth:`cancel` stops it.

        :param str queue: the queue to consume from
        :param bool auto_ack: True if the broker should not wait for acks
        :param bool exclusive: True to be the queue's only consumer
        :param dict arguments: custom arguments for ``Basic.Consume``
        :param float inactivity_timeout: if a number, yield
            ``(None, None, None)`` after this many seconds without messages
        :param str consumer_tag: a tag to use; None lets pika make one
        :raises ValueError: if a generator with other parameters is active
        """
        validators.require_string(queue, 'queue')
        if inactivity_timeout is not None:
            _check_timeout(inactivity_timeout, 'inactivity_timeout')
        params = (queue, auto_ack, exclusive)
        generator = self._queue_consumer_generator
        if generator is not None:
            if params != generator.params:
                raise ValueError(
                    'Consume with different params not allowed on existing '
                    'queue consumer generator; previous params: %r; new '
                    'params: %r' % (generator.params, params))
        else:
            generator = _QueueConsumerGeneratorInfo(params)
            self._queue_consumer_generator = generator
            try:
                generator.consumer_tag = self._basic_consume_impl(
                    queue=queue,
                    auto_ack=auto_ack,
                    exclusive=exclusive,
                    consumer_tag=consumer_tag,
                    arguments=arguments,
                    alternate_event_sink=generator.pending_events.append)
            except Exception:
                self._queue_consumer_generator = None
                raise

        while self._queue_consumer_generator is generator:
            pending = generator.pending_events
            if pending:
                evt = pending.popleft()
                if type(evt) is _ConsumerCancellationEvt:
                    # Cancelled by the broker: the generator ends.
                    self._queue_consumer_generator = None
                    self._consumer_infos.pop(generator.consumer_tag or '', None)
                    break
                yield (evt.method, evt.properties, evt.body)
                continue
            if inactivity_timeout is None:
                self._process_data_events(None, pending.__len__)
                continue
            deadline = _monotonic() + inactivity_timeout
            time_limit = float(inactivity_timeout)
            while True:
                self._process_data_events(time_limit, pending.__len__)
                if pending or self._queue_consumer_generator is not generator:
                    break
                time_limit = deadline - _monotonic()
                if time_limit <= 0:
                    break
            if not pending and self._queue_consumer_generator is generator:
                yield _NO_MESSAGE

    def get_waiting_message_count(self) -> int:
        """How many messages the :meth:`consume` generator can yield
        without waiting.

        :rtype: int
        """
        generator = self._queue_consumer_generator
        if generator is None:
            return 0
        return sum(1 for evt in generator.pending_events
                   if type(evt) is _ConsumerDeliveryEvt)

    def cancel(self) -> int:
        """Cancel the consumer behind :meth:`consume`; its messages that were
        not yielded yet are rejected with requeue (manual ack) or dropped
        (``auto_ack``). For ``basic_consume`` consumers use
        :meth:`basic_cancel`.

        :returns: the number of messages that had arrived but were not
            yielded yet and were rejected with requeue (0 for ``auto_ack``;
            pika 1.4 always returns 0)
        :rtype: int
        """
        generator = self._queue_consumer_generator
        if generator is None:
            LOGGER.warning('cancel: queue consumer generator is inactive '
                           '(already cancelled by client or broker?)')
            return 0
        requeued = 0
        try:
            if generator.consumer_tag in self._consumer_infos:
                requeued = self._cancel_consumer(generator.consumer_tag)[1]
        finally:
            self._queue_consumer_generator = None
        return requeued

    # -- messages -------------------------------------------------------------

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge one message, or all up to ``delivery_tag`` if
        ``multiple``.

        :param int delivery_tag: the delivery tag (0 with ``multiple`` for
            all outstanding)
        :param bool multiple: acknowledge up to and including the tag
        """
        self._impl.basic_ack(delivery_tag=delivery_tag, multiple=multiple)
        # (_flush_published, inline: the hot path)
        self._connection._flush_published()
        if self._closing_reason is not None:
            self._raise_if_closed_by_broker()

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Reject one or several messages (RabbitMQ extension).

        :param int delivery_tag: the delivery tag
        :param bool multiple: reject up to and including the tag
        :param bool requeue: True to requeue, False to drop/dead-letter
        """
        self._impl.basic_nack(delivery_tag=delivery_tag,
                              multiple=multiple,
                              requeue=requeue)
        self._flush_published()

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Reject one message.

        :param int delivery_tag: the delivery tag
        :param bool requeue: True to requeue, False to drop/dead-letter
        """
        self._impl.basic_reject(delivery_tag=delivery_tag, requeue=requeue)
        self._flush_published()

    def basic_get(self, queue: str, auto_ack: bool = False) -> _GetResult:
        """Fetch one message from ``queue``.

        :param str queue: the queue
        :param bool auto_ack: True if the broker should not wait for an ack
        :returns: ``(method, properties, body)`` with a
            :class:`pika.spec.Basic.GetOk` method, or ``(None, None, None)``
            if the queue is empty
        :rtype: tuple
        """
        if queue.__class__ is not str:
            validators.require_string(queue, 'queue')
        if self._closing_reason is not None or self._impl.is_closed:
            raise exceptions.ChannelWrongStateError('Channel is closed.')
        self._get_reply = None
        self._impl.basic_get(queue=queue,
                             callback=self._on_get_reply,
                             auto_ack=auto_ack)
        self._connection._wait_for_reply(self._is_get_done)
        if self._closing_reason is not None:
            self._raise_if_closed_by_broker()
        reply = self._get_reply
        self._get_reply = None
        return _NO_MESSAGE if reply is None else reply

    def basic_publish(self,
                      exchange: str,
                      routing_key: str,
                      body: Union[bytes, str],
                      properties: Optional[spec.BasicProperties] = None,
                      mandatory: bool = False) -> None:
        """Publish a message. In confirm mode (:meth:`confirm_delivery`),
        wait for the broker's confirmation.

        :param str exchange: the exchange ('' for the default exchange)
        :param str routing_key: the routing key
        :param bytes body: the message body (``str`` is UTF-8 encoded)
        :param pika.spec.BasicProperties properties: message properties
        :param bool mandatory: ask the broker to return unroutable messages
        :raises pika.exceptions.UnroutableError: in confirm mode, if the
            message was ``mandatory`` and the broker returned it
        :raises pika.exceptions.NackError: in confirm mode, if the broker
            rejected it
        """
        if not self._delivery_confirmation:
            self._impl.basic_publish(exchange, routing_key, body, properties,
                                     mandatory)
            # (_flush_published, inline: the hot path)
            self._connection._flush_published()
            if self._closing_reason is not None:
                self._raise_if_closed_by_broker()
            return
        self._confirmation = None
        self._puback_return = None
        del self._confirm_signals[:]
        self._impl.basic_publish(exchange, routing_key, body, properties,
                                 mandatory)
        self._publish_seq += 1
        # (The publish itself raised if the channel was not open.)
        if self._closing_reason is not None:
            raise exceptions.ChannelWrongStateError('Channel is closed.')
        self._connection._wait_for_reply(self._confirmed_or_closed)
        if self._closing_reason is not None:
            self._raise_if_closed_by_broker()
        confirmation = self._confirmation
        self._confirmation = None
        assert confirmation is not None
        confirmation_method = confirmation.method
        returned = self._puback_return
        self._puback_return = None
        if isinstance(confirmation_method, spec.Basic.Nack):
            LOGGER.warning(
                'Message was Nack\'ed by broker: nack=%r; '
                'channel=%s; exchange=%s; routing_key=%s; '
                'mandatory=%r', confirmation_method, self.channel_number,
                exchange, routing_key, mandatory)
            raise exceptions.NackError([returned] if returned else [])
        if returned is not None:
            LOGGER.warning('Message was returned by broker: %r', returned)
            raise exceptions.UnroutableError([returned])

    def confirm_delivery(self) -> None:
        """Turn on publisher confirms: from now on :meth:`basic_publish`
        waits for each message's confirmation.
        """
        if self._delivery_confirmation:
            LOGGER.debug('confirm_delivery: already in confirm mode')
            return
        self._raise_if_closed()
        select_ok = _CallbackResult()
        self._impl.confirm_delivery(
            ack_nack_callback=self._on_message_confirmation,
            callback=select_ok.signal_once)
        self._flush_output(select_ok.is_ready)
        self._delivery_confirmation = True

    # -- declarations and settings: one plain request/reply each ----------

    def flow(self, active: bool) -> bool:
        """Ask the broker to pause (False) or resume (True) deliveries.

        :param bool active: True to resume, False to pause
        :returns: the flow state the broker reports
        :rtype: bool
        """
        # The asynchronous channel reports the broker's flow state as a bool.
        result: Any = self._rpc('flow', locals())
        if isinstance(result, bool):
            return result
        state: bool = result.method.active
        return state

    def basic_qos(self,
                  prefetch_size: int = 0,
                  prefetch_count: int = 0,
                  global_qos: bool = False) -> None:
        """Set the prefetch window.

        :param int prefetch_size: window in octets (0: no limit)
        :param int prefetch_count: window in messages (0: no limit)
        :param bool global_qos: apply to the whole channel (RabbitMQ:
            shared by its consumers) instead of each new consumer
        """
        self._rpc('basic_qos', locals())

    def basic_recover(self, requeue: bool = False) -> None:
        """Ask the broker to redeliver unacknowledged messages.

        :param bool requeue: True to requeue (possibly to other consumers)
        """
        self._rpc('basic_recover', locals())

    def exchange_declare(
        self,
        exchange: str,
        exchange_type: Union[ExchangeType, str] = ExchangeType.direct,
        passive: bool = False,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Exchange.DeclareOk]':
        """Declare an exchange.

        :param str exchange: the exchange name
        :param exchange_type: the type (:class:`pika.exchange_type.ExchangeType`
            or str)
        :param bool passive: only check that it exists
        :param bool durable: survive broker restarts
        :param bool auto_delete: delete when no longer bound
        :param bool internal: only other exchanges can publish to it
        :param dict arguments: custom arguments
        :returns: the ``Exchange.DeclareOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('exchange_declare', locals())

    def exchange_delete(
            self,
            exchange: Optional[str] = None,
            if_unused: bool = False) -> 'frame.Method[spec.Exchange.DeleteOk]':
        """Delete an exchange.

        :param str exchange: the exchange name
        :param bool if_unused: only if it has no bindings
        :returns: the ``Exchange.DeleteOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('exchange_delete', locals())

    def exchange_bind(
        self,
        destination: str,
        source: str,
        routing_key: str = '',
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Exchange.BindOk]':
        """Bind an exchange to another (RabbitMQ extension).

        :param str destination: the exchange receiving messages
        :param str source: the exchange messages come from
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :returns: the ``Exchange.BindOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('exchange_bind', locals())

    def exchange_unbind(
        self,
        destination: Optional[str] = None,
        source: Optional[str] = None,
        routing_key: str = '',
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Exchange.UnbindOk]':
        """Remove an exchange-to-exchange binding.

        :param str destination: the exchange receiving messages
        :param str source: the exchange messages come from
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :returns: the ``Exchange.UnbindOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('exchange_unbind', locals())

    def queue_declare(
        self,
        queue: str,
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Queue.DeclareOk]':
        """Declare a queue ('' lets the broker name it).

        :param str queue: the queue name
        :param bool passive: only check that it exists
        :param bool durable: survive broker restarts
        :param bool exclusive: only this connection; deleted with it
        :param bool auto_delete: delete after the last consumer goes
        :param dict arguments: custom arguments (``x-message-ttl`` ...)
        :returns: the ``Queue.DeclareOk`` method frame (its ``.method`` has
            ``queue``, ``message_count``, ``consumer_count``)
        :rtype: pika.frame.Method
        """
        return self._rpc('queue_declare', locals())

    def queue_delete(
            self,
            queue: str,
            if_unused: bool = False,
            if_empty: bool = False) -> 'frame.Method[spec.Queue.DeleteOk]':
        """Delete a queue.

        :param str queue: the queue name
        :param bool if_unused: only if it has no consumers
        :param bool if_empty: only if it has no messages
        :returns: the ``Queue.DeleteOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('queue_delete', locals())

    def queue_purge(self, queue: str) -> 'frame.Method[spec.Queue.PurgeOk]':
        """Remove all ready messages from a queue.

        :param str queue: the queue name
        :returns: the ``Queue.PurgeOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('queue_purge', locals())

    def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: Optional[str] = None,
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Queue.BindOk]':
        """Bind a queue to an exchange.

        :param str queue: the queue name
        :param str exchange: the exchange name
        :param str routing_key: the binding key (None: the queue name)
        :param dict arguments: custom arguments
        :returns: the ``Queue.BindOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('queue_bind', locals())

    def queue_unbind(
        self,
        queue: str,
        exchange: str,
        routing_key: Optional[str] = None,
        arguments: Optional[Dict[str, Any]] = None
    ) -> 'frame.Method[spec.Queue.UnbindOk]':
        """Remove a queue binding.

        The binding removed is the one made with the same ``routing_key``
        and ``arguments``: both are part of a binding's identity.

        :param str queue: the queue name
        :param str exchange: the exchange name
        :param str routing_key: the binding key (None: the queue name)
        :param dict arguments: custom arguments
        :returns: the ``Queue.UnbindOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('queue_unbind', locals())

    def tx_select(self) -> 'frame.Method[spec.Tx.SelectOk]':
        """Put the channel in transaction mode.

        :returns: the ``Tx.SelectOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('tx_select', locals())

    def tx_commit(self) -> 'frame.Method[spec.Tx.CommitOk]':
        """Commit the current transaction.

        :returns: the ``Tx.CommitOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('tx_commit', locals())

    def tx_rollback(self) -> 'frame.Method[spec.Tx.RollbackOk]':
        """Roll back the current transaction.

        :returns: the ``Tx.RollbackOk`` method frame
        :rtype: pika.frame.Method
        """
        return self._rpc('tx_rollback', locals())
