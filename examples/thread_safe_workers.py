"""Worker threads publishing with confirms on one thread-safe connection.

``pika.Connection`` runs its I/O on a background thread, so any thread may
call its channels' methods at once. Here ``--workers`` threads share one
channel with publisher confirms on; each ``basic_publish`` returns when the
broker confirmed that message, while the other threads' publishes travel
on the wire at the same time. A consumer on a second channel acks every
message from its callback, which runs on that channel's own worker thread
(never on the I/O thread, so heartbeats keep flowing however slow it is).

Usage::

    python examples/thread_safe_workers.py [amqp://...] [--workers 8]
        [--count 1000]
"""

import argparse
import os
import threading

import pika

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--workers', type=int, default=8)
    parser.add_argument('--count',
                        type=int,
                        default=1000,
                        help='messages per worker')
    args = parser.parse_args()
    total = args.workers * args.count

    with pika.Connection(pika.URLParameters(args.url)) as connection:
        publisher = connection.channel()
        queue = publisher.queue_declare('', exclusive=True).method.queue
        publisher.confirm_delivery()

        received = 0
        all_received = threading.Event()

        def on_message(channel, method, _properties, _body):
            nonlocal received
            channel.basic_ack(method.delivery_tag)
            received += 1  # only this channel's worker thread counts
            if received == total:
                all_received.set()

        consumer = connection.channel()
        consumer.basic_qos(prefetch_count=200)
        consumer.basic_consume(queue, on_message)

        def work(number: int) -> None:
            for index in range(args.count):
                publisher.basic_publish(
                    '', queue, b'worker %d message %d' % (number, index))

        threads = [
            threading.Thread(target=work, args=(number,))
            for number in range(args.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print('%d workers published %d confirmed messages' %
              (args.workers, total))
        if not all_received.wait(30):
            raise SystemExit('only %d of %d messages arrived' %
                             (received, total))
        print('consumed and acked %d messages' % received)


if __name__ == '__main__':
    main()
