"""Round trips of BlockingChannel against RabbitMQ: basic_get and publish
with confirms keep their results, order and errors on the fast paths
(reused Basic.Get frame, one-check waits, one-call loop iterations).
"""

import os
import threading
import time
import uuid
from typing import Any, Iterator

import pytest

import pika
from pika import exceptions, spec

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def _name(prefix: str = 'roundtrip') -> str:
    return '%s-%s' % (prefix, uuid.uuid4().hex)


@pytest.fixture
def conn() -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(pika.ConnectionParameters(HOST, PORT))
    yield connection
    if connection.is_open:
        connection.close()


def _queue(channel: Any) -> str:
    return channel.queue_declare('', exclusive=True).method.queue


def test_basic_get_sequence_and_switching_queues(conn: Any) -> None:
    channel = conn.channel()
    first, second = _queue(channel), _queue(channel)
    for index in range(50):
        channel.basic_publish('', first, b'a%d' % index)
        channel.basic_publish('', second, b'b%d' % index)
    bodies = []
    for index in range(50):
        # alternating queues and ack modes: each Get carries its own queue
        method, properties, body = channel.basic_get(first, auto_ack=True)
        assert isinstance(method, spec.Basic.GetOk)
        assert isinstance(properties, spec.BasicProperties)
        bodies.append(body)
        method, _, body = channel.basic_get(second, auto_ack=index % 2 == 0)
        assert body == b'b%d' % index
        if index % 2:
            channel.basic_ack(method.delivery_tag)
    assert bodies == [b'a%d' % index for index in range(50)]
    assert channel.basic_get(first) == (None, None, None)
    assert channel.basic_get(second, auto_ack=True) == (None, None, None)
    assert channel.queue_declare(second, passive=True).method.message_count \
        == 0


def test_basic_get_missing_queue_closes_the_channel(conn: Any) -> None:
    channel = conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.basic_get(_name('missing'))
    assert info.value.reply_code == 404
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.basic_get('any')
    # the connection and its other channels carry on
    other = conn.channel()
    queue = _queue(other)
    other.basic_publish('', queue, b'still here')
    assert other.basic_get(queue, auto_ack=True)[2] == b'still here'


def test_basic_get_argument_errors_send_nothing(conn: Any) -> None:
    channel = conn.channel()
    queue = _queue(channel)
    with pytest.raises(TypeError):
        channel.basic_get(b'bytes-queue')  # type: ignore[arg-type]
    channel.basic_publish('', queue, b'x')
    assert channel.basic_get(queue, auto_ack=True)[2] == b'x'
    with pytest.raises(exceptions.ShortStringTooLong):
        channel.basic_get('q' * 256)
    # As pika 1.4.4 (observed): the failed get stays registered, so the
    # channel's next basic_get raises DuplicateGetOkCallback; the channel
    # itself stays open.
    with pytest.raises(exceptions.DuplicateGetOkCallback):
        channel.basic_get(queue)
    assert channel.is_open


def test_confirmed_publishes_and_their_errors(conn: Any) -> None:
    channel = conn.channel()
    queue = _queue(channel)
    channel.confirm_delivery()
    for index in range(100):
        channel.basic_publish('', queue, b'%d' % index)
    assert channel.queue_declare(queue, passive=True).method.message_count \
        == 100
    with pytest.raises(exceptions.UnroutableError) as info:
        channel.basic_publish('', _name('nowhere'), b'lost', mandatory=True)
    assert info.value.messages[0].body == b'lost'
    channel.basic_publish('', queue, b'after')
    with pytest.raises(exceptions.ChannelClosedByBroker) as closed:
        channel.basic_publish(_name('no-exchange'), 'rk', b'x')
    assert closed.value.reply_code == 404
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.basic_publish('', queue, b'closed')


def test_threadsafe_callback_wakes_a_waiting_connection(conn: Any) -> None:
    channel = conn.channel()
    queue = _queue(channel)
    calls = []

    def other_thread() -> None:
        time.sleep(0.05)
        conn.add_callback_threadsafe(lambda: calls.append('called'))

    thread = threading.Thread(target=other_thread)
    thread.start()
    start = time.monotonic()
    while not calls and time.monotonic() - start < 3:
        conn.process_data_events(time_limit=2)
    thread.join()
    assert calls == ['called']
    assert time.monotonic() - start < 1.5
    # and round trips keep working afterwards
    channel.basic_publish('', queue, b'z')
    assert channel.basic_get(queue, auto_ack=True)[2] == b'z'
