"""Request/reply with RabbitMQ's direct reply-to.

A server thread (its own connection: one connection per thread) answers
requests on a queue; the client consumes from the pseudo-queue
``amq.rabbitmq.reply-to`` in auto-ack mode, publishes requests with
``reply_to='amq.rabbitmq.reply-to'`` and a ``correlation_id``, and waits
for each answer with ``process_data_events``.

Usage::

    python examples/blocking_rpc_direct_reply_to.py [amqp://...] [--count N]
"""

import argparse
import os
import threading
import uuid

import pika

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))
REPLY_TO = 'amq.rabbitmq.reply-to'


def fibonacci(number: int) -> int:
    first, second = 0, 1
    for _ in range(number):
        first, second = second, first + second
    return first


def serve(url: str, queue: str, ready: threading.Event) -> None:
    """Answer requests on ``queue`` until a request says 'stop'."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, auto_delete=True)
        ready.set()

        def on_request(chan, method, properties, body):
            if body == b'stop':
                chan.basic_ack(method.delivery_tag)
                chan.stop_consuming()
                return
            answer = str(fibonacci(int(body))).encode()
            chan.basic_publish(
                '', properties.reply_to, answer,
                pika.BasicProperties(correlation_id=properties.correlation_id))
            chan.basic_ack(method.delivery_tag)

        channel.basic_consume(queue, on_request)
        channel.start_consuming()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=10)
    args = parser.parse_args()

    queue = 'rpc-' + uuid.uuid4().hex[:8]
    ready = threading.Event()
    server = threading.Thread(target=serve, args=(args.url, queue, ready))
    server.start()
    ready.wait(10)

    with pika.BlockingConnection(pika.URLParameters(args.url)) as connection:
        channel = connection.channel()
        replies = {}

        def on_reply(chan, method, properties, body):
            replies[properties.correlation_id] = body

        # direct reply-to: consume before publishing, auto_ack required
        channel.basic_consume(REPLY_TO, on_reply, auto_ack=True)
        for number in range(args.count):
            correlation_id = uuid.uuid4().hex
            channel.basic_publish(
                '', queue,
                str(number).encode(),
                pika.BasicProperties(reply_to=REPLY_TO,
                                     correlation_id=correlation_id))
            while correlation_id not in replies:
                connection.process_data_events(time_limit=None)
            print('fib(%d) = %s' %
                  (number, replies.pop(correlation_id).decode()))
        channel.basic_publish('', queue, b'stop')
    server.join(10)


if __name__ == '__main__':
    main()
