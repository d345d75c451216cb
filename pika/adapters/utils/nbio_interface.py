"""Non-blocking I/O services: the narrow interface every event loop implements.

Theory of operation
-------------------
The protocol engine (:class:`pika.connection.Connection`) never touches a
socket, a thread or a clock. :class:`pika.adapters.base_connection.
BaseConnection` drives it over an object implementing
:class:`AbstractIOServices` (timers, cross-thread callbacks, name resolution,
socket connect and stream set-up) and, for loops built on file-descriptor
readiness, :class:`AbstractFileDescriptorServices`. Adding an event loop means
implementing these few methods; everything above them is shared.

Asynchronous operations (``getaddrinfo``, ``connect_socket``,
``create_streaming_connection``) return an :class:`AbstractIOReference` whose
``cancel()`` aborts the operation; their ``on_done`` callback receives either
the result or an exception object (never both, and never after ``cancel()``).
A stream is a transport (:class:`AbstractStreamTransport`) linked to a protocol
(:class:`AbstractStreamProtocol`) in the style of asyncio.
"""

import abc
from typing import Any, Callable, Optional, Protocol

from pika.compat import AbstractBase


class AbstractIOServices(AbstractBase):
    """Interface to the I/O services of an event loop needed by pika's
    connection adapters.
    """

    @abc.abstractmethod
    def get_native_ioloop(self) -> Any:
        """Return the native I/O loop instance underlying this adapter."""
        raise NotImplementedError

    @abc.abstractmethod
    def close(self) -> None:
        """Release the resources held by the I/O loop (the loop must not be
        running); the instance is unusable afterwards.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def run(self) -> None:
        """Run the I/O loop until :meth:`stop` is called."""
        raise NotImplementedError

    @abc.abstractmethod
    def stop(self) -> None:
        """Request the I/O loop to stop after the current iteration; may be
        called from a callback or before :meth:`run`. Not thread-safe: from
        another thread use ``add_callback_threadsafe(nbio.stop)``.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Schedule ``callback`` on the next loop iteration; the only method
        that may be called from any thread.

        :param callable callback: called without arguments from the loop's
            thread.
        """
        raise NotImplementedError

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Schedule ``callback`` on the next loop iteration, from the loop's
        own thread only (the transports' once-per-turn write flush). The
        services of each of pika's loops implement it without the
        cross-thread wake-up; this default (for I/O services written against
        pika 1.4's interface) uses :meth:`add_callback_threadsafe`.

        :param callable callback: called without arguments.
        """
        self.add_callback_threadsafe(callback)

    def run_once(self) -> None:
        """Run one iteration of the I/O loop on the calling thread: dispatch
        the I/O events, callbacks and timers that are ready, waiting for
        them at most until the next timer is due (a loop that cannot wait
        for one iteration only returns at once). Must not be called while
        :meth:`run` runs.

        :raises NotImplementedError: if the services cannot do it (this
            default, for I/O services written against pika 1.4's
            interface).
        """
        raise NotImplementedError('{} does not implement run_once()'.format(
            type(self).__name__))

    @abc.abstractmethod
    def call_later(self, delay: float,
                   callback: Callable[[], Any]) -> 'AbstractTimerReference':
        """Call ``callback`` once, ``delay`` seconds from now.

        :param float delay: non-negative delay in seconds.
        :param callable callback: called without arguments.
        :returns: a handle whose ``cancel()`` prevents the call.
        :rtype: AbstractTimerReference
        """
        raise NotImplementedError

    @abc.abstractmethod
    def getaddrinfo(self,
                    host: Any,
                    port: Any,
                    on_done: Callable[[Any], Any],
                    family: int = 0,
                    socktype: int = 0,
                    proto: int = 0,
                    flags: int = 0) -> 'AbstractIOReference':
        """Resolve ``host``/``port`` like :func:`socket.getaddrinfo` without
        blocking the loop.

        :param host: host name or address.
        :param port: port number or service name.
        :param callable on_done: called with the list of 5-tuples on success
            or the exception on failure.
        :param int family: see :func:`socket.getaddrinfo`.
        :param int socktype: see :func:`socket.getaddrinfo`.
        :param int proto: see :func:`socket.getaddrinfo`.
        :param int flags: see :func:`socket.getaddrinfo`.
        :returns: reference whose ``cancel()`` abandons the request.
        :rtype: AbstractIOReference
        """
        raise NotImplementedError

    @abc.abstractmethod
    def connect_socket(self, sock: Any, resolved_addr: Any,
                       on_done: Callable[[Any], Any]) -> 'AbstractIOReference':
        """Connect the non-blocking socket ``sock`` to ``resolved_addr``.

        :param socket.socket sock: non-blocking socket.
        :param resolved_addr: address from ``getaddrinfo``'s result.
        :param callable on_done: called with ``None`` on success or the
            exception on failure.
        :returns: reference whose ``cancel()`` aborts the connection attempt.
        :rtype: AbstractIOReference
        """
        raise NotImplementedError

    @abc.abstractmethod
    def create_streaming_connection(
            self,
            protocol_factory: Callable[[], 'AbstractStreamProtocol'],
            sock: Any,
            on_done: Callable[[Any], Any],
            ssl_context: Any = None,
            server_hostname: Optional[str] = None) -> 'AbstractIOReference':
        """Make a stream transport over the connected socket ``sock``
        (performing the TLS handshake when ``ssl_context`` is given) and link
        it to a protocol made by ``protocol_factory``.

        :param callable protocol_factory: returns an
            :class:`AbstractStreamProtocol`.
        :param socket.socket sock: connected non-blocking socket; owned by
            the transport from now on (closed on failure or cancel).
        :param callable on_done: called with ``(transport, protocol)`` on
            success or the exception on failure.
        :param ssl.SSLContext ssl_context: TLS context, or None for plain TCP.
        :param str server_hostname: host name for SNI and certificate
            matching; only with ``ssl_context``.
        :returns: reference whose ``cancel()`` aborts the set-up.
        :rtype: AbstractIOReference
        """
        raise NotImplementedError


class AbstractFileDescriptorServices(AbstractBase):
    """Interface to readiness-based file descriptor watching."""

    @abc.abstractmethod
    def set_reader(self, fd: int, on_readable: Callable[[], Any]) -> None:
        """Call ``on_readable()`` whenever ``fd`` is readable (replacing any
        previous reader callback of ``fd``).

        :param int fd: file descriptor.
        :param callable on_readable: called without arguments.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def remove_reader(self, fd: int) -> bool:
        """Stop watching ``fd`` for readability.

        :param int fd: file descriptor.
        :returns: True if a reader was removed, False if there was none.
        :rtype: bool
        """
        raise NotImplementedError

    @abc.abstractmethod
    def set_writer(self, fd: int, on_writable: Callable[[], Any]) -> None:
        """Call ``on_writable()`` whenever ``fd`` is writable (replacing any
        previous writer callback of ``fd``).

        :param int fd: file descriptor.
        :param callable on_writable: called without arguments.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def remove_writer(self, fd: int) -> bool:
        """Stop watching ``fd`` for writability.

        :param int fd: file descriptor.
        :returns: True if a writer was removed, False if there was none.
        :rtype: bool
        """
        raise NotImplementedError


class AbstractTimerReference(AbstractBase):
    """Reference to a timer created by ``call_later``."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """Cancel the timer; idempotent, harmless after it fired."""
        raise NotImplementedError


class AbstractIOReference(AbstractBase):
    """Reference to an asynchronous operation in progress."""

    @abc.abstractmethod
    def cancel(self) -> bool:
        """Cancel the operation; its ``on_done`` callback will not be called.

        :returns: False if the operation had already completed or been
            cancelled, True otherwise.
        :rtype: bool
        """
        raise NotImplementedError


class AbstractStreamProtocol(AbstractBase):
    """Protocol side of a stream (asyncio ``Protocol`` semantics)."""

    @abc.abstractmethod
    def connection_made(self, transport: 'AbstractStreamTransport') -> None:
        """Called once when the transport is ready.

        :param AbstractStreamTransport transport: the linked transport.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def connection_lost(self, error: Optional[BaseException]) -> None:
        """Called once when the transport is gone.

        :param BaseException|None error: None if the transport was aborted
            by ``abort()``, else the exception that ended it.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def eof_received(self) -> Any:
        """Called when the peer closed its sending side; the transport is
        then closed and ``connection_lost`` called with an error (the
        transport does not support half-open streams).
        """
        raise NotImplementedError

    @abc.abstractmethod
    def data_received(self, data: bytes) -> None:
        """Called with each chunk of received bytes.

        :param bytes data: non-empty chunk.
        """
        raise NotImplementedError


class AbstractStreamTransport(AbstractBase):
    """Transport side of a stream (asyncio ``Transport`` semantics)."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Close the stream at once, dropping unsent data; the protocol's
        ``connection_lost(None)`` follows asynchronously.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def get_protocol(self) -> AbstractStreamProtocol:
        """Return the linked protocol.

        :rtype: AbstractStreamProtocol
        """
        raise NotImplementedError

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Queue ``data`` for sending; never blocks.

        :param bytes data: bytes to send.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def get_write_buffer_size(self) -> int:
        """Return the number of queued bytes not yet sent.

        :rtype: int
        """
        raise NotImplementedError


class PumpedLoop(Protocol):
    """What :class:`~pika.adapters.blocking_connection.BlockingConnection`
    needs of the event loop it drives on the caller's thread
    (:class:`pika.adapters.select_connection.IOLoop` provides it): one
    iteration at a time, with the queued callbacks (among them the
    transport's write flush) runnable on their own, so that a request leaves
    before the wait for its reply without an extra zero-timeout poll.
    """

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the next iteration (loop thread only)."""

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the next iteration, from any thread."""

    def run_once(self, timeout: Optional[float] = None) -> None:
        """One iteration: wait for I/O readiness (at most ``timeout``
        seconds, None: until the next timer; no wait when callbacks are
        queued), dispatch it, then run the queued callbacks and due timers.
        """

    def run_ready_callbacks(self) -> None:
        """Run the callbacks queued now (not those they queue, not timers)."""

    def activate_poller(self) -> None:
        """Make the loop ready to wait for I/O."""

    def close(self) -> None:
        """Release the loop's resources."""
