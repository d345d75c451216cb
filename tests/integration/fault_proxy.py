"""A scriptable loopback TCP proxy for fault tests.

``ScriptedFaultProxy(target)`` listens on 127.0.0.1 (a free port) and
forwards every accepted connection to ``target``. The test then scripts the
link:

* :meth:`reset` - close every proxied connection with a TCP RST (SO_LINGER 0)
  towards the client, as a crashed peer or a middlebox would;
* :meth:`stall` / :meth:`resume` - stop forwarding in both directions, the
  sockets stay open (a silent peer: only heartbeats can tell);
* :meth:`half_open` - the broker side is gone without a FIN: the client's
  bytes are read and thrown away, nothing comes back;
* :meth:`slow` - forward at most ``bytes_per_second`` (None: full speed);
* :meth:`drop_after` - forward ``count`` more bytes towards the client, then
  reset;
* :meth:`inject` - send bytes to the clients as if from the broker.

``retarget(target)`` makes new connections go elsewhere (e.g. another
cluster node) and ``refuse(True)`` makes new connections fail at once.
Only 127.0.0.0/8 addresses are used.
"""

import select
import socket
import struct
import threading
import time
from typing import List, Optional, Tuple


class _Link:

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = False
        self.stalled = False


class ScriptedFaultProxy:
    """See the module docstring.

    :param target: ``(host, port)`` to forward to (127.0.0.0/8)
    """

    def __init__(self, target: Tuple[str, int]) -> None:
        assert target[0].startswith('127.'), target
        self._target = target
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(32)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: List[_Link] = []
        self._stop = threading.Event()
        self._stalled = False
        self._half_open = False
        self._refuse = False
        self._rate: Optional[float] = None
        self._drop_after: Optional[int] = None
        #: connections accepted so far
        self.accepted = 0
        self._threads: List[threading.Thread] = []
        self._spawn(self._accept_loop)

    # -- script ---------------------------------------------------------------

    def reset(self) -> None:
        """RST every proxied connection (both sides)."""
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            self._abort(link)

    def stall(self, existing_only: bool = False) -> None:
        """Stop forwarding; keep the sockets open. With ``existing_only``,
        only the connections open now go silent (a dead peer); new ones
        flow."""
        if existing_only:
            with self._lock:
                for link in self._links:
                    link.stalled = True
        else:
            self._stalled = True

    def resume(self) -> None:
        """Forward again after :meth:`stall` / :meth:`half_open` /
        :meth:`slow`."""
        self._stalled = False
        self._half_open = False
        self._rate = None
        with self._lock:
            for link in self._links:
                link.stalled = False

    def half_open(self) -> None:
        """Swallow what the client sends, send it nothing."""
        self._half_open = True

    def slow(self, bytes_per_second: Optional[float]) -> None:
        """Limit the forwarding rate of each direction."""
        self._rate = bytes_per_second

    def drop_after(self, count: int) -> None:
        """Forward ``count`` more bytes towards the clients, then reset."""
        self._drop_after = count

    def inject(self, data: bytes) -> None:
        """Send ``data`` to every client as if the broker had sent it."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.client.sendall(data)

    def refuse(self, refuse: bool) -> None:
        """Close new connections at once (the node looks down)."""
        self._refuse = refuse

    def retarget(self, target: Tuple[str, int]) -> None:
        """Send new connections to ``target``."""
        assert target[0].startswith('127.'), target
        self._target = target

    @property
    def active(self) -> int:
        """Number of proxied connections open now."""
        with self._lock:
            return len(self._links)

    def close(self) -> None:
        """Stop the proxy and drop every connection."""
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self.reset()
        for thread in self._threads:
            thread.join(2)

    # -- machinery ------------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if self._refuse:
                _rst(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _rst(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            # A transparent proxy adds no latency of its own: without this,
            # a client writing a publish in several pieces (pika 1.4 writes
            # method, header and body frames separately) meets Nagle plus
            # delayed ACK on the forwarded side, some 40 ms per message.
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
            self._spawn(self._pump, link)

    def _abort(self, link: _Link) -> None:
        if link.closed:
            return
        link.closed = True
        _rst(link.client)
        _rst(link.upstream)

    def _pump(self, link: _Link) -> None:
        socks = [link.client, link.upstream]
        try:
            while not (self._stop.is_set() or link.closed):
                try:
                    readable, _, _ = select.select(socks, [], [], 0.02)
                except (OSError, ValueError):
                    return
                if self._stalled or link.stalled:
                    continue
                for sock in readable:
                    # A slow link moves small chunks, so that one direction
                    # waiting out its rate does not hold up the other long.
                    rate = self._rate
                    data = sock.recv(max(1, int(rate / 20)) if rate else 65536)
                    if not data:
                        return
                    if self._half_open:
                        continue  # swallowed both ways
                    towards_client = sock is link.upstream
                    peer = link.client if towards_client else link.upstream
                    if towards_client and self._drop_after is not None:
                        allowed = self._drop_after
                        if len(data) >= allowed:
                            self._drop_after = None
                            if allowed:
                                peer.sendall(data[:allowed])
                            self._abort(link)
                            return
                        self._drop_after = allowed - len(data)
                    if self._rate:
                        time.sleep(len(data) / self._rate)
                    peer.sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                if link in self._links:
                    self._links.remove(link)
            self._abort(link)


def _rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack('ii', 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
