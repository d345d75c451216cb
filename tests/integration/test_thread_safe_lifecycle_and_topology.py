"""Thread-safe connection: abort while threads are blocked, broker
Connection.Blocked/Unblocked reaching the callbacks, bindings, purge and
delete round trips, calls on a closed channel, heartbeats while the work
queue is full, and memory staying flat over many calls."""

import gc
import threading
import time
import tracemalloc

import pytest

import pika
from pika import exceptions, spec
from blocking_support import (FaultProxy, connection_block_frame,
                              connection_unblock_frame, params, unique)


def _run_blocked(calls):
    outcomes = []

    def blocked(call):
        try:
            call()
            outcomes.append(None)
        except Exception as error:  # noqa: BLE001 - asserted by the caller
            outcomes.append(error)

    threads = [threading.Thread(target=blocked, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    return threads, outcomes


def test_abort_wakes_every_thread_blocked_in_a_call():
    proxy = FaultProxy()
    try:
        conn = pika.Connection(proxy.params())
        chan = conn.channel()
        queue = unique('ts-abort')
        chan.queue_declare(queue, auto_delete=True)
        chan.confirm_delivery()
        proxy.freeze()  # no reply will come
        calls = [lambda: chan.basic_publish('', queue, b'x')] * 3 + [
            lambda: chan.queue_declare(queue, passive=True),
            lambda: chan.basic_get(queue),
            lambda: conn.channel(),
        ]
        threads, outcomes = _run_blocked(calls)
        time.sleep(0.3)
        assert outcomes == []
        started = time.monotonic()
        conn.abort()
        for thread in threads:
            thread.join(5)
        assert time.monotonic() - started < 5
        assert len(outcomes) == len(calls)
        assert all(
            isinstance(error, exceptions.ConnectionClosedByClient)
            for error in outcomes), outcomes
        assert conn.is_closed and not conn._thread.is_alive()
    finally:
        proxy.close()


def test_connection_blocked_and_unblocked_reach_their_callbacks():
    proxy = FaultProxy()
    try:
        with pika.Connection(proxy.params()) as conn:
            seen = []
            unblocked = threading.Event()

            def on_blocked(connection, method_frame):
                seen.append((connection, method_frame.method))

            def on_unblocked(connection, method_frame):
                seen.append((connection, method_frame.method))
                unblocked.set()

            conn.add_on_connection_blocked_callback(on_blocked)
            conn.add_on_connection_unblocked_callback(on_unblocked)
            proxy.inject(connection_block_frame('low on memory'))
            proxy.inject(connection_unblock_frame())
            assert unblocked.wait(5)
            assert [connection for connection, _method in seen] == [conn, conn]
            blocked, unblocked_method = (method for _c, method in seen)
            assert isinstance(blocked, spec.Connection.Blocked)
            assert blocked.reason == 'low on memory'
            assert isinstance(unblocked_method, spec.Connection.Unblocked)
            # still usable afterwards
            assert conn.channel().is_open
    finally:
        proxy.close()


def test_bindings_purge_and_delete_return_their_ok_frames():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        source, destination = unique('ts-src'), unique('ts-dst')
        queue = unique('ts-bind')
        chan.exchange_declare(source, 'direct')
        chan.exchange_declare(destination, 'fanout')
        chan.queue_declare(queue)
        ok = chan.exchange_bind(destination, source, routing_key='key')
        assert isinstance(ok.method, spec.Exchange.BindOk)
        ok = chan.queue_bind(queue, destination)
        assert isinstance(ok.method, spec.Queue.BindOk)
        chan.confirm_delivery()
        for _ in range(3):
            chan.basic_publish(source, 'key', b'routed', mandatory=True)
        ok = chan.queue_purge(queue)
        assert isinstance(ok.method, spec.Queue.PurgeOk)
        assert ok.method.message_count == 3
        ok = chan.exchange_unbind(destination, source, routing_key='key')
        assert isinstance(ok.method, spec.Exchange.UnbindOk)
        with pytest.raises(exceptions.UnroutableError):
            chan.basic_publish(source, 'key', b'lost', mandatory=True)
        ok = chan.queue_unbind(queue, destination)
        assert isinstance(ok.method, spec.Queue.UnbindOk)
        chan.basic_publish('', queue, b'one')
        ok = chan.queue_delete(queue)
        assert isinstance(ok.method, spec.Queue.DeleteOk)
        assert ok.method.message_count == 1
        ok = chan.exchange_delete(destination)
        assert isinstance(ok.method, spec.Exchange.DeleteOk)
        chan.exchange_delete(source)
        with pytest.raises(exceptions.ChannelClosedByBroker) as info:
            chan.queue_declare(queue, passive=True)
        assert info.value.reply_code == 404


def test_calls_on_a_closed_channel_raise_channel_wrong_state_error():
    with pika.Connection(params()) as conn:
        closed_by_us = conn.channel()
        closed_by_us.close()
        closed_by_broker = conn.channel()
        with pytest.raises(exceptions.ChannelClosedByBroker):
            closed_by_broker.queue_declare(unique('missing'), passive=True)
        for chan in (closed_by_us, closed_by_broker):
            assert chan.is_closed
            with pytest.raises(exceptions.ChannelWrongStateError):
                chan.queue_declare(unique('after'))
            with pytest.raises(exceptions.ChannelWrongStateError):
                chan.basic_publish('', 'x', b'')
            with pytest.raises(exceptions.ChannelWrongStateError):
                chan.basic_ack(1)
            with pytest.raises(exceptions.ChannelWrongStateError):
                chan.close()
        assert conn.channel().is_open


def test_callbacks_added_after_close_raise_connection_wrong_state_error():
    conn = pika.Connection(params())
    conn.close()
    for add in (conn.add_callback_threadsafe,
                conn.add_on_connection_blocked_callback,
                conn.add_on_connection_unblocked_callback):
        with pytest.raises(exceptions.ConnectionWrongStateError):
            add(lambda *_args: None)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()


def test_heartbeats_flow_while_a_full_work_queue_suspends_reading():
    # heartbeat=1: the broker drops a connection silent for 2 intervals;
    # our checker looks every 6 s (timeout + slack) and drops it when a
    # whole check window passes without a frame read. The callback holds
    # the worker (its queue full, reading suspended) for 14 s: more than
    # one whole check window.
    with pika.Connection(params(heartbeat=1),
                         work_queue_maxsize=1,
                         work_queue_put_timeout=60) as conn:
        chan = conn.channel()
        queue = unique('ts-hb-full')
        chan.queue_declare(queue, auto_delete=True)
        release = threading.Event()
        bodies = []
        done = threading.Event()

        def on_message(channel, method, _properties, body):
            if not bodies:
                release.wait(20)
            bodies.append(body)
            channel.basic_ack(method.delivery_tag)
            if len(bodies) == 20:
                done.set()

        chan.basic_consume(queue, on_message)
        for number in range(20):
            chan.basic_publish('', queue, b'%d' % number)
        deadline = time.monotonic() + 5
        while not conn._reading_suspended and time.monotonic() < deadline:
            time.sleep(0.05)
        assert conn._reading_suspended
        time.sleep(14)
        assert conn.is_open
        release.set()
        assert done.wait(10)
        assert bodies == [b'%d' % number for number in range(20)]
        assert conn.is_open
        assert chan.queue_declare(queue, passive=True).method.queue == queue


def test_memory_stays_flat_over_many_publishes_and_round_trips():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = unique('ts-flat')
        chan.queue_declare(queue,
                           auto_delete=True,
                           arguments={'x-max-length': 1000})

        def publish(count):
            for _ in range(count):
                chan.basic_publish('', queue, b'x' * 64)
            # a round trip: everything queued before it has been sent
            chan.queue_declare(queue, passive=True)

        publish(5000)  # warm up
        gc.collect()
        tracemalloc.start()
        try:
            publish(25000)
            gc.collect()
            first, _peak = tracemalloc.get_traced_memory()
            publish(25000)
            gc.collect()
            second, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert second - first < 256 * 1024, (first, second)
        chan.confirm_delivery()
        tracemalloc.start()
        try:
            publish(1000)
            gc.collect()
            first, _peak = tracemalloc.get_traced_memory()
            publish(2000)
            gc.collect()
            second, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert second - first < 128 * 1024, (first, second)
        assert chan._confirm_waiters == {} and chan._waiters == set()
