"""The awaitable channel of :mod:`pika.aio`.

Theory of operation
-------------------
:class:`Channel` wraps one :class:`pika.channel.Channel` (the engine) and
turns each of its completion callbacks into a future. The engine checks the
arguments (the same TypeError/ValueError as pika's callback API, raised
before anything is sent) and serialises the RPCs, so:

* A cancelled RPC await (``asyncio.timeout``, ``wait_for``, task
  cancellation) only stops waiting: the engine still consumes the broker's
  reply for that RPC and later RPCs get their own replies. What was sent
  still happens on the broker.
* ``basic_publish`` sends at once. Without confirms it returns a completed
  awaitable (no future); with confirms, one future per message, resolved by
  the broker's ``Basic.Ack`` (a ``multiple`` ack resolves the range) or
  failed with :class:`pika.exceptions.NackError` /
  :class:`pika.exceptions.UnroutableError`, while later publishes go out
  without waiting. When the connection's write buffer is past
  :attr:`Channel.WRITE_BUFFER_HIGH` bytes (looked at once per
  :attr:`Channel.WRITE_CHECK_EVERY` bytes published) the awaitable first
  waits until it drains below :attr:`Channel.WRITE_BUFFER_LOW`, so a
  publisher that awaits its publishes cannot grow memory without bound.
* With ``recovery=`` on the connection, a connection loss does not close
  the channel: :mod:`pika.aio._recovery_channel` suspends it and restores
  it on a new connection (see there).
* When the channel closes, every pending await fails with the close reason
  (:class:`pika.exceptions.ChannelClosedByBroker`, ``...ByClient`` or the
  connection's reason); nothing is left waiting.
"""

import asyncio
import logging
from types import TracebackType
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Dict, List,
                    Optional, Set, Type, Union)

from pika import channel as engine_channel
from pika import exceptions, frame, spec
from pika.aio._closing import settle_closed
from pika.aio.consumer import Consumer
from pika.aio.message import DONE, Message
from pika.exchange_type import ExchangeType

if TYPE_CHECKING:  # the connection module imports this one
    from pika.aio.connection import Connection

__all__ = ['Channel']

LOGGER = logging.getLogger(__name__)

_NACK_INDEX = spec.Basic.Nack.INDEX

#: ``on_message_callback(message)`` of :meth:`Channel.basic_consume`; may
#: return an awaitable, which then runs as a task.
MessageCallback = Callable[[Message], Optional[Awaitable[Any]]]


class Channel:
    """An AMQP channel whose methods are awaitable.

    Obtain one with ``await connection.channel()``. Usable as ``async with``
    (closes the channel on exit).
    """

    #: Write-buffer size (bytes) past which publishing waits for it to drain.
    WRITE_BUFFER_HIGH = 1 << 20
    #: Write-buffer size (bytes) a waiting publish lets it drain to.
    WRITE_BUFFER_LOW = 1 << 18
    #: Published body bytes between two looks at the write buffer.
    WRITE_CHECK_EVERY = 1 << 15

    def __init__(self, connection: 'Connection',
                 impl: engine_channel.Channel) -> None:
        """
        :param connection: the :class:`pika.aio.Connection`
        :param impl: the engine's :class:`pika.channel.Channel`
        """
        self.connection = connection
        self._loop: asyncio.AbstractEventLoop = connection._loop
        self._unchecked = 0
        self._calls: Set[asyncio.Future[Any]] = set()
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._closed: asyncio.Future[BaseException] = (
            self._loop.create_future())
        self._close_callbacks: List[Callable[..., Any]] = []
        self._return_callbacks: List[Callable[[Message], Any]] = []
        # publisher confirms: delivery tag -> future, in publish order
        self._confirming = False
        self._publish_seq = 0
        self._confirms: Dict[int, asyncio.Future[None]] = {}
        self._returned: Optional[Message] = None
        # deliveries not yet acked/rejected, delivery tag -> message
        self._unsettled: Dict[int, Message] = {}
        self._consumers: Dict[str, Any] = {}
        self._cancelling: Dict[str, asyncio.Future[Any]] = {}
        self._tasks: Set[asyncio.Future[Any]] = set()
        self._get_pending: Optional[asyncio.Future[Optional[Message]]] = None
        #: per-channel recovery hooks (pika.aio._recovery_channel), set only
        #: on channels of a connection created with ``recovery=``
        self._recovery: Optional[Any] = None
        self._attach(impl)

    def _attach(self, impl: engine_channel.Channel) -> None:
        """Take ``impl`` (an open or opening engine channel) as the one this
        channel drives.

        The seam for automatic recovery: after a connection loss it attaches
        the channel the application holds to a new engine channel, then
        restarts each consumer with :meth:`_delivery_handler`, so the
        iterators and callbacks in use go on.
        """
        self._impl = impl
        # Hot path: bound once, not looked up per publish.
        self._publish = impl.basic_publish
        self._buffered = impl.connection._adapter_get_write_buffer_size
        impl.add_on_close_callback(self._on_closed)
        impl.add_on_cancel_callback(self._on_cancelled_by_broker)
        impl.add_on_return_callback(self._on_return)
        impl.add_callback(self._on_getempty, [spec.Basic.GetEmpty], False)

    def __repr__(self) -> str:
        return '<pika.aio.Channel %r>' % (self._impl,)

    async def __aenter__(self) -> 'Channel':
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        await self.close()

    # -- state -------------------------------------------------------------

    @property
    def channel_number(self) -> int:
        """The channel number.

        :rtype: int
        """
        return self._impl.channel_number

    @property
    def is_open(self) -> bool:
        """True while the channel is open.

        :rtype: bool
        """
        return self._impl.is_open

    @property
    def is_closing(self) -> bool:
        """True while the channel is closing.

        :rtype: bool
        """
        return self._impl.is_closing

    @property
    def is_closed(self) -> bool:
        """True once the channel is closed.

        :rtype: bool
        """
        return self._impl.is_closed

    @property
    def flow_active(self) -> bool:
        """False after the broker confirmed ``Channel.Flow(active=False)``.

        :rtype: bool
        """
        return self._impl.flow_active

    @property
    def consumer_tags(self) -> List[str]:
        """Tags of the channel's active consumers.

        :rtype: list
        """
        return self._impl.consumer_tags

    @property
    def close_reason(self) -> Optional[BaseException]:
        """Why the channel closed (None while it is not closed).

        :rtype: Exception
        """
        if self._closed.done():
            return self._closed.result()
        return None

    def add_on_close_callback(
            self, callback: Callable[['Channel', BaseException], Any]) -> None:
        """Call ``callback(channel, reason)`` once the channel has closed.

        :param callable callback: ``callback(channel, reason)``
        """
        if not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))
        # Kept here rather than on the engine channel: with recovery, the
        # engine channel is replaced and a loss is not this channel's end.
        self._close_callbacks.append(callback)

    def add_on_return_callback(self, callback: Callable[[Message],
                                                        Any]) -> None:
        """Call ``callback(message)`` for each message the broker returns
        (``Basic.Return``; ``message.method`` is the ``Basic.Return``).

        :param callable callback: ``callback(message)``
        """
        if not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))
        self._return_callbacks.append(callback)

    def _listen(self, kind: str, callback: Callable[..., Any]) -> None:
        recovery = self._recovery
        if recovery is None:
            raise ValueError('this channel\'s connection was created without '
                             'recovery=')
        recovery.driver.add_channel_listener(kind, self, callback)

    def add_on_recovery_started_callback(
            self, callback: Callable[['Channel', BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` when a connection loss starts a
        recovery (connections created with ``recovery=`` only).

        :param callable callback: ``callback(channel, error)``
        :raises ValueError: without ``recovery=``
        """
        self._listen('started', callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[['Channel', List[Any]], Any]) -> None:
        """Call ``callback(channel, skipped)`` once the channel is restored;
        ``skipped`` lists this channel's
        :class:`pika.recovery.TopologyRecoveryEntity` that were not.

        :param callable callback: ``callback(channel, skipped)``
        :raises ValueError: without ``recovery=``
        """
        self._listen('succeeded', callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['Channel', BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` when recovery gives up.

        :param callable callback: ``callback(channel, error)``
        :raises ValueError: without ``recovery=``
        """
        self._listen('failed', callback)

    async def wait_closed(self) -> BaseException:
        """Wait until the channel has closed.

        :returns: the close reason
        :rtype: Exception
        """
        return await asyncio.shield(self._closed)

    async def close(self,
                    reply_code: int = 0,
                    reply_text: str = 'Normal shutdown') -> None:
        """Close the channel and wait until the broker confirmed it.
        Returns at once when it is already closed.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        """
        if not (self._impl.is_closed or self._impl.is_closing):
            self._impl.close(reply_code, reply_text)
        await asyncio.shield(self._closed)

    # -- engine callbacks --------------------------------------------------

    def _on_open(self, _impl: Any) -> None:
        if not self._opened.done():
            self._opened.set_result(None)

    def _on_closed(self, impl: Any, reason: BaseException) -> None:
        recovery = self._recovery
        if recovery is not None and recovery.on_engine_closed(impl, reason):
            return  # a loss being recovered: this channel lives on
        self._finish(reason)

    def _finish(self, reason: BaseException) -> None:
        """The channel is closed for good: fail every pending await with
        ``reason``, end the consumers, call the close callbacks."""
        calls, self._calls = self._calls, set()
        confirms, self._confirms = self._confirms, {}
        self._cancelling = {}
        pending = [self._opened, self._get_pending]
        self._get_pending = None
        for future in pending + list(calls) + list(confirms.values()):
            if future is not None and not future.done():
                future.set_exception(reason)
                # Awaits still raise it; one nobody awaits any more (a
                # cancelled wait on a shielded future) is not an error.
                future.exception()
        consumers, self._consumers = self._consumers, {}
        for consumer in consumers.values():
            if isinstance(consumer, Consumer):
                consumer._on_channel_closed(reason)
        for message in self._unsettled.values():
            message._settled = True
        self._unsettled = {}
        settle_closed(self, self._closed, self._close_callbacks, reason, LOGGER)

    def _on_cancelled_by_broker(self, method_frame: Any) -> None:
        consumer = self._consumers.pop(method_frame.method.consumer_tag, None)
        if isinstance(consumer, Consumer):
            consumer._on_cancelled_by_broker()

    def _on_return(self, impl: Any, method: Any, properties: Any,
                   body: bytes) -> None:
        message = Message(self, impl, method, properties, body, None)
        if self._confirming:
            # RabbitMQ sends the Basic.Return before the message's ack.
            self._returned = message
        for callback in list(self._return_callbacks):
            try:
                callback(message)
            except Exception:  # noqa: BLE001 - user code must not break us
                LOGGER.exception('Return callback %r failed', callback)

    def _on_confirm(self, method_frame: Any) -> None:
        method = method_frame.method
        tag = method.delivery_tag
        confirms = self._confirms
        nacked = method.INDEX == _NACK_INDEX
        if method.multiple:
            tags = []
            for first in confirms:
                if first > tag:
                    break
                tags.append(first)
        else:
            tags = [tag]
        for confirmed in tags:
            future = confirms.pop(confirmed, None)
            if future is None or future.done():
                continue  # unknown, or its await was cancelled
            if nacked:
                future.set_exception(exceptions.NackError([]))
            elif confirmed == tag and self._returned is not None:
                returned, self._returned = self._returned, None
                future.set_exception(exceptions.UnroutableError([returned]))
            else:
                future.set_result(None)
        if nacked:
            self._returned = None

    def _on_getempty(self, _method_frame: Any) -> None:
        pending, self._get_pending = self._get_pending, None
        if pending is not None and not pending.done():
            pending.set_result(None)

    # -- helpers -----------------------------------------------------------

    def _call(self, method: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """Call an engine RPC method now, with a completion callback; the
        returned awaitable gives what the callback receives.
        """
        future = self._loop.create_future()

        def on_reply(result: Any) -> None:
            if not future.done():
                future.set_result(result)

        method(*args, callback=on_reply)
        self._calls.add(future)
        return self._wait(future)

    async def _wait(self, future: 'asyncio.Future[Any]') -> Any:
        try:
            return await future
        finally:
            self._calls.discard(future)

    def _message(self, method: Any, properties: Any, body: bytes,
                 auto_ack: bool) -> Message:
        if auto_ack:
            return Message(self, self._impl, method, properties, body, None)
        unsettled = self._unsettled
        message = Message(self, self._impl, method, properties, body, unsettled)
        unsettled[method.delivery_tag] = message
        return message

    def _unsettled_of(self, consumer_tag: str) -> List[Message]:
        return [
            message for message in self._unsettled.values()
            if getattr(message.method, 'consumer_tag', None) == consumer_tag
        ]

    async def _subscribe(self, consumer: Consumer) -> str:
        """Start an engine consumer feeding ``consumer``; return its tag."""
        return await self._start_consumer(consumer, consumer.queue,
                                          self._iterator_handler(consumer),
                                          consumer.auto_ack, consumer.exclusive,
                                          consumer._requested_tag,
                                          consumer.arguments)

    def _delivery_handler(self, consumer: Any,
                          auto_ack: bool) -> Callable[..., None]:
        """The engine's ``on_message`` for ``consumer`` (a
        :class:`Consumer`, or the callback given to :meth:`basic_consume`),
        bound to the current engine channel."""
        if isinstance(consumer, Consumer):
            return self._iterator_handler(consumer)
        return self._callback_handler(consumer, auto_ack)

    def _iterator_handler(self, consumer: Consumer) -> Callable[..., None]:
        impl = self._impl
        unsettled = self._unsettled
        deliver = consumer._on_message
        auto_ack = consumer.auto_ack

        def on_message(_impl: Any, method: Any, properties: Any,
                       body: bytes) -> None:
            if auto_ack:
                deliver(Message(self, impl, method, properties, body, None))
                return
            message = Message(self, impl, method, properties, body, unsettled)
            unsettled[method.delivery_tag] = message
            deliver(message)

        return on_message

    async def _start_consumer(self, consumer: Any, queue: str,
                              on_message: Callable[..., Any], auto_ack: bool,
                              exclusive: bool, consumer_tag: Optional[str],
                              arguments: Optional[Dict[str, Any]]) -> str:
        future = self._loop.create_future()

        def on_consume_ok(_frame: Any) -> None:
            if not future.done():
                future.set_result(None)

        tag = self._impl.basic_consume(queue, on_message, auto_ack, exclusive,
                                       consumer_tag, arguments, on_consume_ok)
        self._consumers[tag] = consumer
        self._calls.add(future)
        try:
            await future
        except asyncio.CancelledError:
            # Nobody will iterate: cancel it (after its ConsumeOk, the
            # engine orders that); deliveries meanwhile are requeued.
            self._consumers.pop(tag, None)
            if self._impl.is_open:
                self._impl.basic_cancel(tag)
            raise
        except BaseException:
            self._consumers.pop(tag, None)
            raise
        finally:
            self._calls.discard(future)
        return tag

    async def _drain(self, then: Optional[Awaitable[None]]) -> None:
        """Wait until the write buffer is below the low-water mark, then
        for ``then``.
        """
        low = self.WRITE_BUFFER_LOW
        buffered = self._buffered
        delay = 0.0
        # The transport has no drain event: let the loop flush, then poll
        # with a growing pause while the socket is full.
        while buffered() > low and self._impl.is_open:
            await asyncio.sleep(delay)
            delay = min(delay * 2 or 0.0005, 0.01)
        if then is not None:
            await then

    # -- publishing --------------------------------------------------------

    def basic_publish(self,
                      exchange: str,
                      routing_key: str,
                      body: Union[bytes, str],
                      properties: Optional[spec.BasicProperties] = None,
                      mandatory: bool = False) -> Awaitable[None]:
        """Publish a message; it is sent when this is called.

        Await the result: without publisher confirms it completes at once
        (or once the write buffer drained, see the module notes); after
        :meth:`confirm_delivery` it completes when the broker acks this
        message. Other publishes do not wait for it: keep several awaitables
        in flight (e.g. ``asyncio.gather``) to pipeline confirms.

        :param str exchange: the exchange ('' for the default exchange)
        :param str routing_key: the routing key
        :param bytes body: the body; a str is encoded as UTF-8
        :param pika.spec.BasicProperties properties: message properties
        :param bool mandatory: ask the broker to return unroutable messages
        :raises pika.exceptions.UnroutableError: (when awaited, with
            confirms) the broker returned the mandatory message
        :raises pika.exceptions.NackError: (when awaited, with confirms) the
            broker nacked it
        :raises pika.exceptions.ChannelWrongStateError: if the channel is not
            open
        """
        self._publish(exchange, routing_key, body, properties, mandatory)
        # The transport's buffer is looked at once per WRITE_CHECK_EVERY
        # bytes published, not on every publish (hot path).
        unchecked = self._unchecked + len(body)
        if unchecked >= self.WRITE_CHECK_EVERY:
            unchecked = 0
            congested = self._buffered() > self.WRITE_BUFFER_HIGH
        else:
            congested = False
        self._unchecked = unchecked
        if self._confirming:
            seq = self._publish_seq = self._publish_seq + 1
            future = self._loop.create_future()
            self._confirms[seq] = future
            return self._drain(future) if congested else future
        return self._drain(None) if congested else DONE

    async def confirm_delivery(
            self) -> Optional[frame.Method[spec.Confirm.SelectOk]]:
        """Turn on publisher confirms (``Confirm.Select``); from then on the
        awaitable of each :meth:`basic_publish` completes with the broker's
        confirm.

        :returns: the ``Confirm.SelectOk`` frame (None if confirms were on)
        :raises pika.exceptions.MethodNotImplemented: if the broker does not
            support confirms
        """
        if self._confirming:
            return None
        waiting = self._call(self._impl.confirm_delivery, self._on_confirm)
        # The broker counts delivery tags from Confirm.Select on, so the
        # publishes made before its SelectOk arrives are confirmed too.
        self._confirming = True
        self._publish_seq = 0
        reply: frame.Method[spec.Confirm.SelectOk] = await waiting
        return reply

    # -- consuming ---------------------------------------------------------

    def consume(self,
                queue: str,
                auto_ack: bool = False,
                exclusive: bool = False,
                arguments: Optional[Dict[str, Any]] = None,
                *,
                prefetch_count: Optional[int] = None,
                consumer_tag: Optional[str] = None) -> Consumer:
        """Consume ``queue`` as an async iterator of messages.

        ``async with channel.consume(queue, prefetch_count=100) as
        messages: async for message in messages: ...; await message.ack()``.

        :param str queue: the queue
        :param bool auto_ack: the broker considers messages acknowledged
            once delivered
        :param bool exclusive: request exclusive access to the queue
        :param dict arguments: custom ``Basic.Consume`` arguments
        :param int prefetch_count: when given, ``Basic.Qos`` with this
            prefetch (per consumer) before consuming: the most deliveries
            in flight and buffered at once
        :param str consumer_tag: the consumer tag; generated when None
        :rtype: pika.aio.Consumer
        """
        return Consumer(self, queue, auto_ack, exclusive, arguments,
                        prefetch_count, consumer_tag)

    async def basic_consume(self,
                            queue: str,
                            on_message_callback: MessageCallback,
                            auto_ack: bool = False,
                            exclusive: bool = False,
                            consumer_tag: Optional[str] = None,
                            arguments: Optional[Dict[str, Any]] = None) -> str:
        """Start a consumer calling ``on_message_callback(message)`` for each
        delivery; when it returns an awaitable (an ``async def``
        callback), that runs as a task of its own.

        :param str queue: the queue
        :param callable on_message_callback: ``on_message_callback(message)``
        :param bool auto_ack: the broker considers messages acknowledged
            once delivered
        :param bool exclusive: request exclusive access to the queue
        :param str consumer_tag: the consumer tag; generated when None
        :param dict arguments: custom ``Basic.Consume`` arguments
        :returns: the consumer tag, once the broker confirmed it
        :rtype: str
        """
        if not callable(on_message_callback):
            raise TypeError('on_message_callback must be callable, but got %r' %
                            (on_message_callback,))
        auto = bool(auto_ack)
        return await self._start_consumer(
            on_message_callback, queue,
            self._callback_handler(on_message_callback, auto), auto, exclusive,
            consumer_tag, arguments)

    def _callback_handler(self, on_message_callback: MessageCallback,
                          auto: bool) -> Callable[..., None]:
        make = self._message
        tasks = self._tasks

        def on_message(_impl: Any, method: Any, properties: Any,
                       body: bytes) -> None:
            try:
                result = on_message_callback(
                    make(method, properties, body, auto))
            except Exception:  # noqa: BLE001 - user code must not break us
                LOGGER.exception('on_message_callback %r failed',
                                 on_message_callback)
                return
            if result is not None and hasattr(result, '__await__'):
                task = asyncio.ensure_future(result)
                tasks.add(task)
                task.add_done_callback(self._on_task_done)

        return on_message

    def _on_task_done(self, task: 'asyncio.Future[Any]') -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOGGER.error('on_message_callback task failed',
                         exc_info=task.exception())

    async def basic_cancel(
            self,
            consumer_tag: str = ''
    ) -> Optional[frame.Method[spec.Basic.CancelOk]]:
        """Cancel a consumer; deliveries still arriving for it are
        requeued. A second cancel of the same consumer waits for the first.

        :param str consumer_tag: the consumer tag
        :returns: the ``Basic.CancelOk`` frame, or None (and a warning
            logged, as pika does) for a tag that is not consuming
        """
        cancelling = self._cancelling.get(consumer_tag)
        if cancelling is not None:
            return await asyncio.shield(cancelling)
        if consumer_tag not in self._impl.consumer_tags:
            # The engine checks the argument and logs the warning.
            self._impl.basic_cancel(consumer_tag)
            return None
        future = self._loop.create_future()

        def on_cancel_ok(method_frame: Any) -> None:
            self._cancelling.pop(consumer_tag, None)
            self._calls.discard(future)
            if not future.done():
                future.set_result(method_frame)

        self._impl.basic_cancel(consumer_tag, on_cancel_ok)
        self._consumers.pop(consumer_tag, None)
        self._cancelling[consumer_tag] = future
        self._calls.add(future)
        return await asyncio.shield(future)

    async def basic_get(self,
                        queue: str,
                        auto_ack: bool = False) -> Optional[Message]:
        """Get one message (``Basic.Get``).

        :param str queue: the queue
        :param bool auto_ack: the broker considers it acknowledged at once
        :returns: the message, or None when the queue is empty
        :rtype: pika.aio.Message
        """
        while self._get_pending is not None:
            # An earlier get (maybe abandoned by a cancelled await) is
            # still waiting for its reply.
            await asyncio.shield(self._get_pending)
        pending = self._loop.create_future()

        def on_getok(_impl: Any, method: Any, properties: Any,
                     body: bytes) -> None:
            if self._get_pending is pending:
                self._get_pending = None
            pending.set_result(self._message(method, properties, body,
                                             auto_ack))

        self._impl.basic_get(queue, on_getok, auto_ack)
        self._get_pending = pending
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            pending.add_done_callback(_requeue_abandoned)
            raise

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge by delivery tag; prefer :meth:`Message.ack`.

        :param int delivery_tag: the delivery tag (0 with multiple: all)
        :param bool multiple: everything up to the tag
        """
        self._impl.basic_ack(delivery_tag, multiple)
        self._forget_settled(delivery_tag, multiple)

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Reject by delivery tag; prefer :meth:`Message.nack`.

        :param int delivery_tag: the delivery tag
        :param bool multiple: everything up to the tag
        :param bool requeue: requeue instead of dropping / dead-lettering
        """
        self._impl.basic_nack(delivery_tag, multiple, requeue)
        self._forget_settled(delivery_tag, multiple)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Reject one message by delivery tag; prefer :meth:`Message.reject`.

        :param int delivery_tag: the delivery tag
        :param bool requeue: requeue instead of dropping / dead-lettering
        """
        self._impl.basic_reject(delivery_tag, requeue)
        self._forget_settled(delivery_tag, False)

    def _forget_settled(self, delivery_tag: int, multiple: bool) -> None:
        unsettled = self._unsettled
        if multiple:
            done = [
                tag for tag in unsettled
                if not delivery_tag or tag <= delivery_tag
            ]
        else:
            done = [delivery_tag] if delivery_tag in unsettled else []
        for tag in done:
            unsettled.pop(tag)._settled = True

    # -- RPCs: the reply's Method frame ------------------------------------

    async def basic_qos(
            self,
            prefetch_size: int = 0,
            prefetch_count: int = 0,
            global_qos: bool = False) -> frame.Method[spec.Basic.QosOk]:
        """Set the prefetch window (``Basic.Qos``).

        :param int prefetch_size: window in octets (0: no limit)
        :param int prefetch_count: window in messages (0: no limit)
        :param bool global_qos: for the whole channel instead of each
            consumer
        :returns: the ``Basic.QosOk`` frame
        """
        reply: frame.Method[spec.Basic.QosOk] = await self._call(
            self._impl.basic_qos, prefetch_size, prefetch_count, global_qos)
        return reply

    async def basic_recover(self,
                            requeue: bool = False
                           ) -> frame.Method[spec.Basic.RecoverOk]:
        """Redeliver the unacknowledged messages (``Basic.Recover``).

        :param bool requeue: requeue them rather than redeliver here
        :returns: the ``Basic.RecoverOk`` frame
        """
        reply: frame.Method[spec.Basic.RecoverOk] = await self._call(
            self._impl.basic_recover, requeue)
        return reply

    async def exchange_declare(
        self,
        exchange: str,
        exchange_type: Union[str, ExchangeType] = ExchangeType.direct,
        passive: bool = False,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Exchange.DeclareOk]:
        """Declare an exchange (``Exchange.Declare``).

        :param str exchange: the exchange name
        :param exchange_type: its type (str or ExchangeType)
        :param bool passive: only check that it exists
        :param bool durable: keep it over broker restarts
        :param bool auto_delete: delete it once nothing is bound to it
        :param bool internal: publishing to it directly is refused
        :param dict arguments: custom arguments
        :returns: the ``Exchange.DeclareOk`` frame
        """
        reply: frame.Method[spec.Exchange.DeclareOk] = await self._call(
            self._impl.exchange_declare, exchange, exchange_type, passive,
            durable, auto_delete, internal, arguments)
        return reply

    async def exchange_delete(
            self,
            exchange: Optional[str] = None,
            if_unused: bool = False) -> frame.Method[spec.Exchange.DeleteOk]:
        """Delete an exchange (``Exchange.Delete``).

        :param str exchange: the exchange name
        :param bool if_unused: only when nothing is bound to it
        :returns: the ``Exchange.DeleteOk`` frame
        """
        reply: frame.Method[spec.Exchange.DeleteOk] = await self._call(
            self._impl.exchange_delete, exchange, if_unused)
        return reply

    async def exchange_bind(
        self,
        destination: str,
        source: str,
        routing_key: str = '',
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Exchange.BindOk]:
        """Bind exchange ``destination`` to exchange ``source``.

        :param str destination: the exchange receiving the messages
        :param str source: the exchange they are published to
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :returns: the ``Exchange.BindOk`` frame
        """
        reply: frame.Method[spec.Exchange.BindOk] = await self._call(
            self._impl.exchange_bind, destination, source, routing_key,
            arguments)
        return reply

    async def exchange_unbind(
        self,
        destination: Optional[str] = None,
        source: Optional[str] = None,
        routing_key: str = '',
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Exchange.UnbindOk]:
        """Remove an exchange-to-exchange binding.

        The binding removed is the one made with the same ``routing_key``
        and ``arguments``: both are part of a binding's identity.

        :param str destination: the exchange receiving the messages
        :param str source: the exchange they are published to
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :returns: the ``Exchange.UnbindOk`` frame
        """
        reply: frame.Method[spec.Exchange.UnbindOk] = await self._call(
            self._impl.exchange_unbind, destination, source, routing_key,
            arguments)
        return reply

    async def queue_declare(
        self,
        queue: str,
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Queue.DeclareOk]:
        """Declare a queue (``Queue.Declare``); '' lets the broker name it
        (``result.method.queue``).

        :param str queue: the queue name
        :param bool passive: only check that it exists
        :param bool durable: keep it over broker restarts
        :param bool exclusive: only this connection may use it
        :param bool auto_delete: delete it after its last consumer
        :param dict arguments: custom arguments (``x-message-ttl``, ...)
        :returns: the ``Queue.DeclareOk`` frame
        """
        reply: frame.Method[spec.Queue.DeclareOk] = await self._call(
            self._impl.queue_declare, queue, passive, durable, exclusive,
            auto_delete, arguments)
        return reply

    async def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: Optional[str] = None,
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Queue.BindOk]:
        """Bind a queue to an exchange (``Queue.Bind``).

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key (None: the queue's name)
        :param dict arguments: custom arguments
        :returns: the ``Queue.BindOk`` frame
        """
        reply: frame.Method[spec.Queue.BindOk] = await self._call(
            self._impl.queue_bind, queue, exchange, routing_key, arguments)
        return reply

    async def queue_unbind(
        self,
        queue: str,
        exchange: Optional[str] = None,
        routing_key: Optional[str] = None,
        arguments: Optional[Dict[str, Any]] = None
    ) -> frame.Method[spec.Queue.UnbindOk]:
        """Remove a queue binding (``Queue.Unbind``).

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key (None: the queue's name)
        :param dict arguments: custom arguments
        :returns: the ``Queue.UnbindOk`` frame
        """
        reply: frame.Method[spec.Queue.UnbindOk] = await self._call(
            self._impl.queue_unbind, queue, exchange, routing_key, arguments)
        return reply

    async def queue_purge(self, queue: str) -> frame.Method[spec.Queue.PurgeOk]:
        """Drop a queue's ready messages (``Queue.Purge``).

        :param str queue: the queue
        :returns: the ``Queue.PurgeOk`` frame (``.method.message_count``)
        """
        reply: frame.Method[spec.Queue.PurgeOk] = await self._call(
            self._impl.queue_purge, queue)
        return reply

    async def queue_delete(
            self,
            queue: str,
            if_unused: bool = False,
            if_empty: bool = False) -> frame.Method[spec.Queue.DeleteOk]:
        """Delete a queue (``Queue.Delete``).

        :param str queue: the queue
        :param bool if_unused: only when it has no consumers
        :param bool if_empty: only when it holds no messages
        :returns: the ``Queue.DeleteOk`` frame
        """
        reply: frame.Method[spec.Queue.DeleteOk] = await self._call(
            self._impl.queue_delete, queue, if_unused, if_empty)
        return reply

    async def flow(self, active: bool) -> bool:
        """Ask the broker to pause or resume deliveries (``Channel.Flow``).

        :param bool active: True to resume, False to pause
        :returns: the state the broker confirmed
        :rtype: bool
        """
        reply: bool = await self._call(self._impl.flow, active)
        return reply

    async def tx_select(self) -> frame.Method[spec.Tx.SelectOk]:
        """Use transactions on this channel (``Tx.Select``).

        :returns: the ``Tx.SelectOk`` frame
        """
        reply: frame.Method[spec.Tx.SelectOk] = await self._call(
            self._impl.tx_select)
        return reply

    async def tx_commit(self) -> frame.Method[spec.Tx.CommitOk]:
        """Commit the transaction (``Tx.Commit``).

        :returns: the ``Tx.CommitOk`` frame
        """
        reply: frame.Method[spec.Tx.CommitOk] = await self._call(
            self._impl.tx_commit)
        return reply

    async def tx_rollback(self) -> frame.Method[spec.Tx.RollbackOk]:
        """Abandon the transaction (``Tx.Rollback``).

        :returns: the ``Tx.RollbackOk`` frame
        """
        reply: frame.Method[spec.Tx.RollbackOk] = await self._call(
            self._impl.tx_rollback)
        return reply


def _requeue_abandoned(pending: 'asyncio.Future[Optional[Message]]') -> None:
    """A ``basic_get`` whose await was cancelled got its reply: give the
    message back rather than lose it.
    """
    if pending.cancelled() or pending.exception() is not None:
        return
    message = pending.result()
    if message is None:
        return
    if message.settled:
        LOGGER.warning(
            'basic_get with auto_ack got %r after its await was '
            'cancelled: the message is dropped', message)
        return
    if message._impl.is_open:
        message.reject(requeue=True)
