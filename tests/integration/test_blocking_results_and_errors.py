"""BlockingConnection behaves as pika 1.4.4 does.

Every expectation here was first observed on pika 1.4.4 against the same
broker (black-box differential runs), then asserted as plain values.
"""

import os
import threading
import time
import uuid
from typing import Any, Iterator, List

import pytest

import pika
from pika import exceptions, spec
from pika.adapters.blocking_connection import BlockingChannel

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def _params(**kwargs: Any) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(HOST, PORT, **kwargs)


def _name(prefix: str = 'accept') -> str:
    return '%s-%s' % (prefix, uuid.uuid4().hex)


@pytest.fixture
def conn() -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(_params())
    yield connection
    if connection.is_open:
        connection.close()


def test_return_value_shapes(conn: pika.BlockingConnection) -> None:
    assert (conn.is_open, conn.is_closed) == (True, False)
    assert conn.basic_nack_supported and conn.consumer_cancel_notify_supported
    assert conn.exchange_exchange_bindings_supported
    assert conn.publisher_confirms_supported
    ch = conn.channel()
    assert isinstance(ch, BlockingChannel)
    assert (ch.channel_number, ch.is_open, ch.is_closed) == (1, True, False)
    queue, exchange = _name('q'), _name('ex')
    frame = ch.exchange_declare(exchange, 'direct', auto_delete=True)
    assert isinstance(frame, pika.frame.Method)
    assert isinstance(frame.method, spec.Exchange.DeclareOk)
    frame = ch.queue_declare(queue)
    assert isinstance(frame.method, spec.Queue.DeclareOk)
    assert (frame.method.queue, frame.method.message_count,
            frame.method.consumer_count) == (queue, 0, 0)
    assert isinstance(
        ch.queue_bind(queue, exchange, routing_key='rk').method,
        spec.Queue.BindOk)
    assert ch.basic_qos(prefetch_count=5) is None
    assert ch.basic_publish(exchange, 'rk', b'm1',
                            pika.BasicProperties(headers={'h': 1})) is None
    ch.basic_publish(exchange, 'rk', 'm2')
    ch.basic_publish(exchange, 'rk', b'm3')
    method, properties, body = ch.basic_get(queue)
    assert isinstance(method, spec.Basic.GetOk)
    assert (method.delivery_tag, method.exchange, method.routing_key,
            method.redelivered) == (1, exchange, 'rk', False)
    assert method.message_count == 2
    assert isinstance(properties, spec.BasicProperties)
    assert properties.headers == {'h': 1} and body == b'm1'
    method, _, body = ch.basic_get(queue, auto_ack=True)
    assert (method.delivery_tag, method.message_count, body) == (2, 1, b'm2')
    method, _, _ = ch.basic_get(queue)
    assert ch.basic_get(queue) == (None, None, None)
    assert ch.basic_ack(method.delivery_tag) is None
    assert ch.basic_recover(requeue=True) is None
    assert ch.basic_cancel('no-such-tag') == []
    assert ch.flow(True) is True
    assert isinstance(ch.queue_purge(queue).method, spec.Queue.PurgeOk)
    assert isinstance(ch.tx_select().method, spec.Tx.SelectOk)
    assert isinstance(ch.tx_commit().method, spec.Tx.CommitOk)
    assert isinstance(ch.tx_rollback().method, spec.Tx.RollbackOk)
    frame = ch.queue_delete(queue)
    assert isinstance(frame.method, spec.Queue.DeleteOk)
    assert isinstance(
        ch.exchange_delete(exchange).method, spec.Exchange.DeleteOk)
    assert ch.close() is None
    assert (ch.is_open, ch.is_closed) == (False, True)
    with pytest.raises(exceptions.ChannelWrongStateError) as info:
        ch.close()
    assert info.value.args == ('Channel is closed.',)
    assert conn.channel(7).channel_number == 7
    assert conn.close() is None
    assert (conn.is_open, conn.is_closed) == (False, True)
    with pytest.raises(exceptions.ConnectionWrongStateError) as info:
        conn.close()
    assert info.value.args == (
        "BlockingConnection.close(200, 'Normal shutdown') called on closed "
        "connection.",)
    with pytest.raises(exceptions.ConnectionWrongStateError) as info:
        conn.channel()
    assert str(info.value).startswith(
        'Channel allocation requires an open connection: <SelectConnection '
        'CLOSED')
    for call in (conn.process_data_events, lambda: conn.sleep(0.01)):
        with pytest.raises(ValueError) as info:
            call()
        assert info.value.args == ('Timeout closed before call',)


def test_consume_generator_and_cancel(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    for index in range(3):
        ch.basic_publish('', queue, ('g%d' % index).encode())
    bodies: List[bytes] = []
    for method, properties, body in ch.consume(queue, inactivity_timeout=0.5):
        info = ch._queue_consumer_generator
        assert info is not None
        if method is None:
            assert (properties, body) == (None, None)
            assert len(info.pending_events) == 0
            break
        assert isinstance(method, spec.Basic.Deliver)
        assert isinstance(properties, spec.BasicProperties)
        assert len(info.pending_events) == 2 - len(bodies)
        bodies.append(body)
    assert bodies == [b'g0', b'g1', b'g2']
    assert ch._pending_events.__len__() == 0
    assert ch.cancel() == 0
    assert ch._queue_consumer_generator is None
    assert ch.cancel() == 0
    assert ch.is_open


def test_basic_consume_start_stop_and_duplicate_tag(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue)
    received = []

    def on_message(channel: Any, method: Any, properties: Any,
                   body: bytes) -> None:
        assert channel is ch
        assert isinstance(method, spec.Basic.Deliver)
        assert isinstance(properties, spec.BasicProperties)
        received.append(body)
        channel.basic_ack(method.delivery_tag)
        if len(received) == 2:
            channel.stop_consuming()

    ch.basic_publish('', queue, b'a')
    ch.basic_publish('', queue, b'b')
    tag = ch.basic_consume(queue, on_message)
    assert tag.startswith('ctag1.')
    assert ch.consumer_tags == [tag] and list(ch._consumer_infos) == [tag]
    assert ch.start_consuming() is None
    assert received == [b'a', b'b']
    assert ch.consumer_tags == [] and list(ch._consumer_infos) == []
    assert ch.start_consuming() is None  # no consumers: returns at once
    assert ch.basic_consume(queue, on_message,
                            consumer_tag='explicit') == ('explicit')
    with pytest.raises(exceptions.DuplicateConsumerTag) as info:
        ch.basic_consume(queue, on_message, consumer_tag='explicit')
    assert info.value.args == ('explicit',)
    assert ch.basic_cancel('explicit') == []
    ch.queue_delete(queue)


def test_exception_in_consumer_callback_propagates(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue)

    def boom(*_: Any) -> None:
        raise RuntimeError('boom')

    ch.basic_consume(queue, boom, auto_ack=True)
    ch.basic_publish('', queue, b'x')
    with pytest.raises(RuntimeError) as info:
        ch.start_consuming()
    assert info.value.args == ('boom',)
    assert ch.is_open and conn.is_open
    conn.call_later(0, lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        conn.process_data_events(0.1)
    assert conn.is_open
    conn.call_later(0.1, ch.stop_consuming)
    assert ch.start_consuming() is None
    assert ch.consumer_tags == []
    ch.queue_delete(queue)


def test_confirms_unroutable_and_nack(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    exchange = _name('ex')
    queue = _name('q')
    ch.exchange_declare(exchange, 'direct', auto_delete=True)
    ch.queue_declare(queue,
                     auto_delete=True,
                     arguments={
                         'x-max-length': 1,
                         'x-overflow': 'reject-publish'
                     })
    ch.queue_bind(queue, exchange, 'rk')
    assert ch.confirm_delivery() is None
    assert ch.confirm_delivery() is None
    assert ch.basic_publish(exchange, 'rk', b'1') is None
    with pytest.raises(exceptions.NackError) as nack:
        ch.basic_publish(exchange, 'rk', b'2')
    assert nack.value.args == ('0 message(s) NACKed',)
    assert nack.value.messages == []
    with pytest.raises(exceptions.UnroutableError) as info:
        ch.basic_publish(exchange,
                         'nokey',
                         b'unroutable',
                         pika.BasicProperties(content_type='t'),
                         mandatory=True)
    assert info.value.args == ('1 unroutable message(s) returned',)
    assert str(info.value).startswith('1 unroutable message(s) returned; ')
    assert 'routing key' in str(info.value)
    (message,) = info.value.messages
    assert type(message).__name__ == 'ReturnedMessage'
    assert isinstance(message.method, spec.Basic.Return)
    assert (message.method.reply_code, message.method.reply_text,
            message.method.exchange,
            message.method.routing_key) == (312, 'NO_ROUTE', exchange, 'nokey')
    assert message.properties.content_type == 't'
    assert message.body == b'unroutable'
    assert ch.basic_publish(exchange, 'nokey', b'not mandatory') is None
    with pytest.raises(exceptions.ChannelClosedByBroker) as closed:
        ch.basic_publish('no-such-exchange-' + exchange, 'x', b'x')
    assert closed.value.args == (404, "NOT_FOUND - no exchange "
                                 "'no-such-exchange-%s' in vhost '/'" %
                                 (exchange,))
    assert (ch.is_open, ch.is_closed) == (False, True)
    with pytest.raises(exceptions.ChannelWrongStateError) as wrong:
        ch.basic_publish(exchange, 'rk', b'x')
    assert wrong.value.args == ('Channel is closed.',)


def test_channel_errors(conn: pika.BlockingConnection) -> None:
    queue = _name('q')
    ch = conn.channel()
    ch.queue_declare(queue, auto_delete=True)
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        ch.queue_declare(queue, durable=True)
    assert info.value.reply_code == 406
    assert info.value.reply_text.startswith(
        "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in "
        "vhost '/': received 'true' but current is 'false'" % (queue,))
    assert (ch.is_open, ch.is_closed) == (False, True)
    with pytest.raises(exceptions.ChannelWrongStateError):
        ch.close()
    ch = conn.channel()
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        ch.basic_consume('no-such-queue-' + queue, lambda *_: None)
    assert info.value.args == (
        404, "NOT_FOUND - no queue 'no-such-queue-%s' in vhost '/'" % (queue,))
    ch = conn.channel()
    generator = ch.consume('no-such-queue-' + queue)
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        next(generator)
    assert info.value.reply_code == 404


def test_consumer_cancelled_by_broker(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue)
    cancels = []
    ch.add_on_cancel_callback(cancels.append)
    ch.basic_consume(queue, lambda *_: None)
    conn.channel().queue_delete(queue)
    conn.process_data_events(0.3)
    assert len(cancels) == 1
    assert isinstance(cancels[0], pika.frame.Method)
    assert isinstance(cancels[0].method, spec.Basic.Cancel)
    assert ch.consumer_tags == [] and list(ch._pending_events) == []
    assert ch.start_consuming() is None


def test_timers_threadsafe_callbacks_and_sleep(
        conn: pika.BlockingConnection) -> None:
    calls = []
    conn.call_later(0.1, lambda: calls.append('timer'))
    removed = conn.call_later(0.05, lambda: calls.append('removed'))
    conn.remove_timeout(removed)
    conn.remove_timeout(removed)
    with pytest.raises(TypeError):
        conn.call_later(0.1, 'x')
    with pytest.raises(ValueError):
        conn.call_later(-1, lambda: None)
    conn.add_callback_threadsafe(lambda: calls.append('main'))

    def from_thread() -> None:
        time.sleep(0.05)
        conn.add_callback_threadsafe(lambda: calls.append('thread'))

    thread = threading.Thread(target=from_thread)
    thread.start()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        assert conn.process_data_events(time_limit=0.5) is None
    thread.join()
    # (the thread's callback and the timer race under load)
    assert calls[0] == 'main'
    assert sorted(calls) == ['main', 'thread', 'timer']
    assert conn.process_data_events(0) is None
    assert conn.sleep(0.05) is None
    with pytest.raises(ValueError):
        conn.process_data_events(-1)


def test_blocked_connection_callbacks_and_timeout() -> None:
    conn = pika.BlockingConnection(_params(blocked_connection_timeout=0.5))
    events = []
    conn.add_on_connection_blocked_callback(lambda c, f: events.append(
        ('blocked', c, f)))
    conn.add_on_connection_unblocked_callback(lambda c, f: events.append(
        ('unblocked', c, f)))
    conn._impl._process_frame(
        pika.frame.Method(0, spec.Connection.Blocked('test')))
    conn.process_data_events(0.1)
    conn._impl._process_frame(pika.frame.Method(0, spec.Connection.Unblocked()))
    conn.process_data_events(0.1)
    assert [event[0] for event in events] == ['blocked', 'unblocked']
    assert all(event[1] is conn for event in events)
    assert events[0][2].method.reason == 'test'
    assert isinstance(events[1][2].method, spec.Connection.Unblocked)
    conn._impl._process_frame(
        pika.frame.Method(0, spec.Connection.Blocked('again')))
    assert isinstance(conn.channel(), BlockingChannel)
    with pytest.raises(exceptions.ConnectionBlockedTimeout) as info:
        conn.sleep(2)
    assert info.value.args == ('Blocked connection timeout expired.',)
    assert (conn.is_open, conn.is_closed) == (False, True)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()


def test_connection_errors() -> None:
    with pytest.raises(exceptions.ProbableAuthenticationError) as auth:
        pika.BlockingConnection(
            _params(credentials=pika.PlainCredentials('guest', 'bad')))
    assert auth.value.args == (
        "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused "
        "using authentication mechanism PLAIN. For details see the broker "
        "logfile.'",)
    with pytest.raises(exceptions.ProbableAccessDeniedError) as vhost:
        pika.BlockingConnection(_params(virtual_host='no-such-vhost'))
    assert vhost.value.args == ("ConnectionClosedByBroker: (530) 'NOT_ALLOWED "
                                "- vhost no-such-vhost not found'",)
    refused = pika.ConnectionParameters(HOST, 55672)
    with pytest.raises(exceptions.AMQPConnectionError) as info:
        pika.BlockingConnection(refused)
    assert type(info.value) is exceptions.AMQPConnectionError
    assert repr(info.value.args[0]).startswith(
        'AMQPConnectorSocketConnectError: ConnectionRefusedError(111')
    conn = pika.BlockingConnection([refused, _params()])
    assert conn._impl.params.port == PORT
    conn.close()
    with pytest.raises(ValueError) as empty:
        pika.BlockingConnection([])
    assert empty.value.args == (
        'Expected a non-empty sequence of connection parameters, but got [].',)
    conn = pika.BlockingConnection(
        pika.URLParameters('amqp://guest:guest@%s:%d/%%2F?heartbeat=10' %
                           (HOST, PORT)))
    assert conn._impl.params.heartbeat == 10
    conn.close()


@pytest.mark.parametrize('auto_ack', [False, True])
def test_cancel_counts_requeued_waiting_messages(conn: pika.BlockingConnection,
                                                 auto_ack: bool) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue)
    for index in range(6):
        ch.basic_publish('', queue, b'%d' % index)
    generator = ch.consume(queue, auto_ack=auto_ack, inactivity_timeout=0.1)
    assert next(generator)[2] == b'0'
    deadline = time.monotonic() + 2
    while (ch.get_waiting_message_count() < 5 and time.monotonic() < deadline):
        conn.process_data_events(0.05)
    assert ch.get_waiting_message_count() == 5
    # beyond pika (which returns 0): the count of waiting messages requeued
    assert ch.cancel() == (0 if auto_ack else 5)
    assert ch._queue_consumer_generator is None
    ch.close()
    frame = conn.channel().queue_declare(queue, passive=True)
    # waiting ones rejected with requeue, the yielded one back on close
    assert frame.method.message_count == (0 if auto_ack else 6)
    conn.channel().queue_delete(queue)


def test_open_errors_raised_as_pika_raises_them() -> None:
    import socket
    import ssl
    from pika.adapters.utils import connection_workflow
    tls_port = int(os.environ.get('PIKA_TEST_TLS_PORT', '5671'))
    # TLS set-up failures: the ssl module's own exception
    with pytest.raises(ssl.SSLCertVerificationError) as verify:
        pika.BlockingConnection(
            pika.ConnectionParameters(HOST,
                                      tls_port,
                                      ssl_options=pika.SSLOptions(
                                          ssl.create_default_context(),
                                          'localhost'),
                                      stack_timeout=5))
    assert type(verify.value) is ssl.SSLCertVerificationError
    assert 'CERTIFICATE_VERIFY_FAILED' in str(verify.value)
    with pytest.raises(ssl.SSLError) as plain:
        pika.BlockingConnection(
            pika.ConnectionParameters(HOST,
                                      PORT,
                                      ssl_options=pika.SSLOptions(
                                          ssl.create_default_context(),
                                          'localhost'),
                                      stack_timeout=5))
    assert type(plain.value) is ssl.SSLError
    # an unknown host: the resolver's error as is
    with pytest.raises(socket.gaierror):
        pika.BlockingConnection(
            pika.ConnectionParameters('no-such-host.invalid', PORT))
    # a peer that never answers: the connector's stack timeout as is
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    try:
        with pytest.raises(
                connection_workflow.AMQPConnectorStackTimeout) as timeout:
            pika.BlockingConnection(
                pika.ConnectionParameters('127.0.0.1',
                                          listener.getsockname()[1],
                                          stack_timeout=0.5))
    finally:
        listener.close()
    assert str(timeout.value).startswith('Timeout during AMQP handshake')


def test_process_data_events_dispatches_deliveries_arriving_in_callbacks(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    received: List[bytes] = []

    def on_message(channel: Any, method: Any, _: Any, body: bytes) -> None:
        received.append(body)
        if body == b'x1':
            channel.basic_publish('', queue, b'x2')
            time.sleep(0.1)
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(queue, on_message)
    ch.basic_publish('', queue, b'x1')
    conn.process_data_events(time_limit=0.5)
    assert received == [b'x1', b'x2']
    assert len(ch._pending_events) == 0


def test_channel_close_cancels_consumers_and_requeues_waiting(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    conn.channel().queue_declare(queue)
    ch.basic_qos(prefetch_count=10)
    ch.basic_consume(queue, lambda *_: None, auto_ack=False, consumer_tag='m')
    for index in range(6):
        ch.basic_publish('', queue, b'%d' % index)
    deadline = time.monotonic() + 2
    while len(ch._pending_events) < 6 and time.monotonic() < deadline:
        conn._impl.ioloop.poll()
        conn._impl.ioloop.process_timeouts()
    ch.close()
    assert ch.is_closed and ch.consumer_tags == []
    # the manual-ack consumer's messages are back on the queue
    frame = conn.channel().queue_declare(queue, passive=True)
    assert frame.method.message_count == 6
    conn.channel().queue_delete(queue)


def test_timers_with_same_deadline_and_removal_from_a_timer(
        conn: pika.BlockingConnection) -> None:
    calls: List[str] = []

    def callback() -> None:
        calls.append('x')

    first = conn.call_later(0, callback)
    second = conn.call_later(0, callback)
    assert first is not second
    conn.remove_timeout(first)
    conn.process_data_events(0.05)
    assert calls == ['x']
    calls.clear()
    later: List[Any] = []

    def remover() -> None:
        calls.append('remover')
        conn.remove_timeout(later[0])

    conn.call_later(0.01, remover)
    later.append(conn.call_later(0.02, lambda: calls.append('removed')))
    conn.sleep(0.1)
    assert calls == ['remover']


def test_basic_cancel_of_auto_ack_consumer_returns_waiting_messages(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    for index in range(3):
        ch.basic_publish('', queue, b'%d' % index)
    dispatched: List[Any] = []
    tag = ch.basic_consume(queue,
                           lambda *args: dispatched.append(args),
                           auto_ack=True)
    deadline = time.monotonic() + 2
    while len(ch._pending_events) < 3 and time.monotonic() < deadline:
        conn._impl.ioloop.poll()
        conn._impl.ioloop.process_timeouts()
    messages = ch.basic_cancel(tag)
    assert dispatched == []
    assert [body for _, _, body in messages] == [b'0', b'1', b'2']
    method, properties, _ = messages[0]
    assert isinstance(method, spec.Basic.Deliver)
    assert isinstance(properties, spec.BasicProperties)


def test_consumer_callbacks_that_fail_or_close(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    ch.basic_consume(queue, lambda c, m, p, b: c.basic_ack(9999))
    ch.basic_publish('', queue, b'x')
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        ch.start_consuming()
    assert info.value.args == (406,
                               'PRECONDITION_FAILED - unknown delivery tag '
                               '9999')
    assert (ch.is_open, ch.is_closed) == (False, True)
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    ch.basic_consume(queue, lambda c, m, p, b: c.close())
    ch.basic_publish('', queue, b'x')
    assert ch.start_consuming() is None
    assert ch.is_closed
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    body = b'z' * (3 * 1024 * 1024 + 7)
    ch.basic_publish('', queue, body)
    method, _, received = ch.basic_get(queue, auto_ack=True)
    assert received == body and method.message_count == 0
    ch.basic_consume(queue, lambda *_: conn.close(), auto_ack=True)
    ch.basic_publish('', queue, b'y')
    assert ch.start_consuming() is None
    assert conn.is_closed and ch.is_closed


def test_channel_flow_false_is_a_connection_error(
        conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    with pytest.raises(exceptions.ConnectionClosedByBroker) as info:
        ch.flow(False)
    assert info.value.args == (540, 'NOT_IMPLEMENTED - active=false')
    assert (conn.is_open, ch.is_open) == (False, False)


def test_tls_without_server_hostname_checks_the_connection_host() -> None:
    """pika 1.4: SSLOptions(context) without server_hostname verifies the
    certificate against the host being connected to.
    """
    import ssl
    certs = os.environ.get('PIKA_TEST_CERTS_DIR', '/tmp/pika-test-broker/certs')
    tls_port = int(os.environ.get('PIKA_TEST_TLS_PORT', '5671'))
    for host in ('localhost', '127.0.0.1'):
        context = ssl.create_default_context(
            cafile=os.path.join(certs, 'ca_certificate.pem'))
        conn = pika.BlockingConnection(
            pika.ConnectionParameters(host,
                                      tls_port,
                                      ssl_options=pika.SSLOptions(context)))
        try:
            assert conn.is_open
            assert type(conn._impl._transport._sock).__name__ == 'SSLSocket'
        finally:
            conn.close()


@pytest.mark.parametrize('operation',
                         ['publish', 'rpc', 'pde', 'consume', 'gen', 'sleep'])
def test_connection_closed_by_broker_reaches_every_blocking_call(
        operation: str) -> None:
    conn = pika.BlockingConnection(_params())
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, auto_delete=True)
    # a second Channel.Open on an open channel is a connection error
    conn._impl._send_method(1, spec.Channel.Open())
    time.sleep(0.2)
    with pytest.raises(exceptions.ConnectionClosedByBroker) as info:
        if operation == 'publish':
            for _ in range(50):
                ch.basic_publish('', queue, b'x')
                time.sleep(0.005)
        elif operation == 'rpc':
            ch.queue_declare(queue, passive=True)
        elif operation == 'pde':
            conn.process_data_events(0.3)
        elif operation == 'consume':
            ch.basic_consume(queue, lambda *_: None)
            ch.start_consuming()
        elif operation == 'gen':
            for _ in ch.consume(queue, inactivity_timeout=0.3):
                break
        else:
            conn.sleep(0.3)
    assert info.value.args == (504,
                               "CHANNEL_ERROR - second 'channel.open' seen")
    assert (conn.is_open, conn.is_closed, ch.is_open,
            ch.is_closed) == (False, True, False, True)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()
    with pytest.raises(exceptions.ChannelWrongStateError):
        ch.close()


def test_bytes_exchange_and_routing_keys_accepted_as_pika(
        conn: pika.BlockingConnection) -> None:
    # pika 1.4 sends bytes exchange / routing keys in basic_publish and bytes
    # binding keys as they are; queue and exchange names must be str.
    ch = conn.channel()
    queue = _name('q')
    ch.queue_declare(queue, exclusive=True)
    ch.queue_bind(queue, 'amq.direct', queue.encode())
    ch.basic_publish(b'amq.direct', queue.encode(), b'via bytes')
    method, _, body = ch.basic_get(queue, auto_ack=True)
    assert (method.exchange, method.routing_key, body) == ('amq.direct', queue,
                                                           b'via bytes')
    assert ch.queue_unbind(queue, 'amq.direct',
                           queue.encode()).method.NAME == 'Queue.UnbindOk'
    assert ch.exchange_bind('amq.topic', 'amq.direct',
                            b'rk').method.NAME == 'Exchange.BindOk'
    ch.exchange_unbind('amq.topic', 'amq.direct', b'rk')
    with pytest.raises(TypeError, match='source'):
        ch.exchange_bind('amq.topic', b'amq.direct', 'rk')
    with pytest.raises(TypeError, match='queue'):
        ch.queue_declare(queue.encode())
    with pytest.raises(TypeError, match='routing_key'):
        ch.basic_publish('', 5, b'x')
