"""The decoders' fast paths agree with the generic ones, byte by byte.

decode_frames fills frame objects in without calling their __init__ and
unpacks a frame's head together with the fields after it; these tests pin
that the objects it returns are indistinguishable from constructed ones and
that every way a buffer can end (mid-frame, mid-head) is handled as before.
"""
import struct

import pytest

from pika import exceptions, frame, spec

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
