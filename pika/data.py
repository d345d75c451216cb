"""AMQP 0-9-1 field values and field tables, encoded and decoded.

Encoding follows pika 1.4 byte for byte: ``str`` -> ``S``, ``bytes`` -> ``x``,
``bool`` -> ``t``, ``int`` -> ``I`` when it fits 32 signed bits else ``l``,
``decimal.Decimal`` -> ``D``, ``datetime.datetime`` -> ``T`` (seconds, naive
values taken as UTC), ``dict`` -> ``F``, ``list`` -> ``A``, ``None`` -> ``V``.
Beyond pika: ``float`` -> ``d``, ``tuple`` like ``list``, ``bytearray`` and
``memoryview`` like ``bytes``.

Decoding understands every type RabbitMQ puts on the wire (its errata table:
``s`` is a signed 16-bit integer), plus the remaining 0-9-1 markers. Decoders
work by offset over ``bytes`` or ``bytearray`` (a ``memoryview`` is copied to
``bytes`` once) and return the new offset. Malformed input raises
:class:`pika.exceptions.InvalidFrameError` (or ``InvalidFieldTypeException``
for an unknown type marker), never ``struct.error`` or ``IndexError``.

Short strings and table keys that repeat (table keys, content types) have
their encodings remembered in small bounded caches.
"""
import calendar
import decimal
import struct
# ``datetime`` names the class here, as in pika 1.4.4 (``import *`` gives it).
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple, Union

from pika import exceptions
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.compat import as_bytes, long  # noqa: F401

# One byte per length value, so short strings need no struct call.
BYTE = [bytes((number,)) for number in range(256)]

_INT8 = struct.Struct('>b')
_UINT8 = struct.Struct('>B')
_INT16 = struct.Struct('>h')
_UINT16 = struct.Struct('>H')
_INT32 = struct.Struct('>i')
_UINT32 = struct.Struct('>I')
_INT64 = struct.Struct('>q')
_UINT64 = struct.Struct('>Q')
_FLOAT = struct.Struct('>f')
_DOUBLE = struct.Struct('>d')
_DECIMAL = struct.Struct('>Bi')

_pack_uint32 = _UINT32.pack
_unpack_uint32 = _UINT32.unpack_from
_unpack_int32 = _INT32.unpack_from
_unpack_int64 = _INT64.unpack_from

_TYPE_INT32 = b'I'
_TYPE_INT64 = b'l'
_TRUE = b't\x01'
_FALSE = b't\x00'
_VOID = b'V'
_EMPTY_TABLE = b'\x00\x00\x00\x00'

_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_UTC = timezone.utc

_LONG_STRING_HEAD = struct.Struct('>BI')
_INT32_VALUE = struct.Struct('>Bi')
_pack_long_string_head = _LONG_STRING_HEAD.pack
_pack_int32_value = _INT32_VALUE.pack
# Encodings of the commonest table values, looked up instead of packed:
# the type marker and length of long strings shorter than 256 bytes, and
# the 32-bit integers 0..255.
_SHORT_LONG_STRING_HEADS = [
    _pack_long_string_head(83, length) for length in range(256)
]
_SMALL_INT_VALUES = [_pack_int32_value(73, number) for number in range(256)]

# What decoding malformed bytes can raise; the public decoders turn these
# into pika.exceptions.InvalidFrameError (deeply nested tables can exhaust
# the recursion limit, hence RecursionError).
DECODE_ERRORS = (struct.error, IndexError, ValueError, OverflowError,
                 ArithmeticError, OSError, RecursionError)

_KEY_CACHE: Dict[str, bytes] = {}
_KEY_CACHE_MAX = 4096
# Table keys as received (bytes) -> decoded key: header names repeat.
_DECODED_KEYS: Dict[bytes, str] = {}


def short_string_bytes(value: Any, name: str = 'value') -> bytes:
    """Return ``value`` (``str`` or bytes-like) as bytes for a short string.

    :param value: The value to convert
    :param str name: What the value is, for the error message
    :raises AssertionError: if the value is not a string (as pika does)
    :raises pika.exceptions.ShortStringTooLong: if longer than 255 bytes

    """
    if isinstance(value, str):
        encoded = value.encode('utf-8')
    elif isinstance(value, bytes):
        encoded = value
    elif isinstance(value, (bytearray, memoryview)):
        encoded = bytes(value)
    else:
        raise exceptions._ArgumentTypeError(
            'A non-string value was supplied for %s' % name)
    if len(encoded) > 255:
        raise exceptions.ShortStringTooLong(encoded)
    return encoded


def long_string_bytes(value: Any, name: str = 'value') -> bytes:
    """Return ``value`` (``str`` or bytes-like) as bytes for a long string.

    :param value: The value to convert
    :param str name: What the value is, for the error message
    :raises AssertionError: if the value is not a string (as pika does)

    """
    if isinstance(value, str):
        return value.encode('utf-8')
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise exceptions._ArgumentTypeError(
        'A non-string value was supplied for %s' % name)


def short_string_too_long(encoded: bytes) -> None:
    """Raise :class:`pika.exceptions.ShortStringTooLong` for ``encoded``."""
    raise exceptions.ShortStringTooLong(encoded)


def encode_short_string(pieces: List[bytes], value: Union[str, bytes]) -> int:
    """Encode a string value as short string and append it to pieces list
    returning the size of the encoded value.

    :param list pieces: Already encoded values
    :param value: String value to encode
    :type value: str or bytes
    :rtype: int
    :raises pika.exceptions.ShortStringTooLong: if longer than 255 bytes

    """
    encoded = short_string_bytes(value)
    pieces.append(BYTE[len(encoded)])
    pieces.append(encoded)
    return 1 + len(encoded)


def decode_short_string(encoded: Any, offset: int) -> Tuple[Any, int]:
    """Decode a short string value from ``encoded`` data at ``offset``.

    Returns ``str`` when the bytes are valid UTF-8, else ``bytes``.

    :param encoded: The data (bytes, bytearray or memoryview)
    :param int offset: Where the short string starts
    :rtype: tuple(str|bytes, int)

    """
    if encoded.__class__ is memoryview:
        encoded = encoded.tobytes()
    try:
        end = offset + 1 + encoded[offset]
    except IndexError as error:
        raise _malformed(error) from error
    if end > len(encoded):
        raise exceptions.InvalidFrameError('Truncated short string')
    raw = encoded[offset + 1:end]
    try:
        return raw.decode(), end
    except UnicodeDecodeError:
        return bytes(raw), end


def _malformed(error: BaseException) -> exceptions.InvalidFrameError:
    return exceptions.InvalidFrameError('Malformed field data: %r' % (error,))


def table_bytes(table: Optional[Dict[Any, Any]]) -> bytes:
    """Return the complete encoding of a field table, length prefix included.

    :param dict table: The table (``None`` encodes an empty table)
    :rtype: bytes

    """
    if not table:
        return _EMPTY_TABLE
    parts: List[bytes] = []
    key_cache = _KEY_CACHE
    try:
        items = table.items()
    except AttributeError:
        raise exceptions._TableTypeError(
            'a field table (e.g. BasicProperties headers) must be a dict, '
            'but got %r' % (table,)) from None
    for key, value in items:
        try:
            parts.append(key_cache[key])
        except (KeyError, TypeError):
            parts.append(_key_bytes(key))
        value_class = value.__class__
        if value_class is str:
            value_bytes = value.encode()
            length = len(value_bytes)
            parts.append(_SHORT_LONG_STRING_HEADS[length] if length <
                         256 else _pack_long_string_head(83, length))
            parts.append(value_bytes)
        elif value_class is int and -2147483648 <= value <= 2147483647:
            parts.append(_SMALL_INT_VALUES[value]
                         if 0 <= value < 256 else _pack_int32_value(73, value))
        elif value_class is bool:
            parts.append(_TRUE if value else _FALSE)
        else:
            parts.append(value_bytes_of(value, key))
    body = b''.join(parts)
    return _pack_uint32(len(body)) + body


def _key_bytes(key: Any) -> bytes:
    """Length-prefixed encoding of a table key, remembered for str keys."""
    if isinstance(key, (str, bytes, bytearray, memoryview)):
        encoded = short_string_bytes(key)
    else:
        raise TypeError('field table key must be str or bytes, not %s: %r' %
                        (type(key).__name__, key))
    prefixed = BYTE[len(encoded)] + encoded
    # Header keys come from a small set in practice; remember a bounded
    # number of them so the common case is one dict lookup.
    if key.__class__ is str and len(_KEY_CACHE) < _KEY_CACHE_MAX:
        _KEY_CACHE[key] = prefixed
    return prefixed


def value_bytes_of(value: Any, key: Any = None) -> bytes:
    """Return the type marker and encoding of one field value.

    :param value: The value to encode
    :param key: The table key holding the value (named in errors)
    :rtype: bytes
    :raises pika.exceptions.UnsupportedAMQPFieldException: for a value of a
        type AMQP field tables cannot carry
    :raises ValueError: for a number outside the range of its AMQP type

    """
    if isinstance(value, str):
        encoded = value.encode('utf-8')
        return b'S' + _pack_uint32(len(encoded)) + encoded
    if isinstance(value, (bytes, bytearray, memoryview)):
        encoded = bytes(value)
        return b'x' + _pack_uint32(len(encoded)) + encoded
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int):
        value = int(value)
        if _INT32_MIN <= value <= _INT32_MAX:
            return _TYPE_INT32 + _INT32.pack(value)
        if _INT64_MIN <= value <= _INT64_MAX:
            return _TYPE_INT64 + _INT64.pack(value)
        raise exceptions._FieldRangeError(
            'field value %r%s does not fit a signed 64-bit '
            'integer' % (value, _key_text(key)))
    if isinstance(value, float):
        return b'd' + _DOUBLE.pack(value)
    if isinstance(value, decimal.Decimal):
        return b'D' + _decimal_bytes(value, key)
    if isinstance(value, datetime):
        seconds = calendar.timegm(value.utctimetuple())
        if not 0 <= seconds <= 0xFFFFFFFFFFFFFFFF:
            raise exceptions._FieldRangeError(
                'timestamp %r%s is before the epoch' % (value, _key_text(key)))
        return b'T' + _UINT64.pack(seconds)
    if isinstance(value, dict):
        return b'F' + table_bytes(value)
    if isinstance(value, (list, tuple)):
        body = b''.join([value_bytes_of(item, key) for item in value])
        return b'A' + _pack_uint32(len(body)) + body
    if value is None:
        return _VOID
    raise exceptions.UnsupportedAMQPFieldException(
        key if key is not None else [], value)


def _key_text(key: Any) -> str:
    return '' if key is None else ' (key %r)' % (key,)


def _decimal_bytes(value: decimal.Decimal, key: Any) -> bytes:
    if not value.is_finite():
        raise ValueError('decimal field value %r%s is not finite' %
                         (value, _key_text(key)))
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < 0:
        decimals = -exponent
        raw = int(value.scaleb(decimals))
    else:
        decimals = 0
        raw = int(value)
    if decimals > 255 or not _INT32_MIN <= raw <= _INT32_MAX:
        raise exceptions._FieldRangeError(
            'decimal field value %r%s does not fit AMQP decimal '
            '(at most 255 places, 32-bit signed digits)' %
            (value, _key_text(key)))
    return _DECIMAL.pack(decimals, raw)


def encode_table(pieces: List[bytes], table: Optional[Dict[Any, Any]]) -> int:
    """Encode a dict as an AMQP table appending the encded table to the
    pieces list passed in.

    :param list pieces: Already encoded frame pieces
    :param dict table: The dict to encode (``None`` encodes an empty table)
    :rtype: int

    """
    encoded = table_bytes(table)
    pieces.append(encoded)
    return len(encoded)


def encode_value(pieces: List[bytes], value: Any) -> int:
    """Encode the value passed in and append it to the pieces list returning
    the the size of the encoded value.

    :param list pieces: Already encoded values
    :param any value: The value to encode
    :rtype: int

    """
    encoded = value_bytes_of(value)
    pieces.append(encoded)
    return len(encoded)


def decode_table(encoded: Any, offset: int) -> Tuple[Dict[Any, Any], int]:
    """Decode the AMQP table passed in from the encoded value returning the
    decoded result and the number of bytes read plus the offset.

    :param encoded: The data (bytes, bytearray or memoryview)
    :param int offset: Where the table's length prefix starts
    :rtype: tuple(dict, int)

    """
    if encoded.__class__ is memoryview:
        encoded = encoded.tobytes()
    try:
        return _decode_table(encoded, offset)
    except DECODE_ERRORS as error:
        raise _malformed(error) from error


def _decode_table(encoded: Any, offset: int) -> Tuple[Dict[Any, Any], int]:
    """decode_table over bytes or bytearray."""
    result: Dict[Any, Any] = {}
    limit = offset + 4 + _unpack_uint32(encoded, offset)[0]
    offset += 4
    size = len(encoded)
    if limit > size:
        raise exceptions.InvalidFrameError('Truncated field table')
    keys = _DECODED_KEYS
    while offset < limit:
        # offset: the key's length octet, then the type octet after the key
        start = offset + 1
        offset = start + encoded[offset]
        raw = encoded[start:offset]
        try:
            key = keys[raw]
        except (KeyError, TypeError):  # TypeError: bytearray input
            key = _decoded_key(raw)
        kind = encoded[offset]
        if kind == 83:  # S
            start = offset + 5
            offset = start + _unpack_uint32(encoded, offset + 1)[0]
            if offset > size:
                raise exceptions.InvalidFrameError('Truncated long string')
            try:
                result[key] = encoded[start:offset].decode()
            except UnicodeDecodeError:
                result[key] = bytes(encoded[start:offset])
        elif kind == 73:  # I
            result[key] = _unpack_int32(encoded, offset + 1)[0]
            offset += 5
        elif kind == 116:  # t
            result[key] = encoded[offset + 1] != 0
            offset += 2
        elif kind == 108:  # l
            result[key] = _unpack_int64(encoded, offset + 1)[0]
            offset += 9
        elif kind == 70:  # F
            result[key], offset = _decode_table(encoded, offset + 1)
        else:
            result[key], offset = _decode_typed(encoded, offset + 1, kind)
    # As pika 1.4 does, the last entry may run past the declared length: the
    # offset returned is where decoding stopped.
    return result, offset


def _decoded_key(raw: Any) -> Any:
    """Decode a table key (``str``, or ``bytes`` when not UTF-8) and
    remember valid ones while the cache has room."""
    try:
        key = raw.decode()
    except UnicodeDecodeError:
        return bytes(raw)
    if len(_DECODED_KEYS) < _KEY_CACHE_MAX:
        _DECODED_KEYS[bytes(raw)] = key
    return key


def decode_value(encoded: Any, offset: int) -> Tuple[Any, int]:
    """Decode one typed field value (type marker first) at ``offset``.

    :param encoded: The data (bytes, bytearray or memoryview)
    :param int offset: Where the type marker is
    :rtype: tuple(any, int)
    :raises pika.exceptions.InvalidFieldTypeException: for an unknown marker

    """
    if encoded.__class__ is memoryview:
        encoded = encoded.tobytes()
    try:
        return _decode_typed(encoded, offset + 1, encoded[offset])
    except DECODE_ERRORS as error:
        raise _malformed(error) from error


def _decode_array(encoded: Any, offset: int) -> Tuple[List[Any], int]:
    limit = offset + 4 + _unpack_uint32(encoded, offset)[0]
    offset += 4
    if limit > len(encoded):
        raise exceptions.InvalidFrameError('Truncated field array')
    items = []
    while offset < limit:
        value, offset = _decode_typed(encoded, offset + 1, encoded[offset])
        items.append(value)
    return items, offset


def _decode_bytes(encoded: Any, offset: int) -> Tuple[Any, int]:
    end = offset + 4 + _unpack_uint32(encoded, offset)[0]
    if end > len(encoded):
        raise exceptions.InvalidFrameError('Truncated long string')
    return encoded[offset + 4:end], end


def _decode_typed(encoded: Any, offset: int, kind: int) -> Tuple[Any, int]:
    """Decode the value of type ``kind`` (marker already read) at offset."""
    if kind == 83:  # S: long string, text when valid UTF-8
        raw, offset = _decode_bytes(encoded, offset)
        try:
            return raw.decode(), offset
        except UnicodeDecodeError:
            return bytes(raw), offset
    if kind == 73:  # I
        return _unpack_int32(encoded, offset)[0], offset + 4
    if kind == 116:  # t
        return bool(_UINT8.unpack_from(encoded, offset)[0]), offset + 1
    if kind == 108 or kind == 76:  # l, L
        return _unpack_int64(encoded, offset)[0], offset + 8
    if kind == 70:  # F
        return _decode_table(encoded, offset)
    if kind == 65:  # A
        return _decode_array(encoded, offset)
    if kind == 86:  # V
        return None, offset
    if kind == 120:  # x
        raw, offset = _decode_bytes(encoded, offset)
        return bytes(raw), offset
    if kind == 84:  # T
        seconds = _UINT64.unpack_from(encoded, offset)[0]
        try:
            stamp = datetime.fromtimestamp(seconds, tz=_UTC)
        except (OverflowError, OSError, ValueError):
            raise exceptions.InvalidFrameError('Timestamp out of range: %d' %
                                               seconds)
        return stamp, offset + 8
    if kind == 68:  # D
        decimals, raw_value = _DECIMAL.unpack_from(encoded, offset)
        return decimal.Decimal(raw_value).scaleb(-decimals), offset + 5
    if kind == 105:  # i
        return _unpack_uint32(encoded, offset)[0], offset + 4
    if kind == 98:  # b
        return _INT8.unpack_from(encoded, offset)[0], offset + 1
    if kind == 66:  # B
        return _UINT8.unpack_from(encoded, offset)[0], offset + 1
    if kind == 115 or kind == 85:  # s (RabbitMQ), U
        return _INT16.unpack_from(encoded, offset)[0], offset + 2
    if kind == 117:  # u
        return _UINT16.unpack_from(encoded, offset)[0], offset + 2
    if kind == 102:  # f
        return _FLOAT.unpack_from(encoded, offset)[0], offset + 4
    if kind == 100:  # d
        return _DOUBLE.unpack_from(encoded, offset)[0], offset + 8
    raise exceptions.InvalidFieldTypeException(BYTE[kind])
