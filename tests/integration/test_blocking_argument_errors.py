"""Through BlockingConnection against the broker: argument errors name the
argument and its range, are raised before anything is sent, and leave the
connection and channel open (the classes are pika 1.4.4's)."""

import struct

import pytest

from pika import exceptions
from blocking_support import params
from pika.adapters.blocking_connection import BlockingConnection


@pytest.fixture
def conn():
    connection = BlockingConnection(params())
    yield connection
    if connection.is_open:
        connection.close()


def test_argument_errors_leave_everything_open(conn):
    channel = conn.channel()
    with pytest.raises(ValueError, match=r'time_limit must be a number >= 0'):
        conn.process_data_events(time_limit=-1)
    with pytest.raises(struct.error,
                       match='prefetch_count must be from 0 to '
                       '65535, but got 70000'):
        channel.basic_qos(prefetch_count=70000)
    with pytest.raises(exceptions.ShortStringTooLong) as info:
        channel.queue_declare('q' * 300)
    assert 'queue must be at most 255 bytes' in repr(info.value)
    with pytest.raises(exceptions.InvalidChannelNumber) as info:
        conn.channel(channel_number='x')
    assert 'channel_number must be' in repr(info.value)
    # Nothing was sent: the broker did not close the channel.
    assert channel.is_open and conn.is_open
    declared = channel.queue_declare('', exclusive=True)
    assert declared.method.queue.startswith('amq.gen-')
    channel.basic_qos(prefetch_count=65535)
    assert channel.is_open
