"""Twisted adapter against the broker.

Each scenario runs on the shared reactor thread of ``twisted_harness``
(:func:`twisted_harness.scenario_test`). One test also runs the Twisted
example in a subprocess under ``task.react``, the usual way of running a
Twisted program.
"""

import os
import subprocess
import sys
import threading
from typing import Any, Dict

import pytest
from twisted.internet import defer, endpoints, error as twisted_error
from twisted.internet import protocol, reactor, ssl

import pika
from pika import credentials, exceptions, spec
from pika.adapters.twisted_connection import (ReceivedMessage, TwistedChannel,
                                              TwistedProtocolConnection)

from async_harness import (BROKER_HOST, BROKER_PORT, BROKER_TLS_PORT,
                           broker_params, unique_name)
from twisted_harness import (PROJECT_ROOT, close, connect, declare_queue,
                             expect_failure, get_with_timeout, open_channel,
                             scenario_test, sleep)

# -- scenarios --------------------------------------------------------------


@scenario_test
def test_publish_consume_ack_cancel_close():
    conn, channel = yield open_channel()
    assert conn.is_open and isinstance(conn.closed, defer.Deferred)
    assert isinstance(channel, TwistedChannel)
    name = unique_name('tw')
    declared = yield channel.queue_declare(name, exclusive=True)
    assert declared.method.queue == name
    qos = yield channel.basic_qos(prefetch_count=10)
    assert isinstance(qos.method, spec.Basic.QosOk)
    props = spec.BasicProperties(content_type='text/plain', headers={'n': 1})
    for number in range(3):
        published = yield channel.basic_publish('',
                                                name,
                                                b'm%d' % number,
                                                properties=props)
        assert published is None
    queue_obj, tag = yield channel.basic_consume(name)
    assert channel.consumer_tags == [tag]
    bodies = []
    for _ in range(3):
        message = yield get_with_timeout(queue_obj)
        assert isinstance(message, ReceivedMessage)
        assert message.channel is channel
        assert message.properties.headers == {'n': 1}
        bodies.append(message.body)
    assert bodies == [b'm0', b'm1', b'm2']
    channel.basic_ack(message.method.delivery_tag, multiple=True)
    cancel_ok = yield channel.basic_cancel(tag)
    assert cancel_ok.method.consumer_tag == tag
    assert isinstance(queue_obj.closed, exceptions.ConsumerCancelled)
    purged = yield channel.queue_purge(name)
    assert purged.method.message_count == 0
    reason = yield conn.close()
    assert isinstance(reason, twisted_error.ConnectionDone)
    assert conn.is_closed
    channel_reason = yield channel.on_closed
    assert isinstance(channel_reason, exceptions.ChannelClosedByClient)
    assert conn.close() is None


@scenario_test
def test_basic_get_and_empty():
    conn, channel = yield open_channel()
    name = yield declare_queue(channel, 'tw-get')
    empty = yield channel.basic_get(name)
    assert empty is None
    yield channel.basic_publish('', name, b'payload')
    message = None
    for _ in range(50):
        message = yield channel.basic_get(name, auto_ack=True)
        if message is not None:
            break
        yield sleep(0.02)
    assert isinstance(message, ReceivedMessage)
    assert message.body == b'payload'
    assert isinstance(message.method, spec.Basic.GetOk)
    yield close(conn)


@defer.inlineCallbacks
def _publish_then_consume(conn: TwistedProtocolConnection,
                          channel: TwistedChannel, prefix: str,
                          body: bytes) -> Any:
    """Publish ``body`` to a new queue, consume it, check it, close."""
    name = yield declare_queue(channel, prefix)
    channel.basic_publish('', name, body)
    queue_obj, _tag = yield channel.basic_consume(name, auto_ack=True)
    message = yield get_with_timeout(queue_obj)
    assert message.body == body
    yield close(conn)


@scenario_test
def test_large_message_roundtrip():
    conn, channel = yield open_channel()
    yield _publish_then_consume(conn, channel, 'tw-large',
                                os.urandom(2 * 1024 * 1024 + 17))


@scenario_test
def test_publisher_confirms_ack_unroutable_and_nack():
    conn, channel = yield open_channel()
    name = unique_name('tw-confirm')
    yield channel.queue_declare(name,
                                exclusive=True,
                                arguments={
                                    'x-max-length': 1,
                                    'x-overflow': 'reject-publish'
                                })
    select_ok = yield channel.confirm_delivery()
    assert isinstance(select_ok.method, spec.Confirm.SelectOk)
    ack = yield channel.basic_publish('', name, b'first')
    assert isinstance(ack, spec.Basic.Ack)
    error = yield expect_failure(channel.basic_publish('', name, b'overflow'),
                                 exceptions.NackError)
    assert error.messages == []
    error = yield expect_failure(
        channel.basic_publish('',
                              unique_name('nowhere'),
                              b'lost',
                              mandatory=True), exceptions.UnroutableError)
    (returned,) = error.messages
    assert returned.body == b'lost'
    assert returned.method.reply_code == 312
    # Many in flight at once, acknowledged possibly with multiple=True.
    yield channel.queue_purge(name)
    other = yield declare_queue(channel, 'tw-confirm-many')
    acks = yield defer.gatherResults(
        [channel.basic_publish('', other, b'%d' % n) for n in range(500)])
    assert all(isinstance(a, spec.Basic.Ack) for a in acks)
    assert channel._deliveries == {}
    declared = yield channel.queue_declare(other, passive=True)
    assert declared.method.message_count == 500
    yield close(conn)


@scenario_test
def test_return_callback():
    conn, channel = yield open_channel()
    returned: defer.Deferred = defer.Deferred()
    channel.add_on_return_callback(returned.callback)
    channel.basic_publish('', unique_name('nowhere'), b'r', mandatory=True)
    message = yield returned.addTimeout(5, reactor)
    assert isinstance(message, ReceivedMessage)
    assert message.channel is channel and message.body == b'r'
    yield close(conn)


@scenario_test
def test_channel_closed_by_broker_fails_pending_and_later_calls():
    conn, channel = yield open_channel()
    queue_obj, _tag = yield channel.basic_consume('amq.rabbitmq.reply-to',
                                                  auto_ack=True)
    waiting = queue_obj.get()
    reason = yield expect_failure(
        channel.exchange_declare(unique_name('missing'), passive=True),
        exceptions.ChannelClosedByBroker)
    assert reason.args[0] == 404
    error = yield expect_failure(waiting, exceptions.ChannelClosedByBroker)
    assert error is reason
    closed_reason = yield channel.on_closed
    assert closed_reason is reason
    assert channel.is_closed
    error = yield expect_failure(channel.queue_declare(unique_name()),
                                 exceptions.ChannelClosedByBroker)
    assert error is reason
    # The connection is still usable.
    other = yield conn.channel()
    yield other.queue_declare(unique_name(), exclusive=True)
    yield close(conn)


@scenario_test
def test_consumer_cancelled_by_broker_and_by_own_delete():
    conn, channel = yield open_channel()
    admin = yield conn.channel()
    name = unique_name('tw-cancel')
    yield channel.queue_declare(name)
    queue_obj, _tag = yield channel.basic_consume(name)
    waiting = queue_obj.get()
    yield admin.queue_delete(name)
    error = yield expect_failure(waiting.addTimeout(5, reactor),
                                 exceptions.ConsumerCancelled)
    assert error.args == ()
    yield channel.queue_declare(name)
    queue_obj, _tag = yield channel.basic_consume(name)
    yield channel.queue_delete(name)
    assert isinstance(queue_obj.closed, exceptions.ConsumerCancelled)
    assert queue_obj.closed.args == ('Queue %s was deleted.' % name,)
    assert channel._consumers == {}
    yield close(conn)


@scenario_test
def test_exchange_and_binding_rpcs_and_tx():
    conn, channel = yield open_channel()
    source, dest = unique_name('tw-src'), unique_name('tw-dst')
    name = unique_name('tw-q')
    replies = []
    replies.append((yield channel.exchange_declare(source,
                                                   'topic',
                                                   auto_delete=True)))
    replies.append((yield channel.exchange_declare(dest, auto_delete=True)))
    replies.append((yield channel.exchange_bind(dest, source, 'a.#')))
    replies.append((yield channel.queue_declare(name, exclusive=True)))
    replies.append((yield channel.queue_bind(name, dest, 'a.b')))
    replies.append((yield channel.tx_select()))
    channel.basic_publish(source, 'a.b', b'via-e2e')
    replies.append((yield channel.tx_commit()))
    channel.basic_publish(source, 'a.b', b'rolled-back')
    replies.append((yield channel.tx_rollback()))
    declared = yield channel.queue_declare(name, passive=True)
    assert declared.method.message_count == 1
    replies.append((yield channel.queue_unbind(name, dest, 'a.b')))
    replies.append((yield channel.exchange_unbind(dest, source, 'a.#')))
    replies.append((yield channel.exchange_delete(dest)))
    replies.append((yield channel.exchange_delete(source)))
    replies.append((yield channel.basic_recover(requeue=True)))
    flow_state = yield channel.flow(True)
    assert flow_state is True
    assert [reply.method.NAME for reply in replies] == [
        'Exchange.DeclareOk', 'Exchange.DeclareOk', 'Exchange.BindOk',
        'Queue.DeclareOk', 'Queue.BindOk', 'Tx.SelectOk', 'Tx.CommitOk',
        'Tx.RollbackOk', 'Queue.UnbindOk', 'Exchange.UnbindOk',
        'Exchange.DeleteOk', 'Exchange.DeleteOk', 'Basic.RecoverOk'
    ]
    yield close(conn)


@scenario_test
def test_broker_closes_connection():
    conn, channel = yield open_channel()
    # RabbitMQ answers basic.recover(requeue=False) by closing the
    # connection with 540 NOT_IMPLEMENTED.
    yield expect_failure(channel.basic_recover(requeue=False),
                         twisted_error.ConnectionDone)
    reason = yield conn.closed
    assert isinstance(reason, twisted_error.ConnectionDone)
    assert conn.is_closed
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()


@scenario_test
def test_transport_lost_fails_consumers():
    conn, channel = yield open_channel()
    queue_obj, _tag = yield channel.basic_consume('amq.rabbitmq.reply-to',
                                                  auto_ack=True)
    waiting = queue_obj.get()
    conn.transport.abortConnection()
    reason = yield conn.closed
    assert isinstance(reason, twisted_error.ConnectionAborted)
    yield expect_failure(waiting, twisted_error.ConnectionAborted)
    channel_reason = yield channel.on_closed
    assert channel_reason is reason


@scenario_test
def test_endpoint_connect_and_heartbeats_keep_connection():
    endpoint = endpoints.TCP4ClientEndpoint(reactor, BROKER_HOST, BROKER_PORT)
    conn = yield endpoints.connectProtocol(
        endpoint, TwistedProtocolConnection(broker_params(heartbeat=1)))
    yield conn.ready
    assert conn._impl.params.heartbeat == 1
    # Idle for more than two heartbeat intervals: the broker would
    # close a connection that sent no heartbeats.
    yield sleep(2.5)
    assert conn.is_open
    channel = yield conn.channel()
    yield channel.queue_declare(unique_name(), exclusive=True)
    yield close(conn)


@scenario_test
def test_add_callback_threadsafe_runs_in_reactor_thread():
    conn = yield connect()
    ran: defer.Deferred = defer.Deferred()

    def from_thread():
        conn._impl._adapter_add_callback_threadsafe(
            lambda: ran.callback(threading.current_thread().name))

    threading.Thread(target=from_thread).start()
    thread_name = yield ran.addTimeout(5, reactor)
    assert thread_name == 'twisted-reactor'
    yield close(conn)


def _tls_options(broker_certs: Dict[str, str], client_cert: bool) -> Any:
    with open(broker_certs['ca'], 'rb') as ca_file:
        authority = ssl.Certificate.loadPEM(ca_file.read())
    client = None
    if client_cert:
        with open(broker_certs['client_cert'], 'rb') as cert_file, \
                open(broker_certs['client_key'], 'rb') as key_file:
            client = ssl.PrivateCertificate.loadPEM(cert_file.read() +
                                                    key_file.read())
    return ssl.optionsForClientTLS('localhost',
                                   trustRoot=authority,
                                   clientCertificate=client)


@pytest.mark.tls
# Twisted hands pyOpenSSL objects that newer pyOpenSSL releases deprecate.
@pytest.mark.filterwarnings('ignore::DeprecationWarning')
@pytest.mark.parametrize('external', [False, True], ids=['plain', 'external'])
@scenario_test
def test_tls_through_twisted_ssl(broker_certs, external):
    creds = (credentials.ExternalCredentials()
             if external else credentials.PlainCredentials('guest', 'guest'))
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                     broker_params(credentials=creds))
    conn = yield creator.connectSSL(BROKER_HOST, BROKER_TLS_PORT,
                                    _tls_options(broker_certs, external))
    yield conn.ready
    assert conn.transport.getPeerCertificate() is not None
    channel = yield conn.channel()
    yield _publish_then_consume(conn, channel, 'tw-tls', b'secret' * 10000)


def test_example_service_under_task_react():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(PROJECT_ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    env['PIKA_EXAMPLE_MESSAGES'] = '5'
    proc = subprocess.run(
        [sys.executable,
         str(PROJECT_ROOT / 'examples' / 'twisted_service.py')],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'received 5 messages' in proc.stdout, proc.stdout + proc.stderr


@scenario_test
def test_adapter_flow_results_and_errors_as_pika_1_4():
    """One flow over the Twisted API; every value was first recorded on
    pika 1.4.4 against the same broker."""
    seen: Dict[str, Any] = {}
    params = pika.ConnectionParameters(BROKER_HOST, BROKER_PORT)
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection, params)
    proto = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
    ready = yield proto.ready
    seen['ready_is_proto'] = ready is proto
    ch = yield proto.channel()
    seen['channel'] = [type(ch).__name__, ch.channel_number, ch.is_open]
    queue = unique_name('tw-flow')
    frame = yield ch.queue_declare(queue, arguments={'x-expires': 30000})
    seen['declare'] = [
        type(frame).__name__,
        type(frame.method).__name__, frame.method.queue == queue
    ]
    frame = yield ch.basic_qos(prefetch_count=2)
    seen['qos'] = type(frame.method).__name__
    deferred = ch.basic_publish('', queue, b'hello',
                                pika.BasicProperties(content_type='t'))
    seen['publish_type'] = type(deferred).__name__
    seen['publish_result'] = repr((yield deferred))
    result = yield ch.basic_get(queue, auto_ack=False)
    seen['get'] = [
        result[0] is ch,
        type(result[1]).__name__, result[1].delivery_tag,
        result[2].content_type, result[3].decode()
    ]
    seen['get_empty'] = repr((yield ch.basic_get(queue)))
    queue_object, tag = yield ch.basic_consume(queue, auto_ack=False)
    seen['consume'] = [type(queue_object).__name__, tag.startswith('ctag1.')]
    ch.basic_publish('', queue, b'c1')
    item = yield queue_object.get()
    seen['item'] = [
        item[0] is ch,
        type(item[1]).__name__, item[1].consumer_tag == tag, item[3].decode()
    ]
    seen['ack'] = repr(ch.basic_ack(item[1].delivery_tag))
    frame = yield ch.basic_cancel(tag)
    seen['cancel'] = type(frame.method).__name__
    try:
        yield queue_object.get()
    except Exception as error:
        seen['get_after_cancel'] = type(error).__name__
    frame = yield ch.confirm_delivery()
    seen['confirm'] = type(frame.method).__name__
    result = yield ch.basic_publish('', queue, b'confirmed')
    seen['confirmed'] = [type(result).__name__, result.delivery_tag]
    try:
        yield ch.basic_publish('', 'nonexistent-' + queue, b'x', mandatory=True)
    except exceptions.UnroutableError as error:
        seen['unroutable'] = [
            list(error.args), [type(m).__name__ for m in error.messages]
        ]
    try:
        yield ch.queue_declare('nonexistent-' + queue, passive=True)
    except Exception as error:
        seen['passive_404'] = [type(error).__name__, list(error.args)]
    seen['closed_state'] = [ch.is_open, ch.is_closed]
    try:
        yield ch.queue_declare('x')
    except Exception as error:
        seen['after_close'] = [type(error).__name__, error.args[0]]
    ch2 = yield proto.channel()
    returned = []
    ch2.add_on_return_callback(lambda *args: returned.append(args))
    yield ch2.basic_publish('', 'nonexistent-' + queue, b'r', mandatory=True)
    yield sleep(0.3)
    (message,) = returned[0]
    seen['returned'] = [
        len(returned),
        type(message).__name__, message[0] is ch2,
        type(message[1]).__name__, message[1].reply_code, message[3].decode()
    ]
    seen['ch2_close'] = repr((yield ch2.close()))
    ch3 = yield proto.channel()
    queue3, _ = yield ch3.basic_consume(queue, auto_ack=True)
    pending = queue3.get()
    ch3.close()
    try:
        yield pending
    except Exception as error:
        seen['pending_get'] = [type(error).__name__, list(error.args)]
    ch4 = yield proto.channel()
    seen['ch4_number'] = ch4.channel_number
    frame = yield ch4.tx_select()
    seen['tx'] = type(frame.method).__name__
    seen['flow'] = repr((yield ch4.flow(True)))
    yield ch4.queue_delete(queue)
    proto.close()
    reason = yield proto.closed
    seen['closed'] = type(reason).__name__
    seen['ch4_closed'] = ch4.is_closed
    assert seen['ready_is_proto'] is True
    assert seen['channel'] == ['TwistedChannel', 1, True]
    assert seen['declare'] == ['Method', 'DeclareOk', True]
    assert seen['qos'] == 'QosOk'
    assert seen['publish_type'] == 'Deferred'
    assert seen['publish_result'] == 'None'
    assert seen['get'] == [True, 'GetOk', 1, 't', 'hello']
    assert seen['get_empty'] == 'None'
    assert seen['consume'] == ['ClosableDeferredQueue', True]
    assert seen['item'] == [True, 'Deliver', True, 'c1']
    assert seen['ack'] == 'None'
    assert seen['cancel'] == 'CancelOk'
    assert seen['get_after_cancel'] == 'ConsumerCancelled'
    assert seen['confirm'] == 'SelectOk'
    assert seen['confirmed'] == ['Ack', 1]
    assert seen['unroutable'] == [['1 unroutable message(s) returned'],
                                  ['ReceivedMessage']]
    assert seen['passive_404'][0] == 'ChannelClosedByBroker'
    assert seen['passive_404'][1][0] == 404
    assert seen['closed_state'] == [False, True]
    assert seen['after_close'] == ['ChannelClosedByBroker', 404]
    assert seen['returned'] == [1, 'ReceivedMessage', True, 'Return', 312, 'r']
    assert seen['ch2_close'] == 'None'
    assert seen['pending_get'] == [
        'ChannelClosedByClient', [0, 'Normal shutdown']
    ]
    assert seen['ch4_number'] == 2
    assert seen['tx'] == 'SelectOk'
    assert seen['flow'] == 'True'
    assert seen['closed'] == 'ConnectionDone'
    assert seen['ch4_closed'] is True
