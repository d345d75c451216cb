"""Large messages against the real broker: bodies received over many reads
(kept as views of the received chunks until the channel joins them) arrive
intact as ``bytes`` on every path: consume, get, returns, two channels at
once, and several ``frame_max`` values.
"""

import os
from typing import Any, List

import pytest

from pika import spec
from blocking_support import connect, unique

MIB = 1 << 20


def _body(seed: int, size: int) -> bytes:
    # Distinct content per message so a mixed-up piece cannot go unnoticed.
    block = os.urandom(4096) + bytes([seed % 256]) * 16
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize('frame_max', [4096, 65536, 131072])
def test_consume_large_and_small_bodies(frame_max: int) -> None:
    conn = connect(frame_max=frame_max)
    try:
        channel = conn.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        bodies = [
            _body(1, MIB), b'small',
            _body(2, 3 * MIB + 17), b'',
            _body(3, 70000),
            _body(4, MIB)
        ]
        for body in bodies:
            channel.basic_publish('', queue, body)
        received: List[Any] = []

        def on_message(chan: Any, method: Any, _props: Any, body: Any) -> None:
            received.append(body)
            chan.basic_ack(method.delivery_tag)
            if len(received) == len(bodies):
                chan.stop_consuming()

        channel.basic_qos(prefetch_count=3)
        channel.basic_consume(queue, on_message)
        channel.start_consuming()
        assert [type(body) for body in received] == [bytes] * len(bodies)
        assert received == bodies
    finally:
        conn.close()


def test_get_and_return_large_bodies() -> None:
    conn = connect()
    try:
        channel = conn.channel()
        queue = channel.queue_declare('', exclusive=True).method.queue
        body = _body(5, 2 * MIB + 5)
        channel.basic_publish('', queue, body)
        method, _props, got = channel.basic_get(queue, auto_ack=True)
        assert isinstance(method, spec.Basic.GetOk)
        assert type(got) is bytes and got == body

        returned: List[Any] = []
        channel.add_on_return_callback(
            lambda _ch, method, _props, body: returned.append(
                (method.reply_code, body)))
        channel.basic_publish('',
                              unique('large-no-such-queue'),
                              body,
                              mandatory=True)
        conn.process_data_events(time_limit=0)
        deadline = 50
        while not returned and deadline:
            conn.process_data_events(time_limit=0.1)
            deadline -= 1
        assert returned == [(312, body)]
        assert type(returned[0][1]) is bytes
    finally:
        conn.close()


def test_two_channels_consuming_large_bodies_at_once() -> None:
    conn = connect()
    try:
        first, second = conn.channel(), conn.channel()
        queues = [
            chan.queue_declare('', exclusive=True).method.queue
            for chan in (first, second)
        ]
        sent = {
            queues[0]: [_body(10 + index, MIB + index) for index in range(4)],
            queues[1]: [_body(20 + index, 200000) for index in range(4)],
        }
        for queue, bodies in sent.items():
            for body in bodies:
                first.basic_publish('', queue, body)
        received: dict = {queue: [] for queue in queues}

        def consumer(queue: str) -> Any:

            def on_message(chan: Any, method: Any, _props: Any,
                           body: Any) -> None:
                received[queue].append(body)
                chan.basic_ack(method.delivery_tag)

            return on_message

        first.basic_consume(queues[0], consumer(queues[0]))
        second.basic_consume(queues[1], consumer(queues[1]))
        for _ in range(200):
            if all(len(received[q]) == 4 for q in queues):
                break
            conn.process_data_events(time_limit=0.05)
        assert received == sent
    finally:
        conn.close()
