"""The bookkeeping behind automatic recovery's promises, without a broker:
publisher-confirm numbers that go on across a loss (ConfirmTracker) and
delivery-tag generations that keep tags from before a loss apart
(DeliveryTagGenerations)."""

from pika import exceptions
from pika._recovery_async_hooks import ConfirmTracker
from pika.recovery import (DeliveryTagGenerations, RecoveryConfig,
                           RecoveryCoordinator, UnconfirmedMessage)


def _message(body):
    return UnconfirmedMessage('', 'q', body, None, False)


def test_confirm_numbers_go_on_after_a_loss_and_lost_ones_keep_theirs():
    tracker = ConfirmTracker()
    for body in (b'a', b'b', b'c'):
        tracker.sent(_message(body))
    assert tracker.confirmed(1, False) == 1
    lost = tracker.take_lost()
    assert [(m.body, m.delivery_tag) for m in lost] == [(b'b', 2), (b'c', 3)]
    # The new channel numbers from 1; the application's numbers go on.
    tracker.sent(_message(b'd'))
    assert tracker.confirmed(1, False) == 4
    assert tracker.pending == {}


def test_republished_messages_are_confirmed_under_their_first_numbers():
    tracker = ConfirmTracker()
    for body in (b'a', b'b'):
        tracker.sent(_message(body))
    lost = tracker.take_lost()
    for message in lost:
        tracker.sent(message, message.delivery_tag)
    tracker.sent(_message(b'c'))
    # A multiple ack of the broker's 3 covers everything: app number 3.
    assert tracker.confirmed(2, False) == 2
    assert tracker.confirmed(3, True) == 3
    assert tracker.pending == {}
    assert tracker.published == 3


def test_delivery_tags_from_before_a_loss_are_dropped():
    coordinator = RecoveryCoordinator(RecoveryConfig(), connection=None)
    tags = DeliveryTagGenerations(coordinator)
    assert tags.base == 0
    assert tags.live_tag(1, 5, False) == 5
    assert coordinator.connection_lost(exceptions.StreamLostError('reset'))
    # While recovering the restored channels are the next generation.
    assert tags.base == 1 << 40
    assert tags.live_tag(1, 5, False) is None
    assert tags.live_tag(1, 0, True) is None  # "all" of a dead channel
    coordinator.attempt_succeeded([])
    assert tags.base == 1 << 40
    assert tags.live_tag(1, 5, False) is None
    assert tags.live_tag(1, (1 << 40) + 7, False) == 7
    assert tags.live_tag(1, 0, True) == 0
