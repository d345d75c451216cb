"""BlockingConnection over TLS (the broker's AMQPS listener), with PLAIN and
with EXTERNAL (client certificate) authentication."""

import ssl
from typing import Dict

import pytest

import pika
from pika.adapters.blocking_connection import BlockingConnection
from pika.credentials import ExternalCredentials


def _context(certs: Dict[str, str], client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs['ca'])
    if client_cert:
        context.load_cert_chain(certs['client_cert'], certs['client_key'])
    return context


def _round_trip(conn: BlockingConnection) -> None:
    channel = conn.channel()
    channel.confirm_delivery()
    queue = channel.queue_declare('', exclusive=True).method.queue
    body = bytes(range(256)) * 1024  # several TLS records
    channel.basic_publish('', queue, body)
    for method, _, received in channel.consume(queue,
                                               auto_ack=True,
                                               inactivity_timeout=5):
        assert method is not None and received == body
        break
    channel.cancel()


@pytest.mark.tls
def test_tls_with_plain_credentials(broker_host, broker_tls_port, broker_certs):
    params = pika.ConnectionParameters(host=broker_host,
                                       port=broker_tls_port,
                                       ssl_options=pika.SSLOptions(
                                           _context(broker_certs, False),
                                           'localhost'))
    with BlockingConnection(params) as conn:
        assert conn._impl.params.ssl_options is not None
        _round_trip(conn)
    assert conn.is_closed


@pytest.mark.tls
def test_tls_with_external_credentials(broker_host, broker_tls_port,
                                       broker_certs):
    params = pika.ConnectionParameters(host=broker_host,
                                       port=broker_tls_port,
                                       credentials=ExternalCredentials(),
                                       ssl_options=pika.SSLOptions(
                                           _context(broker_certs, True),
                                           'localhost'))
    with BlockingConnection(params) as conn:
        _round_trip(conn)
