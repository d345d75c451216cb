"""Engine behaviour against the real broker, driven through SelectConnection.

Covers what the adapter scenarios do not: tune negotiation seen from the
broker, small frame_max content splitting, every RPC family, update_secret,
broker-side connection errors and channel number reuse.
"""

import os
import uuid
from typing import Any, Callable, List

import pytest

from pika import exceptions, spec
from pika.adapters.select_connection import SelectConnection
from pika.connection import ConnectionParameters

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def run(on_open: Callable[[Any, List[Any]], None],
        timeout: float = 5.0,
        **params: Any) -> List[Any]:
    """Open a connection, call ``on_open(conn, events)``, run until close."""
    events: List[Any] = []

    def on_close(conn: Any, error: Any) -> None:
        events.append(('close', error))
        conn.ioloop.stop()

    def on_open_error(conn: Any, error: Any) -> None:
        events.append(('open_error', error))
        conn.ioloop.stop()

    conn = SelectConnection(ConnectionParameters(HOST, PORT, **params),
                            on_open_callback=lambda c: on_open(c, events),
                            on_open_error_callback=on_open_error,
                            on_close_callback=on_close)
    guard = conn.ioloop.call_later(timeout, conn.ioloop.stop)
    conn.ioloop.start()
    conn.ioloop.remove_timeout(guard)
    assert events and events[-1][0] in ('close', 'open_error'), events
    conn.ioloop.close()
    return events


def queue_name() -> str:
    return 'engine-test-' + uuid.uuid4().hex


def test_tune_values_and_heartbeat_callable():
    seen = []

    def heartbeat(conn, server_value):
        seen.append(server_value)
        return 7

    def on_open(conn, events):
        events.append((conn.params.channel_max, conn.params.frame_max,
                       conn.params.heartbeat))
        conn.close()

    events = run(on_open, heartbeat=heartbeat, channel_max=10)
    assert seen == [60]
    assert events[0] == (10, 131072, 7)
    assert isinstance(events[-1][1], exceptions.ConnectionClosedByClient)


@pytest.mark.parametrize('frame_max,size', [(4096, 25600), (4096, 4088),
                                            (131072, 1 << 20), (4096, 0)])
def test_content_split_by_frame_max(frame_max, size):
    queue = queue_name()
    body = bytes(range(256)) * (size // 256) + b'x' * (size % 256)
    props = spec.BasicProperties(headers={'h': 'y' * 2000},
                                 content_type='application/octet-stream')

    def on_open(conn, events):

        def on_channel(chan):

            def on_message(ch, method, properties, received):
                events.append((received == body, properties.headers['h'],
                               method.routing_key))
                conn.close()

            def declared(_frame):
                chan.basic_publish('', queue, body, props)
                chan.basic_consume(queue, on_message, auto_ack=True)

            chan.queue_declare(queue, auto_delete=True, callback=declared)

        conn.channel(on_open_callback=on_channel)

    events = run(on_open, frame_max=frame_max)
    assert events[0] == (True, 'y' * 2000, queue)


def test_rpc_families_and_replies():
    queue = queue_name()
    exchange = 'engine-x-' + uuid.uuid4().hex
    exchange2 = exchange + '-2'
    replies = []

    def on_open(conn, events):

        def on_channel(chan):

            def step(method_cls, call):

                def callback(method_frame):
                    assert isinstance(method_frame.method, method_cls)
                    replies.append(method_cls.NAME)
                    next_step()

                call(callback)

            steps = [
                (spec.Exchange.DeclareOk, lambda cb: chan.exchange_declare(
                    exchange, 'topic', auto_delete=True, callback=cb)),
                (spec.Exchange.DeclareOk, lambda cb: chan.exchange_declare(
                    exchange2, auto_delete=True, callback=cb)),
                (spec.Exchange.BindOk, lambda cb: chan.exchange_bind(
                    exchange2, exchange, '#', callback=cb)),
                (spec.Queue.DeclareOk,
                 lambda cb: chan.queue_declare(queue, callback=cb)),
                (spec.Queue.BindOk,
                 lambda cb: chan.queue_bind(queue, exchange2, 'k', callback=cb)
                ),
                (spec.Basic.QosOk,
                 lambda cb: chan.basic_qos(prefetch_count=10, callback=cb)),
                (spec.Tx.SelectOk, lambda cb: chan.tx_select(cb)),
                (spec.Tx.CommitOk, lambda cb:
                 (chan.basic_publish(exchange, 'k', b'm'), chan.tx_commit(cb))),
                (spec.Tx.RollbackOk, lambda cb: chan.tx_rollback(cb)),
                (spec.Queue.PurgeOk,
                 lambda cb: chan.queue_purge(queue, callback=cb)),
                (spec.Basic.RecoverOk,
                 lambda cb: chan.basic_recover(True, callback=cb)),
                (spec.Queue.UnbindOk, lambda cb: chan.queue_unbind(
                    queue, exchange2, 'k', callback=cb)),
                (spec.Exchange.UnbindOk, lambda cb: chan.exchange_unbind(
                    exchange2, exchange, '#', callback=cb)),
                (spec.Queue.DeleteOk,
                 lambda cb: chan.queue_delete(queue, callback=cb)),
                (spec.Exchange.DeleteOk,
                 lambda cb: chan.exchange_delete(exchange2, callback=cb)),
                (spec.Exchange.DeleteOk,
                 lambda cb: chan.exchange_delete(exchange, callback=cb)),
            ]

            def next_step():
                if steps:
                    step(*steps.pop(0))
                else:
                    conn.close()

            next_step()

        conn.channel(on_open_callback=on_channel)

    events = run(on_open)
    assert isinstance(events[-1][1], exceptions.ConnectionClosedByClient)
    assert replies == [
        'Exchange.DeclareOk', 'Exchange.DeclareOk', 'Exchange.BindOk',
        'Queue.DeclareOk', 'Queue.BindOk', 'Basic.QosOk', 'Tx.SelectOk',
        'Tx.CommitOk', 'Tx.RollbackOk', 'Queue.PurgeOk', 'Basic.RecoverOk',
        'Queue.UnbindOk', 'Exchange.UnbindOk', 'Queue.DeleteOk',
        'Exchange.DeleteOk', 'Exchange.DeleteOk'
    ]


def test_update_secret():

    def on_open(conn, events):
        conn.update_secret('guest', 'refresh', lambda f:
                           (events.append(f.method), conn.close()))

    events = run(on_open)
    assert isinstance(events[0], spec.Connection.UpdateSecretOk)


def test_broker_closes_connection_on_channel_error():
    """A second Channel.Open on one number is a connection error (504)."""

    def on_open(conn, events):
        conn.channel(1)
        chan = conn.channel(1)
        chan.add_on_close_callback(lambda ch, reason: events.append(reason))

    events = run(on_open)
    error = events[-1][1]
    assert type(error) is exceptions.ConnectionClosedByBroker
    assert error.reply_code == 504
    assert events[0] is error


def test_channel_number_reused_after_close():

    def on_open(conn, events):

        def on_channel(chan):
            events.append(chan.channel_number)
            chan.close()

        def on_close(chan, reason):
            events.append(type(reason).__name__)
            conn.channel(on_open_callback=lambda ch:
                         (events.append(ch.channel_number), conn.close()))

        first = conn.channel(on_open_callback=on_channel)
        first.add_on_close_callback(on_close)

    events = run(on_open)
    assert events[:3] == [1, 'ChannelClosedByClient', 2]
