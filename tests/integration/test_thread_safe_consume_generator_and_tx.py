"""Thread-safe connection: the consume() generator (inactivity timeout,
cancel() requeueing what it holds, closing), start_consuming() until
stop_consuming() from another thread, transactions and flow, against the
real broker."""

import threading
import time

import pytest

import pika
from pika import exceptions, spec
from blocking_support import params, unique


def _queue_with(chan, count):
    queue = unique('ts-gen')
    chan.queue_declare(queue, auto_delete=False)
    for number in range(count):
        chan.basic_publish('', queue, b'm%d' % number)
    return queue


def test_consume_generator_yields_in_order_and_cancel_requeues_the_rest():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        chan.basic_qos(prefetch_count=10)
        queue = _queue_with(chan, 10)
        bodies = []
        for method, properties, body in chan.consume(queue):
            assert isinstance(method, spec.Basic.Deliver)
            assert isinstance(properties, spec.BasicProperties)
            bodies.append(body)
            chan.basic_ack(method.delivery_tag)
            if len(bodies) == 3:
                break
        assert bodies == [b'm0', b'm1', b'm2']
        assert len(chan.consumer_tags) == 1
        # same arguments: the same consumer continues
        method, _props, body = next(chan.consume(queue))
        assert body == b'm3'
        chan.basic_ack(method.delivery_tag)
        with pytest.raises(ValueError, match='other arguments'):
            chan.consume(queue, auto_ack=True)
        deadline_count = 0
        while chan.get_waiting_message_count() < 6 and deadline_count < 100:
            time.sleep(0.05)
            deadline_count += 1
        assert chan.get_waiting_message_count() == 6
        assert chan.cancel() == 6
        assert chan.consumer_tags == []
        assert chan.cancel() == 0
        # the requeued messages are back, in order
        method, _props, body = chan.basic_get(queue, auto_ack=True)
        assert body == b'm4' and method.message_count == 5
        chan.queue_delete(queue)


def test_consume_inactivity_timeout_yields_none_triples_and_ends_on_cancel():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = _queue_with(chan, 1)
        items = []
        for item in chan.consume(queue, auto_ack=True, inactivity_timeout=0.1):
            items.append(item)
            if item == (None, None, None):
                break
        assert items[0][2] == b'm0' and items[-1] == (None, None, None)
        generator = chan.consume(queue, auto_ack=True, inactivity_timeout=5)
        canceller = threading.Timer(0.3, chan.cancel)
        canceller.start()
        assert list(generator) == []  # ends when cancelled
        canceller.join()
        with pytest.raises(ValueError, match='inactivity_timeout'):
            chan.consume(queue, inactivity_timeout=-1)
        chan.queue_delete(queue)


def test_consume_generator_raises_the_error_that_closes_the_channel():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = _queue_with(chan, 0)
        generator = chan.consume(queue)
        other = conn.channel()
        threading.Timer(0.3, other.queue_delete, args=(queue,)).start()
        # the broker cancels the consumer of a deleted queue: the generator
        # ends
        assert list(generator) == []
        chan.close()
        queue = _queue_with(other, 0)
        generator = other.consume(queue)
        threading.Timer(0.3,
                        other.basic_publish,
                        args=('', queue, b'x', pika.BasicProperties(),
                              False)).start()
        method, _props, _body = next(generator)
        other.basic_ack(method.delivery_tag + 100)  # unknown tag: 406
        with pytest.raises(exceptions.ChannelClosedByBroker) as caught:
            next(generator)
        assert caught.value.reply_code == 406
    with pika.Connection(params()) as conn:
        conn.channel().queue_delete(queue)


def test_start_consuming_returns_when_another_thread_stops_consuming():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = _queue_with(chan, 5)
        got = []
        five = threading.Event()

        def on_message(channel, method, _properties, body):
            got.append(body)
            channel.basic_ack(method.delivery_tag)
            if len(got) == 5:
                five.set()

        chan.basic_consume(queue, on_message)
        chan.basic_consume(queue, on_message)
        assert len(chan.consumer_tags) == 2

        def stop():
            five.wait(10)
            chan.stop_consuming()

        stopper = threading.Thread(target=stop)
        stopper.start()
        chan.start_consuming()
        stopper.join()
        assert sorted(got) == [b'm%d' % n for n in range(5)]
        assert chan.consumer_tags == []
        chan.queue_delete(queue)
        chan.close()
        with pytest.raises(exceptions.ChannelWrongStateError):
            chan.start_consuming()


def test_transactions_and_flow_return_the_broker_replies():
    with pika.Connection(params()) as conn:
        chan = conn.channel()
        queue = unique('ts-tx')
        chan.queue_declare(queue, auto_delete=True)
        assert isinstance(chan.tx_select().method, spec.Tx.SelectOk)
        chan.basic_publish('', queue, b'rolled back')
        assert isinstance(chan.tx_rollback().method, spec.Tx.RollbackOk)
        chan.basic_publish('', queue, b'committed')
        assert isinstance(chan.tx_commit().method, spec.Tx.CommitOk)
        assert chan.basic_get(queue, auto_ack=True)[2] == b'committed'
        assert chan.basic_get(queue) == (None, None, None)
        other = conn.channel()
        assert other.flow(True) is True
        chan.queue_delete(queue)
