"""Every adapter's I/O services run a ``call_soon`` callback on the next
``run_once``; ``IOLoop.run_once`` honours its timeout; the interface's
defaults serve I/O services written against pika 1.4; a connection
subclass's ``_adapter_emit_data`` sees every write once the stream is up.
"""

import asyncio
import time
from typing import Any, List

import pytest

from pika.adapters import base_connection, select_connection
from pika.adapters.asyncio_connection import _AsyncioIOServicesAdapter
from pika.adapters.utils import nbio_interface
from pika.adapters.utils.selector_ioloop_adapter import (
    SelectorIOServicesAdapter)


def _select_services():
    return SelectorIOServicesAdapter(select_connection.IOLoop())


def _asyncio_services():
    return _AsyncioIOServicesAdapter(asyncio.new_event_loop())


def _tornado_services():
    from tornado import ioloop
    return SelectorIOServicesAdapter(ioloop.IOLoop())


def _gevent_services():
    from pika.adapters import gevent_connection
    return gevent_connection._GeventSelectorIOServicesAdapter(
        gevent_connection._GeventSelectorIOLoop())


SERVICES = {
    'select': _select_services,
    'asyncio': _asyncio_services,
    'tornado': _tornado_services,
    'gevent': _gevent_services,
}


@pytest.mark.parametrize('kind', sorted(SERVICES))
def test_call_soon_runs_on_the_next_run_once(kind):
    nbio = SERVICES[kind]()
    calls: List[str] = []
    try:
        nbio.call_soon(lambda: calls.append('soon'))
        assert calls == []
        start = time.monotonic()
        while not calls:
            nbio.run_once()
            assert time.monotonic() - start < 2.0
        assert calls == ['soon']
    finally:
        if kind != 'gevent':
            nbio.close()


def test_ioloop_run_once_waits_no_longer_than_its_timeout():
    loop = select_connection.IOLoop()
    try:
        fired: List[bool] = []
        loop.call_later(3.0, lambda: fired.append(True))
        start = time.monotonic()
        loop.run_once(0.05)
        assert time.monotonic() - start < 1.0
        assert fired == []
    finally:
        loop.close()


def test_ioloop_run_once_does_not_wait_when_callbacks_are_queued():
    loop = select_connection.IOLoop()
    try:
        calls: List[str] = []
        loop.call_later(3.0, lambda: calls.append('timer'))
        loop.call_soon(lambda: calls.append('soon'))
        start = time.monotonic()
        loop.run_once()
        assert time.monotonic() - start < 1.0
        assert calls == ['soon']
    finally:
        loop.close()


def test_ioloop_run_ready_callbacks_runs_only_those_queued_before():
    loop = select_connection.IOLoop()
    try:
        calls: List[str] = []

        def first() -> None:
            calls.append('first')
            loop.call_soon(lambda: calls.append('nested'))

        loop.call_soon(first)
        loop.run_ready_callbacks()
        assert calls == ['first']
        loop.run_ready_callbacks()
        assert calls == ['first', 'nested']
    finally:
        loop.close()


def test_ioloop_call_soon_rejects_a_non_callable():
    loop = select_connection.IOLoop()
    try:
        with pytest.raises(TypeError, match='callback'):
            loop.call_soon('not callable')  # type: ignore[arg-type]
    finally:
        loop.close()


def test_ioloop_has_what_the_blocking_layer_drives():
    members = [
        name for name in vars(nbio_interface.PumpedLoop)
        if not name.startswith('_')
    ]
    assert 'run_once' in members and 'call_soon' in members
    for name in members:
        assert callable(getattr(select_connection.IOLoop, name)), name


class _Pika14Services:
    """Stands for I/O services written against pika 1.4's interface."""

    def __init__(self) -> None:
        self.threadsafe: List[Any] = []

    def add_callback_threadsafe(self, callback: Any) -> None:
        self.threadsafe.append(callback)


def test_default_call_soon_goes_through_add_callback_threadsafe():
    services = _Pika14Services()

    def callback() -> None:
        pass

    nbio_interface.AbstractIOServices.call_soon(
        services,  # type: ignore[arg-type]
        callback)
    assert services.threadsafe == [callback]


def test_default_run_once_says_it_is_not_implemented():
    with pytest.raises(NotImplementedError, match='run_once'):
        nbio_interface.AbstractIOServices.run_once(
            _Pika14Services())  # type: ignore[arg-type]


class _Transport:

    def __init__(self) -> None:
        self.written: List[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def get_write_buffer_size(self) -> int:
        return 0


class _RecordingConnection(base_connection.BaseConnection):

    def __init__(self, nbio: Any) -> None:
        self.emitted: List[bytes] = []
        super().__init__(None,
                         None,
                         None,
                         None,
                         nbio,
                         internal_connection_workflow=False)

    def _adapter_emit_data(self, data: bytes) -> None:
        self.emitted.append(data)
        super()._adapter_emit_data(data)


def test_a_subclass_emit_override_sees_writes_after_the_stream_is_up():
    nbio = _select_services()
    try:
        conn = _RecordingConnection(nbio)
        transport = _Transport()
        conn._proto_connection_made(transport)  # type: ignore[arg-type]
        # The protocol header went through the override to the transport.
        assert conn.emitted and conn.emitted[0].startswith(b'AMQP')
        assert b''.join(transport.written) == b''.join(conn.emitted)
    finally:
        nbio.close()


def test_emitted_data_goes_to_the_transport_only_while_the_stream_is_up():
    nbio = _select_services()
    try:
        errors: List[BaseException] = []
        conn = base_connection.BaseConnection(
            None,
            None,
            lambda _conn, error: errors.append(error),
            None,
            nbio,
            internal_connection_workflow=False)
        conn._adapter_emit_data(b'before')  # dropped: no transport yet
        transport = _Transport()
        conn._proto_connection_made(transport)  # type: ignore[arg-type]
        header = b''.join(transport.written)
        assert header.startswith(b'AMQP')
        conn._adapter_emit_data(b'during')
        assert transport.written[-1] == b'during'
        conn._proto_connection_lost(None)
        conn._adapter_emit_data(b'after')  # dropped: the stream is gone
        assert b''.join(transport.written) == header + b'during'
        assert len(errors) == 1  # lost during the handshake
    finally:
        nbio.close()
