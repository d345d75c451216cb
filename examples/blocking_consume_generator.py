"""Consume with the generator API: channel.consume().

Publishes ``--count`` messages, then iterates over
``channel.consume(queue, inactivity_timeout=...)``: each item is
``(method, properties, body)``, or ``(None, None, None)`` after the
inactivity timeout, which ends the loop here. ``channel.cancel()`` stops the
consumer and requeues anything not yet yielded.

Usage::

    python examples/blocking_consume_generator.py [amqp://...] [--count N]
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
    parser.add_argument('--idle',
                        type=float,
                        default=1.0,
                        help='seconds without messages before stopping')
    args = parser.parse_args()

    with pika.BlockingConnection(pika.URLParameters(args.url)) as connection:
        channel = connection.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        for number in range(args.count):
            channel.basic_publish('', queue, b'message %d' % number)

        received = 0
        for method, _properties, body in channel.consume(
                queue, inactivity_timeout=args.idle):
            if method is None:
                print('no message for %.1f s, stopping' % args.idle)
                break
            print('got %r' % body)
            channel.basic_ack(method.delivery_tag)
            received += 1
        channel.cancel()
        print('consumed %d messages' % received)


if __name__ == '__main__':
    main()
