"""A table value too large for its AMQP field fails as in pika 1.4, where
packing it raises ``struct.error``; ours is also a ``ValueError`` naming
the key."""

import datetime
import decimal
import struct

import pytest

from pika import data


@pytest.mark.parametrize('value', [
    2**63,
    -2**63 - 1,
    2**64,
    datetime.datetime(1960, 1, 1, tzinfo=datetime.timezone.utc),
    decimal.Decimal('1e300'),
    decimal.Decimal('1.' + '1' * 300),
])
def test_out_of_range_value_is_a_struct_error_and_a_value_error(value):
    with pytest.raises(struct.error) as as_pika:
        data.encode_table([], {'big': value})
    assert isinstance(as_pika.value, ValueError)
    assert "'big'" in str(as_pika.value)


def test_values_at_the_limits_still_encode():
    pieces = []
    data.encode_table(pieces, {'a': 2**63 - 1, 'b': -2**63})
    decoded, _ = data.decode_table(b''.join(pieces), 0)
    assert decoded == {'a': 2**63 - 1, 'b': -2**63}
