"""BlockingChannel waits for replies and publisher confirms: a reply completed
by queued loop callbacks ends the wait without a poller timeout, and a
confirmed publish raises ``NackError`` on a nack.
"""

import time

import pytest

from pika import exceptions, spec
from pika.adapters.blocking_connection import BlockingConnection
from pika.connection import ConnectionParameters

from blocking_fake import FakeImpl


@pytest.fixture
def blocking():
    connection = BlockingConnection(ConnectionParameters(),
                                    _impl_class=FakeImpl)
    yield connection
    if connection.is_open:
        connection.close()


def test_reply_completed_by_queued_callbacks_needs_no_poll_wait(blocking):
    # The fake answers on the loop's next turn, i.e. from the queued
    # callbacks run before the first poll: the wait must see it at once,
    # not after a poller timeout.
    channel = blocking.channel()
    start = time.monotonic()
    for _ in range(20):
        channel.queue_declare('q')
    channel.confirm_delivery()
    for _ in range(20):
        channel.basic_publish('', 'q', b'body')
    assert time.monotonic() - start < 1.0


def test_confirmed_publish_raises_nack_and_unroutable(blocking):
    channel = blocking.channel()
    channel.confirm_delivery()
    fake = channel._impl
    fake.confirm_script = lambda tag: [spec.Basic.Nack(tag, False, False)]
    with pytest.raises(exceptions.NackError):
        channel.basic_publish('', 'q', b'x')
    fake.confirm_script = fake.default_confirm_script
    channel.basic_publish('', 'q', b'y')
    assert channel._confirmation is None
