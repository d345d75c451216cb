"""The hooks automatic recovery installs on each :class:`pika.channel.Channel`
of an asynchronous connection created with ``recovery=`` (see
:mod:`pika._recovery_async`).

They are set on the channel instance, so channels of connections without
recovery run none of this code:

* the declaration, binding, QoS and consumer methods record in the
  :class:`~pika.recovery.TopologyLedger` what the broker acknowledged (and
  forget what is deleted, unbound or cancelled);
* ``_raise_if_not_open`` raises :class:`pika.exceptions.ConnectionRecovering`
  while the channel waits for recovery, so every call fails fast;
* deliveries get the channel's delivery-tag generation added, and
  ``basic_ack``/``nack``/``reject`` take it off again, dropping tags from
  before a loss;
* in confirm mode, publishes are numbered and kept until confirmed, so that
  a loss can report them (:class:`ConfirmTracker`).
"""

import functools
import inspect
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from pika._recovery_ack_hooks import AckHooks
from pika.recovery import TopologyLedger, UnconfirmedMessage

LOGGER = logging.getLogger('pika.recovery')

_Recorder = Callable[[TopologyLedger, int, Dict[str, Any], Any], None]


def _record_exchange(ledger: TopologyLedger, number: int, args: Dict[str, Any],
                     _reply: Any) -> None:
    if not args['passive']:
        ledger.record_exchange(number, args['exchange'], args['exchange_type'],
                               args['durable'], args['auto_delete'],
                               args['internal'], args['arguments'])


def _record_queue(ledger: TopologyLedger, number: int, args: Dict[str, Any],
                  reply: Any) -> None:
    if not args['passive']:
        declared = reply.method.queue if reply is not None else args['queue']
        ledger.record_queue(number, args['queue'], declared, args['durable'],
                            args['exclusive'], args['auto_delete'],
                            args['arguments'])


def _record_queue_binding(ledger: TopologyLedger, number: int,
                          args: Dict[str, Any], _reply: Any) -> None:
    ledger.record_binding(number, 'queue_binding', args['queue'],
                          args['exchange'], args['routing_key'],
                          args['arguments'])


def _record_exchange_binding(ledger: TopologyLedger, number: int,
                             args: Dict[str, Any], _reply: Any) -> None:
    ledger.record_binding(number, 'exchange_binding', args['destination'],
                          args['source'], args['routing_key'],
                          args['arguments'])


def _forget_queue_binding(ledger: TopologyLedger, _number: int,
                          args: Dict[str, Any], _reply: Any) -> None:
    ledger.forget_binding('queue_binding', args['queue'], args['exchange'] or
                          '', args['routing_key'], args['arguments'])


def _forget_exchange_binding(ledger: TopologyLedger, _number: int,
                             args: Dict[str, Any], _reply: Any) -> None:
    ledger.forget_binding('exchange_binding', args['destination'] or '',
                          args['source'] or '', args['routing_key'],
                          args['arguments'])


def _record_qos(ledger: TopologyLedger, number: int, args: Dict[str, Any],
                _reply: Any) -> None:
    ledger.record_qos(number, args['prefetch_size'], args['prefetch_count'],
                      args['global_qos'])


# method name -> what its acknowledgement changes in the ledger
_RECORDERS: Dict[str, _Recorder] = {
    'exchange_declare':
        _record_exchange,
    'exchange_delete':
        lambda ledger, _n, args, _r: ledger.forget_exchange(args['exchange'] or
                                                            ''),
    'exchange_bind':
        _record_exchange_binding,
    'exchange_unbind':
        _forget_exchange_binding,
    'queue_declare':
        _record_queue,
    'queue_delete':
        lambda ledger, _n, args, _r: ledger.forget_queue(args['queue']),
    'queue_bind':
        _record_queue_binding,
    'queue_unbind':
        _forget_queue_binding,
    'basic_qos':
        _record_qos,
}


class ConfirmTracker:
    """Publisher-confirm bookkeeping of one channel in confirm mode.

    The application numbers its publishes 1, 2, 3, ... as the broker does;
    after a recovery the broker starts again at 1 on the new channel, but the
    application's numbers go on. ``_pending`` maps each broker number still
    unconfirmed to ``(application number, message)``; confirmations are
    translated back before the application sees them.
    """

    __slots__ = ('published', 'broker_seq', 'pending')

    def __init__(self) -> None:
        #: publishes the application made in confirm mode (its last number)
        self.published = 0
        #: the broker's number of the last publish on the current channel
        self.broker_seq = 0
        #: broker number -> (application number, message), oldest first
        self.pending: Dict[int, Tuple[int, UnconfirmedMessage]] = {}

    def sent(self,
             message: UnconfirmedMessage,
             app_tag: Optional[int] = None) -> None:
        """A publish went out (``app_tag`` for a republished message)."""
        if app_tag is None:
            self.published += 1
            app_tag = self.published
        self.broker_seq += 1
        self.pending[self.broker_seq] = (app_tag,
                                         message._replace(delivery_tag=app_tag))

    def confirmed(self, broker_tag: int, multiple: bool) -> int:
        """Forget what the broker confirmed; returns the application's
        number for ``broker_tag``."""
        pending = self.pending
        entry = pending.get(broker_tag)
        app_tag = entry[0] if entry is not None else broker_tag
        if multiple:
            while pending:
                first = next(iter(pending))
                if first > broker_tag:
                    break
                del pending[first]
        else:
            pending.pop(broker_tag, None)
        return app_tag

    def take_lost(self) -> List[UnconfirmedMessage]:
        """The channel is gone: everything pending, oldest first; the next
        channel numbers from 1 again."""
        lost = [message for _app_tag, message in self.pending.values()]
        self.pending.clear()
        self.broker_seq = 0
        return lost


class AsyncChannelHooks(AckHooks):
    """The per-instance hooks recovery installs on one channel.

    :param recovery: the connection's :class:`~pika._recovery_async.
        AsyncRecovery`
    :param channel: the :class:`pika.channel.Channel`
    """

    def __init__(self, recovery: Any, channel: Any) -> None:
        self._recovery = recovery
        self._ledger: TopologyLedger = recovery.ledger
        self._channel = channel
        #: set once ``confirm_delivery`` was called
        self.confirms: Optional[ConfirmTracker] = None
        self.lost_callbacks: List[Callable[..., Any]] = []

    def install(self) -> None:
        """Shadow the channel's methods on the instance."""
        for name in _RECORDERS:
            self._wrap(name, functools.partial(self._recorded, name))
        for name in ('basic_consume', 'basic_cancel', 'confirm_delivery',
                     'close', 'basic_ack', 'basic_nack', 'basic_reject',
                     '_raise_if_not_open', '_on_deliver', '_on_getok',
                     '_finish_close'):
            self._wrap(name, getattr(self, name))
        self._channel._recovery_hooks = self

    def _wrap(self, name: str, hook: Callable[..., Any]) -> None:
        channel = self._channel
        original = getattr(type(channel), name).__get__(channel, type(channel))
        setattr(channel, name,
                functools.wraps(original)(functools.partial(hook, original)))

    @property
    def _number(self) -> int:
        number: int = self._channel.channel_number
        return number

    # -- ledger recording ----------------------------------------------------

    def _recorded(self, name: str, original: Any, *args: Any,
                  **kwargs: Any) -> Any:
        try:
            bound = inspect.signature(original).bind(*args, **kwargs)
        except TypeError:
            return original(*args, **kwargs)  # raises pika's own error
        bound.apply_defaults()
        arguments = bound.arguments
        recorder = _RECORDERS[name]
        callback = arguments.get('callback')
        if callback is None:
            result = original(*args, **kwargs)
            recorder(self._ledger, self._number, arguments, None)
            return result

        def on_reply(method_frame: Any) -> None:
            recorder(self._ledger, self._number, arguments, method_frame)
            callback(method_frame)

        arguments['callback'] = on_reply
        return original(*bound.args, **bound.kwargs)

    def basic_consume(self, original: Any, *args: Any, **kwargs: Any) -> str:
        tag = original(*args, **kwargs)
        bound = inspect.signature(original).bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        self._ledger.record_consumer(self._number, tag, arguments['queue'],
                                     arguments['auto_ack'],
                                     arguments['exclusive'],
                                     arguments['arguments'])
        consumer_tag: str = tag
        return consumer_tag

    def basic_cancel(self,
                     original: Any,
                     consumer_tag: str = '',
                     *args: Any,
                     **kwargs: Any) -> Any:
        result = original(consumer_tag, *args, **kwargs)
        self._ledger.forget_consumer(self._number, consumer_tag)
        return result

    def confirm_delivery(self, original: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if self.confirms is None:
            self.confirms = ConfirmTracker()
            self._wrap('basic_publish', self.basic_publish)
            self._wrap('_on_delivery_confirmation',
                       self._on_delivery_confirmation)
        return result

    def close(self, original: Any, *args: Any, **kwargs: Any) -> Any:
        if self._recovery.is_suspended(self._channel):
            return self._recovery.close_suspended_channel(
                self._channel, *args, **kwargs)
        return original(*args, **kwargs)

    def _finish_close(self,
                      original: Any,
                      reason: Any,
                      notify_connection: bool = True) -> None:
        if self._recovery.channel_closed(self._channel, reason):
            return
        self._ledger.forget_channel(self._number)
        original(reason, notify_connection)

    def _raise_if_not_open(self, original: Any) -> None:
        if self._recovery.is_suspended(self._channel):
            raise self._recovery.coordinator.recovering_error()
        original()

    # -- delivery tags ---------------------------------------------------------

    def _on_deliver(self, original: Any, method_frame: Any, header_frame: Any,
                    body: bytes) -> None:
        base = self._recovery.tag_base
        if base:
            method_frame.method.delivery_tag += base
        if self._recovery.hold_delivery(self._channel, original,
                                        (method_frame, header_frame, body)):
            return
        original(method_frame, header_frame, body)

    def _on_getok(self, original: Any, method_frame: Any, header_frame: Any,
                  body: bytes) -> None:
        base = self._recovery.tag_base
        if base:
            method_frame.method.delivery_tag += base
        original(method_frame, header_frame, body)

    # -- confirms ----------------------------------------------------------

    def basic_publish(self,
                      original: Any,
                      exchange: str,
                      routing_key: str,
                      body: Any,
                      properties: Any = None,
                      mandatory: bool = False) -> None:
        original(exchange, routing_key, body, properties, mandatory)
        assert self.confirms is not None
        self.confirms.sent(
            UnconfirmedMessage(exchange, routing_key, body, properties,
                               mandatory))

    def _on_delivery_confirmation(self, original: Any,
                                  method_frame: Any) -> None:
        method = method_frame.method
        assert self.confirms is not None
        method.delivery_tag = self.confirms.confirmed(method.delivery_tag,
                                                      method.multiple)
        original(method_frame)

    def report_lost(self, messages: List[UnconfirmedMessage]) -> None:
        """Call the confirmation-lost callbacks with ``messages``."""
        if not messages:
            return
        LOGGER.warning(
            'Channel %d: %d publish(es) lost their confirmation with the '
            'connection', self._number, len(messages))
        if not self.lost_callbacks:
            LOGGER.error(
                'No confirmation-lost callback on channel %d: the fate of '
                '%d message(s) is unknown', self._number, len(messages))
        for callback in list(self.lost_callbacks):
            try:
                callback(self._channel, list(messages))
            except Exception:  # noqa: BLE001 - must not stop recovery
                LOGGER.exception('Confirmation-lost callback %r raised',
                                 callback)


def hooks_of(channel: Any) -> Optional[AsyncChannelHooks]:
    """The hooks installed on ``channel``, or None."""
    return getattr(channel, '_recovery_hooks', None)
