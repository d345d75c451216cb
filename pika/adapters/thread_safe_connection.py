"""A connection and channels that any number of threads may use at once.

Theory of operation:

- One daemon thread (``pika-ioloop-N``) owns a
  :class:`~pika.adapters.select_connection.SelectConnection` and its
  :class:`~pika.adapters.select_connection.IOLoop`; every socket read and
  write, every timer (heartbeats among them) runs there, and nothing else
  touches the asynchronous connection or its channels.
- A caller hands its request to that thread with the loop's
  ``add_callback_threadsafe`` and then waits on its own :class:`_Waiter`
  (a :class:`threading.Event` plus the outcome). No lock is held while the
  request travels or while the caller waits, so one thread's round trip
  never holds up another's: requests from many threads are pipelined.
- Every waiter not yet answered is registered with its channel (or with the
  connection); a channel or connection that closes wakes all of them at
  once with its closing error. A waiter leaves the registry as soon as it is
  answered, so nothing accumulates per call.
- Consumer and return callbacks run on one worker thread per channel
  (``pika-consumer-...``), in delivery order, fed through a queue of at most
  ``work_queue_maxsize`` entries. While a queue is full the loop thread
  stops reading the socket (TCP back-pressure reaches the broker) and keeps
  the deliveries already read in order; when the queue stays full for
  ``work_queue_put_timeout`` seconds the connection is torn down with
  :class:`pika.exceptions.WorkQueueFullError`.
- With ``recovery=RecoveryConfig(...)`` a loss the client did not ask for
  does not close the connection: :mod:`pika._recovery_thread_safe` marks it
  as recovering on the loop thread, wakes the blocked callers, reconnects
  from a recovery thread and swaps the new asynchronous connection and
  channels in under the same ``Connection`` and ``Channel`` objects.
"""

import collections
import itertools
import logging
import queue
import select
import threading
import time
from typing import (Any, Callable, Deque, Dict, Iterator, List, Optional, Set,
                    Tuple)

from pika import _recovery_thread_safe, exceptions, spec
from pika.adapters import select_connection
from pika.adapters.blocking_connection import BlockingConnection
from pika.exchange_type import ExchangeType
from pika.recovery import RecoveryConfig, RecoveryState

__all__ = ['Connection', 'Channel']

LOGGER = logging.getLogger(__name__)

#: Seconds a synchronous call waits for the broker's reply by default.
DEFAULT_RPC_TIMEOUT = 10
#: Deliveries a channel's worker queue holds before back-pressure starts.
DEFAULT_WORK_QUEUE_MAXSIZE = 1000
#: Seconds a worker queue may stay full before the connection is torn down.
DEFAULT_WORK_QUEUE_PUT_TIMEOUT = 30.0

# Requests queued for the loop thread beyond which an unconfirmed publish
# waits until the loop thread has taken it (bounds memory and latency when
# publishers outrun the socket).
_PUBLISH_QUEUE_HIGH_WATER = 1000

# While reading is suspended: how often (seconds) unread bytes on the
# socket are counted as the broker's heartbeat.
_LIVENESS_CHECK_INTERVAL = 0.5

# How often the loop thread re-checks full worker queues.
_BACKPRESSURE_POLL_INTERVAL = 0.005

_thread_numbers = itertools.count(1)

_allocate_lock = threading.Lock

# Tells a worker thread to stop.
_STOP = object()


class _Waiter:
    """One caller's wait for one outcome: set once, from the loop thread.

    A bare lock, acquired at birth and released by the answer, is the
    cheapest one-shot signal the standard library offers (an
    :class:`threading.Event` builds a condition and a second lock).
    """

    __slots__ = ('_lock', '_done', 'value', 'error')

    def __init__(self) -> None:
        lock = _allocate_lock()
        lock.acquire()
        self._lock = lock
        self._done = False
        self.value: Any = None
        self.error: Optional[BaseException] = None

    def set(self, value: Any = None) -> None:
        if not self._done:
            self._done = True
            self.value = value
            self._lock.release()

    def fail(self, error: BaseException) -> None:
        if not self._done:
            self._done = True
            self.error = error
            self._lock.release()

    def done(self) -> bool:
        return self._done

    def wait(self, timeout: Optional[float]) -> Any:
        if not self._lock.acquire(True, -1 if timeout is None else timeout):
            raise exceptions.AMQPError(
                'no reply from the broker within %r seconds (rpc_timeout); '
                'the request may still take effect: check that the broker '
                'is not overloaded or blocked, or raise rpc_timeout' %
                (timeout,))
        self._lock.release()  # later waits return at once
        if self.error is not None:
            raise self.error
        return self.value


def _check_timeout(timeout: Any, name: str = 'timeout') -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError('%s must be a number or None, got %r' % (name, timeout))
    if timeout < 0:
        raise ValueError('%s must not be negative, got %r' % (name, timeout))
    return float(timeout)


class Connection:
    """A connection to RabbitMQ whose methods and channels any thread may
    call at the same time; the I/O runs on one background thread.

    :param parameters: a :class:`pika.connection.Parameters` instance or a
        sequence of them (tried in turn, as
        :class:`~pika.adapters.blocking_connection.BlockingConnection`
        accepts them); None for the defaults
    :param int work_queue_maxsize: deliveries each channel's consumer
        worker queue holds (0: unbounded)
    :param float work_queue_put_timeout: seconds a full worker queue may
        stay full before the connection is closed with
        :class:`pika.exceptions.WorkQueueFullError`
    :param float rpc_timeout: seconds a synchronous call waits for its
        reply (None: no limit beyond the connection's own health checks)
    :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
        automatically from connection losses (see :doc:`/recovery`);
        None (the default) for none
    """

    def __init__(self,
                 parameters: Any = None,
                 work_queue_maxsize: int = DEFAULT_WORK_QUEUE_MAXSIZE,
                 work_queue_put_timeout: float = DEFAULT_WORK_QUEUE_PUT_TIMEOUT,
                 *,
                 rpc_timeout: Optional[float] = DEFAULT_RPC_TIMEOUT,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        if recovery is not None and not isinstance(recovery, RecoveryConfig):
            raise TypeError('recovery must be a pika.recovery.RecoveryConfig '
                            'or None, but got %r' % (recovery,))
        if isinstance(work_queue_maxsize,
                      bool) or not isinstance(work_queue_maxsize, int):
            raise TypeError('work_queue_maxsize must be an int, got %r' %
                            (work_queue_maxsize,))
        if work_queue_maxsize < 0:
            raise ValueError('work_queue_maxsize must not be negative, got %r' %
                             (work_queue_maxsize,))
        if work_queue_put_timeout is None:
            raise ValueError('work_queue_put_timeout must be a positive '
                             'number, got None')
        if isinstance(work_queue_put_timeout,
                      bool) or not isinstance(work_queue_put_timeout,
                                              (int, float)):
            raise TypeError('work_queue_put_timeout must be a positive '
                            'number, got %r' % (work_queue_put_timeout,))
        if work_queue_put_timeout <= 0:
            raise ValueError('work_queue_put_timeout must be a positive '
                             'number, got %r' % (work_queue_put_timeout,))
        self._rpc_timeout = _check_timeout(rpc_timeout, 'rpc_timeout')
        self._work_queue_maxsize = work_queue_maxsize
        self._work_queue_put_timeout = float(work_queue_put_timeout)
        configs = BlockingConnection._normalize_parameters(parameters)

        self._closed_error: Optional[BaseException] = None
        self._closed_event = threading.Event()
        self._close_lock = threading.Lock()
        self._close_requested = False
        # Requests for the loop thread, run in order by _run_requests; one
        # wake-up of the loop serves every request queued before it runs.
        self._requests: Deque[Callable[[], Any]] = collections.deque()
        self._requests_scheduled = False
        self._loop_finished = False
        # Waiters of connection-level requests (channel opening, close).
        self._waiters: Set[_Waiter] = set()
        self._channels: Dict[int, Channel] = {}
        self._blocked_callbacks: List[Callable[..., Any]] = []
        self._unblocked_callbacks: List[Callable[..., Any]] = []
        # Back-pressure state, touched on the loop thread only.
        self._reading_suspended = False
        self._full_since = 0.0
        self._liveness_checked = 0.0
        self._backpressure_timer: Any = None

        # Automatic recovery: the driver (None without recovery=) and the
        # mark set on the loop thread from a loss until all is restored.
        self._recovering = False
        self._recovery: Optional[_recovery_thread_safe.ThreadSafeRecovery] = (
            None if recovery is None else
            _recovery_thread_safe.ThreadSafeRecovery(self, recovery, configs))

        self._ioloop = select_connection.IOLoop()
        self._impl: Any = None
        opened = _Waiter()
        self._thread = threading.Thread(target=self._run,
                                        args=(configs, opened),
                                        name='pika-ioloop-%d' %
                                        next(_thread_numbers),
                                        daemon=True)
        self._thread.start()
        try:
            opened.wait(None)
        except BaseException:
            self._thread.join()
            raise

    # -- the loop thread ----------------------------------------------------

    def _run(self, configs: List[Any], opened: _Waiter) -> None:
        ioloop = self._ioloop

        def on_done(result: Any) -> None:
            if isinstance(result, BaseException):
                opened.fail(BlockingConnection._translate_open_error(result))
                ioloop.stop()
                return
            self._impl = result
            result.add_on_close_callback(self._on_impl_closed)
            result.add_on_connection_blocked_callback(self._on_blocked)
            result.add_on_connection_unblocked_callback(self._on_unblocked)
            if self._recovery is not None:
                self._recovery.attach(result)
            opened.set()

        try:
            select_connection.SelectConnection.create_connection(
                configs, on_done=on_done, custom_ioloop=ioloop)
            ioloop.start()
        except BaseException as error:  # noqa: BLE001 - reported to callers
            LOGGER.exception('I/O loop thread failed')
            opened.fail(error)
            self._finish(error if isinstance(error, exceptions.AMQPError) else
                         exceptions.StreamLostError('I/O loop failed: %r' %
                                                    (error,)))
        finally:
            try:
                ioloop.close()
            except Exception:  # noqa: BLE001 - best effort
                pass
        if not self._closed_event.is_set():
            self._finish(exceptions.StreamLostError('I/O loop stopped'))
        self._loop_finished = True
        self._run_leftover_requests()

    def _on_impl_closed(self, _impl: Any, error: BaseException) -> None:
        recovery = self._recovery
        if recovery is not None and recovery.on_connection_lost(error):
            return  # the loop lives on: recovery reconnects
        self._finish(error)
        self._ioloop.stop()

    def _finish(self, error: BaseException) -> None:
        """Record why the connection closed and wake everyone."""
        if self._closed_event.is_set():
            return
        self._closed_error = error
        self._closed_event.set()
        for waiter in list(self._waiters):
            waiter.fail(error)
        self._waiters.clear()
        for chan in list(self._channels.values()):
            chan._on_closed(error)
        self._channels.clear()

    def _on_blocked(self, _impl: Any, method_frame: Any) -> None:
        for callback in list(self._blocked_callbacks):
            self._call_user(callback, self, method_frame)

    def _on_unblocked(self, _impl: Any, method_frame: Any) -> None:
        for callback in list(self._unblocked_callbacks):
            self._call_user(callback, self, method_frame)

    @staticmethod
    def _call_user(callback: Callable[..., Any], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a user callback never wedges us
            LOGGER.exception('user callback %r failed', callback)

    def _submit(self, function: Callable[[], Any]) -> None:
        """Run ``function`` on the loop thread, after every request queued
        before it (from any thread)."""
        if self._closed_event.is_set():
            raise exceptions.ConnectionWrongStateError(
                'connection is closed') from self._closed_error
        self._requests.append(function)
        # The loop clears the flag before it takes the queued requests, so
        # a request appended after that point finds it clear and schedules
        # another run (under the GIL, deque appends and flag reads are
        # atomic; a spare run finds nothing to do).
        if not self._requests_scheduled:
            self._requests_scheduled = True
            try:
                self._ioloop.add_callback_threadsafe(self._run_requests)
            except Exception:  # noqa: BLE001 - loop already closed
                pass
        if self._loop_finished:
            # The loop thread is gone: whatever it did not run fails here.
            self._run_leftover_requests()

    def _run_requests(self) -> None:
        """Run the queued requests (loop thread)."""
        self._requests_scheduled = False
        requests = self._requests
        popleft = requests.popleft
        # Only what is queued now: callers that keep queueing cannot hold
        # the loop away from the socket and its timers.
        for _ in range(len(requests)):
            function = popleft()
            try:
                function()
            except Exception:  # noqa: BLE001 - a request never wedges us
                LOGGER.exception('request %r failed on the I/O thread',
                                 function)

    def _run_leftover_requests(self) -> None:
        """Once the loop has stopped: run what it left, so that every
        waiter behind it hears the closing error."""
        requests = self._requests
        while True:
            try:
                function = requests.popleft()
            except IndexError:
                return
            try:
                function()
            except Exception:  # noqa: BLE001 - the connection is gone
                LOGGER.debug('request %r after close failed',
                             function,
                             exc_info=True)

    def _call(self, request: Callable[[_Waiter], Any], registry: Set[_Waiter],
              timeout: Optional[float],
              closed_error: Callable[[], Optional[BaseException]]) -> Any:
        """Run ``request(waiter)`` on the loop thread; wait for the waiter.

        ``registry`` holds the waiter until it is answered, so a close of
        its owner can wake it.
        """
        error = closed_error()
        if error is not None:
            if not self._recovering:
                raise error
            self._recovery_gate()
            error = closed_error()
            if error is not None:
                raise error
        waiter = _Waiter()

        def run() -> None:
            error = closed_error()
            if error is not None:
                waiter.fail(error)
                return
            registry.add(waiter)
            try:
                request(waiter)
            except Exception as exc:  # noqa: BLE001 - raised in the caller
                waiter.fail(exc)
            if waiter.done():
                registry.discard(waiter)

        self._submit(run)
        try:
            return waiter.wait(timeout)
        finally:
            if not waiter.done():
                # Timed out: forget it on the loop thread.
                try:
                    self._submit(lambda: registry.discard(waiter))
                except exceptions.AMQPError:
                    pass

    def _answer(self,
                registry: Set[_Waiter],
                waiter: _Waiter,
                value: Any = None) -> None:
        registry.discard(waiter)
        waiter.set(value)

    def _connection_error(self) -> Optional[BaseException]:
        """The error of a call made once the connection is closed (as
        ``BlockingConnection``: ``ConnectionWrongStateError``; callers
        blocked when it closed get the closing error itself), or
        ``ConnectionRecovering`` while it recovers."""
        if self._closed_event.is_set():
            error = exceptions.ConnectionWrongStateError('connection is closed')
            error.__cause__ = self._closed_error
            return error
        if self._recovering:
            assert self._recovery is not None
            return self._recovery.recovering_error()
        return None

    def _recovery_gate(self) -> None:
        """A call while recovering (caller's thread): wait up to
        ``wait_timeout``, or raise ``ConnectionRecovering``."""
        recovery = self._recovery
        if recovery is not None and self._recovering:
            recovery.wait_or_raise()

    # -- back-pressure (loop thread) ----------------------------------------

    def _stop_backpressure(self) -> None:
        """The connection was lost: the reading it suspended is gone."""
        if self._backpressure_timer is not None:
            self._ioloop.remove_timeout(self._backpressure_timer)
            self._backpressure_timer = None
        self._reading_suspended = False

    def _suspend_reading(self) -> None:
        if self._reading_suspended:
            return
        self._reading_suspended = True
        self._full_since = self._liveness_checked = time.monotonic()
        transport = getattr(self._impl, '_transport', None)
        if transport is not None and getattr(transport, '_reader_set', False):
            transport._reader_set = False
            transport._nbio.remove_reader(transport._fd)
        self._backpressure_timer = self._ioloop.call_later(
            _BACKPRESSURE_POLL_INTERVAL, self._on_backpressure_timer)

    def _note_unread_bytes(self) -> None:
        """While reading is suspended, bytes waiting unread on the socket
        show that the broker is alive: count them as activity, so that the
        heartbeat checker does not take the silence we chose for a dead
        peer (its timers keep sending our heartbeats meanwhile)."""
        transport = getattr(self._impl, '_transport', None)
        sock = getattr(transport, '_sock', None)
        if sock is None:
            return
        try:
            readable, _w, _x = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return
        if readable:
            self._impl.frames_received += 1

    def _on_backpressure_timer(self) -> None:
        self._backpressure_timer = None
        if self._closed_event.is_set():
            return
        still_full = False
        for chan in list(self._channels.values()):
            if not chan._drain_overflow():
                still_full = True
        if not still_full:
            self._reading_suspended = False
            transport = getattr(self._impl, '_transport', None)
            if transport is not None:
                transport._start_reading()
            return
        now = time.monotonic()
        if now - self._liveness_checked >= _LIVENESS_CHECK_INTERVAL:
            self._liveness_checked = now
            self._note_unread_bytes()
        if (now - self._full_since > self._work_queue_put_timeout):
            error = exceptions.WorkQueueFullError(
                'a consumer work queue stayed full for %r seconds' %
                (self._work_queue_put_timeout,))
            self._impl._terminate_stream(error)
            return
        self._backpressure_timer = self._ioloop.call_later(
            _BACKPRESSURE_POLL_INTERVAL, self._on_backpressure_timer)

    # -- public API ---------------------------------------------------------

    def __repr__(self) -> str:
        return '<%s open=%s>' % (type(self).__name__, self.is_open)

    def __enter__(self) -> 'Connection':
        return self

    def __exit__(self, exc_type: Any, value: Any, traceback: Any) -> None:
        if self.is_open:
            self.close()

    @property
    def is_open(self) -> bool:
        """True while the connection is open, not closing and not
        recovering."""
        return not (self._closed_event.is_set() or self._close_requested or
                    self._recovering)

    @property
    def is_closed(self) -> bool:
        """True once the connection has closed."""
        return self._closed_event.is_set()

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Run ``callback()`` on the connection's I/O thread soon; callable
        from any thread.

        :param callable callback: the function to call, without arguments
        :raises pika.exceptions.ConnectionWrongStateError: if the connection
            is closed
        """
        if not callable(callback):
            raise TypeError('callback must be callable, got %r' % (callback,))
        if self._closed_event.is_set():
            raise exceptions.ConnectionWrongStateError(
                'add_callback_threadsafe() on a closed connection')
        self._submit(lambda: self._call_user(callback))

    def add_on_connection_blocked_callback(
            self, callback: Callable[[Any, Any], Any]) -> None:
        """Call ``callback(connection, method_frame)`` (on the I/O thread)
        when the broker blocks the connection (``Connection.Blocked``).

        :param callable callback: the function to call
        """
        if not callable(callback):
            raise TypeError('callback must be callable, got %r' % (callback,))
        if self._closed_event.is_set():
            raise exceptions.ConnectionWrongStateError(
                'add_on_connection_blocked_callback() on a closed connection')
        self._blocked_callbacks.append(callback)

    def add_on_connection_unblocked_callback(
            self, callback: Callable[[Any, Any], Any]) -> None:
        """Call ``callback(connection, method_frame)`` (on the I/O thread)
        when the broker unblocks the connection (``Connection.Unblocked``).

        :param callable callback: the function to call
        """
        if not callable(callback):
            raise TypeError('callback must be callable, got %r' % (callback,))
        if self._closed_event.is_set():
            raise exceptions.ConnectionWrongStateError(
                'add_on_connection_unblocked_callback() on a closed connection')
        self._unblocked_callbacks.append(callback)

    def channel(self,
                channel_number: Optional[int] = None,
                timeout: Optional[float] = DEFAULT_RPC_TIMEOUT) -> 'Channel':
        """Open a channel.

        :param int channel_number: the channel number (None: the next free)
        :param float timeout: seconds to wait for ``Channel.OpenOk``
        :rtype: Channel
        """
        timeout = _check_timeout(timeout)

        def request(waiter: _Waiter) -> None:

            def on_open(impl_channel: Any) -> None:
                chan = Channel(self, impl_channel)
                self._channels[impl_channel.channel_number] = chan
                self._answer(self._waiters, waiter, chan)

            self._impl.channel(channel_number=channel_number,
                               on_open_callback=on_open)

        channel: Channel = self._call(request, self._waiters, timeout,
                                      self._connection_error)
        return channel

    def close(self,
              reply_code: int = 200,
              reply_text: str = 'Normal shutdown',
              timeout: Optional[float] = DEFAULT_RPC_TIMEOUT) -> None:
        """Close the connection and wait until it is closed; any thread may
        call it, several at once.

        :param int reply_code: the code sent to the broker
        :param str reply_text: the text sent to the broker
        :param float timeout: seconds to wait before the socket is dropped
        :raises pika.exceptions.ConnectionWrongStateError: if the connection
            was already closed
        """
        timeout = _check_timeout(timeout)
        with self._close_lock:
            if self._closed_event.is_set():
                raise exceptions.ConnectionWrongStateError(
                    'close() on a closed connection')
            first = not self._close_requested
            self._close_requested = True
        if first:

            def request() -> None:
                if self._recovering:
                    self._stop_recovery(reply_code, reply_text)
                elif self._impl.is_open:
                    self._impl.close(reply_code, reply_text)

            try:
                self._submit(request)
            except exceptions.AMQPError:
                pass
        if not self._closed_event.wait(timeout):
            self._force_close()
        self._thread.join(timeout)

    def abort(self, timeout: Optional[float] = DEFAULT_RPC_TIMEOUT) -> None:
        """Drop the connection's socket without the closing handshake and
        wait until it is closed.

        :param float timeout: seconds to wait for the I/O thread
        """
        timeout = _check_timeout(timeout)
        with self._close_lock:
            self._close_requested = True
        self._force_close()
        self._closed_event.wait(timeout)
        self._thread.join(timeout)

    def _force_close(self) -> None:

        def request() -> None:
            if self._recovering:
                self._stop_recovery(200, 'Connection aborted')
            elif not self._closed_event.is_set():
                self._impl._terminate_stream(
                    exceptions.ConnectionClosedByClient(200,
                                                        'Connection aborted'))

        try:
            self._submit(request)
        except exceptions.AMQPError:
            pass

    def _stop_recovery(self, reply_code: int, reply_text: str) -> None:
        assert self._recovery is not None
        self._recovery.stop(
            exceptions.ConnectionClosedByClient(reply_code, reply_text))

    # -- automatic recovery (pika.recovery) ----------------------------------

    def _require_recovery(self) -> '_recovery_thread_safe.ThreadSafeRecovery':
        if self._recovery is None:
            raise ValueError('automatic recovery is not enabled on this '
                             'connection (see the recovery= argument)')
        return self._recovery

    @property
    def recovery_state(self) -> Optional[RecoveryState]:
        """The :class:`pika.recovery.RecoveryState` (``IDLE``,
        ``RECONNECTING`` from the moment the I/O thread sees a loss until
        everything is restored, ``FAILED``), or None without ``recovery=``.
        """
        if self._recovery is None:
            return None
        return self._recovery.state

    def add_on_recovery_started_callback(
            self, callback: Callable[['Connection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` when a loss is detected and
        recovery starts. Recovery listeners run on the recovery thread
        (``pika-recovery-N``), not on the I/O thread.

        :param callable callback: receives this connection and the loss
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.started_listeners.add(callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[['Connection', List[Any]], Any]) -> None:
        """Call ``callback(connection, skipped)`` (on the recovery thread)
        once the connection, its channels and topology are restored;
        ``skipped`` lists the :class:`pika.recovery.TopologyRecoveryEntity`
        objects that could not be.

        :param callable callback: receives this connection and the list
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.succeeded_listeners.add(callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['Connection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` (on the recovery thread) when
        recovery gives up (``max_attempts`` reached); the connection is then
        closed with the original loss.

        :param callable callback: receives this connection and the last
            attempt's error
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.failed_listeners.add(callback)

    def wait_for_recovery(self, timeout: Optional[float] = None) -> bool:
        """Block the calling thread until a recovery under way is over, or
        ``timeout`` seconds. Returns True if the connection is usable (not
        recovering, not failed, not closed).

        :param float timeout: seconds; None waits until recovered or failed
        :raises ValueError: without ``recovery=``
        """
        timeout = _check_timeout(timeout)
        return self._require_recovery().wait(timeout)

    def current_queue_name(self, queue: str) -> str:
        """The name ``queue`` has now: a server-named queue gets a new name
        when recovery declares it again; other names are returned as is.

        :param str queue: a queue name the application received earlier
        :raises ValueError: without ``recovery=``
        """
        return self._require_recovery().ledger.current_queue_name(queue)


class _Worker:
    """A channel's consumer thread and its queue."""

    def __init__(self, name: str) -> None:
        # Unbounded, so _STOP always fits; the loop thread enforces the
        # bound as the only producer.
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Each counter has one writer (loop thread / worker thread), so
        # their difference is the queue's length without a lock.
        self.put_count = 0
        self.taken_count = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        get = self.queue.get
        while True:
            item = get()
            if item is _STOP or self.stopped:
                return
            self.taken_count += 1
            callback, args = item
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - a user callback never wedges
                LOGGER.exception('consumer callback %r failed', callback)


class _ConsumeEnd:
    """Put in a consume() generator's queue when its consumer ends."""

    __slots__ = ('error',)

    def __init__(self, error: Optional[BaseException]) -> None:
        self.error = error


class _ConsumeGenerator:
    """The consumer behind :meth:`Channel.consume`: its arguments, tag and
    the deliveries not yet yielded (filled on the loop thread)."""

    def __init__(self, params: Tuple[Any, ...], auto_ack: bool) -> None:
        self.params = params
        self.auto_ack = auto_ack
        self.consumer_tag = ''
        self.items: queue.Queue[Any] = queue.Queue()

    def waiting(self) -> int:
        with self.items.mutex:
            return sum(1 for item in self.items.queue
                       if not isinstance(item, _ConsumeEnd))

    def drain(self) -> List[Tuple[Any, Any, Any]]:
        """Take the deliveries not yielded yet."""
        with self.items.mutex:
            pending = [
                item for item in self.items.queue
                if not isinstance(item, _ConsumeEnd)
            ]
            ends = [
                item for item in self.items.queue
                if isinstance(item, _ConsumeEnd)
            ]
            self.items.queue.clear()
            self.items.queue.extend(ends)
        return pending


class Channel:
    """A channel of a :class:`Connection`; every method may be called from
    any thread at the same time, including inside consumer callbacks.
    Obtain one with :meth:`Connection.channel`.
    """

    def __init__(self, connection: Connection, impl: Any) -> None:
        self._connection = connection
        self._impl = impl
        self._channel_number: int = impl.channel_number
        self._waiters: Set[_Waiter] = set()
        self._closed_error: Optional[BaseException] = None
        self._closed = False
        # Publisher confirms: delivery tag -> waiter, loop thread only.
        self._confirming = False
        self._publish_seq = 0
        self._confirm_waiters: Dict[int, _Waiter] = {}
        self._returned: Optional[Tuple[Any, Any, bytes]] = None
        self._get_waiters: Deque[Tuple[_Waiter, str,
                                       bool]] = (collections.deque())
        self._get_empty_hooked = False
        self._worker: Optional[_Worker] = None
        self._overflow: Deque[Tuple[Callable[..., Any],
                                    Tuple[Any, ...]]] = (collections.deque())
        self._return_callbacks: List[Callable[..., Any]] = []
        self._cancel_callbacks: List[Callable[..., Any]] = []
        # Active consumer tags (basic_consume and consume()), loop thread.
        self._consumer_tags: Set[str] = set()
        # The consume() generator's consumer, or None.
        self._generator: Optional[_ConsumeGenerator] = None
        self._consuming_stopped = threading.Event()
        # Recovery: close() was called; publish numbers of earlier
        # (recovered) channels, so next_publish_seq_no never goes back.
        self._user_closed = False
        self._seq_base = 0
        self._attach_impl(impl)

    def _attach_impl(self, impl: Any) -> None:
        """Use ``impl`` as the asynchronous channel (at creation, and when
        recovery swaps in the reopened one; loop thread)."""
        self._impl = impl
        self._get_empty_hooked = False
        self._returned = None
        self._seq_base += self._publish_seq
        self._publish_seq = 0
        impl.add_on_close_callback(self._on_impl_closed)
        impl.add_on_return_callback(self._on_return)
        impl.add_on_cancel_callback(self._on_cancel)

    def __repr__(self) -> str:
        return '<%s number=%s open=%s>' % (type(self).__name__,
                                           self._channel_number, self.is_open)

    def __enter__(self) -> 'Channel':
        return self

    def __exit__(self, exc_type: Any, value: Any, traceback: Any) -> None:
        if self.is_open:
            self.close()

    # -- loop-thread internals ---------------------------------------------

    def _on_impl_closed(self, _impl: Any, error: BaseException) -> None:
        recovery = self._connection._recovery
        if recovery is not None and recovery.on_channel_lost(self, error):
            return  # recovery keeps the channel and reopens it
        self._connection._channels.pop(self._channel_number, None)
        self._on_closed(error)

    def _on_closed(self, error: BaseException) -> None:
        if self._closed:
            return
        self._closed = True
        self._closed_error = error
        for waiter in list(self._waiters):
            waiter.fail(error)
        self._waiters.clear()
        for waiter in self._confirm_waiters.values():
            waiter.fail(error)
        self._confirm_waiters.clear()
        for waiter, _queue, _auto_ack in self._get_waiters:
            waiter.fail(error)
        self._get_waiters.clear()
        self._overflow.clear()
        self._consumer_tags.clear()
        generator = self._generator
        if generator is not None:
            generator.items.put(_ConsumeEnd(error))
        self._consuming_stopped.set()
        self._stop_worker()

    def _stop_worker(self) -> None:
        worker = self._worker
        if worker is not None and not worker.stopped:
            worker.stopped = True
            worker.queue.put(_STOP)

    def _error(self) -> Optional[BaseException]:
        """The error of a call made once the channel is closed (as
        ``BlockingChannel``: ``ChannelWrongStateError``; callers blocked
        when it closed get the closing error itself)."""
        connection = self._connection
        if self._closed or connection._closed_event.is_set():
            error = exceptions.ChannelWrongStateError('Channel is closed.')
            error.__cause__ = (self._closed_error or connection._closed_error)
            return error
        recovery = connection._recovery
        if connection._recovering and recovery is not None:
            return recovery.recovering_error()
        return None

    def _dispatch(self, callback: Callable[..., Any], *args: Any) -> None:
        """Queue a user callback for the channel's worker (loop thread)."""
        worker = self._worker
        if worker is None:
            worker = self._worker = _Worker(
                'pika-consumer-%d-%d' %
                (id(self._connection) % 10000, self._channel_number))
        maxsize = self._connection._work_queue_maxsize
        if self._overflow or (maxsize and
                              worker.put_count - worker.taken_count >= maxsize):
            self._overflow.append((callback, args))
            self._connection._suspend_reading()
            return
        worker.put_count += 1
        worker.queue.put((callback, args))

    def _drain_overflow(self) -> bool:
        """Move what fits from the overflow to the worker; True if empty."""
        overflow = self._overflow
        worker = self._worker
        if not overflow or worker is None:
            overflow.clear()
            return True
        maxsize = self._connection._work_queue_maxsize
        while overflow and (not maxsize or
                            worker.put_count - worker.taken_count < maxsize):
            worker.put_count += 1
            worker.queue.put(overflow.popleft())
        return not overflow

    def _on_return(self, _impl: Any, method: Any, properties: Any,
                   body: bytes) -> None:
        if self._confirming:
            # RabbitMQ sends a mandatory message's Basic.Return right
            # before its Basic.Ack.
            self._returned = (method, properties, body)
        for callback in self._return_callbacks:
            self._dispatch(callback, self, method, properties, body)

    def _on_cancel(self, method_frame: Any) -> None:
        tag = method_frame.method.consumer_tag
        recovery = self._connection._recovery
        if recovery is not None:
            recovery.forget_consumer(self._channel_number, tag)
        self._consumer_tags.discard(tag)
        generator = self._generator
        if generator is not None and generator.consumer_tag == tag:
            generator.items.put(_ConsumeEnd(None))
        if not self._consumer_tags:
            self._consuming_stopped.set()
        for callback in self._cancel_callbacks:
            self._dispatch(callback, method_frame)

    def _on_confirm(self, method_frame: Any) -> None:
        method = method_frame.method
        tag = method.delivery_tag
        nack = isinstance(method, spec.Basic.Nack)
        returned = self._returned
        self._returned = None
        waiters = self._confirm_waiters
        if method.multiple:
            tags = [t for t in waiters if t <= tag]
        else:
            tags = [tag]
        for one_tag in tags:
            waiter = waiters.pop(one_tag, None)
            if waiter is None:
                continue
            if nack:
                waiter.fail(
                    exceptions.NackError(
                        [_returned_message(returned)] if returned else []))
            elif returned is not None and one_tag == tag:
                waiter.fail(
                    exceptions.UnroutableError([_returned_message(returned)]))
            else:
                waiter.set()

    def _rpc(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``impl.name(*args, callback=..., **kwargs)`` and wait for
        the reply's method frame."""
        registry = self._waiters
        recovery = self._connection._recovery

        def request(waiter: _Waiter) -> None:

            def on_reply(method_frame: Any) -> None:
                registry.discard(waiter)
                if recovery is not None:
                    recovery.record(self, name, args, method_frame)
                waiter.set(method_frame)

            getattr(self._impl, name)(*args, callback=on_reply, **kwargs)

        return self._connection._call(request, registry,
                                      self._connection._rpc_timeout,
                                      self._error)

    def _send(self, function: Callable[[], Any]) -> None:
        """Run ``function`` on the loop thread without waiting for a reply
        (a method the broker does not answer)."""
        error = self._error()
        if error is not None:
            raise error
        self._connection._submit(function)

    def _consumer_gone(self, consumer_tag: str) -> None:
        """Recovery could not restore a consumer (loop thread)."""
        generator = self._generator
        if generator is not None and generator.consumer_tag == consumer_tag:
            self._generator = None
            generator.items.put(_ConsumeEnd(None))
        self._forget_consumer(consumer_tag)

    # -- properties ---------------------------------------------------------

    @property
    def channel_number(self) -> int:
        """The channel's number."""
        return self._channel_number

    @property
    def connection(self) -> Connection:
        """The :class:`Connection` the channel belongs to."""
        return self._connection

    @property
    def is_open(self) -> bool:
        """True while the channel is open."""
        return self._error() is None

    @property
    def is_closed(self) -> bool:
        """True once the channel is closed (not while it is recovering)."""
        return self._closed or self._connection._closed_event.is_set()

    @property
    def next_publish_seq_no(self) -> int:
        """The number the next publish will get (with confirms on); it keeps
        counting across recoveries."""
        return self._seq_base + self._publish_seq + 1

    # -- methods ------------------------------------------------------------

    def close(self,
              reply_code: int = 0,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the channel and wait until the broker confirms it.

        :param int reply_code: the code sent to the broker
        :param str reply_text: the text sent to the broker
        """
        registry = self._waiters
        self._user_closed = True
        connection = self._connection
        if connection._recovering and not self._closed:
            # Nothing to tell the broker: the channel is not restored.
            recovery = connection._recovery
            assert recovery is not None
            done = _Waiter()

            def drop() -> None:
                recovery.drop_channel(
                    self,
                    exceptions.ChannelClosedByClient(reply_code, reply_text))
                done.set()

            connection._submit(drop)
            done.wait(connection._rpc_timeout)
            return

        def request(waiter: _Waiter) -> None:
            self._impl.add_on_close_callback(
                lambda _ch, _err: self._answer_close(waiter))
            self._impl.close(reply_code, reply_text)

        try:
            self._connection._call(request, registry,
                                   self._connection._rpc_timeout, self._error)
        except exceptions.ChannelClosedByClient:
            pass

    def _answer_close(self, waiter: _Waiter) -> None:
        self._waiters.discard(waiter)
        waiter.set()

    def _add_recovery_listener(self, kind: str,
                               callback: Callable[..., Any]) -> None:
        recovery = self._connection._require_recovery()
        channels = self._connection._channels
        recovery.coordinator.add_channel_listener(
            kind, self, callback, lambda: self in channels.values())

    def add_on_recovery_started_callback(
            self, callback: Callable[['Channel', BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` (on the recovery thread) when
        the connection is lost and recovery starts.

        :param callable callback: receives this channel and the loss
        :raises ValueError: without ``recovery=`` on the connection
        """
        self._add_recovery_listener('started', callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[['Channel', List[Any]], Any]) -> None:
        """Call ``callback(channel, skipped)`` (on the recovery thread) once
        recovered; ``skipped`` holds this channel's entities that could not
        be restored.

        :param callable callback: receives this channel and the list
        :raises ValueError: without ``recovery=`` on the connection
        """
        self._add_recovery_listener('succeeded', callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['Channel', BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` (on the recovery thread) when
        recovery gives up.

        :param callable callback: receives this channel and the last error
        :raises ValueError: without ``recovery=`` on the connection
        """
        self._add_recovery_listener('failed', callback)

    def add_on_return_callback(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(channel, method, properties, body)`` on the
        channel's worker thread for each message the broker returns.

        :param callable callback: the function to call
        """
        if not callable(callback):
            raise TypeError('callback must be callable, got %r' % (callback,))
        self._connection._submit(
            lambda: self._return_callbacks.append(callback))

    def add_on_cancel_callback(self, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(method_frame)`` on the channel's worker thread when
        the broker cancels a consumer (``Basic.Cancel``).

        :param callable callback: the function to call
        """
        if not callable(callback):
            raise TypeError('callback must be callable, got %r' % (callback,))
        self._connection._submit(
            lambda: self._cancel_callbacks.append(callback))

    def confirm_delivery(self) -> None:
        """Turn on publisher confirms: each :meth:`basic_publish` then
        returns once the broker confirmed its message."""
        registry = self._waiters

        def request(waiter: _Waiter) -> None:

            def on_ok(_frame: Any) -> None:
                self._confirming = True
                registry.discard(waiter)
                waiter.set()

            self._impl.confirm_delivery(self._on_confirm, callback=on_ok)

        self._connection._call(request, registry, self._connection._rpc_timeout,
                               self._error)

    def basic_publish(self,
                      exchange: str,
                      routing_key: str,
                      body: Any,
                      properties: Optional[spec.BasicProperties] = None,
                      mandatory: bool = False) -> None:
        """Publish a message; with confirms on, wait for its confirm.

        :param str exchange: the exchange
        :param str routing_key: the routing key
        :param body: the message body (bytes or str)
        :param pika.spec.BasicProperties properties: message properties
        :param bool mandatory: ask the broker to return it if unroutable
        :raises pika.exceptions.UnroutableError: returned (confirms on)
        :raises pika.exceptions.NackError: nacked by the broker
        """
        if body.__class__ is not bytes:
            if isinstance(body, str):
                body = body.encode('utf-8')
            elif isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            else:
                raise TypeError('body must be a str or bytes, but got %r' %
                                (type(body).__name__,))
        if exchange.__class__ is not str and not isinstance(
                exchange, (str, bytes)):
            raise exceptions._ArgumentTypeError(
                'exchange must be a str or bytes, but got %r' % (exchange,))
        if routing_key.__class__ is not str and not isinstance(
                routing_key, (str, bytes)):
            raise exceptions._ArgumentTypeError(
                'routing_key must be a str or bytes, but got %r' %
                (routing_key,))
        if properties is not None and not isinstance(properties,
                                                     spec.BasicProperties):
            raise TypeError('properties must be a pika.spec.BasicProperties '
                            'or None, but got %r' % (properties,))
        connection = self._connection
        if (self._closed or connection._closed_event.is_set() or
                connection._recovering):
            connection._recovery_gate()
            error = self._error()
            if error is not None:
                raise error
        if not self._confirming and (len(connection._requests)
                                     < _PUBLISH_QUEUE_HIGH_WATER):
            # Nothing to wait for: the loop thread sends it in its turn,
            # after every request queued before it.
            connection._submit(lambda: self._publish_unconfirmed(
                exchange, routing_key, body, properties, mandatory))
            return
        # Confirms on (wait for this message's confirm) or many publishes
        # not sent yet (wait until the loop thread has taken this one, so
        # that fast publishers cannot outrun the socket without limit).
        waiter = _Waiter()

        def request() -> None:
            error = self._error()
            if error is not None:
                recovery = connection._recovery
                if recovery is None or not recovery.hold_publish(
                        self, waiter,
                    (exchange, routing_key, body, properties, mandatory)):
                    waiter.fail(error)
                return
            try:
                self._impl.basic_publish(exchange, routing_key, body,
                                         properties, mandatory)
            except Exception as exc:  # noqa: BLE001 - raised in the caller
                waiter.fail(exc)
                return
            if self._confirming:
                if connection._recovery is not None:
                    # kept until confirmed: reported or published again if
                    # the connection is lost first
                    waiter.value = (exchange, routing_key, body, properties,
                                    mandatory)
                self._publish_seq += 1
                self._confirm_waiters[self._publish_seq] = waiter
            else:
                waiter.set()

        connection._submit(request)
        waiter.wait(None)

    def _publish_unconfirmed(self, exchange: str, routing_key: str, body: bytes,
                             properties: Any, mandatory: bool) -> None:
        """Send a publish nobody waits for (loop thread)."""
        if self._closed:
            LOGGER.debug('publish dropped: channel %d closed',
                         self._channel_number)
            return
        try:
            self._impl.basic_publish(exchange, routing_key, body, properties,
                                     mandatory)
        except exceptions.AMQPError as error:  # closing meanwhile
            LOGGER.debug('publish dropped: %r', error)
            return
        if self._confirming:
            # confirm_delivery() ran after this publish was queued
            self._publish_seq += 1

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge one message or, with ``multiple``, all up to it.

        :param int delivery_tag: the delivery tag
        :param bool multiple: include all earlier unacknowledged messages
        """
        recovery = self._connection._recovery
        if recovery is not None:
            recovery.send_ack(self, 'basic_ack', delivery_tag, multiple)
            return
        self._send(lambda: self._impl.basic_ack(delivery_tag, multiple))

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Reject one or (``multiple``) several messages.

        :param int delivery_tag: the delivery tag
        :param bool multiple: include all earlier unacknowledged messages
        :param bool requeue: requeue rather than drop or dead-letter
        """
        recovery = self._connection._recovery
        if recovery is not None:
            recovery.send_ack(self, 'basic_nack', delivery_tag, multiple,
                              requeue)
            return
        self._send(
            lambda: self._impl.basic_nack(delivery_tag, multiple, requeue))

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Reject one message.

        :param int delivery_tag: the delivery tag
        :param bool requeue: requeue rather than drop or dead-letter
        """
        recovery = self._connection._recovery
        if recovery is not None:
            recovery.send_ack(self, 'basic_reject', delivery_tag, False,
                              requeue)
            return
        self._send(lambda: self._impl.basic_reject(delivery_tag, requeue))

    def basic_qos(self,
                  prefetch_size: int = 0,
                  prefetch_count: int = 0,
                  global_qos: bool = False) -> None:
        """Set the prefetch window.

        :param int prefetch_size: window in octets (0: no limit)
        :param int prefetch_count: window in messages (0: no limit)
        :param bool global_qos: apply to the whole channel
        """
        self._rpc('basic_qos', prefetch_size, prefetch_count, global_qos)

    def basic_recover(self, requeue: bool = False) -> None:
        """Ask the broker to redeliver unacknowledged messages.

        :param bool requeue: requeue them (RabbitMQ needs True)
        """
        self._rpc('basic_recover', requeue)

    def basic_get(self,
                  queue: str,
                  auto_ack: bool = False) -> Tuple[Any, Any, Any]:
        """Get one message.

        :param str queue: the queue
        :param bool auto_ack: no acknowledgement needed
        :returns: ``(method, properties, body)``, or three Nones when the
            queue is empty
        """
        message: Tuple[Any, Any, Any] = self._connection._call(
            lambda waiter: self._queue_get(waiter, queue, auto_ack),
            self._waiters, self._connection._rpc_timeout, self._error)
        return message

    # One Basic.Get in flight per channel (the channel allows no more); the
    # rest wait in _get_waiters, issued in turn as each reply arrives.

    def _queue_get(self, waiter: _Waiter, queue: str, auto_ack: bool) -> None:
        if not self._get_empty_hooked:
            self._get_empty_hooked = True
            self._impl.add_callback(self._on_get_empty, [spec.Basic.GetEmpty],
                                    one_shot=False)
        self._get_waiters.append((waiter, queue, auto_ack))
        if len(self._get_waiters) == 1:
            self._impl.basic_get(queue, self._on_get_ok, auto_ack)

    def _finish_get(self, value: Tuple[Any, Any, Any]) -> None:
        gets = self._get_waiters
        if not gets:
            return
        waiter = gets.popleft()[0]
        self._waiters.discard(waiter)
        waiter.set(value)
        if gets and not self._closed:
            _waiter, queue, auto_ack = gets[0]
            self._impl.basic_get(queue, self._on_get_ok, auto_ack)

    def _on_get_ok(self, _ch: Any, method: Any, properties: Any,
                   body: bytes) -> None:
        recovery = self._connection._recovery
        if recovery is not None:
            method.delivery_tag += recovery.tag_base
        self._finish_get((method, properties, body))

    def _on_get_empty(self, _frame: Any) -> None:
        self._finish_get((None, None, None))

    def basic_consume(self,
                      queue: str,
                      on_message_callback: Callable[..., Any],
                      auto_ack: bool = False,
                      exclusive: bool = False,
                      consumer_tag: Optional[str] = None,
                      arguments: Optional[Dict[str, Any]] = None) -> str:
        """Start a consumer; ``on_message_callback(channel, method,
        properties, body)`` runs on the channel's worker thread, in order.

        :param str queue: the queue
        :param callable on_message_callback: the message handler
        :param bool auto_ack: no acknowledgements needed
        :param bool exclusive: no other consumer on the queue
        :param str consumer_tag: the tag (None: generated)
        :param dict arguments: extra consume arguments
        :returns: the consumer tag
        """
        if not callable(on_message_callback):
            raise TypeError('on_message_callback must be callable, got %r' %
                            (on_message_callback,))

        def on_message(_ch: Any, method: Any, properties: Any,
                       body: bytes) -> None:
            self._dispatch(on_message_callback, self, method, properties, body)

        recovery = self._connection._recovery
        if recovery is not None:
            on_message = recovery.delivery_handler(self, on_message_callback,
                                                   auto_ack)
        return self._start_consumer(queue, on_message, auto_ack, exclusive,
                                    arguments, consumer_tag)

    def _start_consumer(self,
                        queue: str,
                        on_message: Callable[..., Any],
                        auto_ack: bool,
                        exclusive: bool,
                        arguments: Optional[Dict[str, Any]],
                        consumer_tag: Optional[str] = None) -> str:
        """Send ``Basic.Consume`` with ``on_message`` run on the loop
        thread; wait for ``Basic.ConsumeOk``; return the tag."""
        registry = self._waiters

        def request(waiter: _Waiter) -> None:
            tag_box: List[str] = []

            def on_ok(_frame: Any) -> None:
                registry.discard(waiter)
                tag = tag_box[0] if tag_box else _frame.method.consumer_tag
                self._consumer_tags.add(tag)
                recovery = self._connection._recovery
                if recovery is not None:
                    recovery.record_consumer(self, tag, queue, on_message,
                                             auto_ack, exclusive, arguments)
                self._consuming_stopped.clear()
                waiter.set(tag)

            tag_box.append(
                self._impl.basic_consume(queue,
                                         on_message,
                                         auto_ack=auto_ack,
                                         exclusive=exclusive,
                                         consumer_tag=consumer_tag,
                                         arguments=arguments,
                                         callback=on_ok))

        tag: str = self._connection._call(request, registry,
                                          self._connection._rpc_timeout,
                                          self._error)
        return tag

    def basic_cancel(self, consumer_tag: str) -> List[Tuple[Any, Any, Any]]:
        """Cancel a consumer and wait for ``Basic.CancelOk``.

        :param str consumer_tag: the consumer
        :returns: an empty list (deliveries already read still reach the
            callback in order)
        """
        self._rpc('basic_cancel', consumer_tag)
        self._forget_consumer(consumer_tag)
        generator = self._generator
        if generator is None or generator.consumer_tag != consumer_tag:
            return []
        self._generator = None
        generator.items.put(_ConsumeEnd(None))
        return generator.drain()

    def _forget_consumer(self, consumer_tag: str) -> None:
        self._consumer_tags.discard(consumer_tag)
        if not self._consumer_tags:
            self._consuming_stopped.set()

    @property
    def consumer_tags(self) -> List[str]:
        """The tags of this channel's active consumers."""
        return list(self._consumer_tags)

    def start_consuming(self) -> None:
        """Block the calling thread until every consumer of this channel
        is cancelled (:meth:`stop_consuming`, :meth:`basic_cancel`, the
        broker) or the channel closes; the consumer callbacks themselves run
        on the channel's worker thread meanwhile.

        :raises pika.exceptions.ChannelWrongStateError: the channel is closed
        :raises pika.exceptions.AMQPChannelError: it closed while waiting
        """
        error = self._error()
        if error is not None:
            raise error
        self._consuming_stopped.wait()
        if self._closed and self._closed_error is not None:
            raise self._closed_error

    def stop_consuming(self, consumer_tag: Optional[str] = None) -> None:
        """Cancel ``consumer_tag`` (None: every consumer of this channel,
        the :meth:`consume` generator's too), which ends
        :meth:`start_consuming`.

        :param str consumer_tag: the consumer to cancel, or None for all
        """
        tags = [consumer_tag] if consumer_tag else self.consumer_tags
        generator = self._generator
        for tag in tags:
            if generator is not None and tag == generator.consumer_tag:
                self.cancel()
            else:
                self.basic_cancel(tag)

    def consume(self,
                queue: str,
                auto_ack: bool = False,
                exclusive: bool = False,
                arguments: Optional[Dict[str, Any]] = None,
                inactivity_timeout: Optional[float] = None,
                consumer_tag: Optional[str] = None) -> Iterator[Any]:
        """A generator of ``(method, properties, body)`` deliveries from
        ``queue``, as :meth:`BlockingChannel.consume
        <pika.adapters.blocking_connection.BlockingChannel.consume>`: with
        ``inactivity_timeout`` it yields ``(None, None, None)`` after that
        many seconds without a delivery; it ends once :meth:`cancel` is
        called and raises the channel's closing error if the channel closes.
        One such consumer per channel; calling again with the same arguments
        continues it.

        :param str queue: the queue
        :param bool auto_ack: no acknowledgements needed
        :param bool exclusive: no other consumer on the queue
        :param dict arguments: extra consume arguments
        :param float inactivity_timeout: seconds, or None to wait forever
        :param str consumer_tag: the tag (None: generated)
        :raises ValueError: a consumer with other arguments is active
        """
        if inactivity_timeout is not None and (
                isinstance(inactivity_timeout, bool) or
                not isinstance(inactivity_timeout,
                               (int, float)) or inactivity_timeout < 0):
            raise ValueError('inactivity_timeout must be a non-negative '
                             'number or None, got %r' % (inactivity_timeout,))
        params = (queue, auto_ack, exclusive, arguments, consumer_tag)
        generator = self._generator
        if generator is not None and generator.params != params:
            raise ValueError('consume() with other arguments while a consume() '
                             'consumer of this channel is active: %r vs %r' %
                             (params, generator.params))
        if generator is None:
            generator = _ConsumeGenerator(params, auto_ack)

            def on_message(_ch: Any, method: Any, properties: Any,
                           body: bytes) -> None:
                generator.items.put((method, properties, body))

            recovery = self._connection._recovery
            if recovery is not None:
                on_message = recovery.translated(on_message)
            self._generator = generator
            try:
                generator.consumer_tag = self._start_consumer(
                    queue, on_message, auto_ack, exclusive, arguments,
                    consumer_tag)
            except BaseException:
                self._generator = None
                raise
        return self._iterate(generator, inactivity_timeout)

    def _iterate(self, generator: '_ConsumeGenerator',
                 inactivity_timeout: Optional[float]) -> Iterator[Any]:
        items = generator.items
        while True:
            try:
                item = items.get(timeout=inactivity_timeout)
            except queue.Empty:
                yield (None, None, None)
                continue
            if isinstance(item, _ConsumeEnd):
                items.put(item)  # later iterators end too
                if item.error is not None:
                    raise item.error
                return
            yield item

    def get_waiting_message_count(self) -> int:
        """How many deliveries the :meth:`consume` generator holds that it
        has not yielded yet."""
        generator = self._generator
        return 0 if generator is None else generator.waiting()

    def cancel(self) -> int:
        """Cancel the :meth:`consume` generator's consumer; deliveries it
        holds and has not yielded are returned to the broker
        (``Basic.Nack`` with requeue) unless ``auto_ack``.

        :returns: how many messages were requeued
        """
        generator = self._generator
        if generator is None:
            return 0
        pending = self.basic_cancel(generator.consumer_tag)
        if generator.auto_ack or not pending or not self.is_open:
            return 0
        self.basic_nack(pending[-1][0].delivery_tag,
                        multiple=True,
                        requeue=True)
        return len(pending)

    def flow(self, active: bool) -> bool:
        """Ask the broker to stop (False) or resume (True) deliveries.

        :param bool active: resume (True) or stop (False)
        :returns: whether the broker will send deliveries
        """
        return bool(self._rpc('flow', active))

    def tx_select(self) -> Any:
        """Enter transaction mode; returns ``Tx.SelectOk``."""
        return self._rpc('tx_select')

    def tx_commit(self) -> Any:
        """Commit the current transaction; returns ``Tx.CommitOk``."""
        return self._rpc('tx_commit')

    def tx_rollback(self) -> Any:
        """Roll back the current transaction; returns ``Tx.RollbackOk``."""
        return self._rpc('tx_rollback')

    def queue_declare(self,
                      queue: str,
                      passive: bool = False,
                      durable: bool = False,
                      exclusive: bool = False,
                      auto_delete: bool = False,
                      arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Declare a queue; returns the ``Queue.DeclareOk`` method frame.

        :param str queue: the name ('' lets the broker name it)
        :param bool passive: only check that it exists
        :param bool durable: survive broker restarts
        :param bool exclusive: only this connection may use it
        :param bool auto_delete: delete it when its last consumer leaves
        :param dict arguments: extra arguments
        """
        return self._rpc('queue_declare', queue, passive, durable, exclusive,
                         auto_delete, arguments)

    def queue_bind(self,
                   queue: str,
                   exchange: str,
                   routing_key: Optional[str] = None,
                   arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Bind a queue to an exchange; returns ``Queue.BindOk``.

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key (None: the queue name)
        :param dict arguments: binding arguments
        """
        return self._rpc('queue_bind', queue, exchange, routing_key, arguments)

    def queue_unbind(self,
                     queue: str,
                     exchange: str,
                     routing_key: Optional[str] = None,
                     arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Remove a binding; returns ``Queue.UnbindOk``.

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key
        :param dict arguments: binding arguments
        """
        return self._rpc('queue_unbind', queue, exchange, routing_key,
                         arguments)

    def queue_purge(self, queue: str) -> Any:
        """Drop a queue's messages; returns ``Queue.PurgeOk``.

        :param str queue: the queue
        """
        return self._rpc('queue_purge', queue)

    def queue_delete(self,
                     queue: str,
                     if_unused: bool = False,
                     if_empty: bool = False) -> Any:
        """Delete a queue; returns ``Queue.DeleteOk``.

        :param str queue: the queue
        :param bool if_unused: only if it has no consumers
        :param bool if_empty: only if it holds no messages
        """
        return self._rpc('queue_delete', queue, if_unused, if_empty)

    def exchange_declare(self,
                         exchange: str,
                         exchange_type: Any = ExchangeType.direct,
                         passive: bool = False,
                         durable: bool = False,
                         auto_delete: bool = False,
                         internal: bool = False,
                         arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Declare an exchange; returns ``Exchange.DeclareOk``.

        :param str exchange: the name
        :param exchange_type: the type (str or
            :class:`pika.exchange_type.ExchangeType`)
        :param bool passive: only check that it exists
        :param bool durable: survive broker restarts
        :param bool auto_delete: delete when its last binding goes
        :param bool internal: only other exchanges may publish to it
        :param dict arguments: extra arguments
        """
        return self._rpc('exchange_declare', exchange, exchange_type, passive,
                         durable, auto_delete, internal, arguments)

    def exchange_delete(self,
                        exchange: Optional[str] = None,
                        if_unused: bool = False) -> Any:
        """Delete an exchange; returns ``Exchange.DeleteOk``.

        :param str exchange: the name
        :param bool if_unused: only if it has no bindings
        """
        return self._rpc('exchange_delete', exchange, if_unused)

    def exchange_bind(self,
                      destination: str,
                      source: str,
                      routing_key: str = '',
                      arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Bind an exchange to another; returns ``Exchange.BindOk``.

        :param str destination: the receiving exchange
        :param str source: the exchange messages come from
        :param str routing_key: the binding key
        :param dict arguments: binding arguments
        """
        return self._rpc('exchange_bind', destination, source, routing_key,
                         arguments)

    def exchange_unbind(self,
                        destination: Optional[str] = None,
                        source: Optional[str] = None,
                        routing_key: str = '',
                        arguments: Optional[Dict[str, Any]] = None) -> Any:
        """Remove an exchange binding; returns ``Exchange.UnbindOk``.

        :param str destination: the receiving exchange
        :param str source: the exchange messages come from
        :param str routing_key: the binding key
        :param dict arguments: binding arguments
        """
        return self._rpc('exchange_unbind', destination, source, routing_key,
                         arguments)


def _returned_message(returned: Tuple[Any, Any, bytes]) -> Any:
    from pika.adapters._blocking_events import ReturnedMessage
    return ReturnedMessage(*returned)
