"""A consumer on Tornado's IOLoop (TornadoConnection).

The connection runs on ``IOLoop.current()`` next to whatever else the
application serves there; here a coroutine started with ``run_sync`` waits
on a Tornado ``Future`` that the consumer resolves once it has consumed
``count`` messages (which a publisher on the same loop sends).

Usage::

    python examples/tornado_consumer.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--queue NAME]
"""

import argparse
import logging
import uuid

from tornado import gen, ioloop
from tornado.concurrent import Future

import pika
from pika.adapters.tornado_connection import TornadoConnection

LOGGER = logging.getLogger(__name__)


class TornadoConsumer:
    """Consumes ``count`` messages from ``queue``, acknowledging each, then
    closes the connection.
    """

    def __init__(self, parameters, queue, count):
        self._parameters = parameters
        self._queue = queue
        self._count = count
        self._received = []
        self._connection = None
        self._done = Future()
        #: resolved once the queue is declared and the consumer started
        self.consuming = Future()

    def start(self):
        """Connect; return a Future resolved with the bodies received."""
        self._connection = TornadoConnection(
            self._parameters,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed)
        return self._done

    def _on_open(self, connection):
        LOGGER.info('Connection opened')
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, _connection, error):
        self._done.set_exception(error)

    def _on_closed(self, _connection, reason):
        LOGGER.info('Connection closed: %r', reason)
        if not self._done.done():
            if len(self._received) >= self._count:
                self._done.set_result(self._received)
            else:
                self._done.set_exception(reason)

    def _on_channel(self, channel):
        channel.queue_declare(
            self._queue,
            auto_delete=True,
            callback=lambda _frame: self._on_declared(channel))

    def _on_declared(self, channel):
        channel.basic_qos(prefetch_count=50)
        channel.basic_consume(self._queue, self._on_message)
        LOGGER.info('Consuming from %s', self._queue)
        self.consuming.set_result(None)

    def _on_message(self, channel, method, _properties, body):
        channel.basic_ack(method.delivery_tag)
        self._received.append(body)
        if len(self._received) == self._count:
            self._connection.close()


def publish(parameters, queue, count):
    """Publish ``count`` messages to ``queue`` from the same loop; return a
    Future resolved when the publishing connection has closed.
    """
    done = Future()

    def on_channel(channel):
        for index in range(count):
            channel.basic_publish('', queue, b'message %d' % index)
        channel.connection.close()

    TornadoConnection(
        parameters,
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda _conn, error: done.set_exception(error),
        on_close_callback=lambda _conn, _reason: done.done() or done.set_result(
            None))
    return done


async def main_async(parameters, queue, count):
    consumer = TornadoConsumer(parameters, queue, count)
    consumed = consumer.start()
    await gen.with_timeout(ioloop.IOLoop.current().time() + 10,
                           consumer.consuming)
    await publish(parameters, queue, count)
    return await consumed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--queue',
                        default='tornado-example-%s' % uuid.uuid4().hex)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    parameters = pika.URLParameters(args.url)
    bodies = ioloop.IOLoop.current().run_sync(
        lambda: main_async(parameters, args.queue, args.count), timeout=60)
    print('consumed %d messages, last %r' % (len(bodies), bodies[-1]))


if __name__ == '__main__':
    main()
