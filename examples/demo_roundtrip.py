"""Demo: messages through a real RabbitMQ and back with BlockingConnection.

Run by ``utils/demo.sh`` (which starts the broker first), or directly::

    python examples/demo_roundtrip.py [--count N] [--size BYTES]

It connects to the broker (``PIKA_TEST_HOST``/``PIKA_TEST_PORT``, default
127.0.0.1:5672, guest/guest) and:

1. sets up a direct exchange and an exclusive queue bound to it;
2. turns on publisher confirms, publishes one message with properties and
   shows it coming back intact, and shows a mandatory message to an unbound
   routing key being returned (``UnroutableError``);
3. publishes ``--count`` messages, each confirmed by the broker, then
   consumes them back with manual acks, checking order and content;
4. repeats the round trip without confirms (fire-and-forget publishing);
5. cleans up and prints what it did and the message rates.

Exit status 0 when every message came back intact.
"""

import argparse
import os
import sys
import time
import uuid

try:
    import pika
except ImportError:  # run from a checkout without installing the project
    sys.path.insert(0,
                    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import pika

from pika import exceptions
from pika.adapters.blocking_connection import BlockingConnection

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


class DemoFailed(Exception):
    """A check of the demo did not hold."""


def _rate(count, seconds):
    return count / seconds if seconds > 0 else float('inf')


def set_up(channel, exchange):
    """Declare the exchange and an exclusive queue bound to it."""
    channel.exchange_declare(exchange, 'direct', auto_delete=True)
    queue = channel.queue_declare('demo-' + uuid.uuid4().hex,
                                  exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key='demo')
    print('Set up: direct exchange %s -> exclusive queue %s (key "demo").' %
          (exchange, queue))
    return queue


def show_single_message(channel, exchange, queue):
    """One confirmed message with properties, back intact; one returned."""
    properties = pika.BasicProperties(content_type='text/plain',
                                      headers={'demo': 'roundtrip'},
                                      message_id=uuid.uuid4().hex,
                                      delivery_mode=2)
    body = b'hello from pika ' + pika.__version__.encode()
    channel.basic_publish(exchange, 'demo', body, properties, mandatory=True)
    method, got_properties, got_body = channel.basic_get(queue, auto_ack=True)
    if (method is None or got_body != body or
            got_properties.message_id != properties.message_id or
            got_properties.headers != properties.headers):
        raise DemoFailed('the message did not come back intact: %r %r' %
                         (got_body, got_properties))
    print('Published %r (confirmed) with headers %r and got it back intact.' %
          (body, properties.headers))
    try:
        channel.basic_publish(exchange, 'nobody-listens', b'x', mandatory=True)
    except exceptions.UnroutableError as error:
        returned = error.messages[0].method
        print('A mandatory message to an unbound key came back: %d %s.' %
              (returned.reply_code, returned.reply_text))
    else:
        raise DemoFailed('the unroutable message was not returned')


def round_trip(connection, channel, exchange, queue, count, body_size,
               confirmed):
    """Publish ``count`` messages, consume them back; return the timings."""
    padding = b'.' * max(0, body_size - 16)
    started = time.perf_counter()
    for number in range(count):
        channel.basic_publish(exchange, 'demo', b'%015d|' % number + padding)
    published = time.perf_counter()

    received = 0
    for method, _properties, body in channel.consume(queue,
                                                     inactivity_timeout=10):
        if method is None:
            break
        if body[:15] != b'%015d' % received:
            raise DemoFailed('message %d came back as %r' %
                             (received, body[:40]))
        received += 1
        # one ack for a batch, as consumers with a prefetch window do
        if received % 100 == 0 or received == count:
            channel.basic_ack(method.delivery_tag, multiple=True)
        if received == count:
            break
    channel.cancel()
    consumed = time.perf_counter()
    if received != count:
        raise DemoFailed('consumed %d of %d messages' % (received, count))
    mode = 'with publisher confirms' if confirmed else 'without confirms'
    print('Round trip %s: published %d messages of %d bytes in %.3f s '
          '(%.0f msg/s), consumed them back in order in %.3f s (%.0f msg/s).' %
          (mode, count, len(padding) + 16, published - started,
           _rate(count, published - started), consumed - published,
           _rate(count, consumed - published)))
    return published - started, consumed - published


def demo(count, body_size):
    params = pika.ConnectionParameters(host=HOST, port=PORT)
    connection = BlockingConnection(params)
    print('Connected to %s:%d with pika.BlockingConnection.' % (HOST, PORT))
    try:
        confirm_channel = connection.channel()
        exchange = 'demo-x-' + uuid.uuid4().hex[:8]
        queue = set_up(confirm_channel, exchange)
        confirm_channel.confirm_delivery()
        print('Publisher confirms on: each publish waits for the broker.')
        show_single_message(confirm_channel, exchange, queue)
        round_trip(connection, confirm_channel, exchange, queue, count,
                   body_size, True)

        fast_channel = connection.channel()
        round_trip(connection, fast_channel, exchange, queue, count, body_size,
                   False)

        confirm_channel.queue_delete(queue)
        confirm_channel.exchange_delete(exchange)
        print('Cleaned up the queue and the exchange.')
    finally:
        if connection.is_open:
            connection.close()
    print('Closed the connection. Demo OK.')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count',
                        type=int,
                        default=1000,
                        help='messages per round trip (default 1000)')
    parser.add_argument('--size',
                        type=int,
                        default=64,
                        help='message body size in bytes (default 64)')
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error('--count must be at least 1')
    print('pika %s from %s' %
          (pika.__version__, os.path.dirname(pika.__file__)))
    try:
        demo(args.count, args.size)
    except (DemoFailed, exceptions.AMQPError) as error:
        print('FAILED: %s: %s' % (type(error).__name__, error))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
