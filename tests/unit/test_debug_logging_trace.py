"""DEBUG logging traces the connection's state changes and its frames; with
DEBUG off the per-message path makes no logging call at all.

The engine is driven with scripted broker bytes (no sockets).
"""

import logging
from typing import Any, List

import pytest

from pika import _trace, exceptions, frame, spec
from pika.credentials import PlainCredentials
from pika.connection import ConnectionParameters

from tests.unit.engine_fake import (OPEN_OK, content_bytes, make_connection,
                                    method_bytes, open_channel, open_connection,
                                    start_bytes, tune_bytes)

SECRET = 's3cr3t-pass'


def _messages(caplog: Any, logger: str) -> List[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == logger and record.levelno == logging.DEBUG
    ]


def _transcript() -> Any:
    """connect, open a channel, publish, consume one delivery, close."""
    params = ConnectionParameters(credentials=PlainCredentials('user', SECRET))
    conn = make_connection(params)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes(heartbeat=0))
    conn.feed(OPEN_OK)
    chan = open_channel(conn)
    chan.basic_publish('', 'q', b'hello',
                       spec.BasicProperties(content_type='text/plain'))
    deliveries: List[bytes] = []
    chan.basic_consume('q',
                       lambda *args: deliveries.append(args[3]),
                       consumer_tag='ctag')
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag')))
    conn.feed(
        content_bytes(1, spec.Basic.Deliver('ctag', 1, False, '', 'q'),
                      b'world'))
    assert deliveries == [b'world']
    conn.close()
    conn.feed(method_bytes(1, spec.Channel.CloseOk()))
    conn.feed(method_bytes(0, spec.Connection.CloseOk()))
    conn.terminated()
    assert conn.is_closed
    return conn


def test_transcript_logs_connection_state_changes_by_name(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = _transcript()
    label = 'connection %#x' % id(conn)
    states = [m for m in _messages(caplog, 'pika.connection') if ' -> ' in m]
    assert states == [
        label + ' state ' + change
        for change in ('INIT -> PROTOCOL', 'PROTOCOL -> START', 'START -> TUNE',
                       'TUNE -> OPEN', 'OPEN -> CLOSING', 'CLOSING -> CLOSED')
    ]
    messages = _messages(caplog, 'pika.connection')
    assert any(
        'created in state INIT for localhost:5672' in m for m in messages)
    opened = [m for m in messages if ' open: broker ' in m]
    assert len(opened) == 1
    assert 'RabbitMQ' in opened[0] and 'frame_max=131072' in opened[0]


def test_transcript_logs_channel_state_changes(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = _transcript()
    changes = [
        m.split(' state ')[1]
        for m in _messages(caplog, 'pika.channel')
        if ' state ' in m
    ]
    assert changes == [
        'CLOSED -> OPENING', 'OPENING -> OPEN', 'OPEN -> CLOSING',
        'CLOSING -> CLOSED'
    ]
    assert all('channel 1 of connection %#x' % id(conn) in m
               for m in _messages(caplog, 'pika.channel')
               if ' state ' in m)


def test_transcript_logs_every_frame_sent_and_received(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = _transcript()
    label = 'connection %#x ' % id(conn)
    lines = _messages(caplog, 'pika.frame')
    assert all(line.startswith(label) for line in lines)
    lines = [line[len(label):] for line in lines]
    sent = [line for line in lines if line.startswith('sending ')]
    received = [line for line in lines if line.startswith('received ')]
    assert sent[0] == 'sending protocol header AMQP 0-9-1'
    assert received[0].startswith('received channel 0: Connection.Start(')
    expected_sent = [
        'Connection.StartOk(', 'Connection.TuneOk(', 'Connection.Open(',
        'Channel.Open(', 'Basic.Publish(', 'Basic.Consume(', 'Basic.Cancel(',
        'Channel.Close(', 'Connection.Close('
    ]
    assert [
        next(name
             for name in expected_sent
             if name in line)
        for line in sent[1:]
    ] == expected_sent
    publish = sent[5]
    assert 'routing_key=\'q\'' in publish
    assert 'content header class 60, body_size=5' in publish
    assert "content_type='text/plain'" in publish
    assert '1 body frame(s)' in publish
    assert [line.split(': ', 1)[1].split('(')[0] for line in received] == [
        'Connection.Start', 'Connection.Tune', 'Connection.OpenOk',
        'Channel.OpenOk', 'Basic.ConsumeOk', 'Basic.Deliver',
        'content header class 60, body_size=5, properties {}',
        'body frame of 5 bytes', 'Channel.CloseOk', 'Connection.CloseOk'
    ]
    assert "consumer_tag='ctag'" in received[5]


def test_trace_masks_credentials_and_never_shows_bodies(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    _transcript()
    text = '\n'.join(record.getMessage() for record in caplog.records)
    assert 'response=<masked>' in text
    assert SECRET not in text
    assert 'hello' not in text and 'world' not in text


def test_update_secret_is_masked(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = open_connection()
    conn.update_secret('new-' + SECRET, 'rotation')
    line = _messages(caplog, 'pika.frame')[-1]
    assert 'Connection.UpdateSecret(' in line
    assert 'new_secret=<masked>' in line and SECRET not in line
    assert "reason='rotation'" in line


def test_info_level_installs_nothing_and_logs_nothing_per_message(
        caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger='pika')
    conn = open_connection()
    chan = open_channel(conn)
    assert not _trace.frame_tracing_installed(conn)
    assert conn._frame_tracer is None
    # The engine's methods are never shadowed on the instance.
    for name in ('_dispatch_frames', '_dispatch_body', '_emit_bytes',
                 '_send_message'):
        assert name not in conn.__dict__
    chan.basic_consume('q',
                       lambda *args: chan.basic_ack(args[1].delivery_tag),
                       consumer_tag='ctag')
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag')))
    conn.sent()
    calls: List[str] = []
    real_is_enabled_for = logging.Logger.isEnabledFor
    real_log = logging.Logger._log

    def counting_is_enabled_for(self: Any, level: int) -> bool:
        calls.append('isEnabledFor %s' % self.name)
        return real_is_enabled_for(self, level)

    def counting_log(self: Any, *args: Any, **kwargs: Any) -> None:
        calls.append('_log %s' % self.name)
        real_log(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, 'isEnabledFor', counting_is_enabled_for)
    monkeypatch.setattr(logging.Logger, '_log', counting_log)
    caplog.clear()
    deliveries = b''.join(
        content_bytes(1, spec.Basic.Deliver('ctag', tag, False, '', 'q'), b'x' *
                      100) for tag in range(1, 101))
    conn.feed(deliveries)
    for _ in range(100):
        chan.basic_publish('', 'q', b'y' * 100)
    monkeypatch.undo()
    assert calls == []
    assert caplog.records == []
    sent = conn.sent()
    assert len(sent) == 100 + 300  # 100 acks, 100 x (method, header, body)


def test_frame_tracing_decided_again_when_the_connection_opens(caplog):
    caplog.set_level(logging.INFO, logger='pika')
    conn = make_connection()
    assert not _trace.frame_tracing_installed(conn)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    caplog.set_level(logging.DEBUG, logger='pika')
    conn.feed(OPEN_OK)
    assert _trace.frame_tracing_installed(conn)
    open_channel(conn)
    assert any('Channel.OpenOk' in m for m in _messages(caplog, 'pika.frame'))

    caplog.set_level(logging.DEBUG, logger='pika')
    traced = make_connection()
    assert _trace.frame_tracing_installed(traced)
    traced._on_stream_connected()
    traced.feed(start_bytes())
    traced.feed(tune_bytes())
    caplog.set_level(logging.INFO, logger='pika')
    traced.feed(OPEN_OK)
    assert not _trace.frame_tracing_installed(traced)
    assert traced.is_open


def test_frames_logged_only_when_pika_frame_is_enabled(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    frame_logger = logging.getLogger('pika.frame')
    level = frame_logger.level
    frame_logger.setLevel(logging.INFO)
    try:
        conn = open_connection()
    finally:
        frame_logger.setLevel(level)
    assert not _trace.frame_tracing_installed(conn)
    assert _messages(caplog, 'pika.frame') == []
    assert any(' -> OPEN' in m for m in _messages(caplog, 'pika.connection'))


def test_heartbeats_and_broker_news_are_traced(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = open_connection()
    conn.feed(frame.Heartbeat().marshal())
    conn.feed(method_bytes(0, spec.Connection.Blocked('low on memory')))
    conn.feed(method_bytes(0, spec.Connection.Unblocked()))
    conn.feed(
        method_bytes(
            0, spec.Connection.Close(320, 'CONNECTION_FORCED - shutdown', 60,
                                     40)))
    frames = _messages(caplog, 'pika.frame')
    assert any(line.endswith('received heartbeat') for line in frames)
    assert any(
        line.endswith('sending channel 0: Connection.CloseOk()')
        for line in frames)
    news = _messages(caplog, 'pika.connection')
    assert any("Broker blocked the connection (reason 'low on memory')" in m
               for m in news)
    assert any('Broker unblocked the connection' in m for m in news)
    assert any(
        "(320) 'CONNECTION_FORCED - shutdown' in reply to Basic.Publish" in m
        for m in news)


def test_large_body_over_several_reads_is_logged_once(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = open_connection()
    chan = open_channel(conn)
    got: List[bytes] = []
    chan.basic_consume('q',
                       lambda *args: got.append(args[3]),
                       consumer_tag='ctag')
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag')))
    caplog.clear()
    body = b'z' * 100000
    data = content_bytes(1, spec.Basic.Deliver('ctag', 1, False, '', 'q'), body)
    for start in range(0, len(data), 7000):
        conn.feed(data[start:start + 7000])
    assert got == [body]
    bodies = [m for m in _messages(caplog, 'pika.frame') if 'body frame' in m]
    assert len(bodies) == 1
    assert 'body frame of 100000 bytes' in bodies[0]


class _Unprintable:

    def __repr__(self) -> str:
        raise RuntimeError('no repr for you')


def test_a_frame_that_cannot_be_described_does_not_break_anything(caplog):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = open_connection()
    chan = open_channel(conn)
    method = spec.Basic.Deliver('ctag', 1, False, '', 'q')
    method.routing_key = _Unprintable()  # type: ignore[assignment]
    conn._dispatch_frames([frame.Method(1, method)])
    assert "routing_key=<unprintable _Unprintable: RuntimeError('no repr" in (
        _messages(caplog, 'pika.frame')[-1])
    conn._emit_bytes(method_bytes(1, spec.Basic.Ack(1))[:-1] + b'X', 1)
    assert 'bytes that do not decode as frames' in _messages(
        caplog, 'pika.frame')[-1]
    assert conn.is_open and chan.is_open
    assert _trace.describe_frame(object()) == 'object frame None'


def test_malformed_broker_bytes_close_the_connection_as_without_debug(caplog):
    outcomes = []
    for level in (logging.DEBUG, logging.INFO):
        caplog.set_level(level, logger='pika')
        conn = open_connection()
        open_channel(conn)
        conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag'))[:-1] + b'X')
        conn.terminated()
        closes = conn.rec.only('close')  # type: ignore[attr-defined]
        assert len(closes) == 1
        error = closes[0][1]
        assert isinstance(error, exceptions.StreamLostError)
        outcomes.append((type(error), str(error), conn.connection_state))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize('value', [b'\x00\x01', bytearray(b'\x08\x00')])
def test_sent_bytes_description_never_raises(value):
    text = str(_trace._SentBytes(value))
    assert isinstance(text, str) and text


@pytest.mark.parametrize('channel_known', [True, False])
def test_large_body_over_several_reads_is_traced_once(caplog, channel_known):
    caplog.set_level(logging.DEBUG, logger='pika')
    conn = open_connection()
    chan = open_channel(conn)
    bodies: List[bytes] = []
    chan.basic_consume('q',
                       lambda *args: bodies.append(args[3]),
                       consumer_tag='ctag')
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag')))
    body = b'b' * 20000
    data = content_bytes(1, spec.Basic.Deliver('ctag', 1, False, '', 'q'), body)
    if not channel_known:
        # Without the channel the body is handed on as one joined frame.
        del conn._channels[1]
    caplog.clear()
    for at in range(0, len(data), 3000):
        conn.feed(data[at:at + 3000])
    lines = _messages(caplog, 'pika.frame')
    body_lines = [line for line in lines if 'body frame of' in line]
    assert body_lines == [
        'connection %#x received channel 1: body frame of 20000 bytes '
        '(over several reads)' % id(conn)
    ]
    assert _trace.frame_tracing_installed(conn)
    assert bodies == ([body] if channel_known else [])
