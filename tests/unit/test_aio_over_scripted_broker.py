"""pika.aio over the sans-IO engine with scripted broker bytes (no sockets):
RPC awaits resolve with the reply frame, confirm futures follow acks
(``multiple`` ranges), nacks and returns, cancelled awaits leave the channel
usable, and closing fails every pending await with the close reason."""

import asyncio
from typing import Any, List, Tuple

import pytest

import pika.aio
from pika import exceptions, frame, spec
from engine_fake import (FakeConnection, content_bytes, method_bytes,
                         open_connection)

pytestmark = pytest.mark.asyncio

CHANNEL = 1


async def settle() -> None:
    """Let woken tasks run (futures resolve callbacks on the next turn)."""
    for _ in range(5):
        await asyncio.sleep(0)


def wrap(engine: FakeConnection) -> pika.aio.Connection:
    connection = pika.aio.Connection(asyncio.get_running_loop())
    connection._impl = engine  # type: ignore[assignment]
    connection._watch(engine)  # type: ignore[arg-type]
    return connection


async def open_aio() -> Tuple[FakeConnection, pika.aio.Channel]:
    engine = open_connection()
    connection = wrap(engine)
    opening = asyncio.ensure_future(connection.channel())
    await settle()
    assert [m.NAME for m in engine.sent_methods()] == ['Channel.Open']
    engine.feed(method_bytes(CHANNEL, spec.Channel.OpenOk()))
    channel = await opening
    assert channel.is_open and channel.channel_number == CHANNEL
    return engine, channel


def names(engine: FakeConnection) -> List[str]:
    return [method.NAME for method in engine.sent_methods()]


async def start(awaitable: Any) -> 'asyncio.Future[Any]':
    task = asyncio.ensure_future(awaitable)
    await settle()
    return task


async def confirming(
    count: int
) -> Tuple[FakeConnection, pika.aio.Channel, List['asyncio.Future[None]']]:
    engine, channel = await open_aio()
    selecting = await start(channel.confirm_delivery())
    assert names(engine) == ['Confirm.Select']
    engine.feed(method_bytes(CHANNEL, spec.Confirm.SelectOk()))
    assert isinstance((await selecting).method, spec.Confirm.SelectOk)
    futures = [
        asyncio.ensure_future(channel.basic_publish('', 'q', b'%d' % number))
        for number in range(count)
    ]
    await settle()
    assert names(engine) == ['Basic.Publish'] * count
    assert not any(future.done() for future in futures)
    return engine, channel, futures


async def test_rpc_await_returns_the_reply_method_frame() -> None:
    engine, channel = await open_aio()
    declaring = await start(channel.queue_declare('work', durable=True))
    (declare,) = engine.sent_methods()
    assert isinstance(declare, spec.Queue.Declare)
    assert (declare.queue, declare.durable) == ('work', True)
    assert not declaring.done()
    engine.feed(method_bytes(CHANNEL, spec.Queue.DeclareOk('work', 7, 2)))
    reply = await declaring
    assert isinstance(reply, frame.Method)
    assert reply.channel_number == CHANNEL
    assert isinstance(reply.method, spec.Queue.DeclareOk)
    assert (reply.method.queue, reply.method.message_count,
            reply.method.consumer_count) == ('work', 7, 2)


async def test_concurrent_rpcs_each_get_their_own_reply() -> None:
    engine, channel = await open_aio()
    declaring = asyncio.ensure_future(channel.queue_declare('a'))
    purging = asyncio.ensure_future(channel.queue_purge('a'))
    await settle()
    # the engine keeps one RPC on the wire at a time
    assert names(engine) == ['Queue.Declare']
    engine.feed(method_bytes(CHANNEL, spec.Queue.DeclareOk('a', 0, 0)))
    await settle()
    assert names(engine) == ['Queue.Purge']
    engine.feed(method_bytes(CHANNEL, spec.Queue.PurgeOk(5)))
    assert (await declaring).method.queue == 'a'
    assert (await purging).method.message_count == 5


async def test_multiple_ack_resolves_the_range_and_single_ack_one() -> None:
    engine, _channel, futures = await confirming(5)
    engine.feed(
        method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=3, multiple=True)))
    await settle()
    assert [future.done() for future in futures] == [True] * 3 + [False] * 2
    assert [future.result() for future in futures[:3]] == [None] * 3
    engine.feed(method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=5)))
    await settle()
    assert [future.done() for future in futures] == [True] * 3 + [False, True]
    engine.feed(method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=4)))
    await asyncio.gather(*futures)


async def test_nack_fails_only_the_nacked_publishes() -> None:
    engine, channel, futures = await confirming(4)
    engine.feed(
        method_bytes(CHANNEL, spec.Basic.Nack(delivery_tag=2, multiple=True)))
    engine.feed(method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=3)))
    engine.feed(method_bytes(CHANNEL, spec.Basic.Nack(delivery_tag=4)))
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert [type(result) for result in results] == [
        exceptions.NackError, exceptions.NackError,
        type(None), exceptions.NackError
    ]
    assert channel.is_open


async def test_returned_mandatory_publish_fails_with_unroutable() -> None:
    engine, channel, futures = await confirming(2)
    returned: List[pika.aio.Message] = []
    channel.add_on_return_callback(returned.append)
    # RabbitMQ: Basic.Return (with the content) before the message's ack
    engine.feed(
        content_bytes(CHANNEL, spec.Basic.Return(312, 'NO_ROUTE', '', 'q'),
                      b'1', spec.BasicProperties(message_id='m1')))
    engine.feed(method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=2)))
    engine.feed(method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=1)))
    await settle()
    assert futures[0].result() is None
    error = futures[1].exception()
    assert isinstance(error, exceptions.UnroutableError)
    (message,) = error.messages
    assert message.body == b'1'
    assert message.properties.message_id == 'm1'
    assert isinstance(message.method, spec.Basic.Return)
    assert message.method.reply_code == 312
    assert returned == [message] and message.settled


async def test_cancelled_rpc_await_leaves_the_channel_usable() -> None:
    engine, channel = await open_aio()
    declaring = await start(channel.queue_declare('slow'))
    assert names(engine) == ['Queue.Declare']
    declaring.cancel()
    with pytest.raises(asyncio.CancelledError):
        await declaring
    binding = await start(channel.queue_bind('slow', 'amq.direct'))
    # The late DeclareOk belongs to the cancelled await, not to the bind.
    engine.feed(method_bytes(CHANNEL, spec.Queue.DeclareOk('slow', 0, 0)))
    await settle()
    assert not binding.done()
    assert names(engine) == ['Queue.Bind']
    engine.feed(method_bytes(CHANNEL, spec.Queue.BindOk()))
    assert isinstance((await binding).method, spec.Queue.BindOk)
    assert channel.is_open


async def test_wait_for_timeout_on_a_confirm_keeps_later_confirms() -> None:
    engine, channel, futures = await confirming(1)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(futures[0], 0.01)
    later = channel.basic_publish('', 'q', b'later')
    engine.feed(
        method_bytes(CHANNEL, spec.Basic.Ack(delivery_tag=2, multiple=True)))
    assert await later is None
    assert channel.is_open


async def test_broker_channel_close_fails_every_pending_await() -> None:
    engine, channel, futures = await confirming(2)
    declaring = await start(channel.queue_declare('x'))
    getting = await start(channel.basic_get('x'))
    closed = asyncio.ensure_future(channel.wait_closed())
    engine.sent()
    engine.feed(
        method_bytes(CHANNEL,
                     spec.Channel.Close(406, 'PRECONDITION_FAILED', 50, 10)))
    await settle()
    assert names(engine) == ['Channel.CloseOk']
    for pending in futures + [declaring, getting]:
        error = pending.exception()
        assert isinstance(error, exceptions.ChannelClosedByBroker)
        assert (error.reply_code, error.reply_text) == (406,
                                                        'PRECONDITION_FAILED')
    assert await closed is channel.close_reason
    assert channel.is_closed


async def test_connection_loss_fails_pending_awaits_with_its_reason() -> None:
    engine, channel = await open_aio()
    declaring = await start(channel.queue_declare('x'))
    engine._on_stream_terminated(exceptions.StreamLostError('cut'))
    await settle()
    error = declaring.exception()
    assert isinstance(error, exceptions.StreamLostError)
    assert channel.is_closed


async def test_client_close_waits_for_closeok() -> None:
    engine, channel = await open_aio()
    closing = await start(channel.close())
    assert names(engine) == ['Channel.Close']
    assert not closing.done()
    engine.feed(method_bytes(CHANNEL, spec.Channel.CloseOk()))
    await closing
    assert isinstance(channel.close_reason, exceptions.ChannelClosedByClient)
    # closing again returns at once
    await channel.close()


async def consuming(engine: FakeConnection,
                    channel: pika.aio.Channel) -> pika.aio.Consumer:
    consumer = channel.consume('q', prefetch_count=10, consumer_tag='ctag')
    starting = await start(consumer.start())
    assert names(engine) == ['Basic.Qos']
    engine.feed(method_bytes(CHANNEL, spec.Basic.QosOk()))
    await settle()
    (consume,) = engine.sent_methods()
    assert (consume.NAME, consume.queue,
            consume.consumer_tag) == ('Basic.Consume', 'q', 'ctag')
    engine.feed(method_bytes(CHANNEL, spec.Basic.ConsumeOk('ctag')))
    await starting
    return consumer


def deliver(engine: FakeConnection, tag: int, body: bytes) -> None:
    engine.feed(
        content_bytes(CHANNEL, spec.Basic.Deliver('ctag', tag, False, '', 'q'),
                      body))


async def test_consume_iterator_yields_acks_and_requeues_on_exit() -> None:
    engine, channel = await open_aio()
    consumer = await consuming(engine, channel)
    for tag in (1, 2, 3):
        deliver(engine, tag, b'm%d' % tag)
    first = await consumer.__anext__()
    assert (first.body, first.delivery_tag, first.consumer_tag) == (b'm1', 1,
                                                                    'ctag')
    await first.ack()
    (ack,) = engine.sent_methods()
    assert (ack.NAME, ack.delivery_tag, ack.multiple) == ('Basic.Ack', 1, False)
    with pytest.raises(ValueError, match='already settled'):
        first.ack()
    second = await consumer.__anext__()
    assert second.body == b'm2' and consumer.buffered == 1
    cancelling = await start(consumer.cancel())
    assert names(engine) == ['Basic.Cancel']
    engine.feed(method_bytes(CHANNEL, spec.Basic.CancelOk('ctag')))
    await cancelling
    # handed-out and buffered unsettled deliveries go back to the broker
    rejects = engine.sent_methods()
    assert [(m.NAME, m.delivery_tag, m.requeue) for m in rejects
           ] == [('Basic.Reject', 2, True), ('Basic.Reject', 3, True)]
    with pytest.raises(StopAsyncIteration):
        await consumer.__anext__()


async def test_cancelled_anext_loses_no_delivery() -> None:
    engine, channel = await open_aio()
    consumer = await consuming(engine, channel)
    waiting = await start(consumer.__anext__())
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    deliver(engine, 1, b'kept')
    message = await asyncio.wait_for(consumer.__anext__(), 1)
    assert message.body == b'kept'


async def test_broker_cancel_ends_the_iteration_after_the_buffer() -> None:
    engine, channel = await open_aio()
    consumer = await consuming(engine, channel)
    deliver(engine, 1, b'last')
    engine.feed(method_bytes(CHANNEL, spec.Basic.Cancel('ctag')))
    received = []
    with pytest.raises(exceptions.ConsumerCancelled):
        async for message in consumer:
            received.append(message.body)
    assert received == [b'last']


async def test_consume_iterator_ends_with_the_channel_close_reason() -> None:
    engine, channel = await open_aio()
    consumer = await consuming(engine, channel)
    waiting = await start(consumer.__anext__())
    engine.feed(
        method_bytes(CHANNEL, spec.Channel.Close(404, 'NOT_FOUND', 0, 0)))
    with pytest.raises(exceptions.ChannelClosedByBroker):
        await waiting


async def test_basic_get_returns_none_or_the_message() -> None:
    engine, channel = await open_aio()
    getting = await start(channel.basic_get('q'))
    assert names(engine) == ['Basic.Get']
    engine.feed(method_bytes(CHANNEL, spec.Basic.GetEmpty()))
    assert await getting is None
    getting = await start(channel.basic_get('q'))
    engine.sent()
    engine.feed(
        content_bytes(CHANNEL, spec.Basic.GetOk(9, False, 'ex', 'rk', 0),
                      b'body'))
    message = await getting
    assert message is not None
    assert (message.body, message.delivery_tag, message.exchange,
            message.routing_key) == (b'body', 9, 'ex', 'rk')
    message.nack(requeue=False)
    (nack,) = engine.sent_methods()
    assert (nack.NAME, nack.delivery_tag, nack.requeue) == ('Basic.Nack', 9,
                                                            False)


async def test_cancelled_basic_get_requeues_the_late_message() -> None:
    engine, channel = await open_aio()
    getting = await start(channel.basic_get('q'))
    getting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getting
    engine.sent()
    engine.feed(
        content_bytes(CHANNEL, spec.Basic.GetOk(4, False, '', 'q', 0), b'x'))
    await settle()
    (reject,) = engine.sent_methods()
    assert (reject.NAME, reject.delivery_tag,
            reject.requeue) == ('Basic.Reject', 4, True)
    assert channel.is_open


async def test_callback_consumer_runs_coroutines_as_tasks() -> None:
    engine, channel = await open_aio()
    seen: List[bytes] = []

    async def on_message(message: pika.aio.Message) -> None:
        seen.append(message.body)
        await message.ack()

    consuming_ = await start(
        channel.basic_consume('q', on_message, consumer_tag='ctag'))
    engine.sent()
    engine.feed(method_bytes(CHANNEL, spec.Basic.ConsumeOk('ctag')))
    assert await consuming_ == 'ctag'
    deliver(engine, 1, b'a')
    deliver(engine, 2, b'b')
    await settle()
    assert seen == [b'a', b'b']
    assert [(m.NAME, m.delivery_tag) for m in engine.sent_methods()
           ] == [('Basic.Ack', 1), ('Basic.Ack', 2)]
