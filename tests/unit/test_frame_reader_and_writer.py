"""The engine's frame reader and view writer on their own (no connection,
no channels), and the typed seams a Connection satisfies."""

import pytest

from pika import _connection_receive, _connection_send, _interfaces
from pika import connection, exceptions, frame, spec


def body_frame(channel_number: int, payload: bytes) -> bytes:
    return frame.Body(channel_number, payload).marshal()


def test_join_holds_an_incomplete_frame_until_complete():
    reader = _connection_receive.FrameReader()
    data = frame.Method(1, spec.Basic.Ack(7)).marshal()
    reader.keep_partial_frame(data[:5], 0, stream_bodies=True)
    assert reader.buffered_bytes == 5
    assert reader.bytes_needed == _connection_receive.FRAME_HEAD_SIZE
    # a whole head: the caller decodes it and keeps the rest again
    assert reader.join(data[5:9]) == data[:9]
    reader.discard()
    reader.keep_partial_frame(data[:9], 0, stream_bodies=True)
    assert reader.bytes_needed == len(data)
    assert reader.join(data[9:-1]) is None
    assert reader.join(data[-1:]) == data
    assert reader.buffered_bytes == 0


def test_large_body_is_kept_as_views_only_when_streaming():
    payload = bytes(range(256)) * 32
    data = body_frame(3, payload)
    reader = _connection_receive.FrameReader()
    reader.keep_partial_frame(data[:1000], 0, stream_bodies=False)
    assert reader.body_pieces is None and reader.buffered_bytes == 1000
    reader.discard()
    reader.keep_partial_frame(data[:1000], 0, stream_bodies=True)
    assert reader.body_pieces is not None
    assert reader.body_channel == 3 and reader.body_size == len(payload)
    assert reader.continue_body(data[1000:2000]) == (-1, None)
    offset, pieces = reader.continue_body(data[2000:] + b'next')
    assert offset == len(data) - 2000
    assert pieces is not None and b''.join(pieces) == payload
    assert reader.body_pieces is None


def test_bad_frame_end_of_a_large_body_raises_and_forgets():
    payload = b'x' * 5000
    data = body_frame(1, payload)
    reader = _connection_receive.FrameReader()
    reader.keep_partial_frame(data[:100], 0, stream_bodies=True)
    with pytest.raises(exceptions.InvalidFrameError):
        reader.continue_body(data[100:-1] + b'\x00')
    assert reader.body_pieces is None and reader.buffered_bytes == 0


def test_oversize_partial_frame_after_frame_max_lowered():
    data = body_frame(1, b'y' * 2000)
    reader = _connection_receive.FrameReader()
    reader.keep_partial_frame(data[:10], 0, stream_bodies=False)
    assert reader.oversize_partial_frame() is None
    reader.frame_max = 1000
    assert reader.oversize_partial_frame() == 2000


def test_content_views_are_the_joined_bytes():
    body = bytes(range(256)) * 1000
    props = spec.BasicProperties(content_type='text/plain')
    method = spec.Basic.Publish(exchange='x', routing_key='k')
    pieces, byte_count = _connection_send.content_views(2, method, props, body,
                                                        131072)
    joined = b''.join(bytes(piece) for piece in pieces)
    assert joined == frame.marshal_content(2, method, props, body, 131072)
    assert byte_count == len(joined)
    assert any(isinstance(piece, memoryview) for piece in pieces)


def test_content_views_reject_a_frame_max_without_room():
    with pytest.raises(ValueError, match='frame_max'):
        _connection_send.content_views(1, spec.Basic.Publish(),
                                       spec.BasicProperties(), b'z', 8)


@pytest.mark.parametrize('protocol', [
    _interfaces.AdapterHooks, _interfaces.ChannelConnection,
    _interfaces.HeartbeatConnection
])
def test_connection_has_every_member_of_each_seam(protocol):
    names = [
        name for name in vars(protocol)
        if not name.startswith('__') and not name.startswith('_is_')
    ]
    assert names
    for name in names:
        assert hasattr(connection.Connection, name), name
