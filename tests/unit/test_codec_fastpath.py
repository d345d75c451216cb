"""The decoders' fast paths agree with the generic ones, byte by byte.

decode_frames fills frame objects in without calling their __init__ and
unpacks a frame's head together with the fields after it; these tests pin
that the objects it returns are indistinguishable from constructed ones and
that every way a buffer can end (mid-frame, mid-head) is handled as before.
"""
import struct

import pytest

from pika import data, exceptions, frame, spec

PUBLISH = spec.Basic.Publish(exchange='ex', routing_key='rk', mandatory=True)
DELIVER = spec.Basic.Deliver(consumer_tag='ctag',
                             delivery_tag=7,
                             redelivered=True,
                             exchange='ex',
                             routing_key='rk')
PROPS = spec.BasicProperties(content_type='application/json',
                             headers={
                                 'x-a': 1,
                                 'x-b': 'two',
                                 'x-c': True
                             },
                             delivery_mode=2,
                             message_id='m1',
                             timestamp=1700000000,
                             app_id='app')
STREAM = (frame.Method(1, DELIVER).marshal() +
          frame.Header(1, 3, PROPS).marshal() +
          frame.Body(1, b'abc').marshal() + frame.Heartbeat().marshal() +
          frame.marshal_content(2, PUBLISH, PROPS, b'xyz', 131072))
EXPECTED = [
    frame.Method(1, DELIVER),
    frame.Header(1, 3, PROPS),
    frame.Body(1, b'abc'),
    frame.Heartbeat(),
    frame.Method(2, PUBLISH),
    frame.Header(2, 3, PROPS),
    frame.Body(2, b'xyz'),
]


def _same(decoded, expected):
    assert type(decoded) is type(expected)
    # same attributes, same order, same values and value types
    assert list(vars(decoded)) == list(vars(expected))
    for name, value in vars(expected).items():
        got = getattr(decoded, name)
        if isinstance(value, (spec.amqp_object.AMQPObject)):
            assert list(vars(got)) == list(vars(value))
            assert vars(got) == vars(value)
            assert [type(item) for item in vars(got).values()
                   ] == [type(item) for item in vars(value).values()]
        else:
            assert type(got) is type(value) and got == value
    assert repr(decoded) == repr(expected)


def test_decoded_frames_look_constructed():
    frames, offset = frame.decode_frames(STREAM, 0, 131072)
    assert offset == len(STREAM)
    assert len(frames) == len(EXPECTED)
    for decoded, expected in zip(frames, EXPECTED):
        _same(decoded, expected)


def test_every_prefix_decodes_the_complete_frames():
    ends = []
    position = 0
    while position < len(STREAM):
        position += 8 + struct.unpack_from('>I', STREAM, position + 3)[0]
        ends.append(position)
    for cut in range(len(STREAM) + 1):
        frames, offset = frame.decode_frames(STREAM[:cut], 0, 131072)
        complete = [end for end in ends if end <= cut]
        assert offset == (complete[-1] if complete else 0)
        assert len(frames) == len(complete)
        # resuming from the offset with the rest of the stream finishes it
        rest, final = frame.decode_frames(STREAM, offset, 131072)
        assert final == len(STREAM)
        assert len(frames) + len(rest) == len(EXPECTED)


@pytest.mark.parametrize('frame_max', [None, 0, 7])
def test_no_payload_limit_below_frame_overhead(frame_max):
    wire = frame.Body(1, b'x' * 5000).marshal()
    frames, offset = frame.decode_frames(wire, 0, frame_max)
    assert offset == len(wire) and frames[0].fragment == b'x' * 5000


@pytest.mark.parametrize(
    'wire',
    [
        # method frames whose payload cannot hold a method INDEX, alone and
        # followed by more bytes
        b'\x01\x00\x01\x00\x00\x00\x02\x00\x3c\xce',
        b'\x01\x00\x01\x00\x00\x00\x02\x00\x3c\xce' + b'\x00' * 16,
        # content header frame too short for its fixed fields
        b'\x02\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x00\xce',
        b'\x02\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x00\xce' + b'\x00' * 24,
        # unknown frame type, bad frame end after each frame type
        b'\x05\x00\x01\x00\x00\x00\x00\xce',
        b'\x03\x00\x01\x00\x00\x00\x01x\x00',
        b'\x08\x00\x00\x00\x00\x00\x00\x00',
        frame.Method(1, PUBLISH).marshal()[:-1] + b'\x00',
        frame.Header(1, 3, PROPS).marshal()[:-1] + b'\x00',
    ])
def test_malformed_complete_frames(wire):
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frames(wire, 0, 131072)


PROPERTY_VALUES = {
    'content_type': 'text/plain',
    'content_encoding': b'\xff\xfe',  # not UTF-8: decodes to bytes
    'headers': {
        'k': [1, 'v']
    },
    'delivery_mode': 2,
    'priority': 9,
    'correlation_id': 'c',
    'reply_to': 'r',
    'expiration': '60000',
    'message_id': 'm',
    'timestamp': 1700000000,
    'type': 't',
    'user_id': 'u',
    'app_id': 'a',
    'cluster_id': 'cl',
}


def _props_for(flags):
    names = [
        name for flag, name, _kind in spec.BasicProperties._FIELDS
        if flags & flag
    ]
    return spec.BasicProperties(
        **{name: PROPERTY_VALUES[name] for name in names})


@pytest.mark.parametrize(
    'flags',
    [0, 0xFFFC, 0xB0C0, 0x8000, 0x0004, 0x2000, 0x5554, 0xAAA8, 0x1840])
def test_specialised_properties_decoder_equals_generic(flags):
    props = _props_for(flags)
    encoded = b''.join(props.encode()) + b'\xce'
    generic = object.__new__(spec.BasicProperties)
    end = generic._decode_properties(encoded, 2,
                                     struct.unpack_from('>H', encoded)[0])
    for _ in range(2):  # compiled on first use, then cached
        decoded = spec.BasicProperties().decode(encoded)
        assert list(vars(decoded)) == list(vars(generic))
        assert vars(decoded) == vars(generic)
        assert [type(value) for value in vars(decoded).values()
               ] == [type(value) for value in vars(generic).values()]
        assert flags in spec.BasicProperties._DECODERS
    assert end == len(encoded) - 1
    if flags & 0x4000:
        assert decoded.content_encoding == b'\xff\xfe'


def test_properties_decoder_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(spec.BasicProperties, '_DECODERS', {})
    monkeypatch.setattr(spec, '_DECODERS_MAX', 2)
    for flags in (0x8000, 0x4000, 0x1000, 0x0800):
        props = _props_for(flags)
        wire = frame.Header(1, 0, props).marshal()
        frames, offset = frame.decode_frames(wire, 0, 131072)
        assert offset == len(wire)
        assert vars(frames[0].properties) == vars(props)
    assert len(spec.BasicProperties._DECODERS) == 2


def test_table_keys_decode_alike_with_and_without_cache(monkeypatch):
    encoded = data.table_bytes({'k': 1, b'\xff': 'v', 'nested': {'k': True}})
    expected = ({'k': 1, b'\xff': 'v', 'nested': {'k': True}}, len(encoded))
    for source in (encoded, bytearray(encoded), memoryview(encoded)):
        for _ in range(2):  # the second time from the key cache
            result = data.decode_table(source, 0)
            assert result == expected
            assert [type(key) for key in result[0]] == [str, bytes, str]
    monkeypatch.setattr(data, '_DECODED_KEYS', {})
    monkeypatch.setattr(data, '_KEY_CACHE_MAX', 1)
    assert data.decode_table(encoded, 0) == expected
    assert data.decode_table(encoded, 0) == expected
    assert data._DECODED_KEYS == {b'k': 'k'}


def test_table_encoding_lookups_equal_packing():
    for length in (0, 1, 255, 256, 300):
        text = 'a' * length
        assert data.table_bytes(
            {'k': text}) == (struct.pack('>I', 7 + length) + b'\x01kS' +
                             struct.pack('>I', length) + text.encode())
    for number in (-1, 0, 1, 255, 256, 2**31 - 1, -2**31):
        assert data.table_bytes({
            'k': number
        }) == (struct.pack('>I', 7) + b'\x01kI' + struct.pack('>i', number))
    assert data.table_bytes({
        'k': True,
        'f': False
    }) == (struct.pack('>I', 8) + b'\x01kt\x01\x01ft\x00')
