"""Tornado adapter: the selector I/O services over a real Tornado ``IOLoop``
and connection construction.

As in pika 1.4, TornadoConnection runs the generic
:class:`SelectorIOServicesAdapter` directly on the Tornado loop. No broker and
no sockets: file descriptor tests use pipes, each test runs on a fresh
Tornado ``IOLoop``.
"""

import asyncio
import os
import threading
import time

import pytest
from tornado import ioloop

from pika import connection
from pika.adapters.tornado_connection import TornadoConnection
from pika.adapters.utils import nbio_interface
from pika.adapters.utils.selector_ioloop_adapter import \
    SelectorIOServicesAdapter

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
def services(tornado_loop):
    return SelectorIOServicesAdapter(tornado_loop)


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def run(services: SelectorIOServicesAdapter) -> None:
    """Run until stopped, failing after TIMEOUT."""
    timer = services.call_later(TIMEOUT, services.stop)
    started = time.monotonic()
    services.run()
    timer.cancel()
    assert time.monotonic() - started < TIMEOUT, 'timed out'


def test_services_report_tornado_loop(tornado_loop, services):
    assert isinstance(services, nbio_interface.AbstractIOServices)
    assert isinstance(services, nbio_interface.AbstractFileDescriptorServices)
    assert services.get_native_ioloop() is tornado_loop


def test_run_until_stop(services):
    done = []
    services.call_later(0.005, lambda: (done.append(1), services.stop()))
    started = time.monotonic()
    services.run()
    assert done == [1]
    assert time.monotonic() - started < TIMEOUT


def test_reader(services, pipe):
    read_fd, write_fd = pipe
    seen = []

    def on_readable():
        seen.append(os.read(read_fd, 10))
        seen.append(services.remove_reader(read_fd))
        services.stop()

    services.set_reader(read_fd, on_readable)
    os.write(write_fd, b'x')
    run(services)
    assert seen == [b'x', True]
    # already removed
    assert services.remove_reader(read_fd) is False


def test_writer_added_to_a_watched_fd(services, pipe):
    # The write end of a pipe is never readable: after set_writer on an fd
    # already watched for reading, only the writer fires.
    _read_fd, write_fd = pipe
    seen = []

    def on_writable():
        seen.append('writable')
        assert services.remove_writer(write_fd) is True
        assert services.remove_reader(write_fd) is True
        services.stop()

    services.set_reader(write_fd, lambda: seen.append('readable'))
    services.set_writer(write_fd, on_writable)
    run(services)
    assert seen == ['writable']
    assert services.remove_writer(write_fd) is False
    assert services.remove_reader(write_fd) is False


def test_writer_feeds_reader(services, pipe):
    read_fd, write_fd = pipe
    seen = []

    def on_writable():
        os.write(write_fd, b'ping')
        assert services.remove_writer(write_fd) is True

    def on_readable():
        seen.append(os.read(read_fd, 10))
        services.remove_reader(read_fd)
        services.stop()

    services.set_reader(read_fd, on_readable)
    services.set_writer(write_fd, on_writable)
    run(services)
    assert seen == [b'ping']


def test_fd_services_check_arguments(services, pipe):
    read_fd, write_fd = pipe
    with pytest.raises(TypeError, match='on_readable'):
        services.set_reader(read_fd, 'not callable')
    with pytest.raises(TypeError, match='on_writable'):
        services.set_writer(write_fd, None)
    with pytest.raises(TypeError):
        services.set_reader('fd', lambda: None)
    with pytest.raises(TypeError):
        services.remove_writer(None)
    # nothing was registered by the failed calls
    assert services.remove_reader(read_fd) is False
    assert services.remove_writer(write_fd) is False


def test_timers(services):
    fired = []
    cancelled = services.call_later(0.01, lambda: fired.append('cancelled'))
    assert isinstance(cancelled, nbio_interface.AbstractTimerReference)
    services.call_later(0.005, lambda: fired.append('kept'))
    services.call_later(0.03, services.stop)
    cancelled.cancel()
    cancelled.cancel()  # idempotent
    run(services)
    assert fired == ['kept']
    with pytest.raises(TypeError):
        services.call_later(1, 'not callable')


def test_add_callback_threadsafe_from_thread(services):
    calls = []

    def worker():
        time.sleep(0.02)
        services.add_callback_threadsafe(
            lambda: calls.append(threading.get_ident()))
        services.add_callback_threadsafe(services.stop)

    thread = threading.Thread(target=worker)
    thread.start()
    run(services)
    thread.join()
    # ran on the loop's thread, not the worker's
    assert calls == [threading.get_ident()]
    with pytest.raises(TypeError, match='callback'):
        services.add_callback_threadsafe('not callable')


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


def test_given_ioloop(tornado_loop):
    other = ioloop.IOLoop(make_current=False)
    try:
        conn = make(other)
        assert conn.ioloop is other
        assert type(conn._nbio) is SelectorIOServicesAdapter
        assert conn._nbio.get_native_ioloop() is other
        assert ioloop.IOLoop.current() is tornado_loop
    finally:
        other.close(all_fds=False)


def test_given_io_services(tornado_loop, services):
    conn = make(services)
    assert conn._nbio is services
    assert conn.ioloop is tornado_loop


def test_bad_custom_ioloop(tornado_loop):
    with pytest.raises(TypeError, match='custom_ioloop'):
        make(object())
    with pytest.raises(TypeError, match='custom_ioloop'):
        make(tornado_loop.asyncio_loop)


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
    conn = connector._conn_factory(
        connection.ConnectionParameters()).conn  # the stream-protocol shim
    assert isinstance(conn, TornadoConnection)
    assert conn.ioloop is tornado_loop
    with pytest.raises(ValueError):
        connector._conn_factory(None)
    with pytest.raises(TypeError, match='custom_ioloop'):
        TornadoConnection.create_connection(configs,
                                            lambda _: None,
                                            custom_ioloop='loop',
                                            workflow=workflow)
