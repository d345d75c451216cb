"""Consume with a callback: basic_consume + start_consuming.

Publishes ``--count`` messages to a fresh exclusive queue, then consumes
them with a callback that acknowledges each one and calls
``stop_consuming()`` after the last. Ctrl-C also stops consuming cleanly.

Usage::

    python examples/blocking_consume.py [amqp://...] [--count N]
"""

import argparse
import os

import pika

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=10)
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    for number in range(args.count):
        channel.basic_publish('', queue, b'message %d' % number)

    received = []

    def on_message(chan, method, properties, body):
        """Called from start_consuming() for each delivery."""
        received.append(body)
        print('got %r (delivery tag %d)' % (body, method.delivery_tag))
        chan.basic_ack(delivery_tag=method.delivery_tag)
        if len(received) == args.count:
            chan.stop_consuming()

    channel.basic_qos(prefetch_count=5)
    channel.basic_consume(queue, on_message)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        channel.stop_consuming()
    connection.close()
    print('consumed %d messages' % len(received))


if __name__ == '__main__':
    main()
