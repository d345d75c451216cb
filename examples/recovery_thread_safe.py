"""Automatic recovery with the thread-safe connection: four threads publish
with confirms on one connection while a consumer acknowledges on another
channel of it; the connection survives a loss with no reconnect loop in the
application.

The connection is created with ``recovery=RecoveryConfig(...)``. Partway
through, the example cuts its own TCP connection (as a network fault or a
broker restart would). The publishing threads that were waiting for a
confirmation keep waiting: with ``republish_unconfirmed`` their messages are
published again after recovery and they return once the new confirmation
arrives. The consumer is restarted on the same channel object with its tag
and callback (its worker thread never stops); deliveries from before the
loss that were not acknowledged come again, and their old delivery tags are
not sent to the new channel. So every message arrives at least once.

Usage::

    python examples/recovery_thread_safe.py [--count N] [amqp://... ...]
"""

import argparse
import os
import socket
import threading
import uuid

import pika
from pika.recovery import RecoveryConfig

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))
THREADS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('urls', nargs='*', default=[DEFAULT_URL])
    parser.add_argument('--count', type=int, default=400)
    args = parser.parse_args()

    hosts = [pika.URLParameters(url) for url in args.urls]
    connection = pika.Connection(hosts,
                                 recovery=RecoveryConfig(
                                     initial_interval=0.2,
                                     republish_unconfirmed=True,
                                     wait_timeout=30))
    recoveries = []
    connection.add_on_recovery_started_callback(
        lambda conn, error: print('connection lost: %r; recovering' % error))
    connection.add_on_recovery_succeeded_callback(
        lambda conn, skipped: recoveries.append(skipped))

    consumer = connection.channel()
    consumer.basic_qos(prefetch_count=50)
    queue = 'recovery-example-%s' % uuid.uuid4().hex
    consumer.queue_declare(queue, arguments={'x-expires': 60000})
    received = set()
    all_received = threading.Event()

    def on_message(channel, method, _properties, body):
        received.add(body)
        channel.basic_ack(method.delivery_tag)
        if len(received) == args.count:
            all_received.set()

    consumer.basic_consume(queue, on_message)

    confirmed = []
    lock = threading.Lock()

    def publish(first: int) -> None:
        channel = connection.channel()
        channel.confirm_delivery()
        for number in range(first, args.count, THREADS):
            if number == args.count // 2:
                # Simulate a network fault: the socket dies under the library.
                connection.add_callback_threadsafe(
                    lambda: connection._impl._transport._sock.shutdown(
                        socket.SHUT_RDWR))
            # Returns once the broker confirmed it, across the recovery.
            channel.basic_publish('', queue, b'message %d' % number)
            with lock:
                confirmed.append(number)

    publishers = [
        threading.Thread(target=publish, args=(first,))
        for first in range(THREADS)
    ]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()
    all_received.wait(30)
    print('confirmed %d, consumed %d, after %d recovery(ies), skipped: %r' %
          (len(confirmed), len(received), len(recoveries), recoveries))
    consumer.queue_delete(queue)
    connection.close()


if __name__ == '__main__':
    main()
