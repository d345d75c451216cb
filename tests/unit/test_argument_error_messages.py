"""Argument errors name the argument and its allowed range.

Each keeps the exception class pika 1.4.4 raises (or a class deriving from
it and from TypeError/ValueError), its ``args`` and the start of its
message; nothing reaches the broker (scripted engine, no sockets).
"""

import struct

import pytest

from pika import connection, data, exceptions, spec
from engine_fake import open_channel, open_connection


def test_frame_max_out_of_range_names_it_and_the_range():
    with pytest.raises(ValueError) as info:
        connection.ConnectionParameters(frame_max=10)
    message = str(info.value)
    assert message.startswith('Min AMQP 0.9.1 Frame Size is 4096, but got 10')
    assert 'frame_max must be from 4096 to 131072' in message
    with pytest.raises(ValueError, match='frame_max must be from 4096'):
        connection.ConnectionParameters(frame_max=131073)


def test_headers_not_a_dict_is_attribute_and_type_error():
    properties = spec.BasicProperties(headers='notadict')
    for expected in (AttributeError, TypeError):
        with pytest.raises(expected, match='must be a dict') as info:
            properties.encode()
        assert "'notadict'" in str(info.value)
    with pytest.raises(TypeError, match='headers'):
        data.table_bytes(['not', 'a', 'dict'])


def test_prefetch_count_too_large_before_anything_is_sent():
    conn = open_connection()
    chan = open_channel(conn)
    for expected in (ValueError, struct.error):
        with pytest.raises(expected) as info:
            chan.basic_qos(prefetch_count=70000)
        assert str(info.value) == ('prefetch_count must be from 0 to 65535, '
                                   'but got 70000')
    with pytest.raises(ValueError, match='prefetch_size must be from 0 to'):
        chan.basic_qos(prefetch_size=2**32)
    assert conn.sent() == []
    chan.basic_qos(prefetch_count=65535)
    (qos,) = conn.sent_methods()
    assert qos.prefetch_count == 65535


@pytest.mark.parametrize('call', [
    lambda chan, name: chan.queue_declare(name),
    lambda chan, name: chan.queue_delete(name),
    lambda chan, name: chan.queue_purge(name),
    lambda chan, name: chan.queue_bind(name, 'amq.direct'),
    lambda chan, name: chan.exchange_declare(name),
    lambda chan, name: chan.basic_consume(name, lambda *a: None),
])
def test_names_over_255_bytes_are_refused_naming_the_argument(call):
    conn = open_connection()
    chan = open_channel(conn)
    name = 'x' * 300
    with pytest.raises(exceptions.ShortStringTooLong) as info:
        call(chan, name)
    error = info.value
    assert error.args == (name.encode(),)
    text = repr(error)
    assert text.startswith('ShortStringTooLong: AMQP Short String can '
                           'contain up to 255 bytes: ')
    assert 'must be at most 255 bytes UTF-8 encoded, but is 300 bytes' in text
    assert ('queue must' in text) or ('exchange must' in text)
    assert conn.sent() == []
    assert chan.is_open


def test_multibyte_name_measured_in_utf8_bytes():
    conn = open_connection()
    chan = open_channel(conn)
    chan.queue_declare('\u00e9' * 127, callback=lambda frame: None)
    assert len(conn.sent_methods()) == 1
    with pytest.raises(exceptions.ShortStringTooLong) as info:
        chan.queue_declare('\u00e9' * 128)
    assert repr(info.value).endswith('but is 256 bytes)')


def test_invalid_channel_number_names_the_argument():
    conn = open_connection()
    with pytest.raises(exceptions.InvalidChannelNumber) as info:
        conn.channel(channel_number='x')
    assert info.value.args == ('x',)
    assert repr(info.value) == (
        'InvalidChannelNumber: An invalid channel number has been specified: '
        'x (channel_number must be None or an int from 1 to 65535)')
    assert conn.sent() == []
