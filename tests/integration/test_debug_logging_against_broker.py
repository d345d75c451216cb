"""DEBUG logging against the real broker: a round trip through
BlockingConnection and a SelectConnection open/close are traced (state
changes, connect steps, frames); at INFO the publish/consume loop writes no
record at all and the connection carries no tracing wrappers.
"""

import logging
from typing import Any, List

from pika import _trace
from pika.adapters.select_connection import SelectConnection

from tests.integration.blocking_support import connect, params, unique


def _debug_messages(caplog: Any, logger: str) -> List[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == logger and record.levelno == logging.DEBUG
    ]


def test_blocking_round_trip_is_traced_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    queue = unique('debug-trace')
    conn = connect()
    try:
        assert _trace.frame_tracing_installed(conn._impl)
        chan = conn.channel()
        chan.queue_declare(queue, auto_delete=True)
        chan.basic_publish('', queue, b'payload-not-logged')
        method, _props, body = chan.basic_get(queue, auto_ack=True)
        assert body == b'payload-not-logged'
        chan.queue_delete(queue)
    finally:
        conn.close()
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) >= 40
    frames = _debug_messages(caplog, 'pika.frame')
    for name in ('Connection.Start(', 'Connection.StartOk(', 'Connection.Tune(',
                 'Connection.OpenOk(', 'Channel.Open(', 'Queue.Declare(',
                 'Queue.DeclareOk(', 'Basic.Publish(', 'Basic.Get(',
                 'Basic.GetOk(', 'Connection.Close(', 'Connection.CloseOk('):
        assert any(name in line for line in frames), name
    assert any('body frame of 18 bytes' in line for line in frames)
    states = [
        m.split(' state ')[1]
        for m in _debug_messages(caplog, 'pika.connection')
        if ' state ' in m and ' -> ' in m
    ]
    assert states == [
        'INIT -> PROTOCOL', 'PROTOCOL -> START', 'START -> TUNE',
        'TUNE -> OPEN', 'OPEN -> CLOSING', 'CLOSING -> CLOSED'
    ]
    steps = _debug_messages(caplog, 'pika.adapters.utils.connection_workflow')
    for step in ('Resolving', 'Resolved to', 'TCP connection to',
                 'Transport to', 'AMQP handshake with'):
        assert any(m.startswith(step) for m in steps), step
    text = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'payload-not-logged' not in text
    assert 'guest\x00guest' not in text and 'response=<masked>' in text


def test_select_connection_open_close_is_traced_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    outcome: List[Any] = []

    def on_open(conn: Any) -> None:
        conn.close()

    def on_closed(conn: Any, error: Any) -> None:
        outcome.append(error)
        conn.ioloop.stop()

    def on_open_error(conn: Any, error: Any) -> None:
        outcome.append(error)
        conn.ioloop.stop()

    conn = SelectConnection(params(),
                            on_open_callback=on_open,
                            on_open_error_callback=on_open_error,
                            on_close_callback=on_closed)
    timer = conn.ioloop.call_later(10, conn.ioloop.stop)
    conn.ioloop.start()
    conn.ioloop.remove_timeout(timer)
    assert len(outcome) == 1
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) >= 20
    states = [
        m.split(' state ')[1]
        for m in _debug_messages(caplog, 'pika.connection')
        if ' state ' in m and ' -> ' in m
    ]
    assert states[0] == 'INIT -> PROTOCOL' and states[-1] == 'CLOSING -> CLOSED'
    assert any('TLS' not in m and 'plaintext transport' in m
               for m in _debug_messages(
                   caplog, 'pika.adapters.utils.connection_workflow'))
    assert any(
        m.endswith('received channel 0: Connection.CloseOk()')
        for m in _debug_messages(caplog, 'pika.frame'))


def test_no_record_on_the_hot_path_at_info(caplog):
    caplog.set_level(logging.INFO, logger='pika')
    queue = unique('debug-trace-info')
    conn = connect()
    try:
        assert not _trace.frame_tracing_installed(conn._impl)
        chan = conn.channel()
        chan.queue_declare(queue, auto_delete=True)
        chan.confirm_delivery()
        caplog.clear()
        for number in range(200):
            chan.basic_publish('', queue, b'm%d' % number)
        received = 0
        for method, _props, _body in chan.consume(queue, inactivity_timeout=5):
            assert method is not None
            chan.basic_ack(method.delivery_tag)
            received += 1
            if received == 200:
                break
        assert caplog.records == []
        chan.cancel()
        chan.queue_delete(queue)
    finally:
        conn.close()
