"""Large bodies handed to an adapter as views (no joined copy): the bytes on
the wire and the counters are exactly those of the single-write path.
"""

from typing import Any, List

import pytest

from pika import exceptions, frame, spec
from tests.unit import engine_fake


class ViewsConnection(engine_fake.FakeConnection):
    """A recording adapter that takes views (as the nbio transports do)."""

    _adapter_emits_views = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.pieces: List[Any] = []
        super().__init__(*args, **kwargs)

    def _adapter_emit_data(self, data: Any) -> None:
        self.pieces.append(data)
        self.written.append(bytes(data))


def _open(cls: type) -> Any:
    conn = cls()
    conn._on_stream_connected()
    conn.feed(engine_fake.start_bytes())
    conn.feed(engine_fake.tune_bytes())
    conn.feed(engine_fake.OPEN_OK)
    conn.sent()
    assert conn.is_open
    channel = engine_fake.open_channel(conn, engine_fake.Recorder())
    conn.written.clear()
    if isinstance(conn, ViewsConnection):
        conn.pieces.clear()
    return conn, channel


@pytest.mark.parametrize('size', [65537, 131064, 131065, 300000, 1 << 20])
def test_large_body_views_match_single_write(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b'z' * (size % 256)
    props = spec.BasicProperties(content_type='text/plain',
                                 headers={'a': 1},
                                 delivery_mode=2)
    plain, plain_channel = _open(engine_fake.FakeConnection)
    viewed, viewed_channel = _open(ViewsConnection)
    before = (viewed.bytes_sent, viewed.frames_sent)
    plain_before = (plain.bytes_sent, plain.frames_sent)

    plain_channel.basic_publish('exch', 'key', body, props, mandatory=True)
    viewed_channel.basic_publish('exch', 'key', body, props, mandatory=True)

    assert len(plain.written) == 1
    assert len(viewed.written) > 2
    assert b''.join(viewed.written) == plain.written[0]
    # The body itself is never copied: its pieces are views of it.
    views = [piece for piece in viewed.pieces if isinstance(piece, memoryview)]
    assert sum(len(view) for view in views) == size
    assert all(view.obj is body for view in views)
    assert (viewed.bytes_sent - before[0] == plain.bytes_sent - plain_before[0]
            == len(plain.written[0]))
    assert (viewed.frames_sent - before[1] == plain.frames_sent -
            plain_before[1])
    frames = []
    data = plain.written[0]
    offset = 0
    while offset < len(data):
        consumed, value = frame.decode_frame(data[offset:])
        assert value is not None
        frames.append(value)
        offset += consumed
    assert viewed.frames_sent - before[1] == len(frames)
    assert b''.join(f.fragment for f in frames[2:]) == body


def test_small_body_keeps_one_write() -> None:
    viewed, channel = _open(ViewsConnection)
    channel.basic_publish('', 'q', b'x' * 65536)
    assert len(viewed.pieces) == 1
    assert isinstance(viewed.pieces[0], bytes)


def test_mutable_body_is_sent_as_it_was_when_published() -> None:
    viewed, channel = _open(ViewsConnection)
    body = bytearray(b'a' * 200000)
    channel.basic_publish('', 'q', body)
    body[:] = b'b' * 200000
    queued = b''.join(bytes(piece) for piece in viewed.pieces)
    assert queued.count(b'a') == 200000
    assert b'b' not in queued


def test_encoding_error_sends_nothing() -> None:
    viewed, channel = _open(ViewsConnection)
    with pytest.raises(exceptions.ShortStringTooLong):
        channel.basic_publish('x' * 300, 'q', b'y' * 200000)
    assert viewed.pieces == []
