"""Asynchronous consumer that reconnects when the connection drops.

Declares a topic exchange and a queue bound to it, consumes with manual
acks, and, when the connection is lost (broker restart, network failure...),
reconnects with an increasing delay. Ctrl-C closes the channel and the
connection cleanly.

Usage::

    python examples/asynchronous_consumer_example.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N]

``--count N`` stops after N messages (handy with the publisher example).
"""

import argparse
import functools
import logging
import time

import pika
from pika.adapters.select_connection import SelectConnection
from pika.exchange_type import ExchangeType

LOGGER = logging.getLogger(__name__)


class ExampleConsumer:
    """Consumes from one queue on a SelectConnection.

    If the connection or channel closes unexpectedly, :attr:`should_reconnect`
    is set and the IOLoop stops, so the caller can make a new consumer.
    """

    EXCHANGE = 'message'
    EXCHANGE_TYPE = ExchangeType.topic
    QUEUE = 'text'
    ROUTING_KEY = 'example.text'

    def __init__(self, amqp_url, max_messages=None):
        self.should_reconnect = False
        self.was_consuming = False
        self.received = 0
        self._url = amqp_url
        self._max_messages = max_messages
        self._connection = None
        self._channel = None
        self._closing = False
        self._consumer_tag = None
        self._consuming = False
        self._prefetch_count = 10

    def connect(self):
        """Open the connection; the callbacks below do the rest."""
        LOGGER.info('Connecting to %s', self._url)
        return SelectConnection(parameters=pika.URLParameters(self._url),
                                on_open_callback=self.on_connection_open,
                                on_open_error_callback=self.on_open_error,
                                on_close_callback=self.on_connection_closed)

    def on_connection_open(self, _connection):
        LOGGER.info('Connection opened')
        self._connection.channel(on_open_callback=self.on_channel_open)

    def on_open_error(self, _connection, error):
        LOGGER.error('Connection open failed: %r', error)
        self.reconnect()

    def on_connection_closed(self, _connection, reason):
        self._channel = None
        if self._closing:
            self._connection.ioloop.stop()
        else:
            LOGGER.warning('Connection closed, reconnect necessary: %r', reason)
            self.reconnect()

    def reconnect(self):
        """Stop the loop and ask the runner for a new consumer."""
        self.should_reconnect = True
        self.stop()

    def on_channel_open(self, channel):
        LOGGER.info('Channel opened')
        self._channel = channel
        self._channel.add_on_close_callback(self.on_channel_closed)
        self._channel.exchange_declare(exchange=self.EXCHANGE,
                                       exchange_type=self.EXCHANGE_TYPE,
                                       callback=self.on_exchange_declareok)

    def on_channel_closed(self, channel, reason):
        LOGGER.warning('Channel %i was closed: %r', channel.channel_number,
                       reason)
        self.close_connection()

    def on_exchange_declareok(self, _frame):
        self._channel.queue_declare(queue=self.QUEUE,
                                    callback=self.on_queue_declareok)

    def on_queue_declareok(self, _frame):
        self._channel.queue_bind(self.QUEUE,
                                 self.EXCHANGE,
                                 routing_key=self.ROUTING_KEY,
                                 callback=self.on_bindok)

    def on_bindok(self, _frame):
        self._channel.basic_qos(prefetch_count=self._prefetch_count,
                                callback=self.on_basic_qos_ok)

    def on_basic_qos_ok(self, _frame):
        LOGGER.info('QOS set to: %d', self._prefetch_count)
        self._channel.add_on_cancel_callback(self.on_consumer_cancelled)
        self._consumer_tag = self._channel.basic_consume(
            self.QUEUE, self.on_message)
        self.was_consuming = True
        self._consuming = True

    def on_consumer_cancelled(self, method_frame):
        LOGGER.info('Consumer was cancelled remotely: %r', method_frame)
        if self._channel:
            self._channel.close()

    def on_message(self, channel, basic_deliver, properties, body):
        LOGGER.info('Received message #%s from %s: %r',
                    basic_deliver.delivery_tag, properties.app_id, body)
        channel.basic_ack(basic_deliver.delivery_tag)
        self.received += 1
        if self._max_messages and self.received >= self._max_messages:
            self.stop()

    def stop_consuming(self):
        if self._channel:
            self._channel.basic_cancel(self._consumer_tag,
                                       callback=functools.partial(
                                           self.on_cancelok,
                                           userdata=self._consumer_tag))

    def on_cancelok(self, _frame, userdata):
        self._consuming = False
        LOGGER.info('Broker acknowledged the cancellation of %s', userdata)
        self._channel.close()

    def close_connection(self):
        self._consuming = False
        if self._connection.is_closing or self._connection.is_closed:
            LOGGER.info('Connection is closing or already closed')
        else:
            LOGGER.info('Closing connection')
            self._connection.close()

    def run(self):
        """Connect and run the IOLoop until stopped."""
        self._connection = self.connect()
        self._connection.ioloop.start()

    def stop(self):
        """Cancel the consumer, close channel and connection, stop the loop.

        Also safe to call from a KeyboardInterrupt handler after the loop
        stopped: the loop is restarted until the close completes.
        """
        if self._closing:
            return
        self._closing = True
        LOGGER.info('Stopping')
        if self._consuming:
            self.stop_consuming()
            if not self._connection.ioloop._running:
                self._connection.ioloop.start()
        elif self._connection.is_open:
            self.close_connection()
            if not self._connection.ioloop._running:
                self._connection.ioloop.start()
        else:
            self._connection.ioloop.stop()
        LOGGER.info('Stopped')


class ReconnectingExampleConsumer:
    """Runs :class:`ExampleConsumer`, making a new one after each drop."""

    consumer_class = ExampleConsumer

    def __init__(self, amqp_url, max_messages=None):
        self._reconnect_delay = 0
        self._amqp_url = amqp_url
        self._max_messages = max_messages
        self._received = 0
        self._consumer = self.consumer_class(amqp_url, max_messages)

    def run(self):
        while True:
            try:
                self._consumer.run()
            except KeyboardInterrupt:
                self._consumer.stop()
                break
            self._received += self._consumer.received
            if not self._consumer.should_reconnect:
                break
            self._maybe_reconnect()
        return self._received

    def _maybe_reconnect(self):
        reconnect_delay = self._get_reconnect_delay()
        LOGGER.info('Reconnecting after %d seconds', reconnect_delay)
        time.sleep(reconnect_delay)
        remaining = None
        if self._max_messages:
            remaining = self._max_messages - self._received
        self._consumer = self.consumer_class(self._amqp_url, remaining)

    def _get_reconnect_delay(self):
        if self._consumer.was_consuming:
            self._reconnect_delay = 0
        else:
            self._reconnect_delay += 1
        self._reconnect_delay = min(self._reconnect_delay, 30)
        return self._reconnect_delay


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    received = ReconnectingExampleConsumer(args.url, args.count).run()
    print('consumed %d messages' % received)


if __name__ == '__main__':
    main()
