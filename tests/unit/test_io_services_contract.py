"""The I/O services contract of :mod:`pika.adapters.utils.nbio_interface`, as
pika 1.4 honours it, checked on each of our implementations: the select
``IOLoop``, asyncio, Tornado and gevent services.

``connect_socket`` and ``create_streaming_connection`` run against a local
TCP server on 127.0.0.1 owned by the test (no broker); the stream protocol is
the test's own :class:`AbstractStreamProtocol`, which records every call.
"""

import asyncio
import errno
import socket
import time
from typing import Any, Callable, List

import pytest

from pika.adapters import gevent_connection
from pika.adapters.asyncio_connection import _AsyncioIOServicesAdapter
from pika.adapters.select_connection import IOLoop
from pika.adapters.utils import nbio_interface
from pika.adapters.utils.selector_ioloop_adapter import \
    SelectorIOServicesAdapter

# Upper bound of any wait below; only reached when the behaviour is wrong.
TIMEOUT = 10.0
# How long the loop runs to show that something does NOT happen.
QUIET_PERIOD = 0.3


def _make_services(kind: str) -> Any:
    if kind == 'select':
        return SelectorIOServicesAdapter(IOLoop())
    if kind == 'asyncio':
        return _AsyncioIOServicesAdapter(asyncio.new_event_loop())
    if kind == 'tornado':
        from tornado import ioloop
        return SelectorIOServicesAdapter(ioloop.IOLoop(make_current=False))
    return gevent_connection._GeventSelectorIOServicesAdapter(
        gevent_connection._GeventSelectorIOLoop())


@pytest.fixture(params=['select', 'asyncio', 'tornado', 'gevent'])
def nbio(request):
    services = _make_services(request.param)
    yield services
    services.close()


@pytest.fixture
def server():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(8)
    yield listener
    listener.close()


def run_for(nbio: Any, seconds: float) -> None:
    """Run the loop for ``seconds``."""
    nbio.call_later(seconds, nbio.stop)
    nbio.run()


def run_until(nbio: Any, predicate: Callable[[], bool]) -> None:
    """Run the loop until ``predicate()`` holds; fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT

    def check() -> None:
        if predicate() or time.monotonic() > deadline:
            nbio.stop()
        else:
            nbio.call_later(0.01, check)

    nbio.call_later(0, check)
    nbio.run()
    assert predicate(), 'condition not reached within {} s'.format(TIMEOUT)


class RecordingProtocol(nbio_interface.AbstractStreamProtocol):
    """Records each protocol call; can return a chosen value from
    ``eof_received`` or raise from ``data_received``/``eof_received``.
    """

    def __init__(self, eof_result: Any = False, raise_in: str = '') -> None:
        self.calls: List[str] = []
        self.received = bytearray()
        self.lost: List[Any] = []
        self.transport: Any = None
        self.eof_result = eof_result
        self.raise_in = raise_in
        self.raised: List[BaseException] = []

    def connection_made(self, transport: Any) -> None:
        self.calls.append('connection_made')
        self.transport = transport

    def connection_lost(self, error: Any) -> None:
        self.calls.append('connection_lost')
        self.lost.append(error)

    def eof_received(self) -> Any:
        self.calls.append('eof_received')
        if self.raise_in == 'eof_received':
            self.raised.append(RuntimeError('raised by eof_received'))
            raise self.raised[-1]
        return self.eof_result

    def data_received(self, data: bytes) -> None:
        self.calls.append('data_received')
        self.received += data
        if self.raise_in == 'data_received':
            self.raised.append(RuntimeError('raised by data_received'))
            raise self.raised[-1]


def connected_socket(nbio: Any, server: socket.socket) -> Any:
    """Return ``(client socket, server-side peer socket)``."""
    sock = socket.socket()
    sock.setblocking(False)
    results: List[Any] = []
    nbio.connect_socket(sock, server.getsockname(), results.append)
    run_until(nbio, lambda: bool(results))
    assert results == [None]
    peer, _ = server.accept()
    peer.settimeout(TIMEOUT)
    return sock, peer


def open_stream(nbio: Any, server: socket.socket,
                protocol: RecordingProtocol) -> Any:
    """Return ``(client socket, peer socket, transport)`` of a stream
    linked to ``protocol``.
    """
    sock, peer = connected_socket(nbio, server)
    results: List[Any] = []
    nbio.create_streaming_connection(lambda: protocol, sock, results.append)
    run_until(nbio, lambda: bool(results))
    transport, linked = results[0]
    assert linked is protocol and protocol.transport is transport
    return sock, peer, transport


def server_has_pending_connection(server: socket.socket) -> bool:
    server.setblocking(False)
    try:
        peer, _ = server.accept()
    except BlockingIOError:
        return False
    finally:
        server.setblocking(True)
    peer.close()
    return True


# -- connect_socket -------------------------------------------------------


def test_connect_cancelled_while_pending_never_connects(nbio, server):
    sock = socket.socket()
    sock.setblocking(False)
    results: List[Any] = []
    ref = nbio.connect_socket(sock, server.getsockname(), results.append)
    assert ref.cancel() is True
    assert ref.cancel() is False
    run_for(nbio, QUIET_PERIOD)
    assert results == []
    with pytest.raises(OSError) as caught:
        sock.getpeername()
    assert caught.value.errno == errno.ENOTCONN
    assert not server_has_pending_connection(server)
    sock.close()


def test_connect_cancel_after_completion_returns_false(nbio, server):
    sock = socket.socket()
    sock.setblocking(False)
    results: List[Any] = []
    ref = nbio.connect_socket(sock, server.getsockname(), results.append)
    run_until(nbio, lambda: bool(results))
    assert results == [None]
    assert ref.cancel() is False
    assert sock.getpeername() == server.getsockname()
    run_for(nbio, QUIET_PERIOD)
    assert results == [None]
    sock.close()


def test_connect_refused_reports_the_socket_error(nbio):
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    address = closed.getsockname()
    closed.close()
    sock = socket.socket()
    sock.setblocking(False)
    results: List[Any] = []
    ref = nbio.connect_socket(sock, address, results.append)
    run_until(nbio, lambda: bool(results))
    assert len(results) == 1
    assert type(results[0]) is ConnectionRefusedError
    assert results[0].args == (errno.ECONNREFUSED, 'Connection refused')
    assert ref.cancel() is False
    sock.close()


# -- create_streaming_connection -----------------------------------------


def test_streaming_connection_refuses_unconnected_socket_at_once(nbio):
    sock = socket.socket()
    sock.setblocking(False)
    description = str(sock)
    results: List[Any] = []
    with pytest.raises(ValueError) as caught:
        nbio.create_streaming_connection(RecordingProtocol, sock,
                                         results.append)
    assert str(caught.value) == (
        'Expected connected socket, but getpeername() failed: '
        "error=OSError({}, 'Transport endpoint is not connected'); {}; ".format(
            errno.ENOTCONN, description))
    # The call took the socket over, and closed it on failure.
    assert sock.fileno() == -1
    run_for(nbio, QUIET_PERIOD)
    assert results == []


# -- eof_received ----------------------------------------------------------


@pytest.mark.parametrize('eof_result', [False, None, 0, ''])
def test_false_eof_result_closes_and_reports_none(nbio, server, eof_result):
    protocol = RecordingProtocol(eof_result=eof_result)
    sock, peer, _ = open_stream(nbio, server, protocol)
    peer.sendall(b'hello')
    peer.shutdown(socket.SHUT_WR)
    run_until(nbio, lambda: bool(protocol.lost))
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls == [
        'connection_made', 'data_received', 'eof_received', 'connection_lost'
    ]
    assert bytes(protocol.received) == b'hello'
    assert protocol.lost == [None]
    assert sock.fileno() == -1
    assert peer.recv(10) == b''  # our side closed too
    peer.close()


def test_true_eof_result_keeps_writing_until_the_send_fails(nbio, server):
    protocol = RecordingProtocol(eof_result=True)
    sock, peer, transport = open_stream(nbio, server, protocol)
    peer.sendall(b'hello')
    peer.shutdown(socket.SHUT_WR)
    run_until(nbio, lambda: 'eof_received' in protocol.calls)
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls == [
        'connection_made', 'data_received', 'eof_received'
    ]
    assert sock.fileno() != -1  # left open: the writer side goes on
    transport.write(b'still writing')
    run_until(nbio, lambda: transport.get_write_buffer_size() == 0)
    received = b''
    while len(received) < len(b'still writing'):
        received += peer.recv(100)
    assert received == b'still writing'

    peer.close()
    # The first send after the close draws a reset; a later one fails.
    for _ in range(20):
        if protocol.lost:
            break
        transport.write(b'x' * 1000)
        run_for(nbio, 0.05)
    run_until(nbio, lambda: bool(protocol.lost))
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls == [
        'connection_made', 'data_received', 'eof_received', 'connection_lost'
    ]
    error = protocol.lost[0]
    assert isinstance(error, OSError)
    assert error.errno in (errno.EPIPE, errno.ECONNRESET)
    assert error.args[0] == error.errno
    assert sock.fileno() == -1


def test_abort_after_true_eof_result_reports_none_once(nbio, server):
    protocol = RecordingProtocol(eof_result=True)
    sock, peer, transport = open_stream(nbio, server, protocol)
    peer.shutdown(socket.SHUT_WR)
    run_until(nbio, lambda: 'eof_received' in protocol.calls)
    transport.abort()
    run_until(nbio, lambda: bool(protocol.lost))
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls == [
        'connection_made', 'eof_received', 'connection_lost'
    ]
    assert protocol.lost == [None]
    assert sock.fileno() == -1
    peer.close()


# -- exceptions raised by the protocol ------------------------------------


def test_data_received_exception_aborts_the_stream_once(nbio, server):
    protocol = RecordingProtocol(raise_in='data_received')
    sock, peer, transport = open_stream(nbio, server, protocol)
    peer.sendall(b'abc')
    run_until(nbio, lambda: bool(protocol.lost))
    try:
        peer.sendall(b'def')  # not read: the stream is gone
    except OSError:
        pass
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls == [
        'connection_made', 'data_received', 'connection_lost'
    ]
    assert len(protocol.raised) == 1
    assert protocol.lost[0] is protocol.raised[0]
    assert sock.fileno() == -1
    assert peer.recv(10) == b''
    transport.write(b'ignored after the abort')
    transport.abort()
    run_for(nbio, QUIET_PERIOD)
    assert protocol.calls.count('connection_lost') == 1
    peer.close()


def test_eof_received_exception_aborts_once_and_loop_stays_idle(nbio, server):
    protocol = RecordingProtocol(raise_in='eof_received')
    sock, peer, _ = open_stream(nbio, server, protocol)
    peer.sendall(b'abc')
    peer.close()
    run_until(nbio, lambda: bool(protocol.lost))
    # A readable EOF left watched would call eof_received on every turn.
    run_for(nbio, QUIET_PERIOD * 2)
    assert protocol.calls == [
        'connection_made', 'data_received', 'eof_received', 'connection_lost'
    ]
    assert len(protocol.raised) == 1
    assert protocol.lost[0] is protocol.raised[0]
    assert sock.fileno() == -1
