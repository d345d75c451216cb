"""pika.recovery helpers shared by the recovery drivers: the declarations
that restore a recorded topology, forgetting what the broker refused, and
per-channel listeners (no broker, no sockets)."""

import pytest

from pika import exceptions, spec
from pika.recovery import (RecoveryConfig, RecoveryCoordinator, TopologyLedger,
                           TopologyRecoveryEntity, step_refused, topology_steps)


def _ledger():
    ledger = TopologyLedger()
    ledger.record_exchange(1, 'ex', 'fanout', True, False, False, {'a': 1})
    ledger.record_queue(1, '', 'amq.gen-1', False, True, False, None)
    ledger.record_queue(1, 'named', 'named', True, False, False, None)
    ledger.record_binding(1, 'queue_binding', 'amq.gen-1', 'ex', 'rk', None)
    ledger.record_binding(1, 'exchange_binding', 'ex2', 'ex', '', {'b': 2})
    ledger.record_consumer(1, 'ctag', 'amq.gen-1', False, False, None)
    return ledger


def test_topology_steps_declare_each_kind_again():
    ledger = _ledger()
    steps = list(topology_steps(ledger, RecoveryConfig().topology))
    assert [(type(step.method), step.reply) for step in steps] == [
        (spec.Exchange.Declare, spec.Exchange.DeclareOk),
        (spec.Queue.Declare, spec.Queue.DeclareOk),
        (spec.Queue.Declare, spec.Queue.DeclareOk),
        (spec.Queue.Bind, spec.Queue.BindOk),
        (spec.Exchange.Bind, spec.Exchange.BindOk),
    ]
    exchange, server_named, named, queue_bind, exchange_bind = (
        step.method for step in steps)
    assert (exchange.exchange, exchange.type, exchange.durable,
            exchange.auto_delete, exchange.internal,
            exchange.arguments) == ('ex', 'fanout', True, False, False, {
                'a': 1
            })
    # A server-named queue is declared with '' to get a new name.
    assert (server_named.queue, server_named.durable, server_named.exclusive,
            server_named.arguments) == ('', False, True, None)
    assert named.queue == 'named'
    assert (queue_bind.queue, queue_bind.exchange,
            queue_bind.routing_key) == ('amq.gen-1', 'ex', 'rk')
    assert (exchange_bind.destination, exchange_bind.source,
            exchange_bind.routing_key, exchange_bind.arguments) == ('ex2', 'ex',
                                                                    '', {
                                                                        'b': 2
                                                                    })


def test_refused_step_drops_the_entity_and_what_hangs_on_it():
    ledger = _ledger()
    steps = list(topology_steps(ledger, RecoveryConfig().topology))
    skipped = step_refused(ledger, steps[4], 'NOT_FOUND')
    assert [entity.kind for entity in skipped] == ['exchange_binding']
    assert [b.kind for b in ledger.bindings] == ['queue_binding']
    skipped = step_refused(ledger, steps[1], 'RESOURCE_LOCKED')
    # The queue is reported together with its consumer.
    assert [entity.kind for entity in skipped] == ['queue', 'consumer']
    assert 'RESOURCE_LOCKED' in skipped[0].reason
    assert list(ledger.queues) == ['named']
    assert ledger.bindings == [] and ledger.consumers == {}
    step_refused(ledger, steps[0], 'ACCESS_REFUSED')
    assert ledger.exchanges == {}


class _Channel:

    def __init__(self, number):
        self.channel_number = number


def test_channel_listeners_get_their_channel_and_own_skipped_only():
    coordinator = RecoveryCoordinator(RecoveryConfig(), 'conn')
    first, second = _Channel(1), _Channel(2)
    live = {first, second}
    calls = []
    for channel in (first, second):
        for kind in ('started', 'succeeded', 'failed'):
            coordinator.add_channel_listener(
                kind,
                channel,
                lambda ch, arg, kind=kind: calls.append((kind, ch, arg)),
                lambda channel=channel: channel in live)
    with pytest.raises(TypeError, match='callback'):
        coordinator.add_channel_listener('started', first, None, lambda: True)
    error = exceptions.StreamLostError('gone')
    coordinator.connection_lost(error)
    assert calls == [('started', first, error), ('started', second, error)]
    calls.clear()
    live.discard(first)  # closed meanwhile: not told any more
    skipped = [
        TopologyRecoveryEntity('consumer', 'a', 1),
        TopologyRecoveryEntity('consumer', 'b', 2)
    ]
    coordinator.begin_attempt()
    coordinator.attempt_succeeded(skipped)
    assert calls == [('succeeded', second, [skipped[1]])]
