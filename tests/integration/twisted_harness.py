"""Harness of the Twisted scenarios against the broker.

The global reactor runs in a daemon thread for the whole session (a reactor
cannot be restarted); each scenario is an ``inlineCallbacks`` generator that
:func:`scenario_test` makes a test, run on the reactor through
:func:`run_scenario`, which bounds it with a timeout on both sides (the
Deferred is cancelled on the reactor, and the test thread stops waiting), so
a broken scenario fails instead of hanging.
"""

import functools
import pathlib
import queue
import threading
from typing import Any, Callable

import pytest
from twisted.internet import defer, protocol, reactor, task

from pika.adapters.twisted_connection import (ClosableDeferredQueue,
                                              TwistedChannel,
                                              TwistedProtocolConnection)

from async_harness import BROKER_HOST, BROKER_PORT, broker_params, unique_name

SCENARIO_TIMEOUT = 15
PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _start_reactor() -> threading.Thread:
    thread = threading.Thread(target=reactor.run,
                              kwargs={'installSignalHandlers': False},
                              name='twisted-reactor',
                              daemon=True)
    thread.start()
    return thread


def run_scenario(func: Callable[..., Any],
                 *args: Any,
                 timeout: float = SCENARIO_TIMEOUT) -> Any:
    """Run ``func(*args)`` (returning a Deferred or a value) on the reactor
    thread and return its result; re-raise its failure.
    """
    _start_reactor()
    results: queue.Queue[Any] = queue.Queue()

    def start() -> None:
        d = defer.maybeDeferred(func, *args)
        d.addTimeout(timeout, reactor)
        d.addCallbacks(lambda value: results.put((True, value)),
                       lambda failure: results.put((False, failure)))

    reactor.callFromThread(start)
    try:
        ok, value = results.get(timeout=timeout + 5)
    except queue.Empty:
        pytest.fail('scenario hung beyond %ss' % (timeout + 5))
    if not ok:
        value.raiseException()
    return value


def scenario_test(func: Callable[..., Any]) -> Callable[..., None]:
    """Make the generator ``func`` a test: it runs as ``inlineCallbacks`` on
    the reactor through :func:`run_scenario` (fixtures are passed through).
    """
    scenario = defer.inlineCallbacks(func)

    @functools.wraps(func)
    def test(*args: Any, **kwargs: Any) -> None:
        run_scenario(functools.partial(scenario, *args, **kwargs))

    return test


@defer.inlineCallbacks
def connect(parameters: Any = None) -> Any:
    """Connect with ClientCreator and wait for ``ready``."""
    creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                     parameters or broker_params())
    conn = yield creator.connectTCP(BROKER_HOST, BROKER_PORT)
    ready = yield conn.ready
    assert ready is conn
    return conn


@defer.inlineCallbacks
def open_channel() -> Any:
    """Connect, then open a channel; fires with ``(conn, channel)``."""
    conn = yield connect()
    channel = yield conn.channel()
    return conn, channel


@defer.inlineCallbacks
def declare_queue(channel: TwistedChannel, prefix: str) -> Any:
    """Declare an exclusive queue with a unique name; fires with the name."""
    name = unique_name(prefix)
    yield channel.queue_declare(name, exclusive=True)
    return name


@defer.inlineCallbacks
def close(conn: TwistedProtocolConnection) -> Any:
    if conn.is_open:
        reason = yield conn.close()
        return reason
    return None


@defer.inlineCallbacks
def expect_failure(d: defer.Deferred, error_class: type) -> Any:
    """Fire with the ``error_class`` failure of ``d``; fail if it succeeds."""
    try:
        result = yield d
    except error_class as error:
        return error
    raise AssertionError('expected %s, got %r' % (error_class.__name__, result))


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


def get_with_timeout(queue_obj: ClosableDeferredQueue,
                     seconds: float = 5) -> defer.Deferred:
    return queue_obj.get().addTimeout(seconds, reactor)
