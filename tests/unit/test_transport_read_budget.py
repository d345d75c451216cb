"""The plain stream transport's read budget per readiness event (no sockets:
a scripted socket object): reads stop after ``_MAX_READ_PER_EVENT`` bytes so
the loop gets control back (fairness, and a blocking consumer holding about
one large body at a time), and every byte still arrives, in order.
"""

from typing import Any, List

from pika.adapters.utils import io_services_utils


class _ScriptedSocket:
    """recv() returns what is left of ``data``, at most ``size`` bytes;
    BlockingIOError once it is empty (the socket is drained)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.recv_sizes: List[int] = []

    def fileno(self) -> int:
        return 99

    def recv(self, size: int) -> bytes:
        if not self.data:
            raise BlockingIOError()
        chunk, self.data = self.data[:size], self.data[size:]
        self.recv_sizes.append(len(chunk))
        return chunk


class _Services:

    def _call_soon(self, callback: Any) -> None:
        raise AssertionError('nothing is written in these tests')


class _Protocol:

    def __init__(self) -> None:
        self.chunks: List[bytes] = []

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)


def _transport(data: bytes) -> Any:
    sock = _ScriptedSocket(data)
    protocol = _Protocol()
    transport = io_services_utils._AsyncPlaintextTransport(
        sock, protocol, _Services())
    return transport, sock, protocol


def test_budget_is_512_kib() -> None:
    budget = io_services_utils._MAX_READ_PER_EVENT
    assert budget == 512 * 1024
    assert budget % io_services_utils._RECV_SIZE == 0


def test_one_event_reads_at_most_the_budget_then_the_rest_follows() -> None:
    budget = io_services_utils._MAX_READ_PER_EVENT
    data = bytes(range(256)) * (3 * budget // 256 + 100)
    transport, sock, protocol = _transport(data)
    transport._on_readable()
    assert sum(map(len, protocol.chunks)) == budget
    assert sock.recv_sizes == [io_services_utils._RECV_SIZE
                              ] * (budget // io_services_utils._RECV_SIZE)
    events = 1
    while sock.data:
        before = sum(map(len, protocol.chunks))
        transport._on_readable()
        assert sum(map(len, protocol.chunks)) - before <= budget
        events += 1
    assert events == 4
    assert b''.join(protocol.chunks) == data


def test_short_read_ends_the_event() -> None:
    transport, sock, protocol = _transport(b'x' * 1000)
    transport._on_readable()
    assert protocol.chunks == [b'x' * 1000]
    assert sock.recv_sizes == [1000]
