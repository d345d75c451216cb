"""AMQP 0-9-1 frames: classes, marshalling and decoding.

A frame on the wire is ``type (octet) | channel (short) | size (long) |
payload | 0xCE``. :func:`decode_frame` is pika's one-frame decoder;
:func:`decode_frames` is the engine's fast path that decodes every complete
frame in a buffer in one loop, by offset, without copying the buffer, and
:func:`content_pieces` is the one content writer: the method, header and
body frames of a publish as pieces, joined by :func:`marshal_content` into
one ``bytes`` object or handed to a transport as views of a large body.

Decoding is strict: a bad frame end, an unknown frame type or method, a
payload larger than ``frame_max`` allows, or a payload that does not parse
raise :class:`pika.exceptions.InvalidFrameError` (unknown field-table types
raise :class:`pika.exceptions.InvalidFieldTypeException`). No other
exception escapes the decoders. A broker's protocol-header reply (``AMQP``
and four version octets, sent when it rejects our protocol version) decodes
to a :class:`ProtocolHeader`.
"""
import logging
import struct
from typing import (Any, Dict, Generic, List, Optional, Tuple, TypeVar, Union)

from pika import amqp_object, data, exceptions, spec
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.compat import byte  # noqa: F401

LOGGER = logging.getLogger(__name__)

# A frame: type (octet) | channel (short) | payload size (long) | payload |
# frame end (octet 0xCE).
FRAME_HEAD_SIZE = spec.FRAME_HEADER_SIZE  # 7
_PAYLOAD_SIZE_AT = 3  # in the frame head
# Frame head (7) + frame end (1).
FRAME_OVERHEAD = spec.FRAME_HEADER_SIZE + spec.FRAME_END_SIZE
# Sizes in a method frame's payload: the method INDEX (class and method ids);
# Basic.Publish's fixed arguments: INDEX, ticket (short) and the bits octet
# (exchange and routing key add their short strings).
_METHOD_INDEX_SIZE = 4
_PUBLISH_FIXED_SIZE = _METHOD_INDEX_SIZE + 2 + 1
# A content header's payload before its properties: class id, weight (short
# each) and body size (long long); then the first property-flags word.
_CONTENT_HEADER_FIXED_SIZE = 12
_PROPERTY_FLAGS_SIZE = 2
# Where a method frame's arguments start (after the frame head and the
# method INDEX) and a content header's properties (after the frame head,
# the fixed part and the first property-flags word).
_ARGUMENTS_AT = FRAME_HEAD_SIZE + _METHOD_INDEX_SIZE
_PROPERTIES_AT = (FRAME_HEAD_SIZE + _CONTENT_HEADER_FIXED_SIZE +
                  _PROPERTY_FLAGS_SIZE)
# The broker's protocol-header reply: b'AMQP', 0, major, minor, revision.
_PROTOCOL_PREFIX = b'AMQP'
_PROTOCOL_HEADER_SIZE = 8
_PROTOCOL_VERSION_AT = 5
_AMQP_FIRST = _PROTOCOL_PREFIX[0]  # 'A', never a valid frame type

_FRAME_HEAD = struct.Struct('>BHI')
_METHOD_HEAD = struct.Struct('>BHII')  # frame head + method INDEX
_CONTENT_HEAD = struct.Struct('>BHIHHQ')  # frame head + class, weight, size
_UINT32 = struct.Struct('>I')
_PROTOCOL_VERSION = struct.Struct('>BBB')
# Basic.Publish's bits.
_MANDATORY = 1
_IMMEDIATE = 2
# The content writer packs what lies between two variable-length parts in
# one call: the Basic.Publish frame head, INDEX and ticket (then the exchange
# and routing key as short strings); the publish bits, the method frame's end
# and the content header's frame head, class id, weight and body size; the
# end of one frame and the next body frame's head.
_PUBLISH_HEAD = struct.Struct('>BHIIH')
_PUBLISH_TAIL = struct.Struct('>BBBHIHHQ')
_HEADER_AFTER_END = struct.Struct('>BBHIHHQ')
_BODY_AFTER_END = struct.Struct('>BBHI')
_PUBLISH = spec.Basic.Publish
_BASIC_PROPERTIES = spec.BasicProperties
_short_cache_get = spec._short_cache_get
_short_cache_add = spec._short_cache_add
_short_prefixed = spec._short_prefixed
_PUBLISH_INDEX = spec.Basic.Publish.INDEX
_BYTE = data.BYTE

_pack_frame_head = _FRAME_HEAD.pack
_unpack_frame_head = _FRAME_HEAD.unpack_from
# The decoder's fast branches unpack, after the frame type octet: channel and
# payload size (body frame); + method INDEX (method frame); + class id,
# weight, body size and the first property-flags word (content header).
_unpack_body_head = struct.Struct('>HI').unpack_from
_unpack_method_head = struct.Struct('>HII').unpack_from
_unpack_header_head = struct.Struct('>HIHHQH').unpack_from
_new_object = object.__new__
_unpack_uint32 = _UINT32.unpack_from
# payload_max when frame_max sets no limit
_NO_LIMIT = 1 << 62

FRAME_END_BYTE = b'\xce'
_FRAME_END = spec.FRAME_END
_FRAME_METHOD = spec.FRAME_METHOD
_FRAME_HEADER = spec.FRAME_HEADER
_FRAME_BODY = spec.FRAME_BODY
_FRAME_HEARTBEAT = spec.FRAME_HEARTBEAT
_HEARTBEAT_BYTES = b'\x08\x00\x00\x00\x00\x00\x00\xce'

_METHODS: Dict[int, Any] = spec.methods
_PROPS: Dict[int, Any] = spec.props
_compile_decoder = spec._compile_decoder

# Everything a malformed payload can make the decoders raise; turned into
# InvalidFrameError so only pika.exceptions classes leave this module.
_DECODE_ERRORS = data.DECODE_ERRORS
# ... and unknown method or class ids (KeyError).
_UNPARSED = (KeyError,) + _DECODE_ERRORS

_MethodT = TypeVar('_MethodT', bound=amqp_object.Method)


class Frame(amqp_object.AMQPObject):
    """Base Frame object mapping. Defines a behavior for all child classes for
    assignment of core attributes and implementation of the a core _marshal
    method which child classes use to create the binary AMQP frame.

    """
    NAME = 'Frame'

    def __init__(self, frame_type: int, channel_number: int) -> None:
        """Create a new instance of a frame

        :param int frame_type: The frame type
        :param int channel_number: The channel number for the frame

        """
        self.frame_type = frame_type
        self.channel_number = channel_number

    def _marshal(self, pieces: List[bytes]) -> bytes:
        """Create the full AMQP wire protocol frame data representation

        :rtype: bytes

        """
        payload = b''.join(pieces)
        return b''.join(
            (_pack_frame_head(self.frame_type, self.channel_number,
                              len(payload)), payload, FRAME_END_BYTE))

    def marshal(self) -> bytes:
        """To be ended by child classes

        :raises NotImplementedError

        """
        raise NotImplementedError


class Method(Frame, Generic[_MethodT]):
    """Base Method frame object mapping. AMQP method frames are mapped on top
    of this class for creating or accessing their data and attributes.

    """
    NAME = 'METHOD'

    def __init__(self, channel_number: int, method: _MethodT) -> None:
        """Create a new instance of a frame

        :param int channel_number: The frame type
        :param pika.Spec.Class.Method method: The AMQP Class.Method

        """
        self.frame_type = _FRAME_METHOD
        self.channel_number = channel_number
        self.method = method

    def marshal(self) -> bytes:
        """Return the AMQP binary encoded value of the frame

        :rtype: bytes

        """
        payload = b''.join(self.method.encode())
        return b''.join(
            (_METHOD_HEAD.pack(_FRAME_METHOD, self.channel_number,
                               _METHOD_INDEX_SIZE + len(payload),
                               self.method.INDEX), payload, FRAME_END_BYTE))


class Header(Frame):
    """Header frame object mapping. AMQP content header frames are mapped
    on top of this class for creating or accessing their data and attributes.

    """
    NAME = 'Header'

    def __init__(self, channel_number: int, body_size: int, props: Any) -> None:
        """Create a new instance of a AMQP ContentHeader object

        :param int channel_number: The channel number for the frame
        :param int body_size: The number of bytes for the body
        :param pika.spec.BasicProperties props: Basic.Properties object

        """
        self.frame_type = _FRAME_HEADER
        self.channel_number = channel_number
        self.body_size = body_size
        self.properties = props

    def marshal(self) -> bytes:
        """Return the AMQP binary encoded value of the frame

        :rtype: bytes

        """
        properties = self.properties
        if properties.__class__ is _BASIC_PROPERTIES:
            payload = properties._encoded()
        else:
            payload = b''.join(properties.encode())
        return _CONTENT_HEAD.pack(_FRAME_HEADER, self.channel_number,
                                  _CONTENT_HEADER_FIXED_SIZE + len(payload),
                                  properties.INDEX, 0,
                                  self.body_size) + payload + FRAME_END_BYTE


class Body(Frame):
    """Body frame object mapping class. AMQP content body frames are mapped on
    to this base class for getting/setting of attributes/data.

    """
    NAME = 'Body'

    def __init__(self, channel_number: int, fragment: bytes) -> None:
        """
        Parameters:

        :param int channel_number: The channel number for the frame
        :param bytes fragment: The body fragment

        """
        self.frame_type = _FRAME_BODY
        self.channel_number = channel_number
        self.fragment = fragment

    def marshal(self) -> bytes:
        """Return the AMQP binary encoded value of the frame

        :rtype: bytes

        """
        fragment = self.fragment
        return b''.join(
            (_pack_frame_head(_FRAME_BODY, self.channel_number,
                              len(fragment)), fragment, FRAME_END_BYTE))


class Heartbeat(Frame):
    """Heartbeat frame object mapping class. AMQP Heartbeat frames are mapped
    on to this class for a common access structure to the attributes/data
    values.

    """
    NAME = 'Heartbeat'

    def __init__(self) -> None:
        """Create a new instance of the Heartbeat frame"""
        self.frame_type = _FRAME_HEARTBEAT
        self.channel_number = 0

    def marshal(self) -> bytes:
        """Return the AMQP binary encoded value of the frame

        :rtype: bytes

        """
        return _HEARTBEAT_BYTES


class ProtocolHeader(amqp_object.AMQPObject):
    """AMQP Protocol header frame class which provides a pythonic interface
    for creating AMQP Protocol headers

    """
    NAME = 'ProtocolHeader'

    def __init__(self,
                 major: Optional[int] = None,
                 minor: Optional[int] = None,
                 revision: Optional[int] = None) -> None:
        """Construct a Protocol Header frame object for the specified AMQP
        version

        :param int major: Major version number
        :param int minor: Minor version number
        :param int revision: Revision

        """
        self.frame_type = -1
        self.major = spec.PROTOCOL_VERSION[0] if major is None else major
        self.minor = spec.PROTOCOL_VERSION[1] if minor is None else minor
        self.revision = (spec.PROTOCOL_VERSION[2]
                         if revision is None else revision)

    def marshal(self) -> bytes:
        """Return the full AMQP wire protocol frame data representation of the
        ProtocolHeader frame

        :rtype: bytes

        """
        return _PROTOCOL_PREFIX + bytes(
            (0, self.major, self.minor, self.revision))


def _invalid(message: str) -> exceptions.InvalidFrameError:
    return exceptions.InvalidFrameError(message)


def _decode_protocol_header(
        data: Any, offset: int) -> Tuple[int, Optional[ProtocolHeader]]:
    """Decode ``AMQP`` + 4 octets at ``offset``; (0, None) while incomplete."""
    available = len(data) - offset
    head = bytes(data[offset:offset + len(_PROTOCOL_PREFIX)])
    if head != _PROTOCOL_PREFIX[:len(head)]:
        raise _invalid('Unknown frame type: %d' % data[offset])
    if available < _PROTOCOL_HEADER_SIZE:
        return 0, None
    major, minor, revision = _PROTOCOL_VERSION.unpack_from(
        data, offset + _PROTOCOL_VERSION_AT)
    return _PROTOCOL_HEADER_SIZE, ProtocolHeader(major, minor, revision)


def decode_frame(data_in: Any,
                 frame_max: Optional[int] = None) -> Tuple[int, Any]:
    """Receives raw socket data and attempts to turn it into a frame.
    Returns bytes used to make the frame and the frame

    The batch decoder (:func:`decode_frames`) decodes the first frame of
    ``data_in`` (or the protocol header); the bytes after it are not looked
    at.

    :param bytes data_in: The raw data stream
    :param int frame_max: Largest frame size allowed (None: no limit)
    :rtype: tuple(bytes consumed, frame)
    :raises: pika.exceptions.InvalidFrameError

    """
    if data_in.__class__ is not bytes:
        data_in = bytes(data_in)
    size = len(data_in)
    if size and data_in[0] == _AMQP_FIRST:
        end = _PROTOCOL_HEADER_SIZE
    elif size >= FRAME_HEAD_SIZE:
        end = _unpack_uint32(data_in, _PAYLOAD_SIZE_AT)[0] + FRAME_OVERHEAD
    else:
        return 0, None
    if frame_max is None or frame_max < FRAME_OVERHEAD:
        payload_max = _NO_LIMIT
    else:
        payload_max = frame_max - FRAME_OVERHEAD
    frames: List[Any] = []
    try:
        consumed = _decode_into(frames, data_in, 0, end if end < size else size,
                                payload_max)
    except _UNPARSED as error:
        raise _unparsed(error) from error
    if not frames:
        return 0, None
    return consumed, frames[0]


def decode_frames(data: Any,
                  offset: int = 0,
                  frame_max: Optional[int] = None) -> Tuple[List[Any], int]:
    """Decode every complete frame in ``data`` starting at ``offset``.

    Works over ``bytes`` without copying the buffer (body fragments are the
    only copies made); ``bytearray`` or ``memoryview`` input is copied to
    ``bytes`` once per call.

    :param data: The received bytes
    :param int offset: Where the first frame starts
    :param int frame_max: Largest frame size allowed (None, or less than a
        frame's overhead: no limit); a frame announcing a larger payload is
        rejected as soon as its head arrives
    :returns: (frames, offset of the first byte not consumed)
    :raises: pika.exceptions.InvalidFrameError

    """
    if data.__class__ is not bytes:
        # One copy per call (not per frame) so every slice below is bytes.
        data = bytes(data)
    if frame_max is None or frame_max < FRAME_OVERHEAD:
        payload_max = _NO_LIMIT
    else:
        payload_max = frame_max - FRAME_OVERHEAD
    frames: List[Any] = []
    try:
        offset = _decode_into(frames, data, offset, len(data), payload_max)
    except _UNPARSED as error:
        raise _unparsed(error) from error
    return frames, offset


def _unparsed(error: BaseException) -> exceptions.InvalidFrameError:
    """The InvalidFrameError for what :func:`_decode_into` raised."""
    if isinstance(error, KeyError):
        return _invalid('Unknown method or content class: %r' %
                        (error.args[0],))
    return _invalid('Malformed frame: %r' % (error,))


def _decode_into(frames: List[Any], data: bytes, offset: int, size: int,
                 payload_max: int) -> int:
    """Append the frames of ``data[offset:size]`` to ``frames``; return the
    offset of the first byte not consumed.

    Complete, well-delimited method, header and body frames (the common
    case) are decoded here, each head unpacked together with the fields that
    follow it; everything else (heartbeats, the protocol header, a frame not
    yet complete, a malformed one) by :func:`_decode_other`. Frame objects
    are filled in directly rather than through ``__init__`` (same
    attributes, same order).

    Unknown method or class ids raise KeyError, payloads that do not parse
    one of ``_DECODE_ERRORS`` (:func:`decode_frames` turns both into
    InvalidFrameError).
    """
    frame: Any
    # The constants as locals: read once per frame, a local is the cheapest.
    head_size = FRAME_HEAD_SIZE
    arguments_at = _ARGUMENTS_AT
    properties_at = _PROPERTIES_AT
    frame_end = _FRAME_END
    body_type = _FRAME_BODY
    method_type = _FRAME_METHOD
    header_type = _FRAME_HEADER
    while offset + head_size <= size:
        frame_type = data[offset]
        if frame_type == body_type:
            channel_number, length = _unpack_body_head(data, offset + 1)
            end = offset + head_size + length
            if end < size and length <= payload_max and data[end] == frame_end:
                frame = _new_object(Body)
                frame.frame_type = body_type
                frame.channel_number = channel_number
                frame.fragment = data[offset + head_size:end]
                frames.append(frame)
                offset = end + 1
                continue
        elif frame_type == method_type and offset + arguments_at <= size:
            channel_number, length, index = _unpack_method_head(
                data, offset + 1)
            end = offset + head_size + length
            if end < size and length <= payload_max and data[end] == frame_end:
                method = _new_object(_METHODS[index])
                if method._decode_from(data, offset + arguments_at) > end:
                    raise _invalid('Method %s overruns its frame' % method.NAME)
                frame = _new_object(Method)
                frame.frame_type = method_type
                frame.channel_number = channel_number
                frame.method = method
                frames.append(frame)
                offset = end + 1
                continue
        elif frame_type == header_type and offset + properties_at <= size:
            (channel_number, length, class_id, _weight, body_size,
             flags) = _unpack_header_head(data, offset + 1)
            end = offset + head_size + length
            if end < size and length <= payload_max and data[end] == frame_end:
                props_class = _PROPS[class_id]
                try:
                    decoder = props_class._DECODERS[flags]
                except KeyError:
                    decoder = _compile_decoder(props_class, flags)
                properties = _new_object(props_class)
                if decoder(properties, data, offset + properties_at) > end:
                    raise _invalid('Content header overruns its frame')
                frame = _new_object(Header)
                frame.frame_type = header_type
                frame.channel_number = channel_number
                frame.body_size = body_size
                frame.properties = properties
                frames.append(frame)
                offset = end + 1
                continue
        frame, consumed = _decode_other(data, offset, size, payload_max)
        if frame is None:
            return offset
        frames.append(frame)
        offset += consumed
    if offset < size and data[offset] == _AMQP_FIRST:
        # A protocol header shorter than a frame head: vet what there is.
        _decode_protocol_header(data, offset)
    return offset


def _decode_other(data: bytes, offset: int, size: int,
                  payload_max: int) -> Tuple[Optional[Any], int]:
    """The frame at ``offset`` that :func:`_decode_into` does not decode
    itself: ``(frame, bytes consumed)``, or ``(None, 0)`` while incomplete.
    """
    if data[offset] == _AMQP_FIRST:
        consumed, header = _decode_protocol_header(data, offset)
        return header, consumed
    frame_type, _channel_number, length = _unpack_frame_head(data, offset)
    if length > payload_max:
        raise _invalid('Frame payload of %d bytes exceeds frame_max %r' %
                       (length, payload_max + FRAME_OVERHEAD))
    end = offset + FRAME_HEAD_SIZE + length
    if end >= size:
        return None, 0
    if data[end] != _FRAME_END:
        raise _invalid('Invalid FRAME_END marker')
    if frame_type == _FRAME_HEARTBEAT:
        return Heartbeat(), end + 1 - offset
    if frame_type in (_FRAME_METHOD, _FRAME_HEADER):
        raise _invalid('Frame of type %d too short' % frame_type)
    raise _invalid('Unknown frame type: %d' % frame_type)


def content_pieces(channel_number: int, method: amqp_object.Method,
                   properties: Any, body: bytes,
                   frame_max: int) -> List[Union[bytes, memoryview]]:
    """The content writer: a content-carrying method with its header and body
    frames, as the pieces whose concatenation is the bytes on the wire.

    The body is split so that no frame exceeds ``frame_max`` (payload at most
    ``frame_max - 8`` bytes); an empty body sends no body frame, as pika
    does. Every body fragment is a piece of its own: ``body`` itself when it
    fits one frame, else memoryviews of it; the other pieces are ``bytes``
    (frame heads and ends). ``b''.join(pieces)`` is the joined form
    (:func:`marshal_content`); a transport that writes views without copying
    them can take the fragments as they are.

    Everything is encoded before anything is returned, so an encoding error
    leaves nothing half-built.

    :param int channel_number: The channel number
    :param method: The method (e.g. :class:`pika.spec.Basic.Publish`)
    :param pika.spec.BasicProperties properties: The content properties
    :param bytes body: The message body
    :param int frame_max: The negotiated maximum frame size
    :rtype: list
    :raises ValueError: if the body does not fit one frame and ``frame_max``
        leaves no room for a body

    """
    if properties.__class__ is _BASIC_PROPERTIES:
        encoded_props = properties._encoded()
    else:
        encoded_props = b''.join(properties.encode())
    body_size = len(body)
    pieces: List[Any]
    if method.__class__ is _PUBLISH:
        # The publish hot path: the Basic.Publish arguments, the end of its
        # frame and the whole content header head are packed in two calls.
        # Exchange and routing key as length-prefixed short strings; names
        # repeat, so their encodings come from spec's bounded cache.
        exchange: Any = method.exchange
        if exchange.__class__ is str:
            exchange = _short_cache_get(exchange) or _short_cache_add(exchange)
        else:
            exchange = _short_prefixed(exchange, 'exchange')
        routing_key: Any = method.routing_key
        if routing_key.__class__ is str:
            routing_key = (_short_cache_get(routing_key) or
                           _short_cache_add(routing_key))
        else:
            routing_key = _short_prefixed(routing_key, 'routing_key')
        head = _PUBLISH_HEAD.pack(
            _FRAME_METHOD, channel_number,
            _PUBLISH_FIXED_SIZE + len(exchange) + len(routing_key),
            _PUBLISH_INDEX, method.ticket)
        tail = _PUBLISH_TAIL.pack(
            (_MANDATORY if method.mandatory else 0) |
            (_IMMEDIATE if method.immediate else 0), _FRAME_END, _FRAME_HEADER,
            channel_number, _CONTENT_HEADER_FIXED_SIZE + len(encoded_props),
            properties.INDEX, 0, body_size)
        if 0 < body_size <= frame_max - FRAME_OVERHEAD:
            # The common case, a body that fits one frame, in one list.
            return [
                head, exchange, routing_key, tail, encoded_props,
                _BODY_AFTER_END.pack(_FRAME_END, _FRAME_BODY, channel_number,
                                     body_size), body, FRAME_END_BYTE
            ]
        pieces = [head, exchange, routing_key, tail, encoded_props]
    else:
        payload = b''.join(method.encode())
        pieces = [
            _METHOD_HEAD.pack(_FRAME_METHOD, channel_number,
                              _METHOD_INDEX_SIZE + len(payload), method.INDEX),
            payload,
            _HEADER_AFTER_END.pack(
                _FRAME_END, _FRAME_HEADER, channel_number,
                _CONTENT_HEADER_FIXED_SIZE + len(encoded_props),
                properties.INDEX, 0, body_size), encoded_props
        ]
    chunk = frame_max - FRAME_OVERHEAD
    if body_size <= chunk:
        if body_size:
            pieces += (_BODY_AFTER_END.pack(_FRAME_END, _FRAME_BODY,
                                            channel_number,
                                            body_size), body, FRAME_END_BYTE)
        else:
            pieces.append(FRAME_END_BYTE)
        return pieces
    if chunk <= 0:
        raise ValueError('frame_max %r leaves no room for a body' %
                         (frame_max,))
    view = memoryview(body)
    for position in range(0, body_size, chunk):
        fragment = view[position:position + chunk]
        pieces.append(
            _BODY_AFTER_END.pack(_FRAME_END, _FRAME_BODY, channel_number,
                                 len(fragment)))
        pieces.append(fragment)
    pieces.append(FRAME_END_BYTE)
    return pieces


def marshal_content(channel_number: int, method: amqp_object.Method,
                    properties: Any, body: bytes, frame_max: int) -> bytes:
    """Marshal a content-carrying method with its header and body frames
    into one ``bytes`` object (the joined :func:`content_pieces`).

    The body is split so that no frame exceeds ``frame_max`` (payload at most
    ``frame_max - 8`` bytes); an empty body sends no body frame, as pika does.

    :param int channel_number: The channel number
    :param method: The method (e.g. :class:`pika.spec.Basic.Publish`)
    :param pika.spec.BasicProperties properties: The content properties
    :param bytes body: The message body
    :param int frame_max: The negotiated maximum frame size
    :rtype: bytes

    """
    return b''.join(
        content_pieces(channel_number, method, properties, body, frame_max))
