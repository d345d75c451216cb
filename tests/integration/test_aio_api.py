"""pika.aio against the broker: RPC replies as frames, confirmed publishes,
basic_get, the consume iterator, and cancellation at each await point."""

import asyncio
import os
import uuid
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio

import pika
import pika.aio
from pika import exceptions, spec

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def _name() -> str:
    return 'pika-aio-test-' + uuid.uuid4().hex


@pytest_asyncio.fixture
async def conn() -> AsyncIterator[pika.aio.Connection]:
    connection = await pika.aio.connect(pika.ConnectionParameters(HOST, PORT))
    yield connection
    await connection.close()


@pytest_asyncio.fixture
async def queue(conn: pika.aio.Connection) -> AsyncIterator[Any]:
    channel = await conn.channel()
    name = _name()
    await channel.queue_declare(name, auto_delete=False, exclusive=True)
    yield channel, name
    if channel.is_open:
        await channel.close()


@pytest.mark.asyncio
async def test_rpc_returns_method_frame_with_reply() -> None:
    async with await pika.aio.connect('amqp://guest:guest@%s:%d/%%2F' %
                                      (HOST, PORT)) as connection:
        channel = await connection.channel()
        name = _name()
        frame = await channel.queue_declare(name, exclusive=True)
        assert isinstance(frame.method, spec.Queue.DeclareOk)
        assert frame.method.queue == name
        purged = await channel.queue_purge(name)
        assert isinstance(purged.method, spec.Queue.PurgeOk)
        await channel.close()
        assert channel.is_closed
    assert connection.is_closed


@pytest.mark.asyncio
async def test_recovery_keyword_must_be_a_recovery_config() -> None:
    with pytest.raises(TypeError, match='recovery must be'):
        await pika.aio.connect(pika.ConnectionParameters(HOST, PORT),
                               recovery=object())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_bad_argument_raises_before_sending(queue: Any) -> None:
    channel, _name_ = queue
    with pytest.raises(TypeError, match='queue'):
        await channel.queue_declare(42)
    # the channel is still usable
    assert isinstance((await channel.queue_declare(_name_,
                                                   passive=True)).method,
                      spec.Queue.DeclareOk)


@pytest.mark.asyncio
async def test_broker_error_fails_await_with_channel_closed(
        conn: pika.aio.Connection) -> None:
    channel = await conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        await channel.queue_declare(_name(), passive=True)
    assert info.value.reply_code == 404
    assert channel.is_closed
    assert channel.close_reason is info.value


@pytest.mark.asyncio
async def test_confirmed_publish_pipelined_and_unroutable(queue: Any) -> None:
    channel, name = queue
    await channel.confirm_delivery()
    results = await asyncio.gather(
        *[channel.basic_publish('', name, b'm%d' % i) for i in range(200)])
    assert results == [None] * 200
    with pytest.raises(exceptions.UnroutableError) as info:
        await channel.basic_publish('', _name(), b'lost', mandatory=True)
    assert info.value.messages[0].body == b'lost'
    declared = await channel.queue_declare(name, passive=True)
    assert declared.method.message_count == 200


@pytest.mark.asyncio
async def test_publish_without_confirms_needs_no_future(queue: Any) -> None:
    channel, name = queue
    awaitable = channel.basic_publish('', name, b'x')
    assert awaitable is pika.aio.DONE
    await awaitable
    message = await channel.basic_get(name, auto_ack=True)
    assert message is not None and message.body == b'x'


@pytest.mark.asyncio
async def test_basic_get_returns_none_or_message(queue: Any) -> None:
    channel, name = queue
    assert await channel.basic_get(name) is None
    await channel.basic_publish('', name, b'one',
                                spec.BasicProperties(message_id='id1'))
    message = await channel.basic_get(name)
    assert message is not None
    assert (message.body, message.properties.message_id) == (b'one', 'id1')
    assert isinstance(message.method, spec.Basic.GetOk)
    await message.ack()
    with pytest.raises(ValueError, match='already settled'):
        message.ack()
    assert await channel.basic_get(name) is None


@pytest.mark.asyncio
async def test_consume_iterator_acks_and_requeues_on_exit(queue: Any) -> None:
    channel, name = queue
    for i in range(30):
        await channel.basic_publish('', name, b'%d' % i)
    seen = []
    async with channel.consume(name, prefetch_count=10) as messages:
        async for message in messages:
            seen.append(message.body)
            if len(seen) <= 5:
                await message.ack()
            if len(seen) == 8:
                break  # 6, 7, 8 handed out but unacked; more buffered
    assert seen == [b'%d' % i for i in range(8)]
    assert not channel.consumer_tags
    # everything not acked is back in the queue
    await asyncio.sleep(0.2)
    declared = await channel.queue_declare(name, passive=True)
    assert declared.method.message_count == 25
    first = await channel.basic_get(name, auto_ack=True)
    assert first is not None and first.redelivered


@pytest.mark.asyncio
async def test_consume_callback_form(queue: Any) -> None:
    channel, name = queue
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(message: pika.aio.Message) -> None:
        await message.ack()
        await got.put(message.body)

    tag = await channel.basic_consume(name, on_message)
    await channel.basic_publish('', name, b'cb')
    assert await asyncio.wait_for(got.get(), 10) == b'cb'
    cancel_ok = await channel.basic_cancel(tag)
    assert isinstance(cancel_ok.method, spec.Basic.CancelOk)


@pytest.mark.asyncio
async def test_consumer_cancelled_by_broker_ends_iteration(queue: Any) -> None:
    channel, name = queue
    other = await channel.connection.channel()
    async with channel.consume(name) as messages:
        await other.queue_delete(name)
        with pytest.raises(exceptions.ConsumerCancelled):
            await asyncio.wait_for(messages.__anext__(), 10)


@pytest.mark.asyncio
async def test_cancelled_rpc_await_leaves_channel_in_sync(queue: Any) -> None:
    channel, name = queue
    # Time out every RPC at once, before its reply can arrive ...
    for _ in range(5):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(channel.queue_declare(name, passive=True), 0)
    # ... later RPCs still get their own replies.
    other = _name()
    declared = await channel.queue_declare(other, exclusive=True)
    assert declared.method.queue == other
    purged = await channel.queue_purge(name)
    assert isinstance(purged.method, spec.Queue.PurgeOk)


@pytest.mark.asyncio
async def test_cancelled_get_returns_message_to_queue(queue: Any) -> None:
    channel, name = queue
    await channel.basic_publish('', name, b'keep')
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(channel.basic_get(name), 0)
    message = None
    for _ in range(50):
        message = await channel.basic_get(name)
        if message is not None:
            break
        await asyncio.sleep(0.05)
    assert message is not None and message.body == b'keep'


@pytest.mark.asyncio
async def test_cancelled_confirm_await_keeps_others(queue: Any) -> None:
    channel, name = queue
    await channel.confirm_delivery()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(channel.basic_publish('', name, b'a'), 0)
    await channel.basic_publish('', name, b'b')
    declared = await channel.queue_declare(name, passive=True)
    assert declared.method.message_count == 2


@pytest.mark.asyncio
async def test_cancelled_next_loses_no_message(queue: Any) -> None:
    channel, name = queue
    async with channel.consume(name, prefetch_count=5) as messages:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(messages.__anext__(), 0.05)
        await channel.basic_publish('', name, b'later')
        message = await asyncio.wait_for(messages.__anext__(), 10)
        assert message.body == b'later'
        await message.ack()


@pytest.mark.asyncio
async def test_cancelled_channel_open_and_consume_start(
        conn: pika.aio.Connection) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(conn.channel(), 0)
    channel = await conn.channel()
    name = _name()
    await channel.queue_declare(name, exclusive=True)
    consumer = channel.consume(name)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(consumer.start(), 0)
    await asyncio.sleep(0.2)
    assert channel.consumer_tags == []
    await channel.basic_publish('', name, b'z')
    await asyncio.sleep(0.2)
    declared = await channel.queue_declare(name, passive=True)
    assert declared.method.message_count == 1


@pytest.mark.asyncio
async def test_connection_close_fails_pending_awaits() -> None:
    connection = await pika.aio.connect(pika.ConnectionParameters(HOST, PORT))
    channel = await connection.channel()
    name = _name()
    await channel.queue_declare(name, exclusive=True)
    consumer = channel.consume(name)
    await consumer.start()
    waiting = asyncio.ensure_future(consumer.__anext__())
    await asyncio.sleep(0)
    await connection.close()
    with pytest.raises(exceptions.AMQPError):
        await asyncio.wait_for(waiting, 10)
    reason = await connection.wait_closed()
    assert isinstance(reason, exceptions.ConnectionClosedByClient)
    with pytest.raises(exceptions.ChannelWrongStateError):
        await channel.queue_declare(name)
