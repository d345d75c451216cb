"""Publish and consume with the awaitable API (``pika.aio``).

Declares a queue, publishes ``--count`` messages, then consumes them twice
over: first with the ``async for`` iterator (acknowledging each message),
then, after publishing again, with a callback consumer, stopped by a
timeout once the queue is drained.

Usage::

    python examples/aio_publish_consume.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--queue NAME]
"""

import argparse
import asyncio
import uuid
from typing import List

import pika
import pika.aio


async def publish(channel: pika.aio.Channel, queue: str, count: int) -> None:
    """Publish ``count`` persistent messages to ``queue``."""
    properties = pika.BasicProperties(
        content_type='text/plain', delivery_mode=pika.DeliveryMode.Persistent)
    for number in range(count):
        # Without confirms this returns at once (the frames are written).
        await channel.basic_publish('', queue, b'message %d' % number,
                                    properties)


async def consume_iterator(channel: pika.aio.Channel, queue: str,
                           count: int) -> List[bytes]:
    """Consume ``count`` messages with the async iterator."""
    bodies = []
    # prefetch_count bounds the messages in flight and buffered
    async with channel.consume(queue, prefetch_count=50) as messages:
        async for message in messages:
            bodies.append(message.body)
            await message.ack()
            if len(bodies) == count:
                break
    # leaving the block cancelled the consumer
    return bodies


async def consume_callback(channel: pika.aio.Channel, queue: str,
                           count: int) -> List[bytes]:
    """Consume with a callback until ``count`` messages arrived (or 10 s)."""
    bodies: List[bytes] = []
    done = asyncio.Event()

    async def on_message(message: pika.aio.Message) -> None:
        bodies.append(message.body)
        await message.ack()
        if len(bodies) == count:
            done.set()

    tag = await channel.basic_consume(queue, on_message)
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await channel.basic_cancel(tag)
    return bodies


async def main(url: str, queue: str, count: int) -> None:
    async with await pika.aio.connect(url) as connection:
        channel = await connection.channel()
        # exclusive: deleted with the connection (auto_delete would go with
        # the first consumer's cancel)
        declared = await channel.queue_declare(queue, exclusive=True)
        print('declared %s (%d messages ready)' %
              (declared.method.queue, declared.method.message_count or 0))
        await publish(channel, queue, count)
        received = await consume_iterator(channel, queue, count)
        print('iterator received %d messages: %s ... %s' %
              (len(received), received[0].decode(), received[-1].decode()))
        await publish(channel, queue, count)
        received = await consume_callback(channel, queue, count)
        print('callback received %d messages' % len(received))
        deleted = await channel.queue_delete(queue)
        print('deleted %s (%d left)' %
              (queue, deleted.method.message_count or 0))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=100)
    parser.add_argument('--queue',
                        default='pika-aio-example-' + uuid.uuid4().hex[:8])
    args = parser.parse_args()
    asyncio.run(main(args.url, args.queue, args.count))
