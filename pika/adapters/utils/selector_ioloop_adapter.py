"""I/O services over any selector-style event loop.

:class:`SelectorIOServicesAdapter` turns a loop offering ``add_handler``,
``update_handler``, ``remove_handler``, ``call_later``, ``remove_timeout``,
``add_callback``, ``start``, ``stop`` and ``close`` (the
:class:`AbstractSelectorIOLoop` protocol: pika's own ``IOLoop``, Tornado's
``IOLoop``, a gevent hub wrapper...) into the full
:class:`~pika.adapters.utils.nbio_interface.AbstractIOServices` and
:class:`~pika.adapters.utils.nbio_interface.AbstractFileDescriptorServices`.
Per-fd reader and writer callbacks are multiplexed onto one loop handler per
fd whose event mask follows the callbacks set. Host name resolution runs in a
worker thread and posts its result back with ``add_callback``, which must be
thread-safe.
"""

import abc
import logging
import socket
import threading
from typing import Any, Callable, Dict, Optional

from pika.adapters.utils import io_services_utils, nbio_interface
from pika.adapters.utils.io_services_utils import (check_callback_arg,
                                                   check_fd_arg)

LOGGER = logging.getLogger(__name__)


class AbstractSelectorIOLoop:
    """The selector-style event loop protocol :class:`SelectorIOServicesAdapter`
    expects of its native loop. Event constants follow :mod:`select.poll`.
    """

    @property
    @abc.abstractmethod
    def READ(self) -> int:  # noqa: N802 - pika name
        """Bit mask of the readable event."""
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def WRITE(self) -> int:  # noqa: N802 - pika name
        """Bit mask of the writable event."""
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def ERROR(self) -> int:  # noqa: N802 - pika name
        """Bit mask of the error event."""
        raise NotImplementedError

    @abc.abstractmethod
    def close(self) -> None:
        """Release the loop's resources; the loop must not be running."""
        raise NotImplementedError

    @abc.abstractmethod
    def start(self) -> None:
        """Run the loop until :meth:`stop` is called."""
        raise NotImplementedError

    @abc.abstractmethod
    def stop(self) -> None:
        """Request the loop to stop after the current iteration."""
        raise NotImplementedError

    @abc.abstractmethod
    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        """Call ``callback`` after ``delay`` seconds.

        :param float delay: seconds.
        :param callable callback: called without arguments.
        :returns: handle for :meth:`remove_timeout`.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def remove_timeout(self, timeout_handle: Any) -> None:
        """Cancel a timer made by :meth:`call_later`.

        :param timeout_handle: the handle.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def add_callback(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's next iteration; thread-safe.

        :param callable callback: called without arguments.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def add_handler(self, fd: int, handler: Callable[[int, int], Any],
                    events: int) -> None:
        """Start watching ``fd``; ``handler(fd, events)`` is called on
        readiness.

        :param int fd: file descriptor.
        :param callable handler: called with ``(fd, events)``.
        :param int events: bit mask of READ/WRITE/ERROR.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def update_handler(self, fd: int, events: int) -> None:
        """Change the events watched on ``fd``.

        :param int fd: file descriptor.
        :param int events: bit mask of READ/WRITE/ERROR.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def remove_handler(self, fd: int) -> None:
        """Stop watching ``fd``.

        :param int fd: file descriptor.
        """
        raise NotImplementedError

    # Optional: loops written for pika 1.4 (and Tornado's) lack these; the
    # defaults build them from the methods above.

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's next iteration, from the loop's
        thread (default: :meth:`add_callback`).

        :param callable callback: called without arguments.
        """
        self.add_callback(callback)

    def run_once(self) -> None:
        """Run one iteration of the loop on the calling thread (default: a
        :meth:`start` that a queued :meth:`stop` ends).
        """
        _run_one_iteration(self)


def _run_one_iteration(loop: Any) -> None:
    """One iteration of a selector-style ``loop`` that has no ``run_once``:
    ``start()``, ended by a ``stop()`` queued first.
    """
    loop.add_callback(loop.stop)
    loop.start()


class _FileDescriptorCallbacks:
    """Reader and writer callbacks of one fd."""

    __slots__ = ('reader', 'writer')

    def __init__(self) -> None:
        self.reader: Optional[Callable[[], Any]] = None
        self.writer: Optional[Callable[[], Any]] = None


class _TimerHandle(nbio_interface.AbstractTimerReference):
    """Timer reference over a native loop timeout handle."""

    __slots__ = ('_handle', '_loop')

    def __init__(self, handle: Any, loop: Any) -> None:
        self._handle = handle
        self._loop = loop

    def cancel(self) -> None:
        """Cancel the timer; idempotent."""
        if self._loop is not None:
            self._loop.remove_timeout(self._handle)
            self._loop = None
            self._handle = None


class _AddressResolver:
    """Runs ``socket.getaddrinfo`` in a worker thread."""

    def __init__(self, native_loop: Any, host: Any, port: Any, family: int,
                 socktype: int, proto: int, flags: int,
                 on_done: Callable[[Any], Any]) -> None:
        self._loop = native_loop
        self._args = (host, port, family, socktype, proto, flags)
        self._on_done: Optional[Callable[[Any], Any]] = on_done
        self._lock = threading.Lock()

    def start(self) -> nbio_interface.AbstractIOReference:
        """Start the worker thread.

        :rtype: nbio_interface.AbstractIOReference
        """
        thread = threading.Thread(target=self._resolve,
                                  name='pika-getaddrinfo',
                                  daemon=True)
        thread.start()
        return io_services_utils._IOReference(self.cancel)

    def cancel(self) -> bool:
        """Abandon the request.

        :returns: False if the result was already delivered or cancelled.
        :rtype: bool
        """
        with self._lock:
            if self._on_done is None:
                return False
            self._on_done = None
            return True

    def _lookup(self) -> Any:
        """Resolve (in the worker); subclasses may resolve otherwise."""
        return socket.getaddrinfo(*self._args)

    def _resolve(self) -> None:
        try:
            result: Any = self._lookup()
        except Exception as error:  # noqa: BLE001 - reported to on_done
            LOGGER.error('getaddrinfo(%r, %r) failed: %r', self._args[0],
                         self._args[1], error)
            result = error
        try:
            self._loop.add_callback(lambda: self._deliver(result))
        except Exception as error:  # noqa: BLE001 - loop closed meanwhile
            LOGGER.debug('getaddrinfo result dropped: %r', error)

    def _deliver(self, result: Any) -> None:
        with self._lock:
            on_done = self._on_done
            self._on_done = None
        if on_done is not None:
            on_done(result)


class SelectorIOServicesAdapter(io_services_utils.SocketConnectionMixin,
                                io_services_utils.StreamingConnectionMixin,
                                nbio_interface.AbstractIOServices,
                                nbio_interface.AbstractFileDescriptorServices):
    """I/O services over a native loop implementing
    :class:`AbstractSelectorIOLoop`.
    """

    #: Runs one ``getaddrinfo`` request off the loop (a subclass of
    #: :class:`_AddressResolver`, e.g. one resolving in a greenlet).
    _address_resolver_class = _AddressResolver

    def __init__(self, native_loop: Any) -> None:
        """
        :param native_loop: a loop implementing the
            :class:`AbstractSelectorIOLoop` protocol.
        """
        self._loop = native_loop
        self._watchers: Dict[int, _FileDescriptorCallbacks] = {}
        self._read = native_loop.READ
        self._write = native_loop.WRITE
        self._error = native_loop.ERROR
        # (Tornado's loop, and loops written for pika 1.4, have no
        # call_soon: add_callback is what they offer.)
        self._loop_call_soon: Callable[[Callable[[], Any]],
                                       Any] = getattr(native_loop, 'call_soon',
                                                      native_loop.add_callback)

    def get_native_ioloop(self) -> Any:
        """Return the native loop.

        :rtype: AbstractSelectorIOLoop
        """
        return self._loop

    def close(self) -> None:
        """Close the native loop."""
        self._loop.close()

    def run(self) -> None:
        """Run the native loop until :meth:`stop`."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the native loop."""
        self._loop.stop()

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's thread, from any thread.

        :param callable callback: called without arguments.
        """
        check_callback_arg(callback, 'callback')
        self._loop.add_callback(callback)

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's next iteration (loop thread only).

        :param callable callback: called without arguments.
        """
        self._loop_call_soon(callback)

    def _transport_call_soon(self) -> Callable[[Callable[[], Any]], Any]:
        """The native loop's own ``call_soon`` (else ``add_callback``), for
        the transports' write flush: no extra call per write.
        """
        return self._loop_call_soon

    def run_once(self) -> None:
        """Run one iteration of the native loop (its ``run_once``, else a
        ``start()`` that a queued ``stop()`` ends).
        """
        run_once = getattr(self._loop, 'run_once', None)
        if run_once is not None:
            run_once()
        else:
            _run_one_iteration(self._loop)

    def call_later(self, delay: float, callback: Callable[[],
                                                          Any]) -> _TimerHandle:
        """Call ``callback`` after ``delay`` seconds.

        :param float delay: non-negative seconds.
        :param callable callback: called without arguments.
        :rtype: nbio_interface.AbstractTimerReference
        """
        # The loop checks the arguments (as in pika 1.4, its own messages).
        return _TimerHandle(self._loop.call_later(delay, callback), self._loop)

    def getaddrinfo(self,
                    host: Any,
                    port: Any,
                    on_done: Callable[[Any], Any],
                    family: int = 0,
                    socktype: int = 0,
                    proto: int = 0,
                    flags: int = 0) -> nbio_interface.AbstractIOReference:
        """Resolve ``host``/``port`` off the loop (in a worker thread).

        :param host: host name or address.
        :param port: port number or service name.
        :param callable on_done: called with the ``getaddrinfo`` list or the
            exception.
        :param int family: address family.
        :param int socktype: socket type.
        :param int proto: protocol.
        :param int flags: ``getaddrinfo`` flags.
        :rtype: nbio_interface.AbstractIOReference
        """
        check_callback_arg(on_done, 'on_done')
        return self._address_resolver_class(self._loop, host, port, family,
                                            socktype, proto, flags,
                                            on_done).start()

    def set_reader(self, fd: int, on_readable: Callable[[], Any]) -> None:
        """Call ``on_readable()`` whenever ``fd`` is readable.

        :param int fd: file descriptor.
        :param callable on_readable: called without arguments.
        """
        check_fd_arg(fd)
        check_callback_arg(on_readable, 'on_readable')
        self._set(fd, 'reader', on_readable)

    def remove_reader(self, fd: int) -> bool:
        """Stop watching ``fd`` for readability.

        :param int fd: file descriptor.
        :rtype: bool
        """
        check_fd_arg(fd)
        return self._remove(fd, 'reader')

    def set_writer(self, fd: int, on_writable: Callable[[], Any]) -> None:
        """Call ``on_writable()`` whenever ``fd`` is writable.

        :param int fd: file descriptor.
        :param callable on_writable: called without arguments.
        """
        check_fd_arg(fd)
        check_callback_arg(on_writable, 'on_writable')
        self._set(fd, 'writer', on_writable)

    def remove_writer(self, fd: int) -> bool:
        """Stop watching ``fd`` for writability.

        :param int fd: file descriptor.
        :rtype: bool
        """
        check_fd_arg(fd)
        return self._remove(fd, 'writer')

    # -- internals ---------------------------------------------------------

    def _mask(self, callbacks: _FileDescriptorCallbacks) -> int:
        mask = 0
        if callbacks.reader is not None:
            mask |= self._read
        if callbacks.writer is not None:
            mask |= self._write
        return mask

    def _set(self, fd: int, which: str, callback: Callable[[], Any]) -> None:
        """Make ``callback`` the ``which`` ('reader'/'writer') of ``fd``."""
        callbacks = self._watchers.get(fd)
        if callbacks is None:
            callbacks = self._watchers[fd] = _FileDescriptorCallbacks()
            setattr(callbacks, which, callback)
            self._loop.add_handler(fd, self._on_fd_events,
                                   self._mask(callbacks))
            return
        old_mask = self._mask(callbacks)
        setattr(callbacks, which, callback)
        new_mask = self._mask(callbacks)
        if new_mask != old_mask:
            self._loop.update_handler(fd, new_mask)

    def _remove(self, fd: int, which: str) -> bool:
        """Drop the ``which`` ('reader'/'writer') callback of ``fd``."""
        callbacks = self._watchers.get(fd)
        if callbacks is None or getattr(callbacks, which) is None:
            return False
        setattr(callbacks, which, None)
        mask = self._mask(callbacks)
        if mask:
            self._loop.update_handler(fd, mask)
        else:
            del self._watchers[fd]
            self._loop.remove_handler(fd)
        return True

    def _on_fd_events(self, fd: int, events: int) -> None:
        callbacks = self._watchers.get(fd)
        if callbacks is None:
            return
        # Errors and hang-ups go to both callbacks so each discovers the
        # condition through its own socket call.
        trouble = events & ~(self._read | self._write)
        if callbacks.reader is not None and (events & self._read or trouble):
            callbacks.reader()
        if (callbacks.writer is not None and
            (events & self._write or trouble) and
                self._watchers.get(fd) is callbacks):
            callbacks.writer()
