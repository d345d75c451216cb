"""Twisted adapter against the broker.

The global reactor runs in a daemon thread for the whole session (a reactor
cannot be restarted); each scenario is an ``inlineCallbacks`` function run on
it through :func:`run_scenario`, which bounds it with a timeout on both
sides (the Deferred is cancelled on the reactor, and the test thread stops
waiting), so a broken scenario fails instead of hanging. One test also runs
the Twisted example in a subprocess under ``task.react``, the usual way of
running a Twisted program.
"""

import os
import pathlib
import queue
import subprocess
import sys
import threading
from typing import Any, Callable, Dict

import pytest
from twisted.internet import defer, endpoints, error as twisted_error
from twisted.internet import protocol, reactor, ssl, task

from pika import connection, credentials, exceptions, spec
from pika.adapters.twisted_connection import (ClosableDeferredQueue,
                                              ReceivedMessage, TwistedChannel,
                                              TwistedProtocolConnection)

from async_harness import BROKER_HOST, BROKER_PORT, BROKER_TLS_PORT, unique_name

SCENARIO_TIMEOUT = 15
PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]

_reactor_thread: Dict[str, threading.Thread] = {}


def _ensure_reactor() -> None:
    if 'thread' in _reactor_thread:
        return
    thread = threading.Thread(target=reactor.run,
                              kwargs={'installSignalHandlers': False},
                              name='twisted-reactor',
                              daemon=True)
    thread.start()
    _reactor_thread['thread'] = thread


def run_scenario(func: Callable[..., Any],
                 *args: Any,
                 timeout: float = SCENARIO_TIMEOUT) -> Any:
    """Run ``func(*args)`` (returning a Deferred or a value) on the reactor
    thread and return its result; re-raise its failure.
    """
    _ensure_reactor()
    results: queue.Queue[Any] = queue.Queue()

    def start() -> None:
        d = defer.maybeDeferred(func, *args)
        d.addTimeout(timeout, reactor)
        d.addCallbacks(lambda value: results.put((True, value)),
                       lambda failure: results.put((False, failure)))

    reactor.callFromThread(start)
    try:
        ok, value = results.get(timeout=timeout + 5)
    except queue.Empty:
        pytest.fail('scenario hung beyond %ss' % (timeout + 5))
    if not ok:
        value.raiseException()
    return value


def params(**kwargs: Any) -> connection.ConnectionParameters:
    kwargs.setdefault('host', BROKER_HOST)
    kwargs.setdefault('port', BROKER_PORT)
    return connection.ConnectionParameters(**kwargs)


@defer.inlineCallbacks
def connect(parameters: Any = None) -> Any:
    """Connect with ClientCreator and wait for ``ready``."""
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                     parameters or params())
    conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
    ready = yield conn.ready
    assert ready is conn
    return conn


@defer.inlineCallbacks
def close(conn: TwistedProtocolConnection) -> Any:
    if conn.is_open:
        reason = yield conn.close()
        return reason
    return None


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


def get_with_timeout(queue_obj: ClosableDeferredQueue,
                     seconds: float = 5) -> defer.Deferred:
    return queue_obj.get().addTimeout(seconds, reactor)


# -- scenarios --------------------------------------------------------------


def test_publish_consume_ack_cancel_close():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        assert conn.is_open and isinstance(conn.closed, defer.Deferred)
        channel = yield conn.channel()
        assert isinstance(channel, TwistedChannel)
        name = unique_name('tw')
        declared = yield channel.queue_declare(name, exclusive=True)
        assert declared.method.queue == name
        qos = yield channel.basic_qos(prefetch_count=10)
        assert isinstance(qos.method, spec.Basic.QosOk)
        props = spec.BasicProperties(content_type='text/plain',
                                     headers={'n': 1})
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

    run_scenario(scenario)


def test_basic_get_and_empty():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        name = unique_name('tw-get')
        yield channel.queue_declare(name, exclusive=True)
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

    run_scenario(scenario)


def test_large_message_roundtrip():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        name = unique_name('tw-large')
        yield channel.queue_declare(name, exclusive=True)
        body = os.urandom(2 * 1024 * 1024 + 17)
        channel.basic_publish('', name, body)
        queue_obj, _tag = yield channel.basic_consume(name, auto_ack=True)
        message = yield get_with_timeout(queue_obj)
        assert message.body == body
        yield close(conn)

    run_scenario(scenario)


def test_publisher_confirms_ack_unroutable_and_nack():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
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
        try:
            yield channel.basic_publish('', name, b'overflow')
        except exceptions.NackError as error:
            assert error.messages == []
        else:
            raise AssertionError('expected NackError')
        try:
            yield channel.basic_publish('',
                                        unique_name('nowhere'),
                                        b'lost',
                                        mandatory=True)
        except exceptions.UnroutableError as error:
            (returned,) = error.messages
            assert returned.body == b'lost'
            assert returned.method.reply_code == 312
        else:
            raise AssertionError('expected UnroutableError')
        # Many in flight at once, acknowledged possibly with multiple=True.
        yield channel.queue_purge(name)
        other = unique_name('tw-confirm-many')
        yield channel.queue_declare(other, exclusive=True)
        acks = yield defer.gatherResults(
            [channel.basic_publish('', other, b'%d' % n) for n in range(500)])
        assert all(isinstance(a, spec.Basic.Ack) for a in acks)
        assert channel._deliveries == {}
        declared = yield channel.queue_declare(other, passive=True)
        assert declared.method.message_count == 500
        yield close(conn)

    run_scenario(scenario)


def test_return_callback():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        returned: defer.Deferred = defer.Deferred()
        channel.add_on_return_callback(returned.callback)
        channel.basic_publish('', unique_name('nowhere'), b'r', mandatory=True)
        message = yield returned.addTimeout(5, reactor)
        assert isinstance(message, ReceivedMessage)
        assert message.channel is channel and message.body == b'r'
        yield close(conn)

    run_scenario(scenario)


def test_channel_closed_by_broker_fails_pending_and_later_calls():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        queue_obj, _tag = yield channel.basic_consume('amq.rabbitmq.reply-to',
                                                      auto_ack=True)
        waiting = queue_obj.get()
        try:
            yield channel.exchange_declare(unique_name('missing'), passive=True)
        except exceptions.ChannelClosedByBroker as error:
            assert error.args[0] == 404
            reason = error
        else:
            raise AssertionError('expected ChannelClosedByBroker')
        try:
            yield waiting
        except exceptions.ChannelClosedByBroker as error:
            assert error is reason
        closed_reason = yield channel.on_closed
        assert closed_reason is reason
        assert channel.is_closed
        try:
            yield channel.queue_declare(unique_name())
        except exceptions.ChannelClosedByBroker as error:
            assert error is reason
        else:
            raise AssertionError('call on closed channel succeeded')
        # The connection is still usable.
        other = yield conn.channel()
        yield other.queue_declare(unique_name(), exclusive=True)
        yield close(conn)

    run_scenario(scenario)


def test_consumer_cancelled_by_broker_and_by_own_delete():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        admin = yield conn.channel()
        name = unique_name('tw-cancel')
        yield channel.queue_declare(name)
        queue_obj, _tag = yield channel.basic_consume(name)
        waiting = queue_obj.get()
        yield admin.queue_delete(name)
        try:
            yield waiting.addTimeout(5, reactor)
        except exceptions.ConsumerCancelled as error:
            assert error.args == ()
        else:
            raise AssertionError('expected ConsumerCancelled')
        yield channel.queue_declare(name)
        queue_obj, _tag = yield channel.basic_consume(name)
        yield channel.queue_delete(name)
        assert isinstance(queue_obj.closed, exceptions.ConsumerCancelled)
        assert queue_obj.closed.args == ('Queue %s was deleted.' % name,)
        assert channel._consumers == {}
        yield close(conn)

    run_scenario(scenario)


def test_exchange_and_binding_rpcs_and_tx():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
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

    run_scenario(scenario)


def test_auth_failure_errbacks_ready():

    @defer.inlineCallbacks
    def scenario():
        bad = params(credentials=credentials.PlainCredentials('guest', 'bad'))
        creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                         bad)
        conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
        try:
            yield conn.ready
        except exceptions.AMQPConnectionError as error:
            assert type(error) is exceptions.AMQPConnectionError
            assert error.args == (1,)
        else:
            raise AssertionError('expected AMQPConnectionError')
        assert conn.ready is None and conn.closed is None
        assert conn.is_closed

    run_scenario(scenario)


def test_broker_closes_connection():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        # RabbitMQ answers basic.recover(requeue=False) by closing the
        # connection with 540 NOT_IMPLEMENTED.
        try:
            yield channel.basic_recover(requeue=False)
        except twisted_error.ConnectionDone:
            pass
        else:
            raise AssertionError('expected the connection to close')
        reason = yield conn.closed
        assert isinstance(reason, twisted_error.ConnectionDone)
        assert conn.is_closed
        with pytest.raises(exceptions.ConnectionWrongStateError):
            conn.channel()

    run_scenario(scenario)


def test_transport_lost_fails_consumers():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        channel = yield conn.channel()
        queue_obj, _tag = yield channel.basic_consume('amq.rabbitmq.reply-to',
                                                      auto_ack=True)
        waiting = queue_obj.get()
        conn.transport.abortConnection()
        reason = yield conn.closed
        assert isinstance(reason, twisted_error.ConnectionAborted)
        try:
            yield waiting
        except twisted_error.ConnectionAborted:
            pass
        else:
            raise AssertionError('expected the consumer queue to fail')
        channel_reason = yield channel.on_closed
        assert channel_reason is reason

    run_scenario(scenario)


def test_endpoint_connect_and_heartbeats_keep_connection():

    @defer.inlineCallbacks
    def scenario():
        endpoint = endpoints.TCP4ClientEndpoint(reactor, BROKER_HOST,
                                                BROKER_PORT)
        conn = yield endpoints.connectProtocol(
            endpoint, TwistedProtocolConnection(params(heartbeat=1)))
        yield conn.ready
        assert conn._impl.params.heartbeat == 1
        # Idle for more than two heartbeat intervals: the broker would
        # close a connection that sent no heartbeats.
        yield sleep(2.5)
        assert conn.is_open
        channel = yield conn.channel()
        yield channel.queue_declare(unique_name(), exclusive=True)
        yield close(conn)

    run_scenario(scenario)


def test_add_callback_threadsafe_runs_in_reactor_thread():

    @defer.inlineCallbacks
    def scenario():
        conn = yield connect()
        ran: defer.Deferred = defer.Deferred()

        def from_thread():
            conn._impl._adapter_add_callback_threadsafe(
                lambda: ran.callback(threading.current_thread().name))

        threading.Thread(target=from_thread).start()
        thread_name = yield ran.addTimeout(5, reactor)
        assert thread_name == 'twisted-reactor'
        yield close(conn)

    run_scenario(scenario)


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
def test_tls_through_twisted_ssl(broker_certs, external):

    @defer.inlineCallbacks
    def scenario():
        creds = (credentials.ExternalCredentials() if external else
                 credentials.PlainCredentials('guest', 'guest'))
        creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                         params(credentials=creds))
        conn = yield creator.connectSSL(BROKER_HOST, BROKER_TLS_PORT,
                                        _tls_options(broker_certs, external))
        yield conn.ready
        assert conn.transport.getPeerCertificate() is not None
        channel = yield conn.channel()
        name = unique_name('tw-tls')
        yield channel.queue_declare(name, exclusive=True)
        body = b'secret' * 10000
        channel.basic_publish('', name, body)
        queue_obj, _tag = yield channel.basic_consume(name, auto_ack=True)
        message = yield get_with_timeout(queue_obj)
        assert message.body == body
        yield close(conn)

    run_scenario(scenario)


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
