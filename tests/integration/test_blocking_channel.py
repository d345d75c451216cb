"""BlockingChannel against the real broker: RPC results, publish/get,
consumers (callbacks and the consume() generator), confirms, returns,
cancellations and channel errors."""

import threading
import time

import pytest

import pika
from pika import exceptions, frame, spec
from pika.adapters.blocking_connection import ReturnedMessage

from blocking_support import connect, unique


@pytest.fixture
def conn():
    connection = connect()
    yield connection
    if connection.is_open:
        connection.close()


@pytest.fixture
def channel(conn):
    return conn.channel()


@pytest.fixture
def queue(channel):
    return channel.queue_declare('', exclusive=True).method.queue


def _method(result, cls):
    assert isinstance(result, frame.Method)
    assert isinstance(result.method, cls)
    return result.method


def _publish(channel, queue, count, prefix=b'm'):
    for i in range(count):
        channel.basic_publish('', queue, prefix + str(i).encode())


def _message_count(conn, queue):
    with conn.channel() as probe:
        return probe.queue_declare(queue, passive=True).method.message_count


def test_rpc_results(channel, queue):
    declare_ok = _method(channel.queue_declare(queue, passive=True),
                         spec.Queue.DeclareOk)
    assert declare_ok.queue == queue and declare_ok.message_count == 0
    exchange = unique('x')
    other = unique('x')
    _method(channel.exchange_declare(exchange, 'fanout'),
            spec.Exchange.DeclareOk)
    _method(channel.exchange_declare(other), spec.Exchange.DeclareOk)
    _method(channel.exchange_bind(other, exchange, 'rk'), spec.Exchange.BindOk)
    _method(channel.exchange_unbind(other, exchange, 'rk'),
            spec.Exchange.UnbindOk)
    _method(channel.queue_bind(queue, exchange), spec.Queue.BindOk)
    channel.basic_publish(exchange, 'any', b'via fanout')
    purge_ok = _method(channel.queue_purge(queue), spec.Queue.PurgeOk)
    assert purge_ok.message_count == 1
    _method(channel.queue_unbind(queue, exchange), spec.Queue.UnbindOk)
    _method(channel.exchange_delete(other), spec.Exchange.DeleteOk)
    _method(channel.exchange_delete(exchange), spec.Exchange.DeleteOk)
    assert channel.basic_qos(prefetch_count=10) is None
    assert channel.basic_recover(requeue=True) is None
    assert channel.flow(True) is True
    _method(channel.tx_select(), spec.Tx.SelectOk)
    _method(channel.tx_commit(), spec.Tx.CommitOk)
    _method(channel.tx_rollback(), spec.Tx.RollbackOk)
    temp = channel.queue_declare(unique('q'), auto_delete=True).method.queue
    delete_ok = _method(channel.queue_delete(temp), spec.Queue.DeleteOk)
    assert delete_ok.message_count == 0


def test_publish_and_basic_get(channel, queue):
    props = pika.BasicProperties(content_type='text/plain',
                                 headers={'k': 'v'},
                                 delivery_mode=2)
    assert channel.basic_publish('', queue, b'hello', props) is None
    channel.basic_publish('', queue, 'text is utf-8 encoded \u00e9')
    method, properties, body = channel.basic_get(queue)
    assert isinstance(method, spec.Basic.GetOk)
    assert method.message_count == 1 and method.routing_key == queue
    assert properties.content_type == 'text/plain'
    assert properties.headers == {'k': 'v'}
    assert body == b'hello'
    channel.basic_ack(method.delivery_tag)
    method, _, body = channel.basic_get(queue, auto_ack=True)
    assert body == 'text is utf-8 encoded \u00e9'.encode()
    assert channel.basic_get(queue) == (None, None, None)
    assert channel.basic_get(queue) == (None, None, None)
    with pytest.raises(TypeError):
        channel.basic_get(5)


def test_large_message_round_trip(channel, queue):
    body = bytes(range(256)) * 4096  # 1 MiB, many body frames
    channel.basic_publish('', queue, body)
    _, _, received = channel.basic_get(queue, auto_ack=True)
    assert received == body


def test_start_and_stop_consuming_from_callback(channel, queue):
    _publish(channel, queue, 5)
    received = []

    def on_message(ch, method, properties, body):
        assert ch is channel
        assert isinstance(method, spec.Basic.Deliver)
        assert isinstance(properties, spec.BasicProperties)
        received.append(body)
        ch.basic_ack(method.delivery_tag)
        if len(received) == 5:
            ch.stop_consuming()

    tag = channel.basic_consume(queue, on_message)
    assert tag.startswith('ctag1.')
    assert channel.consumer_tags == [tag]
    channel.start_consuming()
    assert received == [b'm%d' % i for i in range(5)]
    assert channel.consumer_tags == [] and channel._consumer_infos == {}
    # no consumers: returns at once
    channel.start_consuming()


def test_stop_consuming_from_another_thread(conn, channel, queue):
    channel.basic_consume(queue, lambda *args: None, consumer_tag='mine')
    timer = threading.Timer(
        0.2, lambda: conn.add_callback_threadsafe(channel.stop_consuming))
    timer.start()
    start = time.monotonic()
    channel.start_consuming()
    timer.join()
    assert 0.15 < time.monotonic() - start < 2
    assert channel.consumer_tags == []


def test_stop_consuming_one_tag(channel, queue):
    channel.basic_consume(queue, lambda *args: None, consumer_tag='a')
    channel.basic_consume(queue, lambda *args: None, consumer_tag='b')
    channel.stop_consuming('a')
    assert channel.consumer_tags == ['b']
    channel.stop_consuming()
    assert channel.consumer_tags == []


def test_duplicate_consumer_tag(channel, queue):
    channel.basic_consume(queue, print, consumer_tag='dup')
    with pytest.raises(exceptions.DuplicateConsumerTag):
        channel.basic_consume(queue, print, consumer_tag='dup')
    assert channel.is_open and channel.consumer_tags == ['dup']


def test_basic_consume_argument_checks(channel, queue):
    with pytest.raises(TypeError):
        channel.basic_consume(queue, 1)
    with pytest.raises(TypeError):
        channel.basic_consume(1, print)
    assert channel.consumer_tags == []


def test_basic_cancel_manual_ack_requeues_undispatched(conn, channel, queue):
    _publish(channel, queue, 4)
    delivered = []
    tag = channel.basic_consume(queue, lambda *args: delivered.append(args))
    channel.queue_declare(queue, passive=True)  # deliveries queued
    channel.queue_declare(queue, passive=True)
    assert len(channel._pending_events) == 4
    assert repr(channel._pending_events[0]).startswith(
        '<_ConsumerDeliveryEvt method=<Basic.Deliver')
    assert channel.basic_cancel(tag) == []
    assert delivered == [] and len(channel._pending_events) == 0
    assert _message_count(conn, queue) == 4
    assert channel.basic_cancel('unknown') == []


def test_basic_cancel_auto_ack_returns_undispatched(conn, channel, queue):
    _publish(channel, queue, 3)
    tag = channel.basic_consume(queue, lambda *args: None, auto_ack=True)
    channel.queue_declare(queue, passive=True)
    channel.queue_declare(queue, passive=True)
    returned = channel.basic_cancel(tag)
    assert [body for _, _, body in returned] == [b'm0', b'm1', b'm2']
    assert all(isinstance(m, spec.Basic.Deliver) for m, _, _ in returned)
    assert _message_count(conn, queue) == 0


def test_consume_generator(channel, queue):
    _publish(channel, queue, 3)
    assert channel._queue_consumer_generator is None
    generator = channel.consume(queue, inactivity_timeout=0.3)
    method, properties, body = next(generator)
    assert body == b'm0' and isinstance(method, spec.Basic.Deliver)
    info = channel._queue_consumer_generator
    assert info is not None and info.params == (queue, False, False)
    assert method.consumer_tag == info.consumer_tag
    assert channel.consumer_tags == [info.consumer_tag]
    channel.basic_ack(method.delivery_tag)
    for expected in (b'm1', b'm2'):
        method, _, body = next(generator)
        assert body == expected
        channel.basic_ack(method.delivery_tag)
    start = time.monotonic()
    assert next(generator) == (None, None, None)
    assert 0.25 < time.monotonic() - start < 2
    assert channel.get_waiting_message_count() == 0
    assert channel.cancel() == 0
    assert channel._queue_consumer_generator is None
    assert channel.consumer_tags == []
    with pytest.raises(StopIteration):
        next(generator)
    assert channel.cancel() == 0


def test_consume_generator_waiting_count_and_requeue(conn, channel, queue):
    _publish(channel, queue, 3)
    generator = channel.consume(queue, consumer_tag='gen-tag')
    method, _, body = next(generator)
    assert body == b'm0' and method.consumer_tag == 'gen-tag'
    channel.queue_declare(queue, passive=True)
    channel.queue_declare(queue, passive=True)
    assert channel.get_waiting_message_count() == 2
    assert len(channel._queue_consumer_generator.pending_events) == 2
    # the two waiting ones are rejected with requeue by cancel() and counted;
    # the unacked yielded one goes back when the channel closes
    assert channel.cancel() == 2
    channel.close()
    assert _message_count(conn, queue) == 3


def test_consume_generator_rejects_other_params(channel, queue):
    generator = channel.consume(queue, inactivity_timeout=0.05)
    assert next(generator) == (None, None, None)
    other = channel.consume(queue, auto_ack=True)
    with pytest.raises(ValueError) as info:
        next(other)
    assert 'Consume with different params not allowed' in str(info.value)
    same = channel.consume(queue, inactivity_timeout=0.05)
    assert next(same) == (None, None, None)
    channel.cancel()


def test_consume_generator_dispatches_timers(conn, channel, queue):
    log = []
    conn.call_later(0.05, lambda: log.append('timer'))
    conn.add_callback_threadsafe(lambda: log.append('threadsafe'))
    for item in channel.consume(queue, inactivity_timeout=0.3):
        assert item == (None, None, None)
        break
    assert sorted(log) == ['threadsafe', 'timer']
    channel.cancel()


def test_consume_generator_ends_when_broker_cancels(conn, channel):
    other = conn.channel()
    queue = channel.queue_declare(unique('q')).method.queue
    channel.basic_publish('', queue, b'only')
    cancelled = []
    channel.add_on_cancel_callback(cancelled.append)
    generator = channel.consume(queue, inactivity_timeout=2)
    assert next(generator)[2] == b'only'
    other.queue_delete(queue)
    start = time.monotonic()
    with pytest.raises(StopIteration):
        next(generator)
    assert time.monotonic() - start < 1.5
    assert channel._queue_consumer_generator is None
    assert channel.consumer_tags == []
    assert cancelled == []  # as pika: generator consumers end silently


def test_broker_cancel_callback_in_order(conn, channel):
    other = conn.channel()
    queue = channel.queue_declare(unique('q')).method.queue
    log = []
    channel.add_on_cancel_callback(lambda method_frame: log.append(
        ('cancel', method_frame)))
    tag = channel.basic_consume(queue,
                                lambda ch, m, p, b: log.append(('msg', b)),
                                auto_ack=True)
    channel.basic_publish('', queue, b'before')
    channel.queue_declare(queue, passive=True)
    other.queue_delete(queue)
    channel.queue_declare('', exclusive=True)  # I/O: Basic.Cancel arrives
    assert channel.consumer_tags == [tag]
    assert [type(evt).__name__ for evt in channel._pending_events
           ] == ['_ConsumerDeliveryEvt', '_ConsumerCancellationEvt']
    assert repr(channel._pending_events[1]).startswith(
        '<_ConsumerCancellationEvt method_frame=')
    channel.start_consuming()  # returns: the only consumer is gone
    assert log[0] == ('msg', b'before')
    kind, method_frame = log[1]
    assert kind == 'cancel'
    assert isinstance(method_frame, frame.Method)
    assert isinstance(method_frame.method, spec.Basic.Cancel)
    assert method_frame.method.consumer_tag == tag
    assert channel.consumer_tags == []


def test_returns_in_order_with_deliveries(conn, channel, queue):
    log = []
    channel.add_on_return_callback(lambda ch, method, props, body: log.append(
        ('return', ch, method, body)))
    channel.basic_consume(queue,
                          lambda ch, m, p, b: log.append(('msg', b)),
                          auto_ack=True)
    channel.basic_publish('', unique('nowhere'), b'r1', mandatory=True)
    channel.basic_publish('', queue, b'm1')
    channel.basic_publish('', unique('nowhere'), b'r2', mandatory=True)
    deadline = time.monotonic() + 3
    while len(log) < 3 and time.monotonic() < deadline:
        conn.process_data_events(0.1)
    bodies = [entry[-1] for entry in log]
    assert sorted(bodies) == [b'm1', b'r1', b'r2']
    assert bodies.index(b'r1') < bodies.index(b'r2')
    returns = [entry for entry in log if entry[0] == 'return']
    assert all(entry[1] is channel for entry in returns)
    assert isinstance(returns[0][2], spec.Basic.Return)
    assert returns[0][2].reply_code == 312
    with pytest.raises(TypeError):
        channel.add_on_return_callback('x')


def test_returned_message_event_repr(channel, queue):
    channel.add_on_return_callback(lambda *args: None)
    channel.basic_publish('', unique('nowhere'), b'r', mandatory=True)
    channel.queue_declare(queue, passive=True)
    evt, = channel._pending_events
    assert repr(evt).startswith('<_ReturnedMessageEvt callback=')
    assert "body=b'r'" in repr(evt)


def test_confirm_delivery_unroutable_and_nack(conn, channel):
    assert channel.confirm_delivery() is None
    channel.confirm_delivery()  # again: no-op
    returns = []
    channel.add_on_return_callback(lambda *args: returns.append(args[3]))
    queue = channel.queue_declare('',
                                  exclusive=True,
                                  arguments={
                                      'x-max-length': 1,
                                      'x-overflow': 'reject-publish'
                                  }).method.queue
    assert channel.basic_publish('', queue, b'1', mandatory=True) is None
    with pytest.raises(exceptions.NackError) as info:
        channel.basic_publish('', queue, b'2')
    assert info.value.messages == []
    with pytest.raises(exceptions.UnroutableError) as info:
        channel.basic_publish('',
                              unique('nowhere'),
                              b'lost',
                              pika.BasicProperties(content_type='x/y'),
                              mandatory=True)
    returned, = info.value.messages
    assert isinstance(returned, ReturnedMessage)
    assert isinstance(returned.method, spec.Basic.Return)
    assert returned.method.reply_text == 'NO_ROUTE'
    assert returned.properties.content_type == 'x/y'
    assert returned.body == b'lost'
    # the return callback sees it too, later
    conn.process_data_events(0.1)
    assert returns == [b'lost']
    # non-mandatory unroutable publish is acked: no error
    channel.basic_publish('', unique('nowhere'), b'dropped')
    assert channel.is_open


def test_channel_error_raises_from_the_waiting_call(conn, channel):
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.queue_declare(unique('missing'), passive=True)
    assert info.value.reply_code == 404
    assert 'NOT_FOUND' in info.value.reply_text
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.queue_declare('x')
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.basic_publish('', 'x', b'')
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.close()
    # the connection and other channels are unaffected
    assert conn.is_open
    assert conn.channel().queue_declare('', exclusive=True)


def test_channel_error_in_start_consuming(channel, queue):
    channel.basic_consume(queue, lambda *args: None)
    channel.basic_ack(999)  # unknown delivery tag: 406 from the broker
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.start_consuming()
    assert info.value.reply_code == 406
    assert channel.consumer_tags == [] and channel._consumer_infos == {}
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.start_consuming()


def test_channel_error_in_consume_generator_and_get(conn, channel, queue):
    channel.basic_ack(999)
    with pytest.raises(exceptions.ChannelClosedByBroker):
        next(channel.consume(queue, inactivity_timeout=1))
    assert channel._queue_consumer_generator is None
    second = conn.channel()
    second.basic_ack(999)
    with pytest.raises(exceptions.ChannelClosedByBroker):
        second.basic_get(queue)
    third = conn.channel()
    third.confirm_delivery()
    third.basic_ack(999)
    with pytest.raises(exceptions.ChannelClosedByBroker):
        third.basic_publish('', queue, b'x')


def test_channel_error_from_callback_ack(channel, queue):
    _publish(channel, queue, 1)
    channel.basic_consume(queue, lambda ch, m, p, b: ch.basic_ack(999))
    with pytest.raises(exceptions.ChannelClosedByBroker):
        channel.start_consuming()


def test_exception_in_consumer_callback_propagates(channel, queue):
    _publish(channel, queue, 2)
    seen = []

    def on_message(ch, method, properties, body):
        seen.append(body)
        if body == b'm0':
            raise RuntimeError('boom')
        ch.basic_ack(method.delivery_tag)
        ch.stop_consuming()

    channel.basic_consume(queue, on_message, auto_ack=False)
    with pytest.raises(RuntimeError):
        channel.start_consuming()
    assert channel.is_open
    channel.start_consuming()  # carries on with the rest
    assert seen == [b'm0', b'm1']


def test_channel_close_and_context_manager(conn):
    with conn.channel() as channel:
        assert channel.is_open
    assert channel.is_closed
    with conn.channel() as channel:
        channel.close()  # closing inside the block is fine
    channel = conn.channel()
    assert channel.close(200, 'done') is None
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.close()


def test_explicit_channel_number(conn):
    channel = conn.channel(7)
    assert channel.channel_number == 7
    assert channel.queue_declare('', exclusive=True)


def test_publish_argument_checks(channel, queue):
    with pytest.raises(TypeError):
        channel.basic_publish(5, queue, b'')
    with pytest.raises(TypeError):
        channel.basic_publish('', queue, 5)
    with pytest.raises(TypeError):
        channel.basic_ack('x')
    assert channel.is_open


def test_async_channel_error_raised_by_next_fire_and_forget_call(channel):
    """As in pika: a publish to a missing exchange closes the channel; the
    next call that pumps I/O raises the broker's reason."""
    channel.basic_publish(unique('missing-exchange'), 'k', b'x')
    time.sleep(0.2)  # the broker's Channel.Close is on its way
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.basic_publish('', 'k', b'x')
    assert info.value.reply_code == 404
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.basic_publish('', 'k', b'x')
