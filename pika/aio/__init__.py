"""An awaitable asyncio API over
:class:`pika.adapters.asyncio_connection.AsyncioConnection`.

::

    import pika.aio

    async def main():
        url = 'amqp://guest:guest@localhost/'
        async with await pika.aio.connect(url) as conn:
            channel = await conn.channel()
            await channel.queue_declare('hello')
            await channel.basic_publish('', 'hello', b'Hello')
            async with channel.consume('hello', prefetch_count=10) as messages:
                async for message in messages:
                    await message.ack()
                    break

See :doc:`/aio` for the full description.
"""

from pika.aio.channel import Channel
from pika.aio.connection import Connection, connect
from pika.aio.consumer import Consumer
from pika.aio.message import DONE, Message, MessageMethod

__all__ = [
    'connect', 'Connection', 'Channel', 'Consumer', 'Message', 'MessageMethod',
    'DONE'
]
