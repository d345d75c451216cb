"""Benchmark workloads, one per process: ``python workloads.py NAME [opts]``.

Every workload uses only pika's public API, so the very same code runs under
this repository's ``pika`` and under pika 1.4.4; ``run.py`` picks which one by
the interpreter and ``PYTHONPATH`` it starts this script with.  Queue
management, pre-filling and counting go through ``_rawamqp`` (no pika at all),
so they cost the same whichever package is measured.

The last line printed on stdout is a JSON object::

    {"workload": ..., "value": float, "unit": ..., "extra": {...},
     "pika_version": ..., "pika_file": ...}

A failing workload exits non-zero with the reason on stderr.
"""

import argparse
import json
import platform
import resource
import sys
import time
from typing import Any, Callable, Dict, Optional

import _rawamqp

BODY_64 = b'b' * 64
MIB = 1 << 20
PREFETCH = 1000
ACK_EVERY = 100
ASYNC_CHUNK = 500

perf_counter = time.perf_counter
process_time = time.process_time


class Result(dict):
    """What a workload returns: value, unit and optional extras."""

    def __init__(self, value: float, unit: str, **extra: Any) -> None:
        super().__init__(value=value, unit=unit, extra=extra)


class CpuClock:
    """CPU seconds (user + system) this process spends on a workload.

    Wall-clock rates on a shared two-core machine move with whatever else
    runs; the client's own CPU time per message is the steadier figure.
    """

    last: Optional['CpuClock'] = None

    def __init__(self) -> None:
        self.begin = process_time()
        self.begin_sys = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        self.spent = 0.0
        self.spent_sys = 0.0
        CpuClock.last = self

    def stop(self) -> float:
        self.spent = process_time() - self.begin
        self.spent_sys = (resource.getrusage(resource.RUSAGE_SELF).ru_stime -
                          self.begin_sys)
        return self.spent

    def per_message_us(self, count: int) -> float:
        return round((self.spent or self.stop()) / count * 1e6, 2)


def _params(opts: argparse.Namespace) -> Any:
    import pika
    return pika.ConnectionParameters(host=opts.host, port=opts.port)


# --------------------------------------------------------------------------
# codec
# --------------------------------------------------------------------------
def _ops_per_second(func: Callable[[], Any], opts: argparse.Namespace) -> float:
    """Best rate over ``opts.reps`` stretches of ``opts.seconds``.

    Pure CPU work, so it is timed on this process's CPU clock: another
    process taking the core for a moment does not count against it.
    """
    func()
    best = 0.0
    for _ in range(opts.reps):
        count = 0
        start = process_time()
        deadline = start + opts.seconds
        while True:
            for _ in range(200):
                func()
            count += 200
            now = process_time()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def wl_codec(opts: argparse.Namespace, admin: Any) -> Result:
    """The codec helper's publish workload (bench_codec.build_workloads).

    Each library marshals and decodes the way its own publish and deliver
    paths do (ours: frame.marshal_content + frame.decode_frames; pika 1.4.4:
    Method/Header/Body.marshal + decode_frame over a sliced buffer); 1 KiB
    body, properties with a headers table.
    """
    import bench_codec  # sibling module, written by the codec helper
    func = bench_codec.build_workloads()['marshal+decode']
    best = _ops_per_second(func, opts)
    return Result(best,
                  'ops/s',
                  source='bench_codec.py',
                  cpu_us=round(1e6 / best, 2))


def wl_codec_public(opts: argparse.Namespace, admin: Any) -> Result:
    """Identical public-API calls in both: Frame.marshal() + decode_frame."""
    from pika import frame, spec
    props = spec.BasicProperties(content_type='application/json',
                                 content_encoding='utf-8',
                                 delivery_mode=2,
                                 priority=0,
                                 correlation_id='c0ffee-1234',
                                 reply_to='amq.rabbitmq.reply-to',
                                 message_id='msg-000001',
                                 timestamp=1700000000,
                                 app_id='bench',
                                 headers={
                                     'x-trace-id': 'abcdef0123456789',
                                     'attempt': 3,
                                     'ok': True,
                                 })
    body = BODY_64
    body_size = len(body)
    publish_cls = spec.Basic.Publish
    method_cls = frame.Method
    header_cls = frame.Header
    body_cls = frame.Body
    decode_frame = frame.decode_frame

    def once() -> None:
        data = (method_cls(
            1, publish_cls(exchange='amq.direct',
                           routing_key='bench.key')).marshal() +
                header_cls(1, body_size, props).marshal() +
                body_cls(1, body).marshal())
        offset = 0
        end = len(data)
        while offset < end:
            consumed, decoded = decode_frame(data[offset:])
            if decoded is None:
                raise RuntimeError('incomplete frame')
            offset += consumed

    # sanity: the decoded frames carry what we encoded
    check = (method_cls(1, publish_cls(routing_key='k')).marshal() +
             header_cls(1, body_size, props).marshal() +
             body_cls(1, body).marshal())
    used, first = decode_frame(check)
    used2, second = decode_frame(check[used:])
    _, third = decode_frame(check[used + used2:])
    assert first.method.routing_key == 'k', first
    assert second.properties.headers['attempt'] == 3, second
    assert third.fragment == body, third
    best = _ops_per_second(once, opts)
    return Result(best, 'ops/s', cpu_us=round(1e6 / best, 2))


# --------------------------------------------------------------------------
# blocking
# --------------------------------------------------------------------------
def _blocking(opts: argparse.Namespace) -> Any:
    # pika 1.4 also exports it as pika.BlockingConnection; the module path
    # is the one both packages are sure to have.
    from pika.adapters.blocking_connection import BlockingConnection
    connection = BlockingConnection(_params(opts))
    return connection, connection.channel()


def wl_blocking_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking basic_publish of 64-byte bodies, no confirms."""
    connection, channel = _blocking(opts)
    queue, count = opts.queue, opts.n
    publish = channel.basic_publish
    body = BODY_64
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(count):
        publish('', queue, body)
    client_done = perf_counter()
    cpu.stop()
    end = admin.wait_count(queue, count, opts.timeout)
    connection.close()
    return Result(count / (end - start),
                  'msg/s',
                  client_rate=count / (client_done - start),
                  cpu_us=cpu.per_message_us(count))


def wl_blocking_publish_confirm(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking basic_publish with publisher confirms (one at a time)."""
    connection, channel = _blocking(opts)
    channel.confirm_delivery()
    queue, count = opts.queue, opts.n
    publish = channel.basic_publish
    body = BODY_64
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(count):
        publish('', queue, body)
    end = perf_counter()
    cpu.stop()
    held = admin.count(queue)
    connection.close()
    if held != count:
        raise RuntimeError('queue holds %d, expected %d' % (held, count))
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


def wl_blocking_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """basic_consume with prefetch 1000, ack(multiple=True) every 100."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    connection, channel = _blocking(opts)
    channel.basic_qos(prefetch_count=PREFETCH)
    received = 0
    size = 0

    def on_message(chan: Any, method: Any, _props: Any, body: bytes) -> None:
        nonlocal received, size
        received += 1
        size += len(body)
        if received % ACK_EVERY == 0 or received == count:
            chan.basic_ack(method.delivery_tag, multiple=True)
        if received == count:
            chan.stop_consuming()

    start = perf_counter()
    cpu = CpuClock()
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    end = perf_counter()
    cpu.stop()
    connection.close()
    if size != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % size)
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


def wl_basic_get(opts: argparse.Namespace, admin: Any) -> Result:
    """basic_get(auto_ack=True) in a loop until the queue is drained."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    connection, channel = _blocking(opts)
    get = channel.basic_get
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(count):
        method, _props, body = get(queue, auto_ack=True)
        if method is None or len(body) != 64:
            raise RuntimeError('basic_get returned nothing')
    end = perf_counter()
    cpu.stop()
    connection.close()
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


def wl_publish_1mib(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking publish of 1 MiB bodies (several body frames each), MB/s."""
    connection, channel = _blocking(opts)
    queue, count = opts.queue, opts.n
    body = b'm' * MIB
    publish = channel.basic_publish
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(count):
        publish('', queue, body)
    cpu.stop()
    end = admin.wait_count(queue, count, opts.timeout)
    connection.close()
    return Result(count * MIB / 1e6 / (end - start),
                  'MB/s',
                  cpu_us=cpu.per_message_us(count))


def wl_consume_1mib(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking consume of 1 MiB bodies, prefetch 10, MB/s."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, b'm' * MIB, count, opts.timeout)
    connection, channel = _blocking(opts)
    channel.basic_qos(prefetch_count=10)
    received = 0

    def on_message(chan: Any, method: Any, _props: Any, body: bytes) -> None:
        nonlocal received
        if len(body) != MIB:
            raise RuntimeError('body of %d bytes' % len(body))
        received += 1
        chan.basic_ack(method.delivery_tag)
        if received == count:
            chan.stop_consuming()

    start = perf_counter()
    cpu = CpuClock()
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    end = perf_counter()
    cpu.stop()
    connection.close()
    return Result(count * MIB / 1e6 / (end - start),
                  'MB/s',
                  cpu_us=cpu.per_message_us(count))


def wl_rss_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Peak RSS of a long blocking publish run (queue capped by max-length).

    run.py declares this queue with x-max-length so the broker drops old
    messages instead of holding them all.
    """
    connection, channel = _blocking(opts)
    queue, count = opts.queue, opts.n
    publish = channel.basic_publish
    body = BODY_64
    start = perf_counter()
    cpu = CpuClock()
    for _ in range(count):
        publish('', queue, body)
    end = perf_counter()
    cpu.stop()
    connection.close()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Result(rss_kib / 1024.0,
                  'MiB',
                  rate=round(count / (end - start)),
                  cpu_us=cpu.per_message_us(count))


# --------------------------------------------------------------------------
# event-loop adapters (SelectConnection, AsyncioConnection)
# --------------------------------------------------------------------------
class _AsyncRun:
    """Drive one connection on its own loop until the workload finishes."""

    def __init__(self, opts: argparse.Namespace, adapter: str) -> None:
        import pika
        self.opts = opts
        self.error: Optional[BaseException] = None
        self.start = self.end = 0.0
        self.cpu: Optional[CpuClock] = None
        self.channel: Any = None
        kwargs: Dict[str, Any] = dict(on_open_callback=self._on_open,
                                      on_open_error_callback=self._on_fail,
                                      on_close_callback=self._on_closed)
        if adapter == 'asyncio':
            import asyncio
            from pika.adapters.asyncio_connection import AsyncioConnection
            self.loop = asyncio.new_event_loop()
            self.connection = AsyncioConnection(_params(opts),
                                                custom_ioloop=self.loop,
                                                **kwargs)
            self._run = self.loop.run_forever
            self._stop = self.loop.stop
        else:
            self.connection = pika.SelectConnection(_params(opts), **kwargs)
            self.loop = self.connection.ioloop
            self._run = self.loop.start
            self._stop = self.loop.stop
        self.call_later = self.loop.call_later
        self.on_channel: Callable[[Any], None] = lambda channel: None
        self._timer = self.call_later(opts.timeout, self._on_timeout)

    def run(self) -> None:
        self._run()
        if self.error is not None:
            raise self.error

    def _on_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Any) -> None:
        self.channel = channel
        self.on_channel(channel)

    def _on_fail(self, _connection: Any, error: BaseException) -> None:
        self.error = RuntimeError('connection failed: %r' % (error,))
        self._stop()

    def _on_closed(self, _connection: Any, reason: BaseException) -> None:
        if self.end == 0.0 and self.error is None:
            self.error = RuntimeError('connection closed early: %r' % (reason,))
        self._stop()

    def _on_timeout(self) -> None:
        self.error = TimeoutError('workload timed out')
        self.finish()

    def finish(self) -> None:
        if self.connection.is_open:
            self.connection.close()
        else:
            self._stop()


def _async_publish(opts: argparse.Namespace, admin: Any,
                   adapter: str) -> Result:
    run = _AsyncRun(opts, adapter)
    queue, count = opts.queue, opts.n
    body = BODY_64
    sent = 0

    def publish_chunk() -> None:
        nonlocal sent
        publish = run.channel.basic_publish
        todo = min(ASYNC_CHUNK, count - sent)
        for _ in range(todo):
            publish('', queue, body)
        sent += todo
        if sent < count:
            run.call_later(0, publish_chunk)
        else:
            run.call_later(0.002, poll)

    def poll() -> None:
        if admin.count(queue) >= count:
            run.end = perf_counter()
            run.cpu.stop()
            run.finish()
        else:
            run.call_later(0.002, poll)

    def on_channel(_channel: Any) -> None:
        run.start = perf_counter()
        run.cpu = CpuClock()
        publish_chunk()

    run.on_channel = on_channel
    run.run()
    return Result(count / (run.end - run.start),
                  'msg/s',
                  cpu_us=run.cpu.per_message_us(count))


def _async_consume(opts: argparse.Namespace, admin: Any,
                   adapter: str) -> Result:
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    run = _AsyncRun(opts, adapter)
    received = 0

    def on_message(chan: Any, method: Any, _props: Any, _body: bytes) -> None:
        nonlocal received
        received += 1
        if received % ACK_EVERY == 0 or received == count:
            chan.basic_ack(method.delivery_tag, multiple=True)
        if received == count:
            run.end = perf_counter()
            run.cpu.stop()
            run.finish()

    def on_qos(_frame: Any) -> None:
        run.start = perf_counter()
        run.cpu = CpuClock()
        run.channel.basic_consume(queue, on_message)

    def on_channel(channel: Any) -> None:
        channel.basic_qos(prefetch_count=PREFETCH, callback=on_qos)

    run.on_channel = on_channel
    run.run()
    return Result(count / (run.end - run.start),
                  'msg/s',
                  cpu_us=run.cpu.per_message_us(count))


def wl_select_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """SelectConnection basic_publish, 64-byte bodies, in loop-turn chunks."""
    return _async_publish(opts, admin, 'select')


def wl_select_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """SelectConnection consume, prefetch 1000, ack multiple every 100."""
    return _async_consume(opts, admin, 'select')


def wl_asyncio_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection basic_publish, same as select_publish."""
    return _async_publish(opts, admin, 'asyncio')


def wl_asyncio_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """AsyncioConnection consume, same as select_consume."""
    return _async_consume(opts, admin, 'asyncio')


# --------------------------------------------------------------------------
# the broker's ceiling: pre-marshalled frames on a raw socket
# --------------------------------------------------------------------------
def _raw_publish(opts: argparse.Namespace, admin: Any, body: bytes) -> Result:
    """Pre-marshalled publishes of ``body`` written to one raw socket; the
    clock stops when the queue holds them all."""
    client = _rawamqp.RawClient(opts.host, opts.port)
    queue, count = opts.queue, opts.n
    start = perf_counter()
    cpu = CpuClock()
    client.publish_many(queue, body, count)
    cpu.stop()
    end = admin.wait_count(queue, count, opts.timeout)
    client.close()
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


def wl_raw_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Pre-marshalled publish frames written to one raw socket."""
    return _raw_publish(opts, admin, BODY_64)


def wl_raw_publish_1mib(opts: argparse.Namespace, admin: Any) -> Result:
    """Pre-marshalled 1 MiB publishes (frame_max-sized body frames) written
    to one raw socket, MB/s: the broker's ceiling for ``publish_1mib``."""
    result = _raw_publish(opts, admin, b'm' * MIB)
    result.update(value=result['value'] * MIB / 1e6, unit='MB/s')
    return result


def wl_raw_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """Consume with prefetch 1000 on a raw socket, parsing frame heads only."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    client = _rawamqp.RawClient(opts.host, opts.port)
    start = perf_counter()
    cpu = CpuClock()
    client.consume_count(queue, count, PREFETCH, ACK_EVERY)
    end = perf_counter()
    cpu.stop()
    client.close()
    return Result(count / (end - start),
                  'msg/s',
                  cpu_us=cpu.per_message_us(count))


class _EngineTimer:
    """What _adapter_call_later returns (never fires in these runs)."""

    def cancel(self) -> None:
        pass


def _engine_connection() -> Any:
    """A Connection engine with a do-nothing adapter, opened by feeding it
    the broker's side of the handshake; returns (connection, sent list)."""
    import pika
    from pika import connection as connection_mod
    from pika import frame, spec
    sent: list = []

    class Engine(connection_mod.Connection):

        def _adapter_connect_stream(self) -> None:
            pass

        def _adapter_disconnect_stream(self) -> None:
            pass

        def _adapter_call_later(self, delay: float, callback: Any) -> Any:
            return _EngineTimer()

        def _adapter_remove_timeout(self, timeout_id: Any) -> None:
            pass

        def _adapter_add_callback_threadsafe(self, callback: Any) -> None:
            callback()

        def _adapter_emit_data(self, data: bytes) -> None:
            sent.append(data)

        def _adapter_get_write_buffer_size(self) -> int:
            return 0

    params = pika.ConnectionParameters(heartbeat=0)
    engine = Engine(params, internal_connection_workflow=False)
    engine._on_stream_connected()
    capabilities = {
        'publisher_confirms': True,
        'exchange_exchange_bindings': True,
        'basic.nack': True,
        'consumer_cancel_notify': True,
        'connection.blocked': True,
        'authentication_failure_close': True,
    }
    for method in (spec.Connection.Start(server_properties={
            'capabilities': capabilities,
            'product': 'RabbitMQ'
    },
                                         mechanisms=b'PLAIN',
                                         locales=b'en_US'),
                   spec.Connection.Tune(2047, 131072,
                                        0), spec.Connection.OpenOk()):
        engine._on_data_available(frame.Method(0, method).marshal())
    if not engine.is_open:
        raise RuntimeError('engine did not open')
    return engine, sent


def _engine_channel(engine: Any) -> Any:
    from pika import frame, spec
    channel = engine.channel()
    engine._on_data_available(
        frame.Method(channel.channel_number, spec.Channel.OpenOk()).marshal())
    if not channel.is_open:
        raise RuntimeError('channel did not open')
    return channel


def wl_engine_consume(opts: argparse.Namespace, admin: Any) -> Result:
    """Connection + Channel engine only (no I/O): feed Deliver + header +
    64-byte body frames in 4 KiB reads (what pika 1.4.4's transport reads at
    a time; bigger reads would only favour this package), count consumer
    callbacks."""
    from pika import frame, spec
    engine, _sent = _engine_connection()
    channel = _engine_channel(engine)
    received = [0]

    def on_message(_chan: Any, _method: Any, _props: Any, _body: Any) -> None:
        received[0] += 1

    tag = channel.basic_consume('q', on_message)
    engine._on_data_available(
        frame.Method(channel.channel_number,
                     spec.Basic.ConsumeOk(tag)).marshal())
    one = b''.join((frame.Method(
        channel.channel_number,
        spec.Basic.Deliver(tag, 1, False, '',
                           'pika-bench-12345-3-consume')).marshal(),
                    frame.Header(channel.channel_number, len(BODY_64),
                                 spec.BasicProperties()).marshal(),
                    frame.Body(channel.channel_number, BODY_64).marshal()))
    per_block = 1000
    block = one * per_block
    reads = [block[at:at + 4096] for at in range(0, len(block), 4096)]
    feed = engine._on_data_available
    for data in reads:
        feed(data)
    if received[0] != per_block:
        raise RuntimeError('engine delivered %d of %d' %
                           (received[0], per_block))
    rounds = max(1, opts.n // per_block)
    best = 0.0
    for _ in range(opts.reps):
        start = process_time()
        for _ in range(rounds):
            for data in reads:
                feed(data)
        best = max(best, rounds * per_block / (process_time() - start))
    return Result(best, 'msg/s', cpu_us=round(1e6 / best, 2))


def wl_engine_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Channel.basic_publish through the engine to the adapter's emit (no
    I/O): 64-byte bodies, no properties."""
    engine, sent = _engine_connection()
    channel = _engine_channel(engine)
    publish = channel.basic_publish
    body = BODY_64
    publish('', 'q', body)
    if not sent:
        raise RuntimeError('nothing emitted')
    best = 0.0
    for _ in range(opts.reps):
        sent.clear()
        start = process_time()
        for _ in range(opts.n):
            publish('', 'pika-bench-12345-3-publish', body)
        best = max(best, opts.n / (process_time() - start))
    return Result(best, 'msg/s', cpu_us=round(1e6 / best, 2))


WORKLOADS: Dict[str, Callable[[argparse.Namespace, Any], Result]] = {
    name[3:]: func
    for name, func in list(globals().items())
    if name.startswith('wl_')
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('workload', choices=sorted(WORKLOADS))
    parser.add_argument('--queue', default='pika-bench-manual')
    parser.add_argument('--n', type=int, default=10000)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5672)
    parser.add_argument('--timeout', type=float, default=120.0)
    parser.add_argument('--seconds', type=float, default=0.3)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--max-length', type=int, default=0)
    parser.add_argument('--no-pika', action='store_true')
    opts = parser.parse_args()
    if opts.host not in ('127.0.0.1', 'localhost', '::1'):
        parser.error('benchmarks only run against a local broker')
    info: Dict[str, Any] = {
        'workload': opts.workload,
        'python': platform.python_version()
    }
    if not opts.no_pika:
        import pika
        info['pika_version'] = getattr(pika, '__version__', '?')
        info['pika_file'] = pika.__file__
    admin = None
    if not opts.workload.startswith(('codec', 'engine')):
        admin = _rawamqp.RawClient(opts.host, opts.port)
        arguments = {'x-expires': 600000}
        if opts.max_length:
            arguments['x-max-length'] = opts.max_length
        admin.delete(opts.queue)
        admin.declare(opts.queue, arguments=arguments)
    try:
        result = WORKLOADS[opts.workload](opts, admin)
    finally:
        if admin is not None:
            try:
                admin.delete(opts.queue)
                admin.close()
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass
    info.update(result)
    clock = CpuClock.last
    if clock is not None and clock.spent and opts.n:
        # kernel share of the CPU: system calls, copies, socket wake-ups
        info['extra']['sys_us'] = round(clock.spent_sys / opts.n * 1e6, 2)
    sys.stdout.write('\n' + json.dumps(info) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
