"""HeartbeatChecker: send interval, idle detection, timers (manual clock)."""

import pytest

from pika import connection, exceptions, frame, heartbeat, spec
from engine_fake import open_connection, tune_bytes

HEARTBEAT = frame.Heartbeat().marshal()


def _heartbeats(conn):
    return [f for f in conn.sent() if f.frame_type == spec.FRAME_HEARTBEAT]


def test_timers_use_half_timeout_and_timeout_plus_five():
    conn = open_connection(tune=tune_bytes(0, 131072, 30))
    checker = conn._heartbeat_checker
    assert isinstance(checker, heartbeat.HeartbeatChecker)
    delays = sorted(t.when - conn.now for t in conn.active_timers())
    assert delays == [15.0, 35.0]


def test_sends_heartbeat_every_half_timeout():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    conn.advance(4.9)
    assert _heartbeats(conn) == []
    conn.advance(0.2)
    assert len(_heartbeats(conn)) == 1
    for _ in range(4):
        conn.feed(HEARTBEAT)
        conn.advance(5)
    assert len(_heartbeats(conn)) == 4
    assert conn.is_open


def test_inbound_data_keeps_connection_alive():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    for _ in range(20):
        conn.advance(7)
        conn.feed(HEARTBEAT)
    assert conn.is_open
    assert conn._heartbeat_checker.received  # still running


def test_idle_connection_times_out():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    conn.advance(30)
    assert conn.events[-1] == 'disconnect_stream'
    assert conn._heartbeat_checker is None
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.AMQPHeartbeatTimeout
    assert error.args == (
        'No activity or too many missed heartbeats in the last 10 seconds',)
    assert conn.active_timers() == []


def test_properties_and_stop():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    checker = conn._heartbeat_checker
    assert checker.bytes_received_on_connection == conn.bytes_received
    assert not checker.connection_is_idle
    checker.received()
    checker.stop()
    assert conn.active_timers() == []
    conn.advance(100)
    assert conn.is_open


def test_heartbeat_disabled_has_no_timers():
    conn = open_connection(connection.ConnectionParameters(heartbeat=0))
    assert conn._heartbeat_checker is None
    assert conn.active_timers() == []


def test_invalid_timeout():
    conn = open_connection()
    with pytest.raises(ValueError):
        heartbeat.HeartbeatChecker(conn, 0)


def test_checker_stopped_on_close():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    conn.close()
    conn.feed(frame.Method(0, spec.Connection.CloseOk()).marshal())
    conn.terminated()
    assert conn.active_timers() == []


@pytest.mark.parametrize('frame_type', [spec.FRAME_METHOD, spec.FRAME_BODY])
def test_bytes_of_an_unfinished_frame_are_not_activity(frame_type):
    # A frame head announcing 100,000 bytes, then the peer's heartbeats are
    # swallowed into that frame: no frame completes, so the checker times
    # out as pika 1.4's does (it counts decoded frames, not raw bytes).
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    conn.feed(bytes([frame_type]) + b'\x00\x01' + (100000).to_bytes(4, 'big'))
    for _ in range(11):
        conn.advance(3)
        conn.feed(HEARTBEAT)
    assert conn.bytes_received > 7
    assert conn.events[-1] == 'disconnect_stream'
    assert conn._heartbeat_checker is None
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.AMQPHeartbeatTimeout


def test_a_frame_completed_in_the_interval_is_activity():
    conn = open_connection(tune=tune_bytes(0, 131072, 10))
    method = frame.Method(0, spec.Connection.Blocked('x')).marshal()
    for _ in range(6):
        conn.feed(method[:5])
        conn.advance(7)
        conn.feed(method[5:])
        conn.advance(7)
        conn.feed(frame.Method(0, spec.Connection.Unblocked()).marshal())
    assert conn.is_open
    assert conn._heartbeat_checker is not None
