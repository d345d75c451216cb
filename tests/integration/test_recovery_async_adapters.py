"""Automatic recovery (``recovery=RecoveryConfig(...)``) of the asynchronous
adapters built on BaseConnection (select, asyncio, tornado, gevent), against
the real broker, with faults injected by the scripted loopback proxy."""

import time
from typing import Any, Callable, Optional

import pytest

import pika
from pika import exceptions, frame, spec
from pika.recovery import RecoveryConfig, RecoveryState

from async_harness import (AsyncioRunner, BROKER_HOST, BROKER_PORT, Flow,
                           GeventRunner, SelectEPollRunner, TornadoRunner,
                           unique_name)
from fault_proxy import ScriptedFaultProxy

FAST = dict(initial_interval=0.05, max_interval=0.5)
RUNNERS = [SelectEPollRunner, AsyncioRunner, TornadoRunner, GeventRunner]


@pytest.fixture(params=RUNNERS, ids=lambda cls: cls.name)
def runner(request: Any) -> Any:
    runner = request.param()
    yield runner
    runner.close()


@pytest.fixture
def proxy() -> Any:
    proxy = ScriptedFaultProxy((BROKER_HOST, BROKER_PORT))
    yield proxy
    proxy.close()


def _connect(runner: Any,
             flow: Flow,
             proxy: Any,
             on_channel: Callable[..., Any],
             heartbeat: int = 10,
             on_close: Optional[Callable[..., Any]] = None,
             **config: Any) -> Any:
    """A connection through ``proxy`` with recovery; ``on_channel(conn,
    channel)`` once its first channel is open."""
    merged = dict(FAST)
    merged.update(config)

    def on_open(conn: Any) -> None:
        conn.channel(
            on_open_callback=flow.cb(lambda channel: on_channel(conn, channel)))

    def closed(conn: Any, error: Any) -> None:
        flow.events.append(('closed', error))
        if on_close is not None:
            on_close(conn, error)
        else:
            flow.finish()

    return runner.connection_class(parameters=pika.ConnectionParameters(
        host='127.0.0.1',
        port=proxy.port,
        heartbeat=heartbeat,
        connection_attempts=1,
        socket_timeout=2),
                                   on_open_callback=flow.cb(on_open),
                                   on_close_callback=flow.cb(closed),
                                   custom_ioloop=runner.loop,
                                   recovery=RecoveryConfig(**merged))


def _direct(runner: Any, flow: Flow, on_channel: Callable[..., Any]) -> Any:
    """A plain connection to the broker (no proxy, no recovery)."""

    def on_open(conn: Any) -> None:
        conn.channel(
            on_open_callback=flow.cb(lambda channel: on_channel(conn, channel)))

    return runner.connection_class(parameters=pika.ConnectionParameters(
        host=BROKER_HOST, port=BROKER_PORT),
                                   on_open_callback=flow.cb(on_open),
                                   custom_ioloop=runner.loop)


def test_consumer_resumes_on_the_same_channel_after_a_reset(runner, proxy):
    flow = Flow(runner)
    queue = unique_name('rec-consume')
    seen = []

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        channel.add_on_close_callback(flow.record('channel-closed'))
        conn.add_on_recovery_started_callback(flow.record('started'))
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        channel.add_on_recovery_succeeded_callback(flow.record('ch-succeeded'))
        channel.basic_qos(
            prefetch_count=5,
            callback=lambda _f: channel.queue_declare(
                queue, auto_delete=True, callback=flow.cb(declared)))

    def declared(_frame):
        channel = flow.state['channel']
        channel.basic_consume(queue, flow.cb(on_message), consumer_tag='ctag')
        channel.basic_publish('', queue, b'before')

    def on_message(channel, method, _props, body):
        seen.append((channel, method.delivery_tag, body))
        channel.basic_ack(method.delivery_tag)
        if body == b'before':
            proxy.reset()
        else:
            flow.finish()

    def succeeded(conn, skipped):
        assert skipped == []
        assert conn.recovery_state is RecoveryState.IDLE
        flow.state['channel'].basic_publish('', queue, b'after')

    conn = _connect(runner, flow, proxy, on_channel)
    flow.run(20)
    channel = flow.state['channel']
    assert [body for _c, _t, body in seen] == [b'before', b'after']
    assert all(seen_channel is channel for seen_channel, _t, _b in seen)
    assert seen[1][1] == (1 << 40) + 1  # the new generation's first tag
    assert channel.is_open and channel.consumer_tags == ['ctag']
    names = [event[0] for event in flow.events]
    assert names == ['started', 'ch-succeeded']
    assert conn._channels[channel.channel_number] is channel
    conn.close()


def test_server_named_queue_gets_a_new_name_and_its_binding_follows(
        runner, proxy):
    flow = Flow(runner)
    key = unique_name('rec-key')

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        channel.queue_declare('', exclusive=True, callback=flow.cb(declared))

    def declared(frame):
        channel = flow.state['channel']
        flow.state['old'] = frame.method.queue
        channel.queue_bind(frame.method.queue,
                           'amq.direct',
                           routing_key=key,
                           callback=flow.cb(bound))

    def bound(_frame):
        channel = flow.state['channel']
        channel.basic_consume(flow.state['old'], flow.cb(on_message))
        proxy.reset()

    def succeeded(conn, _skipped):
        flow.state['new'] = conn.current_queue_name(flow.state['old'])
        flow.state['channel'].basic_publish('amq.direct', key, b'routed')

    def on_message(channel, method, _props, body):
        flow.finish((body, method.routing_key))

    conn = _connect(runner, flow, proxy, on_channel)
    assert flow.run(20) == (b'routed', key)
    assert flow.state['new'] != flow.state['old']
    assert flow.state['new'].startswith('amq.gen-')
    conn.close()


def _confirm_scenario(runner, proxy, republish):
    flow = Flow(runner)
    queue = unique_name('rec-confirm')
    confirms = []
    lost = []

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        channel.add_on_confirmation_lost_callback(
            lambda ch, messages: lost.append((ch, messages)))
        channel.queue_declare(queue, callback=flow.cb(declared))

    def declared(_frame):
        channel = flow.state['channel']
        channel.confirm_delivery(flow.cb(on_confirm), callback=flow.cb(ready))

    def ready(_frame):
        channel = flow.state['channel']
        channel.basic_publish('', queue, b'confirmed')

    def on_confirm(frame):
        method = frame.method
        if not method.multiple:
            first = method.delivery_tag
        else:
            first = confirms[-1][1] + 1 if confirms else 1
        confirms.extend(
            (method.NAME, tag) for tag in range(first, method.delivery_tag + 1))
        channel = flow.state['channel']
        if confirms == [('Basic.Ack', 1)]:
            # The link goes silent: these two never reach the broker.
            proxy.stall(existing_only=True)
            channel.basic_publish('', queue, b'lost-1')
            channel.basic_publish('', queue, b'lost-2')
            runner.call_later(0.3, proxy.reset)
        elif frame.method.delivery_tag == 4:
            flow.finish()

    def succeeded(_conn, _skipped):
        flow.state['channel'].basic_publish('', queue, b'after')

    conn = _connect(runner,
                    flow,
                    proxy,
                    on_channel,
                    republish_unconfirmed=republish)
    flow.run(20)
    return flow, conn, confirms, lost, queue


def test_publishes_unconfirmed_at_the_loss_are_reported_lost_not_nacked(
        runner, proxy):
    flow, conn, confirms, lost, queue = _confirm_scenario(runner, proxy, False)
    assert confirms == [('Basic.Ack', 1), ('Basic.Ack', 4)]
    assert len(lost) == 1 and lost[0][0] is flow.state['channel']
    messages = lost[0][1]
    assert [(m.body, m.delivery_tag) for m in messages] == [(b'lost-1', 2),
                                                            (b'lost-2', 3)]
    assert all(m.routing_key == queue for m in messages)
    flow.state['channel'].queue_delete(queue)
    conn.close()


def test_republish_unconfirmed_publishes_them_again_under_their_numbers(
        runner, proxy):
    flow, conn, confirms, lost, queue = _confirm_scenario(runner, proxy, True)
    assert lost == []
    assert sorted(confirms) == [('Basic.Ack', 1), ('Basic.Ack', 2),
                                ('Basic.Ack', 3), ('Basic.Ack', 4)]
    counted = Flow(runner)
    flow.state['channel'].queue_declare(
        queue,
        passive=True,
        callback=counted.cb(lambda f: counted.finish(f.method.message_count)))
    assert counted.run(5) == 4
    flow.state['channel'].queue_delete(queue)
    conn.close()


def test_calls_fail_fast_with_connection_recovering_while_recovering(
        runner, proxy):
    flow = Flow(runner)
    failures = []

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        conn.add_on_recovery_started_callback(flow.cb(started))
        conn.add_on_recovery_succeeded_callback(
            flow.cb(lambda c, s: flow.finish(channel.is_open)))
        proxy.refuse(True)
        proxy.reset()

    def started(conn, _error):
        channel = flow.state['channel']
        assert conn.recovery_state is RecoveryState.RECONNECTING
        assert not channel.is_open and not channel.is_closed
        assert not conn.is_open and not conn.is_closed
        for call in (lambda: channel.basic_publish('', 'q', b'x'),
                     lambda: channel.queue_declare('q', callback=print),
                     lambda: channel.basic_consume('q', print),
                     lambda: conn.channel()):
            try:
                call()
            except exceptions.ConnectionRecovering as error:
                failures.append(error)
        runner.call_later(0.5, lambda: proxy.refuse(False))

    conn = _connect(runner, flow, proxy, on_channel)
    assert flow.run(20) is True
    assert len(failures) == 4
    assert all(
        isinstance(error, exceptions.AMQPConnectionError) for error in failures)
    conn.close()


def test_ack_of_a_delivery_tag_from_before_the_loss_is_not_sent(runner, proxy):
    flow = Flow(runner)
    queue = unique_name('rec-oldtag')
    deliveries = []

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        channel.add_on_close_callback(flow.record('channel-closed'))
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        # (not auto-delete: the queue must keep the unacked message when
        # its consumer's connection goes)
        channel.queue_declare(queue, callback=flow.cb(declared))

    def declared(_frame):
        channel = flow.state['channel']
        channel.basic_consume(queue, flow.cb(on_message))
        channel.basic_publish('', queue, b'once')

    def on_message(channel, method, _props, _body):
        deliveries.append((method.delivery_tag, method.redelivered))
        if len(deliveries) == 1:
            proxy.reset()  # not acked: the broker requeues it
        else:
            channel.basic_ack(method.delivery_tag)
            runner.call_later(0.5, lambda: flow.finish(channel.is_open))

    def succeeded(_conn, _skipped):
        # The old tag (1) is dropped, not sent to the new channel (where it
        # would be an unknown tag: 406 PRECONDITION_FAILED).
        flow.state['channel'].basic_ack(deliveries[0][0])

    conn = _connect(runner, flow, proxy, on_channel)
    assert flow.run(20) is True
    assert deliveries == [(1, False), ((1 << 40) + 1, True)]
    assert not [e for e in flow.events if e[0] == 'channel-closed']
    flow.state['channel'].queue_delete(queue)
    conn.close()


def test_consumer_of_a_queue_gone_during_the_loss_is_reported_skipped(
        runner, proxy):
    flow = Flow(runner)
    gone = unique_name('rec-gone')
    kept = unique_name('rec-kept')

    def on_other(other, other_channel):
        flow.state['other'] = (other, other_channel)
        other_channel.queue_declare(
            gone,
            callback=flow.cb(
                lambda _f: _connect(runner, flow, proxy, on_channel)))

    def on_channel(conn, channel):
        flow.state['conn'] = conn
        flow.state['channel'] = channel
        channel.add_on_recovery_succeeded_callback(flow.record('ch-succeeded'))
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        channel.basic_consume(gone, flow.cb(on_message), consumer_tag='gone')
        channel.queue_declare(
            kept,
            auto_delete=True,
            callback=flow.cb(lambda _f: consume_kept(channel)))

    def consume_kept(channel):
        channel.basic_consume(kept,
                              flow.cb(on_message),
                              consumer_tag='kept',
                              callback=flow.cb(lambda _f: lose(channel)))

    def lose(_channel):
        proxy.refuse(True)
        proxy.reset()
        _other, other_channel = flow.state['other']
        other_channel.queue_delete(
            gone, callback=flow.cb(lambda _f: proxy.refuse(False)))

    def succeeded(_conn, skipped):
        flow.state['skipped'] = skipped
        flow.state['channel'].basic_publish('', kept, b'still here')

    def on_message(channel, method, _props, body):
        flow.finish((method.consumer_tag, body, channel.consumer_tags))

    _direct(runner, flow, on_other)
    assert flow.run(20) == ('kept', b'still here', ['kept'])
    skipped = flow.state['skipped']
    assert [(e.kind, e.name, e.details['queue']) for e in skipped
           ] == [('consumer', 'gone', gone)]
    assert 'basic_consume refused' in skipped[0].reason
    channel_events = [e for e in flow.events if e[0] == 'ch-succeeded']
    assert channel_events[0][2] == skipped
    flow.state['conn'].close()
    flow.state['other'][0].close()


def test_recovery_gives_up_after_max_attempts(runner, proxy):
    flow = Flow(runner)
    order = []

    def on_channel(conn, channel):
        channel.add_on_close_callback(lambda ch, error: order.append(
            ('channel-closed', error)))
        conn.add_on_recovery_failed_callback(lambda c, error: order.append(
            ('failed', c.recovery_state)))
        proxy.refuse(True)
        proxy.reset()

    def on_close(conn, error):
        order.append(('closed', error))
        flow.finish(conn.recovery_state)

    conn = _connect(runner,
                    flow,
                    proxy,
                    on_channel,
                    on_close=on_close,
                    max_attempts=2)
    assert flow.run(20) is RecoveryState.FAILED
    assert [name for name, _ in order] == ['failed', 'channel-closed', 'closed']
    assert order[0][1] is RecoveryState.FAILED
    assert isinstance(order[2][1], exceptions.StreamLostError)
    assert 'reset' in str(order[2][1]).lower()
    assert conn.is_closed


def test_client_close_is_not_recovered(runner, proxy):
    flow = Flow(runner)

    def on_channel(conn, channel):
        conn.add_on_recovery_started_callback(flow.record('started'))
        conn.close()

    _connect(runner, flow, proxy, on_channel)
    flow.run(10)
    assert [e[0] for e in flow.events] == ['closed']
    assert isinstance(flow.events[0][1], exceptions.ConnectionClosedByClient)


def test_channel_error_404_closes_the_channel_and_is_not_recovered(
        runner, proxy):
    flow = Flow(runner)

    def on_channel(conn, channel):
        flow.state['conn'] = conn
        conn.add_on_recovery_started_callback(flow.record('started'))
        channel.add_on_close_callback(
            flow.cb(lambda ch, error: flow.finish(error)))
        channel.queue_declare(unique_name('rec-missing'),
                              passive=True,
                              callback=print)

    _connect(runner, flow, proxy, on_channel)
    error = flow.run(10)
    assert isinstance(error, exceptions.ChannelClosedByBroker)
    assert error.reply_code == 404
    assert flow.events == []
    conn = flow.state['conn']
    assert conn.is_open and conn.recovery_state is RecoveryState.IDLE
    conn.close()


def test_silent_peer_is_detected_within_two_heartbeats_plus_one_second(
        runner, proxy):
    flow = Flow(runner)

    def on_channel(conn, channel):
        conn.add_on_recovery_started_callback(flow.cb(started))
        conn.add_on_recovery_succeeded_callback(
            flow.cb(lambda c, s: flow.finish(channel.is_open)))
        flow.state['stalled_at'] = time.monotonic()
        proxy.stall(existing_only=True)

    def started(_conn, error):
        flow.state['detected'] = time.monotonic() - flow.state['stalled_at']
        flow.state['error'] = error

    conn = _connect(runner, flow, proxy, on_channel, heartbeat=2)
    assert flow.run(20) is True
    assert isinstance(flow.state['error'], exceptions.AMQPHeartbeatTimeout)
    assert flow.state['detected'] <= 2 * 2 + 1
    conn.close()


def test_a_busy_loop_is_not_taken_for_a_dead_peer(runner, proxy):
    flow = Flow(runner)

    def on_channel(conn, channel):
        conn.add_on_recovery_started_callback(flow.record('started'))
        runner.call_later(0.2, flow.cb(busy))

    def busy():
        time.sleep(5.0)  # longer than 2 x heartbeat; heartbeats queue up
        runner.call_later(3.0, flow.finish)

    conn = _connect(runner, flow, proxy, on_channel, heartbeat=2)
    flow.run(20)
    assert flow.events == []
    assert conn.is_open
    conn.close()


def test_create_connection_recovers_onto_the_next_host_of_the_sequence(
        runner, proxy):
    flow = Flow(runner)
    other = ScriptedFaultProxy((BROKER_HOST, BROKER_PORT))
    queue = unique_name('rec-hosts')
    hosts = [
        pika.ConnectionParameters(host='127.0.0.1',
                                  port=port,
                                  connection_attempts=1,
                                  socket_timeout=2)
        for port in (proxy.port, other.port)
    ]

    def on_done(conn):
        assert not isinstance(conn, BaseException), conn
        flow.state['conn'] = conn
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        conn.channel(on_open_callback=flow.cb(on_channel))

    def on_channel(channel):
        flow.state['channel'] = channel
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=flow.cb(lambda _f: consume(channel)))

    def consume(channel):
        channel.basic_consume(queue, flow.cb(on_message))
        # The first host goes away for good.
        proxy.refuse(True)
        proxy.reset()

    def succeeded(conn, _skipped):
        flow.state['port'] = conn.params.port
        flow.state['channel'].basic_publish('', queue, b'moved')

    def on_message(_channel, _method, _props, body):
        flow.finish(body)

    try:
        runner.connection_class.create_connection(
            hosts,
            flow.cb(on_done),
            custom_ioloop=runner.loop,
            recovery=RecoveryConfig(**FAST))
        assert flow.run(20) == b'moved'
        assert flow.state['port'] == other.port
        assert other.accepted == 1
        flow.state['conn'].close()
    finally:
        other.close()


def test_without_recovery_a_reset_closes_the_connection_as_before(
        runner, proxy):
    flow = Flow(runner)

    def on_open(conn):
        assert conn.recovery_state is None
        with pytest.raises(ValueError):
            conn.add_on_recovery_started_callback(print)
        conn.channel(on_open_callback=flow.cb(on_channel))

    def on_channel(channel):
        assert not hasattr(channel, '_recovery_hooks')
        with pytest.raises(ValueError):
            channel.add_on_confirmation_lost_callback(print)
        channel.add_on_close_callback(flow.record('channel-closed'))
        proxy.reset()

    runner.connection_class(
        parameters=pika.ConnectionParameters(host='127.0.0.1', port=proxy.port),
        on_open_callback=flow.cb(on_open),
        on_close_callback=flow.cb(lambda c, error: flow.finish(error)),
        custom_ioloop=runner.loop)
    error = flow.run(10)
    assert isinstance(error, exceptions.StreamLostError)
    assert [e[0] for e in flow.events] == ['channel-closed']


def test_recovery_argument_must_be_a_recovery_config(runner):
    with pytest.raises(TypeError, match='recovery'):
        runner.connection_class(custom_ioloop=runner.loop, recovery=object())
    with pytest.raises(TypeError, match='recovery'):
        runner.connection_class.create_connection([pika.ConnectionParameters()],
                                                  print,
                                                  custom_ioloop=runner.loop,
                                                  recovery={'max_attempts': 1})


def test_close_while_recovering_stops_recovery_and_reports_a_client_close(
        runner, proxy):
    flow = Flow(runner)

    def on_channel(conn, channel):
        flow.state['channel'] = channel
        channel.add_on_close_callback(flow.record('channel-closed'))
        conn.add_on_recovery_started_callback(
            flow.cb(lambda c, _e: runner.call_later(0.2, c.close)))
        conn.add_on_recovery_succeeded_callback(flow.record('succeeded'))
        proxy.refuse(True)
        proxy.reset()

    conn = _connect(runner, flow, proxy, on_channel)
    flow.run(10)
    names = [event[0] for event in flow.events]
    assert names == ['channel-closed', 'closed']
    assert isinstance(flow.events[-1][1], exceptions.ConnectionClosedByClient)
    assert conn.is_closed and flow.state['channel'].is_closed
    assert conn.recovery_state is RecoveryState.IDLE


def test_queue_now_exclusive_to_another_connection_is_skipped_with_consumer(
        runner, proxy):
    flow = Flow(runner)
    queue = unique_name('rec-locked')

    def on_other(other, other_channel):
        flow.state['other'] = (other, other_channel)
        _connect(runner, flow, proxy, on_channel)

    def on_channel(conn, channel):
        flow.state['conn'] = conn
        flow.state['channel'] = channel
        conn.add_on_recovery_succeeded_callback(
            flow.cb(lambda c, skipped: flow.finish(skipped)))
        channel.queue_declare(queue,
                              callback=flow.cb(lambda _f: consume(channel)))

    def consume(channel):
        channel.basic_consume(queue,
                              flow.cb(lambda *args: None),
                              consumer_tag='locked-out',
                              callback=flow.cb(lambda _f: lose()))

    def lose():
        proxy.refuse(True)
        proxy.reset()
        _other, other_channel = flow.state['other']
        # While the link is down the queue becomes another connection's
        # exclusive queue: declaring it again fails with 405.
        other_channel.queue_delete(
            queue,
            callback=flow.cb(lambda _f: other_channel.queue_declare(
                queue,
                exclusive=True,
                callback=flow.cb(lambda _f: proxy.refuse(False)))))

    _direct(runner, flow, on_other)
    skipped = flow.run(20)
    assert [(e.kind, e.name) for e in skipped] == [('queue', queue),
                                                   ('consumer', 'locked-out')]
    assert all(
        'RESOURCE_LOCKED' in e.reason or '405' in e.reason for e in skipped)
    channel = flow.state['channel']
    assert channel.is_open and channel.consumer_tags == []
    flow.state['conn'].close()
    flow.state['other'][0].close()


@pytest.mark.parametrize('loss', ['connection-forced-320', 'blocked-timeout'])
def test_broker_close_320_and_blocked_timeout_are_recovered(
        runner, proxy, loss):
    flow = Flow(runner)
    wire = {
        'connection-forced-320':
            frame.Method(
                0,
                spec.Connection.Close(320, 'CONNECTION_FORCED - shutdown', 0,
                                      0)).marshal(),
        'blocked-timeout':
            frame.Method(0, spec.Connection.Blocked('test')).marshal(),
    }[loss]

    def on_channel(conn, channel):
        conn.add_on_recovery_started_callback(flow.record('started'))
        conn.add_on_recovery_succeeded_callback(
            flow.cb(lambda c, s: flow.finish(channel.is_open)))
        proxy.inject(wire)

    params = pika.ConnectionParameters(host='127.0.0.1',
                                       port=proxy.port,
                                       blocked_connection_timeout=0.5)
    conn = runner.connection_class(
        parameters=params,
        on_open_callback=flow.cb(lambda c: c.channel(on_open_callback=flow.cb(
            lambda ch: on_channel(c, ch)))),
        on_close_callback=flow.cb(lambda c, e: flow.finish(e)),
        custom_ioloop=runner.loop,
        recovery=RecoveryConfig(**FAST))
    assert flow.run(20) is True
    [(_name, _conn, error)] = flow.events
    if loss == 'blocked-timeout':
        assert isinstance(error, exceptions.ConnectionBlockedTimeout)
    else:
        assert isinstance(error, exceptions.ConnectionClosedByBroker)
        assert error.reply_code == 320
    conn.close()


def test_attempt_lost_while_restoring_is_retried_and_callbacks_survive(
        runner, proxy):
    flow = Flow(runner)
    queue = unique_name('rec-retry')
    got = []

    def on_channel(conn, channel):
        flow.state['handshake_bytes'] = conn.bytes_received
        flow.state['channel'] = channel
        conn.add_on_recovery_started_callback(flow.cb(started))
        conn.add_on_recovery_succeeded_callback(flow.cb(succeeded))
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=flow.cb(lambda _f: consume(channel)))

    def consume(channel):
        channel.basic_consume(queue,
                              flow.cb(on_message),
                              callback=flow.cb(lambda _f: proxy.reset()))

    def started(_conn, _error):
        # The next connection gets its handshake (Start, Tune, OpenOk) and
        # is reset before its channel reopens.
        proxy.drop_after(flow.state['handshake_bytes'] - 8)

    def succeeded(conn, _skipped):
        flow.state['attempts'] = conn._recovery.coordinator.attempt
        flow.state['channel'].basic_publish('', queue, b'after')

    def on_message(channel, _method, _props, body):
        got.append(body)
        channel.connection.close()

    conn = _connect(runner, flow, proxy, on_channel)
    flow.run(20)
    assert got == [b'after']
    assert flow.state['attempts'] == 2
    # The application's close callback still runs (and only once).
    closes = [event for event in flow.events if event[0] == 'closed']
    assert len(closes) == 1
    assert isinstance(closes[0][1], exceptions.ConnectionClosedByClient)
    assert conn.is_closed
