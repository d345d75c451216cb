"""Publish messages with BlockingConnection.

Declares a durable queue, publishes ``--count`` persistent messages to it
through the default exchange, reports how long it took and deletes the queue
again unless ``--keep`` is given.

Usage::

    python examples/blocking_publish.py [amqp://guest:guest@localhost:5672/%2F]
        [--count N] [--queue NAME] [--keep]
"""

import argparse
import os
import time
import uuid

import pika
from pika.delivery_mode import DeliveryMode

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--queue',
                        default='blocking-publish-' + uuid.uuid4().hex[:8])
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args()

    with pika.BlockingConnection(pika.URLParameters(args.url)) as connection:
        channel = connection.channel()
        channel.queue_declare(args.queue, durable=True)
        properties = pika.BasicProperties(content_type='text/plain',
                                          delivery_mode=DeliveryMode.Persistent)
        started = time.perf_counter()
        for number in range(args.count):
            channel.basic_publish(exchange='',
                                  routing_key=args.queue,
                                  body=b'message %d' % number,
                                  properties=properties)
        elapsed = time.perf_counter() - started
        print(
            'published %d messages to %s in %.3f s (%.0f msg/s)' %
            (args.count, args.queue, elapsed, args.count / max(elapsed, 1e-9)))
        if not args.keep:
            channel.queue_delete(args.queue)


if __name__ == '__main__':
    main()
