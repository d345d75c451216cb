#!/usr/bin/env python3
"""Side-by-side benchmark of publishing and consuming from threads: this
repository's thread-safe ``pika.Connection`` against ``BlockingConnection``
(ours and pika 1.4.4's) and against the pattern pika 1.4 users write today,
pika 1.4.4's ``BlockingConnection`` owned by one thread that worker threads
hand their publishes and acks to with ``add_callback_threadsafe``.

Usage (from the repository root, broker on 127.0.0.1:5672, guest/guest)::

    python3 benchmarks/thread_safe.py              # 3 rounds, ~2 minutes
    python3 benchmarks/thread_safe.py --quick      # 1 round, smaller counts
    python3 benchmarks/thread_safe.py --only confirm1,confirm8 --rounds 5 --rst

pika 1.4.4 runs in its own virtualenv (``_pika_venv.py``, or
``--pika-python``); ours in the bare ``benchmarks/.venv-ours`` interpreter
with the repository on ``PYTHONPATH``, as in ``run.py``. Every workload of
``thread_safe_workloads.py`` runs in a fresh process, the clients in a
rotating order each round; the table shows medians of msg/s and of the
client's CPU time per message (``time.process_time`` of the whole workload
process, all its threads, user + system), and checks the targets:

* one-thread publish without confirms: the thread-safe connection within
  25% of our ``BlockingConnection`` (at least 0.75x);
* 8-thread confirmed publish: at least 3x pika 1.4.4's one-thread confirmed
  ``BlockingConnection`` publish (the 8 threads' publishes are pipelined).

``BlockingConnection`` is not thread-safe, so its 8-thread cells stay empty.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKLOADS_PY = os.path.join(HERE, 'thread_safe_workloads.py')
sys.path.insert(0, HERE)

import _pika_venv  # noqa: E402
import _rawamqp  # noqa: E402
from run import (  # noqa: E402
    ensure_ours_venv, render_cells, run_workload_process, wait_for_broker)

TS, BLOCKING, PIKA, HANDOFF = 'ts', 'blocking', 'pika', 'handoff'
CLIENTS = (TS, BLOCKING, PIKA, HANDOFF)
CLIENT_LABELS = {
    TS: 'thread-safe',
    BLOCKING: 'Blocking',
    PIKA: 'pika 1.4.4 Blocking',
    HANDOFF: 'pika 1.4.4 hand-off',
}
# which package each client runs, and the workload prefix it uses
CLIENT_PACKAGE = {TS: 'ours', BLOCKING: 'ours', PIKA: 'pika', HANDOFF: 'pika'}
CLIENT_PREFIX = {
    TS: 'ts',
    BLOCKING: 'blocking',
    PIKA: 'blocking',
    HANDOFF: 'handoff'
}

# row: (label, full count, quick count)
ROWS: Dict[str, Tuple[str, int, int]] = {
    'publish1': ('publish 64 B, 1 thread', 20000, 8000),
    'publish8': ('publish 64 B, 8 threads', 20000, 8000),
    'confirm1': ('publish, confirms, 1 thread', 3000, 1500),
    'confirm8': ('publish, confirms, 8 threads', 8000, 4000),
    'consume': ('consume, prefetch 1000, ack each', 20000, 8000),
}
# rows a client cannot run (BlockingConnection is not thread-safe)
SINGLE_THREAD_ONLY = {BLOCKING, PIKA}
MULTI_THREAD_ROWS = {'publish8', 'confirm8'}

#: publish1: thread-safe / our BlockingConnection at least this
VERSUS_BLOCKING = 0.75
#: confirm8: thread-safe / pika 1.4.4 one-thread confirmed publish at least
VERSUS_PIKA_CONFIRM = 3.0
TIMEOUT = 120.0


def runs_row(client: str, row: str) -> bool:
    """Whether ``client`` has a workload for ``row``."""
    return not (client in SINGLE_THREAD_ONLY and row in MULTI_THREAD_ROWS)


class Runner:
    """Start workload subprocesses and collect their results."""

    def __init__(self, opts: argparse.Namespace, ours_python: str,
                 pika_python: str) -> None:
        self.opts = opts
        self.pythons = {'ours': ours_python, 'pika': pika_python}
        self.workdir = tempfile.mkdtemp(prefix='pika-ts-bench-')
        self.serial = 0

    def _env(self, package: str) -> Dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP')
        }
        env['PYTHONHASHSEED'] = '0'
        if package == 'ours':
            env['PYTHONPATH'] = self.opts.ours_path
        return env

    def run(self, row: str, client: str) -> Dict[str, Any]:
        """Run one workload; retry once if the broker was away."""
        result = self._run_once(row, client)
        error = result.get('error', '').lower()
        if 'refused' in error or 'reset' in error:
            if wait_for_broker(self.opts.host, self.opts.port, 90.0):
                result = self._run_once(row, client)
        return result

    def _run_once(self, row: str, client: str) -> Dict[str, Any]:
        _label, full_n, quick_n = ROWS[row]
        count = quick_n if self.opts.quick else full_n
        count = max(8, int(count * self.opts.scale))
        self.serial += 1
        workload = '%s_%s' % (CLIENT_PREFIX[client], row)
        queue = 'pika-ts-bench-%d-%d-%s' % (os.getpid(), self.serial, client)
        package = CLIENT_PACKAGE[client]
        cmd = [
            self.pythons[package], WORKLOADS_PY, workload, '--queue', queue,
            '--n',
            str(count), '--host', self.opts.host, '--port',
            str(self.opts.port), '--timeout',
            str(TIMEOUT * 0.8)
        ]
        result = run_workload_process(cmd, self.workdir, self._env(package),
                                      TIMEOUT)
        self._cleanup(queue)
        if 'error' in result:
            return result
        problem = self._check(result, package)
        return {'error': problem} if problem else result

    def _check(self, result: Dict[str, Any], package: str) -> str:
        path = os.path.realpath(result.get('pika_file', ''))
        if package == 'pika':
            if result.get('pika_version') != _pika_venv.PIKA_VERSION:
                return 'reference is pika %s, not %s' % (
                    result.get('pika_version'), _pika_venv.PIKA_VERSION)
            ours = os.path.join(os.path.realpath(REPO), 'pika') + os.sep
            if path.startswith(ours):
                return 'the reference run imported this repository'
            return ''
        expected = os.path.join(os.path.realpath(self.opts.ours_path), 'pika')
        if not path.startswith(expected):
            return 'imported the wrong pika: %s' % path
        return ''

    def _cleanup(self, queue: str) -> None:
        try:
            admin = _rawamqp.RawClient(self.opts.host, self.opts.port)
            admin.delete(queue)
            admin.close()
        except Exception:  # noqa: BLE001 - best effort
            pass


def _median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _ratio_of(numerator: Optional[float],
              denominator: Optional[float]) -> Optional[float]:
    return numerator / denominator if numerator and denominator else None


def summarise(results: Dict[Tuple[str, str], List[Dict[str, Any]]],
              rows: List[str]) -> List[Dict[str, Any]]:
    """Medians, ratios and verdicts, one dict per row.

    :param results: (row, client) -> the runs' result dicts
    :param rows: the rows to show, in order
    """
    table = []
    rates: Dict[Tuple[str, str], Optional[float]] = {}
    for row in ROWS:
        for client in CLIENTS:
            runs = results.get((row, client), [])
            rates[row, client] = _median(
                [run['value'] for run in runs if 'value' in run])
    for row in rows:
        line: Dict[str, Any] = {'row': row, 'label': ROWS[row][0]}
        notes = []
        for client in CLIENTS:
            runs = results.get((row, client), [])
            line[client] = rates[row, client]
            line[client + '_cpu'] = _median([
                run['extra']['cpu_us']
                for run in runs
                if 'value' in run and 'cpu_us' in run.get('extra', {})
            ])
            errors = [run['error'] for run in runs if 'error' in run]
            if errors:
                notes.append('%s: %s' % (CLIENT_LABELS[client], errors[0]))
        line['vs_blocking'] = _ratio_of(line[TS], line[BLOCKING])
        line['vs_handoff'] = _ratio_of(line[TS], line[HANDOFF])
        checks: List[Tuple[str, bool]] = []
        # the figures a row's verdict needs
        needed: List[Optional[float]] = []
        if row == 'publish1':
            needed = [line[TS], line[BLOCKING]]
            checks.append(
                ('>= %.2fx Blocking' % VERSUS_BLOCKING, (line['vs_blocking'] or
                                                         0) >= VERSUS_BLOCKING))
        if row == 'confirm8':
            needed = [line[TS], rates['confirm1', PIKA]]
            line['vs_pika_confirm1'] = _ratio_of(*needed)
            checks.append(
                ('>= %.0fx pika 1.4.4 confirm 1 thread' % VERSUS_PIKA_CONFIRM,
                 (line['vs_pika_confirm1'] or 0) >= VERSUS_PIKA_CONFIRM))
        line['checks'] = checks
        line['notes'] = notes
        line['target'] = ', '.join(name for name, _ok in checks)
        if not checks:
            line['verdict'] = ''
        elif any(value is None for value in needed):
            line['verdict'] = 'ERROR'
        else:
            line['verdict'] = 'PASS' if all(ok for _n, ok in checks) else 'FAIL'
        table.append(line)
    return table


HEADER = [
    'workload', 'thread-safe', 'Blocking', 'pika 1.4.4 Blocking',
    'pika 1.4.4 hand-off', 'ts/Blocking', 'ts/hand-off',
    'cpu us/msg ts / Blocking / pika / hand-off', 'target', 'result', 'notes'
]
_LEFT = (0, 8, 9, 10)


def _rate(value: Optional[float]) -> str:
    return '-' if value is None else '{:,.0f}'.format(value)


def _ratio(value: Optional[float]) -> str:
    return '-' if value is None else '%.2fx' % value


def _cells(line: Dict[str, Any]) -> List[str]:
    cpu = ' / '.join('-' if line[client + '_cpu'] is None else '%.1f' %
                     line[client + '_cpu'] for client in CLIENTS)
    notes = list(line['notes'])
    if line.get('vs_pika_confirm1'):
        notes.insert(0,
                     '%.1fx pika confirm 1 thread' % line['vs_pika_confirm1'])
    return [
        line['label'],
        _rate(line[TS]),
        _rate(line[BLOCKING]),
        _rate(line[PIKA]),
        _rate(line[HANDOFF]),
        _ratio(line['vs_blocking']),
        _ratio(line['vs_handoff']), cpu, line['target'], line['verdict'],
        '; '.join(notes)
    ]


def render(table: List[Dict[str, Any]], rst: bool = False) -> str:
    """The table as aligned text, or as a reStructuredText simple table."""
    return render_cells([HEADER] + [_cells(line) for line in table], _LEFT, rst)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--quick',
                        action='store_true',
                        help='one round, smaller counts')
    parser.add_argument('--rounds', type=int, help='rounds (default 3)')
    parser.add_argument('--only',
                        help='comma-separated rows: ' + ', '.join(ROWS))
    parser.add_argument('--scale',
                        type=float,
                        default=1.0,
                        help='multiply message counts by this')
    parser.add_argument('--ours-python',
                        help='interpreter for this package (default: a bare '
                        'venv in benchmarks/.venv-ours)')
    parser.add_argument('--pika-python',
                        help='python of a venv with pika 1.4.4 (default: '
                        'benchmarks/.venv-pika144, made on first use)')
    parser.add_argument('--ours-path', default=REPO)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5672)
    parser.add_argument('--json',
                        default=os.path.join(HERE, 'results',
                                             'thread_safe.json'),
                        help='where to save every measurement')
    parser.add_argument('--rst',
                        action='store_true',
                        help='also print the table as reStructuredText')
    opts = parser.parse_args()
    if opts.host not in ('127.0.0.1', 'localhost', '::1'):
        parser.error('benchmarks only run against a local broker')
    rows = list(ROWS)
    if opts.only:
        wanted = [name.strip() for name in opts.only.split(',')]
        unknown = [name for name in wanted if name not in ROWS]
        if unknown:
            parser.error('unknown rows: %s' % ', '.join(unknown))
        rows = [name for name in rows if name in wanted]
        if 'confirm8' in rows and 'confirm1' not in rows:
            rows.insert(rows.index('confirm8'), 'confirm1')  # its baseline
    rounds = opts.rounds or (1 if opts.quick else 3)
    ours_python = opts.ours_python or ensure_ours_venv()
    pika_python = opts.pika_python or _pika_venv.ensure_venv()
    subprocess.run([
        ours_python, '-m', 'compileall', '-q',
        os.path.join(opts.ours_path, 'pika')
    ],
                   check=False)
    runner = Runner(opts, ours_python, pika_python)
    print('python %s, %d CPUs; ours: %s; pika %s (%s)' %
          (platform.python_version(), os.cpu_count() or 0, opts.ours_path,
           _pika_venv.installed_version(pika_python), pika_python),
          file=sys.stderr)
    results: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    begin = time.perf_counter()
    for rnd in range(rounds):
        for index, row in enumerate(rows):
            shift = (rnd + index) % len(CLIENTS)
            for client in CLIENTS[shift:] + CLIENTS[:shift]:
                if not runs_row(client, row):
                    continue
                result = runner.run(row, client)
                results.setdefault((row, client), []).append(result)
                shown = ('ERROR ' + result['error']
                         if 'error' in result else '%s msg/s, %.1f us/msg cpu' %
                         (_rate(result['value']),
                          result['extra'].get('cpu_us', 0.0)))
                print('[round %d/%d %4.0fs] %-9s %-20s %s' %
                      (rnd + 1, rounds, time.perf_counter() - begin, row,
                       CLIENT_LABELS[client], shown),
                      file=sys.stderr,
                      flush=True)
    table = summarise(results, rows)
    print()
    print('medians of %d round(s), msg/s; total %.0fs' %
          (rounds, time.perf_counter() - begin))
    print(render(table))
    if opts.rst:
        print()
        print(render(table, rst=True))
    if opts.json:
        os.makedirs(os.path.dirname(opts.json), exist_ok=True)
        with open(opts.json, 'w') as handle:
            json.dump(
                {
                    'when': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                    'python': platform.python_version(),
                    'cpus': os.cpu_count(),
                    'rounds': rounds,
                    'quick': opts.quick,
                    'rows': table,
                    'runs': {
                        '%s/%s' % key: value for key, value in results.items()
                    },
                },
                handle,
                indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
