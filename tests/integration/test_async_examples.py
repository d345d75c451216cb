"""The asynchronous examples work against the broker, including the
consumer's reconnection after its connection is cut.
"""

import importlib.util
import pathlib
import socket
import subprocess
import sys
import threading
import time

import pika
from pika.adapters.blocking_connection import BlockingConnection

from async_harness import BROKER_HOST, BROKER_PORT, broker_params, unique_name

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / 'examples'
URL = 'amqp://guest:guest@%s:%d/%%2F' % (BROKER_HOST, BROKER_PORT)


def _load(name):
    spec = importlib.util.spec_from_file_location(name,
                                                  EXAMPLES / (name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_example(*args, timeout=60):
    env = {'PYTHONPATH': str(EXAMPLES.parent), 'PATH': '/usr/bin:/bin'}
    return subprocess.run([sys.executable, *map(str, args)],
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=env,
                          check=True).stdout


class CuttingProxy:
    """TCP proxy to the broker whose live connections can be cut (RST)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self._pairs = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((BROKER_HOST, BROKER_PORT))
            with self._lock:
                self.accepted += 1
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump,
                                 args=(src, dst),
                                 daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.close()
            except OSError:
                pass

    def cut(self):
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            try:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  b'\x01\x00\x00\x00\x00\x00\x00\x00')
            except OSError:
                pass  # already closed by its pump
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self):
        self.listener.close()
        self.cut()


def _publish(queue, bodies):
    conn = BlockingConnection(broker_params())
    try:
        channel = conn.channel()
        for body in bodies:
            channel.basic_publish('', queue, body)
    finally:
        conn.close()


def test_reconnecting_consumer_survives_dropped_connection():
    example = _load('asynchronous_consumer_example')
    exchange, queue = unique_name('ex'), unique_name('q')

    class Consumer(example.ExampleConsumer):
        EXCHANGE = exchange
        QUEUE = queue

    class Runner(example.ReconnectingExampleConsumer):
        consumer_class = Consumer

    proxy = CuttingProxy()
    total = 6
    outcome = {}

    def run():
        outcome['received'] = Runner(
            'amqp://guest:guest@127.0.0.1:%d/%%2F' % proxy.port, total).run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while proxy.accepted < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let it declare, bind and start consuming
        _publish(queue, [b'before-%d' % i for i in range(3)])
        time.sleep(0.5)
        proxy.cut()
        deadline = time.monotonic() + 10
        while proxy.accepted < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.accepted >= 2, 'consumer did not reconnect'
        time.sleep(0.5)
        _publish(queue, [b'after-%d' % i for i in range(3)])
        thread.join(20)
        assert not thread.is_alive()
        assert outcome['received'] == total
    finally:
        proxy.close()
        conn = BlockingConnection(broker_params())
        channel = conn.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        conn.close()


def test_publisher_example_all_confirmed():
    example = _load('asynchronous_publisher_example')
    exchange, queue = unique_name('ex'), unique_name('q')

    class Publisher(example.ExamplePublisher):
        EXCHANGE = exchange
        QUEUE = queue

    try:
        publisher = Publisher(URL + '?connection_attempts=3', 20, 0.001)
        assert publisher.run() == (20, 0)
        assert publisher.error is None
    finally:
        conn = BlockingConnection(broker_params())
        channel = conn.channel()
        assert channel.queue_delete(queue).method.message_count == 20
        channel.exchange_delete(exchange)
        conn.close()


def test_asyncio_consumer_example_runs():
    out = _run_example(EXAMPLES / 'asyncio_consumer_example.py', URL, '--count',
                       25, '--queue', unique_name('asyncio'))
    assert "consumed 25 messages, last b'message 24'" in out


def test_url_parameters_example_runs():
    out = _run_example(EXAMPLES / 'url_parameters_example.py',
                       URL + '?heartbeat=30&connection_attempts=2')
    assert 'heartbeat=30 connection_attempts=2' in out
    assert 'declared server-named queue amq.gen-' in out
    assert "closed: (200, 'Normal shutdown')" in out


def test_url_parameters_example_reports_refusal():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.run([
        sys.executable,
        str(EXAMPLES / 'url_parameters_example.py'),
        'amqp://guest:guest@127.0.0.1:%d/%%2F' % port
    ],
                          capture_output=True,
                          text=True,
                          timeout=30,
                          env={'PYTHONPATH': str(EXAMPLES.parent)})
    assert proc.returncode != 0
    assert 'AMQPConnectionError' in proc.stderr
    assert pika.__version__


def test_recovery_select_example_recovers_and_consumes_everything():
    out = _run_example(EXAMPLES / 'recovery_select.py', URL, '--count', 20)
    assert 'recovering' in out and 'recovered; skipped: []' in out
    assert 'consumed 20 messages after 1 recovery(ies)' in out
    assert "closed: ConnectionClosedByClient: (200) 'Normal shutdown'" in out
