"""BlockingConnection against the real broker: opening, errors on open,
closing, timers, thread-safe callbacks, blocked notices, dispatch rules."""

import functools
import socket
import threading
import time

import pytest

import pika
from pika import exceptions, frame, spec
from pika.adapters.blocking_connection import (BlockingChannel,
                                               BlockingConnection)
from pika.adapters.utils import connection_workflow
from pika.adapters import select_connection

from blocking_support import (FaultProxy, connect, connection_block_frame,
                              connection_unblock_frame, params, unique)


def _free_port() -> int:
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_open_close_and_properties():
    conn = connect()
    try:
        assert conn.is_open and not conn.is_closed
        assert isinstance(conn._impl, select_connection.SelectConnection)
        assert conn.basic_nack_supported is True
        assert conn.consumer_cancel_notify_supported is True
        assert conn.exchange_exchange_bindings_supported is True
        assert conn.publisher_confirms_supported is True
        assert conn.basic_nack is conn.basic_nack_supported
        assert conn.publisher_confirms is True
        assert conn.consumer_cancel_notify is True
        assert conn.exchange_exchange_bindings is True
        assert repr(conn).startswith(
            '<BlockingConnection impl=<SelectConnection')
        channel = conn.channel()
        assert isinstance(channel, BlockingChannel)
        assert channel.channel_number == 1
        assert channel.connection is conn
        assert channel.is_open
    finally:
        assert conn.close() is None
    assert conn.is_closed and not conn.is_open
    assert channel.is_closed


def test_default_parameters_and_sequence():
    # a refused address first: the workflow moves on to the next one
    configs = [
        params(port=_free_port(), connection_attempts=1),
        params(),
    ]
    with BlockingConnection(configs) as conn:
        assert conn.is_open
        assert conn._impl.params.port == configs[1].port
    assert conn.is_closed


def test_refused_port_raises_amqp_connection_error():
    with pytest.raises(exceptions.AMQPConnectionError) as info:
        BlockingConnection(params(port=_free_port()))
    assert type(info.value) is exceptions.AMQPConnectionError
    cause, = info.value.args
    assert isinstance(cause,
                      connection_workflow.AMQPConnectorSocketConnectError)
    assert isinstance(cause.exception, ConnectionRefusedError)


def test_bad_credentials_and_vhost():
    with pytest.raises(exceptions.ProbableAuthenticationError) as info:
        BlockingConnection(
            params(credentials=pika.PlainCredentials('guest', 'wrong')))
    assert 'ACCESS_REFUSED' in str(info.value)
    assert 'wrong' not in repr(info.value)
    with pytest.raises(exceptions.ProbableAccessDeniedError) as info:
        BlockingConnection(params(virtual_host=unique('no-such-vhost')))
    assert 'NOT_ALLOWED' in str(info.value)


def test_bad_parameters_argument():
    with pytest.raises(TypeError):
        BlockingConnection('localhost')
    with pytest.raises(ValueError):
        BlockingConnection([])


def test_close_twice_and_use_after_close():
    conn = connect()
    conn.close()
    with pytest.raises(exceptions.ConnectionWrongStateError) as info:
        conn.close()
    assert str(info.value) == ("BlockingConnection.close(200, 'Normal "
                               "shutdown') called on closed connection.")
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.add_callback_threadsafe(lambda: None)
    # pika 1.4 behaviour: the private ioloop is gone
    with pytest.raises(ValueError):
        conn.process_data_events()
    # leaving the context of a closed connection is fine
    with conn:
        pass


def test_close_closes_open_channels():
    conn = connect()
    channels = [conn.channel() for _ in range(3)]
    channels[1].close()
    conn.close(200, 'bye')
    assert all(ch.is_closed for ch in channels)


def test_context_manager_closes_on_exception():
    with pytest.raises(KeyError):
        with connect() as conn:
            with conn.channel() as channel:
                raise KeyError('x')
    assert channel.is_closed
    assert conn.is_closed


def test_process_data_events_time_limits():
    with connect() as conn:
        start = time.monotonic()
        conn.process_data_events()
        conn.process_data_events(0)
        assert time.monotonic() - start < 0.5
        start = time.monotonic()
        conn.process_data_events(0.3)
        assert 0.25 <= time.monotonic() - start < 1.5
        with pytest.raises(ValueError):
            conn.process_data_events(-1)
        with pytest.raises(TypeError):
            conn.process_data_events('1')


def test_process_data_events_returns_early_on_event():
    with connect() as conn:
        fired = []
        conn.call_later(0.1, lambda: fired.append(time.monotonic()))
        start = time.monotonic()
        conn.process_data_events(5)
        assert fired and time.monotonic() - start < 1.5


def test_sleep():
    with connect() as conn:
        fired = []
        conn.call_later(0.05, lambda: fired.append(1))
        start = time.monotonic()
        conn.sleep(0.3)
        assert 0.25 <= time.monotonic() - start < 1.5
        assert fired == [1]
        with pytest.raises(ValueError):
            conn.sleep(-1)


def test_call_later_and_remove_timeout():
    with connect() as conn:
        log = []
        conn.call_later(0.05, lambda: log.append('a'))
        removed = conn.call_later(0.05, lambda: log.append('b'))
        conn.remove_timeout(removed)
        conn.process_data_events(0.2)
        assert log == ['a']
        # a timer that fired but was not dispatched yet can still be removed
        timer_id = conn.call_later(0, lambda: log.append('c'))
        conn.channel().queue_declare('', exclusive=True)  # pumps I/O only
        assert [
            repr(evt).startswith('<_TimerEvt timer_id=')
            for evt in conn._ready_events
        ] == [True]
        conn.remove_timeout(timer_id)
        conn.process_data_events()
        assert log == ['a']
        with pytest.raises(TypeError):
            conn.call_later(1, 'not callable')
        with pytest.raises(ValueError):
            conn.call_later(-1, lambda: None)


def test_timers_dispatched_before_deliveries():
    with connect() as conn:
        channel = conn.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        log = []
        channel.basic_consume(queue, lambda *args: log.append('delivery'))
        conn.call_later(0, lambda: log.append('timer'))
        channel.basic_publish('', queue, b'x')
        channel.queue_declare(queue, passive=True)  # I/O, no dispatch
        channel.queue_declare(queue, passive=True)
        assert log == []
        conn.process_data_events()
        assert log == ['timer', 'delivery']


def test_add_callback_threadsafe_wakes_blocked_caller():
    with connect() as conn:
        called = []

        def from_thread():
            time.sleep(0.2)
            conn.add_callback_threadsafe(
                lambda: called.append(threading.get_ident()))

        thread = threading.Thread(target=from_thread)
        thread.start()
        start = time.monotonic()
        conn.process_data_events(time_limit=None)
        elapsed = time.monotonic() - start
        thread.join()
        assert called == [threading.get_ident()]
        assert 0.15 < elapsed < 2
        with pytest.raises(TypeError):
            conn.add_callback_threadsafe(None)


def test_update_secret():
    with connect() as conn:
        assert conn.update_secret('guest', 'rotation') is None
        assert conn.is_open


def test_blocked_and_unblocked_callbacks_through_proxy():
    proxy = FaultProxy()
    try:
        conn = BlockingConnection(proxy.params(blocked_connection_timeout=30))
        log = []
        conn.add_on_connection_blocked_callback(lambda c, f: log.append(
            ('blocked', c, f.method)))
        conn.add_on_connection_unblocked_callback(lambda c, f: log.append(
            ('unblocked', c, f.method)))
        proxy.inject(connection_block_frame('low on memory'))
        conn.process_data_events(2)
        proxy.inject(connection_unblock_frame())
        conn.process_data_events(2)
        assert [entry[0] for entry in log] == ['blocked', 'unblocked']
        assert log[0][1] is conn and log[1][1] is conn
        assert isinstance(log[0][2], spec.Connection.Blocked)
        assert log[0][2].reason == 'low on memory'
        assert isinstance(log[1][2], spec.Connection.Unblocked)
        conn.close()
        with pytest.raises(TypeError):
            conn.add_on_connection_blocked_callback(1)
    finally:
        proxy.close()


def test_blocked_connection_timeout():
    proxy = FaultProxy()
    try:
        conn = BlockingConnection(proxy.params(blocked_connection_timeout=0.3))
        channel = conn.channel()
        proxy.inject(connection_block_frame())
        start = time.monotonic()
        with pytest.raises(exceptions.ConnectionBlockedTimeout):
            conn.process_data_events(5)
        assert time.monotonic() - start < 3
        assert conn.is_closed and channel.is_closed
    finally:
        proxy.close()


def test_start_consuming_from_callback_is_reentrancy_error():
    with connect() as conn:
        channel = conn.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        errors = []

        def on_message(ch, method, properties, body):
            try:
                ch.start_consuming()
            except exceptions.ReentrancyError as error:
                errors.append(error)
            ch.basic_ack(method.delivery_tag)
            ch.stop_consuming()

        channel.basic_consume(queue, on_message)
        channel.basic_publish('', queue, b'x')
        channel.start_consuming()
        assert len(errors) == 1
        assert 'start_consuming may not be called' in str(errors[0])


def test_nested_process_data_events_does_not_dispatch():
    with connect() as conn:
        channel = conn.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        log = []

        def on_message(ch, method, properties, body):
            log.append(body)
            if body == b'0':
                conn.call_later(0, lambda: log.append('timer'))
                conn.sleep(0.05)
                conn.process_data_events(0.05)
                log.append('after nested')
            ch.basic_ack(method.delivery_tag)
            if body == b'2':
                ch.stop_consuming()

        for i in range(3):
            channel.basic_publish('', queue, str(i).encode())
        channel.basic_consume(queue, on_message)
        channel.start_consuming()
        conn.process_data_events()
        assert log == [b'0', 'after nested', b'1', b'2', 'timer']


def test_exception_in_timer_propagates_and_connection_survives():
    with connect() as conn:

        def boom():
            raise RuntimeError('boom')

        conn.call_later(0, boom)
        with pytest.raises(RuntimeError):
            conn.process_data_events(1)
        log = []
        conn.call_later(0, functools.partial(log.append, 1))
        conn.process_data_events(1)
        assert log == [1]
        assert conn.is_open


def test_blocked_frame_fields_are_method_frames():
    # the callback argument is a frame.Method, as in pika
    proxy = FaultProxy()
    try:
        with BlockingConnection(proxy.params()) as conn:
            frames = []
            conn.add_on_connection_blocked_callback(
                lambda c, f: frames.append(f))
            proxy.inject(connection_block_frame('x'))
            conn.process_data_events(2)
            assert isinstance(frames[0], frame.Method)
            assert frames[0].channel_number == 0
    finally:
        proxy.close()
