"""A field table or array whose last entry runs past its declared length
decodes as in pika 1.4: entries are read while the offset is inside the
declared length, and the offset returned is where the last entry ended."""

import struct

from pika import data


def _table(declared, entries):
    return struct.pack('>I', declared) + entries


def test_table_shorter_than_its_entries_keeps_the_started_entry():
    entries = b'\x03binx' + struct.pack('>I', 4) + b'\x00\x01\x02\x03'
    assert data.decode_table(_table(1, entries), 0) == ({
        'bin': b'\x00\x01\x02\x03'
    }, 4 + len(entries))


def test_entries_after_the_declared_length_are_not_read():
    first = b'\x01as\x04\xd2'
    second = b'\x01bt\x01'
    encoded = _table(len(first) - 1, first + second)
    assert data.decode_table(encoded, 0) == ({'a': 1234}, 4 + len(first))


def test_long_string_past_the_declared_length_still_decodes():
    entry = b'\x01kS' + struct.pack('>I', 5) + b'hello'
    assert data.decode_table(_table(3, entry), 0) == ({
        'k': 'hello'
    }, 4 + len(entry))


def test_array_shorter_than_its_items_keeps_the_started_item():
    array = b'A' + struct.pack('>I', 1) + b'I' + struct.pack('>i', -5)
    entry = b'\x01k' + array
    assert data.decode_table(_table(len(entry), entry), 0) == ({
        'k': [-5]
    }, 4 + len(entry))


def test_nested_table_past_the_outer_length_ends_the_outer_table():
    inner = b'\x01kI' + struct.pack('>i', 5)
    entry = b'\x01aF' + struct.pack('>I', 1) + inner
    trailing = b'\x01bt\x01'
    encoded = _table(len(entry) - 2, entry + trailing)
    assert data.decode_table(encoded, 0) == ({'a': {'k': 5}}, 4 + len(entry))
