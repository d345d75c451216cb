"""Automatic recovery on the local 3-node cluster (utils/cluster.sh) with a
quorum queue: a stopped node (the broker sends 320 CONNECTION_FORCED) and a
killed node (the TCP stream just ends) move the client to another node with
its consumer and confirm mode, and no confirmed message is lost.

The cluster is started by the ``cluster`` fixture when it is not running and
stopped again after this module (utils/cluster.sh needs root to start the
nodes as the rabbitmq user).
"""

import json
import pathlib
import socket
import subprocess
import threading
import time
import uuid

import pytest

import pika
from pika import exceptions
from pika.adapters.select_connection import IOLoop, SelectConnection
from pika.recovery import RecoveryConfig, RecoveryState

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLUSTER_SH = str(ROOT / 'utils' / 'cluster.sh')
PORTS = (5681, 5682, 5683)


def _cluster(*args, timeout=300):
    return subprocess.run([CLUSTER_SH] + [str(arg) for arg in args],
                          check=True,
                          timeout=timeout,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True).stdout


def _answers(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=2) as sock:
            sock.sendall(b'AMQP\x00\x00\x09\x01')
            return sock.recv(1)[:1] == b'\x01'
    except OSError:
        return False


@pytest.fixture(scope='module')
def cluster():
    started_here = not all(_answers(port) for port in PORTS)
    if started_here:
        _cluster('start')
    yield PORTS
    if started_here:
        _cluster('stop')
    else:
        for number in (1, 2, 3):
            if not _answers(PORTS[number - 1]):
                _cluster('start-node', number)


def _members(queue, via_node):
    out = subprocess.run([
        'rabbitmqctl', '-q', '-n',
        'pika-c%d@localhost' % via_node, 'list_queues', 'name', 'members',
        'leader', '--formatter', 'json'
    ],
                         check=True,
                         timeout=60,
                         stdout=subprocess.PIPE,
                         text=True).stdout
    for row in json.loads(out or '[]'):
        if row['name'] == queue:
            return row
    return None


def _declare_quorum_queue(channel, queue, via_node):
    """Declare a quorum queue on all three nodes and wait until every member
    runs and a leader is elected: a queue with fewer members (declared while
    a node was still joining) loses its majority when one node stops and
    nacks publishes until that node is back."""
    channel.queue_declare(queue,
                          durable=True,
                          arguments={
                              'x-queue-type': 'quorum',
                              'x-quorum-initial-group-size': 3
                          })
    deadline = time.monotonic() + 60
    while True:
        row = _members(queue, via_node)
        if row and len(row['members']) == 3 and row['leader']:
            return row
        assert time.monotonic() < deadline, row
        channel.connection.sleep(0.5)


def _params():
    return [
        pika.ConnectionParameters(host='127.0.0.1',
                                  port=port,
                                  heartbeat=5,
                                  connection_attempts=1,
                                  socket_timeout=2) for port in PORTS
    ]


def _connected_port(connection):
    return connection._impl.params.port


@pytest.mark.parametrize('fault', ['stop-node', 'kill-node'])
def test_node_loss_moves_consumer_and_publisher_to_another_node(cluster, fault):
    queue = 'recovery-quorum-%s' % uuid.uuid4().hex
    conn = pika.BlockingConnection(_params(),
                                   recovery=RecoveryConfig(
                                       initial_interval=0.2,
                                       max_interval=2,
                                       max_attempts=30,
                                       republish_unconfirmed=True))
    assert _connected_port(conn) == PORTS[0]
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    consumer = conn.channel()
    _declare_quorum_queue(consumer, queue, via_node=2)
    consumer.basic_qos(prefetch_count=50)
    received = []

    def on_message(ch, method, _props, body):
        received.append(body)
        ch.basic_ack(method.delivery_tag)

    consumer.basic_consume(queue, on_message)
    publisher = conn.channel()
    publisher.confirm_delivery()
    confirmed = []
    for number in range(20):
        publisher.basic_publish('', queue, b'%d' % number)
        confirmed.append(b'%d' % number)
    node_down = False
    try:
        _cluster(fault, 1)
        node_down = True
        started = time.monotonic()
        for number in range(20, 40):
            body = b'%d' % number
            publisher.basic_publish('', queue, body)  # republished if lost
            confirmed.append(body)
        deadline = time.monotonic() + 60
        while not set(confirmed) <= set(received):
            assert time.monotonic() < deadline, (len(received), losses)
            conn.process_data_events(0.2)
        assert conn.recovery_state is RecoveryState.IDLE
        assert _connected_port(conn) in PORTS[1:]
        assert len(losses) == 1
        # A stopping node sends 320 CONNECTION_FORCED, but it may reset the
        # stream before the client has read it.
        assert isinstance(
            losses[0],
            (exceptions.ConnectionClosedByBroker, exceptions.StreamLostError,
             exceptions.AMQPHeartbeatTimeout))
        assert time.monotonic() - started < 60
    finally:
        if node_down:
            _cluster('start-node', 1)
    consumer.queue_delete(queue)
    conn.close()


def test_connection_forced_by_the_broker_is_recovered(cluster):
    conn = pika.BlockingConnection(
        _params()[1:2], recovery=RecoveryConfig(initial_interval=0.1))
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    local_port = conn._impl._transport._sock.getsockname()[1]
    out = subprocess.run([
        'rabbitmqctl', '-q', '-n', 'pika-c2@localhost', 'list_connections',
        'pid', 'peer_port'
    ],
                         check=True,
                         timeout=60,
                         stdout=subprocess.PIPE,
                         text=True).stdout
    [pid] = [
        line.split('\t')[0]
        for line in out.splitlines()[1:]
        if line.split('\t')[-1] == str(local_port)
    ]
    subprocess.run([
        'rabbitmqctl', '-q', '-n', 'pika-c2@localhost', 'close_connection', pid,
        'test: forced'
    ],
                   check=True,
                   timeout=60)
    deadline = time.monotonic() + 20
    while not losses or conn.recovery_state is not RecoveryState.IDLE:
        assert time.monotonic() < deadline
        conn.process_data_events(0.1)
    assert isinstance(losses[0], exceptions.ConnectionClosedByBroker)
    assert losses[0].reply_code == 320
    assert conn.current_queue_name(queue) != queue
    channel.queue_declare(conn.current_queue_name(queue), passive=True)
    conn.close()


def test_select_connection_moves_to_another_node_when_its_node_stops(cluster):
    """The asynchronous adapters' recovery (here SelectConnection through
    create_connection over the three nodes): the node the client is on
    stops; consumer and confirming publisher carry on from another node and
    every confirmed message arrives."""
    queue = 'recovery-quorum-async-%s' % uuid.uuid4().hex
    admin = pika.BlockingConnection(_params()[1])
    _declare_quorum_queue(admin.channel(), queue, via_node=2)
    loop = IOLoop()
    state = {'confirmed': set(), 'received': set(), 'losses': [], 'ports': []}
    errors = []
    node_down = threading.Event()

    def guarded(func):

        def wrapper(*args):
            try:
                func(*args)
            except BaseException as error:  # noqa: BLE001 - re-raised below
                errors.append(error)
                loop.stop()

        return wrapper

    def on_done(conn):
        assert not isinstance(conn, BaseException), conn
        state['conn'] = conn
        state['ports'].append(conn.params.port)
        conn.add_on_recovery_started_callback(
            lambda c, error: state['losses'].append(error))
        conn.add_on_recovery_succeeded_callback(guarded(recovered))
        conn.channel(on_open_callback=guarded(on_channel))

    def on_channel(channel):
        state['channel'] = channel
        channel.basic_qos(prefetch_count=50)
        channel.basic_consume(queue, guarded(on_message))
        channel.confirm_delivery(guarded(on_confirm),
                                 callback=guarded(lambda _f: publish(0, 20)))

    def publish(first, last):
        for number in range(first, last):
            state['channel'].basic_publish('', queue, b'%d' % number)

    def on_confirm(frame):
        method = frame.method
        assert method.NAME == 'Basic.Ack', method
        if not method.multiple:
            first = method.delivery_tag
        else:
            first = max(state['confirmed'], default=0) + 1
        state['confirmed'].update(range(first, method.delivery_tag + 1))
        if len(state['confirmed']) == 20 and not node_down.is_set():
            node_down.set()
            threading.Thread(target=stop_node, daemon=True).start()
        check_done()

    def stop_node():
        try:
            _cluster('stop-node', 1)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    def recovered(conn, skipped):
        assert skipped == []
        state['ports'].append(conn.params.port)
        publish(20, 40)

    def on_message(channel, method, _props, body):
        state['received'].add(int(body))
        channel.basic_ack(method.delivery_tag)
        check_done()

    def check_done():
        if (len(state['confirmed']) == 40 and
                state['received'] >= set(range(40))):
            loop.stop()

    SelectConnection.create_connection(_params(),
                                       guarded(on_done),
                                       custom_ioloop=loop,
                                       recovery=RecoveryConfig(
                                           initial_interval=0.2,
                                           max_interval=2,
                                           max_attempts=30,
                                           republish_unconfirmed=True))
    loop.call_later(90, loop.stop)
    try:
        loop.start()
    finally:
        if node_down.is_set():
            _cluster('start-node', 1)
    if errors:
        raise errors[0]
    summary = (sorted(state['received']), sorted(state['confirmed']),
               state['losses'], state['ports'])
    assert state['received'] >= set(range(40)), summary
    assert state['confirmed'] == set(range(1, 41)), summary
    assert state['ports'][0] == PORTS[0]
    assert state['ports'][1] in PORTS[1:]
    assert len(state['losses']) == 1
    assert isinstance(
        state['losses'][0],
        (exceptions.ConnectionClosedByBroker, exceptions.StreamLostError,
         exceptions.AMQPHeartbeatTimeout))
    state['conn'].add_on_close_callback(lambda _c, _e: loop.stop())
    state['conn'].close()
    loop.start()
    admin.channel().queue_delete(queue)
    admin.close()


def test_thread_safe_connection_moves_to_another_node_with_its_threads(cluster):
    queue = 'recovery-quorum-ts-%s' % uuid.uuid4().hex
    setup = pika.BlockingConnection(_params()[1])
    _declare_quorum_queue(setup.channel(), queue, via_node=2)
    setup.close()
    conn = pika.Connection(_params(),
                           recovery=RecoveryConfig(initial_interval=0.2,
                                                   max_interval=2,
                                                   max_attempts=30,
                                                   republish_unconfirmed=True,
                                                   wait_timeout=60))
    assert _connected_port(conn) == PORTS[0]
    losses = []
    conn.add_on_recovery_started_callback(lambda c, e: losses.append(e))
    consumer = conn.channel()
    consumer.basic_qos(prefetch_count=50)
    received = set()

    def on_message(ch, method, _props, body):
        received.add(body)
        ch.basic_ack(method.delivery_tag)

    consumer.basic_consume(queue, on_message)
    confirmed = set()
    lock = threading.Lock()
    node_stopped = threading.Event()

    def publish(first):
        channel = conn.channel()
        channel.confirm_delivery()
        for number in range(first, 400, 4):
            if number == 200:
                node_stopped.wait(60)
            body = b'%d' % number
            channel.basic_publish('', queue, body)
            with lock:
                confirmed.add(body)

    threads = [
        threading.Thread(target=publish, args=(first,), daemon=True)
        for first in range(4)
    ]
    for thread in threads:
        thread.start()
    node_down = False
    try:
        _cluster('stop-node', 1)
        node_down = True
        node_stopped.set()
        for thread in threads:
            thread.join(90)
        assert len(confirmed) == 400
        deadline = time.monotonic() + 60
        while not confirmed <= received:
            assert time.monotonic() < deadline, (len(received), losses)
            time.sleep(0.2)
        assert conn.recovery_state is RecoveryState.IDLE
        assert _connected_port(conn) in PORTS[1:]
        assert len(losses) == 1
    finally:
        node_stopped.set()
        if node_down:
            _cluster('start-node', 1)
    consumer.queue_delete(queue)
    conn.close()
