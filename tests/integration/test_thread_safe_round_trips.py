"""Thread-safe connection: round trips, confirms, consumers, argument checks
and closing, against the real broker."""

import threading
import time

import pytest

import pika
from pika import exceptions
from pika.adapters import thread_safe_connection
from blocking_support import params, unique


def test_pika_connection_is_the_thread_safe_connection():
    assert pika.Connection is thread_safe_connection.Connection
    assert issubclass(exceptions.WorkQueueFullError,
                      exceptions.AMQPConnectionError)


def test_put_timeout_none_is_rejected():
    with pytest.raises(ValueError, match='work_queue_put_timeout'):
        pika.Connection(params(), work_queue_put_timeout=None)
    with pytest.raises(ValueError, match='work_queue_put_timeout'):
        pika.Connection(params(), work_queue_put_timeout=0)
    with pytest.raises(ValueError, match='work_queue_maxsize'):
        pika.Connection(params(), work_queue_maxsize=-1)


def test_declare_publish_get_consume_round_trip():
    with pika.Connection(params()) as conn:
        assert conn.is_open
        assert conn._thread.name.startswith('pika-ioloop-')
        chan = conn.channel()
        queue = unique('ts-rt')
        # Not auto_delete: the queue outlives the cancelled consumer.
        ok = chan.queue_declare(queue)
        assert ok.method.queue == queue
        chan.basic_qos(prefetch_count=50)
        chan.confirm_delivery()
        assert chan.next_publish_seq_no == 1
        for number in range(10):
            chan.basic_publish('', queue, b'm%d' % number)
        assert chan.next_publish_seq_no == 11
        method, _props, body = chan.basic_get(queue, auto_ack=True)
        assert body == b'm0' and method.message_count == 9
        got = []
        threads = set()
        done = threading.Event()

        def on_message(channel, method, _properties, body):
            assert channel is chan
            threads.add(threading.current_thread().name)
            got.append(body)
            channel.basic_ack(method.delivery_tag)
            if len(got) == 9:
                done.set()

        tag = chan.basic_consume(queue, on_message)
        assert done.wait(10)
        assert got == [b'm%d' % number for number in range(1, 10)]
        assert len(threads) == 1 and threads.pop().startswith('pika-consumer')
        assert chan.basic_cancel(tag) == []
        assert chan.basic_get(queue) == (None, None, None)
        with pytest.raises(exceptions.UnroutableError):
            chan.basic_publish('', unique('nowhere'), b'x', mandatory=True)
        chan.queue_delete(queue)
        chan.close()
        assert chan.is_closed
    assert conn.is_closed


def test_channel_error_is_raised_in_the_caller_and_closes_the_channel():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        with pytest.raises(exceptions.ChannelClosedByBroker) as info:
            chan.queue_declare(unique('missing'), passive=True)
        assert info.value.reply_code == 404
        assert chan.is_closed
        # later calls: as BlockingChannel
        with pytest.raises(exceptions.ChannelWrongStateError):
            chan.queue_declare(unique('after'))
        assert conn.channel().is_open


def test_concurrent_close_and_callback_after_close():
    conn = pika.Connection(params())
    conn.channel()
    errors = []

    def closer():
        try:
            conn.close()
        except exceptions.ConnectionWrongStateError as error:
            errors.append(error)

    threads = [threading.Thread(target=closer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert conn.is_closed
    assert not conn._thread.is_alive()
    assert len(errors) <= 5
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.add_callback_threadsafe(lambda: None)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()


def test_add_callback_threadsafe_runs_on_the_io_thread():
    with pika.Connection(params()) as conn:
        seen = []
        ran = threading.Event()

        def callback():
            seen.append(threading.current_thread().name)
            ran.set()

        conn.add_callback_threadsafe(callback)
        assert ran.wait(5)
        assert seen == [conn._thread.name]


def test_internal_maps_stay_empty_after_many_calls():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = unique('ts-mem')
        chan.queue_declare(queue, auto_delete=True)
        chan.confirm_delivery()

        failures = []

        def work():
            try:
                for _ in range(300):
                    chan.basic_publish('', queue, b'x')
                    chan.queue_declare(queue, passive=True)
                    chan.basic_get(queue, auto_ack=True)
            except Exception as error:  # noqa: BLE001 - asserted below
                failures.append(error)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        time.sleep(0.1)
        assert failures == []
        assert chan._waiters == set()
        assert chan._confirm_waiters == {}
        assert len(chan._get_waiters) == 0
        assert conn._waiters == set()
        chan.queue_delete(queue)
