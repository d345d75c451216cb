"""Broker scenarios run on every asynchronous adapter (see conftest.py)."""

import socket
import threading

import pytest

from pika import exceptions, frame, spec
from pika.adapters.utils import connection_workflow

from async_harness import broker_params, closed_port, unique_name


def with_channel(flow, on_channel, params=None):
    """Open a connection and a channel, then call
    ``on_channel(connection, channel)``; the connection is closed (if still
    open) when the scenario finishes.
    """
    state = flow.state

    def on_open(conn):
        state['conn'] = conn
        conn.channel(on_open_callback=flow.cb(lambda ch: on_channel(conn, ch)))

    def on_open_error(conn, error):
        flow.errors.append(AssertionError('open failed: %r' % (error,)))
        flow.finish()

    def on_close(conn, error):
        flow.events.append(('connection-closed', error))
        if not flow.finished and not state.get('closing'):
            flow.finish(error)

    flow.runner.connect(params or broker_params(), flow.cb(on_open),
                        flow.cb(on_open_error), flow.cb(on_close))
    return state


def close_and_finish(flow, conn, result=None):
    """Close ``conn`` and finish the scenario with ``result`` once closed."""
    flow.state['closing'] = True

    def on_closed(_conn, error):
        flow.events.append(('closed-by-scenario', error))
        flow.finish(result)

    conn.add_on_close_callback(flow.cb(on_closed))
    conn.close()


def test_declare_bind_publish_consume_ack(flow):
    queue = unique_name()
    routing_key = unique_name('rk')
    count = 50
    received = []

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         auto_delete=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch, f)))

    def on_declared(conn, ch, frame):
        assert frame.method.queue == queue
        ch.queue_bind(queue,
                      'amq.direct',
                      routing_key,
                      callback=flow.cb(lambda f: on_bound(conn, ch)))

    def on_bound(conn, ch):
        for index in range(count):
            ch.basic_publish(
                'amq.direct', routing_key, b'message-%d' % index,
                spec.BasicProperties(content_type='text/plain',
                                     headers={'index': index},
                                     delivery_mode=2))
        ch.basic_qos(prefetch_count=10)
        ch.basic_consume(queue,
                         flow.cb(lambda *args: on_message(conn, *args)),
                         consumer_tag='ctag-1')

    def on_message(conn, ch, method, properties, body):
        received.append((method.routing_key, properties.content_type,
                         properties.headers['index'], body))
        ch.basic_ack(method.delivery_tag)
        if len(received) == count:
            ch.basic_cancel('ctag-1',
                            callback=flow.cb(
                                lambda f: close_and_finish(flow, conn, 'done')))

    with_channel(flow, on_channel)
    assert flow.run() == 'done'
    assert received == [(routing_key, 'text/plain', index,
                         b'message-%d' % index) for index in range(count)]


def test_large_message_roundtrip(flow):
    queue = unique_name()
    body = bytes(range(256)) * 4096 * 3  # 3 MiB: many body frames

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        ch.basic_publish('', queue, body)
        ch.basic_consume(queue,
                         flow.cb(lambda *args: on_message(conn, *args)),
                         auto_ack=True)

    def on_message(conn, ch, method, properties, received):
        assert received == body
        close_and_finish(flow, conn, len(received))

    with_channel(flow, on_channel)
    assert flow.run(timeout=20) == len(body)


def test_basic_get_and_get_empty(flow):
    queue = unique_name()
    results = []

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        ch.basic_publish('', queue, b'only-one')
        # The broker handles the publish before the get on the same channel.
        ch.basic_get(queue, flow.cb(lambda *args: on_get(conn, *args)))

    def on_get(conn, ch, method, properties, body):
        results.append((type(method).__name__, method.message_count, body))
        ch.basic_ack(method.delivery_tag)
        ch.add_callback(flow.cb(lambda f: on_empty(conn, f)),
                        [spec.Basic.GetEmpty],
                        one_shot=True)
        ch.basic_get(queue, flow.cb(lambda *args: results.append('unexpected')))

    def on_empty(conn, frame):
        results.append(type(frame.method).__name__)
        close_and_finish(flow, conn)

    with_channel(flow, on_channel)
    flow.run()
    assert results == [('GetOk', 0, b'only-one'), 'GetEmpty']


def test_confirms_ack_and_mandatory_return(flow):
    queue = unique_name()
    confirms = []
    returns = []

    def on_channel(conn, ch):
        ch.confirm_delivery(flow.cb(lambda f: on_confirm(conn, f)),
                            callback=flow.cb(lambda f: on_confirm_ok(conn, ch)))

    def on_confirm_ok(conn, ch):
        ch.add_on_return_callback(flow.cb(on_return))
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        ch.basic_publish('', queue, b'routable', mandatory=True)
        ch.basic_publish('',
                         unique_name('nowhere'),
                         b'unroutable',
                         spec.BasicProperties(message_id='m-2'),
                         mandatory=True)

    def on_return(ch, method, properties, body):
        returns.append(
            (method.reply_code, method.reply_text, properties.message_id, body))

    def on_confirm(conn, frame):
        confirms.append(
            (type(frame.method).__name__, frame.method.delivery_tag))
        if len(confirms) == 2:
            close_and_finish(flow, conn)

    with_channel(flow, on_channel)
    flow.run()
    # The broker may confirm the returned message first.
    assert sorted(confirms) == [('Ack', 1), ('Ack', 2)]
    assert returns == [(312, 'NO_ROUTE', 'm-2', b'unroutable')]


def test_client_closes_connection_with_open_channels(flow):
    channel_reasons = []

    def on_channel(conn, ch):
        ch.add_on_close_callback(
            flow.cb(lambda c, reason: channel_reasons.append(reason)))
        close_and_finish(flow, conn, 'closed')

    with_channel(flow, on_channel)
    assert flow.run() == 'closed'
    assert len(channel_reasons) == 1
    assert isinstance(channel_reasons[0], exceptions.ChannelClosedByClient)
    closed = [event for event in flow.events if event[0] == 'connection-closed']
    assert isinstance(closed[0][1], exceptions.ConnectionClosedByClient)


def test_threadsafe_callback_publishes(flow):
    queue = unique_name()

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        ch.basic_consume(queue,
                         flow.cb(lambda *args: on_message(conn, *args)),
                         auto_ack=True)

        def from_thread():
            conn._adapter_add_callback_threadsafe(
                lambda: ch.basic_publish('', queue, b'from-thread'))

        threading.Thread(target=from_thread).start()

    def on_message(conn, ch, method, properties, body):
        close_and_finish(flow, conn, body)

    with_channel(flow, on_channel)
    assert flow.run() == b'from-thread'


def _expect_open_error(flow, params):
    outcome = []

    def on_open(conn):
        outcome.append(('opened', None))
        conn.close()

    def on_error(conn, error):
        outcome.append(('error', error))
        flow.finish()

    conn = flow.runner.connect(params, flow.cb(on_open), flow.cb(on_error),
                               flow.cb(lambda c, e: flow.finish()))
    flow.run()
    assert conn.is_closed
    assert outcome[0][0] == 'error'
    return outcome[0][1]


def test_multi_host_workflow_first_host_refused(flow):
    configs = [broker_params(port=closed_port()), broker_params()]

    def on_done(result):
        if isinstance(result, BaseException):
            flow.finish(result)
        else:
            close_and_finish(flow, result, result)

    workflow = flow.runner.create_connection(configs, flow.cb(on_done))
    assert isinstance(workflow, connection_workflow.AMQPConnectionWorkflow)
    conn = flow.run()
    assert isinstance(conn, flow.runner.connection_class)
    assert conn.params.port == configs[1].port
    assert conn.is_closed


def test_create_connection_all_hosts_fail(flow):
    configs = [
        broker_params(port=closed_port()),
        broker_params(port=closed_port(),
                      connection_attempts=2,
                      retry_delay=0.05)
    ]
    workflow = flow.runner.create_connection(configs, flow.cb(flow.finish))
    result = flow.run()
    assert isinstance(result, connection_workflow.AMQPConnectionWorkflowFailed)
    assert len(result.exceptions) == 4
    with pytest.raises(connection_workflow.AMQPConnectorWrongState):
        workflow.abort()


def test_loop_serves_several_connections(flow):
    """Two connections share one loop; one failing leaves the other fine."""
    outcome = {}

    def on_good_open(conn):
        outcome['good'] = conn
        flow.runner.connect(broker_params(port=closed_port()), None,
                            flow.cb(on_bad_error))

    def on_bad_error(conn, error):
        outcome['bad'] = error
        good = outcome['good']
        good.channel(on_open_callback=flow.cb(
            lambda ch: close_and_finish(flow, good, 'ok')))

    flow.runner.connect(broker_params(), flow.cb(on_good_open))
    assert flow.run() == 'ok'
    assert isinstance(outcome['bad'], exceptions.AMQPConnectionError)


def test_connection_closed_by_broker(flow):
    """A frame for a channel that was never opened makes the broker close
    the connection (504 CHANNEL_ERROR); channels and the connection learn it.
    """
    outcome = {}

    def on_channel(conn, ch):
        ch.add_on_close_callback(
            flow.cb(lambda c, reason: outcome.setdefault('channel', reason)))
        # Bypass the client's checks: raw bytes for unopened channel 999.
        conn._transport.write(
            frame.Method(999, spec.Basic.Qos(prefetch_count=1)).marshal())

    with_channel(flow, on_channel)
    error = flow.run()
    assert isinstance(error, exceptions.ConnectionClosedByBroker)
    assert error.reply_code == 504
    assert 'CHANNEL_ERROR' in error.reply_text
    # As in pika, open channels are closed with the connection's reason.
    assert outcome['channel'] is error


def test_heartbeats_keep_idle_connection_open(flow):
    """With heartbeat=1 the broker would drop a silent client after ~2 s;
    the client's heartbeats keep the connection open while idle.
    """
    outcome = {}

    def on_open(conn):
        outcome['heartbeat'] = conn.params.heartbeat
        flow.runner.call_later(3.0, flow.cb(lambda: check(conn)))

    def check(conn):
        outcome['open_after_idle'] = conn.is_open
        close_and_finish(flow, conn)

    flow.runner.connect(broker_params(heartbeat=1), flow.cb(on_open), None,
                        flow.cb(lambda c, e: flow.finish(e)))
    flow.run(timeout=10)
    assert outcome == {'heartbeat': 1, 'open_after_idle': True}


def test_dns_failure(flow):
    error = _expect_open_error(flow, broker_params(host='name.invalid'))
    assert isinstance(error, connection_workflow.AMQPConnectionWorkflowFailed)
    assert isinstance(error.exceptions[-1], socket.gaierror)


def test_silent_peer_hits_stack_timeout(flow):
    # A listener that never accepts: TCP connects, nobody answers AMQP.
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    try:
        error = _expect_open_error(
            flow,
            broker_params(port=listener.getsockname()[1], stack_timeout=0.3))
    finally:
        listener.close()
    assert isinstance(error, exceptions.ConnectionOpenAborted)
    assert 'Timeout while setting up AMQP' in repr(error)


def test_peer_resets_during_handshake(flow):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def reset_first_client():
        client, _ = listener.accept()
        client.recv(8)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b'\x01\x00\x00\x00\x00\x00\x00\x00')
        client.close()

    thread = threading.Thread(target=reset_first_client, daemon=True)
    thread.start()
    try:
        error = _expect_open_error(
            flow, broker_params(port=listener.getsockname()[1]))
    finally:
        thread.join(5)
        listener.close()
    assert isinstance(error, exceptions.IncompatibleProtocolError)
    assert 'StreamLostError' in repr(error)
