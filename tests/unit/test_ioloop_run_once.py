"""One SelectConnection IOLoop iteration (``IOLoop._run_once``) on every
poller: it polls, then runs due timers and queued callbacks, in the same
order and with the same waits as ``poll()`` followed by
``process_timeouts()``.
"""

import socket
import threading
import time

import pytest

from pika.adapters import select_connection


@pytest.fixture(params=['epoll', 'poll', 'select'])
def ioloop(request, monkeypatch):
    poller_class = {
        'epoll': select_connection.EPollPoller,
        'poll': select_connection.PollPoller,
        'select': select_connection.SelectPoller,
    }[request.param]
    if not poller_class.is_available():
        pytest.fail('poller %s missing on this platform' % request.param)
    monkeypatch.setattr(select_connection, 'SELECT_TYPE', request.param)
    loop = select_connection.IOLoop()
    loop.activate_poller()
    yield loop
    loop.close()


def test_run_once_uses_the_primitive_only_for_poll_and_epoll(ioloop):
    wait = ioloop._poller._wait
    if isinstance(ioloop._poller, select_connection.PollPoller):
        assert wait is not None
    else:
        assert wait is None
    ioloop.deactivate_poller()
    assert ioloop._poller._wait is None


def test_run_once_order_matches_poll_then_process_timeouts(ioloop):
    calls = []

    def first():
        calls.append('first')
        # queued by a callback: runs on the next iteration, after due timers
        ioloop.add_callback_threadsafe(lambda: calls.append('nested'))

    ioloop.call_later(0, lambda: calls.append('timer'))
    ioloop.add_callback_threadsafe(first)
    ioloop._run_once()
    assert calls == ['first', 'timer']
    ioloop._run_once()
    assert calls == ['first', 'timer', 'nested']


def test_run_once_dispatches_fd_handlers_before_callbacks(ioloop):
    calls = []
    reader, writer = socket.socketpair()
    try:

        def on_readable(fd, events):
            calls.append(('fd', fd, bool(events & ioloop.READ)))
            reader.recv(16)

        ioloop.add_handler(reader.fileno(), on_readable, ioloop.READ)
        writer.send(b'x')
        ioloop.add_callback_threadsafe(lambda: calls.append('callback'))
        ioloop._run_once()
        assert calls == [('fd', reader.fileno(), True), 'callback']
    finally:
        ioloop.remove_handler(reader.fileno())
        reader.close()
        writer.close()


def test_run_once_waits_only_until_the_next_timer(ioloop):
    fired = []
    ioloop.call_later(0.05, lambda: fired.append(time.monotonic()))
    start = time.monotonic()
    while not fired:
        ioloop._run_once()
        assert time.monotonic() - start < 1.0
    assert fired[0] - start >= 0.04


def test_run_once_skips_cancelled_timers(ioloop):
    fired = []
    handle = ioloop.call_later(0.01, lambda: fired.append('cancelled'))
    ioloop.call_later(0.03, lambda: fired.append('kept'))
    ioloop.remove_timeout(handle)
    start = time.monotonic()
    while not fired:
        ioloop._run_once()
        assert time.monotonic() - start < 1.0
    assert fired == ['kept']


def test_run_once_wakes_for_a_threadsafe_callback(ioloop):
    calls = []

    def other_thread():
        time.sleep(0.05)
        ioloop.add_callback_threadsafe(lambda: calls.append(1))

    thread = threading.Thread(target=other_thread)
    ioloop.call_later(2.0, lambda: calls.append('timeout'))
    start = time.monotonic()
    ioloop.add_callback_threadsafe(lambda: None)
    ioloop._run_once()  # records this thread as the loop thread
    thread.start()
    while not calls:
        ioloop._run_once()
    thread.join()
    assert calls == [1]
    assert time.monotonic() - start < 1.5
