"""Malformed bytes from a fake broker over real sockets, on every adapter.

A scripted server on 127.0.0.1 completes the AMQP handshake (or not) and
then sends bytes that break the protocol, keeping the socket open so the
client must notice by itself. On every asynchronous adapter (SelectConnection
with each poller, asyncio, Tornado, gevent) and on BlockingConnection the
documented exception must arrive within 5 s, and the event loop must still
run timers afterwards.
"""

import socket
import struct
import threading
import time
from typing import Any, List, Optional

import pytest

import pika
from pika import exceptions, frame, spec
from async_harness import AdapterRunner

DEADLINE = 5.0

_START = frame.Method(
    0,
    spec.Connection.Start(server_properties={
        'product': 'fake',
        'capabilities': {
            'publisher_confirms': True
        }
    },
                          mechanisms=b'PLAIN',
                          locales=b'en_US')).marshal()
_TUNE = frame.Method(0, spec.Connection.Tune(0, 4096, 0)).marshal()
_OPEN_OK = frame.Method(0, spec.Connection.OpenOk()).marshal()


def _bad_table_header() -> bytes:
    raw = frame.Header(1, 1, spec.BasicProperties(headers={'k': 'v'})).marshal()
    position = raw.index(b'\x01kS')
    return raw[:position + 2] + b'Z' + raw[position + 3:]


#: garbage sent once the connection is open -> words in the StreamLostError
GARBAGE = {
    'bad_frame_end':
        frame.Method(0, spec.Connection.Blocked('x')).marshal()[:-1] + b'\x00',
    'unknown_frame_type':
        b'\x09\x00\x00\x00\x00\x00\x00\xce',
    'oversize_frame':
        struct.pack('>BHI', 3, 1, 10**6) + b'\x00' * 64,
    'truncated_method':
        struct.pack('>BHII', 1, 0, 6, spec.Connection.Close.INDEX) +
        b'\x00\x01\xce',
    'unknown_method':
        struct.pack('>BHII', 1, 0, 4, 0x00FF00FF) + b'\xce',
    'unknown_field_type':
        _bad_table_header(),
}


class FakeBroker:
    """Accepts one client at a time and plays a script in a thread."""

    def __init__(self, garbage: bytes, handshake: bool = True) -> None:
        self.garbage = garbage
        self.handshake = handshake
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.clients: List[socket.socket] = []
        self.errors: List[BaseException] = []
        self.listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def params(self) -> pika.ConnectionParameters:
        return pika.ConnectionParameters('127.0.0.1',
                                         self.port,
                                         heartbeat=0,
                                         connection_attempts=1,
                                         socket_timeout=DEADLINE,
                                         stack_timeout=DEADLINE)

    def _read_frames(self, sock: socket.socket, count: int) -> None:
        buffer = b''
        while count:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError('client went away')
            buffer += chunk
            while len(buffer) >= 7:
                size = struct.unpack_from('>I', buffer, 3)[0]
                if len(buffer) < size + 8:
                    break
                buffer = buffer[size + 8:]
                count -= 1

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(DEADLINE)
            self.clients.append(sock)
            try:
                header = b''
                while len(header) < 8:
                    chunk = sock.recv(8 - len(header))
                    if not chunk:
                        raise ConnectionError('no protocol header')
                    header += chunk
                assert header == b'AMQP\x00\x00\x09\x01', header
                if self.handshake:
                    sock.sendall(_START)
                    self._read_frames(sock, 1)  # StartOk
                    sock.sendall(_TUNE)
                    self._read_frames(sock, 2)  # TuneOk, Open
                    sock.sendall(_OPEN_OK)
                sock.sendall(self.garbage)
            except Exception as error:  # pylint: disable=broad-except
                self.errors.append(error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        assert not self._thread.is_alive()
        self.listener.close()
        for sock in self.clients:
            sock.close()


@pytest.fixture
def broker_factory() -> Any:
    made: List[FakeBroker] = []

    def make(garbage: bytes, handshake: bool = True) -> FakeBroker:
        made.append(FakeBroker(garbage, handshake))
        return made[-1]

    yield make
    for broker in made:
        broker.close()


def _assert_loop_usable(adapter: AdapterRunner) -> None:
    fired: List[bool] = []

    def tick() -> None:
        fired.append(True)
        adapter.stop()

    adapter.call_later(0.01, tick)
    adapter.run(DEADLINE)
    assert fired == [True]


def _run_async(adapter: AdapterRunner, broker: FakeBroker) -> List[Any]:
    log: List[Any] = []

    def done(name: str) -> Any:

        def callback(*args: Any) -> None:
            log.append((name,) + args)
            if name != 'open':
                adapter.stop()

        return callback

    started = time.monotonic()
    adapter.connect(broker.params(),
                    on_open=done('open'),
                    on_open_error=done('open_error'),
                    on_close=done('close'))
    adapter.run(DEADLINE)
    assert time.monotonic() - started < DEADLINE
    return log


@pytest.mark.parametrize('kind', sorted(GARBAGE))
def test_garbage_after_open_closes_with_stream_lost(adapter, broker_factory,
                                                    kind):
    broker = broker_factory(GARBAGE[kind])
    log = _run_async(adapter, broker)
    assert [entry[0] for entry in log] == ['open', 'close'], log
    conn, error = log[1][1:]
    assert type(error) is exceptions.StreamLostError, error
    assert error.args[0].startswith('Stream connection lost: ')
    expected = ('InvalidFieldTypeException', 'InvalidFrameError')
    assert any(name in error.args[0] for name in expected), error
    assert conn.is_closed
    assert not broker.errors, broker.errors
    _assert_loop_usable(adapter)


@pytest.mark.parametrize('garbage', [
    b'HTTP/1.1 400 Bad Request\r\n\r\n',
    b'\x01\x00\x00\x00\x00\x00\x02\x00\x0a\xce',
    struct.pack('>BHI', 1, 0, 2**32 - 1) + b'\x00' * 32,
])
def test_garbage_instead_of_start_fails_the_open(adapter, broker_factory,
                                                 garbage):
    broker = broker_factory(garbage, handshake=False)
    log = _run_async(adapter, broker)
    assert [entry[0] for entry in log] == ['open_error'], log
    error = log[0][2]
    assert isinstance(error, exceptions.AMQPConnectionError), error
    assert not broker.errors, broker.errors
    _assert_loop_usable(adapter)


@pytest.mark.parametrize('kind', sorted(GARBAGE))
def test_blocking_garbage_after_open_raises_stream_lost(broker_factory, kind):
    broker = broker_factory(GARBAGE[kind])
    for _ in range(2):  # a second connection is unaffected by the first
        conn = pika.BlockingConnection(broker.params())
        started = time.monotonic()
        with pytest.raises(exceptions.StreamLostError) as info:
            conn.process_data_events(time_limit=DEADLINE)
        assert time.monotonic() - started < DEADLINE
        assert info.value.args[0].startswith('Stream connection lost: ')
        assert conn.is_closed
    assert not broker.errors, broker.errors


def test_blocking_garbage_instead_of_start_raises(broker_factory):
    broker = broker_factory(b'\x09\x00\x00\x00\x00\x00\x00\xce',
                            handshake=False)
    started = time.monotonic()
    with pytest.raises(exceptions.AMQPConnectionError) as info:
        pika.BlockingConnection(broker.params())
    assert time.monotonic() - started < DEADLINE
    error: Optional[BaseException] = info.value
    assert isinstance(error, exceptions.IncompatibleProtocolError), error
