"""basic_qos takes its prefetch values as ints: pika 1.4 accepts anything
``int()`` takes in its check but then fails packing ``'10'`` or ``1.5``
with ``struct.error``, before anything is sent. Ours raises a TypeError
that is also a ``struct.error``, and sends nothing."""

import struct

import pytest

from pika import spec
from engine_fake import open_channel, open_connection


@pytest.mark.parametrize('kwargs', [
    {
        'prefetch_count': '10'
    },
    {
        'prefetch_count': 1.5
    },
    {
        'prefetch_size': '4096'
    },
    {
        'prefetch_size': 2.0
    },
])
def test_non_int_prefetch_is_refused_before_sending(kwargs):
    conn = open_connection()
    chan = open_channel(conn)
    conn.sent()
    with pytest.raises(struct.error) as as_pika:
        chan.basic_qos(**kwargs)
    with pytest.raises(TypeError) as as_ours:
        chan.basic_qos(**kwargs)
    assert type(as_pika.value) is type(as_ours.value)
    assert next(iter(kwargs)) in str(as_ours.value)
    assert conn.sent() == []


def test_int_and_bool_prefetch_are_sent():
    conn = open_connection()
    chan = open_channel(conn)
    conn.sent()
    chan.basic_qos(prefetch_count=True, global_qos=True)
    (qos,) = conn.sent_methods()
    assert isinstance(qos, spec.Basic.Qos)
    assert (qos.prefetch_size, qos.prefetch_count, qos.global_qos) == (0, 1,
                                                                       True)
