"""The Twisted adapter as pika 1.4.4 behaves: Deferreds, errors, closing.

Every expectation here was first observed on pika 1.4.4 against the same
broker (differential runs); the scenarios run on the shared
reactor thread of ``twisted_harness`` (a reactor cannot restart).
"""

from typing import Any, List

import pytest
from twisted.internet import defer, endpoints, error as twisted_error
from twisted.internet import protocol, reactor
from twisted.python.failure import Failure

import pika
from pika import exceptions, spec
from pika.adapters.twisted_connection import (ReceivedMessage,
                                              TwistedProtocolConnection)

from async_harness import BROKER_HOST, BROKER_PORT, broker_params, unique_name
from twisted_harness import (connect, expect_failure, scenario_test, sleep)


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
