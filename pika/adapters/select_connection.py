"""Asynchronous connection adapter with its own event loop.

:class:`IOLoop` is a small single-threaded event loop: a timer heap, a queue
of "soon" callbacks (the only structure other threads may add to, through
:meth:`IOLoop.add_callback_threadsafe`, which wakes the poller through a
socket pair), and a poller over the best readiness primitive of the platform
(epoll, kqueue, poll or select; the module variable :data:`SELECT_TYPE` forces
one when an :class:`IOLoop` is created). One iteration is :meth:`IOLoop.poll`
(wait for fd readiness or the next timer, dispatch fd handlers) followed by
:meth:`IOLoop.process_timeouts` (run queued callbacks, then due timers), which
is also how :class:`~pika.adapters.blocking_connection.BlockingConnection`
pumps it.
"""

import collections
import errno
import heapq
import logging
import select
import socket
import threading
import time
from typing import (TYPE_CHECKING, Any, Callable, Deque, Dict, List, Optional,
                    Sequence, Tuple, Union)

from pika.parameters import Parameters

from pika.adapters.base_connection import _recovery_kwargs
from pika.recovery import RecoveryConfig
from pika.adapters.base_connection import BaseConnection
from pika.adapters.utils import connection_workflow, nbio_interface
from pika.adapters.utils.io_services_utils import (check_callback_arg,
                                                   check_fd_arg)
from pika.adapters.utils.selector_ioloop_adapter import (
    AbstractSelectorIOLoop, SelectorIOServicesAdapter)

LOGGER = logging.getLogger(__name__)

#: Poller forced for new :class:`IOLoop` instances: None picks the best
#: available, else one of 'select', 'poll', 'epoll', 'kqueue'.
SELECT_TYPE: Optional[str] = None

# Longest single wait of the poller, so a stuck wake-up never hangs forever.
_MAX_POLL_WAIT = 5.0

# Rebuild the timer heap when cancelled entries exceed this and half of it.
_MIN_CANCELLED_TO_COMPACT = 256

_monotonic = time.monotonic
# kqueue names exist only on BSD-like platforms.
_KQ: Any = select
_get_ident = threading.get_ident


class PollEvents:
    """Event bit masks used by the pollers and handlers (select.poll's)."""

    READ = getattr(select, 'POLLIN', 0x01)
    WRITE = getattr(select, 'POLLOUT', 0x04)
    ERROR = getattr(select, 'POLLERR', 0x08)
    HANGUP = getattr(select, 'POLLHUP', 0x10)


class SelectConnection(BaseConnection):
    """Asynchronous connection driven by :class:`IOLoop` (or any
    :class:`AbstractSelectorIOLoop`, or ready-made I/O services).
    """

    if TYPE_CHECKING:  # the inherited property, as type checkers see it here

        @property
        def ioloop(self) -> 'IOLoop':
            """The :class:`IOLoop` this connection runs on."""

    def __init__(self,
                 parameters: Optional[Parameters] = None,
                 on_open_callback: Optional[Callable[['SelectConnection'],
                                                     object]] = None,
                 on_open_error_callback: Optional[Callable[
                     ['SelectConnection', BaseException], object]] = None,
                 on_close_callback: Optional[Callable[
                     ['SelectConnection', BaseException], object]] = None,
                 custom_ioloop: Optional[Union[
                     'IOLoop', nbio_interface.AbstractIOServices]] = None,
                 internal_connection_workflow: bool = True,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        """
        :param pika.connection.Parameters parameters: where and how to
            connect (None: the defaults).
        :param callable on_open_callback: ``f(connection)`` once open.
        :param callable on_open_error_callback: ``f(connection, exception)``
            if opening fails.
        :param callable on_close_callback: ``f(connection, exception)`` once
            closed.
        :param custom_ioloop: an :class:`IOLoop` (or other
            :class:`AbstractSelectorIOLoop`, or an
            :class:`~pika.adapters.utils.nbio_interface.AbstractIOServices`)
            to use instead of a new :class:`IOLoop`.
        :param bool internal_connection_workflow: True to connect using
            ``parameters``; False when an external workflow supplies the
            stream.
        :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
            automatically from connection losses (see :doc:`/recovery`);
            None (default) for pika 1.4's behaviour.
        """
        super().__init__(
            parameters,
            on_open_callback,
            on_open_error_callback,
            on_close_callback,
            _io_services_for(custom_ioloop),
            internal_connection_workflow=internal_connection_workflow,
            # (only when given: the call stays pika 1.4's without it)
            **_recovery_kwargs(recovery))

    @classmethod
    def create_connection(
        cls,
        connection_configs: Sequence[Parameters],
        on_done: Callable[[
            Union['SelectConnection',
                  connection_workflow.AMQPConnectorException]
        ], object],
        custom_ioloop: Optional['IOLoop'] = None,
        workflow: Optional[
            connection_workflow.AbstractAMQPConnectionWorkflow] = None,
        recovery: Optional[RecoveryConfig] = None
    ) -> connection_workflow.AbstractAMQPConnectionWorkflow:
        """Connect on an :class:`IOLoop` (``custom_ioloop``, else a new
        one) using the first of ``connection_configs`` that works, as
        :meth:`pika.adapters.base_connection.BaseConnection.create_connection`
        describes.

        :returns: the workflow (its ``abort()`` cancels).
        """
        return cls._create_connection_over(
            SelectorIOServicesAdapter(custom_ioloop or IOLoop()),
            connection_configs, on_done, workflow, recovery)


def _io_services_for(custom_ioloop: Any) -> nbio_interface.AbstractIOServices:
    """The I/O services of a :class:`SelectConnection` (see its
    ``custom_ioloop``).
    """
    if isinstance(custom_ioloop, nbio_interface.AbstractIOServices):
        return custom_ioloop
    return SelectorIOServicesAdapter(custom_ioloop or IOLoop())


class _Timeout:
    """A pending timer of :class:`IOLoop`; ``callback`` None once done."""

    __slots__ = ('deadline', 'callback')

    def __init__(self, deadline: float, callback: Callable[[], Any]) -> None:
        self.deadline = deadline
        self.callback: Optional[Callable[[], Any]] = callback

    def __repr__(self) -> str:
        return '<_Timeout deadline={:.3f} active={}>'.format(
            self.deadline, self.callback is not None)

    # Ordered by deadline, as pika 1.4's timeouts (equality stays identity:
    # timeouts remain hashable).

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _Timeout):
            return self.deadline < other.deadline
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, _Timeout):
            return self.deadline <= other.deadline
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, _Timeout):
            return self.deadline > other.deadline
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, _Timeout):
            return self.deadline >= other.deadline
        return NotImplemented


class IOLoop(AbstractSelectorIOLoop):
    """Single-threaded event loop over the best available poller."""

    READ = PollEvents.READ
    WRITE = PollEvents.WRITE
    ERROR = PollEvents.ERROR

    def __init__(self) -> None:
        self._timer_heap: List[Tuple[float, int, _Timeout]] = []
        self._timer_seq = 0
        self._cancelled_timers = 0
        self._callbacks: Deque[Callable[[], Any]] = collections.deque()
        self._stopping = False
        self._running = False
        self._closed = False
        self._loop_thread: Optional[int] = None
        self._poller = self._get_poller(self._get_wait_seconds,
                                        self.process_timeouts)
        # The poller owns the wake-up socket pair (as in pika 1.4).
        self._wake = self._poller.wake_threadsafe

    def __repr__(self) -> str:
        return '<IOLoop poller={} timers={} callbacks={}>'.format(
            type(self._poller).__name__,
            len(self._timer_heap) - self._cancelled_timers,
            len(self._callbacks))

    @staticmethod
    def _get_poller(get_wait_seconds: Callable[[], Optional[float]],
                    process_timeouts: Callable[[], None]) -> '_PollerBase':
        """Make the poller :data:`SELECT_TYPE` asks for (best if None)."""
        kind = SELECT_TYPE.lower() if SELECT_TYPE else None
        if kind is None:
            if hasattr(select, 'epoll'):
                kind = 'epoll'
            elif hasattr(select, 'kqueue'):
                kind = 'kqueue'
            elif hasattr(select, 'poll') and hasattr(select.poll(), 'modify'):
                kind = 'poll'
            else:
                kind = 'select'
        poller_class = {
            'select': SelectPoller,
            'poll': PollPoller,
            'epoll': EPollPoller,
            'kqueue': KQueuePoller,
        }.get(kind)
        if poller_class is None:
            raise ValueError(
                'SELECT_TYPE must be None or one of select, '
                'poll, epoll, kqueue, but got {!r}'.format(SELECT_TYPE))
        if not poller_class.is_available():
            raise ValueError(
                'Poller {!r} is not available on this platform'.format(kind))
        LOGGER.debug('IOLoop using %s', poller_class.__name__)
        return poller_class(get_wait_seconds, process_timeouts)

    # -- timers and callbacks ----------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], Any]) -> _Timeout:
        """Call ``callback`` once after ``delay`` seconds.

        :param float delay: non-negative number of seconds.
        :param callable callback: called without arguments.
        :returns: handle for :meth:`remove_timeout`.
        :rtype: object
        """
        # pika 1.4's order and wording: the delay first, then the callback
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise TypeError(
                'delay must be a number, but got {!r}'.format(delay))
        if delay < 0:
            raise ValueError(
                'call_later: delay must be non-negative, but got {!r}'.format(
                    delay))
        if not callable(callback):
            raise TypeError(
                'callback must be a callable, but got {!r}'.format(callback))
        timeout = _Timeout(_monotonic() + delay, callback)
        self._timer_seq += 1
        heapq.heappush(self._timer_heap,
                       (timeout.deadline, self._timer_seq, timeout))
        return timeout

    def remove_timeout(self, timeout_handle: Any) -> None:
        """Cancel a timer made by :meth:`call_later`; idempotent.

        :param timeout_handle: the handle :meth:`call_later` returned.
        """
        if not isinstance(timeout_handle, _Timeout):
            raise TypeError('timeout_handle must come from call_later, but '
                            'got {!r}'.format(timeout_handle))
        if timeout_handle.callback is None:
            return
        timeout_handle.callback = None
        self._cancelled_timers += 1
        heap = self._timer_heap
        if (self._cancelled_timers > _MIN_CANCELLED_TO_COMPACT and
                self._cancelled_timers * 2 > len(heap)):
            self._timer_heap = [
                entry for entry in heap if entry[2].callback is not None
            ]
            heapq.heapify(self._timer_heap)
            self._cancelled_timers = 0

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's next iteration; may be called from
        any thread (the poller is woken when needed).

        :param callable callback: called without arguments.
        """
        if not callable(callback):
            raise TypeError(  # pika 1.4's wording
                'callback must be a callable, but got {!r}'.format(callback))
        self._callbacks.append(callback)
        if _get_ident() != self._loop_thread:
            self._wake()

    add_callback = add_callback_threadsafe
    # The transports' per-turn flush: meant for the loop's thread, but code
    # written for pika publishes from other threads too, and then the loop
    # must wake up for it, so it is the same method.
    call_soon = add_callback_threadsafe

    def process_timeouts(self) -> None:
        """Run the queued callbacks, then the timers that are due."""
        callbacks = self._callbacks
        for _ in range(len(callbacks)):
            callbacks.popleft()()
        if self._timer_heap:
            self._run_due_timers()

    def _run_due_timers(self) -> None:
        heap = self._timer_heap
        now = _monotonic()
        while heap and heap[0][0] <= now:
            timeout = heapq.heappop(heap)[2]
            callback = timeout.callback
            if callback is None:
                self._cancelled_timers -= 1
                continue
            timeout.callback = None
            callback()
            heap = self._timer_heap

    def _get_wait_seconds(self) -> Optional[float]:
        """Seconds the poller may wait: until the next timer, 0 if callbacks
        are queued.
        """
        if self._callbacks:
            return 0.0
        heap = self._timer_heap
        while heap and heap[0][2].callback is None:
            heapq.heappop(heap)
            self._cancelled_timers -= 1
        if heap:
            return min(max(0.0, heap[0][0] - _monotonic()), _MAX_POLL_WAIT)
        return _MAX_POLL_WAIT

    # -- fd handlers -------------------------------------------------------

    def add_handler(self, fd: int, handler: Callable[[int, int], Any],
                    events: int) -> None:
        """Watch ``fd`` and call ``handler(fd, events)`` on readiness.

        :param int fd: file descriptor.
        :param callable handler: called with ``(fd, events)``.
        :param int events: mask of READ, WRITE and ERROR.
        """
        check_fd_arg(fd)
        check_callback_arg(handler, 'handler')
        self._poller.add_handler(fd, handler, events)

    def update_handler(self, fd: int, events: int) -> None:
        """Change the events watched on ``fd``.

        :param int fd: file descriptor.
        :param int events: mask of READ, WRITE and ERROR.
        """
        check_fd_arg(fd)
        self._poller.update_handler(fd, events)

    def remove_handler(self, fd: int) -> None:
        """Stop watching ``fd``.

        :param int fd: file descriptor.
        """
        check_fd_arg(fd)
        self._poller.remove_handler(fd)

    # -- running -----------------------------------------------------------

    def start(self) -> None:
        """Run the loop until :meth:`stop` (returns at once if :meth:`stop`
        was called before).
        """
        if self._closed:
            raise RuntimeError('IOLoop is closed')
        self._running = True
        self._loop_thread = _get_ident()
        self._poller.activate_poller()
        try:
            # One iteration is poll() then process_timeouts(), in one call.
            run_once = self.run_once
            while not self._stopping:
                run_once()
        finally:
            self._stopping = False
            self._running = False
            self._loop_thread = None

    def stop(self) -> None:
        """Make :meth:`start` return after the current iteration. Safe from
        a callback and from other threads (use ``add_callback_threadsafe``
        for full memory-ordering guarantees).
        """
        self._stopping = True
        if _get_ident() != self._loop_thread:
            self._wake()

    def poll(self) -> None:
        """Wait for fd readiness (at most until the next timer is due, no
        wait if callbacks are queued) and dispatch the fd handlers once.
        """
        self._loop_thread = _get_ident()
        self._poller.poll()

    def run_once(self, timeout: Optional[float] = None) -> None:
        """One iteration, :meth:`poll` then :meth:`process_timeouts`, in a
        single call: what
        :class:`~pika.adapters.blocking_connection.BlockingConnection` pumps
        on every round trip.

        :param float timeout: the longest wait for I/O in seconds; None
            waits until the next timer is due (no wait when callbacks are
            queued).
        """
        self._loop_thread = _get_ident()
        callbacks = self._callbacks
        if callbacks:
            wait = 0.0
        else:
            heap = self._timer_heap
            if heap and heap[0][2].callback is not None:
                wait = heap[0][0] - _monotonic()
                if wait < 0.0:
                    wait = 0.0
                elif wait > _MAX_POLL_WAIT:
                    wait = _MAX_POLL_WAIT
            else:
                # (drops the cancelled timers at the top of the heap)
                wait_seconds = self._get_wait_seconds()
                wait = (_MAX_POLL_WAIT
                        if wait_seconds is None else wait_seconds)
            if timeout is not None and timeout < wait:
                wait = timeout
        self._poller.poll_for(wait)
        if callbacks:
            popleft = callbacks.popleft
            for _ in range(len(callbacks)):
                popleft()()
        heap = self._timer_heap
        if heap and heap[0][0] <= _monotonic():
            self._run_due_timers()

    # The name the round-trip tests and pika-era code know it by.
    _run_once = run_once

    def run_ready_callbacks(self) -> None:
        """Run the callbacks queued now (not the ones they queue, and no
        timers): lets a blocking caller send what it just wrote before it
        waits for the reply.
        """
        callbacks = self._callbacks
        for _ in range(len(callbacks)):
            callbacks.popleft()()

    def activate_poller(self) -> None:
        """Create the poller's kernel object (done on demand as well)."""
        self._poller.activate_poller()

    def deactivate_poller(self) -> None:
        """Release the poller's kernel object (re-created on demand)."""
        self._poller.deactivate_poller()

    def close(self) -> None:
        """Release the loop's resources; it must not be running."""
        if self._closed:
            return
        if self._running:
            raise RuntimeError('Cannot close a running IOLoop')
        self._closed = True
        self._poller.close()
        self._timer_heap = []
        self._cancelled_timers = 0
        self._callbacks.clear()


class _PollerBase:
    """Keeps the fd handlers and waits for readiness; subclasses wrap one
    kernel primitive.
    """

    #: Multiplier from seconds to the primitive's timeout unit.
    POLL_TIMEOUT_MULT = 1

    #: The active primitive's wait method (``poll`` of a poll/epoll object,
    #: taking the timeout in ``POLL_TIMEOUT_MULT`` units, returning
    #: ``[(fd, events)]``), for :meth:`poll_for`; None otherwise.
    _wait: Optional[Callable[[Optional[float]], List[Tuple[int, int]]]] = None

    def __init__(self, get_wait_seconds: Callable[[], Optional[float]],
                 process_timeouts: Callable[[], None]) -> None:
        """
        :param callable get_wait_seconds: returns the longest wait (seconds).
        :param callable process_timeouts: runs due callbacks and timers
            (pika's signature; the :class:`IOLoop` calls it after each poll).
        """
        self._get_wait_seconds = get_wait_seconds
        self._process_timeouts = process_timeouts
        self._handlers: Dict[int, Callable[[int, int], Any]] = {}
        self._fd_events: Dict[int, int] = {}
        self._active = False
        self._running = False
        self._stopping = False
        # Wake-up socket pair: a byte written by wake_threadsafe (any
        # thread) ends the current wait. The lock keeps close() from
        # closing it under a concurrent writer.
        self._wake_lock = threading.Lock()
        self._wake_r: Optional[socket.socket]
        self._wake_w: Optional[socket.socket]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.add_handler(self._wake_r.fileno(), self._on_wake, PollEvents.READ)

    @classmethod
    def is_available(cls) -> bool:
        """Return True if the primitive exists on this platform."""
        return True

    def add_handler(self, fileno: int, handler: Callable[[int, int], Any],
                    events: int) -> None:
        """Watch ``fileno`` for ``events`` (as in pika, registering a known
        fd again replaces its handler and events).

        :param int fileno: the file descriptor.
        :param callable handler: called as ``handler(fileno, events)``.
        :param int events: mask of :class:`PollEvents` flags.
        """
        if fileno in self._handlers:
            self._handlers[fileno] = handler
            self.update_handler(fileno, events)
            return
        self._handlers[fileno] = handler
        self._fd_events[fileno] = events
        if self._active:
            self._register(fileno, events)

    def update_handler(self, fileno: int, events: int) -> None:
        """Change the events watched on ``fileno`` (an unknown fd is
        ignored, as in pika).

        :param int fileno: the file descriptor.
        :param int events: mask of :class:`PollEvents` flags.
        """
        if fileno not in self._handlers:
            return
        old_events = self._fd_events[fileno]
        self._fd_events[fileno] = events
        if self._active:
            self._modify(fileno, old_events, events)

    def remove_handler(self, fileno: int) -> None:
        """Stop watching ``fileno``.

        :param int fileno: the file descriptor.
        :raises KeyError: if ``fileno`` is not watched (as pika's pollers)
        """
        del self._handlers[fileno]
        old_events = self._fd_events.pop(fileno)
        if self._active:
            self._unregister(fileno, old_events)

    def start(self) -> None:
        """Poll and process timeouts until :meth:`stop` is called.

        :raises RuntimeError: if already running (not reentrant).
        """
        if self._running:
            raise RuntimeError('IOLoop is not reentrant and is already running')
        self._running = True
        self.activate_poller()
        try:
            while not self._stopping:
                self.poll()
                self._process_timeouts()
        finally:
            try:
                self.deactivate_poller()
            finally:
                self._stopping = False
                self._running = False

    def stop(self) -> None:
        """Ask :meth:`start` to return (after its current iteration); safe
        from any thread.
        """
        self._stopping = True
        self.wake_threadsafe()

    def wake_threadsafe(self) -> None:
        """End the current (or next) wait as soon as possible; safe from
        any thread.
        """
        with self._wake_lock:
            wake_w = self._wake_w
            if wake_w is None:
                return
            try:
                wake_w.send(b'x')
            except (BlockingIOError, InterruptedError):
                pass  # a wake-up byte is already pending
            except OSError as error:
                LOGGER.debug('Poller wake-up failed: %r', error)

    def _on_wake(self, _fd: int, _events: int) -> None:
        wake_r = self._wake_r
        if wake_r is None:
            return
        try:
            while wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise

    def activate_poller(self) -> None:
        """Create the kernel object and register all fds."""
        if self._active:
            return
        self._init_primitive()
        self._active = True
        for fd, events in self._fd_events.items():
            self._register(fd, events)

    def deactivate_poller(self) -> None:
        """Release the kernel object."""
        if self._active:
            self._active = False
            self._uninit_primitive()

    def close(self) -> None:
        """Release everything (the poller must not be running)."""
        if self._running:
            raise RuntimeError('Cannot close a running poller')
        with self._wake_lock:
            wake_r, wake_w = self._wake_r, self._wake_w
            self._wake_r = self._wake_w = None
        if wake_r is not None and wake_w is not None:
            self.remove_handler(wake_r.fileno())
            wake_r.close()
            wake_w.close()
        self.deactivate_poller()
        self._handlers.clear()
        self._fd_events.clear()

    def poll(self) -> None:
        """Wait (as long as ``get_wait_seconds()`` allows) and dispatch one
        batch of events.
        """
        self.poll_for(self._get_wait_seconds())

    def poll_for(self, timeout: Optional[float]) -> None:
        """Wait at most ``timeout`` seconds (None: without limit) and
        dispatch one batch of events.

        :param float timeout: seconds.
        """
        raise NotImplementedError

    def _dispatch(self, events: List[Tuple[int, int]]) -> None:
        handlers = self._handlers
        for fd, event_mask in events:
            handler = handlers.get(fd)
            if handler is not None:
                handler(fd, event_mask)

    # Primitive hooks (no-ops for select).
    def _init_primitive(self) -> None:
        pass

    def _uninit_primitive(self) -> None:
        pass

    def _register(self, fd: int, events: int) -> None:
        pass

    def _modify(self, fd: int, old_events: int, events: int) -> None:
        pass

    def _unregister(self, fd: int, old_events: int) -> None:
        pass


class SelectPoller(_PollerBase):
    """Poller over :func:`select.select` (fds below FD_SETSIZE only)."""

    POLL_TIMEOUT_MULT = 1

    def poll(self) -> None:
        """Wait with ``select()`` as long as ``get_wait_seconds()`` allows and
        dispatch one batch of events.
        """
        self.poll_for(self._get_wait_seconds())

    def poll_for(self, timeout: Optional[float]) -> None:
        """Wait with ``select()`` and dispatch one batch of events.

        :param float timeout: the longest wait in seconds (None: no limit).
        """
        if not self._active:
            self.activate_poller()
        fd_events = self._fd_events
        readers = [fd for fd, ev in fd_events.items() if ev & PollEvents.READ]
        writers = [fd for fd, ev in fd_events.items() if ev & PollEvents.WRITE]
        errors = list(fd_events)
        try:
            if readers or writers or errors:
                readable, writable, exceptional = select.select(
                    readers, writers, errors, timeout)
            else:
                time.sleep(timeout or 0)
                return
        except InterruptedError:
            return
        except (OSError, ValueError):
            # A registered fd was closed behind our back; find it.
            self._drop_bad_fds()
            return
        ready: Dict[int, int] = {}
        for fd in readable:
            ready[fd] = PollEvents.READ
        for fd in writable:
            ready[fd] = ready.get(fd, 0) | PollEvents.WRITE
        for fd in exceptional:
            ready[fd] = ready.get(fd, 0) | PollEvents.ERROR
        self._dispatch(list(ready.items()))

    def _drop_bad_fds(self) -> None:
        for fd in list(self._fd_events):
            try:
                select.select([fd], [], [], 0)
            except (OSError, ValueError):
                handler = self._handlers.get(fd)
                LOGGER.error('SelectPoller: fd %s is invalid', fd)
                if handler is not None:
                    handler(fd, PollEvents.ERROR)
                if fd in self._handlers:
                    self.remove_handler(fd)


class PollPoller(_PollerBase):
    """Poller over :func:`select.poll`."""

    POLL_TIMEOUT_MULT = 1000

    def __init__(self, get_wait_seconds: Callable[[], Optional[float]],
                 process_timeouts: Callable[[], None]) -> None:
        """
        :param callable get_wait_seconds: returns the longest wait (seconds).
        :param callable process_timeouts: runs due callbacks and timers.
        """
        super().__init__(get_wait_seconds, process_timeouts)
        self._poll: Any = None

    @classmethod
    def is_available(cls) -> bool:
        """Return True if ``select.poll`` exists."""
        return hasattr(select, 'poll')

    def _create(self) -> Any:
        return select.poll()

    def _init_primitive(self) -> None:
        self._poll = self._create()
        self._wait = self._poll.poll

    def _uninit_primitive(self) -> None:
        self._wait = None
        close = getattr(self._poll, 'close', None)
        if close is not None:
            close()
        self._poll = None

    def _register(self, fd: int, events: int) -> None:
        self._poll.register(fd, events)

    def _modify(self, fd: int, old_events: int, events: int) -> None:
        self._poll.modify(fd, events)

    def _unregister(self, fd: int, old_events: int) -> None:
        try:
            self._poll.unregister(fd)
        except (OSError, KeyError, ValueError):
            pass  # already closed: the kernel dropped it

    def poll(self) -> None:
        """Wait with the primitive as long as ``get_wait_seconds()`` allows and
        dispatch one batch of events.
        """
        self.poll_for(self._get_wait_seconds())

    def poll_for(self, timeout: Optional[float]) -> None:
        """Wait with the primitive and dispatch one batch of events.

        :param float timeout: the longest wait in seconds (None: no limit).
        """
        wait = self._wait
        if wait is None:
            self.activate_poller()
            wait = self._wait
            assert wait is not None
        try:
            events = wait(None if timeout is None else timeout *
                          self.POLL_TIMEOUT_MULT)
        except InterruptedError:
            return
        if events:
            # (the loop of _dispatch, inline: this is every round trip)
            handlers = self._handlers
            for fd, event_mask in events:
                handler = handlers.get(fd)
                if handler is not None:
                    handler(fd, event_mask)


class EPollPoller(PollPoller):
    """Poller over :func:`select.epoll` (Linux)."""

    POLL_TIMEOUT_MULT = 1

    @classmethod
    def is_available(cls) -> bool:
        """Return True if ``select.epoll`` exists."""
        return hasattr(select, 'epoll')

    def _create(self) -> Any:
        return select.epoll()


class KQueuePoller(_PollerBase):
    """Poller over :func:`_KQ.kqueue` (BSD, macOS)."""

    def __init__(self, get_wait_seconds: Callable[[], Optional[float]],
                 process_timeouts: Callable[[], None]) -> None:
        """
        :param callable get_wait_seconds: returns the longest wait (seconds).
        :param callable process_timeouts: runs due callbacks and timers.
        """
        super().__init__(get_wait_seconds, process_timeouts)
        self._kqueue: Any = None

    @classmethod
    def is_available(cls) -> bool:
        """Return True if ``_KQ.kqueue`` exists."""
        return hasattr(select, 'kqueue')

    def _init_primitive(self) -> None:
        self._kqueue = _KQ.kqueue()

    def _uninit_primitive(self) -> None:
        self._kqueue.close()
        self._kqueue = None

    def _changes(self, fd: int, old: int, new: int) -> List[Any]:
        kevent = _KQ.kevent
        changes = []
        for flag, kfilter in ((PollEvents.READ, _KQ.KQ_FILTER_READ),
                              (PollEvents.WRITE, _KQ.KQ_FILTER_WRITE)):
            if new & flag and not old & flag:
                changes.append(kevent(fd, kfilter, _KQ.KQ_EV_ADD))
            elif old & flag and not new & flag:
                changes.append(kevent(fd, kfilter, _KQ.KQ_EV_DELETE))
        return changes

    def _register(self, fd: int, events: int) -> None:
        self._kqueue.control(self._changes(fd, 0, events), 0)

    def _modify(self, fd: int, old_events: int, events: int) -> None:
        try:
            self._kqueue.control(self._changes(fd, old_events, events), 0)
        except OSError:
            pass  # the fd was closed: the kernel dropped its filters

    def _unregister(self, fd: int, old_events: int) -> None:
        self._modify(fd, old_events, 0)

    def poll(self) -> None:
        """Wait with ``kqueue.control`` as long as ``get_wait_seconds()``
        allows and dispatch one batch of events.
        """
        self.poll_for(self._get_wait_seconds())

    def poll_for(self, timeout: Optional[float]) -> None:
        """Wait with ``kqueue.control`` and dispatch one batch of events.

        :param float timeout: the longest wait in seconds (None: no limit).
        """
        if not self._active:
            self.activate_poller()
        try:
            kevents = self._kqueue.control(None, 1000, timeout)
        except InterruptedError:
            return
        ready: Dict[int, int] = {}
        for kev in kevents:
            fd = kev.ident
            mask = ready.get(fd, 0)
            if kev.filter == _KQ.KQ_FILTER_READ:
                mask |= PollEvents.READ
            elif kev.filter == _KQ.KQ_FILTER_WRITE:
                mask |= PollEvents.WRITE
            if kev.flags & _KQ.KQ_EV_ERROR:
                mask |= PollEvents.ERROR
            ready[fd] = mask
        self._dispatch(list(ready.items()))
