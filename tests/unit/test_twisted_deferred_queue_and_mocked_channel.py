"""The Twisted adapter's pieces without a reactor or broker, as pika 1.4.4's
own tests drive them: ``ClosableDeferredQueue`` and ``ReceivedMessage``,
``TwistedChannel`` over a mock channel (completion callbacks fire its
Deferreds), and ``TwistedProtocolConnection`` / ``_TwistedConnectionAdapter``
hooks over mocks.
"""

from typing import Any, List

import pytest
from twisted.internet import defer, error as twisted_error
from twisted.python.failure import Failure

from pika import exceptions, spec
from pika.adapters.twisted_connection import (ClosableDeferredQueue,
                                              ReceivedMessage, TwistedChannel,
                                              TwistedProtocolConnection)


def fired(d: defer.Deferred) -> List[Any]:
    """The result of an already fired Deferred, in a list (empty if not)."""
    results: List[Any] = []
    d.addBoth(results.append)
    return results


def test_closable_deferred_queue_semantics():
    queue_obj = ClosableDeferredQueue(size=1, backlog=1)
    assert queue_obj.closed is None
    assert queue_obj.put('a') is None
    with pytest.raises(defer.QueueOverflow):
        queue_obj.put('b')
    assert fired(queue_obj.get()) == ['a']
    waiting = queue_obj.get()
    with pytest.raises(defer.QueueUnderflow):
        queue_obj.get()
    assert not waiting.called
    queue_obj = ClosableDeferredQueue()
    queue_obj.put(1)
    queue_obj.put(2)
    assert queue_obj.close(ValueError('boom')) is None
    assert list(queue_obj.pending) == []
    for d in (queue_obj.get(), queue_obj.put(3)):
        result = fired(d)
        assert isinstance(result[0].value, ValueError)
    queue_obj.close(KeyError('x'))
    assert isinstance(queue_obj.closed, KeyError)
    queue_obj = ClosableDeferredQueue()
    waiters = [queue_obj.get(), queue_obj.get()]
    queue_obj.close(RuntimeError('r'))
    for waiter in waiters:
        assert isinstance(fired(waiter)[0].value, RuntimeError)
    queue_obj = ClosableDeferredQueue()
    queue_obj.close('reason-str')
    assert fired(queue_obj.get())[0].value == 'reason-str'
    message = ReceivedMessage(1, 2, 3, 4)
    assert message._fields == ('channel', 'method', 'properties', 'body')
    assert repr(message) == (
        'ReceivedMessage(channel=1, method=2, properties=3, body=4)')


def test_completion_callbacks_given_to_the_channel():
    """TwistedChannel over a mock channel, as pika 1.4.4's own tests drive
    it: the completion callback fires the Deferred with its one argument
    (a tuple for several); basic_get's makes a ReceivedMessage."""
    from unittest import mock
    from pika import frame

    def fresh() -> Any:
        channel = mock.Mock(name='channel')
        channel.channel_number = 1
        return TwistedChannel(channel), channel

    twisted_channel, channel = fresh()
    d = twisted_channel.queue_declare(queue='q', durable=True)
    kwargs = channel.queue_declare.call_args.kwargs
    assert sorted(kwargs) == [
        'arguments', 'auto_delete', 'callback', 'durable', 'exclusive',
        'passive', 'queue'
    ]
    reply = frame.Method(1, spec.Queue.DeclareOk('q'))
    kwargs['callback'](reply)
    assert fired(d) == [reply] and twisted_channel._calls == set()
    d = twisted_channel.basic_qos(prefetch_count=1)
    channel.basic_qos.call_args.kwargs['callback']('a', 'b')
    assert fired(d) == [('a', 'b')]
    d = twisted_channel.basic_get(queue='q')
    get_ok = spec.Basic.GetOk(1, False, '', 'q', 0)
    props = spec.BasicProperties()
    channel.basic_get.call_args.kwargs['callback']('raw', get_ok, props, b'b')
    message = fired(d)[0]
    assert isinstance(message, ReceivedMessage)
    assert tuple(message) == (twisted_channel, get_ok, props, b'b')
    assert twisted_channel._basic_get_deferred is None
    d = twisted_channel.basic_get(queue='q')
    channel.basic_get.call_args.kwargs['callback']('x')
    error = fired(d)[0].value
    assert isinstance(error, ValueError)
    assert str(error) == 'not enough values to unpack (expected 4, got 1)'
    d = twisted_channel.basic_get(queue='q')
    twisted_channel._on_getempty(frame.Method(1, spec.Basic.GetEmpty()))
    assert fired(d) == [None]
    # queue_delete cancels the consumers of that queue
    twisted_channel, channel = fresh()
    queue_obj = ClosableDeferredQueue()
    twisted_channel._consumers = {'test-tag': queue_obj}
    twisted_channel._queue_name_to_consumer_tags = {'testqueue': {'test-tag'}}
    d = twisted_channel.queue_delete('testqueue')
    channel.queue_delete.call_args.kwargs['callback'](frame.Method(
        1, spec.Queue.DeleteOk(0)))
    assert twisted_channel._consumers == {}
    assert twisted_channel._queue_name_to_consumer_tags == {'testqueue': set()}
    assert isinstance(queue_obj.closed, exceptions.ConsumerCancelled)
    assert queue_obj.closed.args == ('Queue testqueue was deleted.',)
    # closing fails pending calls (even a list of them) and closes queues
    twisted_channel, channel = fresh()
    pending = defer.Deferred()
    twisted_channel._calls = [pending]
    consumer = mock.Mock()
    twisted_channel._consumers = {'tag': consumer}
    error = RuntimeError('testing')
    twisted_channel._on_channel_closed(None, error)
    consumer.close.assert_called_once_with(error)
    assert len(twisted_channel._calls) == 0
    assert twisted_channel._consumers == {}
    assert fired(pending)[0].value is error


def test_protocol_and_adapter_hooks_over_mocks():
    """TwistedProtocolConnection / _TwistedConnectionAdapter driven with
    mocks the way pika 1.4.4's own tests drive them."""
    from unittest import mock
    from pika.adapters.twisted_connection import (_TimerHandle,
                                                  _TwistedConnectionAdapter)

    conn = TwistedProtocolConnection()
    conn._impl = mock.Mock()
    conn._impl.is_closed = False
    conn.closed = 'TESTING'
    assert conn.close() == 'TESTING'
    conn._impl.close.assert_called_once_with(200, 'Normal shutdown')
    conn._impl.reset_mock()
    conn._impl.is_closed = True
    assert conn.close() == 'TESTING'  # pika returns ``closed`` regardless
    conn._impl.close.assert_not_called()
    conn = TwistedProtocolConnection()
    conn._impl = mock.Mock()
    conn._impl.params.connection_attempts = 4
    ready = conn.ready
    conn._on_connection_failed(None)
    error = fired(ready)[0].value
    assert type(error) is exceptions.AMQPConnectionError
    assert error.args == (4,) and conn.ready is None

    adapter = _TwistedConnectionAdapter(None, None, None, None, None)
    assert adapter._transport is None and adapter._error is None
    transport = mock.Mock()
    adapter._on_stream_connected = mock.Mock()
    adapter.connection_made(transport)
    assert adapter._transport is transport
    adapter._on_stream_connected.assert_called_once_with()
    adapter._adapter_emit_data(b'testdata')
    transport.write.assert_called_once_with(b'testdata')
    adapter._adapter_disconnect_stream()
    transport.loseConnection.assert_called_once_with()
    adapter._on_stream_terminated = mock.Mock()
    error = Failure(RuntimeError('testreason'))
    adapter.connection_lost(error)
    adapter._on_stream_terminated.assert_called_with(error.value)
    assert adapter._transport is None
    adapter = _TwistedConnectionAdapter(None, None, None, None, None)
    adapter._on_stream_terminated = mock.Mock()
    done = Failure(twisted_error.ConnectionDone())
    adapter.connection_lost(done)
    # A clean close reaches the engine as "no error", its reason in _error.
    adapter._on_stream_terminated.assert_called_with(None)
    assert adapter._error is done.value

    handle = mock.Mock()
    handle.cancel.side_effect = twisted_error.AlreadyCalled()
    timer = _TimerHandle(handle)
    timer.cancel()  # already ran: ignored
    timer.cancel()
    handle.cancel.assert_called_once_with()
