"""The frame reader: received bytes in, frames out.

:class:`FrameReader` owns what the receiving side keeps between two reads:
the bytes of an incomplete frame, and the views of a large body frame that
arrives over several reads. It knows no channels and calls nothing: the
connection (``Connection._on_data_available``) feeds it, decodes the complete
frames (``frame.decode_frames`` over the reader's ``frame_max``) and
dispatches them.

Rules:

* Received chunks are decoded by offset; an incomplete frame at the end of a
  read is kept for the next one: copied and joined once complete, except a
  large body frame of an open connection, which is kept as views of the
  received chunks (a 1 MiB body is then copied once, by the channel's join,
  instead of four or five times).
* Before ``Connection.Tune`` no frame may be larger than the largest
  ``frame_max`` that can be negotiated (a garbage size must not make us
  buffer); the handshake lowers :attr:`FrameReader.frame_max` once tuned.
* A large body whose frame-end octet is wrong raises ``InvalidFrameError``
  after the reader has dropped everything it held.
"""

import struct
from typing import List, Optional, Tuple

from pika import exceptions, frame, spec

# Frame head: type (1), channel (2), payload size (4); then payload, frame-end.
FRAME_HEAD_SIZE = frame.FRAME_HEAD_SIZE
_unpack_frame_size = struct.Struct('>I').unpack_from
_unpack_body_head = struct.Struct('>HI').unpack_from
_AMQP_FIRST_BYTE = ord('A')
_FRAME_END = spec.FRAME_END
_FRAME_BODY = spec.FRAME_BODY
# Offsets in a frame head of the three upper bytes of the payload size.
_SIZE_BYTE3 = 3
_SIZE_BYTE4 = 4
_SIZE_BYTE5 = 5

# A body frame whose payload is at least this large and which arrives over
# several reads is kept as views of the received chunks, not copied and
# joined (large messages: the body is copied once, by the channel's join).
_STREAM_BODY_MIN = 4096
# The smallest value of the payload size's third byte (big-endian) that a
# payload of _STREAM_BODY_MIN bytes can have when its first two are zero.
_STREAM_SIZE_BYTE5_MIN = _STREAM_BODY_MIN >> 8


class FrameReader:
    """What the receiving side keeps between reads.

    :attr frame_max: the largest frame accepted (None: no limit)
    :attr buffered_bytes: bytes of an incomplete frame held as a copy
    :attr bytes_needed: size of that frame once complete
    :attr body_pieces: views of a large body frame's payload received so far
        (None when no such frame is in progress)
    """

    __slots__ = ('frame_max', '_chunks', 'buffered_bytes', 'bytes_needed',
                 'body_pieces', 'body_channel', 'body_size', '_body_missing')

    def __init__(self) -> None:
        """Create an empty reader."""
        self.frame_max: Optional[int] = spec.FRAME_MAX_SIZE
        # Kept as chunks and joined once the frame is complete (no quadratic
        # copying of large frames read in small pieces, e.g. 16 KiB TLS
        # records).
        self._chunks: List[bytes] = []
        self.buffered_bytes = 0
        self.bytes_needed = 0
        self.body_pieces: Optional[List[memoryview]] = None
        self.body_channel = 0
        self.body_size = 0
        # Payload bytes still to come (0: only the frame-end octet is missing)
        self._body_missing = 0

    def join(self, data: bytes) -> Optional[bytes]:
        """Add ``data`` to the incomplete frame held.

        :returns: the buffered bytes and ``data`` joined once the frame is
            complete, else None
        """
        self._chunks.append(data)
        self.buffered_bytes += len(data)
        if self.buffered_bytes < self.bytes_needed:
            return None
        joined = b''.join(self._chunks)
        self._chunks = []
        self.buffered_bytes = 0
        return joined

    def keep_partial_frame(self, data: bytes, offset: int,
                           stream_bodies: bool) -> None:
        """Keep the incomplete frame at ``offset`` of ``data`` for the next
        read: a large body frame as views of its payload (no copy) when
        ``stream_bodies`` (the connection is open), anything else as a copy
        joined once complete.
        """
        size = len(data) - offset
        # (The upper bytes of the payload size: a cheap test that skips the
        # unpack for small frames.)
        if (size >= FRAME_HEAD_SIZE and data[offset] == _FRAME_BODY and
            (data[offset + _SIZE_BYTE3] or data[offset + _SIZE_BYTE4] or
             data[offset + _SIZE_BYTE5] >= _STREAM_SIZE_BYTE5_MIN) and
                stream_bodies):
            channel_number, payload_size = _unpack_body_head(data, offset + 1)
            # The decoder has vetted the announced size against frame_max.
            if channel_number and payload_size >= _STREAM_BODY_MIN:
                if data.__class__ is not bytes:
                    data = bytes(data[offset:])
                    offset = 0
                received = size - FRAME_HEAD_SIZE
                start = offset + FRAME_HEAD_SIZE
                self.body_pieces = ([memoryview(data)[start:]]
                                    if received else [])
                self.body_channel = channel_number
                self.body_size = payload_size
                self._body_missing = payload_size - received
                return
        rest = bytes(data[offset:])
        self._chunks = [rest]
        self.buffered_bytes = len(rest)
        # With a whole head the decoder has already vetted the announced size
        # (unless a Tune in the same read lowered the limit: see
        # oversize_partial_frame).
        if len(rest) >= FRAME_HEAD_SIZE and rest[0] != _AMQP_FIRST_BYTE:
            self.bytes_needed = (_unpack_frame_size(rest, _SIZE_BYTE3)[0] +
                                 FRAME_HEAD_SIZE + 1)
        else:
            self.bytes_needed = FRAME_HEAD_SIZE

    def continue_body(self,
                      data: bytes) -> Tuple[int, Optional[List[memoryview]]]:
        """Take the next part of the large body frame being received.

        :param bytes data: the bytes just read
        :returns: ``(offset, pieces)``: the offset in ``data`` after the
            frame and the views of its payload once it is complete, else
            ``(-1, None)``
        :raises pika.exceptions.InvalidFrameError: on a bad frame-end octet
        """
        pieces = self.body_pieces
        assert pieces is not None
        missing = self._body_missing
        size = len(data)
        if missing >= size:
            if size:
                pieces.append(memoryview(data))
                self._body_missing = missing - size
            return -1, None
        if missing:
            pieces.append(memoryview(data)[:missing])
        if data[missing] != _FRAME_END:
            self.discard()
            raise exceptions.InvalidFrameError('Invalid FRAME_END marker')
        self.body_pieces = None
        return missing + 1, pieces

    def oversize_partial_frame(self) -> Optional[int]:
        """The payload size of the incomplete frame held if it exceeds
        ``frame_max`` (its head was decoded before a Tune that lowered the
        limit arrived in the same read), else None.
        """
        if (self.buffered_bytes and self.frame_max and
                self.bytes_needed > self.frame_max):
            return self.bytes_needed - FRAME_HEAD_SIZE - 1
        return None

    def discard(self) -> None:
        """Forget everything held."""
        self._chunks = []
        self.buffered_bytes = 0
        self.bytes_needed = 0
        self.body_pieces = None
