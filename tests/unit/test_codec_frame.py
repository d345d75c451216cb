"""pika.frame: marshalling, decode_frame, decode_frames, marshal_content.

Byte literals were produced by pika 1.4.4 for the same frames (including
how it splits a body across frames) and frozen here.
"""
import json
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pika import exceptions, frame, spec

SPEC_JSON = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'utils', 'spec',
    'amqp-rabbitmq-0.9.1.json')
PUBLISH = spec.Basic.Publish(exchange='e', routing_key='rk')
PUBLISH_FRAME = (b'\x01\x00\x01\x00\x00\x00\x0c\x00<\x00(\x00\x00\x01e\x02rk'
                 b'\x00\xce')
PROPS = spec.BasicProperties(content_type='t',
                             headers={
                                 'a': 1,
                                 'b': 'x'
                             },
                             delivery_mode=2)
HEADER_FRAME = (b'\x02\x00\x01\x00\x00\x00$\x00<\x00\x00\x00\x00\x00\x00\x00'
                b'\x00\x00\x05\xb0\x00\x01t\x00\x00\x00\x0f\x01aI\x00\x00\x00'
                b'\x01\x01bS\x00\x00\x00\x01x\x02\xce')
BODY_FRAME = b'\x03\x00\x01\x00\x00\x00\x05hello\xce'
HEARTBEAT_FRAME = b'\x08\x00\x00\x00\x00\x00\x00\xce'
PROTOCOL_HEADER = b'AMQP\x00\x00\t\x01'
STREAM = PUBLISH_FRAME + HEADER_FRAME + BODY_FRAME + HEARTBEAT_FRAME


def test_marshal_known_bytes():
    assert frame.Method(1, PUBLISH).marshal() == PUBLISH_FRAME
    assert frame.Header(1, 5, PROPS).marshal() == HEADER_FRAME
    assert frame.Body(1, b'hello').marshal() == BODY_FRAME
    assert frame.Heartbeat().marshal() == HEARTBEAT_FRAME
    assert frame.ProtocolHeader().marshal() == PROTOCOL_HEADER
    assert frame.ProtocolHeader(0, 9, 1).marshal() == PROTOCOL_HEADER
    with pytest.raises(NotImplementedError):
        frame.Frame(1, 2).marshal()


def test_frame_attributes_and_repr():
    method = frame.Method(1, PUBLISH)
    assert (method.frame_type, method.channel_number,
            method.method) == (1, 1, PUBLISH)
    header = frame.Header(2, 5, PROPS)
    assert (header.frame_type, header.channel_number, header.body_size,
            header.properties) == (2, 2, 5, PROPS)
    body = frame.Body(3, b'x')
    assert (body.frame_type, body.channel_number, body.fragment) == (3, 3, b'x')
    heartbeat = frame.Heartbeat()
    assert (heartbeat.frame_type, heartbeat.channel_number) == (8, 0)
    header_frame = frame.ProtocolHeader()
    assert (header_frame.frame_type, header_frame.major, header_frame.minor,
            header_frame.revision) == (-1, 0, 9, 1)
    assert repr(body) == (
        "<Body(['channel_number=3', \"fragment=b'x'\", 'frame_type=3'])>")
    assert repr(
        heartbeat) == "<Heartbeat(['channel_number=0', 'frame_type=8'])>"
    assert repr(frame.Frame(
        1, 2)) == ("<Frame(['channel_number=2', 'frame_type=1'])>")
    assert frame.Method.NAME == 'METHOD'


@pytest.mark.parametrize(
    'wire',
    [PUBLISH_FRAME, HEADER_FRAME, BODY_FRAME, HEARTBEAT_FRAME, PROTOCOL_HEADER])
def test_decode_frame_round_trip_and_incomplete(wire):
    consumed, decoded = frame.decode_frame(wire + b'trailing')
    assert consumed == len(wire)
    assert decoded.marshal() == wire
    for source in (bytearray(wire), memoryview(wire)):
        consumed, decoded = frame.decode_frame(source)
        assert consumed == len(wire) and decoded.marshal() == wire
    for cut in range(len(wire)):
        assert frame.decode_frame(wire[:cut]) == (0, None)


def test_decoded_values():
    _, method = frame.decode_frame(PUBLISH_FRAME)
    assert isinstance(method, frame.Method)
    assert method.method == PUBLISH
    _, header = frame.decode_frame(HEADER_FRAME)
    assert header.body_size == 5 and header.properties == PROPS
    _, body = frame.decode_frame(BODY_FRAME)
    assert body.fragment == b'hello' and type(body.fragment) is bytes


def test_protocol_header_reply():
    consumed, header = frame.decode_frame(b'AMQP\x00\x00\x09\x01')
    assert consumed == 8
    assert isinstance(header, frame.ProtocolHeader)
    assert (header.major, header.minor, header.revision) == (0, 9, 1)
    frames, offset = frame.decode_frames(b'AMQP\x00\x01\x00\x00', 0, 131072)
    assert offset == 8
    assert (frames[0].major, frames[0].minor, frames[0].revision) == (1, 0, 0)
    assert frame.decode_frame(b'AMQP') == (0, None)
    assert frame.decode_frames(b'AMQP\x00', 0) == ([], 0)
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frame(b'AMQX\x00\x00\x09\x01')


@pytest.mark.parametrize(
    'wire',
    [
        BODY_FRAME[:-1] + b'\x00',
        b'\x09\x00\x00\x00\x00\x00\x00\xce',
        b'\x01\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x99\xce',
        b'\x01\x00\x01\x00\x00\x00\x01\x00\xce',
        b'\x02\x00\x01\x00\x00\x00\x0e\x00\x63\x00\x00' + b'\x00' * 8 +
        b'\x00\x00\xce',
        # Basic.Publish claiming a 9-byte exchange name inside a 12-byte payload
        b'\x01\x00\x01\x00\x00\x00\x0c\x00<\x00(\x00\x00\x09e\x02rk\x00\xce' +
        b'\x00' * 20,
    ])
def test_malformed_frames_raise_invalid_frame(wire):
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frame(wire)
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frames(wire, 0, 131072)


def test_oversize_frame_rejected_before_it_is_complete():
    head = struct.pack('>BHI', 3, 1, 5000)
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frames(head, 0, 4096)
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frame(head + b'x' * 5000 + b'\xce', 4096)
    # exactly frame_max - 8 bytes of payload is allowed
    wire = struct.pack('>BHI', 3, 1, 4088) + b'x' * 4088 + b'\xce'
    frames, offset = frame.decode_frames(wire, 0, 4096)
    assert offset == len(wire) and frames[0].fragment == b'x' * 4088


def test_decode_frames_stream_and_partial_tail():
    frames, offset = frame.decode_frames(STREAM + BODY_FRAME[:5], 0, 131072)
    assert offset == len(STREAM)
    assert [type(f) for f in frames
           ] == [frame.Method, frame.Header, frame.Body, frame.Heartbeat]
    assert frames[0].method == PUBLISH
    assert frames[1].properties == PROPS
    assert frames[2].fragment == b'hello'
    frames, offset = frame.decode_frames(b'xx' + STREAM, 2)
    assert offset == len(STREAM) + 2 and len(frames) == 4
    for source in (bytearray(STREAM), memoryview(STREAM)):
        frames, offset = frame.decode_frames(source, 0, 131072)
        assert offset == len(STREAM)
        assert type(frames[2].fragment) is bytes
    assert frame.decode_frames(b'', 0) == ([], 0)


def test_marshal_content_matches_pika_split():
    # pika 1.4.4 with frame_max 18 (body payload 10 bytes per frame)
    method_frame = (b'\x01\x00\x01\x00\x00\x00\n\x00<\x00(\x00\x00\x01e'
                    b'\x00\x00\xce')
    header = (b'\x02\x00\x01\x00\x00\x00\x0e\x00<\x00\x00\x00\x00\x00\x00'
              b'\x00\x00')
    publish = spec.Basic.Publish(exchange='e')
    props = spec.BasicProperties()
    assert frame.marshal_content(1, publish, props, b'',
                                 18) == (method_frame + header +
                                         b'\x00\x00\x00\x00\xce')
    assert frame.marshal_content(
        1, publish, props, b'x' * 10,
        18) == (method_frame + header + b'\x00\n\x00\x00\xce' +
                b'\x03\x00\x01\x00\x00\x00\nxxxxxxxxxx\xce')
    assert frame.marshal_content(
        1, publish, props, b'x' * 25,
        18) == (method_frame + header + b'\x00\x19\x00\x00\xce' +
                b'\x03\x00\x01\x00\x00\x00\nxxxxxxxxxx\xce' * 2 +
                b'\x03\x00\x01\x00\x00\x00\x05xxxxx\xce')


def test_marshal_content_equals_frame_by_frame():
    body = bytes(range(256)) * 3
    expected = (frame.Method(5, PUBLISH).marshal() +
                frame.Header(5, len(body), PROPS).marshal() +
                frame.Body(5, body).marshal())
    assert frame.marshal_content(5, PUBLISH, PROPS, body, 131072) == expected


# -- property-based -------------------------------------------------------

SHORT = st.text(max_size=20).filter(lambda text: len(text.encode()) <= 255)
PROPERTIES = st.builds(
    spec.BasicProperties,
    content_type=st.none() | SHORT,
    content_encoding=st.none() | SHORT,
    headers=st.none() | st.dictionaries(
        SHORT,
        st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                  st.text(max_size=20), st.binary(max_size=20)),
        max_size=4),
    delivery_mode=st.none() | st.sampled_from([1, 2]),
    priority=st.none() | st.integers(0, 255),
    correlation_id=st.none() | SHORT,
    reply_to=st.none() | SHORT,
    expiration=st.none() | SHORT,
    message_id=st.none() | SHORT,
    timestamp=st.none() | st.integers(0, 2**64 - 1),
    type=st.none() | SHORT,
    user_id=st.none() | SHORT,
    app_id=st.none() | SHORT,
    cluster_id=st.none() | SHORT)
DELIVERS = st.builds(spec.Basic.Deliver,
                     consumer_tag=SHORT,
                     delivery_tag=st.integers(0, 2**64 - 1),
                     redelivered=st.booleans(),
                     exchange=SHORT,
                     routing_key=SHORT)


@settings(max_examples=100, deadline=None)
@given(PROPERTIES)
def test_properties_round_trip(props):
    encoded = b''.join(props.encode())
    decoded = spec.BasicProperties().decode(encoded)
    assert vars(decoded) == vars(props)


@settings(max_examples=40, deadline=None)
@given(DELIVERS, PROPERTIES, st.binary(max_size=300),
       st.integers(min_value=0, max_value=65535),
       st.integers(min_value=4096, max_value=131072), st.data())
def test_content_round_trip_in_random_chunks(method, props, body, channel,
                                             frame_max, chunks):
    frame_max = chunks.draw(st.sampled_from([frame_max, 9, 20, 64]))
    wire = frame.marshal_content(channel, method, props, body, frame_max)
    decoded = []
    buffer = b''
    position = 0
    while position < len(wire):
        step = chunks.draw(st.integers(min_value=1, max_value=64))
        buffer += wire[position:position + step]
        position += step
        frames, offset = frame.decode_frames(
            buffer, 0, frame_max if frame_max >= 4096 else None)
        decoded.extend(frames)
        buffer = buffer[offset:]
    assert buffer == b''
    assert decoded[0].method == method
    assert decoded[0].channel_number == channel
    assert vars(decoded[1].properties) == vars(props)
    assert decoded[1].body_size == len(body)
    fragments = [f.fragment for f in decoded[2:]]
    assert b''.join(fragments) == body
    assert all(0 < len(f) <= frame_max - 8 for f in fragments)


def _field_types():
    """(INDEX -> [(attribute, wire type)]) from the protocol JSON."""
    with open(SPEC_JSON, encoding='utf-8') as spec_file:
        definition = json.load(spec_file)
    domains = dict(definition['domains'])
    result = {}
    for amqp_class in definition['classes']:
        for method in amqp_class['methods']:
            fields = []
            for argument in method['arguments']:
                kind = argument.get('type') or argument['domain']
                while domains.get(kind, kind) != kind:
                    kind = domains[kind]
                name = argument['name'].replace('-', '_')
                fields.append(
                    ('global_qos' if name == 'global' else name, kind))
            result[(amqp_class['id'] << 16) | method['id']] = fields
    return result


FIELD_TYPES = _field_types()
FIELD_VALUES = {
    'octet': st.integers(0, 255),
    'short': st.integers(0, 65535),
    'long': st.integers(0, 2**32 - 1),
    'longlong': st.integers(0, 2**64 - 1),
    'timestamp': st.integers(0, 2**64 - 1),
    'bit': st.booleans(),
    'shortstr': SHORT,
    'longstr': st.binary(max_size=40),
    'table': st.dictionaries(SHORT, st.text(max_size=10), max_size=3),
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(spec.methods)), st.data())
def test_every_method_frame_round_trip(index, draw):
    cls = spec.methods[index]
    method = cls.__new__(cls)
    for name, kind in FIELD_TYPES[index]:
        setattr(method, name, draw.draw(FIELD_VALUES[kind]))
    wire = frame.Method(7, method).marshal()
    consumed, decoded = frame.decode_frame(wire)
    assert consumed == len(wire)
    assert decoded.method.NAME == cls.NAME
    assert vars(decoded.method) == vars(method)
    frames, offset = frame.decode_frames(wire * 2, 0, 131072)
    assert offset == 2 * len(wire) and len(frames) == 2
    assert vars(frames[1].method) == vars(method)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_arbitrary_bytes_never_raise_foreign_exceptions(blob):
    for source in (blob, bytearray(blob), memoryview(blob)):
        try:
            frame.decode_frame(source)
        except exceptions.AMQPError:
            pass
        try:
            frame.decode_frames(source, 0, 4096)
        except exceptions.AMQPError:
            pass


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([1, 2, 3, 8]),
       st.sampled_from(sorted(spec.methods)) | st.integers(0, 2**32 - 1),
       st.binary(max_size=120))
def test_garbage_payload_in_valid_frame(frame_type, index, payload):
    if frame_type == 1:
        payload = struct.pack('>I', index) + payload
    elif frame_type == 2:
        payload = struct.pack('>HHQ', 60, 0, 5) + payload
    wire = struct.pack('>BHI', frame_type, 1, len(payload)) + payload + b'\xce'
    try:
        consumed, _ = frame.decode_frame(wire)
        assert consumed == len(wire)
    except exceptions.AMQPError:
        pass
    try:
        frames, offset = frame.decode_frames(wire, 0, 131072)
        assert offset == len(wire) and len(frames) == 1
    except exceptions.AMQPError:
        pass


NAMES = st.one_of(
    st.text(max_size=70).filter(lambda text: len(text.encode()) <= 255),
    st.binary(max_size=255))


@settings(max_examples=50, deadline=None)
@given(NAMES, NAMES, st.booleans(), st.booleans(),
       st.integers(min_value=0, max_value=65535), PROPERTIES,
       st.binary(min_size=1, max_size=200),
       st.sampled_from([16, 50, 4096, 131072]))
def test_publish_fast_path_equals_frame_by_frame(exchange, routing_key,
                                                 mandatory, immediate, ticket,
                                                 props, body, frame_max):
    method = spec.Basic.Publish(ticket, exchange, routing_key, mandatory,
                                immediate)
    expected = [
        frame.Method(9, method).marshal(),
        frame.Header(9, len(body), props).marshal()
    ]
    for start in range(0, len(body), frame_max - 8):
        expected.append(
            frame.Body(9, body[start:start + frame_max - 8]).marshal())
    assert frame.marshal_content(9, method, props, body,
                                 frame_max) == b''.join(expected)


def test_publish_fast_path_rejects_bad_names():
    props = spec.BasicProperties()
    with pytest.raises(exceptions.ShortStringTooLong):
        frame.marshal_content(1, spec.Basic.Publish(exchange='\u00e9' * 128),
                              props, b'x', 131072)
    with pytest.raises(exceptions.ShortStringTooLong):
        frame.marshal_content(1, spec.Basic.Publish(routing_key='r' * 256),
                              props, b'x', 131072)
    with pytest.raises(AssertionError):
        frame.marshal_content(1, spec.Basic.Publish(routing_key=None), props,
                              b'x', 131072)
