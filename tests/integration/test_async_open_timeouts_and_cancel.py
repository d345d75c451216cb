"""Open timeouts and repeated consumer cancels, on every adapter.

- ``socket_timeout`` or ``stack_timeout`` too small to be met: the failure
  reaches ``on_open_error_callback`` as an ``AMQPConnectionError`` (pika 1.4.4
  unwraps the workflow's failure the same way on every adapter).
- ``basic_cancel`` called again for a consumer that is already being
  cancelled (here from each delivery still in flight) logs a warning and
  returns; the first cancel's callback runs exactly once and the connection
  goes on working.
"""

import logging

import pytest

from pika import exceptions, spec
from async_harness import broker_params, unique_name


@pytest.mark.parametrize('timeout_name', ['socket_timeout', 'stack_timeout'])
def test_unmeetable_open_timeout_is_an_amqp_connection_error(
        flow, timeout_name):
    outcome = {}

    def on_open(conn):
        outcome['opened'] = conn
        conn.close()

    def on_open_error(conn, error):
        outcome['error'] = error
        flow.finish()

    def on_close(conn, error):
        flow.finish()

    params = broker_params(**{timeout_name: 1e-19})
    flow.runner.connect(params, flow.cb(on_open), flow.cb(on_open_error),
                        flow.cb(on_close))
    flow.run(timeout=20)
    assert 'opened' not in outcome, 'connection opened despite %s' % (
        timeout_name,)
    assert isinstance(outcome['error'],
                      exceptions.AMQPConnectionError), (repr(outcome['error']))


def test_repeated_cancel_while_deliveries_are_in_flight(flow, caplog):
    queue = unique_name()
    count = 100
    outcome = {'deliveries': 0, 'cancel_ok': []}

    def on_open(conn):
        conn.channel(on_open_callback=flow.cb(on_channel))

    def on_channel(channel):
        flow.state['channel'] = channel
        channel.queue_declare(queue,
                              exclusive=True,
                              callback=flow.cb(on_declared))

    def on_declared(_frame):
        channel = flow.state['channel']
        for number in range(count):
            channel.basic_publish('', queue, b'm%d' % number)
        check_queued()

    def check_queued():
        # The queue counts published messages a little later than it
        # answers: ask until all of them are there, then consume.
        flow.state['channel'].queue_declare(queue,
                                            passive=True,
                                            callback=flow.cb(on_queued))

    def on_queued(frame):
        if frame.method.message_count < count:
            flow.runner.call_later(0.05, flow.cb(check_queued))
            return
        assert frame.method.message_count == count
        channel = flow.state['channel']
        channel.basic_qos(prefetch_count=0,
                          callback=flow.cb(lambda _f: start_consuming()))

    def start_consuming():
        channel = flow.state['channel']
        flow.state['tag'] = channel.basic_consume(queue,
                                                  flow.cb(on_message),
                                                  auto_ack=True)

    def on_message(channel, method, properties, body):
        outcome['deliveries'] += 1
        channel.basic_cancel(flow.state['tag'], callback=flow.cb(on_cancel_ok))

    def on_cancel_ok(frame):
        outcome['cancel_ok'].append(frame)
        # The channel still answers after the cancels.
        flow.state['channel'].queue_declare(queue,
                                            passive=True,
                                            callback=flow.cb(on_after))

    def on_after(frame):
        outcome['after'] = frame
        flow.state['conn'].close()

    def on_close(conn, error):
        flow.finish()

    with caplog.at_level(logging.WARNING):
        flow.state['conn'] = flow.runner.connect(broker_params(),
                                                 flow.cb(on_open), None,
                                                 flow.cb(on_close))
        flow.run(timeout=30)
    assert len(outcome['cancel_ok']) == 1
    assert isinstance(outcome['cancel_ok'][0].method, spec.Basic.CancelOk)
    assert isinstance(outcome['after'].method, spec.Queue.DeclareOk)
    assert outcome['deliveries'] >= 1
    if outcome['deliveries'] > 1:
        assert any('already' in record.getMessage().lower()
                   for record in caplog.records
                   if record.levelno == logging.WARNING)
