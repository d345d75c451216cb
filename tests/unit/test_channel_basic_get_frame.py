"""``Channel.basic_get`` sends the ``Basic.Get`` frame pika 1.4 would (also
when the marshalled frame is reused for the same queue), sends it at once
even while an RPC is pending (as pika 1.4 does), and raises the same
argument and state errors before sending.
"""

import pytest

from pika import exceptions, frame, spec

from engine_fake import (Recorder, content_bytes, method_bytes, open_channel,
                         open_connection)


def _get_frame(number, queue, no_ack):
    return frame.Method(number, spec.Basic.Get(queue=queue,
                                               no_ack=no_ack)).marshal()


def test_basic_get_sends_the_marshalled_get_frame():
    conn = open_connection()
    chan = open_channel(conn)
    rec = Recorder()
    before = conn.frames_sent
    chan.basic_get('q1', rec('get'), auto_ack=True)
    assert conn.written == [_get_frame(1, 'q1', True)]
    assert conn.frames_sent == before + 1
    conn.written = []
    conn.feed(content_bytes(1, spec.Basic.GetOk(1, False, '', 'q1', 0), b'a'))
    assert rec.only('get')[0][3] == b'a'
    # same queue: the same bytes again; other queue / no_ack: new frames
    for queue, auto_ack in [('q1', True), ('q1', False), ('q2', False),
                            ('q2', 1), ('q1', 0)]:
        chan.basic_get(queue, rec('get'), auto_ack=auto_ack)
        assert conn.written == [_get_frame(1, queue, bool(auto_ack))]
        conn.written = []
        conn.feed(method_bytes(1, spec.Basic.GetEmpty()))


def test_basic_get_queue_str_subclass_is_marshalled_each_time():

    class Name(str):
        pass

    conn = open_connection()
    chan = open_channel(conn)
    for queue in ['q', Name('q'), Name('other')]:
        chan.basic_get(queue, Recorder()('get'))
        assert conn.written == [_get_frame(1, str(queue), False)]
        conn.written = []
        conn.feed(method_bytes(1, spec.Basic.GetEmpty()))


def test_basic_get_is_sent_while_an_rpc_is_pending():
    # as pika 1.4 does: Basic.Get does not wait for the pending DeclareOk
    conn = open_connection()
    chan = open_channel(conn)
    conn.sent()
    rec = Recorder()
    chan.queue_declare('q', callback=rec('declared'))
    chan.basic_get('q', rec('get'))
    chan.basic_qos(prefetch_count=1, callback=rec('qos'))
    assert [type(m) for m in conn.sent_methods()
           ] == [spec.Queue.Declare, spec.Basic.Get]
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q', 1, 0)))
    assert [type(m) for m in conn.sent_methods()] == [spec.Basic.Qos]
    # the GetOk arrives while the Qos waits for its reply
    conn.feed(content_bytes(1, spec.Basic.GetOk(1, False, '', 'q', 0), b'z'))
    conn.feed(method_bytes(1, spec.Basic.QosOk()))
    assert rec.names() == ['declared', 'get', 'qos']


def test_basic_get_argument_and_state_errors_unchanged():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(TypeError, match='queue'):
        chan.basic_get(b'q', Recorder()('get'))
    with pytest.raises(TypeError):
        chan.basic_get('q', 'not callable')
    assert conn.written == []
    chan.close()
    with pytest.raises(exceptions.ChannelWrongStateError, match='closing'):
        chan.basic_get('q', Recorder()('get'))


def test_basic_get_too_long_queue_name_raises_before_sending():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(exceptions.ShortStringTooLong):
        chan.basic_get('q' * 300, Recorder()('get'))
    assert conn.written == []
