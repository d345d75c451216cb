"""The frame writer's large-body half: a content as frame heads and views.

A publish is one call of the adapter's ``_adapter_emit_data`` with method,
header and body frames joined (``frame.marshal_content``, called by
``Connection._send_message``). A large ``bytes`` body goes, when the adapter
takes views without copying them (``Connection._adapter_emits_views``), as a
run of frame heads and views of the body, written together by one vectored
send: :func:`content_views` builds that run; same bytes on the wire.
"""

import struct
from typing import List, Tuple, Union

from pika import amqp_object, frame, spec

# Bodies larger than this go to the adapter as a run of pieces (frame heads
# and views of the body) when the adapter takes views without copying them:
# no joined copy of a large message.
VIEW_BODY_MIN = 65536
_pack_body_head = struct.Struct('>BHI').pack
_FRAME_END_BYTE = b'\xce'
# Frame head (type, channel, size) and frame-end octet of a body frame.
_BODY_FRAME_OVERHEAD = 8


def content_views(channel_number: int, method: amqp_object.Method,
                  properties: spec.BasicProperties, body: bytes,
                  frame_max: int) -> Tuple[List[Union[bytes, memoryview]], int]:
    """Method, header and body frames of a content as pieces to write in
    order: the method and header frames joined with the first body frame's
    head, then views of the body between the body frames' heads and ends.

    Everything is encoded before anything is handed over, so an encoding
    error leaves nothing half-sent.

    :param int channel_number: channel number
    :param pika.amqp_object.Method method: e.g. ``Basic.Publish``
    :param pika.spec.BasicProperties properties: message properties
    :param bytes body: message body
    :param int frame_max: the negotiated frame_max
    :returns: ``(pieces, byte_count)``; ``len(pieces) // 2`` body frames
    :raises ValueError: if frame_max leaves no room for a body
    """
    body_size = len(body)
    chunk = frame_max - frame.FRAME_OVERHEAD
    if chunk <= 0:
        raise ValueError('frame_max %r leaves no room for a body' %
                         (frame_max,))
    head = (frame.Method(channel_number, method).marshal() +
            frame.Header(channel_number, body_size, properties).marshal())
    view = memoryview(body)
    pieces: List[Union[bytes, memoryview]] = []
    lead = head
    for position in range(0, body_size, chunk):
        fragment = view[position:position + chunk]
        pieces.append(
            lead +
            _pack_body_head(spec.FRAME_BODY, channel_number, len(fragment)))
        pieces.append(fragment)
        lead = _FRAME_END_BYTE
    pieces.append(_FRAME_END_BYTE)
    body_frames = len(pieces) // 2
    return pieces, len(head) + body_size + body_frames * _BODY_FRAME_OVERHEAD
