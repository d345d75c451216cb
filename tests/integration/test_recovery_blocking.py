"""BlockingConnection(recovery=...) against the real broker, with faults
injected by a scripted loopback proxy."""

import logging
import os
import pathlib
import subprocess
import sys
import threading
import time
import uuid

import pytest

import pika
from pika import exceptions
from pika.recovery import (RecoveryConfig, RecoveryState, TopologyRecoveryMode)

from blocking_support import HOST, PORT, connection_block_frame
from fault_proxy import ScriptedFaultProxy

ROOT = pathlib.Path(__file__).resolve().parents[2]
FAST = dict(initial_interval=0.05, max_interval=0.5)


def _name(prefix: str) -> str:
    return 'recovery-%s-%s' % (prefix, uuid.uuid4().hex)


@pytest.fixture
def proxy():
    proxy = ScriptedFaultProxy((HOST, PORT))
    yield proxy
    proxy.close()


def _connect(proxy, heartbeat=10, **config):
    merged = dict(FAST)
    merged.update(config)
    return pika.BlockingConnection(pika.ConnectionParameters(
        host='127.0.0.1',
        port=proxy.port,
        heartbeat=heartbeat,
        connection_attempts=1,
        socket_timeout=2),
                                   recovery=RecoveryConfig(**merged))


def _later(delay, *actions):
    """Script the proxy from another thread while the test's call waits."""

    def run():
        for action in actions:
            action()

    timer = threading.Timer(delay, run)
    timer.daemon = True
    timer.start()


def _direct():
    return pika.BlockingConnection(
        pika.ConnectionParameters(host=HOST, port=PORT))


def _wait_for(predicate, connection, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('condition not met within %ss' % timeout)
        connection.process_data_events(0.05)


def test_reset_restores_channels_qos_topology_and_consumers(proxy):
    conn = _connect(proxy)
    events = []
    conn.add_on_recovery_started_callback(lambda c, error: events.append(
        ('started', type(error))))
    conn.add_on_recovery_succeeded_callback(lambda c, skipped: events.append(
        ('succeeded', skipped)))
    channel = conn.channel(7)
    channel.basic_qos(prefetch_count=3)
    queue = channel.queue_declare('', exclusive=True).method.queue
    exchange = _name('fanout')
    channel.exchange_declare(exchange, 'fanout', auto_delete=True)
    channel.queue_bind(queue, exchange)
    got = []

    def on_message(ch, method, _props, body):
        got.append((method.delivery_tag, body))
        if body != b'hold':
            ch.basic_ack(method.delivery_tag)

    tag = channel.basic_consume(queue, on_message, consumer_tag='my-tag')
    channel.basic_publish(exchange, '', b'before')
    _wait_for(lambda: len(got) == 1, conn)

    proxy.reset()
    _wait_for(
        lambda: conn.recovery_state is RecoveryState.IDLE and len(events) == 2,
        conn)
    assert events[0] == ('started', exceptions.StreamLostError)
    assert events[1] == ('succeeded', [])
    new_queue = conn.current_queue_name(queue)
    assert new_queue != queue and new_queue.startswith('amq.gen-')
    assert channel.channel_number == 7 and channel.is_open
    assert channel.consumer_tags == [tag] == ['my-tag']
    # The binding followed the new queue; the consumer too, with its
    # callback; delivery tags continue above the old ones.
    channel.basic_publish(exchange, '', b'after')
    _wait_for(lambda: len(got) == 2, conn)
    assert got[1][1] == b'after'
    assert got[1][0] > got[0][0]
    # QoS came back: with prefetch 3, only 3 unacknowledged messages come.
    for _ in range(5):
        channel.basic_publish(exchange, '', b'hold')
    _wait_for(lambda: len(got) >= 5, conn)
    conn.process_data_events(0.3)  # a fourth one would come by now
    assert [body for _, body in got[2:]] == [b'hold'] * 3
    conn.close()
    assert conn.recovery_state is RecoveryState.IDLE


def test_reset_restores_an_exchange_to_exchange_binding(proxy):
    conn = _connect(proxy)
    channel = conn.channel()
    source = _name('e2e-source')
    destination = _name('e2e-destination')
    channel.exchange_declare(source, 'fanout', auto_delete=True)
    channel.exchange_declare(destination, 'fanout', auto_delete=True)
    channel.exchange_bind(destination, source)
    queue = channel.queue_declare('', exclusive=True).method.queue
    channel.queue_bind(queue, destination)
    got = []
    channel.basic_consume(queue,
                          lambda ch, method, _p, body: got.append(body),
                          auto_ack=True)
    channel.basic_publish(source, '', b'before')
    _wait_for(lambda: got == [b'before'], conn)

    proxy.reset()
    _wait_for(
        lambda: conn.recovery_state is RecoveryState.IDLE and channel.is_open
        and conn.current_queue_name(queue) != queue, conn)
    # The exchanges were auto-delete (gone with the connection): the message
    # reaches the new queue only if both exchanges and the binding between
    # them were declared again.
    channel.basic_publish(source, '', b'after')
    _wait_for(lambda: got == [b'before', b'after'], conn)
    conn.close()


def test_stale_delivery_tag_ack_is_not_sent(proxy, caplog):
    conn = _connect(proxy)
    channel = conn.channel()
    queue = _name('stale')
    channel.queue_declare(queue, auto_delete=False)
    channel.basic_publish('', queue, b'm1')
    held = []
    channel.basic_consume(queue, lambda ch, method, p, b: held.append(method))
    _wait_for(lambda: held, conn)
    proxy.reset()
    assert conn.wait_for_recovery(10)
    # The message was requeued by the broker and comes again.
    _wait_for(lambda: len(held) == 2, conn)
    caplog.set_level(logging.WARNING, logger='pika.recovery')
    caplog.clear()
    channel.basic_ack(held[0].delivery_tag)  # from before the loss
    channel.basic_ack(held[0].delivery_tag)
    assert [
        r for r in caplog.records if 'before the connection' in r.getMessage()
    ].__len__() == 1
    assert held[1].delivery_tag > held[0].delivery_tag
    channel.basic_ack(held[1].delivery_tag)  # a live one
    conn.process_data_events(0.2)
    assert channel.is_open  # no 406 PRECONDITION_FAILED for an unknown tag
    channel.close()
    # The live ack reached the broker: nothing was requeued by the close.
    other = conn.channel()
    assert other.queue_declare(queue, passive=True).method.message_count == 0
    other.queue_delete(queue)
    conn.close()


def test_prefetched_deliveries_are_redelivered_and_acked_after_loss(proxy):
    conn = _connect(proxy)
    channel = conn.channel()
    channel.basic_qos(prefetch_count=5)
    queue = _name('prefetch')
    channel.queue_declare(queue)
    for number in range(20):
        channel.basic_publish('', queue, b'%d' % number)
    got = set()

    def on_message(ch, method, _props, body):
        got.add(body)
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_message)
    conn.process_data_events(0)  # 5 deliveries arrive, none acked yet
    proxy.reset()
    _wait_for(lambda: len(got) == 20, conn)
    channel.queue_delete(queue)
    conn.close()


def test_recovery_example_runs():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run(
        [sys.executable,
         str(ROOT / 'examples' / 'recovery_blocking.py')],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False)
    assert result.returncode == 0, result.stderr
    assert 'consumed 20 messages after 1 recovery' in result.stdout


def test_unconfirmed_publish_raises_confirmation_lost(proxy):
    conn = _connect(proxy)
    channel = conn.channel()
    channel.confirm_delivery()
    queue = _name('confirm')
    channel.queue_declare(queue)
    channel.basic_publish('', queue, b'ok')
    proxy.stall()
    with pytest.raises(exceptions.ConfirmationLost) as info:
        # The stall keeps the confirm from coming; the reset then loses it.
        _later(0.3, proxy.reset, proxy.resume)
        channel.basic_publish('', queue, b'unknown fate')
    assert not isinstance(info.value, exceptions.NackError)
    assert info.value.messages[0].body == b'unknown fate'
    assert conn.wait_for_recovery(10)
    channel.basic_publish('', queue, b'again')  # confirm mode is back
    channel.queue_delete(queue)
    conn.close()


def test_republish_unconfirmed_delivers_at_least_once(proxy):
    conn = _connect(proxy, republish_unconfirmed=True)
    channel = conn.channel()
    channel.confirm_delivery()
    queue = _name('republish')
    channel.queue_declare(queue)
    proxy.stall()
    _later(0.3, proxy.reset, proxy.resume)
    channel.basic_publish('', queue, b'must arrive')
    assert conn.recovery_state is RecoveryState.IDLE
    with _direct() as other:
        method, _props, body = other.channel().basic_get(queue, auto_ack=True)
        assert body == b'must arrive'
    channel.queue_delete(queue)
    conn.close()


def test_calls_fail_fast_while_recovering_and_wait_when_asked(proxy):
    conn = _connect(proxy, initial_interval=0.2, max_interval=0.2)
    channel = conn.channel()
    proxy.refuse(True)
    proxy.reset()
    with pytest.raises(exceptions.ConnectionRecovering):
        channel.queue_declare(_name('lost'))
    assert conn.recovery_state is RecoveryState.RECONNECTING
    assert not conn.is_open and not conn.is_closed
    started = time.monotonic()
    with pytest.raises(exceptions.ConnectionRecovering):
        channel.basic_publish('', 'x', b'y')
    with pytest.raises(exceptions.ConnectionRecovering):
        conn.channel()
    assert time.monotonic() - started < 0.1  # fast
    assert exceptions.ConnectionRecovering.__mro__[1] is (
        exceptions.AMQPConnectionError)
    conn.process_data_events(0.5)  # attempts fail while refused
    assert conn.recovery_state is RecoveryState.RECONNECTING
    proxy.refuse(False)
    assert conn.wait_for_recovery(10)
    channel.queue_declare(_name('back'), auto_delete=True)
    conn.close()

    waiting = _connect(proxy, wait_timeout=10)
    channel = waiting.channel()
    proxy.refuse(True)
    proxy.reset()
    with pytest.raises(exceptions.ConnectionRecovering):
        # The call that finds the connection lost cannot know whether the
        # broker got it.
        channel.queue_declare(_name('interrupted'), exclusive=True)
    _later(0.5, lambda: proxy.refuse(False))
    # Made while recovering: waits for recovery, then goes through.
    reply = channel.queue_declare(_name('waited'), exclusive=True)
    assert reply.method.queue
    assert waiting.recovery_state is RecoveryState.IDLE
    waiting.close()


def test_channel_errors_and_client_close_are_not_recovered(proxy):
    conn = _connect(proxy)
    started = []
    conn.add_on_recovery_started_callback(lambda c, e: started.append(e))
    channel = conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.queue_declare(_name('missing'), passive=True)
    assert info.value.reply_code == 404
    assert channel.is_closed
    assert conn.recovery_state is RecoveryState.IDLE
    conn.close()
    assert conn.is_closed and started == []
    assert conn.recovery_state is RecoveryState.IDLE


def test_consumer_of_vanished_queue_is_reported_skipped(proxy):
    owner = _direct()
    queue = _name('foreign')
    owner_channel = owner.channel()
    owner_channel.queue_declare(queue)
    conn = _connect(proxy)
    skipped_lists = []
    conn.add_on_recovery_succeeded_callback(
        lambda c, skipped: skipped_lists.append(skipped))
    channel = conn.channel()
    channel_skipped = []
    channel.add_on_recovery_succeeded_callback(
        lambda ch, skipped: channel_skipped.append(skipped))
    channel.basic_consume(queue, lambda *args: None, consumer_tag='gone')
    proxy.stall()
    owner_channel.queue_delete(queue)  # not declared through conn
    owner.close()
    proxy.reset()
    proxy.resume()
    _wait_for(lambda: skipped_lists, conn)
    assert len(skipped_lists) == 1
    [entity] = skipped_lists[0]
    assert (entity.kind, entity.name) == ('consumer', 'gone')
    assert entity.details['queue'] == queue and entity.reason
    assert channel_skipped == [[entity]]
    assert channel.is_open and channel.consumer_tags == []
    channel.start_consuming()  # no consumers left: returns at once
    conn.close()


def test_recovery_gives_up_after_max_attempts(proxy):
    conn = _connect(proxy, max_attempts=2, initial_interval=0.05)
    failed = []
    conn.add_on_recovery_failed_callback(lambda c, e: failed.append(e))
    channel = conn.channel()
    proxy.refuse(True)
    proxy.reset()
    with pytest.raises(exceptions.AMQPConnectionError):
        conn.sleep(3)
    assert conn.recovery_state is RecoveryState.FAILED
    assert len(failed) == 1
    assert conn.is_closed and channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.basic_publish('', 'q', b'')


def test_silent_peer_detected_within_two_heartbeats_and_recovered(proxy):
    conn = _connect(proxy, heartbeat=2)
    lost = []
    conn.add_on_recovery_started_callback(lambda c, e: lost.append(
        (time.monotonic(), e)))
    conn.channel()
    conn.process_data_events(0.5)
    stalled_at = time.monotonic()
    proxy.stall()
    while not lost and time.monotonic() - stalled_at < 15:
        conn.process_data_events(0.1)
    detected = lost[0][0] - stalled_at
    assert isinstance(lost[0][1], exceptions.AMQPHeartbeatTimeout)
    assert detected <= 2 * 2 + 1, detected
    proxy.reset()
    proxy.resume()
    assert conn.wait_for_recovery(10)
    conn.close()


def test_busy_loop_is_not_a_dead_peer(proxy):
    conn = _connect(proxy, heartbeat=2)
    lost = []
    conn.add_on_recovery_started_callback(lambda c, e: lost.append(e))
    channel = conn.channel()
    conn.call_later(0.1, lambda: time.sleep(3.0))  # blocks the loop
    conn.process_data_events(0.5)
    conn.process_data_events(2.0)
    assert lost == [] and conn.recovery_state is RecoveryState.IDLE
    assert channel.is_open
    conn.close()


def test_topology_recovery_disabled_reports_consumers(proxy):
    conn = _connect(proxy, topology=TopologyRecoveryMode.DISABLED)
    skipped_lists = []
    conn.add_on_recovery_succeeded_callback(
        lambda c, skipped: skipped_lists.append(skipped))
    channel = conn.channel()
    channel.basic_qos(prefetch_count=2)
    queue = channel.queue_declare('', exclusive=True).method.queue
    channel.basic_consume(queue, lambda *args: None)
    proxy.reset()
    _wait_for(lambda: skipped_lists, conn)
    assert [entity.kind for entity in skipped_lists[0]] == ['consumer']
    assert conn.current_queue_name(queue) == queue
    assert channel.is_open and channel.consumer_tags == []
    conn.close()


def test_recovery_arguments_are_checked():
    with pytest.raises(TypeError, match='recovery'):
        pika.BlockingConnection(pika.ConnectionParameters(host=HOST, port=PORT),
                                recovery={'max_attempts': 3})
    plain = _direct()
    assert plain.recovery_state is None
    with pytest.raises(ValueError, match='recovery'):
        plain.add_on_recovery_started_callback(lambda *a: None)
    with pytest.raises(ValueError, match='recovery'):
        plain.channel().add_on_recovery_succeeded_callback(lambda *a: None)
    plain.close()


def test_connection_blocked_timeout_is_recovered(proxy):
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        host='127.0.0.1', port=proxy.port, blocked_connection_timeout=0.5),
                                   recovery=RecoveryConfig(**FAST))
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = conn.channel()
    proxy.inject(connection_block_frame())
    _wait_for(lambda: losses and conn.recovery_state is RecoveryState.IDLE,
              conn)
    assert isinstance(losses[0], exceptions.ConnectionBlockedTimeout)
    assert channel.is_open
    conn.close()


@pytest.mark.parametrize('fault', ['half_open', 'drop_after'])
def test_half_open_link_and_cut_frame_are_recovered(proxy, fault):
    conn = _connect(proxy, heartbeat=1)
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    got = []
    channel.basic_consume(queue,
                          lambda ch, m, p, body: got.append(body),
                          auto_ack=True)
    if fault == 'half_open':
        proxy.half_open()
        _later(4, proxy.resume)
    else:
        proxy.drop_after(20)  # inside the next delivery's frames
        channel.basic_publish('', queue, b'x' * 1000)
    _wait_for(lambda: losses and conn.recovery_state is RecoveryState.IDLE,
              conn,
              timeout=15)
    expected = (exceptions.AMQPHeartbeatTimeout
                if fault == 'half_open' else exceptions.StreamLostError)
    assert isinstance(losses[0], expected)
    channel.basic_publish('', conn.current_queue_name(queue), b'after')
    _wait_for(lambda: b'after' in got, conn)
    conn.close()


def test_slow_link_is_not_a_loss(proxy):
    conn = _connect(proxy, heartbeat=2)
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    proxy.slow(20000)  # 20 kB/s
    for _ in range(10):
        channel.basic_publish('', queue, b'y' * 10000)
    conn.process_data_events(6)
    assert channel.queue_declare(queue, passive=True).method.message_count == 10
    assert losses == []
    proxy.resume()
    conn.close()


def test_close_while_recovering_stops_recovery(proxy):
    conn = _connect(proxy)
    channel = conn.channel()
    other = conn.channel()
    proxy.refuse(True)
    proxy.reset()
    conn.process_data_events(0.1)
    assert conn.recovery_state is RecoveryState.RECONNECTING
    other.close()
    assert other.is_closed
    conn.close()
    assert conn.is_closed and channel.is_closed
    assert conn.recovery_state is RecoveryState.IDLE
    proxy.refuse(False)


def test_consume_generator_and_timers_survive_a_loss(proxy):
    conn = _connect(proxy)
    channel = conn.channel()
    queue = _name('generator')
    channel.queue_declare(queue)
    fired = []
    conn.call_later(0.5, lambda: fired.append('timer'))
    bodies = []
    _later(0.2, proxy.reset)
    _later(1.0, lambda: _publish_direct(queue, b'after loss'))
    for method, _props, body in channel.consume(queue, inactivity_timeout=0.1):
        if body is not None:
            bodies.append(body)
            channel.basic_ack(method.delivery_tag)
        if bodies and fired:
            break
    assert bodies == [b'after loss'] and fired == ['timer']
    channel.cancel()
    channel.queue_delete(queue)
    conn.close()


def _publish_direct(queue, body):
    with _direct() as other:
        other.channel().basic_publish('', queue, body)
