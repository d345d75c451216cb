"""pika 1.4 does not check the names given to exchange_delete,
exchange_unbind and queue_unbind's exchange: the method class's assert
refuses what is neither ``str`` nor ``bytes``. Ours raises an error that is
an ``AssertionError`` too (and a ``TypeError`` naming the argument), and
accepts ``bytes`` there, sending them as they are."""

import pytest

from pika import spec
from engine_fake import open_channel, open_connection


@pytest.mark.parametrize('call, argument', [
    (lambda ch: ch.exchange_delete(None), 'exchange'),
    (lambda ch: ch.exchange_delete(5), 'exchange'),
    (lambda ch: ch.exchange_unbind(None, 's'), 'destination'),
    (lambda ch: ch.exchange_unbind('d', 5), 'source'),
    (lambda ch: ch.queue_unbind('q', None), 'exchange'),
    (lambda ch: ch.queue_unbind('q', 5), 'exchange'),
])
def test_wrong_type_is_an_assertion_and_a_type_error(call, argument):
    conn = open_connection()
    chan = open_channel(conn)
    conn.sent()
    with pytest.raises(AssertionError):
        call(chan)
    with pytest.raises(TypeError, match=argument):
        call(chan)
    assert conn.sent() == []


def test_bind_names_are_still_checked_as_pika_checks_them():
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(TypeError) as caught:
        chan.exchange_bind(None, 's')
    assert not isinstance(caught.value, AssertionError)
    with pytest.raises(TypeError) as caught:
        chan.queue_bind('q', None)
    assert not isinstance(caught.value, AssertionError)


def test_bytes_names_are_sent():
    conn = open_connection()
    chan = open_channel(conn)
    conn.sent()
    # without a callback each is sent with nowait, one after the other
    chan.exchange_delete(b'ex')
    chan.exchange_unbind(b'd', b's', 'rk')
    chan.queue_unbind('q', b'ex', 'rk', callback=lambda frame: None)
    delete, unbind, queue_unbind = conn.sent_methods()
    assert isinstance(delete, spec.Exchange.Delete)
    assert isinstance(unbind, spec.Exchange.Unbind)
    assert isinstance(queue_unbind, spec.Queue.Unbind)
    assert delete.exchange == 'ex'
    assert (unbind.destination, unbind.source) == ('d', 's')
    assert queue_unbind.exchange == 'ex'
