"""The thread-safe Connection(recovery=...) against the real broker, with
faults injected by a scripted loopback proxy."""

import threading
import time
import uuid

import pytest

import pika
from pika import exceptions
from pika.recovery import RecoveryConfig, RecoveryState

from blocking_support import HOST, PORT, connection_block_frame
from fault_proxy import ScriptedFaultProxy

FAST = dict(initial_interval=0.05, max_interval=0.5)


def _name(prefix):
    return 'ts-recovery-%s-%s' % (prefix, uuid.uuid4().hex)


@pytest.fixture
def proxy():
    proxy = ScriptedFaultProxy((HOST, PORT))
    yield proxy
    proxy.close()


def _connect(proxy, heartbeat=10, **config):
    merged = dict(FAST)
    merged.update(config)
    return pika.Connection(pika.ConnectionParameters(host='127.0.0.1',
                                                     port=proxy.port,
                                                     heartbeat=heartbeat,
                                                     connection_attempts=1,
                                                     socket_timeout=2),
                           recovery=RecoveryConfig(**merged))


def _direct():
    return pika.BlockingConnection(
        pika.ConnectionParameters(host=HOST, port=PORT))


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('condition not met within %ss' % timeout)
        time.sleep(0.02)


def _recovered(conn, events, count):
    return lambda: (conn.recovery_state is RecoveryState.IDLE and sum(
        1 for event in events if event[0] == 'succeeded') >= count)


def _listen(conn):
    events = []
    conn.add_on_recovery_started_callback(lambda c, error: events.append(
        ('started', type(error), threading.current_thread().name)))
    conn.add_on_recovery_succeeded_callback(lambda c, skipped: events.append(
        ('succeeded', skipped)))
    conn.add_on_recovery_failed_callback(lambda c, error: events.append(
        ('failed', error)))
    return events


def test_reset_restores_channel_qos_topology_and_consumer_on_same_objects(
        proxy):
    conn = _connect(proxy)
    events = _listen(conn)
    channel = conn.channel(7)
    channel.basic_qos(prefetch_count=3)
    queue = channel.queue_declare('', exclusive=True).method.queue
    exchange = _name('fanout')
    channel.exchange_declare(exchange, 'fanout', auto_delete=True)
    channel.queue_bind(queue, exchange)
    got = []
    workers = set()

    def on_message(ch, method, _props, body):
        assert ch is channel
        workers.add(threading.current_thread())
        got.append((method.delivery_tag, body))
        if body != b'hold':
            ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_message, consumer_tag='my-tag')
    channel.basic_publish(exchange, '', b'before')
    _wait_for(lambda: len(got) == 1)

    proxy.reset()
    _wait_for(_recovered(conn, events, 1))
    # listeners ran on the recovery thread, not on the I/O thread
    assert events[0][:2] == ('started', exceptions.StreamLostError)
    assert events[0][2].startswith('pika-recovery-')
    assert events[1] == ('succeeded', [])
    new_queue = conn.current_queue_name(queue)
    assert new_queue != queue and new_queue.startswith('amq.gen-')
    assert conn.is_open and channel.is_open
    assert channel.channel_number == 7
    assert channel.consumer_tags == ['my-tag']
    channel.basic_publish(exchange, '', b'after')
    _wait_for(lambda: len(got) == 2)
    assert got[1][1] == b'after' and got[1][0] > got[0][0]
    # one worker thread for the channel, before and after the loss
    assert len(workers) == 1
    # QoS came back: with prefetch 3 only 3 unacknowledged messages come
    for _ in range(5):
        channel.basic_publish(exchange, '', b'hold')
    time.sleep(0.5)
    assert [body for _, body in got[2:]] == [b'hold'] * 3
    conn.close()
    assert conn.recovery_state is RecoveryState.IDLE


@pytest.mark.parametrize('republish', [False, True],
                         ids=['confirmation-lost', 'republished'])
def test_reset_while_threads_publish_loses_no_confirmed_message(
        proxy, republish):
    conn = _connect(proxy, republish_unconfirmed=republish)
    queue = _name('many')
    setup = conn.channel()
    setup.queue_declare(queue)
    confirmed, lost, recovering, other = [], [], [], []
    lock = threading.Lock()
    stop = threading.Event()

    def publisher(number):
        channel = conn.channel()
        channel.confirm_delivery()
        sent = 0
        while not stop.is_set():
            body = b'%d-%d' % (number, sent)
            sent += 1
            try:
                channel.basic_publish('', queue, body)
            except exceptions.ConfirmationLost as error:
                assert not isinstance(error, exceptions.NackError)
                assert [m.body for m in error.messages] == [body]
                with lock:
                    lost.append(body)
            except exceptions.ConnectionRecovering:
                with lock:
                    recovering.append(body)
                time.sleep(0.01)
            except Exception as error:  # noqa: BLE001 - reported below
                with lock:
                    other.append(error)
                return
            else:
                with lock:
                    confirmed.append(body)

    threads = [
        threading.Thread(target=publisher, args=(n,), daemon=True)
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    _wait_for(lambda: len(confirmed) > 200)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.IDLE and len(
        confirmed) > 400)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert not other, other
    if republish:
        # every publish awaiting its confirm was published again
        assert not lost
    else:
        assert lost, 'the reset hit no publish awaiting its confirm'
    check = _direct()
    in_queue = set()
    channel = check.channel()
    while True:
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        in_queue.add(body)
    channel.queue_delete(queue)
    check.close()
    assert set(confirmed) <= in_queue
    conn.close()


def test_republish_unconfirmed_returns_after_the_new_confirm(proxy):
    conn = _connect(proxy, republish_unconfirmed=True)
    events = _listen(conn)
    queue = _name('republish')
    channel = conn.channel()
    channel.queue_declare(queue)
    channel.confirm_delivery()
    channel.basic_publish('', queue, b'first')
    assert channel.next_publish_seq_no == 2
    # the next publish goes out but is never confirmed
    proxy.stall(existing_only=True)
    timer = threading.Timer(0.5, proxy.reset)
    timer.start()
    started = time.monotonic()
    channel.basic_publish('', queue, b'second')  # waits across recovery
    assert time.monotonic() - started >= 0.4
    assert [event[0] for event in events] == ['started', 'succeeded']
    # publish numbers keep counting across the recovery
    assert channel.next_publish_seq_no >= 3
    assert channel.queue_declare(queue, passive=True).method.message_count == 2
    channel.queue_delete(queue)
    conn.close()


def test_confirmation_lost_without_republish_is_not_a_nack(proxy):
    conn = _connect(proxy)
    queue = _name('lost')
    channel = conn.channel()
    channel.queue_declare(queue)
    channel.confirm_delivery()
    proxy.stall(existing_only=True)
    timer = threading.Timer(0.3, proxy.reset)
    timer.start()
    with pytest.raises(exceptions.ConfirmationLost) as info:
        channel.basic_publish('', queue, b'unknown fate')
    assert not isinstance(info.value, exceptions.NackError)
    assert [message.body for message in info.value.messages
           ] == [b'unknown fate']
    assert conn.wait_for_recovery(10)
    channel.basic_publish('', queue, b'after')  # confirmed on the new channel
    channel.queue_delete(queue)
    conn.close()


def test_calls_fail_fast_while_recovering(proxy):
    conn = _connect(proxy, initial_interval=0.2, max_interval=0.2)
    channel = conn.channel()
    queue = _name('fast')
    channel.queue_declare(queue)
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    assert not conn.is_open and not conn.is_closed
    assert not channel.is_open and not channel.is_closed
    started = time.monotonic()
    for call in (lambda: channel.basic_publish('', queue, b'x'),
                 lambda: channel.queue_declare(queue), conn.channel):
        with pytest.raises(exceptions.ConnectionRecovering):
            call()
    assert time.monotonic() - started < 0.5
    proxy.refuse(False)
    assert conn.wait_for_recovery(10)
    channel.queue_delete(queue)
    conn.close()


def test_calls_wait_up_to_wait_timeout_while_recovering(proxy):
    conn = _connect(proxy,
                    initial_interval=0.2,
                    max_interval=0.2,
                    wait_timeout=10)
    channel = conn.channel()
    channel.confirm_delivery()
    queue = _name('wait')
    channel.queue_declare(queue)
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    timer = threading.Timer(1.0, proxy.refuse, args=(False,))
    timer.start()
    started = time.monotonic()
    channel.basic_publish('', queue, b'waited')
    assert channel.queue_declare(queue).method.message_count == 1
    assert time.monotonic() - started >= 0.8
    channel.queue_delete(queue)
    conn.close()


def test_ack_of_delivery_from_before_the_loss_is_not_sent(proxy, caplog):
    conn = _connect(proxy)
    events = _listen(conn)
    channel = conn.channel()
    queue = _name('stale')
    channel.queue_declare(queue)
    held = []
    channel.basic_consume(queue,
                          lambda ch, method, props, body: held.append(method))
    channel.basic_publish('', queue, b'm')
    _wait_for(lambda: len(held) == 1)
    proxy.reset()
    _wait_for(_recovered(conn, events, 1))
    _wait_for(lambda: len(held) == 2)  # the broker requeued it
    assert held[1].redelivered and held[1].delivery_tag > 1 << 40
    with caplog.at_level('WARNING', logger='pika.recovery'):
        channel.basic_ack(held[0].delivery_tag)
        channel.basic_ack(held[0].delivery_tag)
        time.sleep(0.3)
    assert sum('Not sending ack' in record.getMessage()
               for record in caplog.records) == 1
    assert channel.is_open  # no 406 PRECONDITION_FAILED
    channel.basic_ack(held[1].delivery_tag)
    time.sleep(0.3)
    assert channel.queue_declare(queue).method.message_count == 0
    assert channel.is_open
    channel.queue_delete(queue)
    conn.close()


def test_consumer_of_a_queue_gone_meanwhile_is_reported_skipped(proxy):
    direct = _direct()
    queue = _name('gone')
    direct.channel().queue_declare(queue)
    conn = _connect(proxy, initial_interval=0.2, max_interval=0.2)
    events = _listen(conn)
    channel_events = []
    channel = conn.channel()
    channel.add_on_recovery_succeeded_callback(
        lambda ch, skipped: channel_events.append((ch, skipped)))
    tag = channel.basic_consume(queue, lambda *args: None)
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    direct.channel().queue_delete(queue)
    direct.close()
    proxy.refuse(False)
    _wait_for(_recovered(conn, events, 1))
    skipped = events[-1][1]
    assert [(entity.kind, entity.name) for entity in skipped] == [('consumer',
                                                                   tag)]
    assert skipped[0].details['queue'] == queue and skipped[0].reason
    assert channel_events == [(channel, skipped)]
    assert channel.is_open and channel.consumer_tags == []
    conn.close()


def test_max_attempts_exhausted_fails_and_closes(proxy):
    conn = _connect(proxy, max_attempts=2, initial_interval=0.05)
    events = _listen(conn)
    channel = conn.channel()
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.FAILED)
    _wait_for(lambda: conn.is_closed)
    assert [event[0] for event in events] == ['started', 'failed']
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError) as info:
        channel.basic_publish('', 'q', b'x')
    assert isinstance(info.value.__cause__, exceptions.StreamLostError)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()


def test_client_close_and_channel_error_are_not_recovered(proxy):
    conn = _connect(proxy)
    events = _listen(conn)
    channel = conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.queue_declare(_name('missing'), passive=True)
    assert info.value.reply_code == 404
    assert channel.is_closed and conn.is_open
    other = conn.channel()
    other.queue_declare(_name('x'), exclusive=True)
    conn.close()
    time.sleep(0.3)
    assert events == []
    assert conn.recovery_state is RecoveryState.IDLE and conn.is_closed


def test_close_while_recovering_stops_recovery(proxy):
    conn = _connect(proxy, initial_interval=0.2, max_interval=0.2)
    conn.channel()
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    conn.close()
    assert conn.is_closed
    assert conn.recovery_state is RecoveryState.IDLE


def test_silent_peer_noticed_within_two_heartbeats_plus_one_second(proxy):
    conn = _connect(proxy, heartbeat=2)
    events = _listen(conn)
    conn.channel()
    time.sleep(0.5)
    proxy.stall(existing_only=True)
    stalled = time.monotonic()
    _wait_for(lambda: events, timeout=15)
    noticed = time.monotonic() - stalled
    assert events[0][1] is exceptions.AMQPHeartbeatTimeout
    assert noticed <= 2 * 2 + 1, noticed
    _wait_for(_recovered(conn, events, 1))
    conn.close()


def test_full_consumer_queue_is_not_taken_for_a_dead_peer(proxy):
    conn = pika.Connection(pika.ConnectionParameters(host='127.0.0.1',
                                                     port=proxy.port,
                                                     heartbeat=2),
                           work_queue_maxsize=1,
                           recovery=RecoveryConfig(**FAST))
    events = _listen(conn)
    channel = conn.channel()
    queue = _name('slow')
    channel.queue_declare(queue, auto_delete=True)
    for _ in range(20):
        channel.basic_publish('', queue, b'x' * 1000)
    release = threading.Event()
    got = []

    def on_message(ch, method, _props, _body):
        got.append(method.delivery_tag)
        release.wait(7)  # the worker (and so the queue) is stuck
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_message)
    time.sleep(7)  # past 2 x heartbeat + 1 with reading suspended
    assert events == []
    release.set()
    _wait_for(lambda: len(got) == 20)
    assert events == []
    conn.close()


def test_connection_blocked_timeout_is_recovered(proxy):
    conn = pika.Connection(pika.ConnectionParameters(
        host='127.0.0.1', port=proxy.port, blocked_connection_timeout=0.5),
                           recovery=RecoveryConfig(**FAST))
    events = _listen(conn)
    channel = conn.channel()
    proxy.inject(connection_block_frame())
    _wait_for(_recovered(conn, events, 1))
    assert events[0][1] is exceptions.ConnectionBlockedTimeout
    assert channel.is_open
    channel.queue_declare('', exclusive=True)
    conn.close()


def test_without_recovery_nothing_changes(proxy):
    with pytest.raises(TypeError, match='recovery'):
        pika.Connection(pika.ConnectionParameters(host=HOST, port=PORT),
                        recovery={'max_attempts': 1})
    plain = pika.Connection(
        pika.ConnectionParameters(host='127.0.0.1', port=proxy.port))
    assert plain.recovery_state is None
    with pytest.raises(ValueError, match='recovery'):
        plain.add_on_recovery_started_callback(lambda *a: None)
    channel = plain.channel()
    with pytest.raises(ValueError, match='recovery'):
        channel.add_on_recovery_succeeded_callback(lambda *a: None)
    proxy.reset()
    _wait_for(lambda: plain.is_closed)
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError) as info:
        channel.basic_publish('', 'q', b'x')
    assert isinstance(info.value.__cause__, exceptions.StreamLostError)


def test_consume_generator_goes_on_across_a_reset(proxy):
    conn = _connect(proxy)
    events = _listen(conn)
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    channel.basic_publish('', queue, b'one')
    deliveries = channel.consume(queue, inactivity_timeout=0.2)
    method, _props, body = next(deliveries)
    assert body == b'one'
    channel.basic_ack(method.delivery_tag)
    proxy.reset()
    _wait_for(_recovered(conn, events, 1))
    channel.basic_publish('', conn.current_queue_name(queue), b'two')
    method, _props, body = next(
        item for item in deliveries if item[0] is not None)
    assert body == b'two' and method.delivery_tag > 1 << 40
    channel.basic_ack(method.delivery_tag)
    assert channel.cancel() == 0
    conn.close()


def test_channel_closed_while_recovering_is_not_restored(proxy):
    conn = _connect(proxy, initial_interval=0.2, max_interval=0.2)
    events = _listen(conn)
    kept = conn.channel()
    dropped = conn.channel()
    proxy.refuse(True)
    proxy.reset()
    _wait_for(lambda: conn.recovery_state is RecoveryState.RECONNECTING)
    dropped.close()
    assert dropped.is_closed
    proxy.refuse(False)
    _wait_for(_recovered(conn, events, 1))
    assert kept.is_open and dropped.is_closed
    assert sorted(conn._channels) == [kept.channel_number]
    conn.close()
