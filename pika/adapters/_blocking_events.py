"""Small value objects used by :mod:`pika.adapters.blocking_connection`.

Theory of operation: the blocking API drives an asynchronous
:class:`~pika.adapters.select_connection.SelectConnection` on the caller's
thread. Asynchronous completions land in :class:`_CallbackResult` objects
that the blocking call polls for; things that must reach user callbacks
(deliveries, returned messages, broker cancellations, timers, connection
blocked/unblocked notices) are queued as the ``_*Evt`` objects below and
dispatched later, only from ``process_data_events`` (and the loops built on
it), never from inside the I/O pump. That keeps user callbacks out of the
engine's stack and preserves arrival order per channel.
"""

import collections
from typing import Any, Callable, Deque, List, Optional, Tuple

_BLOCKING_MODULE = 'pika.adapters.blocking_connection'

# repr() of a queued message shows at most this many body bytes.
_REPR_BODY_LIMIT = 200


def _body_repr(body: Any) -> str:
    if isinstance(body, (bytes, bytearray)) and len(body) > _REPR_BODY_LIMIT:
        return '%r...(%d bytes)' % (bytes(body[:_REPR_BODY_LIMIT]), len(body))
    return repr(body)


class _CallbackResult:
    """Where an asynchronous completion leaves its arguments for a waiter.

    ``set_value_once`` keeps the arguments of the first call;
    ``append_element`` collects the arguments of every call.
    """

    __slots__ = ('_ready', '_values', '_elements')

    def __init__(self) -> None:
        self._ready = False
        self._values: Optional[Tuple[Any, ...]] = None
        self._elements: Optional[List[Tuple[Any, ...]]] = None

    def __repr__(self) -> str:
        return '<_CallbackResult ready=%s values=%r>' % (self._ready,
                                                         self._values)

    def reset(self) -> None:
        """Forget the stored result."""
        self._ready = False
        self._values = None
        self._elements = None

    def is_ready(self) -> bool:
        """True once a result was stored."""
        return self._ready

    def signal_once(self, *_args: Any, **_kwargs: Any) -> None:
        """Mark ready, ignoring the arguments."""
        self._ready = True

    def set_value_once(self, *args: Any) -> None:
        """Keep ``args`` of the first call and mark ready."""
        if not self._ready:
            self._ready = True
            self._values = args

    def append_element(self, *args: Any) -> None:
        """Collect ``args`` and mark ready."""
        if self._elements is None:
            self._elements = []
        self._elements.append(args)
        self._ready = True

    @property
    def value(self) -> Optional[Tuple[Any, ...]]:
        """The arguments kept by :meth:`set_value_once`."""
        return self._values

    @property
    def elements(self) -> List[Tuple[Any, ...]]:
        """The arguments collected by :meth:`append_element`."""
        return self._elements if self._elements is not None else []


class ReturnedMessage:
    """A message the broker returned with ``Basic.Return``.

    :param pika.spec.Basic.Return method: the return method
    :param pika.spec.BasicProperties properties: message properties
    :param bytes body: message body
    """

    __module__ = _BLOCKING_MODULE
    __slots__ = ('method', 'properties', 'body')

    def __init__(self, method: Any, properties: Any, body: Any) -> None:
        self.method = method
        self.properties = properties
        self.body = body

    def __repr__(self) -> str:
        return '<ReturnedMessage method=%r properties=%r body=%s>' % (
            self.method, self.properties, _body_repr(self.body))


class _ConsumerInfo:
    """What a :class:`BlockingChannel` knows about one of its consumers."""

    SETTING_UP = 1
    ACTIVE = 2
    TEARING_DOWN = 3
    CANCELLED_BY_BROKER = 4

    __slots__ = ('consumer_tag', 'auto_ack', 'on_message_callback',
                 'alternate_event_sink', 'state')

    def __init__(self,
                 consumer_tag: str,
                 auto_ack: bool,
                 on_message_callback: Optional[Callable[..., Any]] = None,
                 alternate_event_sink: Optional[Callable[[Any], None]] = None):
        self.consumer_tag = consumer_tag
        self.auto_ack = auto_ack
        self.on_message_callback = on_message_callback
        self.alternate_event_sink = alternate_event_sink
        self.state = self.SETTING_UP

    def __repr__(self) -> str:
        return '<_ConsumerInfo consumer_tag=%r auto_ack=%s state=%s>' % (
            self.consumer_tag, self.auto_ack, self.state)

    @property
    def setting_up(self) -> bool:
        """Basic.Consume sent, Basic.ConsumeOk not yet received."""
        return self.state == self.SETTING_UP

    @property
    def active(self) -> bool:
        """Consuming."""
        return self.state == self.ACTIVE

    @property
    def tearing_down(self) -> bool:
        """Basic.Cancel sent, Basic.CancelOk not yet received."""
        return self.state == self.TEARING_DOWN

    @property
    def cancelled_by_broker(self) -> bool:
        """The broker sent Basic.Cancel for this consumer."""
        return self.state == self.CANCELLED_BY_BROKER


class _QueueConsumerGeneratorInfo:
    """State of the consumer behind ``BlockingChannel.consume()``.

    :param tuple params: (queue, auto_ack, exclusive)
    :param str consumer_tag: the consumer's tag (set once known)
    """

    __slots__ = ('params', 'consumer_tag', 'pending_events')

    def __init__(self,
                 params: Tuple[Any, ...],
                 consumer_tag: Optional[str] = None) -> None:
        self.params = params
        self.consumer_tag = consumer_tag
        # _ConsumerDeliveryEvt and _ConsumerCancellationEvt
        self.pending_events: Deque[Any] = collections.deque()

    def __repr__(self) -> str:
        return '<_QueueConsumerGeneratorInfo params=%r consumer_tag=%r>' % (
            self.params, self.consumer_tag)


class _ChannelPendingEvt:
    """Base of the events a channel queues for dispatch."""

    __slots__ = ()


class _ConsumerDeliveryEvt(_ChannelPendingEvt):
    """A ``Basic.Deliver`` waiting for its consumer callback.

    :param pika.spec.Basic.Deliver method: the delivery method
    :param pika.spec.BasicProperties properties: message properties
    :param bytes body: message body
    """

    __slots__ = ('method', 'properties', 'body')

    def __init__(self, method: Any, properties: Any, body: Any) -> None:
        self.method = method
        self.properties = properties
        self.body = body

    def __repr__(self) -> str:
        return '<_ConsumerDeliveryEvt method=%r properties=%r body=%s>' % (
            self.method, self.properties, _body_repr(self.body))


class _ConsumerCancellationEvt(_ChannelPendingEvt):
    """A ``Basic.Cancel`` from the broker waiting for dispatch.

    :param pika.frame.Method method_frame: the Basic.Cancel frame
    """

    __slots__ = ('method_frame',)

    def __init__(self, method_frame: Any) -> None:
        self.method_frame = method_frame

    def __repr__(self) -> str:
        return '<_ConsumerCancellationEvt method_frame=%r>' % (
            self.method_frame,)

    @property
    def method(self) -> Any:
        """The Basic.Cancel method."""
        return self.method_frame.method


class _ReturnedMessageEvt(_ChannelPendingEvt):
    """A ``Basic.Return`` waiting for one return callback.

    :param callable callback: ``callback(channel, method, properties, body)``
    :param BlockingChannel channel: the channel passed to the callback
    :param pika.spec.Basic.Return method: the return method
    :param pika.spec.BasicProperties properties: message properties
    :param bytes body: message body
    """

    __slots__ = ('callback', 'channel', 'method', 'properties', 'body')

    def __init__(self, callback: Callable[..., Any], channel: Any, method: Any,
                 properties: Any, body: Any) -> None:
        self.callback = callback
        self.channel = channel
        self.method = method
        self.properties = properties
        self.body = body

    def __repr__(self) -> str:
        return ('<_ReturnedMessageEvt callback=%r channel=%r method=%r '
                'properties=%r body=%s>' %
                (self.callback, self.channel, self.method, self.properties,
                 _body_repr(self.body)))

    def dispatch(self) -> None:
        """Call the return callback."""
        self.callback(self.channel, self.method, self.properties, self.body)


class _TimerEvt:
    """A timer (``call_later``) or thread-safe callback ready to run.

    :param callable callback: called without arguments
    """

    __slots__ = ('timer_id', '_callback')

    def __init__(self, callback: Callable[[], Any]) -> None:
        self.timer_id: Any = None
        self._callback: Optional[Callable[[], Any]] = callback

    def __repr__(self) -> str:
        return '<_TimerEvt timer_id=%s callback=%s>' % (self.timer_id,
                                                        self._callback)

    def dispatch(self) -> None:
        """Run the callback (at most once)."""
        callback = self._callback
        if callback is not None:
            self._callback = None
            callback()


class _ConnectionBlockedUnblockedEvtBase:
    """Base of the connection blocked/unblocked notices.

    :param callable callback: ``callback(connection, method_frame)``, with
        the connection already bound
    :param pika.frame.Method method_frame: Connection.Blocked/Unblocked
    """

    __slots__ = ('_callback', '_method_frame')

    def __init__(self, callback: Callable[[Any], Any],
                 method_frame: Any) -> None:
        self._callback = callback
        self._method_frame = method_frame

    def __repr__(self) -> str:
        return '<%s callback=%s, frame=%s>' % (
            type(self).__name__, self._callback, self._method_frame)

    def dispatch(self) -> None:
        """Call the user callback."""
        self._callback(self._method_frame)


class _ConnectionBlockedEvt(_ConnectionBlockedUnblockedEvtBase):
    """Connection.Blocked received from the broker."""

    __slots__ = ()


class _ConnectionUnblockedEvt(_ConnectionBlockedUnblockedEvtBase):
    """Connection.Unblocked received from the broker."""

    __slots__ = ()


# pika 1.4 defines these in pika.adapters.blocking_connection; report the same
# home so reprs, pickles and type names read as they do there.
for _event_class in (_CallbackResult, _ConsumerInfo,
                     _QueueConsumerGeneratorInfo, _ChannelPendingEvt,
                     _ConsumerDeliveryEvt, _ConsumerCancellationEvt,
                     _ReturnedMessageEvt, _TimerEvt,
                     _ConnectionBlockedUnblockedEvtBase, _ConnectionBlockedEvt,
                     _ConnectionUnblockedEvt):
    _event_class.__module__ = _BLOCKING_MODULE
del _event_class
