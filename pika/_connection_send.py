"""Sending side of :class:`pika.connection.Connection`: frames and
messages to bytes for the adapter.

The functions take the connection as ``self`` and are the bodies of its
``_emit_bytes``, ``_send_frame``, ``_send_method``, ``_send_message``
methods (bound as class attributes of ``Connection``).

A publish is one call of the adapter's ``_adapter_emit_data`` with method,
header and body frames joined (``frame.marshal_content``); a large ``bytes``
body goes, when the adapter takes views without copying them, as a run of
frame heads and views of the body, written together by one vectored send.
"""

import struct
from typing import Any, List

from pika import _state, exceptions, frame, spec

# Bodies larger than this go to the adapter as a run of pieces (frame heads
# and views of the body) when the adapter takes views without copying them
# (``Connection._adapter_emits_views``): no joined copy of a large message.
_VIEW_BODY_MIN = 65536
_pack_body_head = struct.Struct('>BHI').pack
_FRAME_END_BYTE = b'\xce'
_CLOSED = _state.CLOSED


def emit_bytes(self: Any, data: bytes, frame_count: int) -> None:
    self.bytes_sent += len(data)
    self.frames_sent += frame_count
    self._adapter_emit_data(data)


def send_frame(self: Any, frame_value: Any) -> None:
    """Marshal and send one frame.

    :param pika.frame.Frame frame_value: the frame
    """
    if self.is_closed:
        raise exceptions.ConnectionWrongStateError(
            'Attempted to send a frame on closed connection.')
    self._emit_bytes(frame_value.marshal(), 1)


def send_method(self: Any, channel_number: int, method: Any) -> None:
    """Send a method frame.

    :param int channel_number: channel number
    :param pika.amqp_object.Method method: the method
    """
    self._send_frame(frame.Method(channel_number, method))


def send_message(self: Any, channel_number: int, method: Any, properties: Any,
                 body: bytes) -> None:
    """Send a content-bearing method in one transport write.

    :param int channel_number: channel number
    :param pika.amqp_object.Method method: e.g. ``Basic.Publish``
    :param pika.spec.BasicProperties properties: message properties
    :param bytes body: message body
    """
    if self.connection_state == _CLOSED:
        raise exceptions.ConnectionWrongStateError(
            'Attempted to send a frame on closed connection.')
    if (len(body) > _VIEW_BODY_MIN and self._adapter_emits_views and
            body.__class__ is bytes):
        self._send_message_views(channel_number, method, properties, body)
        return
    data = frame.marshal_content(channel_number, method, properties, body,
                                 self.params.frame_max)
    body_max = self._body_max_length
    self.bytes_sent += len(data)
    self.frames_sent += 2 + (len(body) + body_max - 1) // body_max
    self._adapter_emit_data(data)


def send_message_views(self: Any, channel_number: int, method: Any,
                       properties: Any, body: bytes) -> None:
    """:meth:`_send_message` for a large ``bytes`` body: the same bytes
    on the wire, handed over as frame heads and views of the body.
    """
    body_size = len(body)
    chunk = self.params.frame_max - frame.FRAME_OVERHEAD
    if chunk <= 0:
        raise ValueError('frame_max %r leaves no room for a body' %
                         (self.params.frame_max,))
    # Everything is encoded before the first piece is handed over, so
    # an encoding error leaves nothing half-sent.
    head = (frame.Method(channel_number, method).marshal() +
            frame.Header(channel_number, body_size, properties).marshal())
    view = memoryview(body)
    pieces: List[Any] = []
    lead = head
    for position in range(0, body_size, chunk):
        fragment = view[position:position + chunk]
        pieces.append(
            lead +
            _pack_body_head(spec.FRAME_BODY, channel_number, len(fragment)))
        pieces.append(fragment)
        lead = _FRAME_END_BYTE
    pieces.append(_FRAME_END_BYTE)
    frame_count = 2 + len(pieces) // 2
    self.bytes_sent += len(head) + body_size + (frame_count - 2) * 8
    self.frames_sent += frame_count
    emit = self._adapter_emit_data
    for piece in pieces:
        emit(piece)
