"""pika.aio with ``recovery=RecoveryConfig(...)`` against the real broker,
with faults injected by the scripted loopback proxy."""

import asyncio
import logging
import time
import uuid
from typing import Any, AsyncIterator, List

import pytest
import pytest_asyncio

import pika
import pika.aio
from pika import exceptions
from pika.recovery import RecoveryConfig, RecoveryState, TopologyRecoveryMode

from blocking_support import HOST, PORT, connection_block_frame
from fault_proxy import ScriptedFaultProxy

FAST = dict(initial_interval=0.05, max_interval=0.5)


def _name(prefix: str) -> str:
    return 'aio-recovery-%s-%s' % (prefix, uuid.uuid4().hex)


@pytest.fixture
def proxy() -> Any:
    proxy = ScriptedFaultProxy((HOST, PORT))
    yield proxy
    proxy.close()


async def _connect(proxy: ScriptedFaultProxy,
                   heartbeat: int = 10,
                   **config: Any) -> pika.aio.Connection:
    merged: dict = dict(FAST)
    merged.update(config)
    return await pika.aio.connect(pika.ConnectionParameters(
        host='127.0.0.1',
        port=proxy.port,
        heartbeat=heartbeat,
        connection_attempts=1,
        socket_timeout=2),
                                  recovery=RecoveryConfig(**merged))


@pytest_asyncio.fixture
async def direct() -> AsyncIterator[pika.aio.Channel]:
    """A channel on a connection that does not go through the proxy."""
    connection = await pika.aio.connect(pika.ConnectionParameters(HOST, PORT))
    yield await connection.channel()
    await connection.close()


async def _eventually(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('condition not met within %ss' % timeout)
        await asyncio.sleep(0.02)


async def _reset_and_recover(proxy: ScriptedFaultProxy,
                             conn: pika.aio.Connection) -> None:
    """Reset the link; return once the connection has recovered."""
    recovered = asyncio.Event()
    conn.add_on_recovery_succeeded_callback(lambda c, s: recovered.set())
    proxy.reset()
    await asyncio.wait_for(recovered.wait(), 10)
    assert conn.recovery_state is RecoveryState.IDLE


@pytest.mark.asyncio
async def test_reset_while_iterating_resumes_on_the_same_iterator(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    events: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, error: events.append(
        ('started', type(error))))
    conn.add_on_recovery_succeeded_callback(lambda c, skipped: events.append(
        ('succeeded', skipped)))
    channel = await conn.channel(7)
    channel_events: List[Any] = []
    channel.add_on_recovery_succeeded_callback(
        lambda ch, skipped: channel_events.append((ch, skipped)))
    declared = await channel.queue_declare('', exclusive=True)
    queue = declared.method.queue
    exchange = _name('fanout')
    await channel.exchange_declare(exchange, 'fanout', auto_delete=True)
    await channel.queue_bind(queue, exchange)
    got: List[bytes] = []
    async with channel.consume(queue, prefetch_count=3,
                               consumer_tag='my-tag') as messages:
        await channel.basic_publish(exchange, '', b'before')
        iterator = messages.__aiter__()
        message = await asyncio.wait_for(iterator.__anext__(), 5)
        got.append(message.body)
        await message.ack()

        await _reset_and_recover(proxy, conn)
        assert events == [('started', exceptions.StreamLostError),
                          ('succeeded', [])]
        assert channel_events == [(channel, [])]
        assert channel.channel_number == 7 and channel.is_open
        assert channel.consumer_tags == ['my-tag']
        new_queue = conn.current_queue_name(queue)
        assert new_queue != queue and new_queue.startswith('amq.gen-')
        assert messages.queue == new_queue
        # The binding followed the renamed queue; the same iterator yields.
        await channel.basic_publish(exchange, '', b'after')
        message = await asyncio.wait_for(iterator.__anext__(), 5)
        assert message.body == b'after'
        await message.ack()
        # QoS came back: with prefetch 3 only 3 unacked deliveries arrive.
        for _ in range(5):
            await channel.basic_publish(exchange, '', b'hold')
        await asyncio.sleep(0.5)
        assert messages.buffered == 3
    await conn.close()
    assert conn.is_closed and conn.recovery_state is RecoveryState.IDLE


@pytest.mark.asyncio
async def test_callback_consumer_and_return_callback_survive_a_reset(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    channel = await conn.channel()
    queue = _name('callback')
    await channel.queue_declare(queue, auto_delete=True)
    got: List[bytes] = []

    async def on_message(message: pika.aio.Message) -> None:
        got.append(message.body)
        await message.ack()

    await channel.basic_consume(queue, on_message)
    returned: List[Any] = []
    channel.add_on_return_callback(returned.append)
    await _reset_and_recover(proxy, conn)
    await channel.basic_publish('', queue, b'after')
    await channel.basic_publish('', _name('nowhere'), b'lost', mandatory=True)
    await _eventually(lambda: got == [b'after'])
    await _eventually(lambda: len(returned) == 1)
    await conn.close()


@pytest.mark.asyncio
async def test_unconfirmed_publish_raises_confirmation_lost_not_nack(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    channel = await conn.channel()
    await channel.confirm_delivery()
    queue = _name('confirm')
    await channel.queue_declare(queue, auto_delete=True)
    await channel.basic_publish('', queue, b'ok')
    proxy.stall()
    pending = channel.basic_publish('', queue, b'unknown fate')
    await asyncio.sleep(0.2)
    proxy.reset()
    proxy.resume()
    with pytest.raises(exceptions.ConfirmationLost) as info:
        await pending
    assert not isinstance(info.value, exceptions.NackError)
    assert info.value.messages[0].body == b'unknown fate'
    assert await conn.wait_for_recovery(10)
    await channel.basic_publish('', queue, b'again')  # confirm mode is back
    # A broker nack is still a NackError: a queue that refuses overflow.
    limited = _name('limited')
    await channel.queue_declare(limited,
                                auto_delete=True,
                                arguments={
                                    'x-max-length': 0,
                                    'x-overflow': 'reject-publish'
                                })
    with pytest.raises(exceptions.NackError):
        await channel.basic_publish('', limited, b'refused')
    await conn.close()


@pytest.mark.asyncio
async def test_republish_unconfirmed_resolves_on_the_new_confirm(
        proxy: ScriptedFaultProxy, direct: pika.aio.Channel) -> None:
    conn = await _connect(proxy, republish_unconfirmed=True)
    channel = await conn.channel()
    await channel.confirm_delivery()
    queue = _name('republish')
    await direct.queue_declare(queue, auto_delete=False)
    proxy.stall()
    pending = [
        asyncio.ensure_future(channel.basic_publish('', queue, b'm%d' % n))
        for n in range(3)
    ]
    await asyncio.sleep(0.2)
    proxy.reset()
    proxy.resume()
    await asyncio.wait_for(asyncio.gather(*pending), 10)
    assert conn.recovery_state is RecoveryState.IDLE
    bodies = set()
    while True:
        message = await direct.basic_get(queue, auto_ack=True)
        if message is None:
            break
        bodies.add(message.body)
    assert bodies == {b'm0', b'm1', b'm2'}  # at least once
    await direct.queue_delete(queue)
    await conn.close()


@pytest.mark.asyncio
async def test_calls_fail_fast_while_recovering_and_wait_when_asked(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, initial_interval=0.2, max_interval=0.2)
    channel = await conn.channel()
    proxy.refuse(True)
    proxy.reset()
    await _eventually(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    assert not conn.is_open and not conn.is_closed
    assert not channel.is_open and not channel.is_closed
    started = time.monotonic()
    with pytest.raises(exceptions.ConnectionRecovering):
        await channel.queue_declare(_name('lost'))
    with pytest.raises(exceptions.ConnectionRecovering):
        await channel.basic_publish('', 'x', b'y')
    with pytest.raises(exceptions.ConnectionRecovering):
        await conn.channel()
    assert time.monotonic() - started < 0.1  # fast
    assert issubclass(exceptions.ConnectionRecovering,
                      exceptions.AMQPConnectionError)
    await asyncio.sleep(0.5)  # attempts fail while refused
    assert conn.recovery_state is RecoveryState.RECONNECTING
    proxy.refuse(False)
    assert await conn.wait_for_recovery(10)
    await channel.queue_declare(_name('back'), auto_delete=True)
    await conn.close()

    waiting = await _connect(proxy, wait_timeout=10)
    channel = await waiting.channel()
    proxy.refuse(True)
    proxy.reset()
    await _eventually(
        lambda: waiting.recovery_state is RecoveryState.RECONNECTING)
    asyncio.get_running_loop().call_later(0.5, proxy.refuse, False)
    # Made while recovering: each waits for recovery, then goes through.
    reply = await channel.queue_declare(_name('waited'), exclusive=True)
    assert reply.method.queue
    assert waiting.recovery_state is RecoveryState.IDLE
    await channel.basic_publish('', reply.method.queue, b'waited')
    assert (await channel.basic_get(reply.method.queue)) is not None
    await waiting.close()


@pytest.mark.asyncio
async def test_ack_of_a_delivery_from_before_the_loss_is_not_sent(
        proxy: ScriptedFaultProxy, direct: pika.aio.Channel,
        caplog: Any) -> None:
    conn = await _connect(proxy)
    channel = await conn.channel()
    queue = _name('stale')
    await direct.queue_declare(queue, auto_delete=False)
    await direct.basic_publish('', queue, b'm1')
    async with channel.consume(queue) as messages:
        old = await asyncio.wait_for(messages.__anext__(), 5)
        await _reset_and_recover(proxy, conn)
        # The broker requeued it: it comes again on the same iterator.
        again = await asyncio.wait_for(messages.__anext__(), 5)
        assert again.body == b'm1' and again.redelivered
        assert again.delivery_tag > old.delivery_tag  # never the same
        caplog.set_level(logging.WARNING, logger='pika.recovery')
        caplog.clear()
        await old.ack()  # from before the loss: not sent
        channel.basic_ack(old.delivery_tag)  # by tag: not sent either
        assert old.settled and not again.settled
        await again.ack()
        await asyncio.sleep(0.2)
        assert channel.is_open  # no 406 PRECONDITION_FAILED
    stale_logs = [
        record for record in caplog.records
        if 'before the connection' in record.getMessage()
    ]
    assert len(stale_logs) == 1
    declared = await direct.queue_declare(queue, passive=True)
    assert declared.method.message_count == 0  # the live ack went through
    await direct.queue_delete(queue)
    await conn.close()


@pytest.mark.asyncio
async def test_skipped_consumer_ends_its_iterator_with_an_error(
        proxy: ScriptedFaultProxy, direct: pika.aio.Channel) -> None:
    queue = _name('foreign')
    await direct.queue_declare(queue)
    conn = await _connect(proxy)
    skipped_lists: List[Any] = []
    conn.add_on_recovery_succeeded_callback(
        lambda c, skipped: skipped_lists.append(skipped))
    channel = await conn.channel()
    keep = await channel.queue_declare('', exclusive=True)
    async with channel.consume(queue, consumer_tag='gone') as messages, \
            channel.consume(keep.method.queue) as kept:
        proxy.stall()
        await direct.queue_delete(queue)  # not declared through conn
        proxy.reset()
        proxy.resume()
        with pytest.raises(exceptions.ConsumerCancelled, match='gone'):
            await asyncio.wait_for(messages.__anext__(), 10)
        await _eventually(lambda: skipped_lists)
        [entity] = skipped_lists[0]
        assert (entity.kind, entity.name) == ('consumer', 'gone')
        assert entity.details['queue'] == queue and entity.reason
        assert channel.is_open and channel.consumer_tags == [kept.consumer_tag]
        # The other consumer of the channel still consumes.
        new_name = conn.current_queue_name(keep.method.queue)
        await channel.basic_publish('', new_name, b'kept')
        message = await asyncio.wait_for(kept.__anext__(), 5)
        assert message.body == b'kept'
    await conn.close()


@pytest.mark.asyncio
async def test_recovery_gives_up_after_max_attempts_and_closes(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, max_attempts=2, initial_interval=0.05)
    failed: List[Any] = []
    conn.add_on_recovery_failed_callback(lambda c, e: failed.append(e))
    channel = await conn.channel()
    await channel.confirm_delivery()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    async with channel.consume(queue, auto_ack=True) as messages:
        proxy.stall()
        pending = channel.basic_publish('', queue, b'never confirmed')
        iterating = asyncio.ensure_future(messages.__anext__())
        await asyncio.sleep(0.1)
        proxy.refuse(True)
        proxy.reset()
        reason = await asyncio.wait_for(conn.wait_closed(), 10)
        assert isinstance(reason, exceptions.StreamLostError)
        assert conn.recovery_state is RecoveryState.FAILED
        assert len(failed) == 1
        assert conn.is_closed and channel.is_closed
        assert channel.close_reason is reason
        with pytest.raises(exceptions.StreamLostError):
            await iterating
    with pytest.raises(exceptions.ConfirmationLost):
        await pending
    with pytest.raises(exceptions.ChannelWrongStateError):
        await channel.basic_publish('', queue, b'')
    assert not await conn.wait_for_recovery(1)


@pytest.mark.asyncio
async def test_silent_peer_detected_within_two_heartbeats_and_recovered(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, heartbeat=2)
    lost: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: lost.append(
        (time.monotonic(), e)))
    await conn.channel()
    await asyncio.sleep(0.5)
    stalled_at = time.monotonic()
    proxy.stall(existing_only=True)
    await _eventually(lambda: lost, timeout=15)
    detected = lost[0][0] - stalled_at
    assert isinstance(lost[0][1], exceptions.AMQPHeartbeatTimeout)
    assert detected <= 2 * 2 + 1, detected
    assert await conn.wait_for_recovery(10)
    await conn.close()


@pytest.mark.asyncio
async def test_busy_loop_is_not_a_dead_peer(proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, heartbeat=2)
    lost: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: lost.append(e))
    channel = await conn.channel()
    await asyncio.sleep(0.5)
    time.sleep(3.0)  # blocks the loop past 2 x heartbeat / 2
    await asyncio.sleep(1.0)
    assert lost == [] and conn.recovery_state is RecoveryState.IDLE
    assert channel.is_open
    await conn.close()


@pytest.mark.asyncio
async def test_cancelled_awaits_during_recovery_leave_nothing_stuck(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, wait_timeout=30, initial_interval=0.1)
    channel = await conn.channel()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    proxy.refuse(True)
    proxy.reset()
    await _eventually(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(channel.queue_declare(_name('x')), 0.2)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(channel.basic_publish('', queue, b'x'), 0.2)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(conn.channel(), 0.2)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(conn.wait_for_recovery(), 0.2)
    proxy.refuse(False)
    assert await conn.wait_for_recovery(10)
    # The channel is usable; the cancelled publish was never sent.
    new_queue = conn.current_queue_name(queue)
    assert (await channel.queue_declare(new_queue,
                                        passive=True)).method.message_count == 0
    other = await conn.channel()
    assert other.is_open
    # A recovery task cancelled by close() leaves nothing behind either.
    proxy.refuse(True)
    proxy.reset()
    await _eventually(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    waiter = asyncio.ensure_future(channel.queue_declare(_name('y')))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(conn.close(), 5)
    assert conn.is_closed and channel.is_closed and other.is_closed
    assert conn.recovery_state is RecoveryState.IDLE
    assert isinstance(conn.close_reason, exceptions.ConnectionClosedByClient)
    with pytest.raises(exceptions.AMQPError):
        await asyncio.wait_for(waiter, 5)
    proxy.refuse(False)


@pytest.mark.asyncio
async def test_channel_errors_and_client_close_are_not_recovered(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    started: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: started.append(e))
    channel = await conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        await channel.queue_declare(_name('missing'), passive=True)
    assert info.value.reply_code == 404
    assert channel.is_closed
    assert conn.recovery_state is RecoveryState.IDLE
    await conn.close()
    assert conn.is_closed and started == []
    assert conn.recovery_state is RecoveryState.IDLE


@pytest.mark.asyncio
async def test_topology_recovery_disabled_reports_consumers(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, topology=TopologyRecoveryMode.DISABLED)
    skipped_lists: List[Any] = []
    conn.add_on_recovery_succeeded_callback(
        lambda c, skipped: skipped_lists.append(skipped))
    channel = await conn.channel()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    async with channel.consume(queue) as messages:
        proxy.reset()
        with pytest.raises(exceptions.ConsumerCancelled):
            await asyncio.wait_for(messages.__anext__(), 10)
    assert [entity.kind for entity in skipped_lists[0]] == ['consumer']
    assert conn.current_queue_name(queue) == queue
    assert channel.is_open and channel.consumer_tags == []
    await conn.close()


@pytest.mark.asyncio
async def test_connection_blocked_timeout_is_recovered(
        proxy: ScriptedFaultProxy) -> None:
    conn = await pika.aio.connect(pika.ConnectionParameters(
        host='127.0.0.1', port=proxy.port, blocked_connection_timeout=0.5),
                                  recovery=RecoveryConfig(**FAST))
    losses: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    blocked: List[Any] = []
    conn.add_on_connection_blocked_callback(lambda c, f: blocked.append(f))
    channel = await conn.channel()
    proxy.inject(connection_block_frame())
    await _eventually(lambda: losses)
    assert await conn.wait_for_recovery(10)
    assert isinstance(losses[0], exceptions.ConnectionBlockedTimeout)
    assert len(blocked) == 1 and not conn.is_blocked
    assert channel.is_open
    # The blocked callback is registered on the new connection too.
    proxy.inject(connection_block_frame())
    await _eventually(lambda: len(blocked) == 2)
    await conn.close()


@pytest.mark.asyncio
async def test_recovery_listeners_need_recovery() -> None:
    plain = await pika.aio.connect(pika.ConnectionParameters(HOST, PORT))
    assert plain.recovery_state is None
    with pytest.raises(ValueError, match='recovery'):
        plain.add_on_recovery_started_callback(lambda *a: None)
    channel = await plain.channel()
    with pytest.raises(ValueError, match='recovery'):
        channel.add_on_recovery_succeeded_callback(lambda *a: None)
    await plain.close()


@pytest.mark.asyncio
async def test_recovers_on_the_next_host_of_the_sequence() -> None:
    first = ScriptedFaultProxy((HOST, PORT))
    second = ScriptedFaultProxy((HOST, PORT))
    try:
        hosts = [
            pika.ConnectionParameters(host='127.0.0.1',
                                      port=proxy.port,
                                      connection_attempts=1,
                                      socket_timeout=2)
            for proxy in (first, second)
        ]
        conn = await pika.aio.connect(hosts, recovery=RecoveryConfig(**FAST))
        channel = await conn.channel()
        queue = (await channel.queue_declare('', exclusive=True)).method.queue
        assert (first.active, second.active) == (1, 0)
        first.refuse(True)  # the node is down
        await _reset_and_recover(first, conn)
        assert (first.active, second.active) == (0, 1)
        new_queue = conn.current_queue_name(queue)
        await channel.basic_publish('', new_queue, b'moved')
        message = await channel.basic_get(new_queue)
        assert message is not None and message.body == b'moved'
        await message.ack()
        await conn.close()
    finally:
        first.close()
        second.close()


@pytest.mark.asyncio
async def test_two_recoveries_keep_tags_growing_and_acks_working(
        proxy: ScriptedFaultProxy, direct: pika.aio.Channel) -> None:
    conn = await _connect(proxy)
    channel = await conn.channel()
    queue = _name('twice')
    await direct.queue_declare(queue, auto_delete=False)
    tags: List[int] = []
    async with channel.consume(queue) as messages:
        for round_number in range(3):
            await direct.basic_publish('', queue, b'%d' % round_number)
            message = await asyncio.wait_for(messages.__anext__(), 5)
            assert message.body == b'%d' % round_number
            tags.append(message.delivery_tag)
            await message.ack()
            # A round trip: the broker has the ack before the link dies.
            await channel.queue_declare(queue, passive=True)
            if round_number < 2:
                await _reset_and_recover(proxy, conn)
    await direct.basic_publish('', queue, b'got')
    await channel.queue_declare(queue, passive=True)
    got = await channel.basic_get(queue)
    assert got is not None and got.delivery_tag > tags[-1]
    await got.nack(requeue=False)
    assert tags == sorted(tags) and len(set(tags)) == 3
    await asyncio.sleep(0.2)
    assert channel.is_open
    declared = await direct.queue_declare(queue, passive=True)
    assert declared.method.message_count == 0  # every ack/nack went through
    await direct.queue_delete(queue)
    await conn.close()


@pytest.mark.asyncio
async def test_channel_closed_while_recovering_is_not_restored(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    kept = await conn.channel()
    dropped = await conn.channel()
    closes: List[Any] = []
    dropped.add_on_close_callback(lambda ch, reason: closes.append(reason))
    proxy.refuse(True)
    proxy.reset()
    await _eventually(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    await dropped.close()
    assert dropped.is_closed and len(closes) == 1
    assert isinstance(closes[0], exceptions.ChannelClosedByClient)
    proxy.refuse(False)
    assert await conn.wait_for_recovery(10)
    assert kept.is_open and dropped.is_closed
    await conn.close()


@pytest.mark.asyncio
async def test_broker_close_320_is_recovered_and_consumer_resumes() -> None:
    # Direct to the broker: rabbitmqctl finds the connection by our port.
    from test_blocking_faults import _close_from_broker
    conn = await pika.aio.connect(pika.ConnectionParameters(HOST, PORT),
                                  recovery=RecoveryConfig(**FAST))
    losses: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = await conn.channel()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    async with channel.consume(queue, auto_ack=True) as messages:
        local_port = conn._impl._transport._sock.getsockname()[1]
        await asyncio.to_thread(_close_from_broker, local_port, 'node going')
        await _eventually(lambda: losses, timeout=30)
        assert await conn.wait_for_recovery(10)
        assert isinstance(losses[0], exceptions.ConnectionClosedByBroker)
        assert losses[0].reply_code == 320
        await channel.basic_publish('', conn.current_queue_name(queue),
                                    b'after close')
        message = await asyncio.wait_for(messages.__anext__(), 5)
        assert message.body == b'after close'
    await conn.close()


@pytest.mark.asyncio
@pytest.mark.parametrize('fault', ['half_open', 'drop_after'])
async def test_half_open_link_and_cut_frame_are_recovered(
        proxy: ScriptedFaultProxy, fault: str) -> None:
    conn = await _connect(proxy, heartbeat=1)
    losses: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = await conn.channel()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    got: List[bytes] = []
    await channel.basic_consume(queue,
                                lambda message: got.append(message.body),
                                auto_ack=True)
    if fault == 'half_open':
        proxy.half_open()
        asyncio.get_running_loop().call_later(4, proxy.resume)
    else:
        proxy.drop_after(20)  # inside the next delivery's frames
        await channel.basic_publish('', queue, b'x' * 1000)
    await _eventually(lambda: losses, timeout=15)
    assert await conn.wait_for_recovery(15)
    expected = (exceptions.AMQPHeartbeatTimeout
                if fault == 'half_open' else exceptions.StreamLostError)
    assert isinstance(losses[0], expected)
    await channel.basic_publish('', conn.current_queue_name(queue), b'after')
    await _eventually(lambda: b'after' in got)
    await conn.close()


@pytest.mark.asyncio
async def test_slow_link_is_not_a_loss(proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy, heartbeat=2)
    losses: List[Any] = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = await conn.channel()
    queue = (await channel.queue_declare('', exclusive=True)).method.queue
    proxy.slow(20000)  # 20 kB/s
    for _ in range(10):
        await channel.basic_publish('', queue, b'y' * 10000)
    await asyncio.sleep(6)
    declared = await channel.queue_declare(queue, passive=True)
    assert declared.method.message_count == 10
    assert losses == []
    proxy.resume()
    await conn.close()


@pytest.mark.asyncio
async def test_channel_closed_while_being_restored_stays_closed(
        proxy: ScriptedFaultProxy) -> None:
    conn = await _connect(proxy)
    closing = await conn.channel()
    await closing.basic_qos(prefetch_count=5)
    kept = await conn.channel()
    queue = (await kept.queue_declare('', exclusive=True)).method.queue
    proxy.slow(4000)  # the attempt's handshake and restore take a while
    proxy.reset()
    await _eventually(
        lambda: conn._recovery is not None and conn._recovery.restoring)
    await asyncio.wait_for(closing.close(), 10)
    assert closing.is_closed
    proxy.resume()
    assert await conn.wait_for_recovery(15)
    assert closing.is_closed and kept.is_open
    await kept.basic_publish('', conn.current_queue_name(queue), b'x')
    await conn.close()
