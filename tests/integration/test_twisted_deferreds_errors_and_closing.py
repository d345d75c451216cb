"""The Twisted adapter as pika 1.4.4 behaves: Deferreds, errors, closing.

Every expectation here was first observed on pika 1.4.4 against the same
broker (differential runs); the scenarios run on the shared
reactor thread of ``test_twisted_scenarios`` (a reactor cannot restart).
"""

from typing import Any, List

import pytest
from twisted.internet import defer, endpoints, error as twisted_error
from twisted.internet import protocol, reactor
from twisted.python.failure import Failure

import pika
from pika import exceptions, spec
from pika.adapters.twisted_connection import (ClosableDeferredQueue,
                                              ReceivedMessage, TwistedChannel,
                                              TwistedProtocolConnection)

from async_harness import BROKER_HOST, BROKER_PORT, broker_params, unique_name
from test_twisted_scenarios import (connect, expect_failure, scenario_test,
                                    sleep)


def fired(d: defer.Deferred) -> List[Any]:
    """The result of an already fired Deferred, in a list (empty if not)."""
    results: List[Any] = []
    d.addBoth(results.append)
    return results


@scenario_test
def test_closed_deferred_is_dropped_once_fired():
    conn = yield connect()
    assert conn.ready is None
    closed = conn.closed
    assert isinstance(closed, defer.Deferred) and not closed.called
    yield conn.channel()
    pending_channel = conn.channel()
    close_result = conn.close(321, 'bye')
    assert close_result is closed
    assert not conn.is_open and not conn.is_closed
    reason = yield close_result
    assert isinstance(reason, twisted_error.ConnectionDone)
    failure = yield expect_failure(pending_channel,
                                   twisted_error.ConnectionDone)
    assert str(failure) == 'Connection was closed cleanly.'
    # pika 1.4.4 drops ``closed`` as it fires, as it drops ``ready``.
    assert conn.closed is None and conn.ready is None
    assert conn.is_closed and conn._impl._transport is None
    assert conn._calls == set()
    assert conn.close() is None


@scenario_test
def test_channels_closed_with_the_connection_close_reason():
    conn = yield connect()
    channel = yield conn.channel()
    name = unique_name('acc2-tw')
    yield channel.queue_declare(name, exclusive=True)
    queue_obj, _tag = yield channel.basic_consume(name)
    waiting = queue_obj.get()
    yield conn.close(321, 'bye')
    error = yield expect_failure(waiting, exceptions.ChannelClosedByClient)
    assert error.args == (321, 'bye')
    assert isinstance(channel._closed, exceptions.ChannelClosedByClient)
    assert channel.is_closed
    error = yield expect_failure(queue_obj.get(),
                                 exceptions.ChannelClosedByClient)
    assert error.args == (321, 'bye')
    error = yield expect_failure(channel.queue_declare('x'),
                                 exceptions.ChannelClosedByClient)
    assert error.args == (321, 'bye')
    try:
        conn.channel()
    except exceptions.ConnectionWrongStateError as wrong_state:
        assert str(wrong_state).startswith(
            'Channel allocation requires an open connection: ')
    else:
        raise AssertionError('channel() on a closed connection')


@scenario_test
def test_confirm_delivery_twice_fires_none_once_on():
    conn = yield connect()
    channel = yield conn.channel()
    first = channel.confirm_delivery()
    second = channel.confirm_delivery()  # before SelectOk: both RPCs run
    first_frame = yield first
    second_frame = yield second
    assert isinstance(first_frame.method, spec.Confirm.SelectOk)
    assert isinstance(second_frame.method, spec.Confirm.SelectOk)
    third = channel.confirm_delivery()
    assert fired(third) == [None]
    name = unique_name('acc2-tw')
    yield channel.queue_declare(name, exclusive=True)
    ack = yield channel.basic_publish('', name, b'x')
    assert isinstance(ack, spec.Basic.Ack)
    assert ack.delivery_tag == 1
    yield conn.close()


@scenario_test
def test_open_errors_fail_ready_with_connection_attempts():
    for params, ep, expected in (
        (broker_params(credentials=pika.PlainCredentials('guest', 'bad')),
         False, (1,)),
        (broker_params(virtual_host='/acc2-no-such-vhost'), False, (1,)),
        (broker_params(virtual_host='/acc2-no-such-vhost',
                       connection_attempts=3), True, (3,)),
    ):
        if ep:
            endpoint = endpoints.TCP4ClientEndpoint(reactor, BROKER_HOST,
                                                    BROKER_PORT)
            conn = yield endpoints.connectProtocol(
                endpoint, TwistedProtocolConnection(params))
        else:
            creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                             params)
            conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
        assert conn.closed is None
        error = yield expect_failure(conn.ready, exceptions.AMQPConnectionError)
        assert type(error) is exceptions.AMQPConnectionError
        assert error.args == expected
        assert str(error) == str(expected[0])
        assert conn.ready is None and conn.closed is None
        assert conn.is_closed and not conn.is_open
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                     broker_params())
    yield expect_failure(creator.connectTCP(BROKER_HOST, 1),
                         twisted_error.ConnectionRefusedError)


@scenario_test
def test_consumer_queue_on_broker_channel_close_and_cancel():
    conn = yield connect()
    channel = yield conn.channel()
    name = unique_name('acc2-tw')
    yield channel.queue_declare(name, exclusive=True)
    queue_obj, tag = yield channel.basic_consume(name)
    assert queue_obj.closed is None
    assert channel._queue_name_to_consumer_tags == {name: {tag}}
    for body in (b'a', b'b', b'c'):
        channel.basic_publish('', name, body)
    first = yield queue_obj.get().addTimeout(5, reactor)
    assert isinstance(first, ReceivedMessage) and first.body == b'a'
    for _ in range(50):
        if len(queue_obj.pending) == 2:
            break
        yield sleep(0.02)
    assert len(queue_obj.pending) == 2
    passive = channel.queue_declare(unique_name('acc2-nx'), passive=True)
    queued = channel.exchange_declare(unique_name('acc2-x'), 'direct')
    error = yield expect_failure(passive, exceptions.ChannelClosedByBroker)
    assert error.reply_code == 404
    # pending calls fail first, then consumer queues close, then on_closed
    assert queue_obj.closed is None and not channel.on_closed.called
    assert channel.is_closed
    yield expect_failure(queued, exceptions.ChannelClosedByBroker)
    reason = yield channel.on_closed
    assert reason is error
    # The undelivered messages are dropped; get() fails with the reason.
    assert isinstance(queue_obj.closed, exceptions.ChannelClosedByBroker)
    assert len(queue_obj.pending) == 0
    assert channel._consumers == {} and channel._calls == set()
    for _ in range(2):
        again = yield expect_failure(queue_obj.get(),
                                     exceptions.ChannelClosedByBroker)
        assert again is error
    # The broker cancels a consumer whose queue is deleted.
    consumer_channel = yield conn.channel()
    other_channel = yield conn.channel()
    name2 = unique_name('acc2-tw')
    yield consumer_channel.queue_declare(name2)
    queue2, _tag2 = yield consumer_channel.basic_consume(name2, auto_ack=True)
    waiting = queue2.get()
    yield other_channel.queue_delete(name2)
    cancelled = yield expect_failure(waiting, exceptions.ConsumerCancelled)
    assert cancelled.args == (
    ) and str(cancelled) == 'Server cancelled consumer'
    yield sleep(0.05)
    assert consumer_channel._consumers == {}
    assert consumer_channel._queue_name_to_consumer_tags == {name2: set()}
    yield expect_failure(queue2.get(), exceptions.ConsumerCancelled)
    assert consumer_channel.is_open
    yield conn.close()


@scenario_test
def test_returns_nacks_and_duplicate_calls():
    conn = yield connect()
    channel = yield conn.channel()
    returned = []
    assert channel.add_on_return_callback(returned.append) is None
    result = yield channel.basic_publish('',
                                         unique_name('acc2-nx'),
                                         b'r',
                                         mandatory=True)
    assert result is None  # no confirms: fired at once with None
    yield channel.confirm_delivery()
    error = yield expect_failure(
        channel.basic_publish('', unique_name('acc2-nx'), b'r2',
                              mandatory=True), exceptions.UnroutableError)
    assert error.args == ('1 unroutable message(s) returned',)
    assert [m.body for m in error.messages] == [b'r2']
    assert [m.body for m in returned] == [b'r', b'r2']
    assert all(isinstance(m, ReceivedMessage) for m in returned)
    assert returned[0].method.reply_text == 'NO_ROUTE'
    unroutable_ack = yield channel.basic_publish('', unique_name('acc2-nx'),
                                                 b'r3')
    assert isinstance(unroutable_ack, spec.Basic.Ack)
    name = unique_name('acc2-tw')
    yield channel.queue_declare(name,
                                exclusive=True,
                                arguments={
                                    'x-max-length': 1,
                                    'x-overflow': 'reject-publish'
                                })
    yield channel.basic_publish('', name, b'n1')
    nack = yield expect_failure(channel.basic_publish('', name, b'n2'),
                                exceptions.NackError)
    assert nack.args == ('0 message(s) NACKed',)
    getting = channel.basic_get(name)
    try:
        channel.basic_get(name)
    except exceptions.DuplicateGetOkCallback:
        pass
    else:
        raise AssertionError('second concurrent basic_get')
    message = yield getting
    assert message.body == b'n1' and message.method.message_count == 0
    _queue_obj, tag = yield channel.basic_consume(name, consumer_tag='mytag')
    assert tag == 'mytag'
    duplicate = yield expect_failure(
        channel.basic_consume(name, consumer_tag='mytag'),
        exceptions.DuplicateConsumerTag)
    assert duplicate.args == ('mytag',)
    assert channel.is_open
    yield conn.close()


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


@scenario_test
def test_transport_loss_reaches_everything_with_the_twisted_reason():
    for how in ('loseConnection', 'abortConnection', 'connectionLost'):
        conn = yield connect()
        closed = conn.closed
        channel = yield conn.channel()
        name = unique_name('acc2-tw')
        yield channel.queue_declare(name, exclusive=True)
        queue_obj, _tag = yield channel.basic_consume(name)
        waiting = queue_obj.get()
        pending = channel.queue_declare(unique_name('acc2-tw'), exclusive=True)
        if how == 'loseConnection':
            conn.transport.loseConnection()
            expected = twisted_error.ConnectionDone
        elif how == 'abortConnection':
            conn.transport.abortConnection()
            expected = twisted_error.ConnectionAborted
        else:
            conn.connectionLost(Failure(RuntimeError('boom')))
            expected = RuntimeError
        reason = yield closed
        assert isinstance(reason, expected)
        for d in (waiting, pending):
            yield expect_failure(d, expected)
        channel_reason = yield channel.on_closed
        assert isinstance(channel_reason, expected)
        assert isinstance(queue_obj.closed, expected)
        assert isinstance(channel._closed, expected) and channel.is_closed
        assert conn.is_closed and conn.closed is None and conn.ready is None
        assert conn.close() is None
        if conn.transport.connected:
            conn.transport.loseConnection()


@scenario_test
def test_cancel_drops_undelivered_messages():
    conn = yield connect()
    channel = yield conn.channel()
    for how in ('client', 'broker'):
        name = unique_name('acc2-tw')
        yield channel.queue_declare(name)
        queue_obj, tag = yield channel.basic_consume(name, auto_ack=True)
        for number in range(3):
            channel.basic_publish('', name, b'%d' % number)
        for _ in range(50):
            if len(queue_obj.pending) == 3:
                break
            yield sleep(0.02)
        assert len(queue_obj.pending) == 3
        if how == 'client':
            cancel_ok = yield channel.basic_cancel(tag)
            assert isinstance(cancel_ok.method, spec.Basic.CancelOk)
        else:
            other = yield conn.channel()
            yield other.queue_delete(name)
            for _ in range(50):
                if queue_obj.closed is not None:
                    break
                yield sleep(0.02)
        assert isinstance(queue_obj.closed, exceptions.ConsumerCancelled)
        assert len(queue_obj.pending) == 0
        for _ in range(2):
            yield expect_failure(queue_obj.get(), exceptions.ConsumerCancelled)
        if how == 'client':
            yield channel.queue_delete(name)
    yield conn.close()


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


class _CustomReady(TwistedProtocolConnection):
    """connectionReady may return a Deferred: ``ready`` fires with its
    result."""

    def connectionReady(self):  # noqa: N802 - Twisted/pika name
        d = defer.Deferred()
        reactor.callLater(0.01, d.callback, 'custom-result')
        return d


@scenario_test
def test_close_while_opening_and_custom_connection_ready():
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                     broker_params())
    conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
    ready = conn.ready
    assert conn.close() is None  # ``closed`` exists only once open
    error = yield expect_failure(ready, exceptions.AMQPConnectionError)
    assert type(error) is exceptions.AMQPConnectionError
    assert error.args == (1,)
    for _ in range(50):
        if not conn.transport.connected:
            break
        yield sleep(0.02)
    assert conn.is_closed and conn.ready is None and conn.closed is None
    creator = protocol.ClientCreator(reactor, _CustomReady, broker_params())
    conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
    result = yield conn.ready
    assert result == 'custom-result'
    pending = conn.channel()
    conn.close()
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()
    yield expect_failure(pending, twisted_error.ConnectionDone)
