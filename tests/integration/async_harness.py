"""Scenario harness for the asynchronous adapters (fixtures: conftest.py).

Every scenario in ``test_async_*.py`` takes the ``adapter`` fixture, an
:class:`AdapterRunner` for one event loop, and is therefore run once per
registered adapter. To add an adapter, write a small runner class (how to make
its loop, plus the connection class; how to run, stop and close the loop and
set a timer only where it differs from the selector-style ``start``/``stop``/
``close``/``call_later``/``remove_timeout``) and list it in
:data:`ADAPTER_RUNNERS`, e.g.::

    class TornadoRunner(AdapterRunner):
        name = 'tornado'

        def _make_loop(self):
            ...

Scenarios drive a connection with callbacks and end the loop with
:meth:`Flow.finish`; an exception raised inside a callback is recorded and
re-raised by :meth:`Flow.run` (event loops such as asyncio would otherwise
only log it), and a scenario that does not finish in time fails.
"""

import asyncio
import functools
import os
import socket
import ssl
import uuid
from typing import Any, Callable, Dict, List, Optional

from pika import connection as pika_connection
from pika.adapters import select_connection
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.adapters.select_connection import IOLoop, SelectConnection

BROKER_HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
BROKER_PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))
BROKER_TLS_PORT = int(os.environ.get('PIKA_TEST_TLS_PORT', '5671'))


class ScenarioTimeout(AssertionError):
    """The scenario did not finish before its deadline."""


class AdapterRunner:
    """One event loop plus the matching connection class."""

    #: Short id used in test names.
    name = 'abstract'
    #: The BaseConnection subclass under test.
    connection_class: Any = None

    def __init__(self) -> None:
        self.loop = self._make_loop()

    # -- per adapter (the defaults suit selector-style loops) -----------------

    def _make_loop(self) -> Any:
        """Return a new native loop."""
        raise NotImplementedError

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        """Schedule ``callback`` on the loop; return a cancel()-able."""
        handle = self.loop.call_later(delay, callback)
        return _CancelHandle(functools.partial(self.loop.remove_timeout,
                                               handle))

    def _run_loop(self) -> None:
        """Run the loop until :meth:`stop`."""
        self.loop.start()

    def stop(self) -> None:
        """Stop the loop (called from a callback on the loop)."""
        self.loop.stop()

    def close(self) -> None:
        """Release the loop."""
        self.loop.close()

    # -- shared ---------------------------------------------------------------

    def run(self, timeout: float) -> None:
        """Run the loop until :meth:`stop`; fail after ``timeout`` s."""
        expired = []

        def expire() -> None:
            expired.append(True)
            self.stop()

        guard = self.call_later(timeout, expire)
        try:
            self._run_loop()
        finally:
            guard.cancel()
        if expired:
            raise ScenarioTimeout('scenario did not finish within %ss on %s' %
                                  (timeout, self.name))

    def connect(self,
                params: Any,
                on_open: Optional[Callable[..., Any]] = None,
                on_open_error: Optional[Callable[..., Any]] = None,
                on_close: Optional[Callable[..., Any]] = None) -> Any:
        """Create a connection on this loop (internal workflow)."""
        return self.connection_class(parameters=params,
                                     on_open_callback=on_open,
                                     on_open_error_callback=on_open_error,
                                     on_close_callback=on_close,
                                     custom_ioloop=self.loop)

    def create_connection(self, configs: List[Any],
                          on_done: Callable[[Any], Any]) -> Any:
        """Start ``create_connection`` on this loop; return the workflow."""
        return self.connection_class.create_connection(configs,
                                                       on_done,
                                                       custom_ioloop=self.loop)


class _CancelHandle:
    """Adapts a loop's timer handle to ``cancel()``."""

    def __init__(self, cancel: Callable[[], Any]) -> None:
        self.cancel = cancel


class SelectRunner(AdapterRunner):
    """SelectConnection on its own IOLoop with a forced poller."""

    poller = 'epoll'
    connection_class = SelectConnection

    def _make_loop(self) -> Any:
        saved = select_connection.SELECT_TYPE
        select_connection.SELECT_TYPE = self.poller
        try:
            return IOLoop()
        finally:
            select_connection.SELECT_TYPE = saved


class SelectSelectRunner(SelectRunner):
    name = 'select-select'
    poller = 'select'


class SelectPollRunner(SelectRunner):
    name = 'select-poll'
    poller = 'poll'


class SelectEPollRunner(SelectRunner):
    name = 'select-epoll'
    poller = 'epoll'


class AsyncioRunner(AdapterRunner):
    """AsyncioConnection on a private asyncio loop."""

    name = 'asyncio'
    connection_class = AsyncioConnection

    def _make_loop(self) -> Any:
        return asyncio.new_event_loop()

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        return self.loop.call_later(delay, callback)

    def _run_loop(self) -> None:
        self.loop.run_forever()


class TornadoRunner(AdapterRunner):
    """TornadoConnection on a private Tornado IOLoop."""

    name = 'tornado'

    @property
    def connection_class(self) -> Any:  # type: ignore[override]
        from pika.adapters.tornado_connection import TornadoConnection
        return TornadoConnection

    def _make_loop(self) -> Any:
        from tornado.platform.asyncio import AsyncIOLoop
        return AsyncIOLoop()


class GeventRunner(AdapterRunner):
    """GeventConnection on the gevent hub (no monkey patching)."""

    name = 'gevent'

    @property
    def connection_class(self) -> Any:  # type: ignore[override]
        from pika.adapters.gevent_connection import GeventConnection
        return GeventConnection

    def _make_loop(self) -> Any:
        from pika.adapters.gevent_connection import _GeventSelectorIOLoop
        return _GeventSelectorIOLoop()


#: The adapters every scenario runs on; add a runner class here to join.
ADAPTER_RUNNERS: List[type] = [
    SelectSelectRunner, SelectPollRunner, SelectEPollRunner, AsyncioRunner,
    TornadoRunner, GeventRunner
]


class Flow:
    """Scenario bookkeeping: results, failures raised in callbacks, end."""

    def __init__(self, runner: AdapterRunner) -> None:
        self.runner = runner
        self.result: Any = None
        self.errors: List[BaseException] = []
        self.events: List[Any] = []
        self.state: Dict[str, Any] = {}
        self.finished = False

    def cb(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a callback: record what it raises and end the scenario."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - re-raised later
                self.errors.append(error)
                self.finish()
                return None

        return wrapper

    def record(self, tag: str) -> Callable[..., Any]:
        """Callback appending ``(tag, *args)`` to :attr:`events`."""

        def callback(*args: Any) -> None:
            self.events.append((tag,) + args)

        return callback

    def finish(self, result: Any = None) -> None:
        """End the scenario with ``result``."""
        if not self.finished:
            self.finished = True
            self.result = result
            self.runner.stop()

    def run(self, timeout: float = 10.0) -> Any:
        """Run the loop until :meth:`finish`; re-raise callback errors."""
        self.runner.run(timeout)
        if self.errors:
            raise self.errors[0]
        return self.result


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def unique_name(prefix: str = 'pika-it') -> str:
    """A queue/exchange name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex)


def broker_params(**kwargs: Any) -> pika_connection.ConnectionParameters:
    """ConnectionParameters for the test broker (plain port)."""
    kwargs.setdefault('host', BROKER_HOST)
    kwargs.setdefault('port', BROKER_PORT)
    return pika_connection.ConnectionParameters(**kwargs)


def tls_params(certs: Dict[str, str],
               client_cert: bool = False,
               **kwargs: Any) -> pika_connection.ConnectionParameters:
    """ConnectionParameters for the TLS listener, verifying the server with
    the test CA (optionally presenting the client certificate).
    """
    context = ssl.create_default_context(cafile=certs['ca'])
    if client_cert:
        context.load_cert_chain(certs['client_cert'], certs['client_key'])
    kwargs.setdefault('host', BROKER_HOST)
    kwargs.setdefault('port', BROKER_TLS_PORT)
    kwargs.setdefault('ssl_options',
                      pika_connection.SSLOptions(context, 'localhost'))
    return pika_connection.ConnectionParameters(**kwargs)
