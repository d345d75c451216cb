"""Codec bytes and decoded values are pika 1.4.4's.

Every vector below was produced by pika 1.4.4 (black-box) and is asserted
here as plain bytes/values (field tables, field types, basic properties,
frames, reprs of codec errors, the abstract adapter methods of Connection).
No broker is needed.
"""

import datetime
import decimal
import struct
from typing import Any

import pytest

from pika import data, exceptions, frame, spec

UTC = datetime.timezone.utc


@pytest.mark.parametrize('value, encoded', [
    (0, '00000009036b65794900000000'),
    (-1, '00000009036b657949ffffffff'),
    (255, '00000009036b657949000000ff'),
    (-129, '00000009036b657949ffffff7f'),
    (2147483647, '00000009036b6579497fffffff'),
    (2147483648, '0000000d036b65796c0000000080000000'),
    (-2147483649, '0000000d036b65796cffffffff7fffffff'),
    (9223372036854775807, '0000000d036b65796c7fffffffffffffff'),
    (-9223372036854775808, '0000000d036b65796c8000000000000000'),
    (True, '00000006036b65797401'),
    (False, '00000006036b65797400'),
    (None, '00000005036b657956'),
    ('str', '0000000c036b65795300000003737472'),
    ('ünï', '0000000e036b65795300000005c3bc6ec3af'),
    (b'bytes', '0000000e036b657978000000056279746573'),
    (decimal.Decimal('1.23'), '0000000a036b657944020000007b'),
    (decimal.Decimal('-5'), '0000000a036b65794400fffffffb'),
    (decimal.Decimal('1E+3'), '0000000a036b65794400000003e8'),
    (datetime.datetime(2020, 1, 2, 3, 4,
                       5), '0000000d036b657954000000005e0d5da5'),
    ([1, 'a', [2]
     ], '0000001e036b65794100000015490000000153000000016141000000054900000002'),
    ({
        'k': {
            'n': 1
        }
    }, '00000017036b6579460000000e016b4600000007016e4900000001'),
])
def test_encode_table_bytes_and_round_trip(value: Any, encoded: str) -> None:
    pieces: list = []
    length = data.encode_table(pieces, {'key': value})
    raw = b''.join(pieces)
    assert raw.hex() == encoded
    assert length == len(raw)
    decoded, offset = data.decode_table(raw, 0)
    assert offset == len(raw)
    if isinstance(value, datetime.datetime):
        assert decoded == {'key': value.replace(tzinfo=UTC)}
    else:
        assert decoded == {'key': value}
        assert isinstance(decoded['key'], type(value))


@pytest.mark.parametrize('value', [
    datetime.date(2020, 1, 2),
    object(),
    {1},
])
def test_encode_unsupported_values(value: Any) -> None:
    with pytest.raises(exceptions.UnsupportedAMQPFieldException) as info:
        data.encode_table([], {'key': value})
    assert info.value.args[1] is value


def test_table_keys() -> None:
    pieces: list = []
    data.encode_table(pieces, {b'bk': 1, 'ü': 2})
    assert data.decode_table(b''.join(pieces), 0)[0] == {'bk': 1, 'ü': 2}
    with pytest.raises(exceptions.ShortStringTooLong):
        data.encode_table([], {'a' * 256: 1})
    pieces = []
    data.encode_table(pieces, {'a' * 128: 1})
    assert b''.join(pieces)[:6].hex() == '000000868061'


def _table(type_code: bytes, payload: bytes) -> bytes:
    body = b'\x01k' + type_code + payload
    return struct.pack('>I', len(body)) + body


@pytest.mark.parametrize('code, payload, expected', [
    (b'b', 'ff', -1),
    (b'B', 'ff', 255),
    (b'U', 'fffe', -2),
    (b'u', 'fffe', 65534),
    (b's', 'fffe', -2),
    (b'I', 'fffffffe', -2),
    (b'i', 'fffffffe', 4294967294),
    (b'L', 'ffffffffffffffff', -1),
    (b'l', 'ffffffffffffffff', -1),
    (b'D', '020000007b', decimal.Decimal('1.23')),
    (b'T', '000000005f5e1000',
     datetime.datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)),
    (b'V', '', None),
    (b't', '02', True),
    (b'x', '00000003616263', b'abc'),
    (b'S', '00000002c3bc', 'ü'),
    (b'S', '00000002fffe', b'\xff\xfe'),
    (b'A', '000000025656', [None, None]),
    (b'F', '00000000', {}),
])
def test_decode_field_types(code: bytes, payload: str, expected: Any) -> None:
    raw = _table(code, bytes.fromhex(payload))
    decoded, offset = data.decode_table(raw, 0)
    assert decoded == {'k': expected}
    assert type(decoded['k']) is type(expected) or isinstance(
        decoded['k'], type(expected))
    assert offset == len(raw)


def test_decode_unknown_field_type() -> None:
    with pytest.raises(exceptions.InvalidFieldTypeException) as info:
        data.decode_table(_table(b'Z', b''), 0)
    assert info.value.args == (b'Z',)


@pytest.mark.parametrize('properties, encoded', [
    (spec.BasicProperties(), '0000'),
    (spec.BasicProperties(content_type='a'), '80000161'),
    (spec.BasicProperties(headers={}), '200000000000'),
    (spec.BasicProperties(delivery_mode=2), '100002'),
    (spec.BasicProperties(timestamp=0), '00400000000000000000'),
    (spec.BasicProperties(priority=0), '080000'),
    (spec.BasicProperties(expiration='1'), '01000131'),
    (spec.BasicProperties(headers={'x': decimal.Decimal('1.5')}),
     '200000000008017844010000000f'),
    (spec.BasicProperties(
        cluster_id='c',
        app_id='a',
        user_id='u',
        type='t',
        message_id='m',
        reply_to='r',
        correlation_id='c',
        content_encoding='e'), '46bc016501630172016d0174017501610163'),
])
def test_basic_properties_bytes(properties: spec.BasicProperties,
                                encoded: str) -> None:
    raw = b''.join(properties.encode())
    assert raw.hex() == encoded
    decoded = spec.BasicProperties()
    decoded.decode(raw)
    assert repr(decoded) == repr(properties)


def test_reprs() -> None:
    method = spec.Basic.Publish(exchange='e', routing_key='r')
    expected = ("<Basic.Publish(['exchange=e', 'immediate=False', "
                "'mandatory=False', 'routing_key=r', 'ticket=0'])>")
    assert repr(method) == expected and str(method) == expected
    assert repr(spec.BasicProperties(
        content_type='x')) == ("<BasicProperties(['content_type=x'])>")
    assert repr(frame.Method(1, method)) == (
        "<METHOD(['channel_number=1', 'frame_type=1', \"method=%s\"])>" %
        (expected,))
    assert repr(frame.Header(1, 10, spec.BasicProperties())) == (
        "<Header(['body_size=10', 'channel_number=1', 'frame_type=2', "
        "'properties=<BasicProperties>'])>")
    assert (method.INDEX, method.NAME,
            method.synchronous) == (3932200, 'Basic.Publish', False)
    assert spec.Queue.Declare().synchronous is True


def test_frame_marshal_and_decode() -> None:
    ack = frame.Method(1, spec.Basic.Ack(5)).marshal()
    assert ack.hex() == '0100010000000d003c0050000000000000000500ce'
    consumed, decoded = frame.decode_frame(ack)
    assert consumed == len(ack)
    assert isinstance(decoded, frame.Method)
    assert decoded.method.delivery_tag == 5
    assert frame.Heartbeat().marshal().hex() == '08000000000000ce'
    assert frame.ProtocolHeader().marshal() == b'AMQP\x00\x00\x09\x01'
    assert frame.decode_frame(b'') == (0, None)
    assert frame.decode_frame(b'\x01\x00') == (0, None)
    consumed, header = frame.decode_frame(b'AMQP\x00\x00\x09\x01')
    assert consumed == 8 and isinstance(header, frame.ProtocolHeader)
    with pytest.raises(exceptions.InvalidFrameError):
        frame.decode_frame(b'\x09\x00\x00\x00\x00\x00\x00\xce')


def test_short_string_too_long_repr_is_cut_at_300_characters() -> None:
    error = exceptions.ShortStringTooLong(b'q' * 300)
    text = repr(error)
    prefix = ('ShortStringTooLong: AMQP Short String can contain up to 255 '
              'bytes: ')
    assert text == prefix + repr(b'q' * 300)[:300]
    assert error.args == (b'q' * 300,)


def test_connection_is_an_abstract_class_with_pikas_adapter_methods() -> None:
    from pika import connection
    assert sorted(connection.Connection.__abstractmethods__) == [
        '_adapter_add_callback_threadsafe', '_adapter_call_later',
        '_adapter_connect_stream', '_adapter_disconnect_stream',
        '_adapter_emit_data', '_adapter_remove_timeout'
    ]
    with pytest.raises(TypeError):
        connection.Connection()  # type: ignore[abstract]
