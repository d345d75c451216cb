"""Tornado adapter: the IOLoop wrapper and connection construction.

No broker and no sockets: file descriptor tests use pipes, each test runs
on a fresh Tornado ``IOLoop``.
"""

import asyncio
import os
import threading
import time

import pytest
from tornado import ioloop

from pika import connection
from pika.adapters import tornado_connection
from pika.adapters.tornado_connection import (TornadoConnection,
                                              _TornadoIOLoopAdapter)
from pika.adapters.utils.selector_ioloop_adapter import (
    AbstractSelectorIOLoop, SelectorIOServicesAdapter)

TIMEOUT = 5


@pytest.fixture
def tornado_loop():
    asyncio_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(asyncio_loop)
    value = ioloop.IOLoop.current()
    yield value
    value.close(all_fds=False)
    asyncio.set_event_loop(None)


@pytest.fixture
def adapter(tornado_loop):
    return _TornadoIOLoopAdapter(tornado_loop)


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def run(adapter: _TornadoIOLoopAdapter) -> None:
    """Run until stopped, failing after TIMEOUT."""
    timer = adapter.call_later(TIMEOUT, adapter.stop)
    started = time.monotonic()
    adapter.start()
    adapter.remove_timeout(timer)
    assert time.monotonic() - started < TIMEOUT, 'timed out'


def test_constants_follow_tornado(adapter):
    assert isinstance(adapter, AbstractSelectorIOLoop)
    assert adapter.READ == ioloop.IOLoop.READ
    assert adapter.WRITE == ioloop.IOLoop.WRITE
    assert adapter.ERROR == ioloop.IOLoop.ERROR


def test_read_handler(adapter, pipe):
    read_fd, write_fd = pipe
    seen = []

    def on_event(fd, events):
        seen.append((fd, events & adapter.READ))
        os.read(fd, 10)
        adapter.remove_handler(fd)
        adapter.stop()

    adapter.add_handler(read_fd, on_event, adapter.READ)
    os.write(write_fd, b'x')
    run(adapter)
    assert seen == [(read_fd, adapter.READ)]


def test_update_handler_to_write(adapter, pipe):
    _read_fd, write_fd = pipe
    seen = []

    def on_event(fd, events):
        seen.append(events)
        adapter.remove_handler(fd)
        adapter.stop()

    adapter.add_handler(write_fd, on_event, adapter.READ)
    adapter.update_handler(write_fd, adapter.WRITE)
    run(adapter)
    assert seen and seen[0] & adapter.WRITE


def test_timers(adapter):
    fired = []
    cancelled = adapter.call_later(0.01, lambda: fired.append('cancelled'))
    adapter.call_later(0.005, lambda: fired.append('kept'))
    adapter.call_later(0.03, adapter.stop)
    adapter.remove_timeout(cancelled)
    run(adapter)
    assert fired == ['kept']
    with pytest.raises(TypeError):
        adapter.call_later(1, 'not callable')


def test_add_callback_from_thread(adapter):
    calls = []

    def worker():
        time.sleep(0.02)
        adapter.add_callback(lambda: calls.append(threading.get_ident()))
        adapter.add_callback(adapter.stop)

    thread = threading.Thread(target=worker)
    thread.start()
    run(adapter)
    thread.join()
    assert calls == [threading.get_ident()]


def test_services_report_tornado_loop(tornado_loop):
    services = tornado_connection._TornadoIOServicesAdapter(tornado_loop)
    assert isinstance(services, SelectorIOServicesAdapter)
    assert services.get_native_ioloop() is tornado_loop
    done = []
    services.call_later(0.005, lambda: (done.append(1), services.stop()))
    services.run()
    assert done == [1]


def make(custom_ioloop=None):
    return TornadoConnection(connection.ConnectionParameters(),
                             custom_ioloop=custom_ioloop,
                             internal_connection_workflow=False)


def test_default_is_current_ioloop(tornado_loop):
    conn = make()
    assert conn.ioloop is tornado_loop
    # pika 1.4: the generic selector services over the Tornado loop itself
    assert type(conn._nbio) is SelectorIOServicesAdapter
    assert conn._nbio.get_native_ioloop() is tornado_loop


def test_custom_ioloop_and_services(tornado_loop):
    assert make(tornado_loop).ioloop is tornado_loop
    services = tornado_connection._TornadoIOServicesAdapter(tornado_loop)
    assert make(services)._nbio is services


def test_bad_custom_ioloop(tornado_loop):
    with pytest.raises(TypeError, match='custom_ioloop'):
        make(object())


def test_create_connection_uses_workflow(tornado_loop):
    captured = {}

    class Workflow:

        def start(self, connection_configs, connector_factory, native_loop,
                  on_done):
            captured['configs'] = connection_configs
            captured['native_loop'] = native_loop
            captured['factory'] = connector_factory

    workflow = Workflow()
    configs = [connection.ConnectionParameters()]
    assert TornadoConnection.create_connection(configs,
                                               lambda _: None,
                                               workflow=workflow) is workflow
    assert captured['configs'] == configs
    assert captured['native_loop'] is tornado_loop
    connector = captured['factory']()
    conn = connector._conn_factory(connection.ConnectionParameters())
    assert isinstance(conn, TornadoConnection)
    assert conn.ioloop is tornado_loop
    with pytest.raises(ValueError):
        connector._conn_factory(None)
