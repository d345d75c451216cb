"""A consumer that hands messages to worker threads.

The connection's thread runs ``start_consuming()``; each message goes to a
worker pool. Workers must not touch the channel directly (one connection,
one thread): they acknowledge through
``connection.add_callback_threadsafe``, which wakes the consuming thread and
runs the ack there. Because that thread keeps doing I/O, heartbeats flow
even when a job takes longer than the heartbeat timeout.

Usage::

    python examples/blocking_threaded_consumer.py [amqp://...] [--count N]
        [--job-seconds S] [--workers W]
"""

import argparse
import concurrent.futures
import functools
import os
import threading
import time

import pika

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=8)
    parser.add_argument('--job-seconds', type=float, default=0.5)
    parser.add_argument('--workers', type=int, default=4)
    args = parser.parse_args()

    parameters = pika.URLParameters(args.url)
    parameters.heartbeat = 2  # short on purpose: jobs may outlast it
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=args.workers)
    queue = channel.queue_declare('', exclusive=True).method.queue
    for number in range(args.count):
        channel.basic_publish('', queue, b'job %d' % number)

    done = []

    def ack(delivery_tag: int, body: bytes) -> None:
        """Runs on the connection's thread."""
        channel.basic_ack(delivery_tag)
        done.append(body)
        if len(done) == args.count:
            channel.stop_consuming()

    def work(delivery_tag: int, body: bytes) -> None:
        """Runs on a worker thread."""
        time.sleep(args.job_seconds)
        print('%s done by %s' %
              (body.decode(), threading.current_thread().name))
        connection.add_callback_threadsafe(
            functools.partial(ack, delivery_tag, body))

    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:

        def on_message(chan, method, properties, body):
            pool.submit(work, method.delivery_tag, body)

        channel.basic_consume(queue, on_message)
        started = time.perf_counter()
        channel.start_consuming()
        elapsed = time.perf_counter() - started
    connection.close()
    print('%d jobs of %.1f s on %d workers took %.1f s' %
          (len(done), args.job_seconds, args.workers, elapsed))


if __name__ == '__main__':
    main()
