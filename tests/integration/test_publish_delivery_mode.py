"""A publish with a delivery_mode the broker would refuse (406) raises
ValueError naming it before anything is sent; the channel stays open."""

import pytest

import pika
from blocking_support import connect, unique


@pytest.mark.parametrize('value', [0, 3])
def test_blocking_publish_with_bad_delivery_mode_raises(value):
    conn = connect()
    try:
        channel = conn.channel()
        queue = channel.queue_declare(unique('dm'), exclusive=True).method.queue
        with pytest.raises(ValueError, match='delivery_mode'):
            channel.basic_publish('', queue, b'bad',
                                  pika.BasicProperties(delivery_mode=value))
        channel.basic_publish('', queue, b'good',
                              pika.BasicProperties(delivery_mode=2))
        conn.process_data_events(0.2)
        assert channel.is_open
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        assert body == b'good'
        assert properties.delivery_mode == 2
        assert channel.basic_get(queue, auto_ack=True)[0] is None
    finally:
        conn.close()
