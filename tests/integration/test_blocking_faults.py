"""BlockingConnection under faults: a dead socket, the broker closing the
connection, a heartbeat timeout, channel errors. Each raises the documented
exception in the blocked caller and leaves no socket or thread behind;
unacknowledged deliveries go back to the queue."""

import shutil
import socket
import subprocess
import threading
import time

import pytest

from pika import exceptions
from pika.adapters.blocking_connection import BlockingConnection

from blocking_support import FaultProxy, connect, open_fds, params, unique


@pytest.fixture
def proxy():
    fault_proxy = FaultProxy()
    yield fault_proxy
    fault_proxy.close()


def _settle_fds(limit: int, timeout: float = 2.0) -> int:
    """Wait for the proxy threads to drop their sockets; return the count."""
    deadline = time.monotonic() + timeout
    count = open_fds()
    while count > limit and time.monotonic() < deadline:
        time.sleep(0.02)
        count = open_fds()
    return count


def _assert_released(conn: BlockingConnection) -> None:
    assert conn.is_closed
    assert conn._impl._transport is None


def test_stream_lost_in_start_consuming(proxy):
    threads_before = threading.active_count()
    fds_before = open_fds()
    conn = BlockingConnection(proxy.params())
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    channel.basic_consume(queue, lambda *args: None)
    killer = threading.Timer(0.2, proxy.kill)
    killer.start()
    with pytest.raises(exceptions.StreamLostError):
        channel.start_consuming()
    killer.join()
    _assert_released(conn)
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.start_consuming()
    assert _settle_fds(fds_before) <= fds_before
    # only the proxy's own threads may remain, and they end with it
    assert threading.active_count() <= threads_before + 1


def test_stream_lost_during_rpc_and_confirmed_publish(proxy):
    conn = BlockingConnection(proxy.params())
    channel = conn.channel()
    proxy.kill()
    with pytest.raises(exceptions.StreamLostError):
        channel.queue_declare(unique('q'))
    _assert_released(conn)

    conn = BlockingConnection(proxy.params())
    channel = conn.channel()
    channel.confirm_delivery()
    queue = channel.queue_declare('', exclusive=True).method.queue
    proxy.freeze()
    threading.Timer(0.2, proxy.kill).start()
    with pytest.raises(exceptions.StreamLostError):
        channel.basic_publish('', queue, b'x')
    _assert_released(conn)


def test_broker_connection_error_raises_in_caller():
    conn = connect()
    channel = conn.channel()
    other = conn.channel()
    with pytest.raises(exceptions.ConnectionClosedByBroker) as info:
        channel.exchange_declare(unique('x'), 'no-such-exchange-type')
    assert info.value.reply_code == 503
    assert 'COMMAND_INVALID' in info.value.reply_text
    _assert_released(conn)
    assert channel.is_closed and other.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        other.queue_declare('x')
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()


def _rabbitmqctl() -> str:
    path = shutil.which('rabbitmqctl') or '/usr/sbin/rabbitmqctl'
    return path


def _close_from_broker(local_port: int, reason: str) -> None:
    """Ask the broker (rabbitmqctl) to close our connection."""
    ctl = _rabbitmqctl()
    for _ in range(20):
        listing = subprocess.run(
            [ctl, '-q', 'list_connections', 'pid', 'peer_port'],
            capture_output=True,
            text=True,
            timeout=30,
            check=True).stdout
        for line in listing.splitlines():
            fields = line.split('\t')
            if len(fields) == 2 and fields[1].strip() == str(local_port):
                subprocess.run(
                    [ctl, '-q', 'close_connection', fields[0], reason],
                    capture_output=True,
                    timeout=30,
                    check=True)
                return
        time.sleep(0.2)
    raise AssertionError('connection on port %d not listed by the broker' %
                         local_port)


def test_broker_closes_connection_during_start_consuming():
    conn = connect()
    channel = conn.channel()
    queue = channel.queue_declare('', exclusive=True).method.queue
    channel.basic_consume(queue, lambda *args: None)
    local_port = conn._impl._transport._sock.getsockname()[1]
    errors = []

    def close_it():
        try:
            _close_from_broker(local_port, 'test says go away')
        except Exception as error:  # reported below
            errors.append(error)
            conn.add_callback_threadsafe(channel.stop_consuming)

    closer = threading.Thread(target=close_it)
    closer.start()
    with pytest.raises(exceptions.ConnectionClosedByBroker) as info:
        channel.start_consuming()
    closer.join()
    assert errors == []
    assert info.value.reply_code == 320
    assert info.value.reply_text == 'CONNECTION_FORCED - test says go away'
    _assert_released(conn)


@pytest.mark.slow
def test_heartbeat_timeout(proxy):
    fds_before = open_fds()
    conn = BlockingConnection(proxy.params(heartbeat=1))
    channel = conn.channel()
    proxy.freeze()
    start = time.monotonic()
    with pytest.raises(exceptions.AMQPHeartbeatTimeout):
        conn.process_data_events(30)
    # pika's checker: the timeout plus slack, twice over
    assert time.monotonic() - start < 20
    _assert_released(conn)
    assert channel.is_closed
    proxy.kill()
    assert _settle_fds(fds_before) <= fds_before


def test_unacked_deliveries_requeued_on_close():
    queue = unique('requeue')
    with connect() as admin:
        admin_channel = admin.channel()
        admin_channel.queue_declare(queue, auto_delete=False)
        try:
            for i in range(3):
                admin_channel.basic_publish('', queue, b'%d' % i)
            conn = connect()
            channel = conn.channel()
            got = []
            channel.basic_consume(queue, lambda ch, m, p, b: got.append(b))
            deadline = time.monotonic() + 3
            while len(got) < 3 and time.monotonic() < deadline:
                conn.process_data_events(0.1)
            assert got == [b'0', b'1', b'2']
            assert admin_channel.queue_declare(
                queue, passive=True).method.message_count == 0
            conn.close()
            method, _, body = admin_channel.basic_get(queue, auto_ack=True)
            assert body == b'0' and method.redelivered
            assert method.message_count == 2
        finally:
            admin_channel.queue_delete(queue)


def test_unacked_deliveries_requeued_on_stream_loss(proxy):
    queue = unique('requeue')
    with connect() as admin:
        admin_channel = admin.channel()
        admin_channel.queue_declare(queue, auto_delete=False)
        try:
            admin_channel.basic_publish('', queue, b'x')
            conn = BlockingConnection(proxy.params())
            channel = conn.channel()
            for method, _, _ in channel.consume(queue, inactivity_timeout=2):
                assert method is not None
                break
            proxy.kill()
            with pytest.raises(exceptions.StreamLostError):
                conn.process_data_events(2)
            deadline = time.monotonic() + 5
            count = 0
            while time.monotonic() < deadline:
                count = admin_channel.queue_declare(
                    queue, passive=True).method.message_count
                if count:
                    break
                admin.sleep(0.05)
            assert count == 1
        finally:
            admin_channel.queue_delete(queue)


def test_failed_opens_leave_no_descriptors():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    fds_before = open_fds()
    for _ in range(5):
        with pytest.raises(exceptions.AMQPConnectionError):
            BlockingConnection(params(port=port))
    assert open_fds() <= fds_before


def test_closed_connections_leave_no_descriptors():
    fds_before = open_fds()
    for _ in range(5):
        with connect() as conn:
            conn.channel().queue_declare('', exclusive=True)
    assert open_fds() <= fds_before


def test_consume_with_recovery_across_hosts(proxy):
    """The recovery pattern of the multi-host example: a refused host first,
    then the proxy; the stream dies mid-way; the consumer reconnects and
    gets the unacknowledged message again."""
    queue = unique('recover')
    refused = params(port=_unused_port(), connection_attempts=1)
    hosts = [refused, proxy.params(connection_attempts=2, retry_delay=0.1)]
    with connect() as admin:
        admin_channel = admin.channel()
        admin_channel.queue_declare(queue)
        try:
            for i in range(4):
                admin_channel.basic_publish('', queue, b'%d' % i)
            acked = []
            lost = 0
            connections = 0
            while len(acked) < 4 and connections < 5:
                try:
                    conn = BlockingConnection(hosts)
                    connections += 1
                    channel = conn.channel()
                    channel.basic_qos(prefetch_count=1)

                    def on_message(ch, method, properties, body):
                        if body == b'2' and not method.redelivered:
                            proxy.kill()  # dies before the ack is sent
                            return
                        ch.basic_ack(method.delivery_tag)
                        acked.append(body)
                        if len(acked) == 4:
                            ch.stop_consuming()

                    channel.basic_consume(queue, on_message)
                    channel.start_consuming()
                    conn.close()
                except exceptions.StreamLostError:
                    lost += 1
            assert acked == [b'0', b'1', b'2', b'3']
            assert lost == 1 and connections == 2
        finally:
            admin_channel.queue_delete(queue)


def _unused_port() -> int:
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_publisher_learns_of_dead_stream(proxy):
    """Fire-and-forget publishing into a dead connection fails soon."""
    conn = BlockingConnection(proxy.params())
    channel = conn.channel()
    proxy.kill()
    deadline = time.monotonic() + 3
    with pytest.raises(exceptions.StreamLostError):
        while time.monotonic() < deadline:
            channel.basic_publish('', 'nowhere', b'x')
    assert time.monotonic() < deadline
    _assert_released(conn)
