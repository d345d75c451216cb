"""Automatic recovery with the awaitable API (``pika.aio``): a consumer
iterating with ``async for`` and a publisher awaiting its confirms keep
going through a connection loss, with no reconnect loop in the application.

The connection is opened with ``recovery=RecoveryConfig(...)``. Halfway
through publishing, the example cuts its own TCP connection (as a network
fault or a broker restart would). Recovery reconnects (over every URL
given), reopens the channels with their numbers, QoS and confirm mode,
declares the exchange, queue and binding again and restarts the consumer:
the same ``async for`` loop goes on receiving. The publishes whose
confirmations were lost are published again (``republish_unconfirmed``),
so every message arrives at least once; duplicates are counted once.

Usage::

    python examples/aio_recovery.py [amqp://... ...] [--count N]
"""

import argparse
import asyncio
import socket
import uuid
from typing import List, Set

import pika
import pika.aio
from pika.recovery import RecoveryConfig


async def consume(channel: pika.aio.Channel, queue: str, count: int,
                  received: Set[bytes]) -> None:
    """Receive until ``count`` distinct messages arrived."""
    async with channel.consume(queue, prefetch_count=10) as messages:
        async for message in messages:
            received.add(message.body)
            await message.ack()
            if len(received) == count:
                return


async def main(urls: List[str], count: int) -> None:
    hosts = [pika.URLParameters(url) for url in urls]
    connection = await pika.aio.connect(hosts,
                                        recovery=RecoveryConfig(
                                            initial_interval=0.2,
                                            republish_unconfirmed=True))
    recoveries: List[object] = []
    connection.add_on_recovery_started_callback(lambda conn, error: print(
        'connection lost: %s; recovering' % type(error).__name__))
    connection.add_on_recovery_succeeded_callback(
        lambda conn, skipped: recoveries.append(skipped))

    channel = await connection.channel()
    exchange = 'aio-recovery-example'
    await channel.exchange_declare(exchange, 'fanout', auto_delete=True)
    # Not exclusive: an exclusive queue, and its messages, go away with the
    # connection.
    queue = 'aio-recovery-example-%s' % uuid.uuid4().hex
    await channel.queue_declare(queue, arguments={'x-expires': 60000})
    await channel.queue_bind(queue, exchange)
    received: Set[bytes] = set()
    consumer = asyncio.ensure_future(consume(channel, queue, count, received))

    publisher = await connection.channel()
    await publisher.confirm_delivery()
    confirms = []
    for number in range(count):
        if number == count // 2:
            # Simulate a network fault: the socket dies under the library.
            connection._impl._transport._sock.shutdown(socket.SHUT_RDWR)
        try:
            confirms.append(
                publisher.basic_publish(exchange, '', b'message %d' % number))
        except pika.exceptions.ConnectionRecovering:
            # Made while reconnecting: wait for recovery, publish again.
            await connection.wait_for_recovery()
            confirms.append(
                publisher.basic_publish(exchange, '', b'message %d' % number))
        await asyncio.sleep(0.01)  # a paced publisher
    await asyncio.gather(*confirms)
    await asyncio.wait_for(consumer, 30)
    print('%d messages confirmed, %d consumed after %d recovery(ies), '
          'skipped: %r' % (count, len(received), len(recoveries), recoveries))
    await channel.queue_delete(queue)
    await connection.close()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('urls',
                        nargs='*',
                        default=['amqp://guest:guest@localhost:5672/%2F'])
    parser.add_argument('--count', type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.urls, arguments.count))
