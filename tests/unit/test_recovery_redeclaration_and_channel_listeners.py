"""pika.recovery helpers shared by the recovery drivers: the call that
declares a recorded entity again, forgetting what the broker refused, and
per-channel listeners (no broker, no sockets)."""

import pytest

from pika import exceptions
from pika.recovery import (RecoveryConfig, RecoveryCoordinator, TopologyLedger,
                           TopologyRecoveryEntity, forget_refused,
                           redeclaration)


def _ledger():
    ledger = TopologyLedger()
    ledger.record_exchange(1, 'ex', 'fanout', True, False, False, {'a': 1})
    ledger.record_queue(1, '', 'amq.gen-1', False, True, False, None)
    ledger.record_queue(1, 'named', 'named', True, False, False, None)
    ledger.record_binding(1, 'queue_binding', 'amq.gen-1', 'ex', 'rk', None)
    ledger.record_binding(1, 'exchange_binding', 'ex2', 'ex', '', {'b': 2})
    ledger.record_consumer(1, 'ctag', 'amq.gen-1', False, False, None)
    return ledger


def test_redeclaration_of_each_kind():
    ledger = _ledger()
    exchanges, queues, bindings = ledger.plan(RecoveryConfig().topology)
    assert redeclaration(exchanges[0]) == ('exchange_declare',
                                           dict(exchange='ex',
                                                exchange_type='fanout',
                                                durable=True,
                                                auto_delete=False,
                                                internal=False,
                                                arguments={'a': 1}))
    # A server-named queue is declared with '' to get a new name.
    assert redeclaration(queues[0]) == ('queue_declare',
                                        dict(queue='',
                                             durable=False,
                                             exclusive=True,
                                             auto_delete=False,
                                             arguments=None))
    assert redeclaration(queues[1])[1]['queue'] == 'named'
    assert redeclaration(bindings[0]) == ('queue_bind',
                                          dict(queue='amq.gen-1',
                                               exchange='ex',
                                               routing_key='rk',
                                               arguments=None))
    assert redeclaration(bindings[1]) == ('exchange_bind',
                                          dict(destination='ex2',
                                               source='ex',
                                               routing_key='',
                                               arguments={'b': 2}))
    with pytest.raises(ValueError, match='entity'):
        redeclaration(ledger.consumers[(1, 'ctag')])


def test_forget_refused_drops_the_entity_and_what_hangs_on_it():
    ledger = _ledger()
    _, queues, bindings = ledger.plan(RecoveryConfig().topology)
    forget_refused(ledger, bindings[1])
    assert [b.kind for b in ledger.bindings] == ['queue_binding']
    forget_refused(ledger, queues[0])
    assert list(ledger.queues) == ['named']
    assert ledger.bindings == [] and ledger.consumers == {}
    forget_refused(ledger,
                   TopologyRecoveryEntity('exchange', 'ex', 1, dict(durable=1)))
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
