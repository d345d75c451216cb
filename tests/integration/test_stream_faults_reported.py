"""Transport faults are reported as pika 1.4.4 reports them.

A small threaded TCP proxy in front of the broker cuts the stream at chosen
points; every expectation was first observed on pika 1.4.4 through the same
proxy.
"""

import os
import select
import socket
import threading
import time
import uuid
from typing import Any, Iterator, List, Optional

import pytest

import pika
from pika import exceptions
from pika.adapters import select_connection

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))

EOF_TEXT = "StreamLostError: ('Transport indicated EOF',)"


class _Proxy:
    """Forward one port to the broker; cut the stream on request."""

    def __init__(self,
                 server_bytes: Optional[int] = None,
                 client_bytes: Optional[int] = None) -> None:
        self.server_bytes = server_bytes
        self.client_bytes = client_bytes
        self.cut = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((HOST, PORT))
            threading.Thread(target=self._pump,
                             args=(client, server),
                             daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        counts = {client: 0, server: 0}
        limits = {client: self.client_bytes, server: self.server_bytes}
        try:
            while not self.cut.is_set():
                readable, _, _ = select.select([client, server], [], [], 0.02)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    limit = limits[source]
                    if limit is not None and counts[source] + len(data) > limit:
                        data = data[:limit - counts[source]]
                        self.cut.set()
                    counts[source] += len(data)
                    (server if source is client else client).sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            server.close()

    def close(self) -> None:
        self.cut.set()
        self.listener.close()


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    instance = _Proxy()
    yield instance
    instance.close()


def _params(port: int) -> pika.ConnectionParameters:
    return pika.ConnectionParameters('127.0.0.1',
                                     port,
                                     socket_timeout=2,
                                     stack_timeout=5)


def _async_open(adapter: str, port: int, after_open: Any = None) -> List[Any]:
    """Open through the proxy; return the callbacks' (name, args) log."""
    log: List[Any] = []

    def on_open(conn: Any) -> None:
        log.append(('open', (conn,)))
        channel = conn.channel(
            on_open_callback=lambda ch: after_open(conn, ch, log))
        channel.add_on_close_callback(lambda *args: log.append(
            ('channel_closed', args)))

    def finish(name: str) -> Any:

        def _callback(*args: Any) -> None:
            log.append((name, args))
            conn.ioloop.stop()

        return _callback

    callbacks = dict(on_open_callback=on_open,
                     on_open_error_callback=finish('open_error'),
                     on_close_callback=finish('closed'))
    if adapter == 'asyncio':
        import asyncio
        from pika.adapters.asyncio_connection import AsyncioConnection
        loop = asyncio.new_event_loop()
        conn = AsyncioConnection(_params(port), custom_ioloop=loop, **callbacks)
        loop.call_later(10, loop.stop)
        loop.run_forever()
        loop.close()
    else:
        saved = select_connection.SELECT_TYPE
        select_connection.SELECT_TYPE = adapter
        try:
            conn = pika.SelectConnection(_params(port), **callbacks)
        finally:
            select_connection.SELECT_TYPE = saved
        conn.ioloop.call_later(10, conn.ioloop.stop)
        conn.ioloop.start()
    return log


@pytest.mark.parametrize('adapter', ['select', 'epoll', 'asyncio'])
@pytest.mark.parametrize('server_bytes', [0, 100])
def test_handshake_cut_by_server(adapter: str, server_bytes: int) -> None:
    proxy = _Proxy(server_bytes=server_bytes)
    try:
        log = _async_open(adapter, proxy.port)
    finally:
        proxy.close()
    assert [name for name, _ in log] == ['open_error']
    error = log[0][1][1]
    assert type(error) is exceptions.IncompatibleProtocolError
    assert error.args == (EOF_TEXT,)


@pytest.mark.parametrize('adapter', ['select', 'asyncio'])
def test_handshake_cut_after_client_start_ok(adapter: str) -> None:
    proxy = _Proxy(client_bytes=100)
    try:
        log = _async_open(adapter, proxy.port)
    finally:
        proxy.close()
    error = log[-1][1][1]
    assert type(error) is exceptions.ProbableAuthenticationError
    assert error.args == (EOF_TEXT,)


@pytest.mark.parametrize('adapter', ['select', 'poll', 'asyncio'])
def test_stream_eof_after_open(adapter: str, proxy: _Proxy) -> None:

    def after_open(conn: Any, channel: Any, log: List[Any]) -> None:
        log.append(('channel_open', (channel,)))
        proxy.cut.set()

    log = _async_open(adapter, proxy.port, after_open)
    assert [name for name, _ in log
           ] == ['open', 'channel_open', 'channel_closed', 'closed']
    for name in ('channel_closed', 'closed'):
        error = [args for n, args in log if n == name][0][1]
        assert type(error) is exceptions.StreamLostError
        assert error.args == ('Transport indicated EOF',)


def test_blocking_handshake_faults() -> None:
    for kwargs, expected in ((dict(server_bytes=0),
                              exceptions.IncompatibleProtocolError),
                             (dict(client_bytes=100),
                              exceptions.ProbableAuthenticationError)):
        proxy = _Proxy(**kwargs)
        try:
            with pytest.raises(expected) as info:
                pika.BlockingConnection(_params(proxy.port))
        finally:
            proxy.close()
        assert type(info.value) is expected
        assert info.value.args == (EOF_TEXT,)


def test_blocking_stream_eof(proxy: _Proxy) -> None:
    conn = pika.BlockingConnection(_params(proxy.port))
    channel = conn.channel()
    queue = 'accept-%s' % uuid.uuid4().hex
    channel.queue_declare(queue, auto_delete=True)
    proxy.cut.set()
    time.sleep(0.1)
    with pytest.raises(exceptions.StreamLostError) as info:
        channel.queue_declare(queue, passive=True)
    assert info.value.args == ('Transport indicated EOF',)
    assert (conn.is_open, conn.is_closed) == (False, True)
    assert (channel.is_open, channel.is_closed) == (False, True)
    with pytest.raises(exceptions.ConnectionWrongStateError) as closed:
        conn.close()
    assert closed.value.args == (
        "BlockingConnection.close(200, 'Normal shutdown') called on closed "
        "connection.",)
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.channel()


def test_blocking_consume_generator_stream_eof(proxy: _Proxy) -> None:
    conn = pika.BlockingConnection(_params(proxy.port))
    channel = conn.channel()
    queue = 'accept-%s' % uuid.uuid4().hex
    channel.queue_declare(queue, auto_delete=True)
    proxy.cut.set()
    time.sleep(0.1)
    with pytest.raises(exceptions.StreamLostError) as info:
        for _ in channel.consume(queue, inactivity_timeout=0.2):
            pass
    assert info.value.args == ('Transport indicated EOF',)
    assert conn.is_closed and channel.is_closed
