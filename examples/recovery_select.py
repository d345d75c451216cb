"""Automatic recovery with SelectConnection: a publisher with confirms and a
consumer, on callbacks, that survive a connection loss with no reconnect
code in the application.

The connection is created with ``recovery=RecoveryConfig(...)``. Halfway
through, the example cuts its own TCP connection (as a network fault would).
The close callback is not called: recovery reconnects (to the host given;
``SelectConnection.create_connection(hosts, on_done, recovery=...)``
recovers across a whole host sequence), reopens the same channel objects
with their numbers, QoS and confirm mode, declares the exchange, queue and
binding again and restarts the consumer with its tag and callback.
Publishes whose confirmation was lost are published again
(``republish_unconfirmed``), so every message arrives at least once; calls
made while recovering raise ``ConnectionRecovering``, so the publisher waits
for the succeeded callback before going on.

Usage::

    python examples/recovery_select.py [--count N] [amqp://...]
"""

import argparse
import os
import socket
import uuid
from typing import Any, List, Set

import pika
from pika.recovery import RecoveryConfig

DEFAULT_URL = 'amqp://guest:guest@%s:%s/%%2F' % (os.environ.get(
    'PIKA_TEST_HOST', 'localhost'), os.environ.get('PIKA_TEST_PORT', '5672'))
EXCHANGE = 'recovery-select-example'


class Example:
    """Publishes ``count`` messages to a fanout exchange and consumes them
    from a queue bound to it."""

    def __init__(self, hosts: List[pika.URLParameters], count: int) -> None:
        self.count = count
        self.queue = 'recovery-select-example-%s' % uuid.uuid4().hex
        self.received: Set[bytes] = set()
        self.confirmed = 0
        self.published = 0
        self.recoveries = 0
        self.channel: Any = None
        self.connection = pika.SelectConnection(
            hosts[0],
            on_open_callback=self.on_open,
            on_close_callback=self.on_closed,
            recovery=RecoveryConfig(initial_interval=0.2,
                                    republish_unconfirmed=True))
        self.connection.add_on_recovery_started_callback(
            lambda _conn, error: print('connection lost: %r; recovering' %
                                       (error,)))
        self.connection.add_on_recovery_succeeded_callback(self.on_recovered)

    def on_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self.on_channel)

    def on_channel(self, channel: Any) -> None:
        self.channel = channel
        channel.basic_qos(prefetch_count=10)
        channel.exchange_declare(EXCHANGE, 'fanout', auto_delete=True)
        channel.queue_declare(self.queue, arguments={'x-expires': 60000})
        channel.queue_bind(self.queue, EXCHANGE)
        channel.basic_consume(self.queue, self.on_message)
        channel.confirm_delivery(self.on_confirm, callback=self.on_confirming)

    def on_confirming(self, _frame: Any) -> None:
        self.publish()

    def publish(self) -> None:
        while self.published < self.count:
            if self.published == self.count // 2 and not self.recoveries:
                # Simulate a network fault: the socket dies under the
                # library; the rest is published once recovered.
                self.connection._transport._sock.shutdown(socket.SHUT_RDWR)
                return
            self.channel.basic_publish(EXCHANGE, '',
                                       b'message %d' % self.published)
            self.published += 1

    def on_recovered(self, _connection: Any, skipped: List[Any]) -> None:
        self.recoveries += 1
        print('recovered; skipped: %r' % (skipped,))
        self.publish()

    def on_confirm(self, frame: Any) -> None:
        self.confirmed += 1

    def on_message(self, channel: Any, method: Any, _properties: Any,
                   body: bytes) -> None:
        self.received.add(body)
        channel.basic_ack(method.delivery_tag)
        if len(self.received) == self.count:
            channel.queue_delete(self.queue,
                                 callback=lambda _f: self.connection.close())

    def on_closed(self, connection: Any, error: BaseException) -> None:
        print('consumed %d messages after %d recovery(ies); closed: %r' %
              (len(self.received), self.recoveries, error))
        connection.ioloop.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', default=DEFAULT_URL)
    parser.add_argument('--count', type=int, default=20)
    args = parser.parse_args()
    example = Example([pika.URLParameters(args.url)], args.count)
    example.connection.ioloop.start()


if __name__ == '__main__':
    main()
