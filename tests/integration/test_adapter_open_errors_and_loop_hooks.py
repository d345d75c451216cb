"""SelectConnection (every poller), TornadoConnection and GeventConnection
open, fail, report ``create_connection`` results and serve the adapter loop
hooks as pika 1.4.4 does, on a loop of the pika ``IOLoop`` interface
(``start``/``stop``/``call_later``/``remove_timeout``).

Every expectation was first observed on pika 1.4.4 against the same broker
(differential runs). Each case runs on a private loop passed as
``custom_ioloop`` (a select ``IOLoop`` with a forced poller, a Tornado
``IOLoop(make_current=False)`` or a ``_GeventSelectorIOLoop``) and is bounded
by a guard timer; the cases that need the thread's default loop or gevent's
monkey patching run in a child interpreter. AsyncioConnection's loop is an
asyncio loop (no ``start``/``remove_timeout``); its open and close results
are checked in test_async_callbacks_states_and_errors.py.
"""

import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, List, Tuple

import pytest

import pika
from pika import exceptions
from pika.adapters import select_connection
from pika.adapters.utils import connection_workflow

from async_harness import BROKER_HOST, BROKER_PORT, broker_params

GUARD_SECONDS = 8
REFUSED_PORT = 1


def _tornado() -> Tuple[Any, Callable[[], Any]]:
    from tornado import ioloop
    from pika.adapters.tornado_connection import TornadoConnection
    return TornadoConnection, lambda: ioloop.IOLoop(make_current=False)


def _gevent() -> Tuple[Any, Callable[[], Any]]:
    from pika.adapters.gevent_connection import (GeventConnection,
                                                 _GeventSelectorIOLoop)
    return GeventConnection, _GeventSelectorIOLoop


def _select(poller: str) -> Callable[[], Tuple[Any, Callable[[], Any]]]:

    def new_loop() -> Any:
        saved = select_connection.SELECT_TYPE
        select_connection.SELECT_TYPE = poller
        try:
            return select_connection.IOLoop()
        finally:
            select_connection.SELECT_TYPE = saved

    return lambda: (pika.SelectConnection, new_loop)


ADAPTERS = {
    'select-select': _select('select'),
    'select-poll': _select('poll'),
    'select-epoll': _select('epoll'),
    'tornado': _tornado,
    'gevent': _gevent,
}


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: Any) -> Tuple[Any, Callable[[], Any]]:
    return ADAPTERS[request.param]()


@pytest.fixture(params=['gevent', 'tornado'])
def logging_adapter(request: Any) -> Tuple[Any, Callable[[], Any]]:
    """The adapters whose loops log an error escaping a callback (the
    select IOLoop lets it out of ``start()``)."""
    return ADAPTERS[request.param]()


def run_loop(loop: Any, seconds: float = GUARD_SECONDS) -> List[str]:
    """Run ``loop`` until stopped; the guard stops it and reports."""
    timed_out: List[str] = []
    guard = loop.call_later(seconds, lambda:
                            (timed_out.append('TIMEOUT'), loop.stop()))
    loop.start()
    loop.remove_timeout(guard)
    return timed_out


def open_and_report(adapter: Any, params: Any):
    """Connect; return the events (name, argument) seen until the end."""
    conn_class, make_loop = adapter
    loop = make_loop()
    events: List[Tuple[str, Any]] = []

    def on_open(conn: Any) -> None:
        events.append(('open', conn))
        conn.close()

    def on_open_error(_conn: Any, error: BaseException) -> None:
        events.append(('open_error', error))
        loop.stop()

    def on_close(_conn: Any, reason: BaseException) -> None:
        events.append(('close', reason))
        loop.stop()

    conn = conn_class(params,
                      on_open_callback=on_open,
                      on_open_error_callback=on_open_error,
                      on_close_callback=on_close,
                      custom_ioloop=loop)
    assert conn.ioloop is loop
    assert run_loop(loop) == []
    return conn, events


def test_refused_open_error_after_every_attempt(adapter):
    params = broker_params(port=REFUSED_PORT,
                           connection_attempts=2,
                           retry_delay=0.05)
    _conn, events = open_and_report(adapter, params)
    assert [name for name, _ in events] == ['open_error']
    error = events[0][1]
    assert type(error) is exceptions.AMQPConnectionError
    failed = error.args[0]
    assert isinstance(failed, connection_workflow.AMQPConnectionWorkflowFailed)
    assert len(failed.exceptions) == 2
    assert all(
        isinstance(exc, connection_workflow.AMQPConnectorSocketConnectError)
        for exc in failed.exceptions)
    assert 'TCP connection' in str(error)  # pika 1.4: ''


def create(adapter: Any, configs: List[Any], abort: str = '') -> List[Any]:
    conn_class, make_loop = adapter
    loop = make_loop()
    results: List[Any] = []

    def on_done(result: Any) -> None:
        results.append(result)
        if isinstance(result, pika.connection.Connection):
            assert result.ioloop is loop and result.is_open
            result.add_on_close_callback(lambda *_: loop.stop())
            result.close()
        else:
            loop.stop()

    workflow = conn_class.create_connection(configs,
                                            on_done,
                                            custom_ioloop=loop)
    assert isinstance(workflow, connection_workflow.AMQPConnectionWorkflow)
    if abort == 'now':
        workflow.abort()
    elif abort == 'soon':
        loop.add_callback(workflow.abort)
    assert run_loop(loop) == []
    with pytest.raises(connection_workflow.AMQPConnectorWrongState) as info:
        workflow.abort()
    assert str(info.value) == 'Cannot abort after completion was reported'
    return results


def test_create_connection_results(adapter):
    refused = broker_params(port=REFUSED_PORT)
    badpass = broker_params(
        credentials=pika.PlainCredentials('guest', 'acc2-bad'))
    (conn,) = create(adapter, [refused, broker_params()])
    assert isinstance(conn, adapter[0]) and conn.is_closed
    (conn,) = create(adapter, [badpass, broker_params()])
    assert isinstance(conn, adapter[0])
    (failed,) = create(adapter, [refused])
    assert type(failed) is connection_workflow.AMQPConnectionWorkflowFailed
    assert [type(exc) for exc in failed.exceptions
           ] == [connection_workflow.AMQPConnectorSocketConnectError]
    (failed,) = create(adapter, [badpass])
    assert [type(exc) for exc in failed.exceptions
           ] == [connection_workflow.AMQPConnectorAMQPHandshakeError]
    for abort in ('now', 'soon'):
        (aborted,) = create(adapter, [broker_params()], abort=abort)
        assert type(
            aborted) is connection_workflow.AMQPConnectionWorkflowAborted
    with pytest.raises(ValueError) as info:
        adapter[0].create_connection([], lambda _result: None)
    assert str(info.value) == 'connection_configs is empty: [].'
    with pytest.raises(TypeError) as info:
        adapter[0].create_connection(None, lambda _result: None)
    assert str(
        info.value) == ('connection_configs does not support iteration: '
                        'TypeError("\'NoneType\' object is not iterable")')


def test_loop_services_before_and_while_running(adapter):
    conn_class, make_loop = adapter
    loop = make_loop()
    events: List[str] = []
    conn = conn_class(
        broker_params(),
        on_open_callback=lambda c: events.append('open'),
        on_close_callback=lambda c, r:
        (events.append('closed ' + type(r).__name__), loop.stop()),
        custom_ioloop=loop)
    loop.stop()  # before start: start() returns promptly
    started = time.monotonic()
    assert run_loop(loop, 3) == []
    assert time.monotonic() - started < 1
    conn._adapter_add_callback_threadsafe(
        lambda: (events.append('threadsafe'), loop.stop()))
    assert run_loop(loop) == []
    hits: List[int] = []
    first = conn._adapter_call_later(0.05, lambda: hits.append(1))
    conn._adapter_call_later(0.05, lambda: hits.append(2))
    conn._adapter_remove_timeout(first)
    loop.call_later(0.2, loop.stop)
    assert run_loop(loop) == []
    assert hits == [2]
    with pytest.raises(TypeError) as info:
        conn._adapter_add_callback_threadsafe(None)
    assert str(info.value) == 'callback must be a callable, but got None'

    def from_thread() -> None:
        while 'open' not in events:
            time.sleep(0.01)
        conn._adapter_add_callback_threadsafe(
            lambda: (events.append('from thread'), conn.close()))

    thread = threading.Thread(target=from_thread, daemon=True)
    thread.start()
    assert run_loop(loop) == []
    thread.join(5)
    assert events == [
        'threadsafe', 'open', 'from thread', 'closed ConnectionClosedByClient'
    ]


CHILD_TORNADO = textwrap.dedent('''
    import asyncio, sys
    import pika
    from tornado import ioloop
    from pika.adapters.tornado_connection import TornadoConnection
    params = pika.ConnectionParameters(sys.argv[1], int(sys.argv[2]))
    seen = []

    async def main():
        current = ioloop.IOLoop.current()
        done = asyncio.get_running_loop().create_future()
        conn = TornadoConnection(
            params, on_open_callback=lambda c: c.close(),
            on_close_callback=lambda c, r: done.set_result(type(r).__name__))
        seen.append(conn.ioloop is current)
        seen.append(await asyncio.wait_for(done, 10))

    asyncio.run(main())
    loop = ioloop.IOLoop.current()
    conn = TornadoConnection(
        params, on_open_callback=lambda c: c.close(),
        on_close_callback=lambda c, r: (seen.append(type(r).__name__),
                                        loop.stop()))
    seen.append(conn.ioloop is loop)
    loop.call_later(10, loop.stop)
    loop.start()
    print(seen)
''')

CHILD_GEVENT_PATCHED = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import sys, time, uuid
    import gevent
    import pika
    from pika.adapters.gevent_connection import (GeventConnection,
                                                 _GeventSelectorIOLoop)
    params = pika.ConnectionParameters(sys.argv[1], int(sys.argv[2]))
    results = {}

    def worker(i):
        got = []
        def on_channel(ch):
            q = 'acc2-gevent-%d-%s' % (i, uuid.uuid4().hex)
            def declared(_frame):
                for n in range(5):
                    ch.basic_publish('', q, b'%d-%d' % (i, n))
                ch.basic_consume(q, on_msg, auto_ack=True)
            ch.queue_declare(q, exclusive=True, callback=declared)
        def on_msg(ch, method, props, body):
            got.append(body.decode())
            if len(got) == 5:
                ch.connection.close()
        def on_close(conn, reason):
            results[i] = (got, type(reason).__name__)
            conn.ioloop.stop()
        conn = GeventConnection(
            params, on_open_callback=lambda c: c.channel(
                on_open_callback=on_channel), on_close_callback=on_close)
        assert isinstance(conn.ioloop, _GeventSelectorIOLoop)
        guard = conn.ioloop.call_later(10, conn.ioloop.stop)
        conn.ioloop.start()
        conn.ioloop.remove_timeout(guard)
        return i

    greenlets = [gevent.spawn(worker, i) for i in range(3)]
    gevent.joinall(greenlets, timeout=20)
    print(sorted(g.value for g in greenlets))
    print([results.get(i) for i in range(3)])

    def blocking(i):
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        q = ch.queue_declare('', exclusive=True).method.queue
        ch.basic_publish('', q, b'x%d' % i)
        gevent.sleep(0.05)
        body = ch.basic_get(q, auto_ack=True)[2]
        conn.close()
        return body

    greenlets = [gevent.spawn(blocking, i) for i in range(3)]
    gevent.joinall(greenlets, timeout=20)
    print([g.value for g in greenlets])
''')


def run_child(script: str) -> List[str]:
    env = dict(os.environ)
    root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env['PYTHONPATH'] = root + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run(
        [sys.executable, '-c', script, BROKER_HOST,
         str(BROKER_PORT)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.splitlines()


def test_tornado_default_loop_is_ioloop_current():
    lines = run_child(CHILD_TORNADO)
    assert lines == [
        "[True, 'ConnectionClosedByClient', True, 'ConnectionClosedByClient']"
    ]


def test_gevent_monkey_patched_greenlets():
    lines = run_child(CHILD_GEVENT_PATCHED)
    expected = [(['%d-%d' % (i, n)
                  for n in range(5)], 'ConnectionClosedByClient')
                for i in range(3)]
    assert lines == ['[0, 1, 2]', repr(expected), "[b'x0', b'x1', b'x2']"]


@pytest.mark.parametrize('case', ['badpass', 'badvhost', 'refused'])
def test_default_open_error_callback(logging_adapter, case, monkeypatch):
    """Without an on_open_error_callback pika 1.4.4 raises from the loop only
    when the stack never came up (here: refused); a failed AMQP handshake
    is logged, the connection just ends closed."""
    conn_class, make_loop = logging_adapter
    loop = make_loop()
    if case == 'badpass':
        params = broker_params(
            credentials=pika.PlainCredentials('guest', 'acc2-bad'))
    elif case == 'badvhost':
        params = broker_params(virtual_host='/acc2-no-such-vhost')
    else:
        params = broker_params(port=REFUSED_PORT)
    raised: List[BaseException] = []
    original = conn_class._default_on_connection_error

    def default(self: Any, connection: Any, error: BaseException) -> None:
        raised.append(error)
        loop.stop()
        original(self, connection, error)

    monkeypatch.setattr(conn_class, '_default_on_connection_error', default)
    conn = conn_class(params, custom_ioloop=loop)
    for _ in range(20):
        if conn.is_closed:
            break
        run_loop_quietly(loop, 0.2)
    assert conn.is_closed
    if case == 'refused':
        assert len(raised) == 1
        assert type(raised[0]) is exceptions.AMQPConnectionError
        assert isinstance(raised[0].args[0],
                          connection_workflow.AMQPConnectionWorkflowFailed)
    else:
        assert raised == []


def run_loop_quietly(loop: Any, seconds: float) -> None:
    """Run ``loop`` for ``seconds``; errors escaping callbacks are the
    loop's business (Tornado and gevent log them)."""
    guard = loop.call_later(seconds, loop.stop)
    try:
        loop.start()
    finally:
        loop.remove_timeout(guard)
