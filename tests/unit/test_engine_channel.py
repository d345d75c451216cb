"""Channel engine: methods' frames, RPC serialisation, deliveries, closing."""

import pytest

from pika import channel as channel_mod
from pika import exceptions, frame, spec
from pika.exchange_type import ExchangeType
from engine_fake import (Recorder, content_bytes, method_bytes, open_channel,
                         open_connection, tune_bytes)


@pytest.fixture
def conn():
    return open_connection()


@pytest.fixture
def chan(conn):
    return open_channel(conn)


def only_method(conn):
    (method,) = conn.sent_methods()
    return method


def test_open_sends_channel_open_and_calls_back(conn):
    rec = Recorder()
    chan = conn.channel(on_open_callback=rec('open'))
    assert chan.is_opening and chan.channel_number == 1
    assert isinstance(only_method(conn), spec.Channel.Open)
    conn.feed(method_bytes(1, spec.Channel.OpenOk()))
    assert rec.calls == [('open', chan)]
    assert chan.is_open
    assert conn._channels == {1: chan}
    assert repr(chan).startswith('<Channel number=1 OPEN conn=')


def test_wrong_state_errors(conn):
    chan = conn.channel()
    with pytest.raises(exceptions.ChannelWrongStateError,
                       match='Channel is opening, but is not usable yet.'):
        chan.basic_publish('', 'q', b'')
    conn.feed(method_bytes(1, spec.Channel.OpenOk()))
    chan.close()
    with pytest.raises(exceptions.ChannelWrongStateError,
                       match='Channel is closing.'):
        chan.queue_declare('q')
    with pytest.raises(exceptions.ChannelWrongStateError,
                       match='Channel is closing.'):
        chan.close()
    conn.feed(method_bytes(1, spec.Channel.CloseOk()))
    with pytest.raises(exceptions.ChannelWrongStateError,
                       match='Channel is closed.'):
        chan.basic_ack(1)
    with pytest.raises(exceptions.ChannelWrongStateError,
                       match='Channel is closed.'):
        chan.close()


@pytest.mark.parametrize('call,method_cls,fields', [
    (lambda c: c.exchange_declare('e'), spec.Exchange.Declare,
     dict(exchange='e', type='direct', nowait=True)),
    (lambda c: c.exchange_declare('e', ExchangeType.topic, durable=True),
     spec.Exchange.Declare, dict(type='topic', durable=True)),
    (lambda c: c.exchange_delete('e', if_unused=True), spec.Exchange.Delete,
     dict(exchange='e', if_unused=True, nowait=True)),
    (lambda c: c.exchange_bind('d', 's', 'k'), spec.Exchange.Bind,
     dict(destination='d', source='s', routing_key='k', nowait=True)),
    (lambda c: c.exchange_unbind('d', 's'), spec.Exchange.Unbind,
     dict(destination='d', source='s', routing_key='')),
    (lambda c: c.queue_declare('q', durable=True, arguments={'x-a': 1}),
     spec.Queue.Declare,
     dict(queue='q', durable=True, nowait=True, arguments={'x-a': 1})),
    (lambda c: c.queue_bind('q', 'e'), spec.Queue.Bind,
     dict(queue='q', exchange='e', routing_key='q', nowait=True)),
    (lambda c: c.queue_purge('q'), spec.Queue.Purge, dict(queue='q',
                                                          nowait=True)),
    (lambda c: c.queue_delete('q', if_empty=True), spec.Queue.Delete,
     dict(queue='q', if_empty=True, nowait=True)),
    (lambda c: c.confirm_delivery(lambda f: None), spec.Confirm.Select,
     dict(nowait=True)),
    (lambda c: c.basic_nack(3, True, False), spec.Basic.Nack,
     dict(delivery_tag=3, multiple=True, requeue=False)),
    (lambda c: c.basic_ack(4), spec.Basic.Ack,
     dict(delivery_tag=4, multiple=False)),
    (lambda c: c.basic_reject(5), spec.Basic.Reject,
     dict(delivery_tag=5, requeue=True)),
])
def test_nowait_and_async_methods_do_not_block(conn, chan, call, method_cls,
                                               fields):
    call(chan)
    method = only_method(conn)
    assert isinstance(method, method_cls)
    for name, value in fields.items():
        assert getattr(method, name) == value
    assert chan._blocking is None


@pytest.mark.parametrize('call,method_cls,reply', [
    (lambda c, cb: c.exchange_declare('e', callback=cb), spec.Exchange.Declare,
     spec.Exchange.DeclareOk()),
    (lambda c, cb: c.exchange_delete('e', callback=cb), spec.Exchange.Delete,
     spec.Exchange.DeleteOk()),
    (lambda c, cb: c.exchange_bind('d', 's', callback=cb), spec.Exchange.Bind,
     spec.Exchange.BindOk()),
    (lambda c, cb: c.exchange_unbind('d', 's', callback=cb),
     spec.Exchange.Unbind, spec.Exchange.UnbindOk()),
    (lambda c, cb: c.queue_declare('', callback=cb), spec.Queue.Declare,
     spec.Queue.DeclareOk('amq.gen-1', 0, 0)),
    (lambda c, cb: c.queue_bind('q', 'e', callback=cb), spec.Queue.Bind,
     spec.Queue.BindOk()),
    (lambda c, cb: c.queue_unbind('q', 'e', callback=cb), spec.Queue.Unbind,
     spec.Queue.UnbindOk()),
    (lambda c, cb: c.queue_purge('q', callback=cb), spec.Queue.Purge,
     spec.Queue.PurgeOk(3)),
    (lambda c, cb: c.queue_delete('q', callback=cb), spec.Queue.Delete,
     spec.Queue.DeleteOk(3)),
    (lambda c, cb: c.basic_qos(0, 10, True, callback=cb), spec.Basic.Qos,
     spec.Basic.QosOk()),
    (lambda c, cb: c.basic_recover(True, callback=cb), spec.Basic.Recover,
     spec.Basic.RecoverOk()),
    (lambda c, cb: c.tx_select(cb), spec.Tx.Select, spec.Tx.SelectOk()),
    (lambda c, cb: c.tx_commit(cb), spec.Tx.Commit, spec.Tx.CommitOk()),
    (lambda c, cb: c.tx_rollback(cb), spec.Tx.Rollback, spec.Tx.RollbackOk()),
    (lambda c, cb: c.confirm_delivery(lambda f: None, callback=cb),
     spec.Confirm.Select, spec.Confirm.SelectOk()),
])
def test_rpc_with_callback_waits_for_reply(conn, chan, call, method_cls, reply):
    rec = Recorder()
    call(chan, rec('done'))
    method = only_method(conn)
    assert isinstance(method, method_cls)
    if hasattr(method, 'nowait'):
        assert method.nowait is False
    assert chan._blocking == method_cls.NAME
    chan.queue_declare('later', callback=rec('later'))
    assert conn.sent() == []
    conn.feed(method_bytes(1, reply))
    ((reply_frame,),) = rec.only('done')
    assert isinstance(reply_frame, frame.Method)
    assert isinstance(reply_frame.method, type(reply))
    assert only_method(conn).queue == 'later'


def test_rpc_serialisation_order_and_publish_not_blocked(conn, chan):
    rec = Recorder()
    chan.queue_declare('q1', callback=rec('d1'))
    chan.queue_declare('q2', callback=rec('d2'))
    chan.basic_publish('', 'q1', b'x')
    chan.basic_qos(prefetch_count=3, callback=rec('qos'))
    assert [type(m) for m in conn.sent_methods()
           ] == [spec.Queue.Declare, spec.Basic.Publish]
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q1', 1, 2)))
    assert only_method(conn).queue == 'q2'
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q2', 0, 0)))
    assert only_method(conn).prefetch_count == 3
    conn.feed(method_bytes(1, spec.Basic.QosOk()))
    assert rec.names() == ['d1', 'd2', 'qos']


def test_flow_callback_gets_active_flag(conn, chan):
    rec = Recorder()
    chan.add_on_flow_callback(rec('broker_flow'))
    chan.flow(False, rec('flow'))
    assert only_method(conn).active is False
    conn.feed(method_bytes(1, spec.Channel.FlowOk(False)))
    assert rec.only('flow') == [(False,)]
    conn.feed(method_bytes(1, spec.Channel.Flow(True)))
    ((flow_frame,),) = rec.only('broker_flow')
    assert flow_frame.method.active is True


def test_consume_deliver_cancel(conn, chan):
    rec = Recorder()
    tag = chan.basic_consume('q', rec('msg'), callback=rec('consume_ok'))
    assert tag.startswith('ctag1.') and len(tag) == len('ctag1.') + 32
    assert chan.consumer_tags == [tag]
    assert chan._consumers[tag] is not None
    consume = only_method(conn)
    assert (consume.queue, consume.consumer_tag, consume.no_ack,
            consume.nowait) == ('q', tag, False, False)
    with pytest.raises(exceptions.DuplicateConsumerTag):
        chan.basic_consume('q', rec('msg'), consumer_tag=tag)
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    assert rec.only('consume_ok')[0][0].method.consumer_tag == tag
    props = spec.BasicProperties(content_type='text/plain', headers={'a': 1})
    conn.feed(
        content_bytes(1, spec.Basic.Deliver(tag, 1, False, 'ex', 'rk'),
                      b'hello', props))
    ((ch, method, properties, body),) = rec.only('msg')
    assert ch is chan
    assert isinstance(method, spec.Basic.Deliver)
    assert method.delivery_tag == 1 and method.routing_key == 'rk'
    assert properties.content_type == 'text/plain'
    assert properties.headers == {'a': 1}
    assert body == b'hello' and type(body) is bytes

    chan.basic_cancel(tag, rec('cancel_ok'))
    cancel = only_method(conn)
    assert cancel.consumer_tag == tag and cancel.nowait is False
    # deliveries racing the cancel go back to the queue
    conn.feed(
        content_bytes(1, spec.Basic.Deliver(tag, 2, False, 'ex', 'rk'), b'x'))
    reject = only_method(conn)
    assert isinstance(reject, spec.Basic.Reject)
    assert (reject.delivery_tag, reject.requeue) == (2, True)
    conn.feed(method_bytes(1, spec.Basic.CancelOk(tag)))
    assert len(rec.only('cancel_ok')) == 1
    assert chan.consumer_tags == []


def test_cancel_without_callback_uses_nowait(conn, chan):
    tag = chan.basic_consume('q', lambda *a: None, consumer_tag='mine')
    assert tag == 'mine'
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    conn.sent()
    chan.basic_cancel(tag)
    cancel = only_method(conn)
    assert cancel.nowait is True
    assert chan.consumer_tags == []
    chan.basic_cancel('unknown')
    assert conn.sent() == []


def test_broker_cancels_consumer(conn, chan):
    rec = Recorder()
    chan.add_on_cancel_callback(rec('cancelled'))
    tag = chan.basic_consume('q', rec('msg'))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    conn.sent()
    conn.feed(method_bytes(1, spec.Basic.Cancel(tag, nowait=True)))
    ((cancel_frame,),) = rec.only('cancelled')
    assert isinstance(cancel_frame, frame.Method)
    assert cancel_frame.method.consumer_tag == tag
    assert chan.consumer_tags == []
    assert conn.sent() == []


def test_delivery_split_across_reads(conn, chan):
    rec = Recorder()
    tag = chan.basic_consume('q', rec('msg'))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    body = bytes(range(256)) * 2000
    data = b''.join(
        content_bytes(1, spec.Basic.Deliver(tag, n, False, '', 'q'), body)
        for n in (1, 2, 3))
    for start in range(0, len(data), 7777):
        conn.feed(data[start:start + 7777])
    assert [call[1].delivery_tag for call in rec.only('msg')] == [1, 2, 3]
    assert all(call[3] == body for call in rec.only('msg'))


def test_delivery_with_empty_body(conn, chan):
    rec = Recorder()
    tag = chan.basic_consume('q', rec('msg'))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    conn.feed(content_bytes(1, spec.Basic.Deliver(tag, 1, False, '', 'q'), b''))
    assert rec.only('msg')[0][3] == b''


def test_basic_get_ok_and_empty(conn, chan):
    rec = Recorder()
    chan.basic_get('q', rec('get'))
    with pytest.raises(exceptions.DuplicateGetOkCallback):
        chan.basic_get('q', rec('get2'))
    get = only_method(conn)
    assert (get.queue, get.no_ack) == ('q', False)
    assert chan._blocking is None
    chan.add_callback(rec('empty'), [spec.Basic.GetEmpty])
    conn.feed(method_bytes(1, spec.Basic.GetEmpty()))
    assert rec.names() == ['empty']
    chan.basic_get('q', rec('get'), auto_ack=True)
    conn.feed(
        content_bytes(1, spec.Basic.GetOk(1, False, 'ex', 'rk', 3), b'body'))
    ((ch, method, props, body),) = rec.only('get')
    assert ch is chan and isinstance(method, spec.Basic.GetOk)
    assert method.message_count == 3 and body == b'body'
    assert isinstance(props, spec.BasicProperties)


def test_return_callback(conn, chan):
    rec = Recorder()
    chan.add_on_return_callback(rec('returned'))
    chan.basic_publish('ex', 'nowhere', 'text', mandatory=True)
    publish = conn.sent()[0].method
    assert publish.mandatory is True
    conn.feed(
        content_bytes(1, spec.Basic.Return(312, 'NO_ROUTE', 'ex', 'nowhere'),
                      b'text'))
    ((ch, method, props, body),) = rec.only('returned')
    assert ch is chan and method.reply_code == 312 and body == b'text'


def test_publish_frames_one_write(conn, chan):
    props = spec.BasicProperties(content_type='application/json',
                                 delivery_mode=2)
    chan.basic_publish('ex', 'rk', b'{}', props)
    assert len(conn.written) == 1
    method_frame, header, body = conn.sent()
    assert (method_frame.method.exchange,
            method_frame.method.routing_key) == ('ex', 'rk')
    assert header.body_size == 2
    assert header.properties.content_type == 'application/json'
    assert header.properties.delivery_mode == 2
    assert body.fragment == b'{}'


def test_publish_str_body_is_utf8(conn, chan):
    chan.basic_publish('', 'q', 'é')
    assert conn.sent()[2].fragment == 'é'.encode()


def test_confirm_ack_nack_callback(conn, chan):
    rec = Recorder()
    chan.confirm_delivery(rec('acknack'), callback=rec('select_ok'))
    conn.feed(method_bytes(1, spec.Confirm.SelectOk()))
    conn.feed(method_bytes(1, spec.Basic.Ack(1, False)))
    conn.feed(method_bytes(1, spec.Basic.Nack(2, True, False)))
    frames = [c[0] for c in rec.only('acknack')]
    assert isinstance(frames[0].method, spec.Basic.Ack)
    assert isinstance(frames[1].method, spec.Basic.Nack)
    assert frames[1].method.multiple is True


def test_confirm_requires_broker_support():
    from engine_fake import make_connection, start_bytes, OPEN_OK
    conn = make_connection()
    conn._on_stream_connected()
    conn.feed(start_bytes(capabilities={}))
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    chan = open_channel(conn)
    with pytest.raises(exceptions.MethodNotImplemented):
        chan.confirm_delivery(lambda f: None)


def test_client_close_cancels_consumers_after_pending_rpc(conn, chan):
    rec = conn.rec
    tag = chan.basic_consume('q', rec('msg'))
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    chan.queue_declare('q', callback=rec('declared'))
    conn.sent()
    chan.close()
    assert conn.sent() == []
    conn.feed(content_bytes(1, spec.Basic.Deliver(tag, 1, False, '', 'q'),
                            b'x'))
    assert rec.only('msg') == []
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q', 0, 0)))
    assert len(rec.only('declared')) == 1
    cancel, close = conn.sent_methods()
    assert (cancel.consumer_tag, cancel.nowait) == (tag, True)
    assert (close.reply_code, close.reply_text) == (0, 'Normal shutdown')
    conn.feed(method_bytes(1, spec.Channel.CloseOk()))
    ((ch, reason),) = rec.only('channel_close')
    assert ch is chan
    assert type(reason) is exceptions.ChannelClosedByClient
    assert reason.args == (0, 'Normal shutdown')
    assert chan.is_closed and chan.consumer_tags == []
    assert 1 not in conn._channels


def test_close_while_opening_waits_for_open_ok(conn):
    rec = Recorder()
    chan = conn.channel(on_open_callback=rec('open'))
    chan.add_on_close_callback(rec('close'))
    conn.sent()
    chan.close(5, 'early')
    assert conn.sent() == []
    conn.feed(method_bytes(1, spec.Channel.OpenOk()))
    assert rec.only('open') == []
    close = only_method(conn)
    assert (close.reply_code, close.reply_text) == (5, 'early')
    conn.feed(method_bytes(1, spec.Channel.CloseOk()))
    assert rec.only('close')[0][1].args == (5, 'early')


def test_broker_closes_channel(conn, chan):
    rec = conn.rec
    chan.basic_consume('q', rec('msg'))
    chan.queue_declare('q', callback=rec('declared'))
    conn.sent()
    conn.feed(method_bytes(1, spec.Channel.Close(404, 'NOT_FOUND', 50, 10)))
    assert isinstance(only_method(conn), spec.Channel.CloseOk)
    ((ch, reason),) = rec.only('channel_close')
    assert type(reason) is exceptions.ChannelClosedByBroker
    assert reason.args == (404, 'NOT_FOUND')
    assert chan.is_closed and conn._channels == {}
    assert rec.only('declared') == []
    with pytest.raises(exceptions.ChannelWrongStateError):
        chan.basic_publish('', 'q', b'')
    assert conn.is_open


def test_argument_checks_before_sending(conn, chan):
    cb = lambda *a: None  # noqa: E731
    cases = [
        (lambda: chan.basic_consume(1, cb), TypeError,
         'queue must be a str or unicode str, but got 1'),
        (lambda: chan.basic_consume('q', 1), TypeError,
         'callback callback must be callable, but got 1'),
        (lambda: chan.basic_consume('q', cb, callback=1), TypeError,
         'completion callback must be callable if not None'),
        (lambda: chan.basic_cancel(1), TypeError,
         'consumer_tag must be a str or unicode str, but got 1'),
        (lambda: chan.basic_get('q', None), TypeError,
         'callback callback must be callable, but got None'),
        (lambda: chan.basic_qos(-1), ValueError,
         'prefetch_size must be >= 0, but got -1'),
        (lambda: chan.basic_qos(0, -1), ValueError,
         'prefetch_count must be >= 0, but got -1'),
        (lambda: chan.basic_reject('x'), TypeError,
         'delivery_tag must be an integer'),
        (lambda: chan.basic_ack('x'), TypeError, 'delivery_tag'),
        (lambda: chan.basic_publish(1, 'r', b''), TypeError, 'exchange'),
        (lambda: chan.basic_publish('', 1, b''), TypeError, 'routing_key'),
        (lambda: chan.basic_publish('', 'r', None), TypeError, 'body'),
        (lambda: chan.basic_publish('', 'r', b'', properties=1), TypeError,
         'properties'),
        (lambda: chan.confirm_delivery(1), ValueError,
         'confirm_delivery requires a callback'),
        (lambda: chan.exchange_declare(1), TypeError,
         'exchange must be a str or unicode str, but got 1'),
        (lambda: chan.exchange_declare('e', 1), TypeError, 'exchange_type'),
        (lambda: chan.exchange_bind(1, 's'), TypeError,
         'destination must be a str or unicode str, but got 1'),
        (lambda: chan.exchange_bind('d', 1), TypeError,
         'source must be a str or unicode str, but got 1'),
        (lambda: chan.queue_declare(None), TypeError,
         'queue must be a str or unicode str, but got None'),
        (lambda: chan.queue_bind('q', 1), TypeError,
         'exchange must be a str or unicode str, but got 1'),
        (lambda: chan.queue_declare('q', arguments=1), TypeError, 'arguments'),
        (lambda: chan.tx_select(1), TypeError,
         'completion callback must be callable if not None'),
        (lambda: chan.flow(True, 1), TypeError,
         'completion callback must be callable if not None'),
        (lambda: chan.close('x'), ValueError, 'invalid literal'),
        (lambda: chan.add_on_close_callback(1), TypeError, 'callable'),
        (lambda: chan.add_callback(cb, 1), TypeError, 'replies'),
    ]
    for call, exc, text in cases:
        with pytest.raises(exc) as info:
            call()
        assert text in str(info.value)
    assert conn.sent() == []
    assert chan.is_open


def test_add_callback_one_shot_and_persistent(conn, chan):
    rec = Recorder()
    chan.add_callback(rec('once'), [spec.Basic.QosOk])
    chan.add_callback(rec('always'), [spec.Basic.QosOk], one_shot=False)
    for _ in range(2):
        chan.basic_qos(prefetch_count=1)
        conn.feed(method_bytes(1, spec.Basic.QosOk()))
    assert rec.names() == ['once', 'always', 'always']


def test_protocol_errors_on_channel_close_connection(conn, chan):
    conn.feed(frame.Header(1, 5, spec.BasicProperties()).marshal())
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert 'UnexpectedFrameError' in error.args[0]
    assert conn.rec.only('channel_close') == [(chan, error)]


def test_body_too_long_closes_connection(conn, chan):
    tag = chan.basic_consume('q', lambda *a: None)
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    conn.feed(
        method_bytes(1, spec.Basic.Deliver(tag, 1, False, '', 'q')) +
        frame.Header(1, 2, spec.BasicProperties()).marshal() +
        frame.Body(1, b'abc').marshal())
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert 'BodyTooLongError' in error.args[0]


def test_consumer_callback_exception_aborts_connection(conn, chan):
    seen = []

    def on_message(ch, method, props, body):
        seen.append(method.delivery_tag)
        if method.delivery_tag == 1:
            raise RuntimeError('user bug')

    tag = chan.basic_consume('q', on_message)
    conn.feed(method_bytes(1, spec.Basic.ConsumeOk(tag)))
    data = b''.join(
        content_bytes(1, spec.Basic.Deliver(tag, n, False, '', 'q'), b'x')
        for n in (1, 2))
    conn.feed(data)
    assert seen == [1]
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert 'user bug' in error.args[0]
    assert conn.rec.only('channel_close') == [(chan, error)]


def test_content_frame_assembler():
    assembler = channel_mod.ContentFrameAssembler()
    method_frame = frame.Method(1, spec.Basic.Deliver('t', 1, False, '', 'q'))
    assert assembler.process(method_frame) is None
    header = frame.Header(1, 6, spec.BasicProperties())
    assert assembler.process(header) is None
    assert assembler.process(frame.Body(1, b'abc')) is None
    result = assembler.process(frame.Body(1, b'def'))
    assert result == (method_frame, header, b'abcdef')
    with pytest.raises(exceptions.UnexpectedFrameError):
        assembler.process(frame.Body(1, b'x'))
    assembler = channel_mod.ContentFrameAssembler()
    assembler.process(method_frame)
    assembler.process(frame.Header(1, 1, spec.BasicProperties()))
    with pytest.raises(exceptions.BodyTooLongError):
        assembler.process(frame.Body(1, b'xy'))


def test_max_channels_constant():
    assert channel_mod.MAX_CHANNELS == 65535


@pytest.mark.parametrize('call,method', [
    (lambda c: c.basic_ack(7), spec.Basic.Ack(7, False)),
    (lambda c: c.basic_ack(2**64 - 1, True), spec.Basic.Ack(2**64 - 1, True)),
    (lambda c: c.basic_nack(7), spec.Basic.Nack(7, False, True)),
    (lambda c: c.basic_nack(8, True, False), spec.Basic.Nack(8, True, False)),
    (lambda c: c.basic_nack(0, True, True), spec.Basic.Nack(0, True, True)),
    (lambda c: c.basic_reject(9), spec.Basic.Reject(9, True)),
    (lambda c: c.basic_reject(9, False), spec.Basic.Reject(9, False)),
])
def test_ack_fast_path_bytes_match_codec(conn, chan, call, method):
    call(chan)
    assert conn.written == [frame.Method(1, method).marshal()]


def test_ack_delivery_tag_range(conn, chan):
    with pytest.raises(ValueError):
        chan.basic_ack(-1)
    with pytest.raises(ValueError):
        chan.basic_nack(2**64)
    with pytest.raises(TypeError):
        chan.basic_ack(True)
    assert conn.written == []


@pytest.mark.parametrize('data', [
    frame.Body(1, b'x').marshal(),
    method_bytes(1, spec.Basic.Deliver('t', 1, False, '', 'q')) +
    frame.Header(1, 5, spec.BasicProperties()).marshal() * 2,
    method_bytes(1, spec.Basic.Deliver('t', 1, False, '', 'q')) +
    method_bytes(1, spec.Basic.QosOk()),
])
def test_out_of_order_content_frames_close_connection(conn, chan, data):
    conn.feed(data)
    conn.terminated()
    ((_, error),) = conn.rec.only('close')
    assert type(error) is exceptions.StreamLostError
    assert 'UnexpectedFrameError' in error.args[0]


def test_delivery_for_unknown_consumer_is_dropped(conn, chan):
    conn.feed(
        content_bytes(1, spec.Basic.Deliver('nobody', 1, False, '', 'q'), b'x'))
    assert conn.written == []
    assert chan.is_open


def test_unsolicited_getok_and_unhandled_return_are_dropped(conn, chan):
    conn.feed(content_bytes(1, spec.Basic.GetOk(1, False, '', 'q', 0), b'x'))
    conn.feed(
        content_bytes(1, spec.Basic.Return(312, 'NO_ROUTE', '', 'q'), b'x'))
    conn.feed(method_bytes(1, spec.Queue.DeclareOk('q', 0, 0)))
    assert conn.written == []
    assert chan.is_open


def test_multi_frame_getok_and_return():
    conn = open_connection(tune=tune_bytes(0, 4096, 0))
    chan = open_channel(conn)
    rec = Recorder()
    body = bytes(range(256)) * 40
    chan.add_on_return_callback(rec('returned'))
    chan.basic_get('q', rec('get'))
    conn.feed(
        content_bytes(1,
                      spec.Basic.GetOk(1, False, '', 'q', 0),
                      body,
                      frame_max=4096))
    conn.feed(
        content_bytes(1,
                      spec.Basic.Return(312, 'NO_ROUTE', '', 'q'),
                      body,
                      frame_max=4096))
    assert rec.only('get')[0][3] == body
    assert rec.only('returned')[0][3] == body


def test_publish_accepts_bytearray_and_memoryview(conn, chan):
    chan.basic_publish('', 'q', bytearray(b'ab'))
    chan.basic_publish('', 'q', memoryview(b'cd'))
    frames = conn.sent()
    assert [f.fragment for f in frames if f.frame_type == 3] == [b'ab', b'cd']


def test_ack_nack_reject_require_open_channel(conn):
    chan = conn.channel()
    for call in (lambda: chan.basic_ack(1), lambda: chan.basic_nack(1),
                 lambda: chan.basic_reject(1)):
        with pytest.raises(exceptions.ChannelWrongStateError):
            call()


def test_add_callback_accepts_tuples_and_rejects_non_methods(conn, chan):
    rec = Recorder()
    chan.add_callback(rec('qos'), [(spec.Basic.QosOk, {})])
    chan.basic_qos(prefetch_count=1)
    conn.feed(method_bytes(1, spec.Basic.QosOk()))
    assert rec.names() == ['qos']
    with pytest.raises(TypeError):
        chan.add_callback(rec('x'), [object()])


def test_close_reply_text_must_be_str(conn, chan):
    with pytest.raises(TypeError):
        chan.close(200, 5)
    assert chan.is_open


def test_frames_for_closed_channel_object_are_ignored(conn, chan):
    conn.feed(method_bytes(1, spec.Channel.Close(404, 'x', 0, 0)))
    chan._handle_frame(frame.Method(1, spec.Basic.QosOk()))
    chan._on_close_meta(exceptions.StreamLostError('x'))
    assert len(conn.rec.only('channel_close')) == 1


def test_content_frame_assembler_process_takes_frames_as_pika_does():
    # pika 1.4's public process() keeps the latest content method and header
    # it is given, rejects a method without content and any other frame type
    method_frame = frame.Method(1, spec.Basic.Deliver('t', 1, False, '', 'q'))
    assembler = channel_mod.ContentFrameAssembler()
    early_header = frame.Header(1, 1, spec.BasicProperties())
    assert assembler.process(early_header) is None
    assert assembler._header_frame is early_header
    assembler._reset()
    assembler.process(method_frame)
    second = frame.Method(1, spec.Basic.Deliver('t', 2, False, '', 'q'))
    assert assembler.process(second) is None
    assert assembler._method_frame is second
    qos = frame.Method(1, spec.Basic.Qos())
    with pytest.raises(exceptions.UnexpectedFrameError) as caught:
        assembler.process(qos)
    assert caught.value.args == (qos,)
    with pytest.raises(exceptions.UnexpectedFrameError):
        assembler.process(frame.Heartbeat())
    empty = channel_mod.ContentFrameAssembler()
    empty.process(method_frame)
    header = frame.Header(1, 0, spec.BasicProperties())
    assert empty.process(header) == (method_frame, header, b'')
