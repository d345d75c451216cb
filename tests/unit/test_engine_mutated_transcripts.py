"""Fuzzing the sans-IO engine with a scripted broker transcript.

A valid broker transcript (handshake, two channels, confirms, a consumer,
deliveries, a get, returns, blocked/unblocked, a broker cancel, a broker
channel close and a broker connection close) is fed to the engine:

* in arbitrary chunkings: the callbacks and client bytes never change;
* mutated (byte flips, truncation, insertions, swapped/dropped/duplicated
  frames, wrong or unknown channel numbers, content out of order, body sizes
  that disagree with the header, oversize frame sizes, unknown method ids,
  bad field-table types): nothing escapes ``_on_data_available``, only
  ``pika.exceptions`` classes reach callbacks, the engine asks the adapter
  to drop the stream or stays consistent, and once the adapter reports the
  stream gone every channel and the connection got exactly one close
  notification;
* with user callbacks that raise: the exception is logged with its
  traceback and the connection closes with ``StreamLostError`` (pika 1.4's
  stack behaviour), again with every close notification made once.
"""

import logging
import os
import struct
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pika import connection, exceptions, frame, spec
from engine_fake import (FakeConnection, content_bytes, method_bytes,
                         start_bytes, tune_bytes, OPEN_OK)

FRAME_MAX = 4096
TAG = 'ctag-fuzz'
#: PIKA_FUZZ_EXAMPLES raises the example count for a longer campaign.
SETTINGS = settings(deadline=None,
                    max_examples=int(os.environ.get('PIKA_FUZZ_EXAMPLES',
                                                    '60')),
                    suppress_health_check=[HealthCheck.too_slow])

_unpack_size = struct.Struct('>I').unpack_from


def split_frames(data: bytes) -> List[bytes]:
    """Cut well-formed wire bytes into one bytes object per frame."""
    frames = []
    offset = 0
    while offset < len(data):
        end = offset + 8 + _unpack_size(data, offset + 3)[0]
        frames.append(data[offset:end])
        offset = end
    return frames


def _content(channel_number: int,
             method: Any,
             body: bytes,
             headers: Optional[dict] = None) -> List[bytes]:
    props = spec.BasicProperties(content_type='text/plain', headers=headers)
    return split_frames(
        content_bytes(channel_number, method, body, props, FRAME_MAX))


def transcript(bodies: List[bytes]) -> List[bytes]:
    """The broker's side of the scripted session, one entry per frame."""
    out = [start_bytes(), tune_bytes(0, FRAME_MAX, 0), OPEN_OK]
    out.append(method_bytes(1, spec.Channel.OpenOk()))
    out.append(method_bytes(2, spec.Channel.OpenOk()))
    out.append(method_bytes(1, spec.Confirm.SelectOk()))
    out.append(method_bytes(2, spec.Queue.DeclareOk('q', 3, 0)))
    out.append(method_bytes(1, spec.Basic.ConsumeOk(TAG)))
    for number, body in enumerate(bodies, 1):
        out.extend(
            _content(1, spec.Basic.Deliver(TAG, number, False, 'x', 'q'), body,
                     {
                         'n': number,
                         'list': [1, 'a'],
                         'nested': {
                             'b': True
                         }
                     }))
        if number == 1:
            out.append(frame.Heartbeat().marshal())
    out.append(method_bytes(1, spec.Basic.Ack(1, False)))
    out.extend(_content(2, spec.Basic.GetOk(1, False, 'x', 'q', 2), b'got it'))
    out.append(method_bytes(2, spec.Basic.GetEmpty()))
    out.extend(
        _content(1, spec.Basic.Return(312, 'NO_ROUTE', 'x', 'nowhere'),
                 b'returned'))
    out.append(method_bytes(1, spec.Basic.Nack(2, False, False)))
    out.append(method_bytes(0, spec.Connection.Blocked('low on memory')))
    out.append(method_bytes(0, spec.Connection.Unblocked()))
    out.append(method_bytes(1, spec.Basic.Cancel(TAG, nowait=True)))
    out.append(method_bytes(2, spec.Channel.Close(404, 'NOT_FOUND', 50, 10)))
    out.append(method_bytes(0, spec.Connection.Close(320, 'shutdown', 0, 0)))
    return out


BODIES = [b'', b'short', bytes(range(256)) * 20]  # 0, 5 and 5120 bytes
FRAMES = transcript(BODIES)
STREAM = b''.join(FRAMES)
#: index of the first frame that arrives once both channels exist
FIRST_CHANNEL_FRAME = 3


class UserError(Exception):
    """Raised on purpose by a user callback."""


def describe(value: Any) -> Any:
    """A comparable summary of a callback argument."""
    if isinstance(value, BaseException):
        return (type(value).__name__, value.args)
    if isinstance(value, frame.Method):
        return ('frame', value.channel_number, repr(value.method))
    if isinstance(value, (spec.BasicProperties, spec.Basic.Deliver,
                          spec.Basic.GetOk, spec.Basic.Return)):
        return repr(value)
    if isinstance(value, (connection.Connection,)):
        return 'conn'
    if hasattr(value, 'channel_number'):
        return ('channel', value.channel_number)
    return value


class Session:
    """Drives a FakeConnection through the scripted session.

    ``raise_at`` names user callbacks that raise :class:`UserError` after
    recording their call.
    """

    def __init__(self,
                 raise_at: Tuple[str, ...] = (),
                 close_at: Optional[str] = None) -> None:
        self.raise_at = set(raise_at)
        self.close_at = close_at
        self.log: List[Any] = []
        self.errors: List[BaseException] = []
        self.channels: List[Any] = []
        params = connection.ConnectionParameters(blocked_connection_timeout=30)
        self.conn = FakeConnection(params,
                                   on_open_callback=self.cb('open'),
                                   on_open_error_callback=self.cb('open_error'),
                                   on_close_callback=self.cb('close'))
        self.conn.add_on_connection_blocked_callback(self.cb('blocked'))
        self.conn.add_on_connection_unblocked_callback(self.cb('unblocked'))

    def cb(self, name: str, then: Any = None) -> Any:

        def callback(*args: Any) -> None:
            for arg in args:
                if isinstance(arg, BaseException):
                    self.errors.append(arg)
            self.log.append((name,) + tuple(describe(a) for a in args))
            if name == self.close_at and self.conn.is_open:
                self.conn.close(201, 'client closing')
            if name in self.raise_at:
                raise UserError(name)
            if then is not None:
                then(*args)

        return callback

    # scripted client behaviour -------------------------------------------
    def on_open(self, conn: Any) -> None:
        for number, then in ((1, self.on_channel1_open),
                             (2, self.on_channel2_open)):
            chan = conn.channel(on_open_callback=self.cb('channel_open', then))
            chan.add_on_close_callback(self.cb('channel_close'))
            chan.add_on_return_callback(self.cb('return'))
            chan.add_on_cancel_callback(self.cb('cancelled'))
            assert chan.channel_number == number
            self.channels.append(chan)

    def on_channel1_open(self, chan: Any) -> None:
        chan.confirm_delivery(self.cb('confirm'),
                              callback=self.cb('select_ok', self.publish))
        chan.basic_consume('q',
                           self.cb('message'),
                           consumer_tag=TAG,
                           callback=self.cb('consume_ok'))

    def publish(self, method_frame: Any) -> None:
        chan = self.channels[0]
        chan.basic_publish('x', 'q', b'one')
        chan.basic_publish('x', 'nowhere', b'two', mandatory=True)

    def on_channel2_open(self, chan: Any) -> None:
        chan.add_callback(self.cb('get_empty'), [spec.Basic.GetEmpty])
        chan.queue_declare('q', callback=self.cb('declare_ok', self.get))

    def get(self, method_frame: Any) -> None:
        self.channels[1].basic_get('q', self.cb('get_ok', self.get_again))

    def get_again(self, chan: Any, *args: Any) -> None:
        chan.basic_get('q', self.cb('get_ok2'))

    # feeding -------------------------------------------------------------
    def start(self) -> None:
        self.conn.add_on_open_callback(self.on_open)
        self.conn._on_stream_connected()

    def feed(self, data: bytes, cuts: List[int] = ()) -> None:
        start = 0
        for cut in sorted(cuts) + [len(data)]:
            if cut > start:
                self.conn._on_data_available(data[start:cut])
            start = max(start, cut)

    def finish(self) -> None:
        """Play the adapter: the stream is gone (asked for, or EOF)."""
        conn = self.conn
        if conn.events[-1] == 'disconnect_stream':
            conn._on_stream_terminated(None)
        else:
            conn._on_stream_terminated(exceptions.StreamLostError('eof'))

    def names(self) -> List[str]:
        return [entry[0] for entry in self.log]


def run_session(
    data: bytes, cuts: List[int] = (), raise_at: Tuple[str,
                                                       ...] = ()) -> Session:
    session = Session(raise_at)
    session.start()
    session.feed(data, cuts)
    return session


def check_closed_consistently(session: Session) -> None:
    """Invariants once the adapter reported the stream gone."""
    conn = session.conn
    if not conn.is_closed:
        session.finish()
    assert conn.is_closed
    assert conn._channels == {}
    assert not conn.active_timers(), conn.active_timers()
    names = session.names()
    if 'open' in names:
        assert names.count('close') == 1 and 'open_error' not in names
    else:
        assert names.count('open_error') == 1 and 'close' not in names
    for chan in session.channels:
        assert chan.is_closed
        closes = [
            e for e in session.log if e[:2] == ('channel_close', describe(chan))
        ]
        assert len(closes) == 1, (chan, session.log)
    for error in session.errors:
        assert isinstance(error, exceptions.AMQPError), error
        assert type(error).__module__ == 'pika.exceptions'
    # What the client wrote is whole frames.
    written = b''.join(conn.written)
    if written.startswith(b'AMQP'):
        written = written[8:]
    frames, offset = frame.decode_frames(written)
    assert offset == len(written)
    # Feeding more bytes to a closed engine is a no-op.
    before = list(session.log)
    conn._on_data_available(STREAM)
    assert session.log == before


def close_reason(session: Session) -> BaseException:
    entries = [e for e in session.log if e[0] in ('close', 'open_error')]
    assert len(entries) == 1, session.log
    return [e for e in session.errors if describe(e) == entries[0][2]][0]


# ---------------------------------------------------------------------------
# The valid transcript


def test_valid_transcript_callbacks():
    session = run_session(STREAM)
    conn = session.conn
    assert conn.events[-1] == 'disconnect_stream' and conn.is_closing
    session.finish()
    names = session.names()
    assert names == [
        'open', 'channel_open', 'channel_open', 'select_ok', 'declare_ok',
        'consume_ok', 'message', 'message', 'message', 'confirm', 'get_ok',
        'get_empty', 'return', 'confirm', 'blocked', 'unblocked', 'cancelled',
        'channel_close', 'channel_close', 'close'
    ]
    messages = [e for e in session.log if e[0] == 'message']
    assert [m[-1] for m in messages] == BODIES
    assert session.log[-3][2] == ('ChannelClosedByBroker', (404, 'NOT_FOUND'))
    assert session.log[-1][2] == ('ConnectionClosedByBroker', (320, 'shutdown'))
    check_closed_consistently(session)


@SETTINGS
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=60))
def test_any_chunking_gives_the_same_callbacks(cuts):
    whole = run_session(STREAM)
    pieces = run_session(STREAM, cuts)
    assert pieces.log == whole.log
    assert b''.join(pieces.conn.written) == b''.join(whole.conn.written)
    assert pieces.conn.events == whole.conn.events


def test_byte_by_byte_gives_the_same_callbacks():
    whole = run_session(STREAM)
    single = run_session(STREAM, list(range(len(STREAM))))
    assert single.log == whole.log


# ---------------------------------------------------------------------------
# Random mutations: generic invariants


def _frame_mutation(draw: Any) -> Tuple[str, List[bytes]]:
    frames = list(FRAMES)
    kind = draw(
        st.sampled_from([
            'swap', 'drop', 'duplicate', 'channel', 'insert_random_frame',
            'reorder_tail'
        ]))
    index = draw(st.integers(min_value=0, max_value=len(frames) - 1))
    if kind == 'swap' and index + 1 < len(frames):
        frames[index], frames[index + 1] = frames[index + 1], frames[index]
    elif kind == 'drop':
        del frames[index]
    elif kind == 'duplicate':
        frames.insert(index, frames[index])
    elif kind == 'channel':
        number = draw(st.sampled_from([0, 1, 2, 3, 65535]))
        frames[index] = (frames[index][:1] + struct.pack('>H', number) +
                         frames[index][3:])
    elif kind == 'insert_random_frame':
        frame_type = draw(st.sampled_from([1, 2, 3, 4, 8, 0, 255]))
        number = draw(st.sampled_from([0, 1, 2, 7]))
        payload = draw(st.binary(max_size=40))
        frames.insert(
            index,
            struct.pack('>BHI', frame_type, number, len(payload)) + payload +
            b'\xce')
    elif kind == 'reorder_tail':
        tail = frames[index:]
        frames[index:] = draw(st.permutations(tail))
    return kind, frames


@st.composite
def mutated_streams(draw: Any) -> Tuple[str, bytes]:
    kind = draw(
        st.sampled_from(['flip', 'truncate', 'insert', 'delete', 'frames']))
    data = bytearray(STREAM)
    if kind == 'flip':
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            position = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data[position] ^= draw(st.integers(min_value=1, max_value=255))
    elif kind == 'truncate':
        del data[draw(st.integers(min_value=0, max_value=len(data) - 1)):]
    elif kind == 'insert':
        position = draw(st.integers(min_value=0, max_value=len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=16))
    elif kind == 'delete':
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        del data[position:position +
                 draw(st.integers(min_value=1, max_value=16))]
    else:
        kind, frames = _frame_mutation(draw)
        data = bytearray(b''.join(frames))
    return kind, bytes(data)


@SETTINGS
@given(mutation=mutated_streams(), data=st.data())
def test_mutated_transcript_never_escapes_and_closes_cleanly(mutation, data):
    _kind, stream = mutation
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8))
    session = run_session(stream, cuts)
    conn = session.conn
    if 'disconnect_stream' in conn.events:
        # Asked the adapter to drop the stream and stopped processing.
        assert conn.events.count('disconnect_stream') == 1
        assert conn.is_closing or conn.is_closed or conn.connection_state in (
            conn.CONNECTION_PROTOCOL, conn.CONNECTION_START,
            conn.CONNECTION_TUNE)
    check_closed_consistently(session)


# ---------------------------------------------------------------------------
# Targeted mutations: the matching pika.exceptions class is reported


def _replace(index: int, new: bytes) -> bytes:
    frames = list(FRAMES)
    frames[index] = new
    return b''.join(frames)


def _insert(index: int, new: bytes) -> bytes:
    frames = list(FRAMES)
    frames.insert(index, new)
    return b''.join(frames)


def _with_size(raw: bytes, size: int) -> bytes:
    return raw[:3] + struct.pack('>I', size) + raw[7:]


_CHANNEL_FRAMES = range(FIRST_CHANNEL_FRAME, len(FRAMES) - 1)
_HEADER_INDEXES = [i for i, f in enumerate(FRAMES) if f[0] == 2]
_DELIVER_HEADERS = [i for i in _HEADER_INDEXES if FRAMES[i][2] == 1]


def _header_with_table_type(type_byte: bytes) -> bytes:
    """A content header frame whose headers table holds one bad value."""
    props = spec.BasicProperties(headers={'k': 'v'})
    raw = frame.Header(1, 1, props).marshal()
    position = raw.index(b'\x01kS')  # key 'k', long string value
    return raw[:position + 2] + type_byte + raw[position + 3:]


@st.composite
def protocol_breaks(draw: Any) -> Tuple[str, bytes, Tuple[str, ...]]:
    """A stream broken after the handshake and the class names accepted."""
    kind = draw(
        st.sampled_from([
            'frame_end', 'frame_type', 'oversize', 'truncated_method',
            'unknown_method', 'field_type', 'header_without_method',
            'body_without_header', 'body_too_long', 'method_inside_content'
        ]))
    index = draw(st.sampled_from(_CHANNEL_FRAMES))
    raw = FRAMES[index]
    invalid = ('InvalidFrameError',)
    if kind == 'frame_end':
        end = draw(
            st.integers(min_value=0, max_value=255).filter(lambda b: b != 206))
        return kind, _replace(index, raw[:-1] + bytes((end,))), invalid
    if kind == 'frame_type':
        frame_type = draw(st.sampled_from([0, 4, 5, 7, 9, 65, 200, 255]))
        return kind, _replace(index, bytes((frame_type,)) + raw[1:]), invalid
    if kind == 'oversize':
        size = draw(st.integers(min_value=FRAME_MAX - 7, max_value=2**32 - 1))
        # Only the head: the engine must not wait for the payload.
        return kind, b''.join(FRAMES[:index]) + _with_size(raw, size)[:7], \
            invalid
    if kind == 'truncated_method':
        index = draw(
            st.sampled_from([i for i in _CHANNEL_FRAMES if FRAMES[i][0] == 1]))
        raw = FRAMES[index]
        keep = draw(st.integers(min_value=0, max_value=len(raw) - 12))
        payload = raw[7:7 + keep]
        return kind, _replace(index,
                              _with_size(raw, keep)[:7] + payload +
                              b'\xce'), invalid
    if kind == 'unknown_method':
        class_id = draw(st.sampled_from([0, 10, 20, 60, 85, 90, 999]))
        method_id = draw(st.sampled_from([0, 1, 2, 77, 65535]))
        index_value = (class_id << 16) | method_id
        if index_value in spec.methods:
            index_value = 0xFFFF0001
        new = method_bytes(1, spec.Basic.Ack(1))
        new = new[:7] + struct.pack('>I', index_value) + new[11:]
        return kind, _insert(index, new), invalid
    if kind == 'field_type':
        type_byte = draw(st.sampled_from([b'Z', b'z', b'\x00', b'\xff', b'!']))
        return kind, _insert(
            index,
            _header_with_table_type(type_byte)), ('InvalidFrameError',
                                                  'InvalidFieldTypeException')
    if kind == 'header_without_method':
        header = frame.Header(1, 3, spec.BasicProperties()).marshal()
        return kind, _insert(index, header), ('UnexpectedFrameError',)
    if kind == 'body_without_header':
        body = frame.Body(1, b'stray').marshal()
        # A body straight after a header is that content's body.
        index = draw(
            st.sampled_from(
                [i for i in _CHANNEL_FRAMES if FRAMES[i - 1][0] != 2]))
        return kind, _insert(index,
                             body), ('UnexpectedFrameError', 'BodyTooLongError')
    if kind == 'body_too_long':
        index = draw(st.sampled_from(_DELIVER_HEADERS))
        raw = FRAMES[index]
        body_size = struct.unpack_from('>Q', raw, 11)[0]
        if body_size == 0:
            # An empty body has no body frame: add one.
            return kind, _insert(
                index + 1,
                frame.Body(1, b'x').marshal()), ('UnexpectedFrameError',)
        smaller = draw(st.integers(min_value=0, max_value=body_size - 1))
        return kind, _replace(index, raw[:11] + struct.pack('>Q', smaller) +
                              raw[19:]), ('BodyTooLongError',
                                          'UnexpectedFrameError')
    # method_inside_content: a method between a content method and its body
    index = draw(st.sampled_from(_HEADER_INDEXES))
    # After the header only while body frames are still due.
    has_body = struct.unpack_from('>Q', FRAMES[index], 11)[0] > 0
    where = draw(st.sampled_from([index, index + 1] if has_body else [index]))
    number = FRAMES[index][2]
    return kind, _insert(where, method_bytes(
        number, spec.Basic.Ack(9))), ('UnexpectedFrameError',)


@SETTINGS
@given(case=protocol_breaks(), data=st.data())
def test_protocol_breaks_raise_the_matching_class(case, data):
    kind, stream, accepted = case
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6))
    session = run_session(stream, cuts)
    conn = session.conn
    assert conn.events[-1] == 'disconnect_stream', (kind, session.log)
    assert conn.is_closing
    session.finish()
    error = close_reason(session)
    assert type(error) is exceptions.StreamLostError, (kind, error)
    text = error.args[0]
    assert text.startswith('Stream connection lost: '), text
    assert any(name in text for name in accepted), (kind, text)
    check_closed_consistently(session)


def test_unknown_channel_frames_are_dropped_not_fatal():
    frames = list(FRAMES)
    frames.insert(
        FIRST_CHANNEL_FRAME + 3,
        method_bytes(9, spec.Basic.Ack(1)) + b''.join(
            _content(9, spec.Basic.Deliver('t', 1, False, 'x', 'q'), b'zz')))
    session = run_session(b''.join(frames))
    whole = run_session(STREAM)
    assert session.log == whole.log
    check_closed_consistently(session)


def test_oversize_frame_head_during_handshake_is_rejected():
    session = Session()
    session.start()
    session.feed(FRAMES[0] + b'\x01\x00\x00\xff\xff\xff\xf0')
    assert session.conn.events[-1] == 'disconnect_stream'
    session.finish()
    error = close_reason(session)
    assert isinstance(error, exceptions.ProbableAuthenticationError)
    assert 'InvalidFrameError' in error.args[0]


def test_frames_before_a_bad_frame_in_the_same_read_are_dispatched():
    """A delivery read together with a corrupt frame is still delivered (as
    with a frame-at-a-time decoder), then the connection is aborted."""
    last_body = max(i for i, f in enumerate(FRAMES) if f[0] == 3 and f[2] == 1)
    bad = FRAMES[last_body + 1][:-1] + b'\x00'
    stream = b''.join(FRAMES[:last_body + 1]) + bad + b''.join(
        FRAMES[last_body + 2:])
    session = run_session(stream)
    assert session.names().count('message') == len(BODIES)
    assert session.conn.events[-1] == 'disconnect_stream'
    session.finish()
    error = close_reason(session)
    assert error.args[0].startswith('Stream connection lost: '
                                    'InvalidFrameError')
    assert 'Invalid FRAME_END marker' in error.args[0]
    check_closed_consistently(session)


def test_oversize_partial_frame_read_with_the_tune_is_rejected():
    """The Tune sets frame_max; a larger frame's head read in the same chunk
    is rejected at once instead of being buffered."""
    head = struct.pack('>BHI', 3, 1, 100000) + b'x' * 100
    session = Session()
    session.start()
    session.feed(b''.join(FRAMES[:3]) + head)
    assert session.conn.events[-1] == 'disconnect_stream'
    session.finish()
    error = close_reason(session)
    assert type(error) is exceptions.StreamLostError
    assert 'exceeds frame_max 4096' in error.args[0]
    check_closed_consistently(session)


# ---------------------------------------------------------------------------
# User callbacks that raise

RAISING = [
    'open', 'channel_open', 'select_ok', 'declare_ok', 'consume_ok', 'message',
    'confirm', 'get_ok', 'get_empty', 'return', 'blocked', 'unblocked',
    'cancelled', 'channel_close'
]


@SETTINGS
@given(raise_at=st.lists(st.sampled_from(RAISING),
                         min_size=1,
                         max_size=3,
                         unique=True),
       cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)),
                     max_size=6))
def test_raising_user_callbacks_abort_with_stream_lost(raise_at, cuts):
    session = run_session(STREAM, cuts, tuple(raise_at))
    conn = session.conn
    # The first raising callback in transcript order ends processing.
    first = next(entry for entry in session.log if entry[0] in raise_at)
    assert session.log[-1] is first or first[0] == 'channel_close'
    assert conn.events[-1] == 'disconnect_stream'
    assert conn.is_closing
    try:
        session.finish()
    except UserError:
        # Raised by a channel's close callback as the stream ended; it
        # reaches the adapter after every callback has run.
        assert 'channel_close' in raise_at
    error = close_reason(session)
    assert type(error) is exceptions.StreamLostError
    assert error.args == ("Stream connection lost: UserError('%s')" % first[0],)
    check_closed_consistently(session)


def test_raising_callback_is_logged_with_traceback(caplog):
    with caplog.at_level(logging.ERROR):
        session = run_session(STREAM, raise_at=('message',))
    records = [r for r in caplog.records if r.exc_info]
    assert records and records[0].exc_info[0] is UserError
    assert 'UserError' in caplog.text and 'Traceback' in caplog.text
    session.finish()
    check_closed_consistently(session)


@pytest.mark.parametrize('where', ['close', 'channel_close'])
def test_raising_close_callbacks_keep_state_consistent(where):
    """Close callbacks run as the stream ends; one raising must not stop
    the others or leave channels registered."""
    session = run_session(STREAM, raise_at=(where,))
    conn = session.conn
    if where == 'channel_close':
        # Raised while frames were processed: aborted with StreamLostError.
        assert conn.events[-1] == 'disconnect_stream'
    with pytest.raises(UserError):
        session.finish()
    assert conn.is_closed
    assert conn._channels == {}
    for chan in session.channels:
        assert chan.is_closed


def _comparable(session: Session) -> List[Any]:
    """The log with the protocol error's wording left out (the one-frame
    and the buffer decoders word some errors differently)."""
    out = []
    for entry in session.log:
        out.append(
            tuple(('StreamLostError',) if isinstance(part, tuple) and part and
                  part[0] == 'StreamLostError' else part for part in entry))
    return out


@SETTINGS
@given(mutation=mutated_streams(), data=st.data())
def test_mutated_transcript_chunking_does_not_matter(mutation, data):
    _kind, stream = mutation
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8))
    whole = run_session(stream)
    pieces = run_session(stream, cuts)
    assert _comparable(pieces) == _comparable(whole)
    assert pieces.conn.events == whole.conn.events


@SETTINGS
@given(mutation=mutated_streams(),
       raise_at=st.lists(st.sampled_from(RAISING), max_size=2, unique=True),
       data=st.data())
def test_mutations_and_raising_callbacks_together(mutation, raise_at, data):
    _kind, stream = mutation
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6))
    session = run_session(stream, cuts, tuple(raise_at))
    try:
        session.finish()
    except UserError:
        assert 'channel_close' in raise_at
    check_closed_consistently(session)


@SETTINGS
@given(mutation=mutated_streams(),
       close_at=st.sampled_from(RAISING),
       data=st.data())
def test_client_close_amid_a_mutated_transcript(mutation, close_at, data):
    _kind, stream = mutation
    if data.draw(st.booleans()):
        stream = STREAM  # unmutated
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6))
    session = Session(close_at=close_at)
    session.start()
    session.feed(stream, cuts)
    conn = session.conn
    if close_at in session.names() and not conn.is_closed:
        assert conn.is_closing
    check_closed_consistently(session)
