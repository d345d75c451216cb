"""Publisher confirms with mandatory routing.

After ``channel.confirm_delivery()`` every ``basic_publish`` waits for the
broker's confirmation and raises:

* ``pika.exceptions.UnroutableError`` when the message was published with
  ``mandatory=True`` and no queue was bound to take it (the broker returned
  it; ``error.messages`` holds the returned messages);
* ``pika.exceptions.NackError`` when the broker refused it (here: a queue
  limited to 2 messages that rejects further publishes).

Usage::

    python examples/blocking_confirms.py [amqp://...]
"""

import argparse
import os

import pika
from pika import exceptions

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    args = parser.parse_args()

    with pika.BlockingConnection(pika.URLParameters(args.url)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        queue = channel.queue_declare('',
                                      exclusive=True,
                                      arguments={
                                          'x-max-length': 2,
                                          'x-overflow': 'reject-publish',
                                      }).method.queue

        channel.basic_publish('', queue, b'routed', mandatory=True)
        print('confirmed: routed message')

        try:
            channel.basic_publish('', 'no-such-queue', b'lost', mandatory=True)
        except exceptions.UnroutableError as error:
            returned = error.messages[0]
            print('unroutable: %r came back with %d %s' %
                  (returned.body, returned.method.reply_code,
                   returned.method.reply_text))

        channel.basic_publish('', queue, b'second')
        try:
            channel.basic_publish('', queue, b'third, over the limit')
        except exceptions.NackError:
            print('nacked: the queue is full and rejects new messages')

        depth = channel.queue_declare(queue, passive=True).method.message_count
        print('queue holds %d messages' % depth)


if __name__ == '__main__':
    main()
