"""Connection failures reach users with a message that says what to check.

Against the real broker (and a closed port on 127.0.0.1), for the blocking
and the callback adapters: the class, ``args`` and ``repr`` are pika 1.4's;
``str()`` is never empty.
"""

import socket

import pika
import pytest
from pika import exceptions

from async_harness import BROKER_HOST, BROKER_PORT, closed_port


def _params(**kwargs):
    kwargs.setdefault('host', BROKER_HOST)
    kwargs.setdefault('port', BROKER_PORT)
    kwargs.setdefault('connection_attempts', 1)
    return pika.ConnectionParameters(**kwargs)


def test_refused_blocking_connection_names_tcp_and_what_to_check():
    port = closed_port()
    with pytest.raises(exceptions.AMQPConnectionError) as info:
        pika.BlockingConnection(_params(port=port))
    assert type(info.value) is exceptions.AMQPConnectionError
    assert repr(info.value).startswith(
        'AMQPConnectionError: (AMQPConnectorSocketConnectError: '
        'ConnectionRefusedError(')
    text = str(info.value)
    assert 'Could not open a TCP connection' in text
    assert 'host and port' in text
    # the address it tried, as the resolver gave it
    assert ' port %d: ConnectionRefusedError(' % port in text, text


def test_refused_select_connection_reports_a_message_to_the_callback():
    errors = []

    def on_error(connection, error):
        errors.append(error)
        connection.ioloop.stop()

    port = closed_port()
    conn = pika.SelectConnection(_params(port=port),
                                 on_open_error_callback=on_error)
    conn.ioloop.call_later(10, conn.ioloop.stop)
    conn.ioloop.start()
    assert len(errors) == 1
    assert isinstance(errors[0], exceptions.AMQPConnectionError)
    assert 'TCP connection' in str(errors[0])
    assert ' port %d: ' % port in str(errors[0])


def test_bad_password_and_bad_vhost_keep_the_brokers_words():
    credentials = pika.PlainCredentials('guest', 'not-the-password')
    with pytest.raises(exceptions.ProbableAuthenticationError) as info:
        pika.BlockingConnection(_params(credentials=credentials))
    assert 'ACCESS_REFUSED' in str(info.value)
    with pytest.raises(exceptions.ProbableAccessDeniedError) as info:
        pika.BlockingConnection(_params(virtual_host='no-such-vhost-here'))
    assert 'NOT_ALLOWED' in str(info.value)


def test_unresolvable_host_names_the_host_to_the_open_error_callback():
    errors = []

    def on_error(connection, error):
        errors.append(error)
        connection.ioloop.stop()

    conn = pika.SelectConnection(_params(host='nonexistent.invalid'),
                                 on_open_error_callback=on_error)
    conn.ioloop.call_later(10, conn.ioloop.stop)
    conn.ioloop.start()
    assert len(errors) == 1
    text = str(errors[0])
    assert ("could not resolve the host name 'nonexistent.invalid'"
            in text), (text)
    assert 'check the host' in text
    # args and repr as pika 1.4 has them: the resolver's own error
    assert isinstance(errors[0].exceptions[-1], socket.gaierror)
