"""A ``priority`` that does not fit its octet fails as in pika 1.4, where
packing it raises ``struct.error``: ours is also a ``ValueError`` (out of
range) or a ``TypeError`` (not an int) naming the property."""

import struct

import pytest

from pika import spec


@pytest.mark.parametrize('value, ours', [
    (256, ValueError),
    (-1, ValueError),
    ('5', TypeError),
    (1.5, TypeError),
])
def test_bad_priority_fails_encoding(value, ours):
    props = spec.BasicProperties(priority=value)
    with pytest.raises(struct.error) as as_pika:
        props.encode()
    assert isinstance(as_pika.value, ours)
    assert 'priority' in str(as_pika.value)


def test_priority_in_range_encodes():
    encoded = b''.join(spec.BasicProperties(priority=255).encode())
    decoded = spec.BasicProperties()
    decoded.decode(encoded)
    assert decoded.priority == 255
