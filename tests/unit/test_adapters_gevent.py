"""gevent adapter: the hub loop wrapper and connection construction.

No broker and no sockets: file descriptor tests use pipes. The monkey-patched
variant runs in a subprocess so this process stays unpatched.
"""

import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import gevent
import gevent.event
import pytest

from pika import connection
from pika.adapters import gevent_connection
from pika.adapters.gevent_connection import (GeventConnection,
                                             _GeventSelectorIOLoop)
from pika.adapters.utils import nbio_interface
from pika.adapters.utils.selector_ioloop_adapter import (
    AbstractSelectorIOLoop, SelectorIOServicesAdapter)

TIMEOUT = 5


@pytest.fixture
def loop():
    value = _GeventSelectorIOLoop(gevent.get_hub())
    yield value
    value.close()


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def run_until(event: gevent.event.Event) -> None:
    assert event.wait(TIMEOUT), 'timed out'


def test_event_constants(loop):
    assert isinstance(loop, AbstractSelectorIOLoop)
    assert (loop.READ, loop.WRITE, loop.ERROR) == (1, 2, 0)


def test_default_hub():
    value = _GeventSelectorIOLoop()
    assert value._hub is gevent.get_hub()


def test_read_handler(loop, pipe):
    read_fd, write_fd = pipe
    seen = []
    done = gevent.event.Event()

    def on_event(fd, events):
        seen.append((fd, events))
        os.read(fd, 100)
        done.set()

    loop.add_handler(read_fd, on_event, loop.READ)
    os.write(write_fd, b'x')
    run_until(done)
    assert seen == [(read_fd, loop.READ)]
    # pika 1.4: a second registration replaces the first
    loop.add_handler(read_fd, on_event, loop.READ)
    assert len(loop._io_watchers_by_fd) == 1


def test_update_and_remove_handler(loop, pipe):
    _read_fd, write_fd = pipe
    seen = []
    writable = gevent.event.Event()

    def on_event(fd, events):
        seen.append(events)
        writable.set()

    loop.add_handler(write_fd, on_event, loop.READ)
    gevent.sleep(0.02)
    assert seen == []
    loop.update_handler(write_fd, loop.WRITE)
    run_until(writable)
    assert seen[0] == loop.WRITE
    loop.remove_handler(write_fd)
    count = len(seen)
    gevent.sleep(0.02)
    assert len(seen) == count
    assert write_fd not in loop._io_watchers_by_fd
    with pytest.raises(KeyError):  # unknown fd, as pika 1.4
        loop.remove_handler(write_fd)


def test_call_later_and_remove_timeout(loop):
    fired = []
    done = gevent.event.Event()
    cancelled = loop.call_later(0.01, lambda: fired.append('cancelled'))
    loop.call_later(0.02, lambda: (fired.append('kept'), done.set()))
    loop.remove_timeout(cancelled)
    run_until(done)
    gevent.sleep(0.02)
    assert fired == ['kept']
    with pytest.raises(TypeError):
        loop.call_later(1, 'not callable')


def test_call_later_measures_from_real_time_after_idle_hub(loop):
    gevent.sleep(0.001)
    time.sleep(0.2)  # the hub's cached time goes stale meanwhile
    fired = []
    started = time.monotonic()
    loop.call_later(0.05, lambda: fired.append(time.monotonic() - started))
    gevent.sleep(0.2)
    assert fired and fired[0] >= 0.045, fired


def test_start_blocks_until_stop(loop):
    loop.call_later(0.01, loop.stop)
    started = time.monotonic()
    loop.start()
    assert 0.005 < time.monotonic() - started < TIMEOUT
    # stop() before start(): start() returns at once.
    loop.stop()
    started = time.monotonic()
    loop.start()
    assert time.monotonic() - started < 0.5


def test_add_callback_same_thread(loop):
    calls = []
    loop.add_callback(lambda: calls.append(1))
    assert calls == []
    gevent.sleep(0)
    gevent.sleep(0.01)
    assert calls == [1]
    with pytest.raises(TypeError):
        loop.add_callback(None)


def test_add_callback_from_other_thread_wakes_hub(loop):
    calls = []

    def worker():
        time.sleep(0.05)
        loop.add_callback(lambda: calls.append(threading.get_ident()))
        loop.add_callback(loop.stop)

    # Keep the hub alive (a pending timer) while it waits for the thread.
    guard = loop.call_later(TIMEOUT, loop.stop)
    thread = threading.Thread(target=worker)
    thread.start()
    started = time.monotonic()
    loop.start()
    thread.join()
    loop.remove_timeout(guard)
    assert time.monotonic() - started < TIMEOUT - 1
    assert calls == [threading.get_ident()]


def test_several_greenlets_share_loop(loop):
    results = []

    def worker(number):
        done = gevent.event.Event()
        loop.call_later(0.01 * number, lambda:
                        (results.append(number), done.set()))
        done.wait(TIMEOUT)

    greenlets = [gevent.spawn(worker, n) for n in (3, 1, 2)]
    gevent.joinall(greenlets, timeout=TIMEOUT)
    assert results == [1, 2, 3]


def test_close_stops_watchers(loop, pipe):
    read_fd, write_fd = pipe
    seen = []
    loop.add_handler(read_fd, lambda fd, ev: seen.append(ev), loop.READ)
    loop.close()
    os.write(write_fd, b'x')
    gevent.sleep(0.02)
    assert seen == []
    assert loop._io_watchers_by_fd == {}


def test_getaddrinfo_in_greenlet(loop):
    services = gevent_connection._GeventSelectorIOServicesAdapter(loop)
    done = gevent.event.Event()
    results = []

    def on_done(result):
        results.append(result)
        done.set()

    ref = services.getaddrinfo('127.0.0.1', 5672, on_done)
    assert isinstance(ref, nbio_interface.AbstractIOReference)
    run_until(done)
    (result,) = results
    assert isinstance(result, list)
    assert result[0][4][:2] == ('127.0.0.1', 5672)
    assert ref.cancel() is False


def test_getaddrinfo_cancel(loop):
    services = gevent_connection._GeventSelectorIOServicesAdapter(loop)
    results = []
    ref = services.getaddrinfo('127.0.0.1', 1, results.append)
    assert ref.cancel() is True
    assert ref.cancel() is False
    gevent.sleep(0.05)
    assert results == []


def test_getaddrinfo_error_is_reported(loop):
    services = gevent_connection._GeventSelectorIOServicesAdapter(loop)
    done = gevent.event.Event()
    results = []
    services.getaddrinfo('no-such-host.invalid', 1, lambda r:
                         (results.append(r), done.set()))
    run_until(done)
    assert isinstance(results[0], OSError)


# -- GeventConnection construction ---------------------------------------------


def make(custom_ioloop=None):
    return GeventConnection(connection.ConnectionParameters(),
                            custom_ioloop=custom_ioloop,
                            internal_connection_workflow=False)


def test_default_ioloop_is_selector_loop_on_current_hub():
    conn = make()
    assert isinstance(conn.ioloop, _GeventSelectorIOLoop)
    assert conn.ioloop._hub is gevent.get_hub()
    assert isinstance(conn._nbio,
                      gevent_connection._GeventSelectorIOServicesAdapter)
    assert isinstance(conn._nbio, SelectorIOServicesAdapter)


def test_custom_ioloop_kinds(loop):
    assert make(loop).ioloop is loop
    assert isinstance(make(gevent.get_hub()).ioloop, _GeventSelectorIOLoop)
    assert isinstance(make(gevent.get_hub().loop).ioloop, _GeventSelectorIOLoop)
    services = gevent_connection._GeventSelectorIOServicesAdapter(loop)
    assert make(services)._nbio is services


def test_bad_custom_ioloop():
    with pytest.raises(TypeError, match='custom_ioloop'):
        make(object())


def test_create_connection_factory_rejects_none(loop):
    captured = {}

    class Workflow:

        def start(self, connection_configs, connector_factory, native_loop,
                  on_done):
            captured['native_loop'] = native_loop
            captured['factory'] = connector_factory

    workflow = Workflow()
    result = GeventConnection.create_connection(
        [connection.ConnectionParameters()],
        on_done=lambda _: None,
        custom_ioloop=loop,
        workflow=workflow)
    assert result is workflow
    assert captured['native_loop'] is loop
    connector = captured['factory']()
    conn = connector._conn_factory(
        connection.ConnectionParameters()).conn  # the stream-protocol shim
    assert isinstance(conn, GeventConnection) and conn.ioloop is loop
    with pytest.raises(ValueError):
        connector._conn_factory(None)


MONKEY_SCRIPT = textwrap.dedent('''
    from gevent import monkey
    monkey.patch_all()
    import os, threading, time
    import gevent, gevent.event
    from pika.adapters.gevent_connection import _GeventSelectorIOLoop
    loop = _GeventSelectorIOLoop()
    r, w = os.pipe()
    os.set_blocking(r, False)
    got = []
    done = gevent.event.Event()
    def on_read(fd, events):
        got.append(os.read(fd, 10))
        done.set()
    loop.add_handler(r, on_read, loop.READ)
    def writer():
        time.sleep(0.01)   # patched: cooperative
        os.write(w, b'ping')
    threading.Thread(target=writer).start()   # patched: a greenlet
    assert done.wait(5)
    loop.call_later(0.01, loop.stop)
    loop.start()
    print('OK', got)
''')


def test_monkey_patched_subprocess():
    env = dict(os.environ)
    project_root = pathlib.Path(gevent_connection.__file__).parents[2]
    env['PYTHONPATH'] = os.pathsep.join(
        [str(project_root)] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run([sys.executable, '-c', MONKEY_SCRIPT],
                          capture_output=True,
                          text=True,
                          timeout=30,
                          env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "OK [b'ping']" in proc.stdout
