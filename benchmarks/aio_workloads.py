"""asyncio workloads, one per process: ``python aio_workloads.py NAME [opts]``.

Three clients do the same work: ``aio_*`` with :mod:`pika.aio` (this
repository), ``aiopika_*`` with aio-pika 10.x (run by the interpreter of its
own virtualenv, see ``_aiopika_venv.py``) and ``cb_*`` with this repository's
callback :class:`~pika.adapters.asyncio_connection.AsyncioConnection`.  Each
runs on a fresh default asyncio loop; queues are made, filled and counted
through ``_rawamqp`` (no client library), so that costs the same for all.

* ``*_publish``: 64-byte bodies to the default exchange, no confirms; the
  clock stops when the broker holds them all.
* ``*_confirm``: publisher confirms, each message's confirm awaited, at most
  ``WINDOW`` (100) in flight.
* ``*_confirm_serial``: publisher confirms, each publish waits for its
  confirm before the next one.
* ``*_consume``: a pre-filled queue consumed with prefetch 1000, every
  message acknowledged on its own.

The options, the printed JSON line and the CPU clock (``time.process_time``
of this process, user + system) are those of ``workloads.py``.
"""

import argparse
import asyncio
import collections
import sys
from typing import Any, Awaitable, Callable, Deque, Dict

import workloads
from workloads import BODY_64, PREFETCH, CpuClock, Result, perf_counter

#: Publishes awaiting their confirm at once in the ``*_confirm`` workloads.
WINDOW = 100


class _Clock:
    """Wall and CPU clocks of the measured stretch."""

    def __init__(self) -> None:
        self.start = perf_counter()
        self.cpu = CpuClock()
        self.end = 0.0

    def stop(self) -> None:
        self.end = perf_counter()
        self.cpu.stop()

    def result(self, count: int, **extra: Any) -> Result:
        return Result(count / (self.end - self.start),
                      'msg/s',
                      cpu_us=self.cpu.per_message_us(count),
                      **extra)


def _run(opts: argparse.Namespace, main: Callable[[],
                                                  Awaitable[Result]]) -> Result:

    async def bounded() -> Result:
        return await asyncio.wait_for(main(), opts.timeout)

    return asyncio.run(bounded())


async def _wait_count(admin: Any, queue: str, count: int,
                      timeout: float) -> None:
    deadline = perf_counter() + timeout
    while admin.count(queue) < count:
        if perf_counter() > deadline:
            raise TimeoutError('queue %s did not reach %d' % (queue, count))
        await asyncio.sleep(0.002)


def _check_held(admin: Any, queue: str, count: int) -> None:
    held = admin.count(queue)
    if held != count:
        raise RuntimeError('queue holds %d, expected %d' % (held, count))


# --------------------------------------------------------------------------
# pika.aio
# --------------------------------------------------------------------------
async def _aio_channel(opts: argparse.Namespace) -> Any:
    import pika.aio
    connection = await pika.aio.connect(workloads._params(opts))
    return connection, await connection.channel()


def wl_aio_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """pika.aio: ``await channel.basic_publish(...)`` without confirms."""
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aio_channel(opts)
        clock = _Clock()
        publish = channel.basic_publish
        for _ in range(count):
            await publish('', queue, body)
        client_done = perf_counter()
        clock.cpu.stop()
        await _wait_count(admin, queue, count, opts.timeout)
        clock.end = perf_counter()
        await connection.close()
        return clock.result(count,
                            client_rate=round(count /
                                              (client_done - clock.start)))

    return _run(opts, main)


def wl_aio_confirm(opts: argparse.Namespace, admin: Any) -> Result:
    """pika.aio: confirms on, every publish awaited, WINDOW in flight."""
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aio_channel(opts)
        await channel.confirm_delivery()
        clock = _Clock()
        publish = channel.basic_publish
        in_flight: Deque[Awaitable[None]] = collections.deque()
        for _ in range(count):
            in_flight.append(publish('', queue, body))
            if len(in_flight) >= WINDOW:
                await in_flight.popleft()
        while in_flight:
            await in_flight.popleft()
        clock.stop()
        await connection.close()
        _check_held(admin, queue, count)
        return clock.result(count, window=WINDOW)

    return _run(opts, main)


def wl_aio_confirm_serial(opts: argparse.Namespace, admin: Any) -> Result:
    """pika.aio: confirms on, each publish awaited before the next."""
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aio_channel(opts)
        await channel.confirm_delivery()
        clock = _Clock()
        publish = channel.basic_publish
        for _ in range(count):
            await publish('', queue, body)
        clock.stop()
        await connection.close()
        _check_held(admin, queue, count)
        return clock.result(count)

    return _run(opts, main)


def wl_aio_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """pika.aio: ``async for`` over ``channel.consume(prefetch_count=1000)``,
    ``await message.ack()`` each."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)

    async def main() -> Result:
        connection, channel = await _aio_channel(opts)
        clock = _Clock()
        received = size = 0
        async with channel.consume(queue, prefetch_count=PREFETCH) as messages:
            async for message in messages:
                await message.ack()
                received += 1
                size += len(message.body)
                if received == count:
                    break
        clock.stop()
        await connection.close()
        if size != count * len(BODY_64):
            raise RuntimeError('bad byte count %d' % size)
        return clock.result(count)

    return _run(opts, main)


# --------------------------------------------------------------------------
# aio-pika
# --------------------------------------------------------------------------
async def _aiopika_channel(opts: argparse.Namespace, confirms: bool) -> Any:
    import aio_pika
    connection = await aio_pika.connect(host=opts.host, port=opts.port)
    channel = await connection.channel(publisher_confirms=confirms)
    return connection, channel


def wl_aiopika_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """aio-pika: ``await exchange.publish(Message(body), ...)``, no confirms."""
    import aio_pika
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aiopika_channel(opts, False)
        clock = _Clock()
        publish = channel.default_exchange.publish
        for _ in range(count):
            await publish(aio_pika.Message(body), routing_key=queue)
        client_done = perf_counter()
        clock.cpu.stop()
        await _wait_count(admin, queue, count, opts.timeout)
        clock.end = perf_counter()
        await connection.close()
        return clock.result(count,
                            aio_pika=aio_pika.__version__,
                            client_rate=round(count /
                                              (client_done - clock.start)))

    return _run(opts, main)


def wl_aiopika_confirm(opts: argparse.Namespace, admin: Any) -> Result:
    """aio-pika: confirms on, publishes as tasks, WINDOW in flight."""
    import aio_pika
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aiopika_channel(opts, True)
        clock = _Clock()
        publish = channel.default_exchange.publish
        ensure_future = asyncio.ensure_future
        in_flight: Deque[Awaitable[Any]] = collections.deque()
        for _ in range(count):
            in_flight.append(
                ensure_future(publish(aio_pika.Message(body),
                                      routing_key=queue)))
            if len(in_flight) >= WINDOW:
                await in_flight.popleft()
        while in_flight:
            await in_flight.popleft()
        clock.stop()
        await connection.close()
        _check_held(admin, queue, count)
        return clock.result(count, window=WINDOW, aio_pika=aio_pika.__version__)

    return _run(opts, main)


def wl_aiopika_confirm_serial(opts: argparse.Namespace, admin: Any) -> Result:
    """aio-pika: confirms on, each publish awaited before the next."""
    import aio_pika
    queue, count, body = opts.queue, opts.n, BODY_64

    async def main() -> Result:
        connection, channel = await _aiopika_channel(opts, True)
        clock = _Clock()
        publish = channel.default_exchange.publish
        for _ in range(count):
            await publish(aio_pika.Message(body), routing_key=queue)
        clock.stop()
        await connection.close()
        _check_held(admin, queue, count)
        return clock.result(count, aio_pika=aio_pika.__version__)

    return _run(opts, main)


def wl_aiopika_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """aio-pika: ``async for`` over ``queue.iterator()`` with prefetch 1000,
    ``await message.ack()`` each."""
    import aio_pika
    queue_name, count = opts.queue, opts.n
    admin.fill(queue_name, BODY_64, count, opts.timeout)

    async def main() -> Result:
        connection, channel = await _aiopika_channel(opts, False)
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.get_queue(queue_name, ensure=True)
        clock = _Clock()
        received = size = 0
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                received += 1
                size += len(message.body)
                if received == count:
                    break
        clock.stop()
        await connection.close()
        if size != count * len(BODY_64):
            raise RuntimeError('bad byte count %d' % size)
        return clock.result(count, aio_pika=aio_pika.__version__)

    return _run(opts, main)


# --------------------------------------------------------------------------
# the callback AsyncioConnection (this repository)
# --------------------------------------------------------------------------
def wl_cb_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection basic_publish in loop-turn chunks (the
    ``asyncio_publish`` workload of ``workloads.py``)."""
    return workloads.wl_asyncio_publish(opts, admin)


def _cb_confirm(opts: argparse.Namespace, admin: Any, window: int) -> Result:
    run = workloads._AsyncRun(opts, 'asyncio')
    queue, count, body = opts.queue, opts.n, BODY_64
    state = {'sent': 0, 'confirmed': 0}
    clock: Dict[str, _Clock] = {}

    def top_up() -> None:
        publish = run.channel.basic_publish
        sent = state['sent']
        target = min(count, state['confirmed'] + window)
        while sent < target:
            publish('', queue, body)
            sent += 1
        state['sent'] = sent

    def on_confirm(method_frame: Any) -> None:
        method = method_frame.method
        if method.NAME != 'Basic.Ack':
            run.error = RuntimeError('nacked: %r' % (method,))
            run.finish()
            return
        if method.multiple:
            state['confirmed'] = method.delivery_tag
        else:
            state['confirmed'] += 1
        if state['confirmed'] >= count:
            clock['run'].stop()
            run.end = clock['run'].end
            run.finish()
        else:
            top_up()

    def on_select(_frame: Any) -> None:
        clock['run'] = _Clock()
        top_up()

    def on_channel(channel: Any) -> None:
        channel.confirm_delivery(on_confirm, callback=on_select)

    run.on_channel = on_channel
    run.run()
    _check_held(admin, queue, count)
    return clock['run'].result(count, window=window)


def wl_cb_confirm(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection with confirms, WINDOW publishes in flight."""
    return _cb_confirm(opts, admin, WINDOW)


def wl_cb_confirm_serial(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection with confirms, one publish in flight."""
    return _cb_confirm(opts, admin, 1)


def wl_cb_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection consume, prefetch 1000, ``basic_ack`` each."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    run = workloads._AsyncRun(opts, 'asyncio')
    clock: Dict[str, _Clock] = {}
    state = {'received': 0, 'size': 0}

    def on_message(chan: Any, method: Any, _props: Any, body: bytes) -> None:
        chan.basic_ack(method.delivery_tag)
        state['received'] += 1
        state['size'] += len(body)
        if state['received'] == count:
            clock['run'].stop()
            run.end = clock['run'].end
            run.finish()

    def on_qos(_frame: Any) -> None:
        clock['run'] = _Clock()
        run.channel.basic_consume(queue, on_message)

    def on_channel(channel: Any) -> None:
        channel.basic_qos(prefetch_count=PREFETCH, callback=on_qos)

    run.on_channel = on_channel
    run.run()
    if state['size'] != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % state['size'])
    return clock['run'].result(count)


WORKLOADS = {
    name[3:]: func
    for name, func in list(globals().items())
    if name.startswith('wl_')
}


def main() -> int:
    """Run one workload through ``workloads.main`` (same options and output).

    aio-pika workloads run without this repository's ``pika`` (``--no-pika``
    is implied) and report aio-pika's version instead.
    """
    workloads.WORKLOADS.clear()
    workloads.WORKLOADS.update(WORKLOADS)
    return workloads.main()


if __name__ == '__main__':
    sys.exit(main())
