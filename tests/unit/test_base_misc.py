"""pika.validators, delivery_mode, exchange_type, tcp_socket_opts and
diagnostic_utils."""

import logging
import socket

import pytest

from pika import (delivery_mode, diagnostic_utils, exchange_type,
                  tcp_socket_opts, validators)


def test_require_string():
    validators.require_string('x', 'queue')
    validators.require_string('', 'queue')
    for bad in (b'x', 5, None):
        with pytest.raises(TypeError,
                           match='queue must be a str or unicode str'):
            validators.require_string(bad, 'queue')


def test_require_callback():
    validators.require_callback(print)
    validators.require_callback(lambda: None, 'on_done')
    with pytest.raises(TypeError,
                       match='callback callback must be callable, but got'):
        validators.require_callback(None)
    with pytest.raises(TypeError, match='callback on_x must be callable'):
        validators.require_callback(5, 'on_x')


def test_rpc_completion_callback():
    assert validators.rpc_completion_callback(None) is True
    assert validators.rpc_completion_callback(print) is False
    for bad in (5, 'x'):
        with pytest.raises(TypeError,
                           match='completion callback must be callable'):
            validators.rpc_completion_callback(bad)


@pytest.mark.parametrize('value', [0, 5, '5', 1.5, -0.5])
def test_zero_or_greater_accepts(value):
    validators.zero_or_greater('prefetch_count', value)


def test_zero_or_greater_rejects():
    with pytest.raises(ValueError, match='prefetch_count must be >= 0'):
        validators.zero_or_greater('prefetch_count', -1)
    with pytest.raises(ValueError, match='prefetch_count'):
        validators.zero_or_greater('prefetch_count', 'x')
    with pytest.raises(TypeError, match='prefetch_count'):
        validators.zero_or_greater('prefetch_count', None)


def test_delivery_mode():
    mode = delivery_mode.DeliveryMode
    assert [(m.name, m.value) for m in mode] == [('Transient', 1),
                                                 ('Persistent', 2)]
    assert mode(2) is mode.Persistent


def test_exchange_type():
    kind = exchange_type.ExchangeType
    assert [m.value for m in kind] == ['direct', 'fanout', 'headers', 'topic']
    assert isinstance(kind.topic, str)
    assert kind.direct == 'direct'
    assert kind('fanout') is kind.fanout


class FakeSocket:

    def __init__(self):
        self.options = []

    def setsockopt(self, level, option, value):
        self.options.append((level, option, value))


def test_socket_requires_keepalive():
    assert tcp_socket_opts.socket_requires_keepalive({'TCP_KEEPIDLE': 1})
    assert tcp_socket_opts.socket_requires_keepalive({'TCP_KEEPCNT': 1})
    assert tcp_socket_opts.socket_requires_keepalive({'TCP_KEEPINTVL': 1})
    assert not tcp_socket_opts.socket_requires_keepalive({})
    assert not tcp_socket_opts.socket_requires_keepalive(
        {'TCP_USER_TIMEOUT': 1})


def test_set_sock_opts_nothing_to_do():
    sock = FakeSocket()
    tcp_socket_opts.set_sock_opts(None, sock)
    tcp_socket_opts.set_sock_opts({}, sock)
    assert sock.options == []


def test_set_sock_opts_keepalive_and_unknown(caplog):
    sock = FakeSocket()
    with caplog.at_level(logging.WARNING, logger='pika.tcp_socket_opts'):
        tcp_socket_opts.set_sock_opts(
            {
                'TCP_KEEPIDLE': 60,
                'TCP_KEEPCNT': 3,
                'BOGUS': 1
            }, sock)
    assert sock.options == [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60),
        (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3),
    ]
    assert 'Unsupported TCP option BOGUS:1' in caplog.text


def test_set_sock_opts_on_real_socket():
    if 'TCP_KEEPINTVL' not in tcp_socket_opts._SUPPORTED_TCP_OPTIONS:
        pytest.fail('TCP_KEEPINTVL unsupported here')  # pragma: no cover
    sock = socket.socket()
    try:
        tcp_socket_opts.set_sock_opts({'TCP_KEEPINTVL': 7}, sock)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 7
    finally:
        sock.close()


def test_log_exception_decorator(caplog):
    logger = logging.getLogger('test_base_misc')
    log_exception = diagnostic_utils.create_log_exception_decorator(logger)

    @log_exception
    def double(value):
        """Doubles."""
        return value * 2

    @log_exception
    def boom():
        raise ValueError('bad thing')

    assert double(3) == 6
    assert double.__name__ == 'double'
    assert double.__doc__ == 'Doubles.'
    with caplog.at_level(logging.ERROR, logger='test_base_misc'):
        with pytest.raises(ValueError, match='bad thing'):
            boom()
    assert 'Wrapped func exited with exception' in caplog.text
    assert 'bad thing' in caplog.text
