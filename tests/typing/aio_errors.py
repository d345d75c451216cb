"""Mistakes ``mypy --strict`` reports in pika.aio code.

Never run: ``tests/unit/test_aio_typing.py`` expects an error on each line
marked with an "E" comment (the error code), and no other.
"""

import pika.aio


async def main(channel: pika.aio.Channel) -> None:
    await channel.queue_declare(42)  # E: arg-type
    declared = await channel.queue_declare('q')
    _ = declared.method.delivery_tag  # E: attr-defined
    await channel.basic_publish('', 'q', b'x', mandatory='yes')  # E: arg-type
    message = await channel.basic_get('q')
    message.ack()  # E: union-attr
    purged = await channel.queue_purge('q')
    _count: str = purged.method.message_count  # E: assignment
    _tag: int = await channel.basic_consume('q', print)  # E: assignment
    await pika.aio.connect(recovery={'max_attempts': 3})  # E: arg-type
