"""Thread-safe connection under load and faults: many threads publishing
with confirms while others consume, slow consumers and heartbeats, a full
work queue, and a TCP reset while threads are blocked in calls."""

import threading
import time

import pytest

import pika
from pika import exceptions
from blocking_support import FaultProxy, params, unique


def test_eight_publishers_two_consumers_exact_count():
    total, publishers, consumers = 100_000, 8, 2
    per_thread = total // publishers
    queue = unique('ts-load')
    with pika.Connection(params()) as conn:
        setup = conn.channel()
        setup.queue_declare(queue)
        seen = bytearray(total)
        lock = threading.Lock()
        received = [0]
        done = threading.Event()
        failures = []

        def on_message(channel, method, _properties, body):
            index = int(body)
            with lock:
                seen[index] += 1
                received[0] += 1
                if received[0] == total:
                    done.set()
            channel.basic_ack(method.delivery_tag)

        consumer_channels = []
        for _ in range(consumers):
            chan = conn.channel()
            chan.basic_qos(prefetch_count=500)
            chan.basic_consume(queue, on_message)
            consumer_channels.append(chan)

        def publish(first):
            try:
                chan = conn.channel()
                chan.confirm_delivery()
                for index in range(first, first + per_thread):
                    chan.basic_publish('', queue, b'%d' % index)
            except Exception as error:  # noqa: BLE001 - asserted below
                failures.append(error)

        threads = [
            threading.Thread(target=publish, args=(number * per_thread,))
            for number in range(publishers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        assert done.wait(60), received[0]
        time.sleep(0.2)
        assert received[0] == total
        assert seen.count(1) == total
        setup.queue_delete(queue)


def test_slow_consumer_callback_does_not_starve_heartbeats():
    with pika.Connection(params(heartbeat=2)) as conn:
        chan = conn.channel()
        queue = unique('ts-hb')
        chan.queue_declare(queue, auto_delete=True)
        finished = threading.Event()

        def on_message(channel, method, _properties, _body):
            time.sleep(5)  # more than two heartbeat intervals
            channel.basic_ack(method.delivery_tag)
            finished.set()

        chan.basic_consume(queue, on_message)
        chan.basic_publish('', queue, b'slow')
        assert finished.wait(15)
        assert conn.is_open
        assert chan.queue_declare(queue, passive=True).method.queue == queue


def test_full_work_queue_closes_with_work_queue_full_error():
    conn = pika.Connection(params(),
                           work_queue_maxsize=2,
                           work_queue_put_timeout=0.5)
    chan = conn.channel()
    queue = unique('ts-full')
    chan.queue_declare(queue, auto_delete=True)
    release = threading.Event()
    chan.basic_consume(queue, lambda *_args: release.wait(20), auto_ack=True)
    for _ in range(20):
        chan.basic_publish('', queue, b'x')
    deadline = time.monotonic() + 10
    while conn.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    assert conn.is_closed
    assert isinstance(conn._closed_error, exceptions.WorkQueueFullError)
    with pytest.raises(exceptions.ChannelWrongStateError) as info:
        chan.queue_declare(queue, passive=True)
    assert isinstance(info.value.__cause__, exceptions.WorkQueueFullError)


def test_tcp_reset_wakes_every_blocked_caller():
    proxy = FaultProxy()
    try:
        conn = pika.Connection(proxy.params())
        chan = conn.channel()
        queue = unique('ts-reset')
        chan.queue_declare(queue, auto_delete=True)
        chan.confirm_delivery()
        proxy.freeze()
        outcomes = []

        def blocked(call):
            try:
                call()
                outcomes.append(None)
            except Exception as error:  # noqa: BLE001 - asserted below
                outcomes.append(error)

        calls = [lambda: chan.basic_publish('', queue, b'x')] * 3 + [
            lambda: chan.queue_declare(queue, passive=True),
            lambda: conn.channel(),
        ]
        threads = [
            threading.Thread(target=blocked, args=(call,)) for call in calls
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert outcomes == []
        proxy.kill()
        for thread in threads:
            thread.join(10)
        assert len(outcomes) == len(calls)
        assert all(
            isinstance(error, exceptions.AMQPConnectionError)
            for error in outcomes), outcomes
        assert conn.is_closed
    finally:
        proxy.close()


def test_rpc_timeout_says_what_to_check_when_the_broker_does_not_answer():
    proxy = FaultProxy()
    try:
        conn = pika.Connection(proxy.params(), rpc_timeout=0.5)
        chan = conn.channel()
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(exceptions.AMQPError) as info:
            chan.queue_declare(unique('ts-rpc-timeout'), auto_delete=True)
        assert 0.4 < time.monotonic() - started < 5
        text = str(info.value)
        assert text.startswith('no reply from the broker within 0.5 seconds '
                               '(rpc_timeout)'), text
        assert 'raise rpc_timeout' in text
        proxy.kill()
    finally:
        proxy.close()
