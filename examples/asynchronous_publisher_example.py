"""Asynchronous publisher with publisher confirms.

Declares the topic exchange and queue of the consumer example, enables
delivery confirmations, publishes a message every ``--interval`` seconds and
keeps track of which deliveries the broker acknowledged (ack), refused
(nack) or has not answered yet.

Usage::

    python examples/asynchronous_publisher_example.py \\
        [amqp://guest:guest@localhost:5672/%2F?connection_attempts=3] \\
        [--count N] [--interval SECONDS]
"""

import argparse
import json
import logging

import pika
from pika.adapters.select_connection import SelectConnection
from pika.exchange_type import ExchangeType

LOGGER = logging.getLogger(__name__)


class ExamplePublisher:
    """Publishes ``count`` messages and waits for every confirmation."""

    EXCHANGE = 'message'
    EXCHANGE_TYPE = ExchangeType.topic
    QUEUE = 'text'
    ROUTING_KEY = 'example.text'

    def __init__(self, amqp_url, count=10, interval=0.1):
        self._url = amqp_url
        self._count = count
        self._interval = interval
        self._connection = None
        self._channel = None
        self._deliveries = {}
        self._acked = 0
        self._nacked = 0
        self._message_number = 0
        self._stopping = False
        self.error = None

    def connect(self):
        LOGGER.info('Connecting to %s', self._url)
        return SelectConnection(pika.URLParameters(self._url),
                                on_open_callback=self.on_connection_open,
                                on_open_error_callback=self.on_open_error,
                                on_close_callback=self.on_connection_closed)

    def on_connection_open(self, connection):
        LOGGER.info('Connection opened')
        connection.channel(on_open_callback=self.on_channel_open)

    def on_open_error(self, connection, error):
        LOGGER.error('Connection open failed: %r', error)
        self.error = error
        connection.ioloop.stop()

    def on_connection_closed(self, connection, reason):
        self._channel = None
        if not self._stopping:
            LOGGER.warning('Connection closed unexpectedly: %r', reason)
            self.error = reason
        connection.ioloop.stop()

    def on_channel_open(self, channel):
        LOGGER.info('Channel opened')
        self._channel = channel
        channel.add_on_close_callback(self.on_channel_closed)
        channel.exchange_declare(exchange=self.EXCHANGE,
                                 exchange_type=self.EXCHANGE_TYPE,
                                 callback=self.on_exchange_declareok)

    def on_channel_closed(self, channel, reason):
        LOGGER.warning('Channel %i was closed: %r', channel.channel_number,
                       reason)
        self._channel = None
        if not self._stopping and self._connection.is_open:
            self._connection.close()

    def on_exchange_declareok(self, _frame):
        self._channel.queue_declare(queue=self.QUEUE,
                                    callback=self.on_queue_declareok)

    def on_queue_declareok(self, _frame):
        self._channel.queue_bind(self.QUEUE,
                                 self.EXCHANGE,
                                 routing_key=self.ROUTING_KEY,
                                 callback=self.on_bindok)

    def on_bindok(self, _frame):
        LOGGER.info('Queue bound; enabling delivery confirmations')
        self._channel.confirm_delivery(self.on_delivery_confirmation)
        self.schedule_next_message()

    def on_delivery_confirmation(self, method_frame):
        confirmation = method_frame.method.NAME.split('.')[1].lower()
        tag = method_frame.method.delivery_tag
        multiple = method_frame.method.multiple
        tags = [t for t in self._deliveries if t <= tag] if multiple else [tag]
        for confirmed in tags:
            if self._deliveries.pop(confirmed, None) is None:
                continue
            if confirmation == 'ack':
                self._acked += 1
            else:
                self._nacked += 1
        LOGGER.info('Received %s for delivery tag %i%s; %i pending',
                    confirmation, tag, ' (multiple)' if multiple else '',
                    len(self._deliveries))
        self.maybe_finish()

    def schedule_next_message(self):
        self._connection.ioloop.call_later(self._interval, self.publish_message)

    def publish_message(self):
        if self._channel is None or not self._channel.is_open:
            return
        message = {'number': self._message_number + 1, 'text': 'hello'}
        properties = pika.BasicProperties(app_id='example-publisher',
                                          content_type='application/json',
                                          headers={'example': True})
        self._channel.basic_publish(self.EXCHANGE, self.ROUTING_KEY,
                                    json.dumps(message).encode(), properties)
        self._message_number += 1
        self._deliveries[self._message_number] = message
        LOGGER.info('Published message #%i', self._message_number)
        if self._message_number < self._count:
            self.schedule_next_message()

    def maybe_finish(self):
        if self._message_number >= self._count and not self._deliveries:
            LOGGER.info('All %d messages confirmed; closing', self._count)
            self._stopping = True
            self._connection.close()

    def run(self):
        """Publish, wait for confirmations, close; return (acked, nacked)."""
        self._connection = self.connect()
        try:
            self._connection.ioloop.start()
        except KeyboardInterrupt:
            self._stopping = True
            if self._connection.is_open:
                self._connection.close()
                self._connection.ioloop.start()
        return self._acked, self._nacked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'url',
        nargs='?',
        default='amqp://guest:guest@localhost:5672/%2F?connection_attempts=3')
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--interval', type=float, default=0.1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    publisher = ExamplePublisher(args.url, args.count, args.interval)
    acked, nacked = publisher.run()
    print('published %d messages: %d acked, %d nacked' %
          (args.count, acked, nacked))
    if publisher.error is not None:
        raise SystemExit('failed: %r' % (publisher.error,))


if __name__ == '__main__':
    main()
