#!/usr/bin/env python3
"""How far the codec is from the floor of CPython with pika's object model.

Decodes the ``bench_codec.py`` message (Basic.Publish + content header with
five properties and a four-entry ``headers`` table + 1 KiB body) three ways
and prints microseconds per decode (process CPU time, best of 9 repeats):

* ``frame.decode_frames`` -- this package's decoder, as the connection
  calls it;
* a hand-written decoder specialised for exactly this message: the same
  objects and attributes (``Method``/``Header``/``Body`` frames, the
  ``Basic.Publish`` and ``BasicProperties`` objects, the ``headers`` dict),
  every step inlined, no dispatch on frame type, method or property flags,
  and no validation at all (no frame-end, size or overrun checks, no
  handling of non-UTF-8 strings). No real decoder can be this lean; it is
  a lower bound for what any decoder building these objects can cost;
* the marshal side, ``frame.marshal_content``, for reference.

It checks first that the hand-written decoder returns frames equal to
``decode_frames``' frames. Usage (repository root)::

    python3 benchmarks/codec_floor.py
"""
import os
import struct
import sys
import time
import timeit
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pika import frame, spec  # noqa: E402  pylint: disable=wrong-import-position

FRAME_MAX = 131072
HEADERS = {
    'x-trace-id': 'c0ffee00-1234-5678-9abc-def012345678',
    'x-retries': 3,
    'x-flag': True,
    'x-source': 'bench',
}
_new = object.__new__
_unpack_method_head = struct.Struct('>HII').unpack_from
_unpack_ticket_len = struct.Struct('>HB').unpack_from
_unpack_header_head = struct.Struct('>HIHHQH').unpack_from
_unpack_body_head = struct.Struct('>HI').unpack_from
_unpack_uint32 = struct.Struct('>I').unpack_from
_unpack_int32 = struct.Struct('>i').unpack_from
_unpack_uint64 = struct.Struct('>Q').unpack_from
_KEYS: Dict[bytes, str] = {}


def lean_decode(data: bytes) -> Tuple[List[Any], int]:
    """Decode exactly the benchmark message; see the module docstring."""
    frames: List[Any] = []
    channel, length, _index = _unpack_method_head(data, 1)
    end = 7 + length
    method = _new(spec.Basic.Publish)
    method.ticket, size = _unpack_ticket_len(data, 11)
    offset = 14 + size
    method.exchange = data[14:offset].decode()
    stop = offset + 1 + data[offset]
    method.routing_key = data[offset + 1:stop].decode()
    bits = data[stop]
    method.mandatory = (bits & 1) != 0
    method.immediate = (bits & 2) != 0
    value: Any = _new(frame.Method)
    value.frame_type = 1
    value.channel_number = channel
    value.method = method
    frames.append(value)
    start = end + 1
    channel, length, _class, _weight, body_size, _flags = _unpack_header_head(
        data, start + 1)
    end = start + 7 + length
    props = _new(spec.BasicProperties)
    offset = start + 21
    stop = offset + 1 + data[offset]
    props.content_type = data[offset + 1:stop].decode()
    props.content_encoding = None
    offset = stop
    limit = offset + 4 + _unpack_uint32(data, offset)[0]
    offset += 4
    table: Dict[str, Any] = {}
    while offset < limit:
        key_start = offset + 1
        offset = key_start + data[offset]
        key = _KEYS.get(data[key_start:offset])
        if key is None:
            key = _KEYS[
                data[key_start:offset]] = data[key_start:offset].decode()
        kind = data[offset]
        if kind == 83:
            value_start = offset + 5
            offset = value_start + _unpack_uint32(data, offset + 1)[0]
            table[key] = data[value_start:offset].decode()
        elif kind == 73:
            table[key] = _unpack_int32(data, offset + 1)[0]
            offset += 5
        else:
            table[key] = data[offset + 1] != 0
            offset += 2
    props.headers = table
    props.delivery_mode = data[offset]
    offset += 1
    props.priority = None
    props.correlation_id = None
    props.reply_to = None
    props.expiration = None
    stop = offset + 1 + data[offset]
    props.message_id = data[offset + 1:stop].decode()
    offset = stop
    props.timestamp = _unpack_uint64(data, offset)[0]
    props.type = None
    props.user_id = None
    props.app_id = None
    props.cluster_id = None
    value = _new(frame.Header)
    value.frame_type = 2
    value.channel_number = channel
    value.body_size = body_size
    value.properties = props
    frames.append(value)
    start = end + 1
    channel, length = _unpack_body_head(data, start + 1)
    end = start + 7 + length
    value = _new(frame.Body)
    value.frame_type = 3
    value.channel_number = channel
    value.fragment = data[start + 7:end]
    frames.append(value)
    return frames, end + 1


def _time(func: Callable[[], Any], number: int = 100000) -> float:
    func()
    best = min(
        timeit.repeat(func, number=number, repeat=9, timer=time.process_time))
    return best / number * 1e6


def main() -> int:
    method = spec.Basic.Publish(exchange='bench-exchange',
                                routing_key='bench.routing.key')
    properties = spec.BasicProperties(content_type='application/json',
                                      delivery_mode=2,
                                      message_id='msg-0001',
                                      timestamp=1700000000,
                                      headers=HEADERS)
    body = b'x' * 1024
    wire = frame.marshal_content(1, method, properties, body, FRAME_MAX)
    ours, consumed = frame.decode_frames(wire, 0, FRAME_MAX)
    lean, lean_consumed = lean_decode(wire)
    if consumed != lean_consumed or ours != lean or (
            ours[0].method != lean[0].method or
            ours[1].properties != lean[1].properties):
        raise SystemExit(
            'the hand-written decoder disagrees with decode_frames')
    decode_us = _time(lambda: frame.decode_frames(wire, 0, FRAME_MAX))
    lean_us = _time(lambda: lean_decode(wire))
    marshal_us = _time(
        lambda: frame.marshal_content(1, method, properties, body, FRAME_MAX))
    print('Python %s' % sys.version.split()[0])
    print('%-46s %6.2f us' % ('decode: frame.decode_frames', decode_us))
    print('%-46s %6.2f us' %
          ('decode: hand-specialised, no checks (floor)', lean_us))
    print('%-46s %6.2f us' % ('marshal: frame.marshal_content', marshal_us))
    print('decode_frames is %.0f%% above the floor' %
          ((decode_us / lean_us - 1) * 100))
    return 0


if __name__ == '__main__':
    sys.exit(main())
