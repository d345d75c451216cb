"""Thread-safe connection workloads, one per process:
``python thread_safe_workloads.py NAME [opts]``.

Three ways of publishing and consuming from threads do the same work:

* ``ts_*``: this repository's :class:`pika.adapters.thread_safe_connection.
  Connection`; the publishing threads share one channel and call
  ``basic_publish`` on it directly; consumer callbacks run on the channel's
  worker thread and ack from there.
* ``blocking_*``: ``BlockingConnection`` used from one thread (run with this
  repository's ``pika`` or with pika 1.4.4, by the interpreter the harness
  picks); it is not thread-safe, so it has no 8-thread rows.
* ``handoff_*``: the pattern pika 1.4 users write today: one thread owns a
  ``BlockingConnection`` and runs ``process_data_events``; worker threads
  hand each publish (and each ack) to it with ``add_callback_threadsafe``.
  With confirms, the worker waits for the connection thread to finish the
  (confirm-waiting) ``basic_publish``.

Rows: ``publish1``/``publish8`` (64-byte bodies, no confirms, 1 or 8
threads; the clock stops when the broker holds them all), ``confirm1``/
``confirm8`` (publisher confirms, every publish waits for its own confirm)
and ``consume`` (pre-filled queue, prefetch 1000, every message acked on
its own from the thread that handles it).

The options, the printed JSON line and the CPU clock (``time.process_time``
of the whole process, every thread, user + system) are those of
``workloads.py``.
"""

import argparse
import functools
import queue as queue_module
import sys
import threading
from typing import Any, Callable, List

import workloads
from workloads import BODY_64, PREFETCH, CpuClock, Result, perf_counter

#: Publishing threads of the ``*8`` rows.
THREADS = 8


def _run_threads(count: int, threads: int, work: Callable[[int], None]) -> None:
    """Run ``work(share)`` on ``threads`` threads, ``count`` in total;
    re-raise the first failure."""
    failures: List[BaseException] = []
    shares = [
        count // threads + (1 if n < count % threads else 0)
        for n in range(threads)
    ]

    def body(share: int) -> None:
        try:
            work(share)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            failures.append(error)

    if threads == 1:
        body(shares[0])
    else:
        pool = [
            threading.Thread(target=body, args=(share,)) for share in shares
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    if failures:
        raise failures[0]


def _publish_result(admin: Any, opts: argparse.Namespace, count: int,
                    start: float, client_done: float, cpu: CpuClock,
                    confirmed: bool) -> Result:
    if confirmed:
        end = client_done
        held = admin.count(opts.queue)
        if held != count:
            raise RuntimeError('queue holds %d, expected %d' % (held, count))
    else:
        end = admin.wait_count(opts.queue, count, opts.timeout)
    return Result(count / (end - start),
                  'msg/s',
                  client_rate=round(count / (client_done - start)),
                  cpu_us=cpu.per_message_us(count))


# --------------------------------------------------------------------------
# this repository's thread-safe Connection
# --------------------------------------------------------------------------
def _ts_publish(opts: argparse.Namespace, admin: Any, threads: int,
                confirmed: bool) -> Result:
    from pika.adapters.thread_safe_connection import Connection
    connection = Connection(workloads._params(opts))
    channel = connection.channel()
    if confirmed:
        channel.confirm_delivery()
    queue, body = opts.queue, BODY_64

    def work(share: int) -> None:
        publish = channel.basic_publish
        for _ in range(share):
            publish('', queue, body)

    start = perf_counter()
    cpu = CpuClock()
    _run_threads(opts.n, threads, work)
    client_done = perf_counter()
    cpu.stop()
    result = _publish_result(admin, opts, opts.n, start, client_done, cpu,
                             confirmed)
    connection.close()
    return result


def wl_ts_publish1(opts: argparse.Namespace, admin: Any) -> Result:
    """Thread-safe Connection, one thread, no confirms."""
    return _ts_publish(opts, admin, 1, False)


def wl_ts_publish8(opts: argparse.Namespace, admin: Any) -> Result:
    """Thread-safe Connection, 8 threads on one channel, no confirms."""
    return _ts_publish(opts, admin, THREADS, False)


def wl_ts_confirm1(opts: argparse.Namespace, admin: Any) -> Result:
    """Thread-safe Connection, one thread, each publish confirmed."""
    return _ts_publish(opts, admin, 1, True)


def wl_ts_confirm8(opts: argparse.Namespace, admin: Any) -> Result:
    """Thread-safe Connection, 8 threads on one channel, each publish
    waiting for its own confirm (the others' are pipelined)."""
    return _ts_publish(opts, admin, THREADS, True)


def wl_ts_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """Thread-safe Connection consume; the worker thread acks each."""
    from pika.adapters.thread_safe_connection import Connection
    count = opts.n
    admin.fill(opts.queue, BODY_64, count, opts.timeout)
    connection = Connection(workloads._params(opts))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=PREFETCH)
    done = threading.Event()
    state = {'received': 0, 'size': 0}

    def on_message(chan: Any, method: Any, _props: Any, body: bytes) -> None:
        chan.basic_ack(method.delivery_tag)
        state['received'] += 1
        state['size'] += len(body)
        if state['received'] == count:
            done.set()

    start = perf_counter()
    cpu = CpuClock()
    channel.basic_consume(opts.queue, on_message)
    if not done.wait(opts.timeout):
        raise TimeoutError('received %d of %d' % (state['received'], count))
    end = perf_counter()
    cpu.stop()
    connection.close()
    if state['size'] != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % state['size'])
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


# --------------------------------------------------------------------------
# BlockingConnection from one thread (ours or pika 1.4.4)
# --------------------------------------------------------------------------
def _blocking_publish(opts: argparse.Namespace, admin: Any,
                      confirmed: bool) -> Result:
    connection, channel = workloads._blocking(opts)
    if confirmed:
        channel.confirm_delivery()
    publish = channel.basic_publish
    queue, body = opts.queue, BODY_64
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(opts.n):
        publish('', queue, body)
    client_done = perf_counter()
    cpu.stop()
    result = _publish_result(admin, opts, opts.n, start, client_done, cpu,
                             confirmed)
    connection.close()
    return result


def wl_blocking_publish1(opts: argparse.Namespace, admin: Any) -> Result:
    """BlockingConnection, one thread, no confirms."""
    return _blocking_publish(opts, admin, False)


def wl_blocking_confirm1(opts: argparse.Namespace, admin: Any) -> Result:
    """BlockingConnection, one thread, each publish confirmed."""
    return _blocking_publish(opts, admin, True)


def wl_blocking_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """BlockingConnection consume, prefetch 1000, ack each message."""
    count = opts.n
    admin.fill(opts.queue, BODY_64, count, opts.timeout)
    connection, channel = workloads._blocking(opts)
    channel.basic_qos(prefetch_count=PREFETCH)
    state = {'received': 0, 'size': 0}

    def on_message(chan: Any, method: Any, _props: Any, body: bytes) -> None:
        chan.basic_ack(method.delivery_tag)
        state['received'] += 1
        state['size'] += len(body)
        if state['received'] == count:
            chan.stop_consuming()

    start = perf_counter()
    cpu = CpuClock()
    channel.basic_consume(opts.queue, on_message)
    channel.start_consuming()
    end = perf_counter()
    cpu.stop()
    connection.close()
    if state['size'] != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % state['size'])
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


# --------------------------------------------------------------------------
# BlockingConnection + add_callback_threadsafe hand-off (pika 1.4 pattern)
# --------------------------------------------------------------------------
class _ConnectionThread:
    """One thread owning a BlockingConnection, serving hand-offs."""

    def __init__(self, opts: argparse.Namespace, confirmed: bool) -> None:
        self.connection, self.channel = workloads._blocking(opts)
        if confirmed:
            self.channel.confirm_delivery()
        self.stopping = False
        self.error: Any = None
        self.thread = threading.Thread(target=self._serve)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self.stopping:
                self.connection.process_data_events(time_limit=0.05)
        except BaseException as error:  # noqa: BLE001 - re-raised in stop
            self.error = error

    def stop(self) -> None:
        self.stopping = True
        self.thread.join()
        self.connection.close()
        if self.error is not None:
            raise self.error


def _handoff_publish(opts: argparse.Namespace, admin: Any, threads: int,
                     confirmed: bool) -> Result:
    owner = _ConnectionThread(opts, confirmed)
    queue, body = opts.queue, BODY_64
    hand_off = owner.connection.add_callback_threadsafe
    publish = owner.channel.basic_publish

    def work(share: int) -> None:
        if not confirmed:
            call = functools.partial(publish, '', queue, body)
            for _ in range(share):
                hand_off(call)
            return
        finished = threading.Event()

        def publish_and_tell() -> None:
            try:
                publish('', queue, body)
            finally:
                finished.set()

        for _ in range(share):
            finished.clear()
            hand_off(publish_and_tell)
            finished.wait()

    try:
        start = perf_counter()
        cpu = CpuClock()
        _run_threads(opts.n, threads, work)
        client_done = perf_counter()
        cpu.stop()
        result = _publish_result(admin, opts, opts.n, start, client_done, cpu,
                                 confirmed)
    finally:
        owner.stop()
    return result


def wl_handoff_publish1(opts: argparse.Namespace, admin: Any) -> Result:
    """Hand-off to the connection thread, one worker, no confirms."""
    return _handoff_publish(opts, admin, 1, False)


def wl_handoff_publish8(opts: argparse.Namespace, admin: Any) -> Result:
    """Hand-off to the connection thread, 8 workers, no confirms."""
    return _handoff_publish(opts, admin, THREADS, False)


def wl_handoff_confirm1(opts: argparse.Namespace, admin: Any) -> Result:
    """Hand-off to the connection thread, one worker, confirms."""
    return _handoff_publish(opts, admin, 1, True)


def wl_handoff_confirm8(opts: argparse.Namespace, admin: Any) -> Result:
    """Hand-off to the connection thread, 8 workers, confirms."""
    return _handoff_publish(opts, admin, THREADS, True)


def wl_handoff_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """The connection thread queues deliveries for a worker thread, which
    hands each ack back with ``add_callback_threadsafe``."""
    count = opts.n
    admin.fill(opts.queue, BODY_64, count, opts.timeout)
    connection, channel = workloads._blocking(opts)
    channel.basic_qos(prefetch_count=PREFETCH)
    work: queue_module.SimpleQueue[Any] = queue_module.SimpleQueue()
    state = {'received': 0, 'size': 0}
    done = threading.Event()

    def on_message(_chan: Any, method: Any, _props: Any, body: bytes) -> None:
        work.put((method.delivery_tag, body))

    def worker() -> None:
        hand_off = connection.add_callback_threadsafe
        ack = channel.basic_ack
        while True:
            tag, body = work.get()
            hand_off(functools.partial(ack, tag))
            state['received'] += 1
            state['size'] += len(body)
            if state['received'] == count:
                done.set()
                return

    thread = threading.Thread(target=worker)
    thread.start()
    start = perf_counter()
    cpu = CpuClock()
    channel.basic_consume(opts.queue, on_message)
    deadline = start + opts.timeout
    while not done.is_set():
        connection.process_data_events(time_limit=0.05)
        if perf_counter() > deadline:
            raise TimeoutError('received %d of %d' % (state['received'], count))
    end = perf_counter()
    cpu.stop()
    thread.join()
    connection.process_data_events(time_limit=0)
    connection.close()
    if state['size'] != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % state['size'])
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


WORKLOADS = {
    name[3:]: func
    for name, func in list(globals().items())
    if name.startswith('wl_')
}


def main() -> int:
    """Run one workload through ``workloads.main`` (same options and
    output)."""
    workloads.WORKLOADS.clear()
    workloads.WORKLOADS.update(WORKLOADS)
    return workloads.main()


if __name__ == '__main__':
    sys.exit(main())
