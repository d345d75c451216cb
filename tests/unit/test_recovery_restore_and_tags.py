"""pika.recovery's shared pieces every recovery driver uses: the topology
restore sequence (over a scripted driver, no broker) and the delivery-tag
generations."""

import logging
from types import SimpleNamespace

from pika import spec
from pika.recovery import (TAG_GENERATION_SHIFT, StaleTagFilter, TopologyLedger,
                           TopologyRecoveryMode, restore_topology)

# The declaring method of each step, by its AMQP name.
_METHODS = {
    'Exchange.Declare': 'exchange_declare',
    'Queue.Declare': 'queue_declare',
    'Queue.Bind': 'queue_bind',
    'Exchange.Bind': 'exchange_bind',
}


class _ScriptedDriver:
    """Answers restore RPCs as a broker would; ``refuse`` names the
    (method, name) pairs the broker refuses by closing the channel."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.calls = []
        self.opened = 0
        self.closed = []
        self.server_names = iter('amq.gen-new-%d' % n for n in range(10))

    def open_channel(self):
        self.opened += 1
        return 'scratch-%d' % self.opened

    def send_step(self, channel, step):
        sent = step.method
        method = _METHODS[sent.NAME]
        if isinstance(sent, spec.Exchange.Declare):
            name = sent.exchange
        elif isinstance(sent, spec.Exchange.Bind):
            name = sent.destination
        else:
            name = sent.queue
        self.calls.append((channel, method, name))
        if (method, name) in self.refuse:
            return None
        if method == 'queue_declare':
            queue = sent.queue or next(self.server_names)
            return SimpleNamespace(method=SimpleNamespace(queue=queue))
        return SimpleNamespace(method=None)

    def close_channel(self, channel):
        self.closed.append(channel)


def _ledger():
    ledger = TopologyLedger()
    ledger.record_exchange(1, 'ex', 'fanout', False, True, False, None)
    ledger.record_exchange(1, 'gone-ex', 'direct', False, False, False, None)
    ledger.record_queue(1, '', 'amq.gen-old', False, True, False, None)
    ledger.record_queue(1, 'named', 'named', True, False, False, {'x': 1})
    ledger.record_binding(1, 'queue_binding', 'amq.gen-old', 'ex', '', None)
    ledger.record_binding(1, 'queue_binding', 'named', 'gone-ex', 'k', None)
    ledger.record_consumer(1, 'tag', 'amq.gen-old', False, False, None)
    return ledger


def test_restore_declares_in_order_and_renames_server_named_queues():
    ledger = _ledger()
    driver = _ScriptedDriver()
    skipped = restore_topology(ledger, TopologyRecoveryMode.ALL, driver)
    assert skipped == []
    assert [(method, name) for _, method, name in driver.calls] == [
        ('exchange_declare', 'ex'),
        ('exchange_declare', 'gone-ex'),
        ('queue_declare', ''),
        ('queue_declare', 'named'),
        ('queue_bind', 'amq.gen-new-0'),
        ('queue_bind', 'named'),
    ]
    assert ledger.current_queue_name('amq.gen-old') == 'amq.gen-new-0'
    assert ledger.consumers[(1, 'tag')].details['queue'] == 'amq.gen-new-0'
    assert driver.opened == 1 and driver.closed == ['scratch-1']


def test_refused_declaration_is_skipped_forgotten_and_costs_one_channel():
    ledger = _ledger()
    driver = _ScriptedDriver(refuse={('exchange_declare', 'gone-ex')})
    skipped = restore_topology(ledger, TopologyRecoveryMode.ALL, driver)
    assert [(entity.kind, entity.name) for entity in skipped] == [('exchange',
                                                                   'gone-ex')]
    assert 'Exchange.Declare refused' in skipped[0].reason
    assert 'gone-ex' not in ledger.exchanges
    # the exchange's binding went with it; later steps use a new channel
    assert [b.details['source'] for b in ledger.bindings] == ['ex']
    assert driver.calls[2][0] == 'scratch-2'
    assert driver.closed == ['scratch-2']


def test_disabled_topology_declares_nothing():
    driver = _ScriptedDriver()
    assert restore_topology(_ledger(), TopologyRecoveryMode.DISABLED,
                            driver) == []
    assert driver.calls == [] and driver.opened == 0


def test_stale_tags_are_dropped_and_logged_once_per_channel(caplog):
    tags = StaleTagFilter()
    base = 1 << TAG_GENERATION_SHIFT
    assert tags.live_tag(1, 5, False, 0, False) == 5
    with caplog.at_level(logging.WARNING, logger='pika.recovery'):
        assert tags.live_tag(1, 5, False, base, False) is None
        assert tags.live_tag(1, 6, True, base, False) is None
        assert tags.live_tag(2, 7, False, base, False) is None
    assert len(caplog.records) == 2  # channels 1 and 2, once each
    assert tags.live_tag(1, base + 3, False, base, False) == 3
    # ack-all: sent when connected, dropped while recovering
    assert tags.live_tag(1, 0, True, base, False) == 0
    assert tags.live_tag(1, 0, True, base, True) is None
    caplog.clear()
    tags.new_generation()
    with caplog.at_level(logging.WARNING, logger='pika.recovery'):
        assert tags.live_tag(1, base + 3, False, 2 * base, False) is None
    assert len(caplog.records) == 1
