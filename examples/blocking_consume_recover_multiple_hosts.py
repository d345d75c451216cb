"""A consumer that survives broker restarts and tries several hosts.

``BlockingConnection`` accepts a sequence of connection parameters and tries
them in order (each with its own ``connection_attempts`` and
``retry_delay``). The loop reconnects when the connection is lost
(``ConnectionClosedByBroker``, ``StreamLostError``,
``AMQPHeartbeatTimeout``...), and stops on channel errors, which are bugs
to fix rather than outages to wait out. Unacknowledged messages are
requeued by the broker, so nothing is lost across a reconnect.

This is the loop pika 1.4.4 needs. Here ``BlockingConnection(parameters,
recovery=RecoveryConfig())`` can do the reconnecting itself, consumers
included: see ``recovery_blocking.py``.

Usage::

    python examples/blocking_consume_recover_multiple_hosts.py
        [amqp://host1/%2F amqp://host2/%2F ...] [--queue NAME] [--count N]

With ``--count N`` it publishes N messages first and exits once it has
consumed them (handy for a quick check).
"""

import argparse
import os
import time

import pika
from pika import exceptions

DEFAULT_URLS = [
    # the first address refuses connections: the next one is tried
    'amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1',
    'amqp://guest:guest@%s:%s/%%2F?connection_attempts=3&retry_delay=1' %
    (os.environ.get('PIKA_TEST_HOST',
                    'localhost'), os.environ.get('PIKA_TEST_PORT', '5672')),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('urls', nargs='*', default=DEFAULT_URLS)
    parser.add_argument('--queue', default='recovering-consumer')
    parser.add_argument('--count', type=int, default=0)
    args = parser.parse_args()
    parameters = [pika.URLParameters(url) for url in args.urls]

    consumed = 0
    while True:
        try:
            connection = pika.BlockingConnection(parameters)
            print('connected (the first of %d address(es) that answered)' %
                  len(parameters))
            channel = connection.channel()
            channel.queue_declare(args.queue, durable=True)
            if args.count and consumed == 0:
                for number in range(args.count):
                    channel.basic_publish('', args.queue,
                                          b'message %d' % number)
            channel.basic_qos(prefetch_count=10)

            def on_message(chan, method, properties, body):
                nonlocal consumed
                consumed += 1
                print('got %r' % body)
                chan.basic_ack(method.delivery_tag)
                if args.count and consumed >= args.count:
                    chan.stop_consuming()

            channel.basic_consume(args.queue, on_message)
            try:
                channel.start_consuming()
            except KeyboardInterrupt:
                channel.stop_consuming()
                connection.close()
                break
            if args.count:
                channel.queue_delete(args.queue)
                connection.close()
                break
        except exceptions.ConnectionClosedByBroker as error:
            # e.g. the broker is shutting down: reconnect
            print('connection closed by broker: %s; reconnecting' % error)
            continue
        except exceptions.AMQPChannelError as error:
            print('channel error, giving up: %s' % error)
            break
        except exceptions.AMQPConnectionError as error:
            # lost or refused: wait a little and go through the hosts again
            print('connection failed: %r; retrying' % error)
            time.sleep(1)
            continue
    print('consumed %d messages' % consumed)


if __name__ == '__main__':
    main()
