#!/usr/bin/env python3
"""Soak test of automatic recovery on the local 3-node cluster, side by side
with pika 1.4.4 and the hand-written reconnect loop of pika's examples.

Usage (as root, from the repository root; starts utils/cluster.sh if
needed; hold the cluster lock)::

    flock /tmp/pika-cluster.lock python3 benchmarks/soak_recovery.py \
        [--messages 200000] [--budget 250] [--spacing 6]

For each library, one publisher connection with publisher confirms and one
consumer connection (manual acks) move ``--messages`` messages through a
quorum queue (``x-quorum-initial-group-size`` 3, all members up before the
run). Ours: the thread-safe ``pika.Connection`` with
``recovery=RecoveryConfig(republish_unconfirmed=True)``, ``--threads``
threads publishing on it, so that confirms are pipelined (each thread waits
for its own confirm, the connection carries all of them); the consumer is a
thread-safe connection with recovery too. pika 1.4.4: ``BlockingConnection``
with the reconnect loop of pika's examples around a publisher that
republishes the message whose confirmation was lost (what an application
must add by hand), and the same loop around the consumer. The clients reach
the nodes through one scripted loopback proxy per node, and a fault thread
injects, every ``--spacing`` seconds from the start: 5 TCP resets, 1 stall
past the heartbeat timeout, and twice a stop and restart of the node the
publisher is connected to. A run ends when every message is published and
consumed, or after ``--budget`` seconds (two runs: the soak stays under 10
minutes).

Reported per library: messages confirmed, confirmed but never consumed (must
be 0), duplicates delivered, and per fault the outage: the longest pause
between two publisher confirmations around the fault, median and max.
"""

import argparse
import functools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time
import uuid

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))

PORTS = (5681, 5682, 5683)
HEARTBEAT = 2


def _cluster(*args):
    subprocess.run([str(ROOT / 'utils' / 'cluster.sh')] +
                   [str(a) for a in args],
                   check=True,
                   timeout=300,
                   stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _quorum_ready(queue):
    out = subprocess.run([
        'rabbitmqctl', '-q', '-n', 'pika-c2@localhost', 'list_queues', 'name',
        'members', 'leader', '--formatter', 'json'
    ],
                         check=True,
                         stdout=subprocess.PIPE,
                         text=True,
                         timeout=60).stdout
    for row in json.loads(out or '[]'):
        if row['name'] == queue:
            return len(row['members']) == 3 and bool(row['leader'])
    return False


# -- the worker (runs under our package or pika 1.4.4) ------------------------


class _Stats:

    def __init__(self):
        self.lock = threading.Lock()
        self.confirmed = set()
        self.confirm_times = []
        self.received = {}
        self.publish_done = False
        # returns the port of the proxy the publisher is connected to now
        self.publisher_port = lambda: None


def _port_of(conn):
    return conn._impl.params.port


def _ours_config(**kwargs):
    from pika.recovery import RecoveryConfig
    return RecoveryConfig(initial_interval=0.2,
                          max_interval=2,
                          max_attempts=None,
                          **kwargs)


def _publisher_ours(pika, params, queue, count, stats, stop, threads):
    conn = pika.Connection(params,
                           recovery=_ours_config(republish_unconfirmed=True,
                                                 wait_timeout=60))
    stats.publisher_port = functools.partial(_port_of, conn)
    numbers = iter(range(count))
    take = threading.Lock()

    def publish():
        channel = conn.channel()
        channel.confirm_delivery()
        while not stop.is_set():
            with take:
                number = next(numbers, None)
            if number is None:
                return
            body = b'%d' % number
            while not stop.is_set():
                try:
                    # returns once confirmed; a publish whose confirmation
                    # is lost with the connection is republished by the
                    # library and waits for its new confirmation
                    channel.basic_publish('', queue, body)
                except pika.exceptions.ConnectionRecovering:
                    continue  # not sent (recovery outlasted wait_timeout)
                except pika.exceptions.NackError:
                    continue  # refused by the broker (e.g. no quorum): again
                with stats.lock:
                    stats.confirmed.add(number)
                    stats.confirm_times.append(time.monotonic())
                break

    workers = [
        threading.Thread(target=publish, daemon=True) for _ in range(threads)
    ]
    for worker_thread in workers:
        worker_thread.start()
    for worker_thread in workers:
        worker_thread.join()
    stats.publish_done = True
    stats.recoveries = list(conn._recovery.coordinator.durations)
    conn.close()


def _publisher_144(pika, params, queue, count, stats, stop, _threads):
    # The reconnect loop of pika's examples, plus republishing the message
    # whose confirmation was lost (what an application must add by hand).
    number = 0
    while number < count and not stop.is_set():
        try:
            conn = pika.BlockingConnection(params)
            stats.publisher_port = functools.partial(_port_of, conn)
            channel = conn.channel()
            channel.confirm_delivery()
            while number < count and not stop.is_set():
                try:
                    channel.basic_publish('', queue, b'%d' % number)
                except pika.exceptions.NackError:
                    continue
                with stats.lock:
                    stats.confirmed.add(number)
                    stats.confirm_times.append(time.monotonic())
                number += 1
            conn.close()
        except (pika.exceptions.AMQPConnectionError,
                pika.exceptions.AMQPChannelError, OSError):
            time.sleep(0.2)
    stats.publish_done = True


def _on_message(stats):

    def on_message(channel, method, _props, body):
        with stats.lock:
            number = int(body)
            stats.received[number] = stats.received.get(number, 0) + 1
        channel.basic_ack(method.delivery_tag)

    return on_message


def _all_consumed(stats, stop):
    return lambda: stop.is_set() or (stats.publish_done and stats.confirmed.
                                     issubset(stats.received))


def _consumer_ours(pika, params, queue, stats, stop):
    done = _all_consumed(stats, stop)
    conn = pika.Connection(params, recovery=_ours_config())
    channel = conn.channel()
    channel.basic_qos(prefetch_count=500)
    channel.basic_consume(queue, _on_message(stats))
    while not done():
        time.sleep(0.2)
    conn.close()


def _consumer_144(pika, params, queue, stats, stop):
    done = _all_consumed(stats, stop)
    while not done():
        try:
            conn = pika.BlockingConnection(params)
            channel = conn.channel()
            channel.basic_qos(prefetch_count=500)
            channel.basic_consume(queue, _on_message(stats))
            while not done():
                conn.process_data_events(0.2)
            conn.close()
        except (pika.exceptions.AMQPConnectionError,
                pika.exceptions.AMQPChannelError, OSError):
            time.sleep(0.2)


def _faults(proxies, fault_log, stop, spacing, stats):
    """Inject the issue's faults, spaced out; log (time, kind)."""

    def publisher_node():
        port = stats.publisher_port()
        ports = [proxy.port for proxy in proxies]
        return ports.index(port) + 1 if port in ports else 1

    plan = [
        'reset', 'reset', 'stop-node', 'reset', 'stall', 'reset', 'stop-node',
        'reset'
    ]
    for kind in plan:
        if stop.wait(spacing):
            return
        fault_log.append((time.monotonic(), kind))
        if kind == 'reset':
            for proxy in proxies:
                proxy.reset()
        elif kind == 'stall':
            # The peer goes silent on the open connections; new connections
            # work. Detecting it is the client's job (heartbeats).
            for proxy in proxies:
                proxy.stall(existing_only=True)
            stop.wait(spacing * 0.9)
        else:
            node = publisher_node()
            _cluster('stop-node', node)
            stop.wait(3)
            _cluster('start-node', node)


def _last_before(times, moment):
    earlier = [t for t in times if t < moment]
    return earlier[-1] if earlier else None


def _outages(fault_log, times):
    """Per fault, (kind, outage): the longest pause between two publisher
    confirmations from the last confirmation before the fault up to the
    last one before the next fault (the pause that starts there belongs to
    the next fault); None if no confirmation came after the fault."""
    outages = []
    moments = [at for at, _ in fault_log]
    for index, (fault_at, kind) in enumerate(fault_log):
        start = _last_before(times, fault_at)
        end = (_last_before(times, moments[index + 1]) if index +
               1 < len(moments) else None)
        points = [
            t for t in times
            if (start is None or t >= start) and (end is None or t < end)
        ]
        if end is not None:
            points.append(end)
        if not [t for t in points if t > fault_at]:
            outages.append((kind, None))
            continue
        gaps = [b - a for a, b in zip(points, points[1:])]
        outages.append((kind, round(max(gaps), 2) if gaps else 0.0))
    return outages


def worker(library, count, budget, spacing, threads):
    """Run one library's soak; print a JSON summary."""
    import pika
    from fault_proxy import ScriptedFaultProxy
    ours = library == 'ours'
    proxies = [ScriptedFaultProxy(('127.0.0.1', port)) for port in PORTS]
    params = [
        pika.ConnectionParameters(host='127.0.0.1',
                                  port=proxy.port,
                                  heartbeat=HEARTBEAT,
                                  connection_attempts=1,
                                  socket_timeout=2,
                                  blocked_connection_timeout=30)
        for proxy in proxies
    ]
    queue = 'soak-%s-%s' % (library, uuid.uuid4().hex)
    setup = pika.BlockingConnection(
        pika.ConnectionParameters(host='127.0.0.1', port=PORTS[1]))
    setup.channel().queue_declare(queue,
                                  durable=True,
                                  arguments={
                                      'x-queue-type': 'quorum',
                                      'x-quorum-initial-group-size': 3
                                  })
    while not _quorum_ready(queue):
        setup.sleep(0.5)
    setup.close()

    stats = _Stats()
    stop = threading.Event()
    fault_log = []
    publisher = _publisher_ours if ours else _publisher_144
    consumer = _consumer_ours if ours else _consumer_144
    stats.recoveries = None
    threads = [
        threading.Thread(target=publisher,
                         args=(pika, params, queue, count, stats, stop,
                               threads),
                         daemon=True),
        threading.Thread(target=consumer,
                         args=(pika, params, queue, stats, stop),
                         daemon=True),
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    fault_thread = threading.Thread(target=_faults,
                                    args=(proxies, fault_log, stop, spacing,
                                          stats),
                                    daemon=True)
    fault_thread.start()
    # every fault is injected, even if the messages went through first
    while ((fault_thread.is_alive() or
            any(thread.is_alive() for thread in threads)) and
           time.monotonic() - started < budget):
        time.sleep(0.5)
    stop.set()
    fault_thread.join(60)
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    with stats.lock:
        confirmed = set(stats.confirmed)
        received = dict(stats.received)
        times = sorted(stats.confirm_times)
    resumed = _outages(fault_log, times)
    progress = [
        sum(1
            for t in times
            if t - started <= mark)
        for mark in range(30,
                          int(elapsed) + 30, 30)
    ]
    for proxy in proxies:
        proxy.close()
    try:
        cleanup = pika.BlockingConnection(
            pika.ConnectionParameters(host='127.0.0.1', port=PORTS[1]))
        cleanup.channel().queue_delete(queue)
        cleanup.close()
    except Exception:  # noqa: BLE001 - best effort
        pass
    durations = [seconds for _, seconds in resumed if seconds is not None]
    print(
        json.dumps({
            'library':
                library,
            'messages':
                count,
            'elapsed_s':
                round(elapsed, 1),
            'confirmed':
                len(confirmed),
            'confirmed_but_lost':
                len(confirmed - set(received)),
            'duplicates':
                sum(n - 1 for n in received.values() if n > 1),
            'faults':
                resumed,
            'recovery_median_s':
                (round(statistics.median(durations), 2) if durations else None),
            'recovery_max_s':
                max(durations) if durations else None,
            'faults_never_recovered':
                sum(1 for _, s in resumed if s is None),
            'faults_injected':
                len(fault_log),
            'confirmed_every_30s':
                progress,
            'recoveries_reported':
                (None if stats.recoveries is None else
                 [round(seconds, 2) for seconds in stats.recoveries]),
        }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--messages', type=int, default=200000)
    parser.add_argument('--budget',
                        type=float,
                        default=250,
                        help='seconds per library (2 runs: keep <= 280)')
    parser.add_argument('--spacing',
                        type=float,
                        default=6,
                        help='seconds between two faults')
    parser.add_argument('--threads',
                        type=int,
                        default=16,
                        help='publishing threads (ours)')
    parser.add_argument('--worker', choices=['ours', 'pika144'])
    parser.add_argument('--only', choices=['ours', 'pika144'])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.messages, args.budget, args.spacing,
               args.threads)
        return
    _cluster('start')
    results = []
    for library in ('ours', 'pika144'):
        if args.only and library != args.only:
            continue
        if library == 'ours':
            python, cwd = sys.executable, str(ROOT)
            env = dict(os.environ, PYTHONPATH=str(ROOT))
        else:
            sys.path.insert(0, str(HERE))
            from _pika_venv import ensure_venv
            python, cwd = ensure_venv(), '/tmp'
            env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        log_path = '/tmp/soak-recovery-%s.log' % (library,)
        with open(log_path, 'w') as log:
            out = _run_worker(python, cwd, env, log, library, args)
        line = [row for row in out.splitlines() if row.startswith('{')]
        results.append(
            json.loads(line[-1]) if line else {
                'library': library,
                'log': log_path
            })
    _print_table(results)


def _run_worker(python, cwd, env, log, library, args):
    return subprocess.run([
        python,
        str(HERE / 'soak_recovery.py'), '--worker', library, '--messages',
        str(args.messages), '--budget',
        str(args.budget), '--spacing',
        str(args.spacing), '--threads',
        str(args.threads)
    ],
                          cwd=cwd,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=log,
                          text=True,
                          timeout=args.budget + 200).stdout


def _print_table(results):
    keys = ('messages', 'elapsed_s', 'confirmed', 'confirmed_but_lost',
            'duplicates', 'recovery_median_s', 'recovery_max_s',
            'faults_injected', 'faults_never_recovered')
    print('%-24s' % '' + ''.join('%18s' % r['library'] for r in results))
    for key in keys:
        print('%-24s' % key + ''.join('%18s' % (r.get(key),) for r in results))
    for result in results:
        print('%s faults (kind, outage in seconds): %s' %
              (result['library'], result.get('faults')))
        print('%s confirmed after 30 s, 60 s, ...: %s' %
              (result['library'], result.get('confirmed_every_30s')))
        if result.get('recoveries_reported'):
            print('%s recovery durations (loss to restored, publisher): %s' %
                  (result['library'], result['recoveries_reported']))


if __name__ == '__main__':
    main()
