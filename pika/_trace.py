"""DEBUG tracing of a connection: state changes and the frames it exchanges.

Theory of operation
-------------------
Users debug pika through the standard :mod:`logging` loggers named after
its modules. This module writes, at ``DEBUG``:

* ``pika.connection``: the connection's state changes (``START -> TUNE``,
  by name), what the handshake settled once open (broker product and
  version, ``channel_max``, ``frame_max``, heartbeat), ``Connection.Blocked``
  / ``Unblocked`` and ``Connection.Close`` from the broker with its reason;
* ``pika.channel``: each channel's state changes (``OPENING -> OPEN``);
* ``pika.frame``: every frame received and sent: method names and arguments
  (``Connection.StartOk``'s ``response`` and ``UpdateSecret``'s secret
  masked), content header class, body size and properties, body frame sizes
  (never body bytes), heartbeats and the protocol header.

Every line names its connection (``connection 0x7f...``: ``id()`` in hex)
so that the traces of several connections in one process can be told apart.

Rules:

* No cost on the per-message path when ``pika.frame`` is not enabled for
  ``DEBUG``. Whether frames are traced is decided per connection, when it
  is created and again when it opens (:func:`connection_created`,
  :func:`connection_state_changed`); only then does the connection keep a
  :class:`FrameTracer`, which its receive and send seams call. Without one
  each seam pays a single ``is not None`` test per batch of frames read or
  per write, and never a logging call. Nothing here reads
  ``connection.__dict__`` (on CPython 3.11+ that alone makes every later
  attribute access of the object slower: measured +11% instructions per
  publish).
* Formatting is lazy: the records carry small objects whose ``str()``
  describes the frame when (and only if) a handler formats the record.
* Tracing never breaks a connection: describing a frame catches every
  error and says so in the line, and a :class:`FrameTracer` catches
  whatever logging raises.
* State changes are rare (a handful per connection), so their hooks log
  through the logger's own level check.
"""

import logging
from typing import Any, Dict, List, Optional

from pika import _state, frame, spec

LOGGER = logging.getLogger('pika.connection')
CHANNEL_LOGGER = logging.getLogger('pika.channel')
FRAME_LOGGER = logging.getLogger('pika.frame')

_DEBUG = logging.DEBUG

# Method arguments never written to a log (credentials, secrets).
_MASKED_ARGUMENTS = frozenset(('response', 'new_secret'))
_MASK = '<masked>'
# Longest description of one argument value or property, and of one frame.
_VALUE_MAX = 200
_LINE_MAX = 2000

# The connection methods that carry news users look for in a trace.
_CONNECTION_NEWS = {
    spec.Connection.Blocked.INDEX: 'Broker blocked the connection (reason %r)',
    spec.Connection.Unblocked.INDEX: 'Broker unblocked the connection',
}


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return '%s...(%d chars)' % (text[:limit], len(text))


def _value_text(value: Any) -> str:
    try:
        return _clip(repr(value), _VALUE_MAX)
    except Exception as error:  # noqa: BLE001 - a trace never raises
        return '<unprintable %s: %r>' % (type(value).__name__, error)


def _arguments_text(fields: Dict[str, Any]) -> str:
    parts = []
    for name in sorted(fields):
        if name.startswith('_'):
            continue
        value = fields[name]
        if value is None:
            continue
        if name in _MASKED_ARGUMENTS:
            parts.append('%s=%s' % (name, _MASK))
        else:
            parts.append('%s=%s' % (name, _value_text(value)))
    return ', '.join(parts)


def describe_method(method: Any) -> str:
    """A method and its arguments, secrets masked.

    :param pika.amqp_object.Method method: e.g. ``spec.Basic.Deliver(...)``
    :rtype: str
    """
    fields = getattr(method, '__dict__', None) or {}
    return '%s(%s)' % (getattr(method, 'NAME',
                               type(method).__name__), _arguments_text(fields))


def describe_properties(properties: Any) -> str:
    """The properties of a content that are set (``{}`` when none is).

    :param pika.spec.BasicProperties properties: the properties
    :rtype: str
    """
    fields = getattr(properties, '__dict__', None) or {}
    return '{%s}' % _arguments_text(fields)


def describe_frame(value: Any) -> str:
    """One frame, in words: never raises, never shows body bytes.

    :param value: a :mod:`pika.frame` frame (or anything else)
    :rtype: str
    """
    try:
        return _clip(_describe_frame(value), _LINE_MAX)
    except Exception as error:  # noqa: BLE001 - a trace never raises
        return '<frame %s not describable: %r>' % (type(value).__name__, error)


def _describe_frame(value: Any) -> str:
    if isinstance(value, frame.ProtocolHeader):
        return 'protocol header AMQP %s-%s-%s' % (value.major, value.minor,
                                                  value.revision)
    frame_type = getattr(value, 'frame_type', None)
    if frame_type == spec.FRAME_HEARTBEAT:
        return 'heartbeat'
    number = getattr(value, 'channel_number', '?')
    if frame_type == spec.FRAME_METHOD:
        return 'channel %s: %s' % (number, describe_method(value.method))
    if frame_type == spec.FRAME_HEADER:
        properties = value.properties
        return 'channel %s: content header class %s, body_size=%s, ' \
            'properties %s' % (number, getattr(properties, 'INDEX', '?'),
                               value.body_size,
                               describe_properties(properties))
    if frame_type == spec.FRAME_BODY:
        return 'channel %s: body frame of %d bytes' % (number,
                                                       len(value.fragment))
    return '%s frame %r' % (type(value).__name__, frame_type)


class _ReceivedFrame:
    """A received frame, described when a handler formats the record."""

    __slots__ = ('_value',)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __str__(self) -> str:
        return describe_frame(self._value)


class _StreamedBody:
    """A large body frame received over several reads (as views)."""

    __slots__ = ('_channel_number', '_size')

    def __init__(self, channel_number: int, size: int) -> None:
        self._channel_number = channel_number
        self._size = size

    def __str__(self) -> str:
        return 'channel %s: body frame of %s bytes (over several reads)' % (
            self._channel_number, self._size)


class _SentBytes:
    """Already marshalled frames, decoded again when formatted."""

    __slots__ = ('_data',)

    def __init__(self, data: Any) -> None:
        self._data = data

    def __str__(self) -> str:
        try:
            data = bytes(self._data)
            frames, offset = frame.decode_frames(data, 0, None)
        except Exception as error:  # noqa: BLE001 - a trace never raises
            return '%d bytes that do not decode as frames (%r)' % (len(
                self._data), error)
        parts = [describe_frame(value) for value in frames]
        if offset < len(data):
            parts.append('%d bytes of an incomplete frame' %
                         (len(data) - offset))
        return '; '.join(parts)


class _SentContent:
    """A content-bearing method (e.g. ``Basic.Publish``) being sent."""

    __slots__ = ('_channel_number', '_method', '_properties', '_body_size',
                 '_frame_max')

    def __init__(self, channel_number: int, method: Any, properties: Any,
                 body_size: int, frame_max: int) -> None:
        self._channel_number = channel_number
        self._method = method
        self._properties = properties
        self._body_size = body_size
        self._frame_max = frame_max

    def __str__(self) -> str:
        try:
            chunk = max(self._frame_max - frame.FRAME_OVERHEAD, 1)
            body_frames = (self._body_size + chunk - 1) // chunk
            return _clip(
                'channel %s: %s; content header class %s, body_size=%d, '
                'properties %s; %d body frame(s)' %
                (self._channel_number, describe_method(self._method),
                 getattr(self._properties, 'INDEX', '?'), self._body_size,
                 describe_properties(self._properties), body_frames), _LINE_MAX)
        except Exception as error:  # noqa: BLE001 - a trace never raises
            return 'channel %s: content not describable: %r' % (
                self._channel_number, error)


def _connection_label(connection: Any) -> str:
    return 'connection %#x' % id(connection)


def _safe_len(data: Any) -> int:
    try:
        return len(data)
    except Exception:  # noqa: BLE001 - a trace never raises
        return -1


class FrameTracer:
    """Logs the frames one connection receives and sends, on ``pika.frame``.

    The connection keeps one in ``_frame_tracer`` only while ``pika.frame``
    is enabled for DEBUG (None otherwise), and calls it from its receive and
    send seams (``_dispatch_frames``, ``_dispatch_body``, ``_emit_bytes``,
    ``_send_message``). No method raises: a trace never breaks the engine.

    :param pika.connection.Connection connection: the traced connection
    """

    __slots__ = ('_connection', '_label', '_log')

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._label = _connection_label(connection)
        self._log = FRAME_LOGGER.debug

    def received(self, frames: List[Any]) -> None:
        """Frames decoded from the peer's bytes, before they are dispatched.

        :param list frames: the frames, in arrival order
        """
        try:
            label = self._label
            for value in frames:
                self._log('%s received %s', label, _ReceivedFrame(value))
                if (getattr(value, 'frame_type', None) == spec.FRAME_METHOD and
                        not value.channel_number):
                    _connection_news(label, value.method)
        except Exception:  # noqa: BLE001 - a trace never breaks the engine
            pass

    def received_streamed_body(self, channel_number: int,
                               payload_size: int) -> None:
        """A large body frame received over several reads (as views).

        :param int channel_number: its channel
        :param int payload_size: its size in bytes
        """
        try:
            self._log('%s received %s', self._label,
                      _StreamedBody(channel_number, payload_size))
        except Exception:  # noqa: BLE001 - a trace never breaks the engine
            pass

    def sending_bytes(self, data: Any) -> None:
        """Already marshalled frames about to go to the adapter.

        :param bytes data: the frames' bytes
        """
        try:
            self._log('%s sending %s', self._label, _SentBytes(data))
        except Exception:  # noqa: BLE001 - a trace never breaks the engine
            pass

    def sending_content(self, channel_number: int, method: Any, properties: Any,
                        body: Any) -> None:
        """A content-bearing method about to be marshalled and sent.

        :param int channel_number: its channel
        :param pika.amqp_object.Method method: e.g. ``Basic.Publish``
        :param pika.spec.BasicProperties properties: the properties
        :param bytes body: the body (only its size is logged)
        """
        try:
            self._log(
                '%s sending %s', self._label,
                _SentContent(channel_number, method, properties,
                             _safe_len(body),
                             self._connection.params.frame_max))
        except Exception:  # noqa: BLE001 - a trace never breaks the engine
            pass


def frame_tracer(connection: Any,
                 current: Optional[FrameTracer]) -> Optional[FrameTracer]:
    """The frame tracer ``connection`` should keep: ``current`` (or a new
    one) while ``pika.frame`` is enabled for DEBUG, else None.

    :param pika.connection.Connection connection: the connection
    :param current: the tracer it keeps now, if any
    :rtype: FrameTracer or None
    """
    if not FRAME_LOGGER.isEnabledFor(_DEBUG):
        return None
    if current is None:
        current = FrameTracer(connection)
        LOGGER.debug('%s: frames traced on logger %r',
                     _connection_label(connection), FRAME_LOGGER.name)
    return current


def frame_tracing_installed(connection: Any) -> bool:
    """True if ``connection``'s frames are being traced (for tests and
    diagnostics).

    :param pika.connection.Connection connection: the connection
    :rtype: bool
    """
    return getattr(connection, '_frame_tracer', None) is not None


def _connection_news(label: str, method: Any) -> None:
    template = _CONNECTION_NEWS.get(method.INDEX)
    if template is not None:
        if '%r' in template:
            LOGGER.debug('%s: ' + template, label,
                         getattr(method, 'reason', None))
        else:
            LOGGER.debug('%s: ' + template, label)
    elif method.INDEX == spec.Connection.Close.INDEX:
        LOGGER.debug('%s: broker closes the connection: (%s) %r%s', label,
                     method.reply_code, method.reply_text,
                     _failed_method_text(method))


def _failed_method_text(method: Any) -> str:
    class_id = getattr(method, 'class_id', 0)
    method_id = getattr(method, 'method_id', 0)
    if not class_id:
        return ''
    name = _method_name((class_id << 16) | method_id)
    return ' in reply to %s' % name


def _method_name(index: int) -> str:
    method_class: Any = spec.methods.get(index)
    if method_class is None:
        return 'method %#x' % index
    name: str = method_class.NAME
    return name


def connection_created(connection: Any) -> Optional[FrameTracer]:
    """A connection object was created (hook called by
    ``Connection.__init__``).

    :param pika.connection.Connection connection: the new connection
    :returns: its frame tracer if ``pika.frame`` is enabled for DEBUG
    :rtype: FrameTracer or None
    """
    if LOGGER.isEnabledFor(_DEBUG):
        params = connection.params
        LOGGER.debug('%s created in state %s for %s:%s, virtual host %r',
                     _connection_label(connection),
                     _state.STATE_NAMES.get(connection.connection_state, '?'),
                     params.host, params.port, params.virtual_host)
    return frame_tracer(connection, None)


def connection_state_changed(
        connection: Any, old: int, new: int,
        tracer: Optional[FrameTracer]) -> Optional[FrameTracer]:
    """The connection moves from state ``old`` to ``new`` (hook called by
    ``Connection._set_connection_state``); once open, whether frames are
    traced is decided again from the logger's level.

    :param pika.connection.Connection connection: the connection
    :param int old: the state it leaves
    :param int new: the state it enters
    :param tracer: the frame tracer the connection keeps now, if any
    :returns: the frame tracer it keeps from now on
    :rtype: FrameTracer or None
    """
    names = _state.STATE_NAMES
    label = _connection_label(connection)
    if old == new:
        LOGGER.debug('%s stays in state %s', label, names.get(new, new))
    else:
        LOGGER.debug('%s state %s -> %s', label, names.get(old, old),
                     names.get(new, new))
    if new == _state.OPEN:
        tracer = frame_tracer(connection, tracer)
        if LOGGER.isEnabledFor(_DEBUG):
            _log_negotiated(label, connection)
    return tracer


def _log_negotiated(label: str, connection: Any) -> None:
    try:
        server = connection.server_properties or {}
        params = connection.params
        LOGGER.debug(
            '%s open: broker %s %s, channel_max=%s, frame_max=%s, '
            'heartbeat=%s', label, _text(server.get('product')),
            _text(server.get('version')), params.channel_max, params.frame_max,
            params.heartbeat)
    except Exception:  # noqa: BLE001 - a trace never breaks the engine
        pass


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def channel_state_changed(channel: Any, old: int, new: int) -> None:
    """A channel moves from state ``old`` to ``new`` (hook called by
    ``Channel._set_state``).

    :param pika.channel.Channel channel: the channel
    :param int old: the state it leaves
    :param int new: the state it enters
    """
    if not CHANNEL_LOGGER.isEnabledFor(_DEBUG):
        return
    names: Dict[int, str] = getattr(channel, '_STATE_NAMES', {})
    CHANNEL_LOGGER.debug('channel %s of %s state %s -> %s',
                         channel.channel_number,
                         _connection_label(channel.connection),
                         names.get(old, old), names.get(new, new))
