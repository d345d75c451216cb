"""The AMQP connection protocol engine (sans-IO).

Theory of operation
-------------------
:class:`Connection` turns received bytes into frames, advances the
connection state machine, hands channel frames to their :class:`Channel`,
calls user callbacks, and gives outgoing bytes to the I/O adapter. It never
touches a socket, a thread or a clock itself: subclasses (``BaseConnection``)
implement the ``_adapter_*`` methods over an event loop and call the
``_on_stream_*`` / ``_on_data_available`` entry points.

States::

    INIT -(stream up)-> PROTOCOL -(Start)-> START -(Tune)-> TUNE
         -(OpenOk)-> OPEN -(close())-> CLOSING -(CloseOk)-> CLOSED

Parts: the states, their transition table and which connection method is
accepted in which state live in :mod:`pika._state`; the bytes kept between
reads (partial frames, large-body views) in the ``FrameReader`` of
:mod:`pika._connection_receive`; the one content writer is
``frame.content_pieces`` (joined, or grouped as views of a large body by
:mod:`pika._connection_send`); what the handshake decides in
:mod:`pika._connection_handshake`; the typed seams to the adapter, the
channels and the heartbeat checker in :mod:`pika._interfaces`. This class
keeps the methods under pika's overridable names (receive:
``_on_data_available`` -> ``_dispatch_frames`` -> ``_process_frame``; send:
``_send_frame``, ``_send_method``, ``_send_message``, ``_emit_bytes``).

Rules:

* Every way out ends in :meth:`_terminate_stream` (remember why, ask the
  adapter to drop the transport) and then :meth:`_on_stream_terminated`,
  which reports exactly once: ``on_open_error_callback`` while opening,
  ``on_close_callback`` once open.
* State changes happen before user callbacks run. An exception raised by a
  callback while received frames are dispatched is logged with its traceback
  and aborts the connection with ``StreamLostError`` (what pika 1.4's
  transports do); the frames after it are dropped. Exceptions raised by
  on-open-error / on-close callbacks propagate to the adapter.
* Incomplete frames are buffered as chunks and decoded once complete.
* Malformed bytes from the peer (InvalidFrameError, UnexpectedFrameError,
  BodyTooLongError, ...) abort the connection at once, reported as pika 1.4's
  stack reports them: ``StreamLostError('Stream connection lost: <repr>')``,
  or while opening the state's IncompatibleProtocolError /
  ProbableAuthenticationError / ProbableAccessDeniedError. Never a hang.
"""

import abc
import copy
import logging
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Optional, TypeVar,
                    cast)
# pika 1.4 has these URL helpers in this module's namespace.
from urllib.parse import parse_qs as url_parse_qs  # noqa: F401
from urllib.parse import unquote as url_unquote  # noqa: F401
from urllib.parse import urlparse  # noqa: F401

from pika import _connection_handshake as _handshake
from pika import _state
from pika import _trace
from pika._interfaces import (AdapterHooks, ChannelConnection,
                              HeartbeatConnection)
from pika import _connection_receive as _receive
from pika import _connection_send as _send
from pika import amqp_object, exceptions, frame, spec
from pika._channel_callbacks import OnChannelOpen
from pika.channel import Channel, MAX_CHANNELS
from pika.compat import AbstractBase
from pika.heartbeat import HeartbeatChecker
# Re-exported: pika defines its parameter classes in this module.
from pika.parameters import ConnectionParameters as ConnectionParameters
from pika.parameters import Parameters as Parameters
from pika.parameters import SSLOptions as SSLOptions
from pika.parameters import URLParameters as URLParameters
from pika.validators import require_callback
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import validators  # noqa: F401

PRODUCT = _handshake.PRODUCT

LOGGER = logging.getLogger(__name__)

_ConnectionT = TypeVar('_ConnectionT', bound='Connection')

_PROTOCOL_HEADER_BYTES = frame.ProtocolHeader().marshal()

_CLOSED = _state.CLOSED
_OPEN = _state.OPEN
_CLOSING = _state.CLOSING

_decode_frames = frame.decode_frames
_content_pieces = frame.content_pieces
_join = b''.join
_FRAME_METHOD = spec.FRAME_METHOD
_FRAME_HEADER = spec.FRAME_HEADER
_FRAME_BODY = spec.FRAME_BODY
_FRAME_HEARTBEAT = spec.FRAME_HEARTBEAT
_DELIVER_INDEX = spec.Basic.Deliver.INDEX
_GETOK_INDEX = spec.Basic.GetOk.INDEX
# Content methods whose method, header and whole body, when decoded from one
# read, go to the channel in one call.
_WHOLE_CONTENT_INDEXES = frozenset((_DELIVER_INDEX, _GETOK_INDEX))
_VIEW_BODY_MIN = _send.VIEW_BODY_MIN


def _whole_content(header: Any, body: Any, channel_number: int) -> bool:
    """True if ``header`` and ``body`` carry a complete one-frame content."""
    # Any frames are tested: the attributes are read once the types match.
    return (  # type: ignore[no-any-return]
        header.frame_type == _FRAME_HEADER and
        body.frame_type == _FRAME_BODY and
        header.channel_number == channel_number and
        body.channel_number == channel_number and
        header.body_size == len(body.fragment) and header.body_size > 0)


_STATE_NAMES = _state.STATE_NAMES


class Connection(AbstractBase):
    """The AMQP connection engine; adapters subclass it.

    :param pika.connection.Parameters parameters: connection parameters
        (default ``ConnectionParameters()``)
    :param callable on_open_callback: ``on_open_callback(connection)`` once
        the connection is open
    :param callable on_open_error_callback: ``(connection, exception)`` when
        the connection could not be opened; without it the error is raised
    :param callable on_close_callback: ``(connection, exception)`` when an
        open connection closed
    :param bool internal_connection_workflow: True to have the adapter build
        the transport itself (``_adapter_connect_stream``); False when an
        external connector supplies it
    """

    ON_CONNECTION_CLOSED = '_on_connection_closed'
    ON_CONNECTION_ERROR = '_on_connection_error'
    ON_CONNECTION_OPEN_OK = '_on_connection_open_ok'

    # True when _adapter_emit_data may be called several times for one
    # message with memoryviews of an immutable body, queued without copying
    # and written together (a vectored send); large bodies are then not
    # joined into one copy. Adapters whose transports do so set it.
    _adapter_emits_views = False

    # pika's public state constants (plain ints), from pika/_state.py
    CONNECTION_CLOSED = _state.CLOSED
    CONNECTION_INIT = _state.INIT
    CONNECTION_PROTOCOL = _state.PROTOCOL
    CONNECTION_START = _state.START
    CONNECTION_TUNE = _state.TUNE
    CONNECTION_OPEN = _state.OPEN
    CONNECTION_CLOSING = _state.CLOSING

    def __init__(self: _ConnectionT,
                 parameters: Optional[Parameters] = None,
                 on_open_callback: Optional[Callable[[_ConnectionT],
                                                     object]] = None,
                 on_open_error_callback: Optional[Callable[
                     [_ConnectionT, BaseException], object]] = None,
                 on_close_callback: Optional[Callable[
                     [_ConnectionT, BaseException], object]] = None,
                 internal_connection_workflow: bool = True) -> None:
        """Create the engine; see the class docstring for the arguments."""
        if parameters is not None and not isinstance(parameters, Parameters):
            raise TypeError(
                'parameters must be an instance of pika.connection.Parameters'
                ' or None, but got %r' % (parameters,))
        if on_open_callback is not None:
            require_callback(on_open_callback)
        if on_open_error_callback is not None:
            require_callback(on_open_error_callback)
        if on_close_callback is not None:
            require_callback(on_close_callback)

        # pika works on a deep copy (tuning writes into it); the SSL options
        # hold an SSLContext, which cannot be copied, and stay shared.
        if parameters is None:
            self.params: Parameters = ConnectionParameters()
        else:
            ssl_options = parameters.ssl_options
            memo: Dict[int, Any] = {}
            if ssl_options is not None:
                memo[id(ssl_options)] = ssl_options
            self.params = copy.deepcopy(parameters, memo)
        self._internal_connection_workflow = internal_connection_workflow

        self._on_open_callbacks: List[Callable[..., Any]] = []
        self._on_open_error_callbacks: List[Callable[..., Any]] = [
            self._default_on_connection_error
        ]
        self._on_close_callbacks: List[Callable[..., Any]] = []
        self._on_blocked_callbacks: List[Callable[..., Any]] = []
        self._on_unblocked_callbacks: List[Callable[..., Any]] = []
        self._on_update_secret_callbacks: List[Callable[
            [frame.Method[spec.Connection.UpdateSecretOk]], object]] = []

        self._channels: Dict[int, Channel] = {}
        self._heartbeat_checker: Optional[HeartbeatChecker] = None
        self._blocked_conn_timer: Optional[object] = None
        self._error: Optional[BaseException] = None
        self._opened = False
        self._terminating = False
        self._close_sent = False
        # Partial frames and large-body views between reads; its frame_max
        # is lowered by the Tune.
        self._reader = _receive.FrameReader()

        self.server_properties: Optional[Dict[str, Any]] = None
        self.server_capabilities: Dict[str, Any] = {}
        self.known_hosts: Optional[str] = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.frames_sent = 0
        self.frames_received = 0
        self._body_max_length = self.params.frame_max - frame.FRAME_OVERHEAD

        self.connection_state = self.CONNECTION_INIT
        # Set only while pika.frame logs at DEBUG: the seams below call it.
        self._frame_tracer: Optional[_trace.FrameTracer] = (
            _trace.connection_created(self))

        if on_open_callback is not None:
            self.add_on_open_callback(on_open_callback)
        if on_open_error_callback is not None:
            self.add_on_open_error_callback(on_open_error_callback)
        if on_close_callback is not None:
            self.add_on_close_callback(on_close_callback)

        if internal_connection_workflow:
            self._adapter_connect_stream()

    # ------------------------------------------------------------------
    # Public API

    def add_on_close_callback(
            self: _ConnectionT,
            callback: Callable[[_ConnectionT, BaseException], object]) -> None:
        """Add a callback notified when the connection has closed.

        :param callable callback: ``callback(connection, exception)``; the
            exception is a :class:`pika.exceptions.ConnectionClosed`
            subclass or another :class:`pika.exceptions.AMQPConnectionError`
        """
        require_callback(callback)
        self._on_close_callbacks.append(callback)

    def add_on_connection_blocked_callback(
        self: _ConnectionT, callback: Callable[
            [_ConnectionT, 'frame.Method[spec.Connection.Blocked]'], object]
    ) -> None:
        """Add a callback for ``Connection.Blocked`` from the broker.

        :param callable callback: ``callback(connection, method_frame)`` where
            ``method_frame.method`` is ``spec.Connection.Blocked``
        """
        require_callback(callback)
        self._on_blocked_callbacks.append(callback)

    def add_on_connection_unblocked_callback(
        self: _ConnectionT, callback: Callable[
            [_ConnectionT, 'frame.Method[spec.Connection.Unblocked]'], object]
    ) -> None:
        """Add a callback for ``Connection.Unblocked`` from the broker.

        :param callable callback: ``callback(connection, method_frame)`` where
            ``method_frame.method`` is ``spec.Connection.Unblocked``
        """
        require_callback(callback)
        self._on_unblocked_callbacks.append(callback)

    def add_on_open_callback(
            self: _ConnectionT, callback: Callable[[_ConnectionT],
                                                   object]) -> None:
        """Add a callback notified when the connection has opened.

        :param callable callback: ``callback(connection)``
        """
        require_callback(callback)
        self._on_open_callbacks.append(callback)

    def add_on_open_error_callback(self: _ConnectionT,
                                   callback: Callable[
                                       [_ConnectionT, BaseException], object],
                                   remove_default: bool = True) -> None:
        """Add a callback notified when the connection could not be opened.

        :param callable callback: ``callback(connection, exception)``
        :param bool remove_default: remove the default callback, which raises
            the error
        """
        require_callback(callback)
        if remove_default:
            try:
                self._on_open_error_callbacks.remove(
                    self._default_on_connection_error)
            except ValueError:
                pass
        self._on_open_error_callbacks.append(callback)

    def channel(self,
                channel_number: Optional[int] = None,
                on_open_callback: Optional[OnChannelOpen] = None) -> Channel:
        """Create and open a new channel.

        :param int channel_number: the channel number to use; allocated when
            None (or 0)
        :param callable on_open_callback: ``on_open_callback(channel)`` once
            the broker confirmed ``Channel.OpenOk``
        :rtype: pika.channel.Channel
        :raises pika.exceptions.ConnectionWrongStateError: if not open
        :raises pika.exceptions.NoFreeChannels: if every number is taken
        """
        if not self.is_open:
            raise exceptions.ConnectionWrongStateError(
                'Channel allocation requires an open connection: %s' % self)
        if on_open_callback is not None:
            require_callback(on_open_callback)
        if not channel_number:
            channel_number = self._next_channel_number()
        elif (isinstance(channel_number, bool) or
              not isinstance(channel_number, int) or
              not 0 < channel_number <= MAX_CHANNELS):
            raise exceptions._with_hint(
                exceptions.InvalidChannelNumber(channel_number),
                'channel_number must be None or an int from 1 to %d' %
                (MAX_CHANNELS,))
        chan = self._create_channel(channel_number, on_open_callback)
        self._channels[channel_number] = chan
        chan.open()
        return chan

    def close(self,
              reply_code: int = 200,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the connection: channels first, then ``Connection.Close``.

        Completion is reported through the on-close callbacks with
        :class:`pika.exceptions.ConnectionClosedByClient`; while opening, the
        opening is aborted and on-open-error callbacks receive
        :class:`pika.exceptions.ConnectionOpenAborted`.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        :raises pika.exceptions.ConnectionWrongStateError: if already closing
            or closed
        """
        if self.is_closing or self.is_closed:
            msg = ('Illegal close({!r}, {!r}) request on {} because it '
                   'was called while connection state={}.'.format(
                       reply_code, reply_text, self,
                       self._STATE_NAMES[self.connection_state]))
            LOGGER.error(msg)
            raise exceptions.ConnectionWrongStateError(msg)
        reply_code = int(reply_code)
        if not isinstance(reply_text, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'reply_text must be a str, but got %r' % (reply_text,))

        if self.connection_state != self.CONNECTION_OPEN:
            prev_state = self.connection_state
            self._set_connection_state(self.CONNECTION_CLOSING)
            LOGGER.info('Connection.close() aborting opening in state=%s',
                        self._STATE_NAMES[prev_state])
            self._terminate_stream(
                exceptions.ConnectionOpenAborted(
                    'Connection.close() called before connection finished '
                    'opening: prev_state={} ({}): {!r}'.format(
                        self._STATE_NAMES[prev_state], reply_code, reply_text)))
            return

        self._set_connection_state(self.CONNECTION_CLOSING)
        self._error = exceptions.ConnectionClosedByClient(
            reply_code, reply_text)
        LOGGER.info('Closing connection (%s): %r', reply_code, reply_text)
        self._close_channels(reply_code, reply_text)
        self._send_connection_close_if_ready()

    @property
    def is_closed(self) -> bool:
        """True when the connection is closed: its stream is gone (or was
        never opened), none of its channels can be used any more, and the
        reason went to the ``on_close_callback``.

        :rtype: bool
        """
        return self.connection_state == self.CONNECTION_CLOSED

    @property
    def is_closing(self) -> bool:
        """True while ``Connection.Close`` was sent or received and the
        closing handshake has not finished.

        :rtype: bool
        """
        return self.connection_state == self.CONNECTION_CLOSING

    @property
    def is_open(self) -> bool:
        """True once the AMQP handshake is complete and until closing starts:
        channels can be opened.

        :rtype: bool
        """
        return self.connection_state == self.CONNECTION_OPEN

    @property
    def basic_nack(self) -> bool:
        """True if the broker supports ``Basic.Nack``.

        :rtype: bool
        """
        return self._has_capability('basic.nack')

    @property
    def consumer_cancel_notify(self) -> bool:
        """True if the broker notifies consumers of cancellation.

        :rtype: bool
        """
        return self._has_capability('consumer_cancel_notify')

    @property
    def exchange_exchange_bindings(self) -> bool:
        """True if the broker supports exchange-to-exchange bindings.

        :rtype: bool
        """
        return self._has_capability('exchange_exchange_bindings')

    @property
    def publisher_confirms(self) -> bool:
        """True if the broker supports publisher confirms.

        :rtype: bool
        """
        return self._has_capability('publisher_confirms')

    def update_secret(
        self,
        new_secret: str,
        reason: str,
        callback: Optional[Callable[
            ['frame.Method[spec.Connection.UpdateSecretOk]'], object]] = None
    ) -> None:
        """Send ``Connection.UpdateSecret`` (e.g. a refreshed OAuth token).

        :param str new_secret: the new secret
        :param str reason: why the secret is updated
        :param callable callback: ``callback(method_frame)`` on
            ``Connection.UpdateSecretOk``
        :raises pika.exceptions.ConnectionWrongStateError: if not open
        """
        if not self.is_open:
            raise exceptions.ConnectionWrongStateError(
                'Secret update requires an open connection: %s' % self)
        if not isinstance(new_secret, (str, bytes)):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'new_secret must be a str or bytes, but got %s' %
                type(new_secret).__name__)
        if not isinstance(reason, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'reason must be a str, but got %r' % (reason,))
        if callback is not None:
            require_callback(callback)
            self._on_update_secret_callbacks.append(callback)
        self._send_method(0, spec.Connection.UpdateSecret(new_secret, reason))

    # ------------------------------------------------------------------
    # Adapter interface (implemented by BaseConnection)

    @abc.abstractmethod
    def _adapter_connect_stream(self) -> None:
        """Start connecting the transport (internal workflow)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _adapter_disconnect_stream(self) -> None:
        """Abort the transport; the adapter then calls
        ``_on_stream_terminated(None)`` asynchronously."""
        raise NotImplementedError

    @abc.abstractmethod
    def _adapter_call_later(self, delay: float, callback: Callable[[],
                                                                   Any]) -> Any:
        """Schedule ``callback()`` after ``delay`` seconds.

        :returns: a handle with ``cancel()``
        """
        raise NotImplementedError

    @abc.abstractmethod
    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer created by ``_adapter_call_later``."""
        raise NotImplementedError

    @abc.abstractmethod
    def _adapter_add_callback_threadsafe(self, callback: Callable[[],
                                                                  Any]) -> None:
        """Run ``callback()`` on the connection's loop (any thread)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _adapter_emit_data(self, data: bytes) -> None:
        """Queue bytes for the transport."""
        raise NotImplementedError

    def _adapter_get_write_buffer_size(self) -> int:
        """Bytes waiting in the transport's write buffer."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    # Entry points the adapter calls

    def _on_stream_connected(self) -> None:
        """The transport is up: send the protocol header."""
        if self._terminating or self.connection_state != self.CONNECTION_INIT:
            LOGGER.debug('Stream connected in state %s; not starting AMQP',
                         self._STATE_NAMES[self.connection_state])
            return
        self._set_connection_state(self.CONNECTION_PROTOCOL)
        self._emit_bytes(_PROTOCOL_HEADER_BYTES, 1)

    def _on_data_available(self, data_in: bytes) -> None:
        """Feed bytes received from the transport.

        An exception raised by a callback while frames are processed is
        logged with its traceback and aborts the connection with
        :class:`pika.exceptions.StreamLostError`, as pika's transports do.

        :param bytes data_in: received bytes (any chunking)
        """
        self.bytes_received += len(data_in)
        if self._terminating or self.connection_state == _CLOSED:
            return
        reader = self._reader
        offset = 0
        if reader.body_pieces is not None:
            if data_in.__class__ is not bytes:
                data_in = bytes(data_in)
            try:
                offset, pieces = reader.continue_body(data_in)
            except exceptions.InvalidFrameError as error:
                self._on_protocol_error(error)
                return
            if pieces is None:
                return
            self._dispatch_body(reader.body_channel, reader.body_size, pieces)
            if offset == len(data_in) or self._terminating:
                return
            data = data_in
        elif reader.buffered_bytes:
            joined = reader.join(data_in)
            if joined is None:
                return
            data = joined
        else:
            data = data_in
        try:
            frames, offset = _decode_frames(data, offset, reader.frame_max)
        except exceptions.AMQPError as error:
            self._on_malformed_data(data, error, offset)
            return
        if offset < len(data):
            reader.keep_partial_frame(data, offset,
                                      self.connection_state == _OPEN)
        if not frames:
            return
        self._dispatch_frames(frames)
        if reader.buffered_bytes and not self._terminating:
            oversize = reader.oversize_partial_frame()
            if oversize is not None:
                self._on_protocol_error(
                    exceptions.InvalidFrameError(
                        'Frame payload of %d bytes exceeds frame_max %r' %
                        (oversize, reader.frame_max)))

    def _on_malformed_data(self,
                           data: bytes,
                           error: BaseException,
                           offset: int = 0) -> None:
        """``decode_frames`` met a malformed frame in ``data``.

        The complete frames before it are dispatched first, as a
        frame-at-a-time decoder (pika's) would, so how the bytes were chunked
        never decides whether e.g. a delivery before the bad frame is seen;
        then the connection is aborted.

        :param bytes data: the buffer that failed to decode
        :param Exception error: the decoder's error
        :param int offset: where decoding started in ``data``
        """
        self._discard_buffer()
        while not self._terminating:
            try:
                consumed, value = frame.decode_frame(data[offset:],
                                                     self._reader.frame_max)
            except exceptions.AMQPError as frame_error:
                error = frame_error
                break
            if value is None:
                break
            offset += consumed
            self._dispatch_frames([value])
        if not self._terminating:
            self._on_protocol_error(error)

    def _dispatch_frames(self, frames: List[Any]) -> None:
        """Hand decoded frames to their channel or the connection.

        :param list frames: the frames, in arrival order
        """
        if self._frame_tracer is not None:
            self._frame_tracer.received(frames)
        self.frames_received += len(frames)
        channels = self._channels
        # A subclass overriding _process_frame sees every frame (pika's hook).
        fast = self._is_base_process_frame()
        count = len(frames)
        index = 0
        try:
            while index < count:
                value = frames[index]
                index += 1
                number = getattr(value, 'channel_number', 0)
                if number and fast:
                    chan = channels.get(number)
                    if chan is None:
                        self._on_frame_for_unknown_channel(value)
                    elif (value.frame_type == _FRAME_METHOD and
                          index + 1 < count and
                          value.method.INDEX in _WHOLE_CONTENT_INDEXES and
                          _whole_content(frames[index], frames[index + 1],
                                         number)):
                        # Deliver (or GetOk) + header + whole body in this
                        # batch: the whole content to the channel in one
                        # call instead of three frames to assemble.
                        chan._handle_content(value, frames[index],
                                             frames[index + 1].fragment)
                        index += 2
                    else:
                        chan._handle_frame(value)
                else:
                    self._process_frame(value)
                if self._terminating:
                    return
        except Exception as error:  # pylint: disable=broad-except
            self._on_dispatch_error(error)

    def _on_dispatch_error(self, error: BaseException) -> None:
        """A callback raised while received frames were dispatched."""
        LOGGER.exception(
            'Exception raised while processing received frames on %s; '
            'aborting the connection', self)
        self._discard_buffer()
        if self.connection_state != _CLOSED:
            self._terminate_stream(
                exceptions.StreamLostError(
                    'Stream connection lost: {!r}'.format(error)))

    def _dispatch_body(self, channel_number: int, payload_size: int,
                       pieces: List[memoryview]) -> None:
        """Hand on a body frame received as views of several reads.

        The channel's assembler keeps the views and joins the body once;
        without the channel (or with ``_process_frame`` overridden) the
        frame is dispatched as a ``Body`` frame with its payload joined.
        """
        tracer = self._frame_tracer
        if tracer is not None:
            tracer.received_streamed_body(channel_number, payload_size)
        chan = self._channels.get(channel_number)
        if chan is None or not self._is_base_process_frame():
            # Traced above already: not again as the joined frame.
            self._frame_tracer = None
            try:
                self._dispatch_frames(
                    [frame.Body(channel_number, b''.join(pieces))])
            finally:
                if self._frame_tracer is None:
                    self._frame_tracer = tracer
            return
        self.frames_received += 1
        try:
            chan._handle_body_views(payload_size, pieces)
        except Exception as error:  # pylint: disable=broad-except
            self._on_dispatch_error(error)

    def _discard_buffer(self) -> None:
        self._reader.discard()

    # What the frame reader holds, under the names pika's tests read.
    @property
    def _body_pieces(self) -> Optional[List[memoryview]]:
        return self._reader.body_pieces

    @property
    def _buffered_bytes(self) -> int:
        return self._reader.buffered_bytes

    def _is_base_process_frame(self) -> bool:
        """True unless ``_process_frame`` is overridden (on the class or on
        the instance, where a plain function has no ``__func__``).
        """
        try:
            method: Any = self._process_frame
            return method.__func__ is _BASE_PROCESS_FRAME
        except AttributeError:
            return False

    def _on_stream_terminated(self, error: Optional[BaseException]) -> None:
        """The transport is gone.

        :param Exception error: why, or None when we asked for it
        """
        if self.connection_state == self.CONNECTION_CLOSED:
            LOGGER.debug('_on_stream_terminated(%r) on a closed connection',
                         error)
            return
        if self._terminating and self._error is not None:
            # We asked for the stream to end and know why.
            if error is not None:
                LOGGER.debug('Stream terminated with %r after %r', error,
                             self._error)
            error = self._error
        elif error is None:
            error = self._error or exceptions.StreamLostError(
                'Stream terminated without a reason')
        LOGGER.info(
            'AMQP stack terminated, failed to connect, or aborted: '
            'opened=%r, error-arg=%r', self._opened, error)

        self._stop_timers()
        prev_state = self.connection_state
        if not self._opened:
            error = _handshake.opening_error(prev_state, error)

        self._error = None
        # Stays set: frames still being processed further up the stack (the
        # adapter may report the loss synchronously) are dropped.
        self._terminating = True
        self._discard_buffer()
        self._set_connection_state(self.CONNECTION_CLOSED)

        # Channels learn of the end before the connection's callbacks run.
        # A raising callback does not stop the others (every channel and
        # callback hears of the end once); the first exception propagates
        # to the adapter afterwards, as it would have at once in pika.
        raised: Optional[BaseException] = None
        for chan in list(self._channels.values()):
            try:
                chan._on_close_meta(error)
            except Exception as exc:  # pylint: disable=broad-except
                raised = raised or exc
        self._channels.clear()

        callbacks = (self._on_close_callbacks
                     if self._opened else self._on_open_error_callbacks)
        for callback in list(callbacks):
            try:
                callback(self, error)
            except Exception as exc:  # pylint: disable=broad-except
                raised = raised or exc
        if raised is not None:
            raise raised

    # ------------------------------------------------------------------
    # Frame dispatch

    def _process_frame(self, frame_value: Any) -> None:
        """Handle one decoded frame.

        :param pika.frame.Frame frame_value: the frame
        """
        number = getattr(frame_value, 'channel_number', 0)
        if number:
            chan = self._channels.get(number)
            if chan is None:
                self._on_frame_for_unknown_channel(frame_value)
            else:
                chan._handle_frame(frame_value)
            return
        frame_type = frame_value.frame_type
        if frame_type == _FRAME_HEARTBEAT:
            if self._heartbeat_checker is not None:
                self._heartbeat_checker.received()
            return
        if frame_type == _FRAME_METHOD:
            handler_name = self._CONNECTION_METHOD_HANDLERS.get(
                (self.connection_state, frame_value.method.INDEX))
            if handler_name is not None:
                getattr(self, handler_name)(frame_value)
                return
            if self.connection_state == _CLOSING:
                LOGGER.debug('Ignoring %r while closing', frame_value)
                return
        if isinstance(frame_value, frame.ProtocolHeader):
            self._terminate_stream(
                exceptions.IncompatibleProtocolError(
                    'Server sent protocol header AMQP %s-%s-%s' %
                    (frame_value.major, frame_value.minor,
                     frame_value.revision)))
            return
        self._on_protocol_error(exceptions.UnexpectedFrameError(frame_value))

    def _on_frame_for_unknown_channel(self, frame_value: Any) -> None:
        LOGGER.critical('Received %s frame for unregistered channel %i on %s',
                        getattr(frame_value, 'NAME', frame_value),
                        frame_value.channel_number, self)

    def _on_protocol_error(self, error: BaseException) -> None:
        """The peer broke the protocol: abort the connection.

        Reported as pika 1.4's stack reports it:
        ``StreamLostError('Stream connection lost: <repr(error)>')`` (an
        ``AMQPConnectionError``, so reconnect loops catch it), which while
        opening becomes the state's Incompatible/ProbableAuthentication/
        ProbableAccessDenied error.

        :param Exception error: the protocol error (e.g. InvalidFrameError)
        """
        LOGGER.error('Protocol error from the broker on %s: %r', self, error)
        if self.is_closed:
            return
        self._send_protocol_close(error)
        self._terminate_stream(
            exceptions.StreamLostError(
                'Stream connection lost: {!r}'.format(error)))

    def _send_protocol_close(self, error: BaseException) -> None:
        """Tell the broker why we drop the connection: ``Connection.Close``
        with the reply code of ``error`` (505 UNEXPECTED_FRAME for a frame
        out of place, 501 FRAME_ERROR for one that does not decode), sent
        before the stream is closed (the transport tries to flush it), so
        the broker logs a client-side close with its reason.

        Only once the broker speaks AMQP (after ``Connection.Start``) and
        while no ``Connection.Close`` of ours is out.
        """
        state = self.connection_state
        if (state <= self.CONNECTION_PROTOCOL or
                state == self.CONNECTION_CLOSING or self._terminating):
            return
        if isinstance(
                error,
            (exceptions.UnexpectedFrameError, exceptions.BodyTooLongError)):
            reply_code = spec.UNEXPECTED_FRAME
        else:
            reply_code = spec.FRAME_ERROR
        text = repr(error)
        if len(text.encode()) > 255:
            text = text.encode()[:255].decode(errors='ignore')
        try:
            self._send_method(0, spec.Connection.Close(reply_code, text, 0, 0))
        except Exception:  # pylint: disable=broad-except
            LOGGER.debug('Connection.Close for %r not sent',
                         error,
                         exc_info=True)

    # Connection-level methods, by (state, method INDEX): see
    # pika/_state.py's METHOD_HANDLERS
    def _on_connection_start(
            self, method_frame: 'frame.Method[spec.Connection.Start]') -> None:
        """Answer ``Connection.Start`` with ``StartOk``.

        :param pika.frame.Method method_frame: the Start frame
        """
        self._set_connection_state(self.CONNECTION_START)
        start = method_frame.method
        self.server_properties = start.server_properties or {}
        self.server_capabilities = self.server_properties.get(
            'capabilities', {}) or {}
        if (start.version_major, start.version_minor) != (0, 9):
            self._terminate_stream(
                exceptions.IncompatibleProtocolError(
                    repr(
                        exceptions.ProtocolVersionMismatch(
                            frame.ProtocolHeader(), method_frame))))
            return
        params = self.params
        credentials = params.credentials
        mechanism, response = credentials.response_for(start)
        if not mechanism:
            self._terminate_stream(
                exceptions.AuthenticationError(
                    getattr(credentials, 'TYPE',
                            type(credentials).__name__)))
            return
        self._send_method(
            0,
            spec.Connection.StartOk(_handshake.client_properties(params),
                                    mechanism, cast(bytes,
                                                    response), params.locale))
        credentials.erase_credentials()

    def _on_connection_tune(
            self, method_frame: 'frame.Method[spec.Connection.Tune]') -> None:
        """Negotiate limits, answer ``TuneOk`` then ``Open``.

        :param pika.frame.Method method_frame: the Tune frame
        """
        self._set_connection_state(self.CONNECTION_TUNE)
        tune = method_frame.method
        params = self.params
        channel_max = _handshake.negotiate_integer_value(
            params.channel_max, tune.channel_max)
        frame_max = _handshake.negotiate_integer_value(params.frame_max,
                                                       tune.frame_max)
        heartbeat = self._tuned_heartbeat(tune.heartbeat)
        params.channel_max = channel_max
        params.frame_max = frame_max
        params.heartbeat = heartbeat
        self._body_max_length = frame_max - frame.FRAME_OVERHEAD
        self._reader.frame_max = frame_max
        self._send_method(
            0, spec.Connection.TuneOk(channel_max, frame_max, heartbeat))
        if heartbeat:
            self._heartbeat_checker = HeartbeatChecker(self, heartbeat)
        self._send_method(
            0,
            spec.Connection.Open(params.virtual_host,
                                 capabilities='',
                                 insist=True))

    def _tuned_heartbeat(self, server_value: int) -> int:
        """The heartbeat timeout to propose in ``TuneOk``.

        An int from the parameters wins (0 disables); a callable decides
        with ``heartbeat(connection, server_value)``; None takes the
        server's.

        :param int server_value: the broker's proposal in ``Connection.Tune``
        :rtype: int
        """
        client_value: Any = self.params.heartbeat
        if callable(client_value):
            value = client_value(self, server_value)
            if value is None or callable(value):
                raise TypeError('heartbeat callback must not return None or '
                                'callable, but got %r' % (value,))
            # type and range are checked by the parameters' heartbeat setter
            timeout: int = value
            return timeout
        if client_value is None:
            return server_value
        timeout = client_value
        return timeout

    def _on_connection_open_ok(
            self, method_frame: 'frame.Method[spec.Connection.OpenOk]') -> None:
        self.known_hosts = method_frame.method.known_hosts
        self._opened = True
        self._set_connection_state(self.CONNECTION_OPEN)
        LOGGER.info('Connection opened: %s', self)
        for callback in list(self._on_open_callbacks):
            callback(self)

    def _on_connection_close_from_broker(
            self, method_frame: 'frame.Method[spec.Connection.Close]') -> None:
        method = method_frame.method
        LOGGER.warning('Connection closed by broker (%s): %r',
                       method.reply_code, method.reply_text)
        self._send_method(0, spec.Connection.CloseOk())
        self._terminate_stream(
            exceptions.ConnectionClosedByBroker(method.reply_code,
                                                method.reply_text))

    def _on_connection_close_ok(
            self,
            method_frame: 'frame.Method[spec.Connection.CloseOk]') -> None:
        LOGGER.debug('Connection.CloseOk received: %r', method_frame)
        self._terminate_stream(None)

    def _on_connection_blocked(
            self, connection: 'Connection',
            method_frame: 'frame.Method[spec.Connection.Blocked]') -> None:
        """Handle ``Connection.Blocked``: start the blocked timeout. (As in
        pika, the user's blocked callbacks are called by the frame dispatch,
        not from here, so calling this hook directly only arms the timer.)

        :param connection: this connection (pika's signature)
        :param pika.frame.Method method_frame: the Blocked frame
        """
        LOGGER.warning('Received %r from broker', method_frame)
        timeout = self.params.blocked_connection_timeout
        if self._blocked_conn_timer is not None:
            LOGGER.warning('Blocked connection timer %r already running',
                           self._blocked_conn_timer)
        elif timeout is not None:
            self._blocked_conn_timer = self._adapter_call_later(
                timeout, self._on_blocked_connection_timeout)

    def _on_connection_unblocked(
            self, connection: 'Connection',
            method_frame: 'frame.Method[spec.Connection.Unblocked]') -> None:
        """Handle ``Connection.Unblocked``.

        :param connection: this connection (pika's signature)
        :param pika.frame.Method method_frame: the Unblocked frame
        """
        LOGGER.info('Received %r from broker', method_frame)
        if self._blocked_conn_timer is None:
            LOGGER.warning('Connection.Unblocked without a blocked '
                           'connection timer running')
        else:
            self._adapter_remove_timeout(self._blocked_conn_timer)
            self._blocked_conn_timer = None

    def _on_blocked_connection_timeout(self) -> None:
        self._blocked_conn_timer = None
        LOGGER.error('Blocked connection timeout expired')
        self._terminate_stream(
            exceptions.ConnectionBlockedTimeout(
                'Blocked connection timeout expired.'))

    def _on_update_secret_ok(
            self, method_frame: 'frame.Method[spec.Connection.UpdateSecretOk]'
    ) -> None:
        if self._on_update_secret_callbacks:
            callback = self._on_update_secret_callbacks.pop(0)
            callback(method_frame)

    # As in pika, the _on_connection_(un)blocked hooks are called (before
    # the user's callbacks) only when a blocked_connection_timeout is set:
    # they exist to run that timer.
    def _dispatch_blocked(
            self,
            method_frame: 'frame.Method[spec.Connection.Blocked]') -> None:
        if self.params.blocked_connection_timeout is not None:
            self._on_connection_blocked(self, method_frame)
        for callback in list(self._on_blocked_callbacks):
            callback(self, method_frame)

    def _dispatch_unblocked(
            self,
            method_frame: 'frame.Method[spec.Connection.Unblocked]') -> None:
        if self.params.blocked_connection_timeout is not None:
            self._on_connection_unblocked(self, method_frame)
        for callback in list(self._on_unblocked_callbacks):
            callback(self, method_frame)

    # ------------------------------------------------------------------
    # Sending

    def _emit_bytes(self, data: bytes, frame_count: int) -> None:
        """Hand already marshalled frames to the adapter.

        :param bytes data: the frames' bytes
        :param int frame_count: how many frames ``data`` holds
        """
        if self._frame_tracer is not None:
            self._frame_tracer.sending_bytes(data)
        self.bytes_sent += len(data)
        self.frames_sent += frame_count
        self._adapter_emit_data(data)

    def _send_frame(self, frame_value: frame.Frame) -> None:
        """Marshal and send one frame.

        :param pika.frame.Frame frame_value: the frame
        """
        if self.is_closed:
            raise exceptions.ConnectionWrongStateError(
                'Attempted to send a frame on closed connection.')
        self._emit_bytes(frame_value.marshal(), 1)

    def _send_method(self, channel_number: int,
                     method: amqp_object.Method) -> None:
        """Send a method frame.

        :param int channel_number: channel number
        :param pika.amqp_object.Method method: the method
        """
        self._send_frame(frame.Method(channel_number, method))

    def _send_message(self, channel_number: int, method: amqp_object.Method,
                      properties: spec.BasicProperties, body: bytes) -> None:
        """Send a content-bearing method in one transport write.

        :param int channel_number: channel number
        :param pika.amqp_object.Method method: e.g. ``Basic.Publish``
        :param pika.spec.BasicProperties properties: message properties
        :param bytes body: message body
        """
        if self._frame_tracer is not None:
            self._frame_tracer.sending_content(channel_number, method,
                                               properties, body)
        if self.connection_state == _CLOSED:
            raise exceptions.ConnectionWrongStateError(
                'Attempted to send a frame on closed connection.')
        pieces = _content_pieces(channel_number, method, properties, body,
                                 self.params.frame_max)
        body_max = self._body_max_length
        self.frames_sent += 2 + (len(body) + body_max - 1) // body_max
        if (len(body) > _VIEW_BODY_MIN and self._adapter_emits_views and
                body.__class__ is bytes):
            # Same bytes, handed over as frame heads and views of the body
            # (adapters with _adapter_emits_views take memoryviews too).
            grouped = _send.group_views(pieces, body)
            self.bytes_sent += sum(len(piece) for piece in grouped)
            emit: Callable[[Any], None] = self._adapter_emit_data
            for piece in grouped:
                emit(piece)
            return
        data = _join(pieces)
        self.bytes_sent += len(data)
        self._adapter_emit_data(data)

    # ------------------------------------------------------------------
    # Closing

    def _close_channels(self, reply_code: int, reply_text: str) -> None:
        for chan in list(self._channels.values()):
            if chan.is_open or chan.is_opening:
                chan.close(reply_code, reply_text)

    def _on_channel_cleanup(self, chan: Channel) -> None:
        """Called by a channel once it is closed for good.

        :param pika.channel.Channel chan: the channel
        """
        if self._channels.get(chan.channel_number) is chan:
            del self._channels[chan.channel_number]
        if self.is_closing:
            self._send_connection_close_if_ready()

    def _send_connection_close_if_ready(self) -> None:
        if not self.is_closing or self._channels:
            return
        error = self._error
        if isinstance(error, exceptions.ConnectionClosedByClient):
            if self._close_sent:
                return
            self._close_sent = True
            self._send_method(
                0,
                spec.Connection.Close(error.reply_code, error.reply_text, 0, 0))

    def _terminate_stream(self, error: Optional[BaseException]) -> None:
        """Drop the transport; ``error`` becomes the reported reason.

        :param Exception error: the reason, or None to keep the current one
        """
        if error is not None and (self._error is None or isinstance(
                self._error, exceptions.ConnectionClosedByClient)):
            self._error = error
        if self._error is None:
            self._error = exceptions.StreamLostError(
                'Stream terminated without a reason')
        self._stop_timers()
        if self.connection_state == self.CONNECTION_CLOSED:
            return
        if self._terminating:
            return
        self._terminating = True
        if self.connection_state == self.CONNECTION_OPEN:
            self._set_connection_state(self.CONNECTION_CLOSING)
        self._adapter_disconnect_stream()

    def _prepare_reconnect(self, parameters: Parameters) -> None:
        """Automatic recovery (:mod:`pika._recovery_async`) reuses this
        connection object for a new AMQP session: forget the last session's
        state and take ``parameters`` (the next host of the sequence). The
        callbacks and channels are left to the caller.

        :param pika.connection.Parameters parameters: where to connect
        """
        ssl_options = parameters.ssl_options
        memo: Dict[int, Any] = {}
        if ssl_options is not None:
            memo[id(ssl_options)] = ssl_options
        self.params = copy.deepcopy(parameters, memo)
        self._stop_timers()
        self._error = None
        self._opened = False
        self._terminating = False
        self._close_sent = False
        self._reader = _receive.FrameReader()
        self._body_max_length = self.params.frame_max - 8
        self.server_properties = None
        self.server_capabilities = {}
        self._set_connection_state(self.CONNECTION_INIT)

    def _stop_timers(self) -> None:
        if self._heartbeat_checker is not None:
            self._heartbeat_checker.stop()
            self._heartbeat_checker = None
        if self._blocked_conn_timer is not None:
            self._adapter_remove_timeout(self._blocked_conn_timer)
            self._blocked_conn_timer = None

    def _default_on_connection_error(self, _connection: 'Connection',
                                     error: BaseException) -> None:
        """Raise the error when the user gave no on_open_error_callback."""
        LOGGER.error('Connection setup failed due to %r', error)
        raise error

    # ------------------------------------------------------------------
    # Helpers

    _STATE_NAMES = _STATE_NAMES
    # (state, method INDEX) -> handler name: the transition table's triggers
    _CONNECTION_METHOD_HANDLERS = _state.METHOD_HANDLERS

    def _create_channel(self, channel_number: int,
                        on_open_callback: Optional[OnChannelOpen]) -> Channel:
        """Make the channel object for :meth:`channel` (pika's hook: a
        subclass may return a ``Channel`` subclass).

        :param int channel_number: the channel number
        :param callable on_open_callback: called with the channel once open
        :rtype: pika.channel.Channel
        """
        LOGGER.debug('Creating channel %s', channel_number)
        return Channel(self, channel_number, on_open_callback)

    def _set_connection_state(self, state: int) -> None:
        self._frame_tracer = _trace.connection_state_changed(
            self, self.connection_state, state, self._frame_tracer)
        self.connection_state = state

    def _has_capability(self, name: str) -> bool:
        return bool(self.server_capabilities.get(name, False))

    def _next_channel_number(self) -> int:
        limit = self.params.channel_max or MAX_CHANNELS
        if len(self._channels) >= limit:
            raise exceptions.NoFreeChannels()
        for number in range(1, limit + 1):
            if number not in self._channels:
                return number
        raise exceptions.NoFreeChannels()


# The base class's _process_frame: _dispatch_frames takes its fast path
# (whole deliveries to the channel in one call) only when it is not overridden.
_BASE_PROCESS_FRAME = Connection._process_frame

if TYPE_CHECKING:

    def _satisfies_seams(conn: Connection) -> None:
        """mypy: a Connection is what its adapter, channels and heartbeat
        checker are typed against."""
        hooks: AdapterHooks = conn
        for_channel: ChannelConnection = conn
        for_heartbeat: HeartbeatConnection = conn
        del hooks, for_channel, for_heartbeat
