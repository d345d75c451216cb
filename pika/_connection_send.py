"""The send side's view form of a content: frame heads and body views.

A publish is encoded by the one content writer, ``frame.content_pieces``
(called by ``Connection._send_message``), and usually handed to the adapter's
``_adapter_emit_data`` as one joined ``bytes`` object. A large ``bytes``
body goes, when the adapter takes views without copying them
(``Connection._adapter_emits_views``), as a run of frame heads and views of
the body, written together by one vectored send: :func:`content_views`
groups the writer's pieces into that run; same bytes on the wire.
"""

from typing import List, Tuple, Union

from pika import amqp_object, frame, spec

# Bodies larger than this go to the adapter as a run of pieces (frame heads
# and views of the body) when the adapter takes views without copying them:
# no joined copy of a large message.
VIEW_BODY_MIN = 65536


def group_views(pieces: List[Union[bytes, memoryview]],
                body: bytes) -> List[Union[bytes, memoryview]]:
    """Join the frame heads and ends between the body fragments of
    ``frame.content_pieces`` output, leaving the fragments (``body`` or its
    memoryviews, a body that fits one frame as a view of it too) as pieces of
    their own.

    :param list pieces: what ``frame.content_pieces`` returned for ``body``
    :param bytes body: the message body
    :returns: ``[heads, fragment, end + head, fragment, ..., end]``
    """
    grouped: List[Union[bytes, memoryview]] = []
    run: List[Union[bytes, memoryview]] = []
    for piece in pieces:
        if piece is body or piece.__class__ is memoryview:
            if run:
                grouped.append(b''.join(run))
                run = []
            grouped.append(memoryview(piece) if piece is body else piece)
        else:
            run.append(piece)
    if run:
        grouped.append(b''.join(run))
    return grouped


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
    :returns: ``(pieces, byte_count)``
    :raises ValueError: if frame_max leaves no room for a body
    """
    pieces = frame.content_pieces(channel_number, method, properties, body,
                                  frame_max)
    return group_views(pieces, body), sum(len(piece) for piece in pieces)
