"""``delivery_mode`` other than 1, 2 or unset: ValueError naming it, raised
by ``basic_publish`` before anything is sent (the broker would close the
channel with 406)."""

import pytest

from pika import DeliveryMode, spec
from engine_fake import open_channel, open_connection


@pytest.mark.parametrize('value', [0, 3, 255, -1, 256, '2', 2.0])
def test_bad_delivery_mode_raises_before_sending(value):
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(ValueError, match='delivery_mode') as caught:
        chan.basic_publish('', 'q', b'body',
                           spec.BasicProperties(delivery_mode=value))
    assert '1 (transient) or 2 (persistent)' in str(caught.value)
    assert repr(value) in str(caught.value)
    assert conn.written == []
    assert chan.is_open


@pytest.mark.parametrize('value', [None, 1, 2, True, DeliveryMode.Persistent])
def test_valid_delivery_modes_are_sent(value):
    conn = open_connection()
    chan = open_channel(conn)
    chan.basic_publish('', 'q', b'body',
                       spec.BasicProperties(delivery_mode=value))
    header = conn.sent()[1]
    expected = None if value is None else int(getattr(value, 'value', value))
    assert header.properties.delivery_mode == expected


def test_large_body_publish_checks_delivery_mode_too():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(ValueError, match='delivery_mode'):
        chan.basic_publish('', 'q', b'x' * 300000,
                           spec.BasicProperties(delivery_mode=7))
    assert conn.written == []
