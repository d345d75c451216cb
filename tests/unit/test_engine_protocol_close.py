"""On a protocol error from the peer the engine sends ``Connection.Close``
with the matching reply code and a text saying what was wrong, then closes
the stream, and reports the same error to the user as before."""

import struct

import pytest

from pika import exceptions, frame, spec
from engine_fake import (content_bytes, make_connection, method_bytes,
                         open_channel, open_connection, start_bytes)


def _close_bytes(reply_code: int, reply_text: str) -> bytes:
    # Built by hand (not with our encoder): method frame on channel 0,
    # Connection.Close (10, 50), reply code, short string, class 0, method 0.
    text = reply_text.encode()
    payload = (struct.pack('>HHH', 10, 50, reply_code) + bytes([len(text)]) +
               text + struct.pack('>HH', 0, 0))
    return struct.pack('>BHI', 1, 0, len(payload)) + payload + b'\xce'


BLOCKED = method_bytes(0, spec.Connection.Blocked('x'))

_INVALID = 'InvalidFrameError: Invalid frame received: '
_UNEXPECTED = 'UnexpectedFrameError: Received a frame out of sequence: '

#: kind -> (bytes from the broker, reply code, reply text)
CASES = {
    'bad_frame_end':
        (BLOCKED[:-1] + b'\x00', 501, _INVALID + "'Invalid FRAME_END marker'"),
    'unknown_frame_type': (b'\x09\x00\x00\x00\x00\x00\x00\xce', 501,
                           _INVALID + "'Unknown frame type: 9'"),
    'oversize_frame': (struct.pack('>BHI', 3, 1, 10**6) + b'\x00' * 64, 501,
                       _INVALID + "'Frame payload of 1000000 bytes exceeds "
                       "frame_max 131072'"),
    'unexpected_body': (frame.Body(1, b'abc').marshal(), 505,
                        _UNEXPECTED + "'Body frame without a content header on "
                        "channel 1'"),
    'unexpected_header':
        (frame.Header(1, 3, spec.BasicProperties()).marshal(), 505,
         _UNEXPECTED + "'Content header frame without a content method on "
         "channel 1'"),
}


@pytest.mark.parametrize('kind', sorted(CASES))
def test_protocol_error_sends_connection_close_then_closes(kind):
    data, reply_code, reply_text = CASES[kind]
    conn = open_connection()
    open_channel(conn)
    conn.feed(data)
    assert conn.events[-1] == 'disconnect_stream'
    (written,) = conn.written
    (sent,) = conn.sent()
    assert sent.method.NAME == 'Connection.Close'
    assert sent.method.reply_code == reply_code
    assert written == _close_bytes(reply_code, reply_text)
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert error.args[0] == 'Stream connection lost: ' + reply_text


def test_body_longer_than_announced_is_unexpected_frame():
    conn = open_connection()
    chan = open_channel(conn)
    deliver = spec.Basic.Deliver('ctag', 1, False, 'x', 'q')
    conn.feed(
        method_bytes(chan.channel_number, deliver) +
        frame.Header(1, 2, spec.BasicProperties()).marshal() +
        frame.Body(1, b'abc').marshal())
    (sent,) = conn.sent()
    assert sent.method.NAME == 'Connection.Close'
    assert sent.method.reply_code == spec.UNEXPECTED_FRAME
    assert 'BodyTooLongError' in sent.method.reply_text
    assert conn.events[-1] == 'disconnect_stream'


def test_long_reply_text_is_cut_to_a_short_string():
    conn = open_connection()
    conn._on_protocol_error(exceptions.InvalidFrameError('\u00e9' * 200))
    (sent,) = conn.sent()
    assert sent.method.reply_code == spec.FRAME_ERROR
    text = sent.method.reply_text.encode()
    assert 250 <= len(text) <= 255
    assert text.startswith(b'InvalidFrameError: ')


def test_protocol_error_during_handshake_sends_close():
    conn = make_connection()
    conn._on_stream_connected()
    conn.sent()  # nothing framed yet: the protocol header
    conn.written = []
    conn.feed(start_bytes())
    conn.sent()
    conn.feed(b'\x09\x00\x00\x00\x00\x00\x00\xce')
    (sent,) = conn.sent()
    assert sent.method.NAME == 'Connection.Close'
    assert sent.method.reply_code == spec.FRAME_ERROR
    assert conn.events[-1] == 'disconnect_stream'


def test_garbage_instead_of_start_sends_nothing():
    # Not an AMQP peer: no Connection.Close, just the end of the stream.
    conn = make_connection()
    conn._on_stream_connected()
    conn.written = []
    conn.feed(b'\x09\x00\x00\x00\x00\x00\x00\xce')
    assert conn.written == []
    assert conn.events[-1] == 'disconnect_stream'


def test_no_second_close_while_our_close_is_out():
    conn = open_connection()
    conn.close()
    assert [m.NAME for m in conn.sent_methods()] == ['Connection.Close']
    conn.feed(b'\x09\x00\x00\x00\x00\x00\x00\xce')
    assert conn.written == []
    assert conn.events[-1] == 'disconnect_stream'


def test_whole_delivery_before_the_bad_frame_is_delivered_first():
    conn = open_connection()
    chan = open_channel(conn)
    got = []
    chan.basic_consume('q', lambda *args: got.append(args[3]))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk('ctag')))
    tag = next(iter(chan._consumers))
    conn.sent()
    conn.feed(
        content_bytes(1, spec.Basic.Deliver(tag, 1, False, 'x', 'q'), b'hi') +
        BLOCKED[:-1] + b'\x00')
    assert got == [b'hi']
    (sent,) = conn.sent()
    assert sent.method.reply_code == spec.FRAME_ERROR
