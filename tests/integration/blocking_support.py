"""Helpers for the BlockingConnection integration tests.

:class:`FaultProxy` sits between a client and the broker so a test can cut
the stream, freeze it (to starve heartbeats) or inject frames the broker
would only send under conditions a test cannot cause (Connection.Blocked).
"""

import os
import select
import socket
import threading
import uuid
from typing import List, Optional, Tuple

import pika
from pika import frame, spec
from pika.adapters.blocking_connection import BlockingConnection

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def params(**kwargs) -> pika.ConnectionParameters:
    """Connection parameters for the test broker."""
    kwargs.setdefault('host', HOST)
    kwargs.setdefault('port', PORT)
    return pika.ConnectionParameters(**kwargs)


def connect(**kwargs) -> BlockingConnection:
    """A BlockingConnection to the test broker."""
    return BlockingConnection(params(**kwargs))


def unique(prefix: str = 'blocking-test') -> str:
    """A queue or exchange name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex)


def open_fds() -> int:
    """Number of file descriptors this process has open."""
    return len(os.listdir('/proc/self/fd'))


def connection_block_frame(reason: str = 'test') -> bytes:
    """Bytes of a Connection.Blocked frame."""
    return frame.Method(0, spec.Connection.Blocked(reason)).marshal()


def connection_unblock_frame() -> bytes:
    """Bytes of a Connection.Unblocked frame."""
    return frame.Method(0, spec.Connection.Unblocked()).marshal()


class FaultProxy:
    """A TCP proxy to the broker, one thread per proxied connection.

    ``freeze()`` stops forwarding in both directions (bytes stay queued in
    the kernel), ``kill()`` closes every proxied socket, ``inject(data)``
    sends bytes to the clients as if the broker had sent them.
    """

    def __init__(self, target: Tuple[str, int] = (HOST, PORT)) -> None:
        self._target = target
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(16)
        # accept() is not interrupted by close(); poll for the stop flag
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._frozen = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._pairs: List[Tuple[socket.socket, socket.socket]] = []
        #: every byte the clients sent toward the broker, in order
        self.upstream_bytes = bytearray()
        self._threads: List[threading.Thread] = []
        self._start(self._accept_loop)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def params(self, **kwargs) -> pika.ConnectionParameters:
        """Parameters that connect through this proxy."""
        kwargs.setdefault('host', '127.0.0.1')
        return params(port=self.port, **kwargs)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            self._start(self._pump, client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        socks = [client, upstream]
        try:
            while not self._stopped.is_set():
                try:
                    readable, _, _ = select.select(socks, [], [], 0.05)
                except (OSError, ValueError):
                    return
                if self._frozen.is_set():
                    continue
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peer = upstream if sock is client else client
                    peer.sendall(data)
                    if sock is client:
                        with self._lock:
                            self.upstream_bytes += data
        except OSError:
            return
        finally:
            for sock in socks:
                _close_quietly(sock)

    def freeze(self) -> None:
        """Stop forwarding."""
        self._frozen.set()

    def thaw(self) -> None:
        """Resume forwarding."""
        self._frozen.clear()

    def inject(self, data: bytes) -> None:
        """Send ``data`` to every proxied client."""
        with self._lock:
            pairs = list(self._pairs)
        for client, _ in pairs:
            client.sendall(data)

    def kill(self) -> None:
        """Close every proxied connection (the client sees EOF)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                _close_quietly(sock)

    def close(self, timeout: Optional[float] = 2.0) -> None:
        """Stop the proxy and its threads."""
        self._stopped.set()
        _close_quietly(self._listener)
        self.kill()
        for thread in self._threads:
            thread.join(timeout)


def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
