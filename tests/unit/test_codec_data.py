"""pika.data: field values and tables, known bytes, round trips, bad input.

Byte literals for the types pika supports were produced by pika 1.4.4 and
frozen here; the others are derived from the AMQP 0-9-1 / RabbitMQ field
table grammar.
"""
import datetime
import decimal
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pika import data, exceptions

UTC = datetime.timezone.utc

KNOWN_VALUES = [
    ('s', b'S\x00\x00\x00\x01s'),
    (b'b', b'x\x00\x00\x00\x01b'),
    (True, b't\x01'),
    (False, b't\x00'),
    (0, b'I\x00\x00\x00\x00'),
    (-1, b'I\xff\xff\xff\xff'),
    (2**31 - 1, b'I\x7f\xff\xff\xff'),
    (2**31, b'l\x00\x00\x00\x00\x80\x00\x00\x00'),
    (-2**31, b'I\x80\x00\x00\x00'),
    (-2**31 - 1, b'l\xff\xff\xff\xff\x7f\xff\xff\xff'),
    (2**63 - 1, b'l\x7f\xff\xff\xff\xff\xff\xff\xff'),
    (-2**63, b'l\x80\x00\x00\x00\x00\x00\x00\x00'),
    (decimal.Decimal('1.5'), b'D\x01\x00\x00\x00\x0f'),
    (decimal.Decimal('-0.001'), b'D\x03\xff\xff\xff\xff'),
    (decimal.Decimal(10), b'D\x00\x00\x00\x00\n'),
    (decimal.Decimal('1E+2'), b'D\x00\x00\x00\x00d'),
    (datetime.datetime(2020, 1, 2, 3, 4, 5), b'T\x00\x00\x00\x00^\r]\xa5'),
    (datetime.datetime(2020, 1, 2, 3, 4, 5,
                       999999), b'T\x00\x00\x00\x00^\r]\xa5'),
    (datetime.datetime(2020,
                       1,
                       2,
                       3,
                       4,
                       5,
                       tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
     b'T\x00\x00\x00\x00^\rA\x85'),
    ({
        'a': 1
    }, b'F\x00\x00\x00\x07\x01aI\x00\x00\x00\x01'),
    ([1, 'x'], b'A\x00\x00\x00\x0bI\x00\x00\x00\x01S\x00\x00\x00\x01x'),
    (None, b'V'),
    ('\u00e9', b'S\x00\x00\x00\x02\xc3\xa9'),
    # beyond pika 1.4.4
    (1.5, b'd' + struct.pack('>d', 1.5)),
    ((1, 2), b'A\x00\x00\x00\x0aI\x00\x00\x00\x01I\x00\x00\x00\x02'),
    (bytearray(b'z'), b'x\x00\x00\x00\x01z'),
    (memoryview(b'z'), b'x\x00\x00\x00\x01z'),
]


@pytest.mark.parametrize('value,wire', KNOWN_VALUES)
def test_encode_value_known_bytes(value, wire):
    pieces = []
    assert data.encode_value(pieces, value) == len(wire)
    assert b''.join(pieces) == wire


def test_encode_table_known_bytes():
    cases = [
        (None, b'\x00\x00\x00\x00'),
        ({}, b'\x00\x00\x00\x00'),
        ({
            b'k': 1
        }, b'\x00\x00\x00\x07\x01kI\x00\x00\x00\x01'),
        ({
            'a': {
                'b': [None, True]
            }
        }, b'\x00\x00\x00\x11\x01aF\x00\x00\x00\n\x01bA\x00\x00\x00\x03Vt\x01'),
    ]
    for table, wire in cases:
        pieces = [b'before']
        assert data.encode_table(pieces, table) == len(wire)
        assert b''.join(pieces) == b'before' + wire


def test_short_strings():
    pieces = []
    assert data.encode_short_string(pieces, 'abc') == 4
    assert data.encode_short_string(pieces, b'abc') == 4
    assert b''.join(pieces) == b'\x03abc\x03abc'
    assert data.decode_short_string(b'\x02\xc3\xa9', 0) == ('\u00e9', 3)
    assert data.decode_short_string(b'\x02\xff\xfe', 0) == (b'\xff\xfe', 3)
    assert data.decode_short_string(memoryview(b'xx\x01a'), 2) == ('a', 4)
    with pytest.raises(exceptions.ShortStringTooLong):
        data.encode_short_string([], 'x' * 256)
    with pytest.raises(exceptions.InvalidFrameError):
        data.decode_short_string(b'\x05ab', 0)
    with pytest.raises(exceptions.InvalidFrameError):
        data.decode_short_string(b'', 0)


DECODE_CASES = [
    (b't\x02', True),
    (b't\x00', False),
    (b'b\xff', -1),
    (b'B\xff', 255),
    (b's\xff\xfe', -2),  # RabbitMQ's signed 16-bit
    (b's\x01a', 353),
    (b'u\xff\xfe', 65534),
    (b'U\xff\xfe', -2),
    (b'I\xff\xff\xff\xfe', -2),
    (b'i\xff\xff\xff\xfe', 4294967294),
    (b'l' + b'\xff' * 8, -1),
    (b'L' + b'\xff' * 8, -1),
    (b'f' + struct.pack('>f', 1.5), 1.5),
    (b'd' + struct.pack('>d', 2.5), 2.5),
    (b'D\x02\xff\xff\xff\xfe', decimal.Decimal('-0.02')),
    (b'D\x02\x00\x00\x00\x0f', decimal.Decimal('0.15')),
    (b'S\x00\x00\x00\x02\xc3\xa9', '\u00e9'),
    (b'S\x00\x00\x00\x02\xff\xfe', b'\xff\xfe'),
    (b'x\x00\x00\x00\x02ab', b'ab'),
    (b'A\x00\x00\x00\x03Vt\x01', [None, True]),
    (b'A\x00\x00\x00\x00', []),
    (b'T\x00\x00\x00\x00^\r]\xa5',
     datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
    (b'F\x00\x00\x00\x02\x00V', {
        '': None
    }),
    (b'V', None),
]


@pytest.mark.parametrize('wire,value', DECODE_CASES)
def test_decode_value(wire, value):
    decoded, offset = data.decode_value(b'..' + wire + b'..', 2)
    assert offset == 2 + len(wire)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize('wire,value', DECODE_CASES)
def test_decode_value_inside_table(wire, value):
    table = b'\x01k' + wire
    encoded = struct.pack('>I', len(table)) + table
    for source in (encoded, bytearray(encoded), memoryview(encoded)):
        decoded, offset = data.decode_table(source, 0)
        assert decoded == {'k': value}
        assert offset == len(encoded)


def test_decode_table_keys_and_offsets():
    encoded = b'\x00\x00\x00\x08\x02\xff\xfeI\x00\x00\x00\x07'
    assert data.decode_table(b'abc' + encoded, 3) == ({
        b'\xff\xfe': 7
    }, 3 + len(encoded))


def test_decode_unknown_type_raises_invalid_field_type():
    with pytest.raises(exceptions.InvalidFieldTypeException):
        data.decode_value(b'Z', 0)
    with pytest.raises(exceptions.InvalidFieldTypeException):
        data.decode_table(b'\x00\x00\x00\x03\x01kZ', 0)


@pytest.mark.parametrize('wire', [
    b'\x00\x00\x00\x09\x01aI\x00\x00\x00\x01',
    b'\x00\x00\x00',
    b'\x00\x00\x00\x08\x01aS\x00\x00\x00\x09ab',
    b'\x00\x00\x00\x03\x05abc',
    b'\x00\x00\x00\x0b\x01aA\x00\x00\x00\x09V',
    b'\x00\x00\x00\x0b\x01aT\xff\xff\xff\xff\xff\xff\xff\xff',
])
def test_decode_malformed_table_raises_pika_exception(wire):
    with pytest.raises(exceptions.ProtocolSyntaxError):
        data.decode_table(wire, 0)


def test_deeply_nested_table_raises_pika_exception():
    inner = b''
    for _ in range(5000):
        body = b'\x01kF' + inner
        inner = struct.pack('>I', len(body)) + body
    with pytest.raises(exceptions.ProtocolSyntaxError):
        data.decode_table(inner, 0)


def test_unsupported_value_names_the_key():
    with pytest.raises(exceptions.UnsupportedAMQPFieldException) as info:
        data.encode_table([], {'my-key': object()})
    assert 'my-key' in info.value.args
    with pytest.raises(exceptions.UnsupportedAMQPFieldException):
        data.encode_value([], datetime.date(2020, 1, 1))
    with pytest.raises(exceptions.UnsupportedAMQPFieldException):
        data.encode_table([], {'set': {1, 2}})


def test_out_of_range_values_raise_value_error():
    with pytest.raises(ValueError, match='big'):
        data.encode_table([], {'big': 2**63})
    with pytest.raises(ValueError):
        data.encode_value([], -2**63 - 1)
    with pytest.raises(ValueError):
        data.encode_value([], decimal.Decimal('12345678901.5'))
    with pytest.raises(ValueError):
        data.encode_value([], decimal.Decimal('NaN'))
    with pytest.raises(ValueError):
        data.encode_value([], datetime.datetime(1960, 1, 1))


def test_bad_keys():
    with pytest.raises(exceptions.ShortStringTooLong):
        data.encode_table([], {'k' * 256: 1})
    with pytest.raises(TypeError):
        data.encode_table([], {1: 2})


# -- property-based round trips ------------------------------------------

KEYS = st.text(max_size=40).filter(lambda key: len(key.encode()) <= 255)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2**63, max_value=2**63 - 1),
    st.text(max_size=60),
    st.binary(max_size=60),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False,
                places=3).filter(lambda d: abs(d) < 2000000),
    st.datetimes(
        min_value=datetime.datetime(1970, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.just(UTC)).map(lambda stamp: stamp.replace(microsecond=0)),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=12)
TABLES = st.dictionaries(KEYS, VALUES, max_size=6)


@settings(max_examples=50, deadline=None)
@given(TABLES)
def test_table_round_trip(table):
    pieces = []
    length = data.encode_table(pieces, table)
    encoded = b''.join(pieces)
    assert length == len(encoded)
    decoded, offset = data.decode_table(encoded, 0)
    assert offset == len(encoded)
    assert decoded == table


@settings(max_examples=50, deadline=None)
@given(VALUES)
def test_value_round_trip(value):
    pieces = []
    data.encode_value(pieces, value)
    encoded = b''.join(pieces)
    assert data.decode_value(encoded, 0) == (value, len(encoded))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_decode_arbitrary_bytes_raises_only_pika_exceptions(blob):
    for decoder in (data.decode_table, data.decode_value,
                    data.decode_short_string):
        try:
            decoder(blob, 0)
        except exceptions.AMQPError:
            pass
