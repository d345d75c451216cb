"""Unit tests of the stream transports and socket connector (local sockets,
no broker), run over the selector adapter and the asyncio adapter.
"""

import asyncio
import socket
import threading
import time

import pytest

from pika.adapters.asyncio_connection import _AsyncioIOServicesAdapter
from pika.adapters.select_connection import IOLoop
from pika.adapters.utils import io_services_utils, nbio_interface
from pika.adapters.utils.selector_ioloop_adapter import \
    SelectorIOServicesAdapter
from pika.exceptions import StreamLostError


class _Services:
    """Wraps an nbio with run/stop helpers for the tests."""

    def __init__(self, kind):
        if kind == 'select':
            self.nbio = SelectorIOServicesAdapter(IOLoop())
        else:
            self.nbio = _AsyncioIOServicesAdapter(asyncio.new_event_loop())
        self.timed_out = False

    def run(self, timeout=3.0):

        def expire():
            self.timed_out = True
            self.nbio.stop()

        guard = self.nbio.call_later(timeout, expire)
        self.nbio.run()
        guard.cancel()
        assert not self.timed_out, 'loop timed out'

    def close(self):
        self.nbio.close()


@pytest.fixture(params=['select', 'asyncio'])
def services(request):
    svc = _Services(request.param)
    yield svc
    svc.close()


class _Protocol(nbio_interface.AbstractStreamProtocol):

    def __init__(self, services, stop_after=None):
        self.services = services
        self.transport = None
        self.data = bytearray()
        self.lost = []
        self.eof = 0
        self.stop_after = stop_after

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, error):
        self.lost.append(error)
        self.services.nbio.stop()

    def eof_received(self):
        self.eof += 1
        return False

    def data_received(self, data):
        self.data += data
        if self.stop_after is not None and len(self.data) >= self.stop_after:
            self.services.nbio.stop()


def _listener():
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(5)
    return server, server.getsockname()


def _connect(services, addr):
    sock = socket.socket()
    sock.setblocking(False)
    results = []

    def on_done(result):
        results.append(result)
        services.nbio.stop()

    services.nbio.connect_socket(sock, addr, on_done)
    services.run()
    return sock, results[0]


def _stream(services, sock, protocol):
    results = []

    def on_done(result):
        results.append(result)
        services.nbio.stop()

    services.nbio.create_streaming_connection(lambda: protocol, sock, on_done)
    services.run()
    return results[0]


def test_connect_socket_refused(services):
    server, addr = _listener()
    server.close()
    sock, result = _connect(services, addr)
    assert isinstance(result, ConnectionRefusedError)
    assert result.errno == 111
    sock.close()


def test_connect_socket_cancel(services):
    server, addr = _listener()
    sock = socket.socket()
    sock.setblocking(False)
    calls = []
    ref = services.nbio.connect_socket(sock, addr, calls.append)
    assert ref.cancel() is True
    assert ref.cancel() is False
    services.nbio.call_later(0.05, services.nbio.stop)
    services.run()
    assert calls == []
    sock.close()
    server.close()


def test_stream_roundtrip_coalesced_writes_and_eof(services):
    server, addr = _listener()
    sock, result = _connect(services, addr)
    assert result is None
    peer, _ = server.accept()
    protocol = _Protocol(services, stop_after=5)
    transport, proto = _stream(services, sock, protocol)
    assert proto is protocol and protocol.transport is transport
    assert transport.get_protocol() is protocol

    # Many small writes in one turn: buffered, then sent together.
    for index in range(1000):
        transport.write(b'%04d' % index)
    assert transport.get_write_buffer_size() == 4000
    services.nbio.call_later(0.05, services.nbio.stop)
    services.run()
    assert transport.get_write_buffer_size() == 0
    peer.settimeout(2)
    received = b''
    while len(received) < 4000:
        received += peer.recv(65536)
    assert received == b''.join(b'%04d' % i for i in range(1000))

    peer.sendall(b'hello')
    services.run()
    assert bytes(protocol.data) == b'hello'

    peer.close()
    services.run()
    assert protocol.eof == 1
    # eof_received() returned False: the transport closed itself (pika 1.4).
    assert protocol.lost == [None]
    server.close()


def test_large_write_and_read_under_backpressure(services):
    server, addr = _listener()
    sock, _ = _connect(services, addr)
    peer, _ = server.accept()
    protocol = _Protocol(services, stop_after=8 * 1024 * 1024)
    transport, _ = _stream(services, sock, protocol)
    payload = bytes(range(256)) * (8 * 4096)  # 8 MiB
    received = []

    def drain():
        peer.settimeout(5)
        got = 0
        while got < len(payload):
            chunk = peer.recv(1 << 20)
            received.append(chunk)
            got += len(chunk)
        peer.sendall(payload)

    thread = threading.Thread(target=drain)
    thread.start()
    transport.write(payload[:1000])
    transport.write(memoryview(payload)[1000:])
    services.run(timeout=10)
    thread.join(5)
    assert b''.join(received) == payload
    assert bytes(protocol.data) == payload
    transport.abort()
    peer.close()
    server.close()


def test_abort_reports_connection_lost_none_async(services):
    server, addr = _listener()
    sock, _ = _connect(services, addr)
    peer, _ = server.accept()
    protocol = _Protocol(services)
    transport, _ = _stream(services, sock, protocol)
    transport.write(b'bye')
    transport.abort()
    assert protocol.lost == []  # asynchronous
    transport.abort()  # idempotent
    transport.write(b'ignored')
    services.run()
    assert protocol.lost == [None]
    peer.settimeout(2)
    assert peer.recv(10) == b'bye'  # best-effort flush before close
    peer.close()
    server.close()


def test_reset_by_peer_reports_error(services):
    server, addr = _listener()
    sock, _ = _connect(services, addr)
    peer, _ = server.accept()
    protocol = _Protocol(services)
    _stream(services, sock, protocol)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    b'\x01\x00\x00\x00\x00\x00\x00\x00')
    peer.close()
    services.run()
    assert len(protocol.lost) == 1
    error = protocol.lost[0]
    assert isinstance(error, (ConnectionResetError, StreamLostError))
    server.close()


def test_tls_handshake_failure_reported(services):
    import ssl
    server, addr = _listener()
    sock, _ = _connect(services, addr)
    peer, _ = server.accept()
    peer.sendall(b'HTTP/1.1 400 Bad Request\r\n\r\n')
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    results = []

    def on_done(result):
        results.append(result)
        services.nbio.stop()

    services.nbio.create_streaming_connection(lambda: _Protocol(services), sock,
                                              on_done, context)
    services.run()
    assert isinstance(results[0], ssl.SSLError)
    peer.close()
    server.close()


def test_streaming_connection_argument_checks(services):
    sock = socket.socket()
    with pytest.raises(TypeError):
        services.nbio.create_streaming_connection(None, sock, lambda r: None)
    with pytest.raises(TypeError):
        services.nbio.create_streaming_connection(lambda: None, 'x',
                                                  lambda r: None)
    with pytest.raises(ValueError):
        services.nbio.create_streaming_connection(lambda: None,
                                                  sock,
                                                  lambda r: None,
                                                  server_hostname='h')
    with pytest.raises(TypeError):
        services.nbio.set_reader('fd', lambda: None)
    with pytest.raises(TypeError):
        services.nbio.set_writer(sock.fileno(), 'nope')
    sock.close()


def test_check_helpers():
    io_services_utils.check_callback_arg(len, 'cb')
    with pytest.raises(TypeError, match='cb'):
        io_services_utils.check_callback_arg(1, 'cb')
    io_services_utils.check_fd_arg(3)
    with pytest.raises(TypeError):
        io_services_utils.check_fd_arg('3')


def test_getaddrinfo_and_cancel(services):
    results = []

    def on_done(result):
        results.append(result)
        services.nbio.stop()

    services.nbio.getaddrinfo('127.0.0.1',
                              5672,
                              on_done,
                              socktype=socket.SOCK_STREAM)
    services.run()
    assert results[0][0][4] == ('127.0.0.1', 5672)

    results.clear()
    services.nbio.getaddrinfo('name.invalid', 5672, on_done)
    services.run(timeout=10)
    assert isinstance(results[0], socket.gaierror)

    results.clear()
    ref = services.nbio.getaddrinfo('127.0.0.1', 1, results.append)
    assert ref.cancel() is True
    services.nbio.call_later(0.1, services.nbio.stop)
    services.run()
    assert results == []


def test_timer_and_threadsafe_callback(services):
    fired = []
    services.nbio.call_later(0.01, lambda: fired.append('t'))
    cancelled = services.nbio.call_later(0.01, lambda: fired.append('x'))
    cancelled.cancel()
    cancelled.cancel()

    def other_thread():
        time.sleep(0.03)
        services.nbio.add_callback_threadsafe(
            lambda: (fired.append('th'), services.nbio.stop()))

    threading.Thread(target=other_thread).start()
    services.run()
    assert fired == ['t', 'th']
