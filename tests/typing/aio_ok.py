"""A small pika.aio program as a ``mypy --strict`` user writes it.

Never run: ``tests/unit/test_aio_typing.py`` type-checks it with
``mypy --strict`` and compares the ``reveal_type`` notes with the types
marked with a "T" comment on the same line.
"""

# yapf: disable
# (line numbers matter: the marks are compared with mypy's notes)
import asyncio
from typing import List, reveal_type

import pika
import pika.aio
from pika import exceptions, spec
from pika.recovery import RecoveryConfig


async def on_message(message: pika.aio.Message) -> None:
    reveal_type(message.body)  # T: bytes
    await message.ack()


async def main() -> None:
    parameters = pika.ConnectionParameters('127.0.0.1')
    connection = await pika.aio.connect(parameters)
    reveal_type(connection)  # T: pika.aio.connection.Connection
    async with connection:
        channel = await connection.channel()
        reveal_type(channel)  # T: pika.aio.channel.Channel
        declared = await channel.queue_declare('', exclusive=True)
        reveal_type(declared)  # T: pika.frame.Method[pika.spec.Queue.DeclareOk]
        reveal_type(declared.method)  # T: pika.spec.Queue.DeclareOk
        queue = declared.method.queue or ''
        qos = await channel.basic_qos(prefetch_count=10)
        reveal_type(qos)  # T: pika.frame.Method[pika.spec.Basic.QosOk]
        select = await channel.confirm_delivery()
        reveal_type(
            select)  # T: pika.frame.Method[pika.spec.Confirm.SelectOk] | None
        publishes: List[asyncio.Future[None]] = [
            asyncio.ensure_future(channel.basic_publish('', queue, b'x'))
            for _ in range(3)
        ]
        try:
            await asyncio.gather(*publishes)
        except (exceptions.NackError, exceptions.UnroutableError):
            pass
        got = await channel.basic_get(queue)
        reveal_type(got)  # T: pika.aio.message.Message | None
        if got is not None:
            reveal_type(got.delivery_tag)  # T: int
            reveal_type(got.properties)  # T: pika.spec.BasicProperties
            got.reject(requeue=True)
        async with channel.consume(queue, prefetch_count=10) as messages:
            reveal_type(messages)  # T: pika.aio.consumer.Consumer
            async for message in messages:
                reveal_type(message)  # T: pika.aio.message.Message
                reveal_type(message.method)  # T: pika.spec.Basic.Deliver | pika.spec.Basic.GetOk | pika.spec.Basic.Return  # noqa: E501
                if isinstance(message.method, spec.Basic.Deliver):
                    reveal_type(message.method.redelivered)  # T: bool
                await message.ack()
                break
        tag = await channel.basic_consume(queue, on_message)
        reveal_type(tag)  # T: str
        cancelled = await channel.basic_cancel(tag)
        reveal_type(
            cancelled)  # T: pika.frame.Method[pika.spec.Basic.CancelOk] | None
        reason = await channel.wait_closed() if channel.is_closed else None
        reveal_type(reason)  # T: BaseException | None
        await channel.close()


async def recovering() -> None:
    connection = await pika.aio.connect(
        'amqp://127.0.0.1/', recovery=RecoveryConfig(wait_timeout=5.0))
    state = connection.recovery_state
    reveal_type(state)  # T: pika.recovery.RecoveryState | None
    reveal_type(await connection.wait_for_recovery(10))  # T: bool
    reveal_type(connection.current_queue_name('q'))  # T: str
    connection.add_on_recovery_succeeded_callback(
        lambda conn, skipped: print(len(skipped)))
    channel = await connection.channel()
    channel.add_on_recovery_started_callback(lambda ch, error: None)
    try:
        await channel.basic_publish('', 'q', b'x')
    except exceptions.ConfirmationLost as lost:
        reveal_type(lost.messages)  # T: typing.Sequence[Any]
    except exceptions.ConnectionRecovering:
        pass
    await connection.close()


if __name__ == '__main__':
    asyncio.run(main())
