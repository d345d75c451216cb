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
import os
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


class Result(dict):
    """What a workload returns: value, unit and optional extras."""

    def __init__(self, value: float, unit: str, **extra: Any) -> None:
        super().__init__(value=value, unit=unit, extra=extra)


def _params(opts: argparse.Namespace) -> Any:
    import pika
    return pika.ConnectionParameters(host=opts.host, port=opts.port)


# --------------------------------------------------------------------------
# codec
# --------------------------------------------------------------------------
def wl_codec(opts: argparse.Namespace, admin: Any) -> Result:
    """Marshal Basic.Publish + Header (props with headers) + Body; decode."""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.exists(os.path.join(here, 'bench_codec.py')) and \
            not opts.own_codec:
        try:
            return _codec_via_bench_codec(opts)
        except _NoCodecHook:
            pass
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

    once()
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
    best = 0.0
    for _ in range(opts.reps):
        count = 0
        start = perf_counter()
        deadline = start + opts.seconds
        while True:
            for _ in range(200):
                once()
            count += 200
            now = perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return Result(best, 'ops/s', source='workloads.py')


class _NoCodecHook(Exception):
    pass


def _codec_via_bench_codec(opts: argparse.Namespace) -> Result:
    """Use the codec helper's workload if it offers a callable hook."""
    import bench_codec  # noqa: F401  (sibling module)
    hook = getattr(bench_codec, 'publish_roundtrip_ops', None)
    if hook is None:
        raise _NoCodecHook()
    value = float(hook(seconds=opts.seconds, reps=opts.reps))
    return Result(value, 'ops/s', source='bench_codec.py')


# --------------------------------------------------------------------------
# blocking
# --------------------------------------------------------------------------
def _blocking(opts: argparse.Namespace) -> Any:
    import pika
    connection = pika.BlockingConnection(_params(opts))
    return connection, connection.channel()


def wl_blocking_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking basic_publish of 64-byte bodies, no confirms."""
    connection, channel = _blocking(opts)
    queue, count = opts.queue, opts.n
    publish = channel.basic_publish
    body = BODY_64
    start = perf_counter()
    for _ in range(count):
        publish('', queue, body)
    client_done = perf_counter()
    end = admin.wait_count(queue, count, opts.timeout)
    connection.close()
    return Result(count / (end - start),
                  'msg/s',
                  client_rate=count / (client_done - start))


def wl_blocking_publish_confirm(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking basic_publish with publisher confirms (one at a time)."""
    connection, channel = _blocking(opts)
    channel.confirm_delivery()
    queue, count = opts.queue, opts.n
    publish = channel.basic_publish
    body = BODY_64
    start = perf_counter()
    for _ in range(count):
        publish('', queue, body)
    end = perf_counter()
    held = admin.count(queue)
    connection.close()
    if held != count:
        raise RuntimeError('queue holds %d, expected %d' % (held, count))
    return Result(count / (end - start), 'msg/s')


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
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    end = perf_counter()
    connection.close()
    if size != count * len(BODY_64):
        raise RuntimeError('bad byte count %d' % size)
    return Result(count / (end - start), 'msg/s')


def wl_basic_get(opts: argparse.Namespace, admin: Any) -> Result:
    """basic_get(auto_ack=True) in a loop until the queue is drained."""
    queue, count = opts.queue, opts.n
    admin.fill(queue, BODY_64, count, opts.timeout)
    connection, channel = _blocking(opts)
    get = channel.basic_get
    start = perf_counter()
    for _ in range(count):
        method, _props, body = get(queue, auto_ack=True)
        if method is None or len(body) != 64:
            raise RuntimeError('basic_get returned nothing')
    end = perf_counter()
    connection.close()
    return Result(count / (end - start), 'msg/s')


def wl_publish_1mib(opts: argparse.Namespace, admin: Any) -> Result:
    """Blocking publish of 1 MiB bodies (several body frames each), MB/s."""
    connection, channel = _blocking(opts)
    queue, count = opts.queue, opts.n
    body = b'm' * MIB
    publish = channel.basic_publish
    start = perf_counter()
    for _ in range(count):
        publish('', queue, body)
    end = admin.wait_count(queue, count, opts.timeout)
    connection.close()
    return Result(count * MIB / 1e6 / (end - start), 'MB/s')


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
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    end = perf_counter()
    connection.close()
    return Result(count * MIB / 1e6 / (end - start), 'MB/s')


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
    for _ in range(count):
        publish('', queue, body)
    end = perf_counter()
    connection.close()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Result(rss_kib / 1024.0, 'MiB', rate=count / (end - start))


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
            run.finish()
        else:
            run.call_later(0.002, poll)

    def on_channel(_channel: Any) -> None:
        run.start = perf_counter()
        publish_chunk()

    run.on_channel = on_channel
    run.run()
    return Result(count / (run.end - run.start), 'msg/s')


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
            run.finish()

    def on_qos(_frame: Any) -> None:
        run.start = perf_counter()
        run.channel.basic_consume(queue, on_message)

    def on_channel(channel: Any) -> None:
        channel.basic_qos(prefetch_count=PREFETCH, callback=on_qos)

    run.on_channel = on_channel
    run.run()
    return Result(count / (run.end - run.start), 'msg/s')


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
def wl_raw_publish(opts: argparse.Namespace, admin: Any) -> Result:
    """Pre-marshalled publish frames written to one raw socket."""
    client = _rawamqp.RawClient(opts.host, opts.port)
    queue, count = opts.queue, opts.n
    start = perf_counter()
    client.publish_many(queue, BODY_64, count)
    end = admin.wait_count(queue, count, opts.timeout)
    client.close()
    return Result(count / (end - start), 'msg/s')


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
    parser.add_argument('--own-codec', action='store_true')
    parser.add_argument('--no-pika', action='store_true')
    opts = parser.parse_args()
    if opts.host not in ('127.0.0.1', 'localhost', '::1'):
        parser.error('benchmarks only run against a local broker')
    info: Dict[str, Any] = {'workload': opts.workload}
    if not opts.no_pika:
        import pika
        info['pika_version'] = getattr(pika, '__version__', '?')
        info['pika_file'] = pika.__file__
    admin = None
    if opts.workload != 'codec':
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
    sys.stdout.write('\n' + json.dumps(info) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
