"""Receiving side of :class:`pika.connection.Connection`: bytes in, frames
out, frames to their channel or to the connection.

The functions take the connection as ``self`` and are the bodies of its
``_on_data_available``, ``_dispatch_frames``, ``_process_frame``... methods
(``Connection`` binds them as class attributes, so subclasses still override
and call up through them, as in pika 1.4).

Rules:

* Received chunks are decoded by offset (``frame.decode_frames``); an
  incomplete frame at the end of a read is kept for the next one: copied and
  joined once complete, except a large body frame of an open connection,
  which is kept as views of the received chunks (a 1 MiB body is then
  copied once, by the channel's join, instead of four or five times).
* A delivery whose method, header and whole body arrive in one batch goes to
  the channel in one call; frames for unknown channels are logged and
  dropped; a ``_process_frame`` override sees every frame.
* Malformed bytes abort the connection after the complete frames before
  them were handled (as a frame-at-a-time decoder would); an exception from
  a callback is logged and aborts the connection with ``StreamLostError``.
"""

import logging
import struct
from typing import Any, List

from pika import _state, exceptions, frame, spec

# Same logger as the rest of the engine (users filter on its name).
LOGGER = logging.getLogger('pika.connection')

# Frame head: type (1), channel (2), payload size (4); then payload, frame-end.
_FRAME_HEAD_SIZE = 7
_unpack_frame_size = struct.Struct('>I').unpack_from
_unpack_body_head = struct.Struct('>HI').unpack_from
_AMQP_FIRST_BYTE = ord('A')
_FRAME_END = spec.FRAME_END
_FRAME_METHOD = spec.FRAME_METHOD
_FRAME_HEADER = spec.FRAME_HEADER
_FRAME_BODY = spec.FRAME_BODY
_FRAME_HEARTBEAT = spec.FRAME_HEARTBEAT
_DELIVER_INDEX = spec.Basic.Deliver.INDEX
_GETOK_INDEX = spec.Basic.GetOk.INDEX
# Content methods whose method, header and whole body, when decoded from one
# read, go to the channel in one call.
_WHOLE_CONTENT_INDEXES = frozenset((_DELIVER_INDEX, _GETOK_INDEX))
_new_object = object.__new__

# A body frame whose payload is at least this large and which arrives over
# several reads is kept as views of the received chunks, not copied and
# joined (large messages: the body is copied once, by the channel's join).
_STREAM_BODY_MIN = 4096
# The smallest value of the payload size's third byte (big-endian) that a
# payload of _STREAM_BODY_MIN bytes can have when its first two are zero.
_STREAM_SIZE_BYTE5_MIN = _STREAM_BODY_MIN >> 8

_CLOSED = _state.CLOSED
_OPEN = _state.OPEN
_CLOSING = _state.CLOSING


def _whole_content(header: Any, body: Any, channel_number: int) -> bool:
    """True if ``header`` and ``body`` carry a complete one-frame content."""
    return (header.frame_type == _FRAME_HEADER and
            body.frame_type == _FRAME_BODY and
            header.channel_number == channel_number and
            body.channel_number == channel_number and
            header.body_size == len(body.fragment) and header.body_size > 0)


def on_data_available(self: Any, data_in: bytes) -> None:
    """Feed bytes received from the transport.

    An exception raised by a callback while frames are processed is
    logged with its traceback and aborts the connection with
    :class:`pika.exceptions.StreamLostError`, as pika's transports do.

    :param bytes data_in: received bytes (any chunking)
    """
    self.bytes_received += len(data_in)
    if self._terminating or self.connection_state == _CLOSED:
        return
    offset = 0
    if self._body_pieces is not None:
        if data_in.__class__ is not bytes:
            data_in = bytes(data_in)
        offset = self._continue_body(data_in)
        if offset < 0 or offset == len(data_in) or self._terminating:
            return
        data = data_in
    elif self._buffered_bytes:
        self._frame_buffer.append(data_in)
        self._buffered_bytes += len(data_in)
        if self._buffered_bytes < self._bytes_needed:
            return
        data = b''.join(self._frame_buffer)
        self._frame_buffer = []
        self._buffered_bytes = 0
    else:
        data = data_in
    try:
        frames, offset = frame.decode_frames(data, offset, self._frame_max_in)
    except exceptions.AMQPError as error:
        self._on_malformed_data(data, error, offset)
        return
    if offset < len(data):
        self._keep_partial_frame(data, offset)
    if not frames:
        return
    self._dispatch_frames(frames)
    if (self._buffered_bytes and not self._terminating and
            self._frame_max_in and self._bytes_needed > self._frame_max_in):
        # The head of this partial frame was decoded before the Tune
        # that set the limit arrived in the same read.
        self._on_protocol_error(
            exceptions.InvalidFrameError(
                'Frame payload of %d bytes exceeds frame_max %r' %
                (self._bytes_needed - _FRAME_HEAD_SIZE - 1,
                 self._frame_max_in)))


def on_malformed_data(self: Any,
                      data: bytes,
                      error: BaseException,
                      offset: int = 0) -> None:
    """``decode_frames`` met a malformed frame in ``data``.

    The complete frames before it are dispatched first, as a
    frame-at-a-time decoder (pika's) would, so how the bytes were chunked
    never decides whether e.g. a delivery before the bad frame is seen;
    then the connection is aborted.

    :param bytes data: the buffer that failed to decode
    :param Exception error: the decoder's error
    :param int offset: where decoding started in ``data``
    """
    self._discard_buffer()
    while not self._terminating:
        try:
            consumed, value = frame.decode_frame(data[offset:],
                                                 self._frame_max_in)
        except exceptions.AMQPError as frame_error:
            error = frame_error
            break
        if value is None:
            break
        offset += consumed
        self._dispatch_frames([value])
    if not self._terminating:
        self._on_protocol_error(error)


def dispatch_frames(self: Any, frames: List[Any]) -> None:
    """Hand decoded frames to their channel or the connection.

    :param list frames: the frames, in arrival order
    """
    self.frames_received += len(frames)
    channels = self._channels
    # A subclass overriding _process_frame sees every frame (pika's hook).
    fast = _is_base_process_frame(self)
    count = len(frames)
    index = 0
    try:
        while index < count:
            value = frames[index]
            index += 1
            number = getattr(value, 'channel_number', 0)
            if number and fast:
                chan = channels.get(number)
                if chan is None:
                    self._on_frame_for_unknown_channel(value)
                elif (value.frame_type == _FRAME_METHOD and
                      index + 1 < count and
                      value.method.INDEX in _WHOLE_CONTENT_INDEXES and
                      chan._content_method is None and
                      _whole_content(frames[index], frames[index + 1], number)):
                    # Deliver (or GetOk) + header + whole body in this
                    # batch: one call to the channel instead of three frames
                    # (the channel's own assembly ends in the same call).
                    if value.method.INDEX == _DELIVER_INDEX:
                        chan._on_deliver(value, frames[index],
                                         frames[index + 1].fragment)
                    else:
                        chan._on_getok(value, frames[index],
                                       frames[index + 1].fragment)
                    index += 2
                else:
                    chan._handle_frame(value)
            else:
                self._process_frame(value)
            if self._terminating:
                return
    except Exception as error:  # pylint: disable=broad-except
        self._on_dispatch_error(error)


def on_dispatch_error(self: Any, error: BaseException) -> None:
    """A callback raised while received frames were dispatched."""
    LOGGER.exception(
        'Exception raised while processing received frames on %s; '
        'aborting the connection', self)
    self._discard_buffer()
    if self.connection_state != _CLOSED:
        self._terminate_stream(
            exceptions.StreamLostError(
                'Stream connection lost: {!r}'.format(error)))


def keep_partial_frame(self: Any, data: bytes, offset: int) -> None:
    """Keep the incomplete frame at ``offset`` of ``data`` for the next
    read: a large body frame of an open connection as views of its
    payload (no copy), anything else as a copy joined once complete.
    """
    size = len(data) - offset
    # (Bytes 3-5 of the head are the upper bytes of the payload size: a
    # cheap test that skips the unpack for small frames.)
    if (size >= _FRAME_HEAD_SIZE and data[offset] == _FRAME_BODY and
        (data[offset + 3] or data[offset + 4] or
         data[offset + 5] >= _STREAM_SIZE_BYTE5_MIN) and
            self.connection_state == _OPEN):
        channel_number, payload_size = _unpack_body_head(data, offset + 1)
        # The decoder has vetted the announced size against frame_max.
        if channel_number and payload_size >= _STREAM_BODY_MIN:
            if data.__class__ is not bytes:
                data = bytes(data[offset:])
                offset = 0
            received = size - _FRAME_HEAD_SIZE
            start = offset + _FRAME_HEAD_SIZE
            self._body_pieces = ([memoryview(data)[start:]] if received else [])
            self._body_channel = channel_number
            self._body_size = payload_size
            self._body_missing = payload_size - received
            return
    rest = bytes(data[offset:])
    self._frame_buffer = [rest]
    self._buffered_bytes = len(rest)
    # With a whole head the decoder has already vetted the announced size
    # (unless a Tune in the same read lowered the limit: see the caller).
    if len(rest) >= _FRAME_HEAD_SIZE and rest[0] != _AMQP_FIRST_BYTE:
        self._bytes_needed = (_unpack_frame_size(rest, 3)[0] +
                              _FRAME_HEAD_SIZE + 1)
    else:
        self._bytes_needed = _FRAME_HEAD_SIZE


def continue_body(self: Any, data: bytes) -> int:
    """Take the next part of the large body frame being received.

    :param bytes data: the bytes just read
    :returns: the offset in ``data`` after the frame once it is complete
        and handled, or -1 while it is not (or if it was malformed)
    """
    pieces = self._body_pieces
    assert pieces is not None
    missing = self._body_missing
    size = len(data)
    if missing >= size:
        if size:
            pieces.append(memoryview(data))
            self._body_missing = missing - size
        return -1
    if missing:
        pieces.append(memoryview(data)[:missing])
    if data[missing] != _FRAME_END:
        self._discard_buffer()
        self._on_protocol_error(
            exceptions.InvalidFrameError('Invalid FRAME_END marker'))
        return -1
    self._body_pieces = None
    self._dispatch_body(self._body_channel, self._body_size, pieces)
    return missing + 1


def dispatch_body(self: Any, channel_number: int, payload_size: int,
                  pieces: List[memoryview]) -> None:
    """Hand on a body frame received as views of several reads.

    Inside a content that spans several body frames the channel joins
    its parts into one ``bytes`` body anyway, so the views go to it as
    they are (the body is then copied once, by that join); otherwise
    the frame is dispatched as a ``Body`` frame with its fragment joined
    into ``bytes``.
    """
    chan = self._channels.get(channel_number)
    if (chan is not None and chan._content_header is not None and
            _is_base_process_frame(self) and
            payload_size <= chan._content_remaining and
        (payload_size < chan._content_remaining or chan._content_parts)):
        self.frames_received += 1
        try:
            for piece in pieces:
                value: Any = _new_object(frame.Body)
                value.frame_type = _FRAME_BODY
                value.channel_number = channel_number
                value.fragment = piece
                chan._handle_frame(value)
                if self._terminating:
                    return
        except Exception as error:  # pylint: disable=broad-except
            self._on_dispatch_error(error)
        return
    self._dispatch_frames([frame.Body(channel_number, b''.join(pieces))])


def discard_buffer(self: Any) -> None:
    self._frame_buffer = []
    self._buffered_bytes = 0
    self._bytes_needed = 0
    self._body_pieces = None


def _is_base_process_frame(conn: Any) -> bool:
    """True unless ``_process_frame`` is overridden (on the class or on the
    instance, where a plain function has no ``__func__``).
    """
    try:
        return conn._process_frame.__func__ is process_frame  # type: ignore[no-any-return]
    except AttributeError:
        return False


def process_frame(self: Any, frame_value: Any) -> None:
    """Handle one decoded frame.

    :param pika.frame.Frame frame_value: the frame
    """
    number = getattr(frame_value, 'channel_number', 0)
    if number:
        chan = self._channels.get(number)
        if chan is None:
            self._on_frame_for_unknown_channel(frame_value)
        else:
            chan._handle_frame(frame_value)
        return
    frame_type = frame_value.frame_type
    if frame_type == _FRAME_HEARTBEAT:
        if self._heartbeat_checker is not None:
            self._heartbeat_checker.received()
        return
    if frame_type == _FRAME_METHOD:
        handler_name = self._CONNECTION_METHOD_HANDLERS.get(
            (self.connection_state, frame_value.method.INDEX))
        if handler_name is not None:
            getattr(self, handler_name)(frame_value)
            return
        if self.connection_state == _CLOSING:
            LOGGER.debug('Ignoring %r while closing', frame_value)
            return
    if isinstance(frame_value, frame.ProtocolHeader):
        self._terminate_stream(
            exceptions.IncompatibleProtocolError(
                'Server sent protocol header AMQP %s-%s-%s' %
                (frame_value.major, frame_value.minor, frame_value.revision)))
        return
    self._on_protocol_error(exceptions.UnexpectedFrameError(frame_value))


def on_frame_for_unknown_channel(self: Any, frame_value: Any) -> None:
    LOGGER.critical('Received %s frame for unregistered channel %i on %s',
                    getattr(frame_value, 'NAME', frame_value),
                    frame_value.channel_number, self)
