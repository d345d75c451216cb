"""Tornado and gevent examples against the broker, and gevent with monkey
patching (in subprocesses, so this process stays unpatched).
"""

import ast
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from async_harness import BROKER_HOST, BROKER_PORT, unique_name

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'examples'
URL = 'amqp://guest:guest@%s:%d/%%2F' % (BROKER_HOST, BROKER_PORT)


def _run(args, timeout=60):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run([sys.executable, *map(str, args)],
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=env,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_tornado_consumer_example():
    out = _run([
        EXAMPLES / 'tornado_consumer.py', URL, '--count', 25, '--queue',
        unique_name('tornado')
    ])
    assert "consumed 25 messages, last b'message 24'" in out


@pytest.mark.parametrize('monkey', [False, True],
                         ids=['plain', 'monkey-patched'])
def test_gevent_consumer_example(monkey):
    args = [
        EXAMPLES / 'gevent_consumer.py', URL, '--count', 40, '--workers', 4,
        '--queue',
        unique_name('gevent')
    ]
    if monkey:
        args.append('--monkey-patch')
    out = _run(args)
    match = re.search(
        r'consumed 40 messages with 4 greenlets: (\{.*\}) '
        r'\(monkey-patched: (\w+)\)', out)
    assert match, out
    per_worker = ast.literal_eval(match.group(1))
    assert sorted(per_worker) == [0, 1, 2, 3]
    assert sum(per_worker.values()) == 40
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert match.group(2) == str(monkey)


MONKEY_CONNECTIONS = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import socket, sys
    import gevent, gevent.event
    import pika
    from pika.adapters.gevent_connection import GeventConnection
    assert monkey.is_module_patched('socket')
    host, port = sys.argv[1], int(sys.argv[2])

    def round_trip(number):
        # Each greenlet owns a connection made by create_connection, by
        # host name (resolved through gevent's resolver).
        result = gevent.event.AsyncResult()
        def on_done(conn):
            if isinstance(conn, BaseException):
                result.set_exception(conn)
                return
            def on_channel(ch):
                def on_declared(frame):
                    result.set(frame.method.queue)
                    conn.close()
                ch.queue_declare('', exclusive=True, callback=on_declared)
            conn.channel(on_open_callback=on_channel)
        GeventConnection.create_connection(
            [pika.ConnectionParameters(host, port)], on_done)
        return result.get(timeout=20)

    greenlets = [gevent.spawn(round_trip, n) for n in range(4)]
    gevent.joinall(greenlets, timeout=30, raise_error=True)
    names = [g.value for g in greenlets]
    assert all(name.startswith('amq.gen-') for name in names), names
    print('OK', len(set(names)))
''')


def test_gevent_monkey_patched_connections_in_greenlets():
    host = 'localhost' if BROKER_HOST == '127.0.0.1' else BROKER_HOST
    out = _run(['-c', MONKEY_CONNECTIONS, host, BROKER_PORT])
    assert 'OK 4' in out


MONKEY_TLS = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import ssl, sys
    import gevent.event
    import pika
    from pika.adapters.gevent_connection import GeventConnection
    host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    context = ssl.create_default_context(cafile=ca)
    params = pika.ConnectionParameters(
        host, port, ssl_options=pika.SSLOptions(context, 'localhost'))
    result = gevent.event.AsyncResult()

    def on_open(conn):
        def on_channel(ch):
            def on_declared(frame):
                queue = frame.method.queue
                ch.basic_publish('', queue, b'z' * 300000)
                ch.basic_consume(
                    queue,
                    lambda c, m, p, body: (result.set(body), conn.close()),
                    auto_ack=True)
            ch.queue_declare('', exclusive=True, callback=on_declared)
        conn.channel(on_open_callback=on_channel)

    GeventConnection(
        params,
        on_open_callback=on_open,
        on_open_error_callback=lambda c, e: result.set_exception(e))
    body = result.get(timeout=20)
    assert body == b'z' * 300000
    print('OK TLS')
''')


@pytest.mark.tls
def test_gevent_monkey_patched_tls(broker_certs, broker_tls_port):
    out = _run(
        ['-c', MONKEY_TLS, BROKER_HOST, broker_tls_port, broker_certs['ca']])
    assert 'OK TLS' in out
