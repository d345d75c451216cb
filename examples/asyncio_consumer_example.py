"""Consumer on an asyncio event loop (AsyncioConnection).

Runs on the loop of ``asyncio.run()``: the connection's callbacks resolve an
asyncio future, so coroutines can wait for the consumer to finish while other
tasks share the loop.

Usage::

    python examples/asyncio_consumer_example.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--queue NAME]
"""

import argparse
import asyncio
import logging

import pika
from pika.adapters.asyncio_connection import AsyncioConnection

LOGGER = logging.getLogger(__name__)


class AsyncioConsumer:
    """Consumes ``count`` messages from ``queue``, then closes."""

    def __init__(self, url, queue, count):
        self._url = url
        self._queue = queue
        self._count = count
        self._received = []
        self._connection = None
        self._done = None

    async def consume(self):
        """Connect, consume ``count`` messages, close; return the bodies."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._connection = AsyncioConnection(
            pika.URLParameters(self._url),
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
            custom_ioloop=loop)
        return await self._done

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
        channel.queue_declare(self._queue,
                              auto_delete=True,
                              callback=lambda _f: self._on_declared(channel))

    def _on_declared(self, channel):
        channel.basic_qos(prefetch_count=50)
        channel.basic_consume(self._queue, self._on_message)
        LOGGER.info('Consuming from %s', self._queue)

    def _on_message(self, channel, method, properties, body):
        channel.basic_ack(method.delivery_tag)
        self._received.append(body)
        if len(self._received) == self._count:
            self._connection.close()


async def publish_some(url, queue, count):
    """Publish ``count`` messages to ``queue`` on the same loop."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def on_channel(channel):
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=lambda _f: publish(channel))

    def publish(channel):
        for index in range(count):
            channel.basic_publish('', queue, b'message %d' % index)
        channel.connection.close()

    AsyncioConnection(
        pika.URLParameters(url),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda c, e: done.set_exception(e),
        on_close_callback=lambda c, e: done.done() or done.set_result(None),
        custom_ioloop=loop)
    await done


async def main_async(url, queue, count):
    consumer = AsyncioConsumer(url, queue, count)
    consuming = asyncio.ensure_future(consumer.consume())
    await asyncio.sleep(0.2)  # let the consumer declare the queue
    await publish_some(url, queue, count)
    bodies = await asyncio.wait_for(consuming, 30)
    return bodies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--queue', default='asyncio-example')
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    bodies = asyncio.run(main_async(args.url, args.queue, args.count))
    print('consumed %d messages, last %r' % (len(bodies), bodies[-1]))


if __name__ == '__main__':
    main()
