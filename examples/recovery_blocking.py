"""Automatic recovery: a publisher with confirms and a consumer that survive
a connection loss, with no reconnect loop in the application.

The connection is created with ``recovery=RecoveryConfig(...)``. Halfway
through, the example cuts its own TCP connection (as a network fault or a
broker restart would); recovery reconnects (across every host given),
reopens the channels with their numbers, QoS and confirm mode, declares the
exchange, queue and binding again and restarts the consumer with its tag and
callback. (The queue is not exclusive: an exclusive queue goes away with the
connection, and the messages in it with it.) The publish
whose confirmation was lost is published again (``republish_unconfirmed``),
so every message arrives at least once.

Usage::

    python examples/recovery_blocking.py [--count N] [amqp://... ...]
"""

import argparse
import os
import socket
import uuid

import pika
from pika.recovery import RecoveryConfig

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('urls', nargs='*', default=[DEFAULT_URL])
    parser.add_argument('--count', type=int, default=20)
    args = parser.parse_args()

    hosts = [pika.URLParameters(url) for url in args.urls]
    connection = pika.BlockingConnection(hosts,
                                         recovery=RecoveryConfig(
                                             initial_interval=0.2,
                                             republish_unconfirmed=True))
    recoveries = []
    connection.add_on_recovery_started_callback(
        lambda conn, error: print('connection lost: %r; recovering' % error))
    connection.add_on_recovery_succeeded_callback(
        lambda conn, skipped: recoveries.append(skipped))

    channel = connection.channel()
    channel.basic_qos(prefetch_count=10)
    exchange = 'recovery-example'
    channel.exchange_declare(exchange, 'fanout', auto_delete=True)
    queue = 'recovery-example-%s' % uuid.uuid4().hex
    channel.queue_declare(queue, arguments={'x-expires': 60000})
    channel.queue_bind(queue, exchange)

    received = set()

    def on_message(ch, method, _properties, body):
        received.add(body)
        ch.basic_ack(method.delivery_tag)
        if len(received) == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue, on_message)

    publisher = connection.channel()
    publisher.confirm_delivery()
    for number in range(args.count):
        if number == args.count // 2:
            # Simulate a network fault: the socket dies under the library.
            connection._impl._transport._sock.shutdown(socket.SHUT_RDWR)
        publisher.basic_publish(exchange, '', b'message %d' % number)

    channel.start_consuming()
    print('consumed %d messages after %d recovery(ies), skipped: %r' %
          (len(received), len(recoveries), recoveries))
    channel.queue_delete(queue)
    connection.close()


if __name__ == '__main__':
    main()
