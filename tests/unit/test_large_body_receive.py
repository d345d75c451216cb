"""Large body frames received over several reads (kept as views, no copies).

A body frame of at least ``pika._connection_receive._STREAM_BODY_MIN``
payload bytes whose end is not in the read that brought its head is collected
as views of the received chunks. These tests check that this never changes
what the engine does: same callbacks, same ``bytes`` bodies, same errors,
whatever the chunking, interleaving with other channels or ``_process_frame``
overrides.
"""

from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pika import _connection_receive, exceptions, frame, spec
from engine_fake import (content_bytes, method_bytes, open_channel,
                         open_connection, tune_bytes)

FRAME_MAX = 4096
TAG = 'ctag-large'


@pytest.fixture(autouse=True)
def small_stream_threshold(monkeypatch: Any) -> None:
    """Stream body frames of 64+ bytes so small tests cover the path."""
    set_threshold(monkeypatch, 64)


def set_threshold(monkeypatch: Any, size: int) -> None:
    monkeypatch.setattr(_connection_receive, '_STREAM_BODY_MIN', size)
    monkeypatch.setattr(_connection_receive, '_STREAM_SIZE_BYTE5_MIN',
                        size >> 8)


def deliver(tag: int, body: bytes, channel_number: int = 1) -> bytes:
    return content_bytes(channel_number,
                         spec.Basic.Deliver(TAG, tag, False, 'x', 'q'), body,
                         spec.BasicProperties(message_id=str(tag)), FRAME_MAX)


def consuming(conn: Any, chan: Any, got: List[Any]) -> None:

    def on_message(_ch: Any, method: Any, props: Any, body: Any) -> None:
        got.append((chan.channel_number, method.delivery_tag, props.message_id,
                    type(body), body))

    chan.basic_consume('q', on_message, consumer_tag=TAG)
    conn.feed(method_bytes(chan.channel_number, spec.Basic.ConsumeOk(TAG)))
    conn.sent()


def setup(**kwargs: Any) -> Any:
    conn = open_connection(tune=tune_bytes(0, FRAME_MAX, 0), **kwargs)
    chan = open_channel(conn)
    got: List[Any] = []
    consuming(conn, chan, got)
    return conn, chan, got


def feed_in_pieces(conn: Any, stream: bytes, cuts: List[int]) -> None:
    start = 0
    for cut in sorted(cuts) + [len(stream)]:
        if cut > start:
            conn.feed(stream[start:cut])
            start = cut


@settings(max_examples=80, deadline=None)
@given(bodies=st.lists(st.binary(max_size=3 * FRAME_MAX),
                       min_size=1,
                       max_size=5),
       data=st.data())
def test_chunking_never_changes_deliveries(bodies: List[bytes],
                                           data: Any) -> None:
    stream = b''.join(deliver(tag, body) for tag, body in enumerate(bodies, 1))
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=30))
    conn, _chan, got = setup()
    feed_in_pieces(conn, stream, cuts)
    assert got == [
        (1, tag, str(tag), bytes, body) for tag, body in enumerate(bodies, 1)
    ]
    assert conn.is_open
    assert conn._body_pieces is None


def test_frame_count_matches_whole_feed() -> None:
    body = bytes(range(256)) * 40  # three body frames
    stream = deliver(1, body)
    whole, _, got_whole = setup()
    before = whole.frames_received
    whole.feed(stream)
    split, _, got_split = setup()
    split.feed(stream[:100])
    for start in range(100, len(stream), 333):
        split.feed(stream[start:start + 333])
    assert got_split == got_whole == [(1, 1, '1', bytes, body)]
    assert split.frames_received == whole.frames_received
    assert whole.frames_received - before == 5
    assert split.bytes_received == whole.bytes_received


def test_single_frame_body_across_reads_is_bytes() -> None:
    body = b'a' * 1000
    stream = deliver(7, body)
    conn, _chan, got = setup()
    cut = len(stream) - 300
    conn.feed(stream[:cut])
    assert conn._body_pieces is not None
    conn.feed(stream[cut:])
    assert got == [(1, 7, '7', bytes, body)]


def test_only_frame_end_missing() -> None:
    body = b'e' * 5000
    stream = deliver(1, body)
    conn, _chan, got = setup()
    conn.feed(stream[:-1])
    assert got == []
    conn.feed(stream[-1:])
    assert got == [(1, 1, '1', bytes, body)]


def test_bytearray_and_memoryview_reads() -> None:
    body = bytes(range(256)) * 30
    stream = deliver(3, body)
    conn, _chan, got = setup()
    source = bytearray(stream)
    conn.feed(memoryview(source)[:500])
    conn.feed(bytearray(source[500:5000]))
    # The engine must not keep views of a caller's mutable buffer.
    source[:5000] = b'\0' * 5000
    conn.feed(memoryview(bytearray(stream[5000:])))
    assert got == [(1, 3, '3', bytes, body)]


def test_other_channel_frames_between_body_frames() -> None:
    conn = open_connection(tune=tune_bytes(0, FRAME_MAX, 0))
    chan1 = open_channel(conn)
    chan2 = open_channel(conn)
    got: List[Any] = []
    consuming(conn, chan1, got)
    consuming(conn, chan2, got)
    first = frame.decode_frames(deliver(1, b'1' * 9000, 1))[0]
    second = frame.decode_frames(deliver(2, b'2' * 5000, 2))[0]
    # method and header of both, then body frames alternating
    order = [first[0], first[1], second[0], second[1]]
    bodies1, bodies2 = first[2:], second[2:]
    while bodies1 or bodies2:
        if bodies1:
            order.append(bodies1.pop(0))
        if bodies2:
            order.append(bodies2.pop(0))
    stream = b''.join(value.marshal() for value in order)
    for start in range(0, len(stream), 1000):
        conn.feed(stream[start:start + 1000])
    assert sorted(got) == [(1, 1, '1', bytes, b'1' * 9000),
                           (2, 2, '2', bytes, b'2' * 5000)]


def test_process_frame_override_sees_bytes_body_frames() -> None:
    seen: List[Any] = []
    conn, _chan, got = setup()
    base = conn._process_frame

    def process_frame(value: Any) -> None:
        seen.append(value)
        base(value)

    conn._process_frame = process_frame
    body = b'p' * 9000
    stream = deliver(1, body)
    for start in range(0, len(stream), 1500):
        conn.feed(stream[start:start + 1500])
    bodies = [v for v in seen if v.frame_type == spec.FRAME_BODY]
    assert [type(v.fragment) for v in bodies] == [bytes, bytes, bytes]
    assert b''.join(v.fragment for v in bodies) == body
    assert got == [(1, 1, '1', bytes, body)]


def bad_frame_end_outcome(monkeypatch: Any, threshold: int) -> Any:
    set_threshold(monkeypatch, threshold)
    good = deliver(1, b'g' * 100)
    bad = bytearray(deliver(2, b'b' * 3000))
    bad[-1] = 0x00
    stream = good + bytes(bad)
    conn, _chan, got = setup()
    conn.feed(stream[:len(good) + 200])
    conn.feed(stream[len(good) + 200:])
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    return got, type(error), error.args


def test_bad_frame_end_after_streamed_body(monkeypatch: Any) -> None:
    streamed = bad_frame_end_outcome(monkeypatch, 64)
    copied = bad_frame_end_outcome(monkeypatch, 1 << 20)
    assert streamed == copied
    got, error_type, args = streamed
    assert got == [(1, 1, '1', bytes, b'g' * 100)]
    assert error_type is exceptions.StreamLostError
    assert 'Invalid FRAME_END marker' in args[0]


def test_body_for_unknown_channel_is_dropped() -> None:
    conn, _chan, got = setup()
    stray = frame.Body(9, b's' * 2000).marshal()
    stream = stray + deliver(1, b'k' * 10)
    conn.feed(stream[:100])
    conn.feed(stream[100:])
    assert got == [(1, 1, '1', bytes, b'k' * 10)]
    assert conn.is_open


def test_body_without_header_is_protocol_error() -> None:
    conn, _chan, got = setup()
    stray = frame.Body(1, b's' * 2000).marshal()
    conn.feed(stray[:100])
    conn.feed(stray[100:])
    assert got == []
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert 'UnexpectedFrameError' in error.args[0]


def test_body_longer_than_announced_is_body_too_long() -> None:
    conn, _chan, got = setup()
    method, header = frame.decode_frames(deliver(1, b'x' * 100))[0][:2]
    stream = (method.marshal() + header.marshal() +
              frame.Body(1, b'y' * 3000).marshal())
    conn.feed(stream[:300])
    conn.feed(stream[300:])
    assert got == []
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert 'BodyTooLongError' in error.args[0]


def test_callback_error_while_streaming_aborts() -> None:
    conn = open_connection(tune=tune_bytes(0, FRAME_MAX, 0))
    chan = open_channel(conn)

    def on_message(*_args: Any) -> None:
        raise RuntimeError('boom')

    chan.basic_consume('q', on_message, consumer_tag=TAG)
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(TAG)))
    stream = deliver(1, b'z' * 9000) + deliver(2, b'never')
    conn.feed(stream[:5000])
    conn.feed(stream[5000:])
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert error.args[0] == "Stream connection lost: RuntimeError('boom')"


def test_streaming_state_dropped_on_termination() -> None:
    conn, _chan, got = setup()
    stream = deliver(1, b'q' * 9000)
    conn.feed(stream[:5000])
    assert conn._body_pieces is not None
    conn.close()
    assert conn._body_pieces is not None  # still open for the broker's reply
    conn._on_stream_terminated(exceptions.StreamLostError('gone'))
    assert conn._body_pieces is None
    conn.feed(stream[5000:])
    assert got == []


def test_small_frames_keep_copy_path(monkeypatch: Any) -> None:
    set_threshold(monkeypatch, 1 << 20)
    conn, _chan, got = setup()
    stream = deliver(1, b'c' * 9000)
    conn.feed(stream[:5000])
    assert conn._body_pieces is None and conn._buffered_bytes
    conn.feed(stream[5000:])
    assert got == [(1, 1, '1', bytes, b'c' * 9000)]


def test_default_threshold_streams_large_frames(monkeypatch: Any) -> None:
    monkeypatch.undo()
    assert _connection_receive._STREAM_BODY_MIN == 4096
    conn = open_connection(tune=tune_bytes(0, 131072, 0))
    chan = open_channel(conn)
    got: List[Any] = []
    consuming(conn, chan, got)
    bodies = [b'L' * 300000, b's' * 4000, b'M' * 4096 * 2]
    stream = b''.join(
        content_bytes(1, spec.Basic.Deliver(TAG, tag, False, 'x', 'q'), body,
                      spec.BasicProperties(message_id=str(tag)), 131072)
        for tag, body in enumerate(bodies, 1))
    streamed = 0
    for start in range(0, len(stream), 50000):
        conn.feed(stream[start:start + 50000])
        streamed += conn._body_pieces is not None
    assert streamed >= 5
    assert got == [
        (1, tag, str(tag), bytes, body) for tag, body in enumerate(bodies, 1)
    ]
