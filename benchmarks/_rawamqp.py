"""A tiny, hand-written AMQP 0-9-1 client used only by the benchmarks.

It does not import any ``pika`` package, so the harness can manage queues
(declare, count, purge, delete), pre-fill them and measure the broker's own
ceiling identically whichever library is under test.  It speaks just enough of
the protocol for that: the connection handshake (PLAIN, heartbeats off), one
channel, ``queue.declare``/``purge``/``delete`` and ``basic.publish`` built
from pre-marshalled frames.
"""

import socket
import struct
import time
from typing import Dict, Optional, Tuple

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = b'\xce'

_FRAME_HEAD = struct.Struct('>BHI')
_CLASS_METHOD = struct.Struct('>HH')
_SHORT = struct.Struct('>H')
_LONG = struct.Struct('>I')
_CONTENT_HEADER = struct.Struct('>HHQH')

CONNECTION_CLOSE = (10, 50)
CHANNEL_CLOSE = (20, 40)


class RawAMQPError(Exception):
    """The broker closed the connection or channel, or replied unexpectedly."""


def _shortstr(value: str) -> bytes:
    raw = value.encode('utf-8')
    return bytes((len(raw),)) + raw


def _longstr(value: bytes) -> bytes:
    return _LONG.pack(len(value)) + value


def _table(table: Optional[Dict[str, int]]) -> bytes:
    """Encode a field table whose values are all ints (as 'I', signed 32)."""
    body = b''
    for key, value in (table or {}).items():
        body += _shortstr(key) + b'I' + struct.pack('>i', value)
    return _longstr(body)


def frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    """Return one complete frame."""
    return _FRAME_HEAD.pack(frame_type, channel,
                            len(payload)) + payload + FRAME_END


def method_frame(channel: int, class_id: int, method_id: int,
                 args: bytes) -> bytes:
    """Return a method frame."""
    return frame(FRAME_METHOD, channel,
                 _CLASS_METHOD.pack(class_id, method_id) + args)


def publish_frames(channel: int,
                   exchange: str,
                   routing_key: str,
                   body: bytes,
                   frame_max: int = 131072) -> bytes:
    """Marshal basic.publish + content header (no properties) + body frames.

    :param channel: channel number
    :param exchange: exchange name
    :param routing_key: routing key
    :param body: message body
    :param frame_max: negotiated frame_max; body frames carry at most
        ``frame_max - 8`` bytes
    """
    out = [
        method_frame(
            channel, 60, 40, b'\x00\x00' + _shortstr(exchange) +
            _shortstr(routing_key) + b'\x00'),
        frame(FRAME_HEADER, channel, _CONTENT_HEADER.pack(60, 0, len(body), 0))
    ]
    step = frame_max - 8
    for start in range(0, len(body), step):
        out.append(frame(FRAME_BODY, channel, body[start:start + step]))
    return b''.join(out)


def _find_longstr(payload: bytes, key: bytes) -> str:
    """Pick one long-string value out of an encoded table, or '?'."""
    at = payload.find(key)
    if at < 0:
        return '?'
    at += len(key)
    size = _LONG.unpack_from(payload, at)[0]
    return payload[at + 4:at + 4 + size].decode('utf-8', 'replace')


class RawClient:
    """A blocking AMQP connection with channel 1 open.

    :param host: broker host (benchmarks only ever use 127.0.0.1)
    :param port: broker port
    :param user: user name
    :param password: password
    """

    def __init__(self,
                 host: str = '127.0.0.1',
                 port: int = 5672,
                 user: str = 'guest',
                 password: str = 'guest',
                 timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.frame_max = 131072
        self._handshake(user, password)

    # -- frame I/O ---------------------------------------------------------
    def _read_frame(self) -> Tuple[int, int, bytes]:
        while True:
            if len(self._buf) >= 7:
                ftype, chan, size = _FRAME_HEAD.unpack_from(self._buf, 0)
                if len(self._buf) >= size + 8:
                    payload = bytes(self._buf[7:7 + size])
                    if self._buf[7 + size] != 0xCE:
                        raise RawAMQPError('bad frame end')
                    del self._buf[:size + 8]
                    if ftype == FRAME_HEARTBEAT:
                        continue
                    return ftype, chan, payload
            data = self.sock.recv(65536)
            if not data:
                raise RawAMQPError('connection lost')
            self._buf += data

    def _expect(self, class_id: int, method_id: int) -> bytes:
        """Read frames until the given method; return its arguments."""
        while True:
            ftype, _chan, payload = self._read_frame()
            if ftype != FRAME_METHOD:
                continue
            got = _CLASS_METHOD.unpack_from(payload, 0)
            if got == (class_id, method_id):
                return payload[4:]
            if got in (CONNECTION_CLOSE, CHANNEL_CLOSE):
                code = _SHORT.unpack_from(payload, 4)[0]
                text = payload[7:7 + payload[6]].decode('utf-8', 'replace')
                raise RawAMQPError('broker closed: %d %s' % (code, text))

    def _handshake(self, user: str, password: str) -> None:
        self.sock.sendall(b'AMQP\x00\x00\x09\x01')
        start = self._expect(10, 10)  # connection.start
        self.server_version = _find_longstr(start, b'\x07versionS')
        response = b'\x00' + user.encode() + b'\x00' + password.encode()
        self.sock.sendall(
            method_frame(
                0, 10, 11,
                _table(None) + _shortstr('PLAIN') + _longstr(response) +
                _shortstr('en_US')))
        tune = self._expect(10, 30)
        channel_max, frame_max, _heartbeat = struct.unpack_from('>HIH', tune, 0)
        self.frame_max = frame_max or 131072
        self.sock.sendall(
            method_frame(0, 10, 31,
                         struct.pack('>HIH', channel_max, self.frame_max, 0)) +
            method_frame(0, 10, 40,
                         _shortstr('/') + _shortstr('') + b'\x00'))
        self._expect(10, 41)
        self.sock.sendall(method_frame(1, 20, 10, _shortstr('')))
        self._expect(20, 11)

    # -- queue management ----------------------------------------------------
    def declare(self,
                queue: str,
                passive: bool = False,
                arguments: Optional[Dict[str, int]] = None) -> int:
        """Declare (or passively check) a non-durable queue.

        :returns: the queue's ready message count
        """
        bits = 1 if passive else 0
        self.sock.sendall(
            method_frame(
                1, 50, 10, b'\x00\x00' + _shortstr(queue) + bytes(
                    (bits,)) + _table(arguments)))
        args = self._expect(50, 11)
        offset = 1 + args[0]
        return _LONG.unpack_from(args, offset)[0]

    def count(self, queue: str) -> int:
        """Return the queue's ready message count (passive declare)."""
        return self.declare(queue, passive=True)

    def wait_count(self,
                   queue: str,
                   target: int,
                   timeout: float = 120.0,
                   interval: float = 0.002) -> float:
        """Poll until the queue holds at least ``target`` messages.

        :returns: time.perf_counter() when the count was first seen
        :raises TimeoutError: if it does not get there in time
        """
        deadline = time.perf_counter() + timeout
        while True:
            if self.count(queue) >= target:
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise TimeoutError('queue %s did not reach %d messages' %
                                   (queue, target))
            time.sleep(interval)

    def purge(self, queue: str) -> int:
        """Purge a queue; return how many messages were dropped."""
        self.sock.sendall(
            method_frame(1, 50, 30, b'\x00\x00' + _shortstr(queue) + b'\x00'))
        return _LONG.unpack_from(self._expect(50, 31), 0)[0]

    def delete(self, queue: str) -> int:
        """Delete a queue (no error if it does not exist)."""
        self.sock.sendall(
            method_frame(1, 50, 40, b'\x00\x00' + _shortstr(queue) + b'\x00'))
        return _LONG.unpack_from(self._expect(50, 41), 0)[0]

    # -- publishing ------------------------------------------------------------
    def publish_many(self, queue: str, body: bytes, count: int) -> None:
        """Publish ``count`` copies of ``body`` to ``queue`` (no waiting)."""
        one = publish_frames(1, '', queue, body, self.frame_max)
        batch = max(1, min(count, (1 << 20) // len(one)))
        chunk = one * batch
        sent = 0
        while sent + batch <= count:
            self.sock.sendall(chunk)
            sent += batch
        if sent < count:
            self.sock.sendall(one * (count - sent))

    def fill(self,
             queue: str,
             body: bytes,
             count: int,
             timeout: float = 120.0) -> None:
        """Publish ``count`` messages and wait until the queue holds them."""
        self.publish_many(queue, body, count)
        self.wait_count(queue, count, timeout, interval=0.01)

    def consume_count(self, queue: str, count: int, prefetch: int,
                      ack_every: int) -> None:
        """Consume ``count`` messages as cheaply as Python allows.

        basic.qos + basic.consume, then only the frame heads are parsed:
        deliveries are counted, their tags read, and every ``ack_every``
        messages one ``basic.ack(multiple=True)`` is sent.
        """
        sock = self.sock
        sock.sendall(
            method_frame(1, 60, 10, struct.pack('>IHB', 0, prefetch, 0)))
        self._expect(60, 11)
        sock.sendall(
            method_frame(
                1, 60, 20, b'\x00\x00' + _shortstr(queue) + _shortstr('raw') +
                b'\x00' + _table(None)))
        self._expect(60, 21)
        buf = bytes(self._buf)
        self._buf = bytearray()
        unpack_head = _FRAME_HEAD.unpack_from
        unpack_index = _LONG.unpack_from
        unpack_tag = struct.Struct('>Q').unpack_from
        deliver = (60 << 16) | 60
        received = 0
        offset = 0
        tag = 0
        while received < count:
            data = sock.recv(1 << 20)
            if not data:
                raise RawAMQPError('connection lost')
            buf = buf[offset:] + data if offset < len(buf) else data
            offset = 0
            size = len(buf)
            while offset + 7 <= size:
                ftype, _chan, length = unpack_head(buf, offset)
                end = offset + 8 + length
                if end > size:
                    break
                if ftype == FRAME_METHOD and unpack_index(
                        buf, offset + 7)[0] == deliver:
                    at = offset + 11
                    tag = unpack_tag(buf, at + 1 + buf[at])[0]
                    received += 1
                    if received % ack_every == 0 or received == count:
                        sock.sendall(
                            method_frame(1, 60, 80, struct.pack('>QB', tag, 1)))
                offset = end

    def close(self) -> None:
        """Close the connection politely (best effort)."""
        try:
            self.sock.sendall(
                method_frame(
                    0, 10, 50,
                    b'\x00\xc8' + _shortstr('bye') + b'\x00\x00\x00\x00'))
            self._expect(10, 51)
        except (OSError, RawAMQPError):
            pass
        finally:
            self.sock.close()
