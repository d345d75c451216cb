"""Deliveries decoded in one batch reach the consumer exactly as frame by frame.

The connection hands a channel a whole delivery (method, header and one body
frame from the same read) in one call; these tests feed batches that take
that path, batches that must not (content split over reads, multi-frame
bodies, empty bodies, interleaved channels) and check what the consumers get.
"""

from pika import exceptions, spec
from engine_fake import (Recorder, content_bytes, method_bytes, open_channel,
                         open_connection)


def _consumer(conn, rec, name):
    chan = open_channel(conn)
    tag = chan.basic_consume('q', rec(name))
    conn.feed(method_bytes(chan.channel_number, spec.Basic.ConsumeOk(tag)))
    conn.sent()
    return chan, tag


def _deliver(number, tag, delivery_tag, body, props=None):
    return content_bytes(
        number, spec.Basic.Deliver(tag, delivery_tag, False, 'ex', 'rk'), body,
        props)


def test_batch_of_deliveries_on_two_channels_in_order():
    conn = open_connection()
    rec = Recorder()
    first, tag1 = _consumer(conn, rec, 'one')
    second, tag2 = _consumer(conn, rec, 'two')
    props = spec.BasicProperties(content_type='text/plain', headers={'n': 1})
    data = b''.join(
        _deliver(first.channel_number, tag1, n, b'a%d' % n, props) +
        _deliver(second.channel_number, tag2, n, b'b%d' % n)
        for n in range(1, 51))
    conn.feed(data)
    ones, twos = rec.only('one'), rec.only('two')
    assert [c[1].delivery_tag for c in ones] == list(range(1, 51))
    assert [c[3] for c in twos] == [b'b%d' % n for n in range(1, 51)]
    assert all(c[0] is first for c in ones)
    assert all(c[0] is second for c in twos)
    assert ones[0][2].headers == {'n': 1}
    assert twos[0][2].content_type is None
    assert rec.names() == ['one', 'two'] * 50


def test_content_split_between_reads_and_multi_frame_bodies():
    conn = open_connection()
    rec = Recorder()
    chan, tag = _consumer(conn, rec, 'msg')
    big = bytes(range(256)) * 1024  # 256 KiB: three body frames
    data = (_deliver(chan.channel_number, tag, 1, b'small') +
            _deliver(chan.channel_number, tag, 2, big) +
            _deliver(chan.channel_number, tag, 3, b'') +
            _deliver(chan.channel_number, tag, 4, b'last'))
    cut = len(_deliver(chan.channel_number, tag, 1, b'small')) + 30
    conn.feed(data[:cut])  # the second delivery's header is cut
    conn.feed(data[cut:])
    got = rec.only('msg')
    assert [c[1].delivery_tag for c in got] == [1, 2, 3, 4]
    assert [c[3] for c in got] == [b'small', big, b'', b'last']
    assert all(type(c[3]) is bytes for c in got)


def test_header_on_another_channel_is_still_a_protocol_error():
    conn = open_connection()
    rec = Recorder()
    chan, tag = _consumer(conn, rec, 'msg')
    other, _ = _consumer(conn, rec, 'other')
    method = method_bytes(chan.channel_number,
                          spec.Basic.Deliver(tag, 1, False, '', 'q'))
    # header + body sent on the other channel: that channel never saw a
    # content method, so the connection must fail, not deliver anything
    rest = _deliver(other.channel_number, tag, 1, b'x')
    rest = rest[len(
        method_bytes(other.channel_number,
                     spec.Basic.Deliver(tag, 1, False, 'ex', 'rk'))):]
    conn.feed(method + rest)
    assert rec.only('msg') == [] and rec.only('other') == []
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, reason),) = conn.rec.only('close')
    assert isinstance(reason, exceptions.StreamLostError)
    assert 'UnexpectedFrameError' in str(reason)


def _getok(number, delivery_tag, body, props=None):
    return content_bytes(number,
                         spec.Basic.GetOk(delivery_tag, False, 'ex', 'rk', 7),
                         body, props)


def test_get_ok_whole_in_one_read_split_and_multi_frame():
    conn = open_connection()
    rec = Recorder()
    chan = open_channel(conn)
    props = spec.BasicProperties(message_id='m1', headers={'k': 'v'})
    big = bytes(range(256)) * 1024  # three body frames
    # whole GetOk (method, header, body) in one read: the one-call path
    chan.basic_get('q', rec('get'))
    conn.feed(_getok(chan.channel_number, 1, b'first', props))
    # the same split across reads, and a multi-frame body: frame by frame
    chan.basic_get('q', rec('get'))
    data = _getok(chan.channel_number, 2, b'second')
    conn.feed(data[:len(data) - 5])
    assert len(rec.only('get')) == 1
    conn.feed(data[len(data) - 5:])
    chan.basic_get('q', rec('get'))
    conn.feed(_getok(chan.channel_number, 3, big))
    got = rec.only('get')
    assert [c[0] for c in got] == [chan] * 3
    assert [c[1].delivery_tag for c in got] == [1, 2, 3]
    assert all(c[1].message_count == 7 for c in got)
    assert [c[3] for c in got] == [b'first', b'second', big]
    assert all(type(c[3]) is bytes for c in got)
    assert got[0][2].headers == {'k': 'v'} and got[0][2].message_id == 'm1'
    # the callback was used up each time: a new get is allowed
    chan.basic_get('q', rec('get'))


def test_get_ok_after_deliveries_in_one_read_keeps_order():
    conn = open_connection()
    rec = Recorder()
    chan, tag = _consumer(conn, rec, 'msg')
    chan.basic_get('q', rec('get'))
    conn.feed(
        _deliver(chan.channel_number, tag, 1, b'd1') +
        _getok(chan.channel_number, 2, b'g2') +
        _deliver(chan.channel_number, tag, 3, b'd3'))
    assert rec.names() == ['msg', 'get', 'msg']
    assert [c[4] for c in rec.calls] == [b"d1", b"g2", b"d3"]
