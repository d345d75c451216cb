"""Each channel assembles content with its one public ContentFrameAssembler;
a whole delivery from one read reaches the channel in one call, and a
delivery arriving while another content is incomplete breaks the protocol."""

import pytest

from pika import channel as channel_mod
from pika import exceptions, frame, spec
from engine_fake import (Recorder, content_bytes, method_bytes, open_channel,
                         open_connection)


def _consumer(conn, rec):
    chan = open_channel(conn)
    tag = chan.basic_consume('q', rec('msg'))
    conn.feed(method_bytes(chan.channel_number, spec.Basic.ConsumeOk(tag)))
    conn.sent()
    return chan, tag


def _deliver(number, tag, delivery_tag, body):
    return content_bytes(
        number, spec.Basic.Deliver(tag, delivery_tag, False, 'ex', 'rk'), body)


def test_channel_assembles_with_a_content_frame_assembler():
    conn = open_connection()
    rec = Recorder()
    chan, tag = _consumer(conn, rec)
    assert isinstance(chan._assembler, channel_mod.ContentFrameAssembler)
    data = _deliver(chan.channel_number, tag, 1, b'abcdef')
    conn.feed(data[:-3])  # the body frame is cut: the assembler holds the rest
    assert rec.only('msg') == []
    assert chan._assembler._header_frame is not None
    conn.feed(data[-3:])
    ((_, method, _, body),) = rec.only('msg')
    assert (method.delivery_tag, body) == (1, b'abcdef')
    assert chan._assembler._method_frame is None


def test_whole_delivery_while_a_content_is_incomplete_is_unexpected():
    conn = open_connection()
    rec = Recorder()
    chan, tag = _consumer(conn, rec)
    number = chan.channel_number
    # a Deliver method alone, then a whole delivery in one read
    conn.feed(method_bytes(number, spec.Basic.Deliver(tag, 1, False, '', 'q')))
    conn.feed(_deliver(number, tag, 2, b'x'))
    assert rec.only('msg') == []
    assert conn.events[-1] == 'disconnect_stream'
    conn.terminated()
    ((_, reason),) = conn.rec.only('close')
    assert 'UnexpectedFrameError' in str(reason)
    assert 'while content for' in str(reason)


def test_public_process_names_the_frame_out_of_order():
    assembler = channel_mod.ContentFrameAssembler()
    body = frame.Body(1, b'x')
    with pytest.raises(exceptions.UnexpectedFrameError) as caught:
        assembler.process(body)
    assert caught.value.args == (body,)
    method_frame = frame.Method(1, spec.Basic.Deliver('t', 1, False, '', 'q'))
    assembler.process(method_frame)
    header = frame.Header(1, 3, spec.BasicProperties())
    assembler.process(header)
    result = assembler.process(frame.Body(1, bytearray(b'abc')))
    assert result == (method_frame, header, b'abc')
    assert type(result[2]) is bytes
