"""pika.recovery: configuration, backoff, topology ledger and the recovery
state machine (no broker, no sockets)."""

import pytest

from pika import exceptions
from pika.recovery import (RecoveryConfig, RecoveryCoordinator, RecoveryState,
                           TopologyLedger, TopologyRecoveryEntity,
                           TopologyRecoveryMode, is_recoverable_loss)


@pytest.mark.parametrize('kwargs, error, word', [
    (dict(max_attempts=0), ValueError, 'max_attempts'),
    (dict(max_attempts=1.5), TypeError, 'max_attempts'),
    (dict(max_attempts=True), TypeError, 'max_attempts'),
    (dict(initial_interval=-1), ValueError, 'initial_interval'),
    (dict(initial_interval='1'), TypeError, 'initial_interval'),
    (dict(max_interval=0.1, initial_interval=1), ValueError, 'max_interval'),
    (dict(backoff_multiplier=0.5), ValueError, 'backoff_multiplier'),
    (dict(jitter=2), ValueError, 'jitter'),
    (dict(jitter=-0.1), ValueError, 'jitter'),
    (dict(topology='all'), TypeError, 'topology'),
    (dict(republish_unconfirmed=1), TypeError, 'republish_unconfirmed'),
    (dict(wait_timeout=-1), ValueError, 'wait_timeout'),
    (dict(fast_dead_peer_detection=None), TypeError,
     'fast_dead_peer_detection'),
])
def test_config_rejects_bad_values_naming_the_argument(kwargs, error, word):
    with pytest.raises(error, match=word):
        RecoveryConfig(**kwargs)


def test_config_defaults():
    config = RecoveryConfig()
    assert config.max_attempts == 10
    assert config.topology is TopologyRecoveryMode.ALL
    assert config.republish_unconfirmed is False
    assert config.wait_timeout is None
    assert RecoveryConfig(max_attempts=None).max_attempts is None


def test_backoff_grows_geometrically_and_is_capped():
    config = RecoveryConfig(initial_interval=0.5,
                            max_interval=5,
                            backoff_multiplier=2,
                            jitter=0)
    assert [config.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]
    assert config.delay(10**6) == 5  # no overflow


def test_backoff_jitter_stays_within_its_fraction_and_the_cap():
    config = RecoveryConfig(initial_interval=1,
                            max_interval=3,
                            backoff_multiplier=2,
                            jitter=0.25)
    assert config.delay(1, lambda low, high: low) == 0.75
    assert config.delay(1, lambda low, high: high) == 1.25
    assert config.delay(3, lambda low, high: high) == 3  # capped
    with pytest.raises(ValueError, match='attempt'):
        config.delay(0)


def test_constant_delay_with_multiplier_one():
    config = RecoveryConfig(initial_interval=0.2,
                            backoff_multiplier=1,
                            jitter=0)
    assert {config.delay(n) for n in range(1, 20)} == {0.2}


@pytest.mark.parametrize('error, expected', [
    (exceptions.StreamLostError('reset'), True),
    (exceptions.AMQPHeartbeatTimeout('silent'), True),
    (exceptions.ConnectionClosedByBroker(320, 'CONNECTION_FORCED'), True),
    (exceptions.ConnectionBlockedTimeout('blocked'), True),
    (exceptions.ConnectionClosedByClient(200, 'Normal shutdown'), False),
    (exceptions.ChannelClosedByBroker(404, 'NOT_FOUND'), False),
    (exceptions.ChannelClosedByClient(0, 'bye'), False),
    (None, False),
])
def test_which_losses_are_recovered(error, expected):
    assert is_recoverable_loss(error) is expected


def _ledger_with_topology():
    ledger = TopologyLedger()
    ledger.record_exchange(1, 'ex', 'topic', True, False, False, None)
    ledger.record_exchange(1, 'tmp-ex', 'fanout', False, True, False, None)
    ledger.record_queue(1, 'durable-q', 'durable-q', True, False, False,
                        {'x-queue-type': 'quorum'})
    ledger.record_queue(1, '', 'amq.gen-1', False, True, False, None)
    ledger.record_binding(1, 'queue_binding', 'durable-q', 'ex', 'k', None)
    ledger.record_binding(1, 'queue_binding', 'amq.gen-1', 'tmp-ex', None, None)
    ledger.record_binding(1, 'exchange_binding', 'tmp-ex', 'ex', '#', None)
    ledger.record_consumer(1, 'c1', 'amq.gen-1', False, False, None)
    ledger.record_consumer(2, 'c2', 'durable-q', True, False, None)
    return ledger


def test_ledger_plans_everything_in_declaration_order():
    exchanges, queues, bindings = _ledger_with_topology().plan(
        TopologyRecoveryMode.ALL)
    assert [entity.name for entity in exchanges] == ['ex', 'tmp-ex']
    assert [entity.name for entity in queues] == ['durable-q', 'amq.gen-1']
    assert [(entity.kind, entity.name) for entity in bindings
           ] == [('queue_binding', 'durable-q'), ('queue_binding', 'amq.gen-1'),
                 ('exchange_binding', 'tmp-ex')]
    assert queues[0].details['arguments'] == {'x-queue-type': 'quorum'}
    assert queues[1].details['server_named'] is True


def test_ledger_only_transient_plan_leaves_durable_topology_alone():
    exchanges, queues, bindings = _ledger_with_topology().plan(
        TopologyRecoveryMode.ONLY_TRANSIENT)
    assert [entity.name for entity in exchanges] == ['tmp-ex']
    assert [entity.name for entity in queues] == ['amq.gen-1']
    assert [(entity.kind, entity.name) for entity in bindings
           ] == [('queue_binding', 'amq.gen-1'), ('exchange_binding', 'tmp-ex')]
    assert _ledger_with_topology().plan(TopologyRecoveryMode.DISABLED) == ([],
                                                                           [],
                                                                           [])


def test_ledger_rename_moves_bindings_and_consumers():
    ledger = _ledger_with_topology()
    ledger.rename_queue('amq.gen-1', 'amq.gen-2')
    ledger.rename_queue('amq.gen-2', 'amq.gen-3')
    assert ledger.current_queue_name('amq.gen-1') == 'amq.gen-3'
    assert ledger.current_queue_name('amq.gen-2') == 'amq.gen-3'
    assert ledger.current_queue_name('other') == 'other'
    assert 'amq.gen-3' in ledger.queues and 'amq.gen-1' not in ledger.queues
    assert ledger.consumers[(1, 'c1')].details['queue'] == 'amq.gen-3'
    assert [b.name for b in ledger.bindings if b.kind == 'queue_binding'
           ] == ['durable-q', 'amq.gen-3']


def test_ledger_forgets_deleted_and_unbound_topology():
    ledger = _ledger_with_topology()
    ledger.forget_binding('queue_binding', 'durable-q', 'ex', 'k', None)
    assert [b.name for b in ledger.bindings] == ['amq.gen-1', 'tmp-ex']
    ledger.forget_exchange('tmp-ex')
    assert list(ledger.exchanges) == ['ex'] and ledger.bindings == []
    ledger.forget_queue('amq.gen-1')
    assert list(ledger.queues) == ['durable-q']
    assert list(ledger.consumers) == [(2, 'c2')]


def test_ledger_duplicate_declarations_and_bindings_are_recorded_once():
    ledger = TopologyLedger()
    for _ in range(3):
        ledger.record_queue(1, 'q', 'q', True, False, False, None)
        ledger.record_binding(1, 'queue_binding', 'q', 'ex', 'k', {'a': 1})
    ledger.record_exchange(1, '', 'direct', True, False, False, None)
    assert list(ledger.queues) == ['q'] and len(ledger.bindings) == 1
    assert ledger.exchanges == {}  # the default exchange is not declared


def test_ledger_cancel_of_last_consumer_forgets_auto_delete_queue():
    ledger = TopologyLedger()
    ledger.record_queue(1, 'ad', 'ad', False, False, True, None)
    ledger.record_consumer(1, 'a', 'ad', False, False, None)
    ledger.record_consumer(1, 'b', 'ad', False, False, None)
    ledger.forget_consumer(1, 'a')
    assert 'ad' in ledger.queues
    ledger.forget_consumer(1, 'b')
    assert 'ad' not in ledger.queues


def test_ledger_forget_channel_drops_its_consumers_and_qos_only():
    ledger = _ledger_with_topology()
    ledger.record_qos(1, 0, 10, False)
    ledger.record_qos(1, 0, 50, True)
    ledger.record_qos(2, 0, 5, False)
    assert ledger.qos[1] == {False: (0, 10), True: (0, 50)}
    ledger.forget_channel(1)
    assert 1 not in ledger.qos and 2 in ledger.qos
    assert list(ledger.consumers) == [(2, 'c2')]
    assert len(ledger.queues) == 2


def test_entity_skipped_copy_keeps_the_original_unchanged():
    entity = TopologyRecoveryEntity('consumer', 'tag', 3, {'queue': 'q'})
    skipped = entity.skipped('queue gone')
    assert skipped.reason == 'queue gone' and entity.reason is None
    skipped.details['queue'] = 'changed'
    assert entity.details['queue'] == 'q'


class _Clock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _coordinator(**kwargs):
    kwargs.setdefault('jitter', 0)
    clock = _Clock()
    coordinator = RecoveryCoordinator(RecoveryConfig(**kwargs), 'conn', clock)
    calls = []
    coordinator.started_listeners.add(lambda *args: calls.append(
        ('started',) + args))
    coordinator.succeeded_listeners.add(lambda *args: calls.append(
        ('succeeded',) + args))
    coordinator.failed_listeners.add(lambda *args: calls.append(
        ('failed',) + args))
    return coordinator, clock, calls


def test_coordinator_loss_attempts_and_success():
    coordinator, clock, calls = _coordinator(initial_interval=1,
                                             backoff_multiplier=3,
                                             max_interval=100)
    loss = exceptions.StreamLostError('reset')
    assert coordinator.state is RecoveryState.IDLE
    assert coordinator.connection_lost(loss) is True
    assert coordinator.connection_lost(loss) is True  # already under way
    assert coordinator.is_recovering
    assert calls == [('started', 'conn', loss)]
    assert coordinator.next_attempt_at() == 101
    assert coordinator.begin_attempt() == 1
    clock.now = 101.5
    assert coordinator.attempt_failed(OSError('refused')) is True
    assert coordinator.next_attempt_at() == 101.5 + 3
    assert coordinator.begin_attempt() == 2
    clock.now = 106
    skipped = [TopologyRecoveryEntity('consumer', 't', 1, {}, 'gone')]
    coordinator.attempt_succeeded(skipped)
    assert coordinator.state is RecoveryState.IDLE
    assert calls[-1] == ('succeeded', 'conn', skipped)
    assert coordinator.durations == [6] and coordinator.recoveries == 1
    error = coordinator.recovering_error()
    assert isinstance(error, exceptions.ConnectionRecovering)
    assert isinstance(error, exceptions.AMQPConnectionError)


def test_coordinator_fails_after_max_attempts_and_stays_failed():
    coordinator, _clock, calls = _coordinator(max_attempts=2)
    coordinator.connection_lost(exceptions.AMQPHeartbeatTimeout('x'))
    coordinator.begin_attempt()
    assert coordinator.attempt_failed(OSError('1')) is True
    coordinator.begin_attempt()
    last = OSError('2')
    assert coordinator.attempt_failed(last) is False
    assert coordinator.state is RecoveryState.FAILED
    assert calls[-1] == ('failed', 'conn', last)
    assert coordinator.connection_lost(exceptions.StreamLostError()) is False


def test_coordinator_ignores_client_close_and_survives_raising_listener():
    coordinator, _clock, calls = _coordinator()
    assert coordinator.connection_lost(
        exceptions.ConnectionClosedByClient(200, 'bye')) is False
    assert coordinator.state is RecoveryState.IDLE and calls == []

    def boom(*_args):
        raise RuntimeError('listener bug')

    coordinator.started_listeners.add(boom)
    coordinator.started_listeners.add(lambda *a: calls.append('after'))
    assert coordinator.connection_lost(exceptions.StreamLostError('x'))
    assert calls[-1] == 'after'
    with pytest.raises(TypeError, match='callback'):
        coordinator.failed_listeners.add('not callable')
    with pytest.raises(TypeError, match='recovery'):
        RecoveryCoordinator({'max_attempts': 1}, None)


def test_confirmation_lost_is_neither_nack_nor_connection_error():
    error = exceptions.ConfirmationLost(['m1', 'm2'])
    assert isinstance(error, exceptions.AMQPError)
    assert not isinstance(error,
                          (exceptions.NackError, exceptions.AMQPChannelError,
                           exceptions.AMQPConnectionError))
    assert error.messages == ['m1', 'm2']
    assert '2 message(s)' in repr(error)
