"""Socket connect and stream transports over readiness-based I/O services.

The mixins here implement ``connect_socket`` and
``create_streaming_connection`` of
:class:`~pika.adapters.utils.nbio_interface.AbstractIOServices` for any class
that also implements
:class:`~pika.adapters.utils.nbio_interface.AbstractFileDescriptorServices`
(``set_reader``/``set_writer``...) and ``call_later``.

Transports read in large chunks (looping over ``recv`` until the socket is
drained or a per-event budget is spent) and coalesce writes: ``write()`` only
appends to a buffer list, and the buffer is sent once per loop turn from a
"soon" callback (the I/O services' ``call_soon``; ``call_later(0, ...)``
for services that lack it); what the kernel does not take is sent when the
socket becomes writable. Plain sockets send several buffers with one
``sendmsg``; TLS sockets send them joined.
"""

import errno
import functools
import logging
import numbers
import os
import socket
import ssl
from typing import Any, Callable, List, Optional

from pika.adapters.utils import nbio_interface
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.adapters.utils.nbio_interface import (  # noqa: F401
    AbstractIOReference, AbstractStreamTransport)

LOGGER = logging.getLogger(__name__)

# Bytes asked of each recv(); larger reads mean fewer syscalls and fewer
# engine calls under load.
_RECV_SIZE = 128 * 1024
# Upper bound of bytes read per readiness event, so one busy stream cannot
# starve the others sharing the loop, and so a loop that runs consumer
# callbacks after the read (BlockingConnection) holds about one large body at
# a time: freeing several megabytes of bodies at once makes the C allocator
# hand the memory back to the kernel and fault it in again for the next ones
# (1 MiB consume: ~160 page faults per message with 4 MiB, ~3 with 512 KiB;
# client CPU -20%).
_MAX_READ_PER_EVENT = 512 * 1024
# Buffers handed to one sendmsg() (IOV_MAX is 1024 on Linux).
_MAX_IOV = 512
# Bytes of a TLS write joined per send() call.
_MAX_TLS_WRITE = 256 * 1024

_TRY_AGAIN_ERRNOS = frozenset(
    (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.EINPROGRESS))


def check_callback_arg(callback: Any, name: str) -> None:
    """Raise TypeError unless ``callback`` is callable.

    :param callback: value to check.
    :param str name: argument name used in the error message.
    :raises TypeError: if ``callback`` is not callable.
    """
    if not callable(callback):
        raise TypeError('{} must be callable, but got {!r}'.format(
            name, callback))


def check_fd_arg(fd: Any) -> None:
    """Raise TypeError unless ``fd`` is a file descriptor number.

    :param fd: value to check.
    :raises TypeError: if ``fd`` is not an integer.
    """
    if not isinstance(fd, numbers.Integral) or isinstance(fd, bool):
        raise TypeError(
            'Parameter must be a file descriptor, but got {!r}'.format(fd))


def _call_soon_fn(nbio: Any) -> Callable[[Callable[[], Any]], Any]:
    """Return a function scheduling a callback on the next loop turn: the
    services' :meth:`~nbio_interface.AbstractIOServices.call_soon`, or a
    zero-delay timer for duck-typed services that have no ``call_soon``.
    """
    call_soon: Optional[Callable[[Callable[[], Any]],
                                 Any]] = getattr(nbio, 'call_soon', None)
    if call_soon is not None:
        return call_soon
    return lambda callback: nbio.call_later(0, callback)


class _IOReference(nbio_interface.AbstractIOReference):
    """Reference whose cancel() forwards to a bound method."""

    __slots__ = ('_cancel',)

    def __init__(self, cancel: Callable[[], bool]) -> None:
        self._cancel = cancel

    def cancel(self) -> bool:
        """Cancel the referenced operation.

        :returns: False if it already completed or was cancelled.
        :rtype: bool
        """
        return self._cancel()


class SocketConnectionMixin:
    """Implements ``connect_socket`` over fd services and ``call_later``."""

    def connect_socket(self, sock: socket.socket, resolved_addr: Any,
                       on_done: Callable[[Any], Any]) -> _IOReference:
        """Connect the non-blocking socket ``sock`` to ``resolved_addr``.

        :param socket.socket sock: non-blocking socket.
        :param resolved_addr: address from ``getaddrinfo``'s result.
        :param callable on_done: called with None on success or the
            exception on failure; never before this method returns.
        :returns: reference whose ``cancel()`` returns True while the attempt
            is pending (``connect()`` is only called on the next loop turn,
            so a reference cancelled at once leaves the socket unconnected)
            and False once ``on_done`` was called or after a cancel.
        :rtype: nbio_interface.AbstractIOReference
        """
        return _AsyncSocketConnector(self, sock, resolved_addr, on_done).start()


class StreamingConnectionMixin:
    """Implements ``create_streaming_connection`` over fd services."""

    def create_streaming_connection(
            self,
            protocol_factory: Callable[[],
                                       nbio_interface.AbstractStreamProtocol],
            sock: socket.socket,
            on_done: Callable[[Any], Any],
            ssl_context: Optional[ssl.SSLContext] = None,
            server_hostname: Optional[str] = None) -> _IOReference:
        """Make a (TLS) stream transport over the connected socket ``sock``.

        :param callable protocol_factory: returns the stream protocol.
        :param socket.socket sock: connected non-blocking socket; owned by
            the transport from now on.
        :param callable on_done: called with ``(transport, protocol)`` on
            success or the exception on failure.
        :param ssl.SSLContext ssl_context: TLS context, or None.
        :param str server_hostname: SNI / certificate host name.
        :returns: reference whose ``cancel()`` aborts the set-up.
        :rtype: nbio_interface.AbstractIOReference
        :raises ValueError: if ``sock`` is not connected (as pika: message
            with ``getpeername() failed``); the socket is then closed.
        """
        check_callback_arg(protocol_factory, 'protocol_factory')
        check_callback_arg(on_done, 'on_done')
        if not isinstance(sock, socket.socket):
            raise TypeError(
                'sock must be a socket.socket, but got {!r}'.format(sock))
        if ssl_context is not None and not isinstance(ssl_context,
                                                      ssl.SSLContext):
            raise TypeError(
                'ssl_context must be None or ssl.SSLContext, but got {!r}'.
                format(ssl_context))
        if server_hostname is not None:
            if not isinstance(server_hostname, str):
                raise TypeError(
                    'server_hostname must be a str, but got {!r}'.format(
                        server_hostname))
            if ssl_context is None:
                raise ValueError(
                    'server_hostname is only allowed with ssl_context')
        try:
            # An unconnected socket would never become readable or writable:
            # refuse it now rather than stall.
            sock.getpeername()
        except OSError as error:
            message = ('Expected connected socket, but getpeername() failed: '
                       'error={!r}; {}; '.format(error, sock))
            # The socket was handed over to us: close it, as on any failure.
            sock.close()
            raise ValueError(message) from error
        return _AsyncStreamConnector(self, protocol_factory, sock, ssl_context,
                                     server_hostname, on_done,
                                     self._transport_call_soon()).start()

    def _transport_call_soon(self) -> Callable[[Callable[[], Any]], Any]:
        """What this mixin's transports schedule their once-per-turn write
        flush with: the services' ``call_soon``. Services whose loop has a
        ``call_soon`` of its own return that, so a write costs no extra call.
        """
        return self.call_soon  # type: ignore[attr-defined,no-any-return]


class _AsyncConnectorBase:
    """One asynchronous set-up operation: reports once through ``on_done``
    unless ``cancel()`` aborts it first.
    """

    _STATE_INIT, _STATE_BUSY, _STATE_DONE, _STATE_CANCELED = range(4)

    def __init__(self, nbio: Any, on_done: Callable[[Any], Any]) -> None:
        self._nbio = nbio
        self._on_done = on_done
        self._state = self._STATE_INIT
        self._timer: Any = None

    def cancel(self) -> bool:
        """Abort the operation.

        :returns: False if already done or cancelled.
        :rtype: bool
        """
        if self._state != self._STATE_BUSY:
            return False
        self._state = self._STATE_CANCELED
        self._cleanup()
        return True

    def _finish(self, result: Any) -> None:
        """Release what the operation holds, then report ``result``."""
        self._state = self._STATE_DONE
        self._cleanup()
        self._on_done(result)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _cleanup(self) -> None:
        raise NotImplementedError


class _AsyncSocketConnector(_AsyncConnectorBase):
    """Connects a non-blocking socket, reporting through ``on_done``; a
    cancelled attempt leaves the socket to its owner.
    """

    def __init__(self, nbio: Any, sock: socket.socket, resolved_addr: Any,
                 on_done: Callable[[Any], Any]) -> None:
        check_callback_arg(on_done, 'on_done')
        if not isinstance(sock, socket.socket):
            raise TypeError(
                'sock must be a socket.socket, but got {!r}'.format(sock))
        super().__init__(nbio, on_done)
        self._sock = sock
        self._addr = resolved_addr
        self._watching = False

    def start(self) -> _IOReference:
        """Begin connecting on the next loop turn (so that a reference
        cancelled at once leaves the socket untouched).

        :rtype: _IOReference
        """
        self._state = self._STATE_BUSY
        self._timer = self._nbio.call_later(0, self._begin)
        return _IOReference(self.cancel)

    def _begin(self) -> None:
        self._timer = None
        if self._state != self._STATE_BUSY:
            return
        try:
            self._sock.connect(self._addr)
        except (BlockingIOError, InterruptedError):
            self._nbio.set_writer(self._sock.fileno(), self._on_writable)
            self._watching = True
        except OSError as error:
            if error.errno in _TRY_AGAIN_ERRNOS:
                self._nbio.set_writer(self._sock.fileno(), self._on_writable)
                self._watching = True
            else:
                self._report(error)
        else:
            self._report(None)

    def _cleanup(self) -> None:
        if self._watching:
            self._watching = False
            self._nbio.remove_writer(self._sock.fileno())
        self._cancel_timer()

    def _on_writable(self) -> None:
        if self._state != self._STATE_BUSY:
            return
        code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code in (errno.EINPROGRESS, errno.EALREADY, errno.EINTR):
            return
        self._report(OSError(code, os.strerror(code)) if code else None)

    def _report(self, error: Optional[BaseException]) -> None:
        if self._state == self._STATE_BUSY:
            self._finish(error)


class _AsyncStreamConnector(_AsyncConnectorBase):
    """Performs the optional TLS handshake, then links transport and
    protocol; failure or ``cancel()`` closes the socket.
    """

    def __init__(
            self,
            nbio: Any,
            protocol_factory: Callable[[], Any],
            sock: socket.socket,
            ssl_context: Optional[ssl.SSLContext],
            server_hostname: Optional[str],
            on_done: Callable[[Any], Any],
            call_soon: Optional[Callable[[Callable[[], Any]],
                                         Any]] = None) -> None:
        super().__init__(nbio, on_done)
        self._protocol_factory = protocol_factory
        self._sock: Any = sock
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        # Handed to the transport (None: it asks nbio itself).
        self._flush_scheduler = call_soon
        self._fd = sock.fileno()
        self._reading = False
        self._writing = False

    def start(self) -> _IOReference:
        """Begin the set-up on the next loop turn.

        :rtype: _IOReference
        """
        self._state = self._STATE_BUSY
        self._timer = self._nbio.call_later(0, self._begin)
        return _IOReference(self.cancel)

    def _cleanup(self) -> None:
        self._cancel_timer()
        self._watch(False, False)
        try:
            self._sock.close()
        except OSError:
            pass

    def _watch(self, read: bool, write: bool) -> None:
        if read != self._reading:
            self._reading = read
            if read:
                self._nbio.set_reader(self._fd, self._do_handshake)
            else:
                self._nbio.remove_reader(self._fd)
        if write != self._writing:
            self._writing = write
            if write:
                self._nbio.set_writer(self._fd, self._do_handshake)
            else:
                self._nbio.remove_writer(self._fd)

    def _begin(self) -> None:
        self._timer = None
        if self._state != self._STATE_BUSY:
            return
        if self._ssl_context is None:
            self._linkup()
            return
        try:
            self._sock = self._ssl_context.wrap_socket(
                self._sock,
                server_side=False,
                do_handshake_on_connect=False,
                suppress_ragged_eofs=False,
                server_hostname=self._server_hostname)
        except Exception as error:  # noqa: BLE001 - reported to on_done
            self._finish(error)
            return
        self._do_handshake()

    def _do_handshake(self) -> None:
        if self._state != self._STATE_BUSY:
            return
        try:
            self._sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(True, False)
        except ssl.SSLWantWriteError:
            self._watch(False, True)
        except Exception as error:  # noqa: BLE001 - reported to on_done
            LOGGER.error('TLS handshake with %r failed: %r',
                         self._server_hostname, error)
            self._finish(error)
        else:
            self._watch(False, False)
            if LOGGER.isEnabledFor(logging.DEBUG):
                LOGGER.debug('TLS handshake with %r done: %s, cipher %s',
                             self._server_hostname, self._sock.version(),
                             (self._sock.cipher() or ('?',))[0])
            self._linkup()

    def _linkup(self) -> None:
        transport: Optional[_TransportBase] = None
        try:
            protocol = self._protocol_factory()
            if self._ssl_context is None:
                transport = _AsyncPlaintextTransport(self._sock, protocol,
                                                     self._nbio,
                                                     self._flush_scheduler)
            else:
                transport = _AsyncSSLTransport(self._sock, protocol, self._nbio,
                                               self._flush_scheduler)
            protocol.connection_made(transport)
        except Exception as error:  # noqa: BLE001 - reported to on_done
            LOGGER.exception('Stream protocol linkup failed: %r', error)
            if transport is not None:
                transport._detach()
            self._finish(error)
            return
        self._state = self._STATE_DONE
        transport._start_reading()
        self._on_done((transport, protocol))


class _TransportBase(nbio_interface.AbstractStreamTransport):
    """Stream transport over a non-blocking socket and fd services."""

    def __init__(
            self,
            sock: Any,
            protocol: Any,
            nbio: Any,
            call_soon: Optional[Callable[[Callable[[], Any]],
                                         Any]] = None) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._nbio = nbio
        self._call_soon = (_call_soon_fn(nbio)
                           if call_soon is None else call_soon)
        self._tx_buffers: List[Any] = []
        self._tx_size = 0
        # True while a flush is scheduled or the writer callback is set:
        # write() then only appends.
        self._send_busy = False
        self._writer_set = False
        self._reader_set = False
        self._closed = False
        # Receiving is driven by this bound method; kept for re-arming.
        self._on_readable_cb = self._on_readable

    # -- AbstractStreamTransport -------------------------------------------

    def abort(self) -> None:
        """Close the stream now (a last non-blocking attempt is made to send
        what is buffered); ``connection_lost(None)`` follows asynchronously.
        """
        if self._closed:
            return
        if self._tx_buffers:
            try:
                self._send_pending()
            except Exception:  # noqa: BLE001 - best effort before close
                pass
        self._detach()
        self._call_soon(self._notify_aborted)

    def get_protocol(self) -> Any:
        """Return the linked protocol.

        :rtype: nbio_interface.AbstractStreamProtocol
        """
        return self._protocol

    def write(self, data: bytes) -> None:
        """Queue ``data``; it is sent on the next loop turn.

        :param bytes data: bytes to send.
        """
        if self._closed:
            LOGGER.debug('%r: write() on a closed transport ignored', self)
            return
        if not data:
            return
        self._tx_buffers.append(data)
        self._tx_size += len(data)
        if not self._send_busy:
            self._send_busy = True
            self._call_soon(self._flush)

    def get_write_buffer_size(self) -> int:
        """Return the number of buffered bytes not yet sent.

        :rtype: int
        """
        return self._tx_size

    # -- internals ---------------------------------------------------------

    def _start_reading(self) -> None:
        if not self._closed and not self._reader_set:
            self._reader_set = True
            self._nbio.set_reader(self._fd, self._on_readable_cb)

    def _detach(self) -> None:
        """Stop watching and close the socket; drop buffered data."""
        self._closed = True
        if self._reader_set:
            self._reader_set = False
            self._nbio.remove_reader(self._fd)
        if self._writer_set:
            self._writer_set = False
            self._nbio.remove_writer(self._fd)
        self._tx_buffers = []
        self._tx_size = 0
        try:
            self._sock.close()
        except OSError:
            pass

    def _notify_aborted(self) -> None:
        self._protocol.connection_lost(None)

    def _fail(self, error: BaseException) -> None:
        if self._closed:
            return
        LOGGER.error('%r: stream lost: %r', self, error)
        self._detach()
        self._protocol.connection_lost(error)

    def _on_protocol_error(self, error: Exception) -> None:
        """The protocol raised ``error`` from ``data_received`` or
        ``eof_received``: close the stream (else the same readiness event
        would call it again on every loop turn) and report ``error`` to
        ``connection_lost`` once, on the next loop turn.
        """
        LOGGER.exception('%r: stream protocol raised %r; aborting the stream',
                         self, error)
        if self._closed:
            return
        self._detach()
        self._call_soon(functools.partial(self._protocol.connection_lost,
                                          error))

    def _on_eof(self) -> None:
        LOGGER.info('%r: peer closed the stream (EOF)', self)
        try:
            keep_open = self._protocol.eof_received()
        except Exception as error:  # noqa: BLE001 - goes to connection_lost
            self._on_protocol_error(error)
            return
        if self._closed:
            return
        if keep_open:
            # Half-open: nothing more to read, but writing goes on until the
            # protocol aborts or a send fails.
            if self._reader_set:
                self._reader_set = False
                self._nbio.remove_reader(self._fd)
            return
        self._detach()
        self._call_soon(self._notify_aborted)

    def _flush(self) -> None:
        if self._closed or self._writer_set:
            return
        try:
            self._send_pending()
        except Exception as error:  # noqa: BLE001 - goes to connection_lost
            self._fail(error)
            return
        if self._closed:
            return
        if self._tx_buffers:
            self._writer_set = True
            self._nbio.set_writer(self._fd, self._on_writable)
        else:
            self._send_busy = False

    def _on_writable(self) -> None:
        if self._closed:
            return
        try:
            self._send_pending()
        except Exception as error:  # noqa: BLE001 - goes to connection_lost
            self._fail(error)
            return
        if not self._tx_buffers and self._writer_set and not self._closed:
            self._writer_set = False
            self._send_busy = False
            self._nbio.remove_writer(self._fd)

    def _consume_sent(self, sent: int) -> None:
        """Drop ``sent`` bytes from the front of the buffer list."""
        self._tx_size -= sent
        buffers = self._tx_buffers
        if self._tx_size == 0:
            buffers.clear()
            return
        index = 0
        while sent:
            size = len(buffers[index])
            if sent >= size:
                sent -= size
                index += 1
            else:
                buffers[index] = memoryview(buffers[index])[sent:]
                sent = 0
        if index:
            del buffers[:index]

    def _send_pending(self) -> None:
        raise NotImplementedError

    def _on_readable(self) -> None:
        raise NotImplementedError


class _AsyncPlaintextTransport(_TransportBase):
    """Transport over a plain TCP socket."""

    def _send_pending(self) -> None:
        sock = self._sock
        buffers = self._tx_buffers
        while buffers:
            try:
                if len(buffers) == 1:
                    sent = sock.send(buffers[0])
                    if sent == self._tx_size:
                        # The common case: all of one queued write went.
                        buffers.clear()
                        self._tx_size = 0
                        return
                else:
                    sent = sock.sendmsg(buffers[:_MAX_IOV])
            except (BlockingIOError, InterruptedError):
                return
            self._consume_sent(sent)

    def _on_readable(self) -> None:
        sock = self._sock
        protocol = self._protocol
        total = 0
        while True:
            try:
                data = sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._fail(error)
                return
            if not data:
                self._on_eof()
                return
            try:
                protocol.data_received(data)
            except Exception as error:  # noqa: BLE001 - see _on_protocol_error
                self._on_protocol_error(error)
                return
            if self._closed:
                return
            size = len(data)
            total += size
            if size < _RECV_SIZE or total >= _MAX_READ_PER_EVENT:
                return


class _AsyncSSLTransport(_TransportBase):
    """Transport over an :class:`ssl.SSLSocket` (handshake done)."""

    def __init__(
            self,
            sock: Any,
            protocol: Any,
            nbio: Any,
            call_soon: Optional[Callable[[Callable[[], Any]],
                                         Any]] = None) -> None:
        super().__init__(sock, protocol, nbio, call_soon)
        # A TLS write may need the socket readable (renegotiation / key
        # update) and a read may need it writable.
        self._write_wants_read = False
        self._read_wants_write = False

    def _send_pending(self) -> None:
        sock = self._sock
        buffers = self._tx_buffers
        while buffers:
            data = buffers[0]
            if len(buffers) > 1 and len(data) < _MAX_TLS_WRITE:
                # Coalesce small pieces into one TLS write (never re-copying
                # a large remainder).
                total = count = 0
                for piece in buffers:
                    if count and total + len(piece) > _MAX_TLS_WRITE:
                        break
                    total += len(piece)
                    count += 1
                if count > 1:
                    data = b''.join(buffers[:count])
                    buffers[:count] = [data]
            if len(data) > _MAX_TLS_WRITE:
                data = memoryview(data)[:_MAX_TLS_WRITE]
            try:
                sent = sock.send(data)
            except ssl.SSLWantWriteError:
                return
            except ssl.SSLWantReadError:
                self._write_wants_read = True
                return
            except (BlockingIOError, InterruptedError):
                return
            self._write_wants_read = False
            self._consume_sent(sent)

    def _on_writable(self) -> None:
        if self._read_wants_write:
            self._read_wants_write = False
            self._on_readable()
            if self._closed:
                return
        super()._on_writable()

    def _on_readable(self) -> None:
        if self._write_wants_read:
            self._write_wants_read = False
            self._on_writable()
            if self._closed:
                return
        sock = self._sock
        protocol = self._protocol
        total = 0
        while True:
            try:
                data = sock.recv(_RECV_SIZE)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLWantWriteError:
                self._read_wants_write = True
                if not self._writer_set:
                    self._writer_set = True
                    self._nbio.set_writer(self._fd, self._on_writable)
                return
            except (BlockingIOError, InterruptedError):
                return
            except (OSError, ssl.SSLError) as error:
                if isinstance(error, ssl.SSLEOFError):
                    self._on_eof()
                else:
                    self._fail(error)
                return
            if not data:
                self._on_eof()
                return
            try:
                protocol.data_received(data)
            except Exception as error:  # noqa: BLE001 - see _on_protocol_error
                self._on_protocol_error(error)
                return
            if self._closed:
                return
            total += len(data)
            if total >= _MAX_READ_PER_EVENT:
                # Decrypted bytes may wait inside the TLS object without the
                # socket becoming readable again.
                if sock.pending():
                    self._call_soon(self._resume_reading)
                return

    def _resume_reading(self) -> None:
        if not self._closed:
            self._on_readable()
