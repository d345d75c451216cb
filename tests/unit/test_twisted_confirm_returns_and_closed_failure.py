"""TwistedChannel publisher confirms with a returned message, and the
``closed`` Deferred given a Failure, as pika 1.4.4 behaves (observed by
running pika 1.4.4's own twisted adapter tests against it).

- A message returned (Basic.Return) before a Basic.Nack travels in the
  NackError of the publish it fails; before a Basic.Ack, in UnroutableError.
- With ``multiple``, the returned message goes to the lowest pending tag.
- A confirmation whose tag is not pending fires nothing, even with
  ``multiple``.
- ``_on_connection_closed`` with a Failure fires ``closed`` through its
  callback path with the Failure's exception.
"""

from typing import Any, List, Tuple
from unittest import mock

from twisted.internet import defer
from twisted.python.failure import Failure

from pika import exceptions, frame, spec
from pika.adapters.twisted_connection import (TwistedChannel,
                                              TwistedProtocolConnection)


def fired(d: defer.Deferred) -> List[Any]:
    """The result of an already fired Deferred, in a list (empty if not)."""
    results: List[Any] = []
    d.addBoth(results.append)
    return results


def confirming_channel() -> Tuple[TwistedChannel, Any, Any]:
    """A TwistedChannel over a mock channel, in confirm mode; also returns
    the mock and the return callback registered on it."""
    channel = mock.Mock(name='channel')
    channel.channel_number = 1
    twisted_channel = TwistedChannel(channel)
    selected = twisted_channel.confirm_delivery()
    channel.confirm_delivery.call_args.kwargs['callback'](None)
    assert fired(selected) == [None]
    return_cb = channel.add_on_return_callback.call_args.args[0]
    return twisted_channel, channel, return_cb


def give_return(twisted_channel: TwistedChannel, return_cb: Any,
                body: bytes) -> None:
    method = spec.Basic.Return(312, 'NO_ROUTE', 'x', 'rk')
    return_cb(twisted_channel, method, spec.BasicProperties(), body)


def confirm(twisted_channel: TwistedChannel, method: Any) -> None:
    twisted_channel._on_delivery_confirmation(frame.Method(1, method))


def test_returned_message_travels_in_nack_error():
    twisted_channel, _channel, return_cb = confirming_channel()
    d = twisted_channel.basic_publish('x', 'rk', b'lost')
    give_return(twisted_channel, return_cb, b'lost')
    confirm(twisted_channel, spec.Basic.Nack(delivery_tag=1))
    error = fired(d)[0].value
    assert isinstance(error, exceptions.NackError)
    (message,) = error.messages
    assert message.body == b'lost' and message.channel is twisted_channel
    # The returned message was used up: the next publish is acked plainly.
    d = twisted_channel.basic_publish('x', 'rk', b'next')
    confirm(twisted_channel, spec.Basic.Ack(delivery_tag=2))
    assert isinstance(fired(d)[0], spec.Basic.Ack)


def test_nack_without_return_has_no_messages():
    twisted_channel, _channel, _return_cb = confirming_channel()
    d = twisted_channel.basic_publish('x', 'rk', b'b')
    confirm(twisted_channel, spec.Basic.Nack(delivery_tag=1))
    error = fired(d)[0].value
    assert isinstance(error, exceptions.NackError) and error.messages == []


def test_multiple_ack_gives_returned_message_to_lowest_tag():
    twisted_channel, _channel, return_cb = confirming_channel()
    first = twisted_channel.basic_publish('x', 'rk', b'one')
    second = twisted_channel.basic_publish('x', 'rk', b'two')
    give_return(twisted_channel, return_cb, b'one')
    confirm(twisted_channel, spec.Basic.Ack(delivery_tag=2, multiple=True))
    error = fired(first)[0].value
    assert isinstance(error, exceptions.UnroutableError)
    assert [m.body for m in error.messages] == [b'one']
    assert isinstance(fired(second)[0], spec.Basic.Ack)


def test_multiple_nack_gives_returned_message_to_lowest_tag():
    twisted_channel, _channel, return_cb = confirming_channel()
    first = twisted_channel.basic_publish('x', 'rk', b'one')
    second = twisted_channel.basic_publish('x', 'rk', b'two')
    give_return(twisted_channel, return_cb, b'one')
    confirm(twisted_channel, spec.Basic.Nack(delivery_tag=2, multiple=True))
    assert [m.body for m in fired(first)[0].value.messages] == [b'one']
    assert fired(second)[0].value.messages == []


def test_confirmation_for_a_tag_not_pending_fires_nothing():
    twisted_channel, _channel, _return_cb = confirming_channel()
    first = twisted_channel.basic_publish('x', 'rk', b'one')
    results = fired(first)
    confirm(twisted_channel, spec.Basic.Ack(delivery_tag=5, multiple=True))
    assert results == []
    assert sorted(twisted_channel._deliveries) == [1]
    confirm(twisted_channel, spec.Basic.Ack(delivery_tag=1))
    assert isinstance(results[0], spec.Basic.Ack)


def test_closed_fires_with_the_exception_of_a_failure():
    conn = TwistedProtocolConnection()
    conn._impl = mock.Mock()
    conn._on_connection_ready(None)
    closed = conn.closed
    assert closed is not None
    error = RuntimeError('gone')
    conn._on_connection_closed(None, Failure(error))
    assert fired(closed) == [error]
    assert conn.closed is None


def test_closed_fires_with_a_plain_exception_as_given():
    conn = TwistedProtocolConnection()
    conn._impl = mock.Mock()
    conn._on_connection_ready(None)
    closed = conn.closed
    assert closed is not None
    error = exceptions.ConnectionClosedByBroker(320, 'bye')
    conn._on_connection_closed(None, error)
    assert fired(closed) == [error]
