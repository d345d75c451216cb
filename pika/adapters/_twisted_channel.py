"""Deferred-based channel of the Twisted adapter.

Public import path: :mod:`pika.adapters.twisted_connection` (the classes say
so in ``__module__``). This module holds the channel side: the consumer
queue, the message tuple and :class:`TwistedChannel`, which turns each
:class:`pika.channel.Channel` method into one returning a Deferred.
"""

from __future__ import annotations

import logging
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple,
                    Optional, Set, Type, Union)

from twisted.internet import defer

import pika.channel
from pika import exceptions, spec
from pika.adapters._forwarding import forwarded_property, rpc_arguments
from pika.adapters.utils.io_services_utils import check_callback_arg
from pika.exchange_type import ExchangeType

LOGGER = logging.getLogger('pika.adapters.twisted_connection')

_PUBLIC_MODULE = 'pika.adapters.twisted_connection'

if TYPE_CHECKING:
    _DeferredQueue = defer.DeferredQueue[Any]
else:  # not subscripted at run time: older Twisted releases are not generic
    _DeferredQueue = defer.DeferredQueue


class ClosableDeferredQueue(_DeferredQueue):
    """A :class:`twisted.internet.defer.DeferredQueue` that can be closed.

    Once closed, ``get()`` and ``put()`` return failed Deferreds carrying the
    close reason, waiting getters errback with it and pending items are
    dropped.
    """

    def __init__(self,
                 size: Optional[int] = None,
                 backlog: Optional[int] = None) -> None:
        """
        :param int size: maximum number of pending items (None: unbounded).
        :param int backlog: maximum number of waiting getters
            (None: unbounded).
        """
        self.closed: Optional[BaseException] = None
        super().__init__(size, backlog)

    def put(  # type: ignore[override]
            self, obj: Any) -> Optional[defer.Deferred[Any]]:
        """Add an item, or fail if the queue is closed.

        :param obj: the item.
        :returns: None, or a failed Deferred when the queue is closed.
        :raises twisted.internet.defer.QueueOverflow: when full.
        """
        if self.closed:
            LOGGER.error('Impossible to put to the queue, it is closed.')
            return defer.fail(self.closed)
        return super().put(obj)

    def get(self) -> defer.Deferred[Any]:
        """Return a Deferred firing with the next item.

        :returns: a Deferred; failed with the close reason when the queue is
            closed.
        """
        if self.closed:
            return defer.fail(self.closed)
        return super().get()

    def close(self, reason: Optional[BaseException]) -> None:
        """Close the queue: errback waiting getters and drop pending items.

        :param Exception reason: why the queue was closed; later ``get()`` and
            ``put()`` calls fail with it.
        """
        self.closed = reason
        waiting, self.waiting = self.waiting, []
        for waiter in waiting:
            waiter.errback(reason)
        self.pending = []


class ReceivedMessage(NamedTuple):
    """A message from ``basic_consume``, ``basic_get`` or a Basic.Return."""

    #: the :class:`TwistedChannel` it arrived on
    channel: Any
    #: ``Basic.Deliver``, ``Basic.GetOk`` or ``Basic.Return``
    method: Any
    #: :class:`pika.spec.BasicProperties`
    properties: Any
    #: message body (bytes)
    body: Any


def _single_argument(d: defer.Deferred[Any]) -> Callable[..., None]:
    """A completion callback firing ``d`` with its one argument, or with
    the tuple of its arguments when given several (as pika 1.4's).
    """

    def single_argument(*args: Any) -> None:
        if len(args) > 1:
            d.callback(tuple(args))
        else:
            d.callback(*args)

    return single_argument


class TwistedChannel:
    """A channel whose methods return Deferreds.

    Wraps a :class:`pika.channel.Channel`; obtain one with
    :meth:`TwistedProtocolConnection.channel`.
    """

    def __init__(self, channel: pika.channel.Channel) -> None:
        """
        :param pika.channel.Channel channel: the underlying channel.
        """
        self._channel = channel
        self._closed: Optional[BaseException] = None
        self._calls: Set[defer.Deferred[Any]] = set()
        self._consumers: Dict[str, ClosableDeferredQueue] = {}
        self._queue_name_to_consumer_tags: Dict[str, Set[str]] = {}
        self._delivery_confirmation = False
        self._confirm_select_ok = False
        self._delivery_message_id: Optional[int] = None
        self._deliveries: Dict[int, defer.Deferred[Any]] = {}
        self._puback_return: Optional[ReceivedMessage] = None
        self._basic_get_deferred: Optional[defer.Deferred[Any]] = None
        #: fired with the close reason when the channel closes
        self.on_closed: defer.Deferred[Any] = defer.Deferred()
        # Registered in pika 1.4's order.
        channel.add_callback(self._on_getempty, [spec.Basic.GetEmpty], False)
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_cancel_callback(self._on_consumer_cancelled_by_broker)

    def __repr__(self) -> str:
        return '<TwistedChannel channel=%r>' % (self._channel,)

    # -- state -----------------------------------------------------------------

    channel_number = forwarded_property('_channel.channel_number',
                                        'The channel number.', int)

    @property
    def connection(self) -> Any:
        """The underlying :class:`pika.connection.Connection`."""
        return self._channel.connection

    is_closed = forwarded_property('_channel.is_closed',
                                   'True when the channel is closed.', bool)
    is_closing = forwarded_property('_channel.is_closing',
                                    'True while the channel is closing.', bool)
    is_open = forwarded_property('_channel.is_open',
                                 'True when the channel is open.', bool)
    flow_active = forwarded_property(
        '_channel.flow_active',
        'True unless the broker paused the channel with Channel.Flow.', bool)

    @property
    def consumer_tags(self) -> List[str]:
        """Tags of the channel's active consumers."""
        return self._channel.consumer_tags

    # -- internals -------------------------------------------------------------

    def _clear_call(self, ret: Any, d: defer.Deferred[Any]) -> Any:
        self._calls.discard(d)
        return ret

    def _call(
            self, invoke: Callable[[defer.Deferred[Any]],
                                   Any]) -> defer.Deferred[Any]:
        """Return a new Deferred, kept in ``_calls`` until it fires, once
        ``invoke(deferred)`` has started the operation that fires it; a
        failed Deferred instead when the channel is closed or ``invoke``
        raises.
        """
        if self._closed:
            return defer.fail(self._closed)
        d: defer.Deferred[Any] = defer.Deferred()
        self._calls.add(d)
        d.addBoth(self._clear_call, d)
        try:
            invoke(d)
        except Exception:  # noqa: BLE001 - reported through the Deferred
            self._calls.discard(d)
            return defer.fail()
        return d

    def _rpc(self, method_name: str,
             method_locals: Dict[str, Any]) -> defer.Deferred[Any]:
        """Call the channel's ``method_name`` method with the parameters of
        the calling method (its ``locals()``, see
        :mod:`pika.adapters._forwarding`); the returned Deferred fires with
        the reply the method's completion callback receives.
        """
        method = getattr(self._channel, method_name)
        kwargs = rpc_arguments(method_locals)
        return self._call(
            lambda d: method(callback=_single_argument(d), **kwargs))

    def _on_channel_closed(self, _channel: Any,
                           reason: Optional[BaseException]) -> None:
        """Fail everything pending on the channel with ``reason``."""
        self._closed = reason
        calls, self._calls = self._calls, set()
        for d in calls:
            d.errback(reason)
        deliveries, self._deliveries = self._deliveries, {}
        for d in deliveries.values():
            d.errback(reason)
        consumers, self._consumers = self._consumers, {}
        for consumer in consumers.values():
            consumer.close(reason)
        if not self.on_closed.called:
            self.on_closed.callback(reason)

    def _on_consumer_cancelled(self, frame: Any) -> Any:
        """Close the consumer's queue after Basic.Cancel or Basic.CancelOk."""
        consumer_tag = frame.method.consumer_tag
        consumer = self._consumers.pop(consumer_tag, None)
        if consumer is None:
            # Already cancelled, e.g. by queue_delete().
            return frame
        consumer.close(exceptions.ConsumerCancelled())
        for tags in self._queue_name_to_consumer_tags.values():
            tags.discard(consumer_tag)
        return frame

    def _on_consumer_cancelled_by_broker(self, method_frame: Any) -> Any:
        """Called when the broker cancels a consumer (Basic.Cancel)."""
        return self._on_consumer_cancelled(method_frame)

    def _on_getempty(self, _method_frame: Any) -> None:
        """Called on Basic.GetEmpty: ``basic_get`` fires with None."""
        d = self._basic_get_deferred
        if d is None:
            LOGGER.debug('Basic.GetEmpty without a pending basic_get')
            return
        self._basic_get_deferred = None
        d.callback(None)

    def _on_puback_message_returned(self, _channel: Any, method: Any,
                                    properties: Any, body: Any) -> None:
        """Remember a message returned in confirm mode: its Basic.Ack follows
        and must fail the publish with UnroutableError.
        """
        self._puback_return = ReceivedMessage(channel=self,
                                              method=method,
                                              properties=properties,
                                              body=body)

    def _on_delivery_confirmation(self, method_frame: Any) -> None:
        """Fire the publish Deferreds covered by a Basic.Ack / Basic.Nack."""
        method = method_frame.method
        delivery_tag = method.delivery_tag
        # As pika 1.4.4: a tag not pending is ignored, even with multiple.
        if delivery_tag not in self._deliveries:
            LOGGER.error('Delivery confirmation for unknown tag %s',
                         delivery_tag)
            return
        if method.multiple:
            tags = sorted(
                tag for tag in self._deliveries if tag <= delivery_tag)
        else:
            tags = [delivery_tag]
        nacked = isinstance(method, spec.Basic.Nack)
        for tag in tags:
            d = self._deliveries.pop(tag)
            # A message returned before this confirmation goes to the first
            # Deferred it fails: in NackError on a Nack, else UnroutableError.
            returned, self._puback_return = self._puback_return, None
            if nacked:
                d.errback(
                    exceptions.NackError([] if returned is
                                         None else [returned]))
            elif returned is not None:
                d.errback(exceptions.UnroutableError([returned]))
            else:
                d.callback(method)

    # -- API -------------------------------------------------------------------

    def callback_deferred(self, deferred: defer.Deferred[Any],
                          replies: List[Type[Any]]) -> None:
        """Fire ``deferred`` with the next frame matching one of ``replies``.

        :param deferred: the Deferred to fire.
        :param list replies: method classes to wait for, e.g.
            ``[pika.spec.Basic.CancelOk]``.
        """
        self._channel.add_callback(deferred.callback, replies)

    def add_on_return_callback(
            self, callback: Callable[[ReceivedMessage], Any]) -> None:
        """Call ``callback(ReceivedMessage)`` for each message the broker
        returns (Basic.Return).

        :param callable callback: called with one :class:`ReceivedMessage`.
        """
        check_callback_arg(callback, 'callback')

        def on_return(_channel: Any, method: Any, properties: Any,
                      body: Any) -> None:
            callback(
                ReceivedMessage(channel=self,
                                method=method,
                                properties=properties,
                                body=body))

        self._channel.add_on_return_callback(on_return)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge one message, or all up to ``delivery_tag``.

        :param int delivery_tag: the delivery tag (0 with multiple: all).
        :param bool multiple: acknowledge all messages up to the tag.
        """
        return self._channel.basic_ack(delivery_tag=delivery_tag,
                                       multiple=multiple)

    def basic_cancel(self, consumer_tag: str = '') -> defer.Deferred[Any]:
        """Cancel a consumer; its queue is closed with ConsumerCancelled.

        :param str consumer_tag: the consumer to cancel.
        :returns: Deferred firing with the Basic.CancelOk frame.
        """
        return self._rpc('basic_cancel',
                         locals()).addCallback(self._on_consumer_cancelled)

    def basic_consume(
            self,
            queue: str,
            auto_ack: bool = False,
            exclusive: bool = False,
            consumer_tag: Optional[str] = None,
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Start a consumer.

        :param str queue: queue to consume from.
        :param bool auto_ack: let the broker consider messages acknowledged
            on delivery.
        :param bool exclusive: request exclusive access to the queue.
        :param str consumer_tag: consumer tag (generated when None).
        :param dict arguments: extra Basic.Consume arguments.
        :returns: Deferred firing with ``(ClosableDeferredQueue,
            consumer_tag)``; the queue yields :class:`ReceivedMessage`.
        """
        queue_obj = ClosableDeferredQueue()
        put = queue_obj.put
        make = ReceivedMessage

        def on_message(_channel: Any, method: Any, properties: Any,
                       body: Any) -> None:
            put(make(self, method, properties, body))

        def start(d: defer.Deferred[Any]) -> None:

            def on_consume_ok(frame: Any) -> None:
                tag = frame.method.consumer_tag
                self._queue_name_to_consumer_tags.setdefault(queue,
                                                             set()).add(tag)
                self._consumers[tag] = queue_obj
                d.callback((queue_obj, tag))

            self._channel.basic_consume(queue=queue,
                                        on_message_callback=on_message,
                                        auto_ack=auto_ack,
                                        exclusive=exclusive,
                                        consumer_tag=consumer_tag,
                                        arguments=arguments,
                                        callback=on_consume_ok)

        return self._call(start)

    def basic_get(self,
                  queue: str,
                  auto_ack: bool = False) -> defer.Deferred[Any]:
        """Get one message.

        :param str queue: queue to get from.
        :param bool auto_ack: consider the message acknowledged at once.
        :returns: Deferred firing with a :class:`ReceivedMessage`, or None
            when the queue is empty.
        :raises pika.exceptions.DuplicateGetOkCallback: while another
            basic_get is pending.
        """
        if self._basic_get_deferred is not None:
            raise exceptions.DuplicateGetOkCallback()

        def start(d: defer.Deferred[Any]) -> None:

            def cleanup(result: Any) -> Any:
                if self._basic_get_deferred is d:
                    self._basic_get_deferred = None
                return result

            def to_message(result: Any) -> Optional[ReceivedMessage]:
                if result is None:  # Basic.GetEmpty
                    return None
                _channel, method, properties, body = result
                return ReceivedMessage(self, method, properties, body)

            self._channel.basic_get(queue=queue,
                                    callback=_single_argument(d),
                                    auto_ack=auto_ack)
            d.addBoth(cleanup)
            d.addCallback(to_message)
            self._basic_get_deferred = d

        return self._call(start)

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Reject one or several messages.

        :param int delivery_tag: the delivery tag.
        :param bool multiple: reject all messages up to the tag.
        :param bool requeue: requeue instead of discarding/dead-lettering.
        """
        return self._channel.basic_nack(delivery_tag=delivery_tag,
                                        multiple=multiple,
                                        requeue=requeue)

    def basic_publish(self,
                      exchange: str,
                      routing_key: str,
                      body: Union[bytes, str],
                      properties: Optional[spec.BasicProperties] = None,
                      mandatory: bool = False) -> defer.Deferred[Any]:
        """Publish a message.

        :param str exchange: exchange name ('' for the default exchange).
        :param str routing_key: routing key.
        :param bytes body: message body (str is encoded as UTF-8).
        :param pika.spec.BasicProperties properties: message properties.
        :param bool mandatory: ask the broker to return unroutable messages.
        :returns: Deferred; without publisher confirms it has already fired
            with None; with confirms it fires with the Basic.Ack method or
            errbacks with NackError / UnroutableError.
        """
        if self._closed:
            return defer.fail(self._closed)
        self._channel.basic_publish(exchange=exchange,
                                    routing_key=routing_key,
                                    body=body,
                                    properties=properties,
                                    mandatory=mandatory)
        if not self._delivery_confirmation:
            return defer.succeed(None)
        self._delivery_message_id = (self._delivery_message_id or 0) + 1
        d: defer.Deferred[Any] = defer.Deferred()
        self._deliveries[self._delivery_message_id] = d
        return d

    def basic_qos(self,
                  prefetch_size: int = 0,
                  prefetch_count: int = 0,
                  global_qos: bool = False) -> defer.Deferred[Any]:
        """Set the prefetch window.

        :param int prefetch_size: window size in octets (0: unlimited).
        :param int prefetch_count: window size in messages (0: unlimited).
        :param bool global_qos: apply to the whole connection.
        :returns: Deferred firing with the Basic.QosOk frame.
        """
        return self._rpc('basic_qos', locals())

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        """Reject one message.

        :param int delivery_tag: the delivery tag.
        :param bool requeue: requeue instead of discarding/dead-lettering.
        """
        return self._channel.basic_reject(delivery_tag=delivery_tag,
                                          requeue=requeue)

    def basic_recover(self, requeue: bool = False) -> defer.Deferred[Any]:
        """Ask the broker to redeliver unacknowledged messages.

        :param bool requeue: requeue them (RabbitMQ only supports True).
        :returns: Deferred firing with the Basic.RecoverOk frame.
        """
        return self._rpc('basic_recover', locals())

    def close(self,
              reply_code: int = 0,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the channel; ``on_closed`` fires when it is closed.

        :param int reply_code: close code reported to the broker.
        :param str reply_text: close text reported to the broker.
        """
        return self._channel.close(reply_code=reply_code, reply_text=reply_text)

    def confirm_delivery(self) -> defer.Deferred[Any]:
        """Turn on publisher confirms: later ``basic_publish`` calls return
        Deferreds fired by the broker's Basic.Ack / Basic.Nack.

        :returns: Deferred firing with the Confirm.SelectOk frame (with None
            once confirms are on, as pika 1.4 does).
        """
        if self._confirm_select_ok:
            return defer.succeed(None)
        d = self._rpc('confirm_delivery',
                      {'ack_nack_callback': self._on_delivery_confirmation})
        if d.called:
            # Failed synchronously (closed channel or wrong state).
            return d
        if not self._delivery_confirmation:
            # The broker counts delivery tags from the Confirm.Select on, so
            # publishes made before Confirm.SelectOk arrives count too.
            self._delivery_confirmation = True
            self._delivery_message_id = 0
            self._channel.add_on_return_callback(
                self._on_puback_message_returned)
        d.addCallback(self._on_confirm_select_ok)
        return d

    def _on_confirm_select_ok(self, result: Any) -> Any:
        self._confirm_select_ok = True
        return result

    def exchange_bind(
            self,
            destination: str,
            source: str,
            routing_key: str = '',
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Bind an exchange to another exchange.

        :param str destination: the destination exchange.
        :param str source: the source exchange.
        :param str routing_key: binding key.
        :param dict arguments: binding arguments.
        :returns: Deferred firing with the Exchange.BindOk frame.
        """
        return self._rpc('exchange_bind', locals())

    def exchange_declare(
            self,
            exchange: str,
            exchange_type: Union[str, ExchangeType] = ExchangeType.direct,
            passive: bool = False,
            durable: bool = False,
            auto_delete: bool = False,
            internal: bool = False,
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Declare an exchange.

        :param str exchange: exchange name.
        :param exchange_type: exchange type (str or ExchangeType).
        :param bool passive: only check that the exchange exists.
        :param bool durable: survive broker restarts.
        :param bool auto_delete: delete when no longer bound.
        :param bool internal: not publishable by clients.
        :param dict arguments: extra arguments.
        :returns: Deferred firing with the Exchange.DeclareOk frame.
        """
        return self._rpc('exchange_declare', locals())

    def exchange_delete(self,
                        exchange: Optional[str] = None,
                        if_unused: bool = False) -> defer.Deferred[Any]:
        """Delete an exchange.

        :param str exchange: exchange name.
        :param bool if_unused: only if it has no bindings.
        :returns: Deferred firing with the Exchange.DeleteOk frame.
        """
        return self._rpc('exchange_delete', locals())

    def exchange_unbind(
            self,
            destination: str,
            source: str,
            routing_key: str = '',
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Remove an exchange-to-exchange binding.

        :param str destination: the destination exchange.
        :param str source: the source exchange.
        :param str routing_key: binding key.
        :param dict arguments: binding arguments.
        :returns: Deferred firing with the Exchange.UnbindOk frame.
        """
        return self._rpc('exchange_unbind', locals())

    def flow(self, active: bool = True) -> defer.Deferred[Any]:
        """Ask the broker to pause (False) or resume (True) deliveries.

        :param bool active: resume or pause.
        :returns: Deferred firing with the flow state the broker confirmed.
        """
        return self._rpc('flow', locals())

    def open(self) -> None:
        """Open the channel (done already by
        :meth:`TwistedProtocolConnection.channel`).
        """
        return self._channel.open()

    def queue_bind(
            self,
            queue: str,
            exchange: str,
            routing_key: Optional[str] = None,
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Bind a queue to an exchange.

        :param str queue: queue name.
        :param str exchange: exchange name.
        :param str routing_key: binding key (None: the queue name).
        :param dict arguments: binding arguments.
        :returns: Deferred firing with the Queue.BindOk frame.
        """
        return self._rpc('queue_bind', locals())

    def queue_declare(
            self,
            queue: str,
            passive: bool = False,
            durable: bool = False,
            exclusive: bool = False,
            auto_delete: bool = False,
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Declare a queue.

        :param str queue: queue name ('' lets the broker name it).
        :param bool passive: only check that the queue exists.
        :param bool durable: survive broker restarts.
        :param bool exclusive: private to this connection.
        :param bool auto_delete: delete after the last consumer leaves.
        :param dict arguments: extra arguments (x-message-ttl, ...).
        :returns: Deferred firing with the Queue.DeclareOk frame.
        """
        return self._rpc('queue_declare', locals())

    def queue_delete(self,
                     queue: str,
                     if_unused: bool = False,
                     if_empty: bool = False) -> defer.Deferred[Any]:
        """Delete a queue; this channel's consumers of it are closed with
        ConsumerCancelled.

        :param str queue: queue name.
        :param bool if_unused: only if it has no consumers.
        :param bool if_empty: only if it has no messages.
        :returns: Deferred firing with the Queue.DeleteOk frame.
        """
        d = self._rpc('queue_delete', locals())

        def close_consumers(ret: Any) -> Any:
            tags = self._queue_name_to_consumer_tags.get(queue, set())
            for consumer_tag in list(tags):
                consumer = self._consumers.pop(consumer_tag, None)
                if consumer is not None:
                    consumer.close(
                        exceptions.ConsumerCancelled('Queue %s was deleted.' %
                                                     (queue,)))
                tags.discard(consumer_tag)
            return ret

        return d.addCallback(close_consumers)

    def queue_purge(self, queue: str) -> defer.Deferred[Any]:
        """Remove all ready messages from a queue.

        :param str queue: queue name.
        :returns: Deferred firing with the Queue.PurgeOk frame.
        """
        return self._rpc('queue_purge', locals())

    def queue_unbind(
            self,
            queue: str,
            exchange: Optional[str],
            routing_key: Optional[str] = None,
            arguments: Optional[Dict[str, Any]] = None) -> defer.Deferred[Any]:
        """Remove a queue binding.

        :param str queue: queue name.
        :param str exchange: exchange name.
        :param str routing_key: binding key (None: the queue name).
        :param dict arguments: binding arguments.
        :returns: Deferred firing with the Queue.UnbindOk frame.
        """
        return self._rpc('queue_unbind', locals())

    def tx_commit(self) -> defer.Deferred[Any]:
        """Commit the current transaction.

        :returns: Deferred firing with the Tx.CommitOk frame.
        """
        return self._rpc('tx_commit', locals())

    def tx_rollback(self) -> defer.Deferred[Any]:
        """Roll back the current transaction.

        :returns: Deferred firing with the Tx.RollbackOk frame.
        """
        return self._rpc('tx_rollback', locals())

    def tx_select(self) -> defer.Deferred[Any]:
        """Put the channel in transaction mode.

        :returns: Deferred firing with the Tx.SelectOk frame.
        """
        return self._rpc('tx_select', locals())


for _cls in (ClosableDeferredQueue, ReceivedMessage, TwistedChannel):
    _cls.__module__ = _PUBLIC_MODULE
del _cls
