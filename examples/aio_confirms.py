"""Publisher confirms with the awaitable API (``pika.aio``).

With confirms on, ``await channel.basic_publish(...)`` returns once the
broker confirmed that message, and raises ``NackError`` or (for a
``mandatory`` message nothing routes) ``UnroutableError``. The publishes are
written at once, so keeping many awaitables in flight pipelines them: here
``--count`` messages with at most ``--window`` unconfirmed at a time, then
one mandatory message to a routing key without a queue, then a publish
bounded by a timeout.

Usage::

    python examples/aio_confirms.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--window N]
"""

import argparse
import asyncio
import time
import uuid
from typing import Awaitable, Set

import pika.aio
from pika import exceptions


async def publish_window(channel: pika.aio.Channel, queue: str, count: int,
                         window: int) -> None:
    """Publish ``count`` messages, at most ``window`` awaiting a confirm."""
    in_flight: Set[Awaitable[None]] = set()
    for number in range(count):
        in_flight.add(
            asyncio.ensure_future(
                channel.basic_publish('', queue, b'confirmed %d' % number)))
        if len(in_flight) >= window:
            done, in_flight = await asyncio.wait(
                in_flight, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                future.result()  # raises NackError if the broker nacked it
    await asyncio.gather(*in_flight)


async def main(url: str, count: int, window: int) -> None:
    queue = 'pika-aio-confirms-' + uuid.uuid4().hex[:8]
    async with await pika.aio.connect(url) as connection:
        channel = await connection.channel()
        await channel.queue_declare(queue, exclusive=True)
        await channel.confirm_delivery()
        started = time.perf_counter()
        await publish_window(channel, queue, count, window)
        elapsed = time.perf_counter() - started
        print('%d messages confirmed, %d in flight at most' % (count, window))
        print('(%.0f msg/s)' % (count / elapsed))

        try:
            await channel.basic_publish('',
                                        'no-such-queue-' + queue,
                                        b'nowhere',
                                        mandatory=True)
        except exceptions.UnroutableError as error:
            (returned,) = error.messages
            print('unroutable: returned with %s %s' %
                  (returned.method.reply_code, returned.method.reply_text))

        # A timeout only stops waiting: the message was sent all the same
        # and the channel stays usable.
        confirm = channel.basic_publish('', queue, b'bounded')
        await asyncio.wait_for(confirm, timeout=5)
        held = await channel.queue_declare(queue, passive=True)
        print('queue holds %d messages' % (held.method.message_count or 0))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--window', type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.count, args.window))
