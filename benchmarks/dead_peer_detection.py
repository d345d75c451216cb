#!/usr/bin/env python3
"""How fast each connection type notices a silent broker, and whether a busy
loop is taken for one.

Every connection goes through the fault proxy (``tests/integration/
fault_proxy.py``) with ``heartbeat=2``; once it is open the proxy stops
forwarding on that link (``stall(existing_only=True)``: the sockets stay
open, nothing flows, as with a dead peer or a pulled cable). Measured:

* ``pika 1.4`` column: seconds from the stall until the connection reports
  the loss without ``recovery=`` (pika 1.4's heartbeat checker; its close
  callback, or the exception out of the blocking call);
* ``recovery`` column: seconds until the recovery *started* listeners run
  with ``recovery=RecoveryConfig()`` (``DeadPeerWatch``); the target is
  2 x heartbeat + 1 s;
* ``busy loop``: with recovery on, the application blocks the loop for
  5 s (> 2 x heartbeat) while the broker's heartbeats queue up, then the
  loop runs 3 s more; ``ok`` when no loss was declared.

Usage (from the repository root, broker on 127.0.0.1:5672)::

    python3 benchmarks/dead_peer_detection.py                 # every row
    python3 benchmarks/dead_peer_detection.py --rows select,asyncio
    python3 benchmarks/dead_peer_detection.py --no-baseline   # skip 1.4 column

Rows are :class:`DetectionRow` subclasses listed in :data:`ROWS`, one per
connection type (blocking, the four BaseConnection adapters, the thread-safe
``pika.Connection`` and ``pika.aio``); another joins by adding a class with
the three measurements and appending it there.
"""

import argparse
import os
import pathlib
import sys
import time
from typing import Any, Callable, Dict, List, Optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import pika  # noqa: E402
from pika.recovery import RecoveryConfig  # noqa: E402

import async_harness  # noqa: E402
from fault_proxy import ScriptedFaultProxy  # noqa: E402
from run import render_cells  # noqa: E402

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))
HEARTBEAT = 2
TARGET = 2 * HEARTBEAT + 1
BUSY_SECONDS = 5.0
AFTER_BUSY_SECONDS = 3.0
GIVE_UP = 40.0


def _params(proxy: ScriptedFaultProxy) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(host='127.0.0.1',
                                     port=proxy.port,
                                     heartbeat=HEARTBEAT,
                                     connection_attempts=1,
                                     socket_timeout=2)


def _synchronous_stall_seconds(connection_class: Any, poll: Callable[[Any],
                                                                     bool],
                               recovery: bool) -> Optional[float]:
    """Stall time of a connection the application polls: ``poll(conn)``
    runs it a little and says whether it reported the loss (with recovery,
    the *started* listener tells)."""
    proxy = ScriptedFaultProxy((HOST, PORT))
    started: List[float] = []
    try:
        conn = connection_class(_params(proxy),
                                recovery=RecoveryConfig() if recovery else None)
        if recovery:
            conn.add_on_recovery_started_callback(
                lambda _c, _e: started.append(time.monotonic()))
        proxy.stall(existing_only=True)
        stalled_at = time.monotonic()
        while time.monotonic() - stalled_at < GIVE_UP and not started:
            if poll(conn):
                started.append(time.monotonic())
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closed or recovering
            pass
        return started[0] - stalled_at if started else None
    finally:
        proxy.close()


class DetectionRow:
    """One connection type: subclasses implement the three measurements."""

    name = 'abstract'

    def stall_seconds(self, recovery: bool) -> Optional[float]:
        """Seconds from the stall until the loss is reported (None: not
        within :data:`GIVE_UP`)."""
        raise NotImplementedError

    def busy_false_alarm(self) -> bool:
        """True if a busy loop was declared a dead peer (with recovery)."""
        raise NotImplementedError


class BlockingRow(DetectionRow):
    """``BlockingConnection``: the loss shows inside
    ``process_data_events``."""

    name = 'blocking'

    def stall_seconds(self, recovery: bool) -> Optional[float]:

        def poll(conn: Any) -> bool:
            try:
                conn.process_data_events(0.05)
            except pika.exceptions.AMQPConnectionError:
                return True
            return False

        return _synchronous_stall_seconds(pika.BlockingConnection, poll,
                                          recovery)

    def busy_false_alarm(self) -> bool:
        proxy = ScriptedFaultProxy((HOST, PORT))
        started: List[Any] = []
        try:
            conn = pika.BlockingConnection(_params(proxy),
                                           recovery=RecoveryConfig())
            conn.add_on_recovery_started_callback(
                lambda _c, error: started.append(error))
            time.sleep(BUSY_SECONDS)
            conn.process_data_events(AFTER_BUSY_SECONDS)
            conn.close()
            return bool(started)
        finally:
            proxy.close()


class AsyncAdapterRow(DetectionRow):
    """An adapter built on BaseConnection, run by its test harness runner
    (``tests/integration/async_harness.py``)."""

    runner_class: Any = None

    def _run(
            self, recovery: bool, on_open: Callable[[Any, Any, Dict[str, Any]],
                                                    None]) -> Dict[str, Any]:
        proxy = ScriptedFaultProxy((HOST, PORT))
        runner = self.runner_class()
        state: Dict[str, Any] = {'proxy': proxy, 'runner': runner}

        def reported(_conn: Any, error: Any) -> None:
            if 'reported' not in state:
                state['reported'] = time.monotonic()
                state['error'] = error
                runner.stop()

        try:
            conn = runner.connection_class(
                parameters=_params(proxy),
                on_open_callback=lambda c: on_open(c, runner, state),
                on_close_callback=reported,
                custom_ioloop=runner.loop,
                recovery=RecoveryConfig() if recovery else None)
            if recovery:
                conn.add_on_recovery_started_callback(reported)
            try:
                runner.run(GIVE_UP)
            except async_harness.ScenarioTimeout:
                pass
            if conn.is_open:
                conn.close()
            return state
        finally:
            runner.close()
            proxy.close()

    def stall_seconds(self, recovery: bool) -> Optional[float]:

        def on_open(_conn: Any, _runner: Any, state: Dict[str, Any]) -> None:
            state['stalled_at'] = time.monotonic()
            state['proxy'].stall(existing_only=True)

        state = self._run(recovery, on_open)
        if 'reported' not in state:
            return None
        return state['reported'] - state['stalled_at']

    def busy_false_alarm(self) -> bool:

        def on_open(_conn: Any, runner: Any, state: Dict[str, Any]) -> None:

            def busy() -> None:
                time.sleep(BUSY_SECONDS)
                runner.call_later(AFTER_BUSY_SECONDS, runner.stop)

            runner.call_later(0.1, busy)

        state = self._run(True, on_open)
        return 'reported' in state


class SelectRow(AsyncAdapterRow):
    name = 'select'
    runner_class = async_harness.SelectEPollRunner


class AsyncioRow(AsyncAdapterRow):
    name = 'asyncio'
    runner_class = async_harness.AsyncioRunner


class TornadoRow(AsyncAdapterRow):
    name = 'tornado'
    runner_class = async_harness.TornadoRunner


class GeventRow(AsyncAdapterRow):
    name = 'gevent'
    runner_class = async_harness.GeventRunner


class ThreadSafeRow(DetectionRow):
    """The thread-safe ``pika.Connection``: its I/O thread notices the
    loss; without recovery the connection closes (``is_closed``)."""

    name = 'thread-safe'

    def stall_seconds(self, recovery: bool) -> Optional[float]:

        def poll(conn: Any) -> bool:
            time.sleep(0.02)
            return bool(conn.is_closed)

        return _synchronous_stall_seconds(pika.Connection, poll, recovery)

    def busy_false_alarm(self) -> bool:
        """The application's threads cannot block the I/O thread; the busy
        case here is a consumer callback that holds its worker thread for
        5 s while the broker keeps sending."""
        proxy = ScriptedFaultProxy((HOST, PORT))
        started: List[Any] = []
        try:
            conn = pika.Connection(_params(proxy), recovery=RecoveryConfig())
            conn.add_on_recovery_started_callback(
                lambda _c, error: started.append(error))
            channel = conn.channel()
            queue = channel.queue_declare('', exclusive=True).method.queue
            channel.basic_consume(queue,
                                  lambda *_args: time.sleep(BUSY_SECONDS),
                                  auto_ack=True)
            for _ in range(3):
                channel.basic_publish('', queue, b'slow')
            time.sleep(BUSY_SECONDS + AFTER_BUSY_SECONDS)
            conn.close()
            return bool(started)
        finally:
            proxy.close()


class AioRow(DetectionRow):
    """``pika.aio``: each measurement runs its own asyncio loop."""

    name = 'pika.aio'

    def stall_seconds(self, recovery: bool) -> Optional[float]:
        import asyncio

        import pika.aio

        async def measure() -> Optional[float]:
            proxy = ScriptedFaultProxy((HOST, PORT))
            started: List[float] = []
            try:
                conn = await pika.aio.connect(
                    _params(proxy),
                    recovery=RecoveryConfig() if recovery else None)

                def note(*_args: Any) -> None:
                    started.append(time.monotonic())

                if recovery:
                    conn.add_on_recovery_started_callback(note)
                else:
                    conn.add_on_close_callback(note)
                proxy.stall(existing_only=True)
                stalled_at = time.monotonic()
                while time.monotonic() - stalled_at < GIVE_UP and not started:
                    await asyncio.sleep(0.02)
                try:
                    await asyncio.wait_for(conn.close(), 5)
                except Exception:  # noqa: BLE001 - closed or recovering
                    pass
                return started[0] - stalled_at if started else None
            finally:
                proxy.close()

        return asyncio.run(measure())

    def busy_false_alarm(self) -> bool:
        import asyncio

        import pika.aio

        async def measure() -> bool:
            proxy = ScriptedFaultProxy((HOST, PORT))
            started: List[Any] = []
            try:
                conn = await pika.aio.connect(_params(proxy),
                                              recovery=RecoveryConfig())
                conn.add_on_recovery_started_callback(
                    lambda _c, error: started.append(error))
                time.sleep(BUSY_SECONDS)  # blocks the event loop
                await asyncio.sleep(AFTER_BUSY_SECONDS)
                await conn.close()
                return bool(started)
            finally:
                proxy.close()

        return asyncio.run(measure())


#: The rows, in table order; append a DetectionRow subclass to add one.
ROWS: List[type] = [
    BlockingRow, SelectRow, AsyncioRow, TornadoRow, GeventRow, ThreadSafeRow,
    AioRow
]


def _seconds(value: Optional[float]) -> str:
    return 'none in %ds' % GIVE_UP if value is None else '%.2f s' % value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows',
                        help='comma-separated row names (default: all)')
    parser.add_argument('--no-baseline',
                        action='store_true',
                        help='skip the slow pika 1.4 column')
    parser.add_argument('--rst', action='store_true')
    args = parser.parse_args()
    wanted = set(args.rows.split(',')) if args.rows else None
    cells = [[
        'connection', 'pika 1.4', 'recovery',
        'within %d s' % TARGET, 'busy loop'
    ]]
    failed = False
    for row_class in ROWS:
        row = row_class()
        if wanted is not None and row.name not in wanted:
            continue
        baseline = None if args.no_baseline else row.stall_seconds(False)
        detected = row.stall_seconds(True)
        false_alarm = row.busy_false_alarm()
        within = detected is not None and detected <= TARGET
        failed = failed or not within or false_alarm
        cells.append([
            row.name, '-' if args.no_baseline else _seconds(baseline),
            _seconds(detected), 'yes' if within else 'NO',
            'FALSE ALARM' if false_alarm else 'ok'
        ])
        print('%s done' % row.name, file=sys.stderr)
    print('heartbeat=%d s, silent peer via the fault proxy\'s stall' %
          HEARTBEAT)
    print(render_cells(cells, left={0}, rst=args.rst))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
