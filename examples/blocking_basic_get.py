"""Poll a queue with basic_get.

``basic_get`` returns ``(method, properties, body)`` for one message, or
``(None, None, None)`` when the queue is empty.

Usage::

    python examples/blocking_basic_get.py [amqp://...] [--count N]
"""

import argparse
import os

import pika

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=3)
    args = parser.parse_args()

    with pika.BlockingConnection(pika.URLParameters(args.url)) as connection:
        channel = connection.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        for number in range(args.count):
            channel.basic_publish(
                '', queue, b'message %d' % number,
                pika.BasicProperties(message_id='id-%d' % number))
        while True:
            method, properties, body = channel.basic_get(queue)
            if method is None:
                print('queue is empty')
                break
            print('got %r (id %s, %d more waiting)' %
                  (body, properties.message_id, method.message_count))
            channel.basic_ack(method.delivery_tag)


if __name__ == '__main__':
    main()
