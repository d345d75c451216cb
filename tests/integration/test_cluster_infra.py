"""utils/cluster.sh gives a working 3-node cluster that tests can break.

The module starts the cluster (installing and starting what is missing),
checks that a quorum queue declared through one node is served by the
others, that a stopped or killed node leaves the queue usable through the
rest and rejoins when started again, and stops the cluster at the end.
"""

import os
import subprocess
import time
import uuid
from typing import Iterator, List

import pytest

import pika
import pika.exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_SH = os.path.join(HERE, '..', '..', 'utils', 'cluster.sh')
HOST = '127.0.0.1'


def _cluster(*args: str) -> str:
    """Run utils/cluster.sh with ``args`` and return its stdout."""
    result = subprocess.run(['bash', CLUSTER_SH, *args],
                            capture_output=True,
                            text=True,
                            timeout=600,
                            check=False)
    assert result.returncode == 0, (
        'cluster.sh %s failed (%d):\n%s' %
        (' '.join(args), result.returncode, result.stderr[-4000:]))
    return result.stdout


@pytest.fixture(scope='module')
def ports() -> Iterator[List[int]]:
    """The AMQP ports of the three running nodes."""
    _cluster('start')
    try:
        yield [int(port) for port in _cluster('ports').split()]
    finally:
        _cluster('stop')


def _connect(port: int) -> pika.BlockingConnection:
    return pika.BlockingConnection(
        pika.ConnectionParameters(HOST,
                                  port,
                                  connection_attempts=5,
                                  retry_delay=1))


def _cluster_name(port: int) -> str:
    conn = _connect(port)
    try:
        name = conn._impl.server_properties['cluster_name']
        return name.decode() if isinstance(name, bytes) else str(name)
    finally:
        conn.close()


def test_three_nodes_answer_and_form_one_cluster(ports: List[int]) -> None:
    assert len(ports) == 3
    assert len(set(ports)) == 3
    names = {_cluster_name(port) for port in ports}
    assert names == {'pika-test-cluster'}, names
    status = subprocess.run(['bash', CLUSTER_SH, 'status'],
                            capture_output=True,
                            text=True,
                            timeout=120,
                            check=False)
    assert status.returncode == 0, status.stderr
    for number in (1, 2, 3):
        assert "'pika-c%d@localhost'" % number in status.stderr


def _publish(port: int, queue: str, bodies: List[bytes]) -> None:
    """Publish with confirms; a nack while the quorum queue elects a new
    leader after a node went away is retried (as an application would) for
    up to three minutes."""
    deadline = time.monotonic() + 180
    conn = _connect(port)
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for body in bodies:
            while True:
                try:
                    channel.basic_publish('', queue, body)
                    break
                except pika.exceptions.NackError:
                    assert time.monotonic() < deadline, 'still nacked'
                    time.sleep(0.5)
    finally:
        conn.close()


def _drain(port: int, queue: str) -> List[bytes]:
    conn = _connect(port)
    bodies = []
    try:
        channel = conn.channel()
        while True:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)
    finally:
        conn.close()


def test_quorum_queue_survives_a_stopped_and_a_killed_node(
        ports: List[int]) -> None:
    queue = 'cluster-infra-%s' % uuid.uuid4().hex
    conn = _connect(ports[0])
    try:
        conn.channel().queue_declare(queue,
                                     durable=True,
                                     arguments={'x-queue-type': 'quorum'})
    finally:
        conn.close()
    try:
        _publish(ports[1], queue, [b'a', b'b'])
        _cluster('stop-node', '1')
        _publish(ports[2], queue, [b'c'])
        _cluster('start-node', '1')
        # Through the restarted node: it serves the queue again before the
        # next node goes away (two of three members are needed).
        _publish(ports[0], queue, [b'd'])
        _cluster('kill-node', '3')
        _publish(ports[1], queue, [b'e'])
        _cluster('start-node', '3')
        assert _drain(ports[2], queue) == [b'a', b'b', b'c', b'd', b'e']
    finally:
        conn = _connect(ports[1])
        try:
            conn.channel().queue_delete(queue)
        finally:
            conn.close()
