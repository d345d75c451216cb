"""TLS scenarios (broker TLS listener, generated test certificates) run on
every asynchronous adapter.
"""

import ssl
import urllib.parse

import pytest

from pika import exceptions
from pika.adapters.utils import connection_workflow
from pika.connection import ConnectionParameters, SSLOptions, URLParameters
from pika.credentials import ExternalCredentials

from async_harness import (BROKER_HOST, BROKER_PORT, BROKER_TLS_PORT,
                           tls_params, unique_name)

pytestmark = pytest.mark.tls


def _roundtrip(flow, params, body=b'secret' * 10000):
    """Open, publish to a fresh queue, consume it back, close."""
    queue = unique_name('tls')
    seen = {}

    def on_open(conn):
        seen['transport'] = type(conn._transport).__name__
        seen['cipher'] = conn._transport._sock.cipher()
        conn.channel(on_open_callback=flow.cb(lambda ch: on_channel(conn, ch)))

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        ch.basic_publish('', queue, body)
        ch.basic_consume(queue,
                         flow.cb(lambda *args: on_message(conn, *args)),
                         auto_ack=True)

    def on_message(conn, ch, method, properties, body):
        seen['body'] = body
        conn.close()

    def on_open_error(conn, error):
        flow.finish(error)

    def on_close(conn, error):
        flow.finish(error)

    flow.runner.connect(params, flow.cb(on_open), flow.cb(on_open_error),
                        flow.cb(on_close))
    result = flow.run(timeout=15)
    assert isinstance(result, exceptions.ConnectionClosedByClient), result
    assert seen['transport'] == '_AsyncSSLTransport'
    assert seen['cipher'] is not None
    assert seen['body'] == body


def test_tls_server_verified(flow, broker_certs):
    _roundtrip(flow, tls_params(broker_certs))


def test_tls_large_message(flow, broker_certs):
    # Several MiB each way: partial TLS writes and multi-record reads.
    _roundtrip(flow, tls_params(broker_certs), bytes(range(256)) * 16384)


def test_tls_with_client_certificate(flow, broker_certs):
    _roundtrip(flow, tls_params(broker_certs, client_cert=True))


def test_tls_external_auth_with_client_certificate(flow, broker_certs):
    _roundtrip(
        flow,
        tls_params(broker_certs,
                   client_cert=True,
                   credentials=ExternalCredentials()))


def test_amqps_url(flow, broker_certs):
    ssl_options = urllib.parse.quote(
        repr({
            'ca_certs': broker_certs['ca'],
            'server_hostname': 'localhost'
        }))
    url = 'amqps://guest:guest@%s:%d/%%2F?ssl_options=%s' % (
        BROKER_HOST, BROKER_TLS_PORT, ssl_options)
    params = URLParameters(url)
    assert params.ssl_options is not None
    _roundtrip(flow, params)


def test_tls_unverifiable_server_fails_open(flow, broker_certs):
    # The default CA bundle does not know the test CA.
    params = ConnectionParameters(BROKER_HOST,
                                  BROKER_TLS_PORT,
                                  ssl_options=SSLOptions(
                                      ssl.create_default_context(),
                                      'localhost'))
    errors = []

    def on_open_error(conn, error):
        errors.append(error)
        flow.finish()

    flow.runner.connect(params, flow.cb(lambda c: c.close()),
                        flow.cb(on_open_error), None)
    flow.run(timeout=15)
    error = errors[0]
    assert isinstance(error, connection_workflow.AMQPConnectionWorkflowFailed)
    last = error.exceptions[-1]
    assert isinstance(last,
                      connection_workflow.AMQPConnectorTransportSetupError)
    assert isinstance(last.exception, ssl.SSLCertVerificationError)


def test_tls_to_plain_port_fails_open(flow, broker_certs):
    params = tls_params(broker_certs, port=BROKER_PORT, stack_timeout=5)
    errors = []

    def on_open_error(conn, error):
        errors.append(error)
        flow.finish()

    flow.runner.connect(params, flow.cb(lambda c: c.close()),
                        flow.cb(on_open_error), None)
    flow.run(timeout=15)
    assert isinstance(errors[0],
                      connection_workflow.AMQPConnectionWorkflowFailed)
    last = errors[0].exceptions[-1]
    assert isinstance(last,
                      connection_workflow.AMQPConnectorTransportSetupError)


def test_tls_mixed_large_and_small_writes(flow, broker_certs):
    """A large body followed by many small publishes in one loop turn: the
    TLS transport coalesces the small ones and sends the large one in
    bounded pieces.
    """
    queue = unique_name('tls-mixed')
    large = bytes(range(256)) * 8192  # 2 MiB
    expected = [large] + [b'small-%d' % i for i in range(300)]
    received = []

    def on_open(conn):
        conn.channel(on_open_callback=flow.cb(lambda ch: on_channel(conn, ch)))

    def on_channel(conn, ch):
        ch.queue_declare(queue,
                         exclusive=True,
                         callback=flow.cb(lambda f: on_declared(conn, ch)))

    def on_declared(conn, ch):
        for body in expected:
            ch.basic_publish('', queue, body)
        ch.basic_consume(queue,
                         flow.cb(lambda *args: on_message(conn, *args)),
                         auto_ack=True)

    def on_message(conn, ch, method, properties, body):
        received.append(body)
        if len(received) == len(expected):
            conn.close()

    flow.runner.connect(tls_params(broker_certs), flow.cb(on_open),
                        flow.cb(lambda c, e: flow.finish(e)),
                        flow.cb(lambda c, e: flow.finish(e)))
    result = flow.run(timeout=20)
    assert isinstance(result, exceptions.ConnectionClosedByClient), result
    assert received == expected
