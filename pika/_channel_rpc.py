"""Bodies of :class:`pika.channel.Channel`'s RPC-style public methods.

Each function here is bound into ``Channel`` as a method of the same name
(``Channel.queue_declare = _channel_rpc.queue_declare``), so the public import
path and signature are pika's while ``channel.py`` keeps the state machine,
the frame dispatch and the per-message methods (publish, ack, nack, reject).

pika's rule, kept here: methods with a ``nowait`` flag send ``nowait=True``
when no completion callback is given (nothing waits for a reply); when a
callback is given they wait for the reply and call ``callback(method_frame)``.
"""

import logging
from typing import Any, Callable, Dict, Optional

from pika import exceptions, frame, spec
from pika.exchange_type import ExchangeType
from pika.validators import (require_callback, rpc_completion_callback,
                             zero_or_greater)

LOGGER = logging.getLogger('pika.channel')

_Callback = Optional[Callable[..., Any]]


def rpc_callback_arg(callback: _Callback) -> bool:
    """Check a completion callback; True means "no callback" (nowait).

    :raises TypeError: if callback is neither None nor callable
    """
    return rpc_completion_callback(callback)


def _require_string(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError('%s must be a str or unicode str, but got %r' %
                        (name, value))
    # 63 characters never exceed 255 UTF-8 bytes: only longer ones are
    # measured.
    if len(value) > 63:
        _require_short_length(value, name)


def _require_at_most(name: str, value: Any, maximum: int) -> None:
    if int(value) > maximum:
        raise exceptions._FieldRangeError(
            '%s must be from 0 to %d, but got %r' % (name, maximum, value))


def _require_short_length(value: str, name: str) -> None:
    encoded = value.encode('utf-8')
    if len(encoded) > 255:
        raise exceptions._with_hint(
            exceptions.ShortStringTooLong(encoded),
            '%s must be at most 255 bytes UTF-8 encoded, but is %d bytes' %
            (name, len(encoded)))


def _require_routing_key(value: Any) -> None:
    # As pika 1.4, binding keys may also be given as bytes (sent as they are).
    if not isinstance(value, (str, bytes)):
        raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
            'routing_key must be a str or unicode str, but got %r' % (value,))


def _arguments(arguments: Any) -> Dict[str, Any]:
    if arguments is None:
        return {}
    if not isinstance(arguments, dict):
        raise TypeError('arguments must be a dict or None, but got %r' %
                        (arguments,))
    return arguments


def _replies(nowait: bool, reply: Any) -> tuple:
    return () if nowait else (reply,)


def exchange_declare(self: Any,
                     exchange: str,
                     exchange_type: Any = ExchangeType.direct,
                     passive: bool = False,
                     durable: bool = False,
                     auto_delete: bool = False,
                     internal: bool = False,
                     arguments: Optional[Dict[str, Any]] = None,
                     callback: _Callback = None) -> None:
    """Declare an exchange (``Exchange.Declare``).

    :param str exchange: the exchange name
    :param exchange_type: the exchange type (str or
        :class:`pika.exchange_type.ExchangeType`)
    :param bool passive: only check that the exchange exists
    :param bool durable: survive broker restarts
    :param bool auto_delete: delete when no queue is bound any more
    :param bool internal: cannot be published to directly
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Exchange.DeclareOk``; without it ``nowait`` is used
    """
    _require_string(exchange, 'exchange')
    nowait = rpc_callback_arg(callback)
    if isinstance(exchange_type, ExchangeType):
        exchange_type = exchange_type.value
    if not isinstance(exchange_type, str):
        raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
            'exchange_type must be a str or unicode str, but got %r' %
            (exchange_type,))
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    self._rpc(
        spec.Exchange.Declare(exchange=exchange,
                              type=exchange_type,
                              passive=bool(passive),
                              durable=bool(durable),
                              auto_delete=bool(auto_delete),
                              internal=bool(internal),
                              nowait=nowait,
                              arguments=arguments), None,
        _replies(nowait, spec.Exchange.DeclareOk), callback)


def exchange_delete(self: Any,
                    exchange: Optional[str] = None,
                    if_unused: bool = False,
                    callback: _Callback = None) -> None:
    """Delete an exchange (``Exchange.Delete``).

    :param str exchange: the exchange name
    :param bool if_unused: only delete if it has no bindings
    :param callable callback: ``callback(method_frame)`` on
        ``Exchange.DeleteOk``; without it ``nowait`` is used
    """
    _require_string(exchange, 'exchange')
    nowait = rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(
        spec.Exchange.Delete(exchange=exchange,
                             if_unused=bool(if_unused),
                             nowait=nowait), None,
        _replies(nowait, spec.Exchange.DeleteOk), callback)


def exchange_bind(self: Any,
                  destination: str,
                  source: str,
                  routing_key: str = '',
                  arguments: Optional[Dict[str, Any]] = None,
                  callback: _Callback = None) -> None:
    """Bind an exchange to another (``Exchange.Bind``).

    :param str destination: the destination exchange
    :param str source: the source exchange
    :param str routing_key: the binding key
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Exchange.BindOk``; without it ``nowait`` is used
    """
    _exchange_binding(self, spec.Exchange.Bind, spec.Exchange.BindOk,
                      destination, source, routing_key, arguments, callback)


def exchange_unbind(self: Any,
                    destination: Optional[str] = None,
                    source: Optional[str] = None,
                    routing_key: str = '',
                    arguments: Optional[Dict[str, Any]] = None,
                    callback: _Callback = None) -> None:
    """Remove an exchange-to-exchange binding (``Exchange.Unbind``).

    :param str destination: the destination exchange
    :param str source: the source exchange
    :param str routing_key: the binding key
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Exchange.UnbindOk``; without it ``nowait`` is used
    """
    _exchange_binding(self, spec.Exchange.Unbind, spec.Exchange.UnbindOk,
                      destination, source, routing_key, arguments, callback)


def _exchange_binding(self: Any, method_class: Any, ok_class: Any,
                      destination: Any, source: Any, routing_key: Any,
                      arguments: Any, callback: _Callback) -> None:
    """Check the arguments of, and send, ``Exchange.Bind`` / ``Unbind``."""
    _require_string(destination, 'destination')
    _require_string(source, 'source')
    _require_routing_key(routing_key)
    nowait = rpc_callback_arg(callback)
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    self._rpc(
        method_class(destination=destination,
                     source=source,
                     routing_key=routing_key,
                     nowait=nowait,
                     arguments=arguments), None, _replies(nowait, ok_class),
        callback)


def queue_declare(self: Any,
                  queue: str,
                  passive: bool = False,
                  durable: bool = False,
                  exclusive: bool = False,
                  auto_delete: bool = False,
                  arguments: Optional[Dict[str, Any]] = None,
                  callback: _Callback = None) -> None:
    """Declare a queue (``Queue.Declare``); '' lets the broker name it.

    :param str queue: the queue name
    :param bool passive: only check that the queue exists
    :param bool durable: survive broker restarts
    :param bool exclusive: only this connection may use it
    :param bool auto_delete: delete when the last consumer goes
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Queue.DeclareOk``; without it ``nowait`` is used
    """
    _require_string(queue, 'queue')
    nowait = rpc_callback_arg(callback)
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    self._rpc(
        spec.Queue.Declare(queue=queue,
                           passive=bool(passive),
                           durable=bool(durable),
                           exclusive=bool(exclusive),
                           auto_delete=bool(auto_delete),
                           nowait=nowait,
                           arguments=arguments), None,
        _replies(nowait, spec.Queue.DeclareOk), callback)


def queue_bind(self: Any,
               queue: str,
               exchange: str,
               routing_key: Optional[str] = None,
               arguments: Optional[Dict[str, Any]] = None,
               callback: _Callback = None) -> None:
    """Bind a queue to an exchange (``Queue.Bind``).

    :param str queue: the queue
    :param str exchange: the exchange
    :param str routing_key: the binding key (default: the queue name)
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Queue.BindOk``; without it ``nowait`` is used
    """
    _require_string(queue, 'queue')
    _require_string(exchange, 'exchange')
    nowait = rpc_callback_arg(callback)
    if routing_key is None:
        routing_key = queue
    _require_routing_key(routing_key)
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    self._rpc(
        spec.Queue.Bind(queue=queue,
                        exchange=exchange,
                        routing_key=routing_key,
                        nowait=nowait,
                        arguments=arguments), None,
        _replies(nowait, spec.Queue.BindOk), callback)


def queue_unbind(self: Any,
                 queue: str,
                 exchange: Optional[str] = None,
                 routing_key: Optional[str] = None,
                 arguments: Optional[Dict[str, Any]] = None,
                 callback: _Callback = None) -> None:
    """Remove a queue binding (``Queue.Unbind``; always waits for UnbindOk).

    :param str queue: the queue
    :param str exchange: the exchange
    :param str routing_key: the binding key (default: the queue name)
    :param dict arguments: custom arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Queue.UnbindOk``
    """
    _require_string(queue, 'queue')
    _require_string(exchange, 'exchange')
    rpc_callback_arg(callback)
    if routing_key is None:
        routing_key = queue
    _require_routing_key(routing_key)
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    self._rpc(
        spec.Queue.Unbind(queue=queue,
                          exchange=exchange,
                          routing_key=routing_key,
                          arguments=arguments), None, (spec.Queue.UnbindOk,),
        callback)


def queue_purge(self: Any, queue: str, callback: _Callback = None) -> None:
    """Remove all ready messages from a queue (``Queue.Purge``).

    :param str queue: the queue
    :param callable callback: ``callback(method_frame)`` on
        ``Queue.PurgeOk``; without it ``nowait`` is used
    """
    _require_string(queue, 'queue')
    nowait = rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(spec.Queue.Purge(queue=queue, nowait=nowait), None,
              _replies(nowait, spec.Queue.PurgeOk), callback)


def queue_delete(self: Any,
                 queue: str,
                 if_unused: bool = False,
                 if_empty: bool = False,
                 callback: _Callback = None) -> None:
    """Delete a queue (``Queue.Delete``).

    :param str queue: the queue
    :param bool if_unused: only if it has no consumers
    :param bool if_empty: only if it has no messages
    :param callable callback: ``callback(method_frame)`` on
        ``Queue.DeleteOk``; without it ``nowait`` is used
    """
    _require_string(queue, 'queue')
    nowait = rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(
        spec.Queue.Delete(queue=queue,
                          if_unused=bool(if_unused),
                          if_empty=bool(if_empty),
                          nowait=nowait), None,
        _replies(nowait, spec.Queue.DeleteOk), callback)


def basic_qos(self: Any,
              prefetch_size: int = 0,
              prefetch_count: int = 0,
              global_qos: bool = False,
              callback: _Callback = None) -> None:
    """Set the prefetch window (``Basic.Qos``).

    :param int prefetch_size: window in octets (0: no limit)
    :param int prefetch_count: window in messages (0: no limit)
    :param bool global_qos: apply to the whole channel (RabbitMQ: all
        consumers on the channel) rather than per consumer
    :param callable callback: ``callback(method_frame)`` on ``Basic.QosOk``
    """
    zero_or_greater('prefetch_size', prefetch_size)
    zero_or_greater('prefetch_count', prefetch_count)
    _require_at_most('prefetch_size', prefetch_size, 0xFFFFFFFF)
    _require_at_most('prefetch_count', prefetch_count, 0xFFFF)
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(
        spec.Basic.Qos(int(prefetch_size), int(prefetch_count),
                       bool(global_qos)), None, (spec.Basic.QosOk,), callback)


def basic_recover(self: Any,
                  requeue: bool = False,
                  callback: _Callback = None) -> None:
    """Redeliver unacknowledged messages (``Basic.Recover``).

    :param bool requeue: requeue instead of redelivering to this consumer
    :param callable callback: ``callback(method_frame)`` on
        ``Basic.RecoverOk``
    """
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(spec.Basic.Recover(bool(requeue)), None, (spec.Basic.RecoverOk,),
              callback)


def tx_select(self: Any, callback: _Callback = None) -> None:
    """Enter transaction mode (``Tx.Select``).

    :param callable callback: ``callback(method_frame)`` on ``Tx.SelectOk``
    """
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(spec.Tx.Select(), None, (spec.Tx.SelectOk,), callback)


def tx_commit(self: Any, callback: _Callback = None) -> None:
    """Commit the current transaction (``Tx.Commit``).

    :param callable callback: ``callback(method_frame)`` on ``Tx.CommitOk``
    """
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(spec.Tx.Commit(), None, (spec.Tx.CommitOk,), callback)


def tx_rollback(self: Any, callback: _Callback = None) -> None:
    """Abandon the current transaction (``Tx.Rollback``).

    :param callable callback: ``callback(method_frame)`` on
        ``Tx.RollbackOk``
    """
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._rpc(spec.Tx.Rollback(), None, (spec.Tx.RollbackOk,), callback)


def basic_consume(self: Any,
                  queue: str,
                  on_message_callback: Callable[..., Any],
                  auto_ack: bool = False,
                  exclusive: bool = False,
                  consumer_tag: Optional[str] = None,
                  arguments: Optional[Dict[str, Any]] = None,
                  callback: Optional[Callable[..., Any]] = None) -> str:
    """Start a consumer; messages go to ``on_message_callback``.

    :param str queue: the queue to consume from
    :param callable on_message_callback: ``on_message_callback(channel,
        method, properties, body)`` with ``spec.Basic.Deliver``,
        ``spec.BasicProperties`` and ``bytes``
    :param bool auto_ack: let the broker consider messages acknowledged
        once delivered
    :param bool exclusive: request exclusive access to the queue
    :param str consumer_tag: the consumer tag; generated when None
    :param dict arguments: custom consume arguments
    :param callable callback: ``callback(method_frame)`` on
        ``Basic.ConsumeOk``
    :returns: the consumer tag
    :rtype: str
    :raises pika.exceptions.DuplicateConsumerTag: if the tag is in use
    """
    _require_string(queue, 'queue')
    require_callback(on_message_callback)
    rpc_callback_arg(callback)
    if consumer_tag is not None and not isinstance(consumer_tag, str):
        raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
            'consumer_tag must be a str or None, but got %r' % (consumer_tag,))
    arguments = _arguments(arguments)
    self._raise_if_not_open()
    if not consumer_tag:
        # Imported here: uuid costs ~250 KiB of RSS at import time, and only
        # consumers need it.
        import uuid  # pylint: disable=import-outside-toplevel
        consumer_tag = 'ctag%i.%s' % (self.channel_number, uuid.uuid4().hex)
    if consumer_tag in self._consumers or consumer_tag in self._cancelled:
        raise exceptions.DuplicateConsumerTag(consumer_tag)
    self._consumers[consumer_tag] = on_message_callback
    if auto_ack:
        self._consumers_with_noack.add(consumer_tag)
    self._rpc(
        spec.Basic.Consume(queue=queue,
                           consumer_tag=consumer_tag,
                           no_ack=bool(auto_ack),
                           exclusive=bool(exclusive),
                           arguments=arguments), None, (spec.Basic.ConsumeOk,),
        callback)
    return consumer_tag


def basic_cancel(self: Any,
                 consumer_tag: str = '',
                 callback: Optional[Callable[..., Any]] = None) -> None:
    """Cancel a consumer.

    :param str consumer_tag: the consumer to cancel
    :param callable callback: ``callback(method_frame)`` on
        ``Basic.CancelOk``; without it ``Basic.Cancel`` is sent with
        ``nowait`` and the consumer is removed at once
    """
    _require_string(consumer_tag, 'consumer_tag')
    nowait = rpc_callback_arg(callback)
    self._raise_if_not_open()
    # Cancelling first: a nowait cancel has already removed the consumer.
    if consumer_tag in self._cancelled:
        LOGGER.warning('basic_cancel - consumer is already cancelling: %s',
                       consumer_tag)
        return
    if consumer_tag not in self._consumers:
        LOGGER.warning('basic_cancel - consumer not found: %s', consumer_tag)
        return
    self._cancelled.add(consumer_tag)
    if nowait:
        del self._consumers[consumer_tag]
        self._rpc(spec.Basic.Cancel(consumer_tag=consumer_tag, nowait=True))
    else:
        on_cancelok = self._on_cancelok
        user_callback: Callable[..., Any] = callback  # type: ignore[assignment]

        def on_reply(method_frame: Any) -> None:
            # As pika: the user's callback runs first, while the consumer is
            # still registered; then it is forgotten.
            try:
                user_callback(method_frame)
            finally:
                on_cancelok(method_frame)

        self._rpc(spec.Basic.Cancel(consumer_tag=consumer_tag, nowait=False),
                  None, (spec.Basic.CancelOk,), on_reply)


def basic_get(self: Any,
              queue: str,
              callback: Callable[..., Any],
              auto_ack: bool = False) -> None:
    """Get one message (``Basic.Get``).

    ``callback(channel, method, properties, body)`` receives it; on
    ``Basic.GetEmpty`` it is not called (use :meth:`add_callback` with
    ``spec.Basic.GetEmpty``).

    :param str queue: the queue
    :param callable callback: ``callback(channel, method, properties,
        body)`` with ``spec.Basic.GetOk``
    :param bool auto_ack: no acknowledgement expected
    :raises pika.exceptions.DuplicateGetOkCallback: if a get is pending
    """
    if queue.__class__ is not str:
        _require_string(queue, 'queue')
    if not callable(callback):
        require_callback(callback)
    if self._on_getok_callback is not None:
        raise exceptions.DuplicateGetOkCallback()
    if self._state != self.OPEN:
        self._raise_if_not_open()
    self._on_getok_callback = callback
    no_ack = bool(auto_ack)
    if self._blocking is not None:
        # Waits behind the pending synchronous RPC.
        self._rpc(spec.Basic.Get(queue=queue, no_ack=no_ack))
        return
    # Polling the same queue is the common case: its marshalled frame is
    # kept and sent again as it is (no reply is registered for Basic.Get:
    # the channel routes GetOk/GetEmpty itself).
    cached = self._get_frame_cache
    if (cached is None or cached[1] is not no_ack or cached[0] != queue or
            queue.__class__ is not str):
        data = frame.Method(self.channel_number,
                            spec.Basic.Get(queue=queue,
                                           no_ack=no_ack)).marshal()
        cached = self._get_frame_cache = (queue, no_ack, data)
    self.connection._emit_bytes(cached[2], 1)


def confirm_delivery(self: Any,
                     ack_nack_callback: Callable[..., Any],
                     callback: Optional[Callable[..., Any]] = None) -> None:
    """Turn on publisher confirms (``Confirm.Select``).

    :param callable ack_nack_callback: ``ack_nack_callback(method_frame)``
        for each ``Basic.Ack`` / ``Basic.Nack`` from the broker
    :param callable callback: ``callback(method_frame)`` on
        ``Confirm.SelectOk``; without it ``nowait`` is used
    :raises pika.exceptions.MethodNotImplemented: if the broker does not
        support confirms
    """
    if not callable(ack_nack_callback):
        raise ValueError('confirm_delivery requires a callback to '
                         'receieve Basic.Ack/Basic.Nack notifications')
    nowait = rpc_callback_arg(callback)
    self._raise_if_not_open()
    if not (self.connection.publisher_confirms and self.connection.basic_nack):
        raise exceptions.MethodNotImplemented(
            'Confirm.Select not Supported by Server')
    self._on_confirm_callbacks.append(ack_nack_callback)
    self._rpc(spec.Confirm.Select(nowait=nowait), None, () if nowait else
              (spec.Confirm.SelectOk,), callback)


def flow(self: Any,
         active: bool,
         callback: Optional[Callable[..., Any]] = None) -> None:
    """Ask the broker to pause or resume deliveries (``Channel.Flow``).

    :param bool active: True to resume, False to pause
    :param callable callback: ``callback(active)`` with the broker's
        answer (a bool)
    """
    rpc_callback_arg(callback)
    self._raise_if_not_open()
    self._on_flowok_callback = callback
    self._rpc(spec.Channel.Flow(bool(active)), self._on_flowok,
              (spec.Channel.FlowOk,), None)
