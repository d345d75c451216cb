"""Twisted adapter against a scripted broker: no sockets, no reactor.

The protocol is attached to Twisted's in-memory ``StringTransport`` and a
``task.Clock`` stands in for the reactor's timers; the tests feed broker
frames with ``dataReceived`` and read the client's frames off the transport.
"""

from typing import Any, List, Optional, Tuple

import pytest
from twisted.internet import defer, error as twisted_error, task
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from pika import connection, exceptions, frame, spec
from pika.adapters import twisted_connection
from pika.adapters.twisted_connection import (ClosableDeferredQueue,
                                              ReceivedMessage, TwistedChannel,
                                              TwistedProtocolConnection)

SERVER_PROPERTIES = {
    'product': 'RabbitMQ',
    'version': '3.10.0',
    'capabilities': {
        'publisher_confirms': True,
        'exchange_exchange_bindings': True,
        'basic.nack': True,
        'consumer_cancel_notify': True,
        'connection.blocked': True,
        'authentication_failure_close': True,
    },
}


class ScriptedBroker:
    """Drives a TwistedProtocolConnection with broker frames."""

    def __init__(self, heartbeat: int = 0) -> None:
        self.clock = task.Clock()
        params = connection.ConnectionParameters(heartbeat=heartbeat)
        self.conn = TwistedProtocolConnection(params, custom_reactor=self.clock)
        self.transport = StringTransport()
        self.heartbeat = heartbeat

    def sent_frames(self) -> List[Any]:
        """Decode and clear what the client wrote."""
        data = self.transport.value()
        self.transport.clear()
        frames = []
        offset = 0
        while offset < len(data):
            consumed, value = frame.decode_frame(data[offset:])
            assert value is not None, 'incomplete frame from client'
            frames.append(value)
            offset += consumed
        return frames

    def sent_methods(self) -> List[Any]:
        return [
            value.method
            for value in self.sent_frames()
            if isinstance(value, frame.Method)
        ]

    def send(self, channel_number: int, method: Any) -> None:
        self.conn.dataReceived(frame.Method(channel_number, method).marshal())

    def send_content(self,
                     channel_number: int,
                     method: Any,
                     body: bytes,
                     properties: Optional[spec.BasicProperties] = None) -> None:
        properties = properties or spec.BasicProperties()
        data = (frame.Method(channel_number, method).marshal() +
                frame.Header(channel_number, len(body), properties).marshal() +
                frame.Body(channel_number, body).marshal())
        self.conn.dataReceived(data)

    def open(self) -> Any:
        """Run the AMQP handshake; returns the ready Deferred's result."""
        ready = self.conn.ready
        results: List[Any] = []
        ready.addBoth(results.append)
        self.conn.makeConnection(self.transport)
        header = self.transport.value()
        assert header == b'AMQP\x00\x00\x09\x01'
        self.transport.clear()
        self.send(
            0,
            spec.Connection.Start(server_properties=SERVER_PROPERTIES,
                                  mechanisms='PLAIN',
                                  locales='en_US'))
        assert isinstance(self.sent_methods()[0], spec.Connection.StartOk)
        self.send(
            0,
            spec.Connection.Tune(channel_max=2047,
                                 frame_max=131072,
                                 heartbeat=self.heartbeat))
        methods = self.sent_methods()
        assert [type(m) for m in methods
               ] == [spec.Connection.TuneOk, spec.Connection.Open]
        self.send(0, spec.Connection.OpenOk())
        assert results, 'ready did not fire'
        return results[0]

    def open_channel(self) -> TwistedChannel:
        results: List[Any] = []
        self.conn.channel().addBoth(results.append)
        (method,) = self.sent_methods()
        assert isinstance(method, spec.Channel.Open)
        self.send(1, spec.Channel.OpenOk())
        assert len(results) == 1
        assert isinstance(results[0], TwistedChannel)
        return results[0]


def result_of(d: defer.Deferred) -> Any:
    """The current result of an already fired Deferred (failures raised)."""
    results: List[Any] = []
    d.addBoth(results.append)
    assert results, 'Deferred has not fired'
    value = results[0]
    if isinstance(value, Failure):
        value.raiseException()
    return value


def failure_of(d: defer.Deferred) -> BaseException:
    results: List[Any] = []
    d.addBoth(results.append)
    assert results, 'Deferred has not fired'
    assert isinstance(results[0], Failure), results[0]
    return results[0].value


@pytest.fixture
def broker() -> ScriptedBroker:
    return ScriptedBroker()


@pytest.fixture
def opened(broker: ScriptedBroker) -> Tuple[ScriptedBroker, TwistedChannel]:
    broker.open()
    return broker, broker.open_channel()


# -- connection ----------------------------------------------------------------


def test_ready_fires_with_connection_and_closed_appears(broker):
    assert broker.conn.closed is None
    assert broker.open() is broker.conn
    assert broker.conn.ready is None
    assert isinstance(broker.conn.closed, defer.Deferred)
    assert broker.conn.is_open and not broker.conn.is_closed


def test_connection_ready_hook_value_is_ready_result(broker):

    class Custom(TwistedProtocolConnection):

        def connectionReady(self):  # noqa: N802
            return 'custom'

    broker.conn = Custom(connection.ConnectionParameters(),
                         custom_reactor=broker.clock)
    assert broker.open() == 'custom'


def test_lost_before_open_errbacks_ready_with_attempts(broker):
    ready = broker.conn.ready
    broker.conn.makeConnection(broker.transport)
    broker.conn.connectionLost(Failure(twisted_error.ConnectionLost()))
    error = failure_of(ready)
    assert type(error) is exceptions.AMQPConnectionError
    assert error.args == (1,)
    assert broker.conn.ready is None
    assert broker.conn.closed is None


def test_client_close_reports_twisted_reason(broker):
    broker.open()
    closed = broker.conn.close()
    assert closed is broker.conn.closed
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Connection.Close)
    assert (method.reply_code, method.reply_text) == (200, 'Normal shutdown')
    assert not closed.called
    broker.send(0, spec.Connection.CloseOk())
    assert broker.transport.disconnecting
    broker.conn.connectionLost(Failure(twisted_error.ConnectionDone()))
    assert isinstance(result_of(closed), twisted_error.ConnectionDone)
    assert broker.conn.is_closed
    assert broker.conn.close() is None


def test_broker_close_fails_pending_channel_request(broker):
    broker.open()
    pending = broker.conn.channel()
    broker.sent_frames()
    broker.send(
        0,
        spec.Connection.Close(reply_code=320,
                              reply_text='CONNECTION_FORCED',
                              class_id=0,
                              method_id=0))
    assert isinstance(broker.sent_methods()[0], spec.Connection.CloseOk)
    closed = broker.conn.closed
    broker.conn.connectionLost(Failure(twisted_error.ConnectionDone()))
    assert isinstance(failure_of(pending), twisted_error.ConnectionDone)
    assert isinstance(result_of(closed), twisted_error.ConnectionDone)
    assert broker.conn.closed is None  # pika 1.4 drops it once fired
    assert broker.conn._calls == set()


def test_channel_on_closed_connection_raises(broker):
    broker.open()
    broker.conn.connectionLost(Failure(twisted_error.ConnectionLost()))
    with pytest.raises(exceptions.ConnectionWrongStateError):
        broker.conn.channel()


def test_explicit_channel_number(broker):
    broker.open()
    d = broker.conn.channel(7)
    (sent,) = broker.sent_frames()
    assert sent.channel_number == 7
    broker.send(7, spec.Channel.OpenOk())
    assert result_of(d).channel_number == 7


def test_heartbeat_timers_run_on_custom_reactor():
    broker = ScriptedBroker(heartbeat=10)
    broker.open()
    assert broker.conn._impl._reactor is broker.clock
    assert broker.clock.getDelayedCalls()
    broker.clock.advance(10)
    sent = broker.sent_frames()
    assert any(isinstance(value, frame.Heartbeat) for value in sent)
    broker.conn.connectionLost(Failure(twisted_error.ConnectionLost()))
    assert not [c for c in broker.clock.getDelayedCalls() if c.active()]


def test_timer_handle_cancel_is_idempotent():
    clock = task.Clock()
    fired = []
    handle = twisted_connection._TimerHandle(clock.callLater(
        1, fired.append, 1))
    handle.cancel()
    handle.cancel()
    clock.advance(2)
    assert fired == []
    late = twisted_connection._TimerHandle(clock.callLater(1, fired.append, 2))
    clock.advance(1)
    late.cancel()
    assert fired == [2]


def test_module_reactor_is_lazy():
    from twisted.internet import reactor
    assert twisted_connection.reactor is reactor
    with pytest.raises(AttributeError):
        twisted_connection.no_such_name  # noqa: B018


# -- channel RPCs --------------------------------------------------------------


def test_rpc_fires_with_reply_frame(opened):
    broker, channel = opened
    d = channel.queue_declare('q1', durable=True)
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Queue.Declare)
    assert method.queue == 'q1' and method.durable
    assert not d.called
    broker.send(1, spec.Queue.DeclareOk('q1', 3, 1))
    reply = result_of(d)
    assert isinstance(reply, frame.Method)
    assert reply.method.message_count == 3
    assert channel._calls == set()


@pytest.mark.parametrize('call,request_cls,reply', [
    (lambda ch: ch.basic_qos(prefetch_count=5), spec.Basic.Qos,
     spec.Basic.QosOk()),
    (lambda ch: ch.basic_recover(True), spec.Basic.Recover,
     spec.Basic.RecoverOk()),
    (lambda ch: ch.exchange_declare('x', 'topic'), spec.Exchange.Declare,
     spec.Exchange.DeclareOk()),
    (lambda ch: ch.exchange_delete('x'), spec.Exchange.Delete,
     spec.Exchange.DeleteOk()),
    (lambda ch: ch.exchange_bind('a', 'b', 'k'), spec.Exchange.Bind,
     spec.Exchange.BindOk()),
    (lambda ch: ch.exchange_unbind('a', 'b', 'k'), spec.Exchange.Unbind,
     spec.Exchange.UnbindOk()),
    (lambda ch: ch.queue_bind('q', 'x', 'k'), spec.Queue.Bind,
     spec.Queue.BindOk()),
    (lambda ch: ch.queue_unbind('q', 'x', 'k'), spec.Queue.Unbind,
     spec.Queue.UnbindOk()),
    (lambda ch: ch.queue_purge('q'), spec.Queue.Purge, spec.Queue.PurgeOk(2)),
    (lambda ch: ch.queue_delete('q'), spec.Queue.Delete,
     spec.Queue.DeleteOk(0)),
    (lambda ch: ch.tx_select(), spec.Tx.Select, spec.Tx.SelectOk()),
    (lambda ch: ch.tx_commit(), spec.Tx.Commit, spec.Tx.CommitOk()),
    (lambda ch: ch.tx_rollback(), spec.Tx.Rollback, spec.Tx.RollbackOk()),
])
def test_each_rpc_round_trip(opened, call, request_cls, reply):
    broker, channel = opened
    d = call(channel)
    (method,) = broker.sent_methods()
    assert isinstance(method, request_cls)
    broker.send(1, reply)
    assert result_of(d).method.NAME == reply.NAME


def test_flow_fires_with_state(opened):
    broker, channel = opened
    assert channel.flow_active is True
    d = channel.flow(True)
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Channel.Flow) and method.active
    broker.send(1, spec.Channel.FlowOk(True))
    assert result_of(d) is True
    d = channel.flow(False)
    broker.sent_frames()
    broker.send(1, spec.Channel.FlowOk(False))
    assert result_of(d) is False
    assert channel.flow_active is False


def test_bad_argument_fails_deferred_without_sending(opened):
    broker, channel = opened
    d = channel.queue_declare(123)
    assert isinstance(failure_of(d), TypeError)
    assert broker.sent_frames() == []
    assert channel._calls == set()
    assert isinstance(failure_of(channel.basic_qos(prefetch_count=-1)),
                      ValueError)


def test_channel_close_by_broker_fails_everything(opened):
    broker, channel = opened
    consume = channel.basic_consume('q', consumer_tag='ctag')
    broker.sent_frames()
    broker.send(1, spec.Basic.ConsumeOk('ctag'))
    queue, _tag = result_of(consume)
    waiting = queue.get()
    pending = channel.queue_declare('q2')
    broker.sent_frames()
    broker.send(
        1,
        spec.Channel.Close(reply_code=404,
                           reply_text='NOT_FOUND',
                           class_id=50,
                           method_id=10))
    error = failure_of(pending)
    assert isinstance(error, exceptions.ChannelClosedByBroker)
    assert error.args == (404, 'NOT_FOUND')
    assert failure_of(waiting) is error
    assert queue.closed is error
    assert result_of(channel.on_closed) is error
    assert channel._consumers == {} and channel._calls == set()
    assert channel.is_closed
    later = channel.exchange_declare('x')
    assert failure_of(later) is error
    assert [type(m) for m in broker.sent_methods()] == [spec.Channel.CloseOk]


def test_client_channel_close(opened):
    broker, channel = opened
    assert channel.close() is None
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Channel.Close)
    broker.send(1, spec.Channel.CloseOk())
    reason = result_of(channel.on_closed)
    assert isinstance(reason, exceptions.ChannelClosedByClient)
    assert reason.args == (0, 'Normal shutdown')


def test_properties_delegate(opened):
    broker, channel = opened
    assert channel.channel_number == 1
    assert channel.connection is broker.conn._impl
    assert channel.is_open and not channel.is_closed and not channel.is_closing
    assert channel.consumer_tags == []
    assert 'TwistedChannel channel=' in repr(channel)


# -- consuming -----------------------------------------------------------------


def consume(broker: ScriptedBroker,
            channel: TwistedChannel,
            queue: str = 'q',
            tag: str = 'ctag') -> ClosableDeferredQueue:
    d = channel.basic_consume(queue, consumer_tag=tag)
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Basic.Consume)
    broker.send(1, spec.Basic.ConsumeOk(tag))
    queue_obj, got_tag = result_of(d)
    assert got_tag == tag
    return queue_obj


def test_consume_delivers_received_messages(opened):
    broker, channel = opened
    queue = consume(broker, channel)
    assert channel._consumers == {'ctag': queue}
    assert channel._queue_name_to_consumer_tags == {'q': {'ctag'}}
    waiting = queue.get()
    props = spec.BasicProperties(content_type='text/plain')
    broker.send_content(1, spec.Basic.Deliver('ctag', 1, False, '', 'q'),
                        b'one', props)
    broker.send_content(1, spec.Basic.Deliver('ctag', 2, False, '', 'q'),
                        b'two')
    first = result_of(waiting)
    assert isinstance(first, ReceivedMessage)
    assert first.channel is channel
    assert first.method.delivery_tag == 1
    assert first.properties.content_type == 'text/plain'
    assert first.body == b'one'
    assert result_of(queue.get()).body == b'two'
    channel.basic_ack(2, multiple=True)
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Basic.Ack) and method.multiple


def test_client_cancel_closes_queue(opened):
    broker, channel = opened
    queue = consume(broker, channel)
    d = channel.basic_cancel('ctag')
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Basic.Cancel)
    assert queue.closed is None
    broker.send(1, spec.Basic.CancelOk('ctag'))
    assert result_of(d).method.consumer_tag == 'ctag'
    assert isinstance(queue.closed, exceptions.ConsumerCancelled)
    assert isinstance(failure_of(queue.get()), exceptions.ConsumerCancelled)
    assert channel._consumers == {}
    assert channel._queue_name_to_consumer_tags == {'q': set()}


def test_broker_cancel_closes_queue(opened):
    broker, channel = opened
    queue = consume(broker, channel)
    waiting = queue.get()
    broker.send(1, spec.Basic.Cancel('ctag'))
    error = failure_of(waiting)
    assert isinstance(error, exceptions.ConsumerCancelled)
    assert error.args == ()
    assert channel._consumers == {}


def test_queue_delete_closes_its_consumers(opened):
    broker, channel = opened
    queue = consume(broker, channel, 'doomed', 'c1')
    other = consume(broker, channel, 'kept', 'c2')
    d = channel.queue_delete('doomed')
    broker.sent_frames()
    assert queue.closed is None
    broker.send(1, spec.Queue.DeleteOk(0))
    result_of(d)
    assert isinstance(queue.closed, exceptions.ConsumerCancelled)
    assert queue.closed.args == ('Queue doomed was deleted.',)
    assert other.closed is None
    assert channel._consumers == {'c2': other}
    # The broker's own cancel notification that follows is ignored.
    broker.send(1, spec.Basic.Cancel('c1'))
    assert queue.closed.args == ('Queue doomed was deleted.',)


def test_duplicate_consumer_tag_fails(opened):
    broker, channel = opened
    consume(broker, channel)
    d = channel.basic_consume('q', consumer_tag='ctag')
    assert isinstance(failure_of(d), exceptions.DuplicateConsumerTag)


# -- basic_get -----------------------------------------------------------------


def test_basic_get_message_and_empty(opened):
    broker, channel = opened
    d = channel.basic_get('q')
    with pytest.raises(exceptions.DuplicateGetOkCallback):
        channel.basic_get('q')
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Basic.Get)
    broker.send_content(1, spec.Basic.GetOk(5, False, '', 'q', 0), b'body')
    message = result_of(d)
    assert isinstance(message, ReceivedMessage)
    assert message.channel is channel
    assert message.method.delivery_tag == 5 and message.body == b'body'
    assert channel._basic_get_deferred is None
    d = channel.basic_get('q', auto_ack=True)
    broker.sent_frames()
    broker.send(1, spec.Basic.GetEmpty())
    assert result_of(d) is None
    assert channel._basic_get_deferred is None


# -- publishing and confirms ---------------------------------------------------


def test_publish_without_confirms(opened):
    broker, channel = opened
    d = channel.basic_publish('', 'q', b'hello')
    assert d.called and result_of(d) is None
    frames = broker.sent_frames()
    assert isinstance(frames[0].method, spec.Basic.Publish)
    assert frames[2].fragment == b'hello'


def test_publish_bad_argument_raises(opened):
    _broker, channel = opened
    with pytest.raises(TypeError):
        channel.basic_publish(123, 'q', b'x')


def enable_confirms(broker: ScriptedBroker, channel: TwistedChannel) -> None:
    d = channel.confirm_delivery()
    (method,) = broker.sent_methods()
    assert isinstance(method, spec.Confirm.Select)
    broker.send(1, spec.Confirm.SelectOk())
    assert result_of(d).method.NAME == 'Confirm.SelectOk'
    assert channel._delivery_message_id == 0


def test_confirms_ack_nack_and_multiple(opened):
    broker, channel = opened
    enable_confirms(broker, channel)
    pubs = [channel.basic_publish('', 'q', b'%d' % i) for i in range(4)]
    broker.sent_frames()
    assert sorted(channel._deliveries) == [1, 2, 3, 4]
    broker.send(1, spec.Basic.Ack(delivery_tag=2, multiple=True))
    assert isinstance(result_of(pubs[0]), spec.Basic.Ack)
    assert result_of(pubs[1]).delivery_tag == 2
    assert not pubs[2].called
    broker.send(1, spec.Basic.Nack(delivery_tag=3))
    nack = failure_of(pubs[2])
    assert isinstance(nack, exceptions.NackError) and nack.messages == []
    broker.send(1, spec.Basic.Ack(delivery_tag=4))
    assert result_of(pubs[3]).delivery_tag == 4
    assert channel._deliveries == {}


def test_confirms_unroutable(opened):
    broker, channel = opened
    enable_confirms(broker, channel)
    d = channel.basic_publish('', 'nowhere', b'lost', mandatory=True)
    broker.sent_frames()
    broker.send_content(1, spec.Basic.Return(312, 'NO_ROUTE', '', 'nowhere'),
                        b'lost')
    broker.send(1, spec.Basic.Ack(delivery_tag=1))
    error = failure_of(d)
    assert isinstance(error, exceptions.UnroutableError)
    (returned,) = error.messages
    assert isinstance(returned, ReceivedMessage)
    assert returned.channel is channel
    assert returned.method.reply_code == 312 and returned.body == b'lost'
    ok = channel.basic_publish('', 'q', b'fine')
    broker.send(1, spec.Basic.Ack(delivery_tag=2))
    assert result_of(ok).delivery_tag == 2


def test_pending_confirms_fail_when_channel_closes(opened):
    broker, channel = opened
    enable_confirms(broker, channel)
    d = channel.basic_publish('', 'q', b'x')
    channel.close()
    broker.sent_frames()
    broker.send(1, spec.Channel.CloseOk())
    assert isinstance(failure_of(d), exceptions.ChannelClosedByClient)


def test_return_callback_gets_received_message(opened):
    broker, channel = opened
    returned = []
    channel.add_on_return_callback(returned.append)
    broker.send_content(1, spec.Basic.Return(312, 'NO_ROUTE', 'x', 'k'), b'r')
    (message,) = returned
    assert isinstance(message, ReceivedMessage)
    assert message.channel is channel and message.body == b'r'
    with pytest.raises(TypeError):
        channel.add_on_return_callback('not callable')


def test_callback_deferred(opened):
    broker, channel = opened
    d: defer.Deferred = defer.Deferred()
    channel.callback_deferred(d, [spec.Basic.Cancel])
    broker.send(1, spec.Basic.Cancel('unknown'))
    assert result_of(d).method.consumer_tag == 'unknown'


# -- ClosableDeferredQueue -----------------------------------------------------


def test_closable_queue():
    queue = ClosableDeferredQueue()
    assert queue.closed is None
    assert queue.put(1) is None
    assert result_of(queue.get()) == 1
    waiting = queue.get()
    queue.put(2)
    queue.put(3)
    assert result_of(waiting) == 2
    first, second = queue.get(), queue.get()
    assert result_of(first) == 3
    reason = RuntimeError('gone')
    assert queue.close(reason) is None
    assert failure_of(second) is reason
    assert failure_of(queue.get()) is reason
    assert failure_of(queue.put(4)) is reason
    assert queue.pending == [] and queue.waiting == []


def test_closable_queue_drops_pending_and_respects_size():
    queue = ClosableDeferredQueue(size=1)
    queue.put('a')
    with pytest.raises(defer.QueueOverflow):
        queue.put('b')
    queue.close(ValueError('x'))
    assert queue.pending == []


def test_received_message_is_a_tuple():
    message = ReceivedMessage('ch', 'm', 'p', b'b')
    assert isinstance(message, tuple)
    assert message._fields == ('channel', 'method', 'properties', 'body')
    assert ReceivedMessage.__module__ == 'pika.adapters.twisted_connection'
    channel, method, properties, body = message
    assert (channel, method, properties, body) == ('ch', 'm', 'p', b'b')


def test_patched_module_reactor_is_the_default(monkeypatch):
    clock = task.Clock()
    monkeypatch.setattr(twisted_connection, 'reactor', clock, raising=False)
    conn = TwistedProtocolConnection(connection.ConnectionParameters())
    assert conn._impl._reactor is clock
