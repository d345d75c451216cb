"""Unit tests of select_connection.IOLoop and its pollers (no broker)."""

import socket
import threading
import time
from typing import List

import pytest

from pika.adapters import select_connection
from pika.adapters.select_connection import IOLoop, PollEvents

POLLERS = ['select', 'poll', 'epoll']


@pytest.fixture(params=POLLERS)
def ioloop(request):
    saved = select_connection.SELECT_TYPE
    select_connection.SELECT_TYPE = request.param
    try:
        loop = IOLoop()
    finally:
        select_connection.SELECT_TYPE = saved
    yield loop
    loop.close()


def _run(loop, timeout=2.0):
    guard = loop.call_later(timeout, loop.stop)
    started = time.monotonic()
    loop.start()
    loop.remove_timeout(guard)
    return time.monotonic() - started


def test_select_type_picks_poller():
    saved = select_connection.SELECT_TYPE
    try:
        for name, cls in [('select', select_connection.SelectPoller),
                          ('poll', select_connection.PollPoller),
                          ('epoll', select_connection.EPollPoller)]:
            select_connection.SELECT_TYPE = name
            loop = IOLoop()
            assert type(loop._poller) is cls
            loop.close()
        select_connection.SELECT_TYPE = None
        loop = IOLoop()
        assert type(loop._poller) is select_connection.EPollPoller
        loop.close()
        select_connection.SELECT_TYPE = 'bogus'
        with pytest.raises(ValueError):
            IOLoop()
    finally:
        select_connection.SELECT_TYPE = saved


def test_constants():
    assert (PollEvents.READ, PollEvents.WRITE, PollEvents.ERROR,
            PollEvents.HANGUP) == (1, 4, 8, 16)
    assert (IOLoop.READ, IOLoop.WRITE, IOLoop.ERROR) == (1, 4, 8)
    assert select_connection.PollPoller.POLL_TIMEOUT_MULT == 1000
    assert select_connection.EPollPoller.POLL_TIMEOUT_MULT == 1


def test_timers_fire_in_order_and_cancel(ioloop):
    fired = []
    ioloop.call_later(0.03, lambda: fired.append('b'))
    ioloop.call_later(0.01, lambda: fired.append('a'))
    cancelled = ioloop.call_later(0.02, lambda: fired.append('never'))
    ioloop.remove_timeout(cancelled)
    ioloop.remove_timeout(cancelled)  # idempotent
    ioloop.add_callback(lambda: fired.append('soon'))
    ioloop.call_later(0.05, ioloop.stop)
    elapsed = _run(ioloop)
    assert fired == ['soon', 'a', 'b']
    assert 0.045 <= elapsed < 1.0


def test_call_later_checks_arguments(ioloop):
    with pytest.raises(TypeError):
        ioloop.call_later(1, None)
    with pytest.raises(TypeError):
        ioloop.call_later('1', lambda: None)
    with pytest.raises(ValueError):
        ioloop.call_later(-1, lambda: None)
    with pytest.raises(TypeError):
        ioloop.add_callback_threadsafe('nope')
    with pytest.raises(TypeError):
        ioloop.remove_timeout(object())


def test_many_cancelled_timers_are_compacted(ioloop):
    handles = [ioloop.call_later(100, lambda: None) for _ in range(2000)]
    for handle in handles:
        ioloop.remove_timeout(handle)
    assert len(ioloop._timer_heap) < 1000
    ioloop.call_later(0, ioloop.stop)
    assert _run(ioloop) < 0.5


def test_stop_before_start_returns_immediately(ioloop):
    ioloop.stop()
    assert _run(ioloop) < 0.5


def test_stop_from_other_thread(ioloop):
    started = time.monotonic()
    threading.Timer(0.05, ioloop.stop).start()
    _run(ioloop, timeout=3)
    elapsed = time.monotonic() - started
    assert 0.04 <= elapsed < 1.0


def test_add_callback_threadsafe_wakes_poller(ioloop):
    seen = []

    def from_thread():
        ioloop.add_callback_threadsafe(
            lambda: (seen.append(threading.get_ident()), ioloop.stop()))

    threading.Timer(0.05, from_thread).start()
    elapsed = _run(ioloop, timeout=3)
    assert seen == [threading.get_ident()]
    assert elapsed < 1.0


def test_fd_handlers_read_write_update_remove(ioloop):
    left, right = socket.socketpair()
    left.setblocking(False)
    right.setblocking(False)
    events = []

    def handler(fd, mask):
        events.append(mask)
        if mask & ioloop.READ:
            assert left.recv(100) == b'ping'
            ioloop.remove_handler(fd)
            ioloop.stop()
        elif mask & ioloop.WRITE:
            ioloop.update_handler(fd, ioloop.READ)
            right.send(b'ping')

    ioloop.add_handler(left.fileno(), handler, ioloop.WRITE)
    _run(ioloop)
    assert events[0] & ioloop.WRITE
    assert events[-1] & ioloop.READ
    with pytest.raises(TypeError):
        ioloop.add_handler('x', handler, ioloop.READ)
    left.close()
    right.close()


def test_poll_and_process_timeouts_pump(ioloop):
    """BlockingConnection pumps the loop with poll() + process_timeouts()."""
    fired = []
    ioloop.call_later(0.02, lambda: fired.append(1))
    deadline = time.monotonic() + 2
    while not fired and time.monotonic() < deadline:
        ioloop.poll()
        ioloop.process_timeouts()
    assert fired == [1]
    # With a callback queued, poll() must not wait.
    ioloop.add_callback(lambda: fired.append(2))
    started = time.monotonic()
    ioloop.poll()
    assert time.monotonic() - started < 0.5
    ioloop.process_timeouts()
    assert fired == [1, 2]


def test_activate_deactivate_poller(ioloop):
    ioloop.activate_poller()
    ioloop.deactivate_poller()
    ioloop.call_later(0.01, ioloop.stop)
    assert _run(ioloop) < 1.0


def test_close_is_idempotent_and_rejects_start(ioloop):
    ioloop.close()
    ioloop.close()
    with pytest.raises(RuntimeError):
        ioloop.start()


POLLER_CLASSES = {
    'select': select_connection.SelectPoller,
    'poll': select_connection.PollPoller,
    'epoll': select_connection.EPollPoller,
}


@pytest.mark.parametrize('kind', POLLERS)
def test_poller_keyword_fileno_and_start_stop_wake(kind):
    # As pika 1.4.4's pollers: add_handler(fileno, handler, events),
    # update_handler(fileno, events), remove_handler(fileno); start() runs
    # poll + process_timeouts until stop(); wake_threadsafe() ends a wait.
    timeouts_processed = []
    poller = None

    def process_timeouts():
        timeouts_processed.append(1)
        if len(timeouts_processed) == 3:
            poller.stop()

    poller = POLLER_CLASSES[kind](lambda: 5.0, process_timeouts)
    left, right = socket.socketpair()
    try:
        seen = []
        poller.add_handler(fileno=left.fileno(),
                           handler=lambda fd, ev: seen.append((fd, ev)),
                           events=PollEvents.WRITE)
        poller.update_handler(fileno=left.fileno(), events=PollEvents.READ)
        right.send(b'x')
        started = time.monotonic()
        poller.start()
        assert len(timeouts_processed) == 3
        assert time.monotonic() - started < 4.0  # the byte ended the waits
        assert seen and seen[0] == (left.fileno(), PollEvents.READ)
        poller.remove_handler(fileno=left.fileno())

        # wake_threadsafe/stop from another thread end a 5 s wait early.
        timeouts_processed.clear()
        threading.Timer(0.2, poller.stop).start()
        started = time.monotonic()
        poller.start()
        assert time.monotonic() - started < 4.0
        assert len(timeouts_processed) >= 1

        waits = []
        threading.Timer(0.2, poller.wake_threadsafe).start()
        started = time.monotonic()
        poller.poll()
        waits.append(time.monotonic() - started)
        assert waits[0] < 4.0

        def reenter():
            with pytest.raises(RuntimeError):
                poller.start()
            poller.stop()

        timeouts_processed.clear()
        poller._process_timeouts = reenter
        poller.wake_threadsafe()  # no 5 s wait before the first iteration
        poller.start()
    finally:
        poller.close()
        left.close()
        right.close()


def test_timeouts_order_by_deadline():
    # As pika 1.4.4's _Timeout: comparisons use the deadline.
    early = select_connection._Timeout(1.0, lambda: None)
    late = select_connection._Timeout(2.0, lambda: None)
    same = select_connection._Timeout(1.0, lambda: None)
    assert early < late and late > early
    assert early <= same and early >= same and not early < same
    assert sorted([late, early]) == [early, late]
    assert len({early, same}) == 2  # still hashable


@pytest.mark.parametrize('poller', ['select', 'poll', 'epoll'])
def test_ioloop_fd_handler_registration_semantics(poller: str) -> None:
    import socket
    saved = select_connection.SELECT_TYPE
    select_connection.SELECT_TYPE = poller
    try:
        loop = select_connection.IOLoop()
    finally:
        select_connection.SELECT_TYPE = saved
    reader, writer = socket.socketpair()
    calls: List[str] = []

    def first(fd: int, events: int) -> None:
        calls.append('first')

    def second(fd: int, events: int) -> None:
        calls.append('second')
        reader.recv(10)
        loop.stop()

    try:
        loop.add_handler(reader.fileno(), first, loop.READ)
        # registering the fd again replaces its handler
        loop.add_handler(reader.fileno(), second, loop.READ)
        writer.send(b'x')
        loop.call_later(2, loop.stop)
        loop.start()
        assert calls == ['second']
        loop.remove_handler(reader.fileno())
        with pytest.raises(KeyError):
            loop.remove_handler(reader.fileno())
    finally:
        loop.close()
        reader.close()
        writer.close()
