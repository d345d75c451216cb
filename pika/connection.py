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
from typing import Any, Callable, Dict, List, Optional
# pika 1.4 has these URL helpers in this module's namespace.
from urllib.parse import parse_qs as url_parse_qs  # noqa: F401
from urllib.parse import unquote as url_unquote  # noqa: F401
from urllib.parse import urlparse  # noqa: F401

from pika import _connection_handshake as _handshake
from pika import _state
from pika import _connection_receive as _receive
from pika import _connection_send as _send
from pika import exceptions, frame, spec
from pika.channel import Channel, MAX_CHANNELS
from pika.compat import AbstractBase
from pika.heartbeat import HeartbeatChecker
# Re-exported: pika defines its parameter classes in this module.
from pika.parameters import (  # noqa: F401
    ConnectionParameters, Parameters, SSLOptions, URLParameters)
from pika.validators import require_callback
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import validators  # noqa: F401

PRODUCT = _handshake.PRODUCT

LOGGER = logging.getLogger(__name__)

_PROTOCOL_HEADER_BYTES = frame.ProtocolHeader().marshal()

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

    def __init__(self,
                 parameters: Optional[Parameters] = None,
                 on_open_callback: Optional[Callable[..., Any]] = None,
                 on_open_error_callback: Optional[Callable[..., Any]] = None,
                 on_close_callback: Optional[Callable[..., Any]] = None,
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
        self._on_update_secret_callbacks: List[Callable[..., Any]] = []

        self._channels: Dict[int, Channel] = {}
        self._heartbeat_checker: Optional[HeartbeatChecker] = None
        self._blocked_conn_timer: Optional[Any] = None
        self._error: Optional[BaseException] = None
        self._opened = False
        self._terminating = False
        self._close_sent = False
        # Bytes of an incomplete frame, kept as chunks and joined once the
        # frame is complete (no quadratic copying of large frames read in
        # small pieces, e.g. 16 KiB TLS records).
        self._frame_buffer: List[bytes] = []
        self._buffered_bytes = 0
        self._bytes_needed = 0
        # A large body frame arriving over several reads: views of its
        # payload in the received chunks (None when there is none), its
        # channel, payload size, and how many payload bytes are still to
        # come (0: only the frame-end octet is missing).
        self._body_pieces: Optional[List[memoryview]] = None
        self._body_channel = 0
        self._body_size = 0
        self._body_missing = 0
        # Before Tune no frame may be larger than the largest frame_max
        # that can be negotiated (a garbage size must not make us buffer).
        self._frame_max_in: Optional[int] = spec.FRAME_MAX_SIZE

        self.server_properties: Optional[Dict[str, Any]] = None
        self.server_capabilities: Dict[str, Any] = {}
        self.known_hosts: Optional[str] = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.frames_sent = 0
        self.frames_received = 0
        self._body_max_length = self.params.frame_max - 8

        self.connection_state = self.CONNECTION_INIT

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

    def add_on_close_callback(self, callback: Callable[..., Any]) -> None:
        """Add a callback notified when the connection has closed.

        :param callable callback: ``callback(connection, exception)``; the
            exception is a :class:`pika.exceptions.ConnectionClosed`
            subclass or another :class:`pika.exceptions.AMQPConnectionError`
        """
        require_callback(callback)
        self._on_close_callbacks.append(callback)

    def add_on_connection_blocked_callback(
            self, callback: Callable[..., Any]) -> None:
        """Add a callback for ``Connection.Blocked`` from the broker.

        :param callable callback: ``callback(connection, method_frame)`` where
            ``method_frame.method`` is ``spec.Connection.Blocked``
        """
        require_callback(callback)
        self._on_blocked_callbacks.append(callback)

    def add_on_connection_unblocked_callback(
            self, callback: Callable[..., Any]) -> None:
        """Add a callback for ``Connection.Unblocked`` from the broker.

        :param callable callback: ``callback(connection, method_frame)`` where
            ``method_frame.method`` is ``spec.Connection.Unblocked``
        """
        require_callback(callback)
        self._on_unblocked_callbacks.append(callback)

    def add_on_open_callback(self, callback: Callable[..., Any]) -> None:
        """Add a callback notified when the connection has opened.

        :param callable callback: ``callback(connection)``
        """
        require_callback(callback)
        self._on_open_callbacks.append(callback)

    def add_on_open_error_callback(self,
                                   callback: Callable[..., Any],
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

    def channel(
            self,
            channel_number: Optional[int] = None,
            on_open_callback: Optional[Callable[..., Any]] = None) -> Channel:
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
        """True when the connection is closed.

        :rtype: bool
        """
        return self.connection_state == self.CONNECTION_CLOSED

    @property
    def is_closing(self) -> bool:
        """True while the connection is closing.

        :rtype: bool
        """
        return self.connection_state == self.CONNECTION_CLOSING

    @property
    def is_open(self) -> bool:
        """True when the connection is open.

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

    def update_secret(self,
                      new_secret: str,
                      reason: str,
                      callback: Optional[Callable[..., Any]] = None) -> None:
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

    # Receiving: pika/_connection_receive.py
    _on_data_available = _receive.on_data_available
    _on_malformed_data = _receive.on_malformed_data
    _dispatch_frames = _receive.dispatch_frames
    _on_dispatch_error = _receive.on_dispatch_error
    _keep_partial_frame = _receive.keep_partial_frame
    _continue_body = _receive.continue_body
    _dispatch_body = _receive.dispatch_body
    _discard_buffer = _receive.discard_buffer

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

    _process_frame = _receive.process_frame
    _on_frame_for_unknown_channel = _receive.on_frame_for_unknown_channel

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
    def _on_connection_start(self, method_frame: Any) -> None:
        """Answer ``Connection.Start`` with ``StartOk``.

        :param pika.frame.Method method_frame: the Start frame
        """
        _handshake.on_connection_start(self, method_frame)

    def _on_connection_tune(self, method_frame: Any) -> None:
        """Negotiate limits, answer ``TuneOk`` then ``Open``.

        :param pika.frame.Method method_frame: the Tune frame
        """
        _handshake.on_connection_tune(self, method_frame)

    def _on_connection_open_ok(self, method_frame: Any) -> None:
        self.known_hosts = method_frame.method.known_hosts
        self._opened = True
        self._set_connection_state(self.CONNECTION_OPEN)
        LOGGER.info('Connection opened: %s', self)
        for callback in list(self._on_open_callbacks):
            callback(self)

    def _on_connection_close_from_broker(self, method_frame: Any) -> None:
        method = method_frame.method
        LOGGER.warning('Connection closed by broker (%s): %r',
                       method.reply_code, method.reply_text)
        self._send_method(0, spec.Connection.CloseOk())
        self._terminate_stream(
            exceptions.ConnectionClosedByBroker(method.reply_code,
                                                method.reply_text))

    def _on_connection_close_ok(self, method_frame: Any) -> None:
        LOGGER.debug('Connection.CloseOk received: %r', method_frame)
        self._terminate_stream(None)

    def _on_connection_blocked(self, connection: Any,
                               method_frame: Any) -> None:
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

    def _on_connection_unblocked(self, connection: Any,
                                 method_frame: Any) -> None:
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

    def _on_update_secret_ok(self, method_frame: Any) -> None:
        if self._on_update_secret_callbacks:
            callback = self._on_update_secret_callbacks.pop(0)
            callback(method_frame)

    # As in pika, the _on_connection_(un)blocked hooks are called (before
    # the user's callbacks) only when a blocked_connection_timeout is set:
    # they exist to run that timer.
    def _dispatch_blocked(self, method_frame: Any) -> None:
        if self.params.blocked_connection_timeout is not None:
            self._on_connection_blocked(self, method_frame)
        for callback in list(self._on_blocked_callbacks):
            callback(self, method_frame)

    def _dispatch_unblocked(self, method_frame: Any) -> None:
        if self.params.blocked_connection_timeout is not None:
            self._on_connection_unblocked(self, method_frame)
        for callback in list(self._on_unblocked_callbacks):
            callback(self, method_frame)

    # ------------------------------------------------------------------
    # Sending

    # pika/_connection_send.py
    _emit_bytes = _send.emit_bytes
    _send_frame = _send.send_frame
    _send_method = _send.send_method
    _send_message = _send.send_message
    _send_message_views = _send.send_message_views

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

    def _stop_timers(self) -> None:
        if self._heartbeat_checker is not None:
            self._heartbeat_checker.stop()
            self._heartbeat_checker = None
        if self._blocked_conn_timer is not None:
            self._adapter_remove_timeout(self._blocked_conn_timer)
            self._blocked_conn_timer = None

    def _default_on_connection_error(self, _connection: Any,
                                     error: BaseException) -> None:
        """Raise the error when the user gave no on_open_error_callback."""
        LOGGER.error('Connection setup failed due to %r', error)
        raise error

    # ------------------------------------------------------------------
    # Helpers

    _STATE_NAMES = _STATE_NAMES
    # (state, method INDEX) -> handler name: the transition table's triggers
    _CONNECTION_METHOD_HANDLERS = _state.METHOD_HANDLERS

    def _create_channel(
            self, channel_number: int,
            on_open_callback: Optional[Callable[..., Any]]) -> Channel:
        """Make the channel object for :meth:`channel` (pika's hook: a
        subclass may return a ``Channel`` subclass).

        :param int channel_number: the channel number
        :param callable on_open_callback: called with the channel once open
        :rtype: pika.channel.Channel
        """
        LOGGER.debug('Creating channel %s', channel_number)
        return Channel(self, channel_number, on_open_callback)

    def _set_connection_state(self, state: int) -> None:
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


# The bodies bound from the receive and send modules report themselves as
# Connection methods (tracebacks, reprs), as they were written there.
for _name, _value in list(vars(Connection).items()):
    if getattr(_value, '__module__',
               None) in (_receive.__name__, _send.__name__):
        _value.__qualname__ = 'Connection.' + _name
del _name, _value
