"""Round-trip fast paths (basic_get, publish with confirms): the one-call
loop iteration ``IOLoop._run_once``, the reused ``Basic.Get`` frame, and the
blocking waits built on them behave exactly like the general paths.
"""

import socket
import threading
import time

import pytest

from pika import exceptions, frame, spec
from pika.adapters import select_connection
from pika.adapters.blocking_connection import BlockingConnection
from pika.connection import ConnectionParameters

from blocking_fake import FakeImpl
from engine_fake import (Recorder, content_bytes, method_bytes, open_channel,
                         open_connection)

# -- IOLoop._run_once ---------------------------------------------------------


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


# -- Channel.basic_get frame reuse --------------------------------------------


def _get_frame(number, queue, no_ack):
    return frame.Method(number, spec.Basic.Get(queue=queue,
                                               no_ack=no_ack)).marshal()


def test_basic_get_sends_the_marshalled_get_frame():
    conn = open_connection()
    chan = open_channel(conn)
    rec = Recorder()
    before = conn.frames_sent
    chan.basic_get('q1', rec('get'), auto_ack=True)
    assert conn.written == [_get_frame(1, 'q1', True)]
    assert conn.frames_sent == before + 1
    conn.written = []
    conn.feed(content_bytes(1, spec.Basic.GetOk(1, False, '', 'q1', 0), b'a'))
    assert rec.only('get')[0][3] == b'a'
    # same queue: the same bytes again; other queue / no_ack: new frames
    for queue, auto_ack in [('q1', True), ('q1', False), ('q2', False),
                            ('q2', 1), ('q1', 0)]:
        chan.basic_get(queue, rec('get'), auto_ack=auto_ack)
        assert conn.written == [_get_frame(1, queue, bool(auto_ack))]
        conn.written = []
        conn.feed(method_bytes(1, spec.Basic.GetEmpty()))


def test_basic_get_queue_str_subclass_is_marshalled_each_time():

    class Name(str):
        pass

    conn = open_connection()
    chan = open_channel(conn)
    for queue in ['q', Name('q'), Name('other')]:
        chan.basic_get(queue, Recorder()('get'))
        assert conn.written == [_get_frame(1, str(queue), False)]
        conn.written = []
        conn.feed(method_bytes(1, spec.Basic.GetEmpty()))


def test_basic_get_waits_behind_a_pending_rpc():
    conn = open_connection()
    chan = open_channel(conn)
    rec = Recorder()
    chan.queue_declare('q', callback=rec('declared'))
    chan.basic_get('q', rec('get'))
    # the Get goes out only once the DeclareOk has arrived
    assert [type(m) for m in conn.sent_methods()] == [spec.Queue.Declare]
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q', 1, 0)))
    assert conn.written == [_get_frame(1, 'q', False)]
    conn.written = []
    conn.feed(content_bytes(1, spec.Basic.GetOk(1, False, '', 'q', 0), b'z'))
    assert rec.names() == ['declared', 'get']


def test_basic_get_argument_and_state_errors_unchanged():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(TypeError, match='queue'):
        chan.basic_get(b'q', Recorder()('get'))
    with pytest.raises(TypeError):
        chan.basic_get('q', 'not callable')
    assert conn.written == []
    chan.close()
    with pytest.raises(exceptions.ChannelWrongStateError, match='closing'):
        chan.basic_get('q', Recorder()('get'))


def test_basic_get_too_long_queue_name_raises_before_sending():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(exceptions.ShortStringTooLong):
        chan.basic_get('q' * 300, Recorder()('get'))
    assert conn.written == []


# -- blocking waits -----------------------------------------------------------


@pytest.fixture
def blocking():
    connection = BlockingConnection(ConnectionParameters(),
                                    _impl_class=FakeImpl)
    yield connection
    if connection.is_open:
        connection.close()


def test_reply_completed_by_queued_callbacks_needs_no_poll_wait(blocking):
    # The fake answers on the loop's next turn, i.e. from the queued
    # callbacks run before the first poll: the wait must see it at once,
    # not after a poller timeout.
    channel = blocking.channel()
    start = time.monotonic()
    for _ in range(20):
        channel.queue_declare('q')
    channel.confirm_delivery()
    for _ in range(20):
        channel.basic_publish('', 'q', b'body')
    assert time.monotonic() - start < 1.0


def test_confirmed_publish_raises_nack_and_unroutable(blocking):
    channel = blocking.channel()
    channel.confirm_delivery()
    fake = channel._impl
    fake.confirm_script = lambda tag: [spec.Basic.Nack(tag, False, False)]
    with pytest.raises(exceptions.NackError):
        channel.basic_publish('', 'q', b'x')
    fake.confirm_script = fake.default_confirm_script
    channel.basic_publish('', 'q', b'y')
    assert channel._confirmation is None
