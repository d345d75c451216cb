#!/usr/bin/env python3
"""Side-by-side benchmark of the asyncio clients: ``pika.aio`` (this
repository) against aio-pika 10.x and against this repository's callback
``AsyncioConnection``.

Usage (from the repository root, broker on 127.0.0.1:5672, guest/guest)::

    python3 benchmarks/aio_vs_aiopika.py             # 3 rounds, ~2 minutes
    python3 benchmarks/aio_vs_aiopika.py --quick     # 1 round, smaller counts
    python3 benchmarks/aio_vs_aiopika.py --only consume --rounds 5

aio-pika is installed from PyPI into ``benchmarks/.venv-aiopika`` on first
use (``_aiopika_venv.py``); ours runs in the bare ``benchmarks/.venv-ours``
interpreter with the repository on ``PYTHONPATH``, as in ``run.py``. Every
workload of ``aio_workloads.py`` runs in a fresh process, the three clients
in a rotating order each round; the table shows medians of msg/s and of the
client's CPU time per message (``time.process_time`` of the workload
process, user + system), and checks the targets:

* publish and consume: pika.aio at least 3x aio-pika and at least 0.8x the
  callback adapter;
* confirmed publish with 100 in flight: at least 10x pika.aio's serial
  confirmed publish (each confirm awaited before the next publish).
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
WORKLOADS_PY = os.path.join(HERE, 'aio_workloads.py')
sys.path.insert(0, HERE)

import _aiopika_venv  # noqa: E402
import _rawamqp  # noqa: E402
from run import (  # noqa: E402
    ensure_ours_venv, render_cells, run_workload_process, wait_for_broker)

AIO, AIOPIKA, CALLBACK = 'aio', 'aiopika', 'cb'
CLIENTS = (AIO, AIOPIKA, CALLBACK)
CLIENT_LABELS = {
    AIO: 'pika.aio',
    AIOPIKA: 'aio-pika',
    CALLBACK: 'callback',
}

# row: (label, full count, quick count)
ROWS: Dict[str, Tuple[str, int, int]] = {
    'publish': ('publish 64 B, no confirms', 50000, 20000),
    'confirm': ('publish, confirms, 100 in flight', 20000, 8000),
    'confirm_serial': ('publish, confirms, one at a time', 2000, 1000),
    'consume': ('consume, prefetch 1000, ack each', 50000, 20000),
}
# rows whose pika.aio figure must be >= RATIO x aio-pika and >= 0.8x callback
VERSUS_TARGETS = {'publish', 'consume'}
VERSUS_AIOPIKA = 3.0
VERSUS_CALLBACK = 0.8
PIPELINE_TARGET = 10.0  # confirm / confirm_serial, pika.aio
TIMEOUT = 120.0


class Runner:
    """Start workload subprocesses and collect their results."""

    def __init__(self, opts: argparse.Namespace, ours_python: str,
                 aiopika_python: str) -> None:
        self.opts = opts
        self.pythons = {
            AIO: ours_python,
            CALLBACK: ours_python,
            AIOPIKA: aiopika_python
        }
        self.workdir = tempfile.mkdtemp(prefix='pika-aio-bench-')
        self.serial = 0

    def _env(self, client: str) -> Dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP')
        }
        env['PYTHONHASHSEED'] = '0'
        if client != AIOPIKA:  # the aio-pika run never sees this pika
            env['PYTHONPATH'] = self.opts.ours_path
        return env

    def run(self, row: str, client: str) -> Dict[str, Any]:
        """Run one workload; retry once if the broker was away."""
        result = self._run_once(row, client)
        error = result.get('error', '')
        if 'refused' in error.lower() or 'reset' in error.lower():
            if wait_for_broker(self.opts.host, self.opts.port, 90.0):
                result = self._run_once(row, client)
        return result

    def _run_once(self, row: str, client: str) -> Dict[str, Any]:
        _label, full_n, quick_n = ROWS[row]
        count = quick_n if self.opts.quick else full_n
        count = max(1, int(count * self.opts.scale))
        self.serial += 1
        workload = '%s_%s' % (client, row)
        queue = 'pika-aio-bench-%d-%d-%s' % (os.getpid(), self.serial, workload)
        cmd = [
            self.pythons[client], WORKLOADS_PY, workload, '--queue', queue,
            '--n',
            str(count), '--host', self.opts.host, '--port',
            str(self.opts.port), '--timeout',
            str(TIMEOUT * 0.8)
        ]
        if client == AIOPIKA:
            cmd.append('--no-pika')
        result = run_workload_process(cmd, self.workdir, self._env(client),
                                      TIMEOUT)
        self._cleanup(queue)
        if 'error' in result:
            return result
        problem = self._check(result, client)
        return {'error': problem} if problem else result

    def _check(self, result: Dict[str, Any], client: str) -> str:
        if client == AIOPIKA:
            version = result.get('extra', {}).get('aio_pika', '')
            if not version.startswith(_aiopika_venv.AIOPIKA_MAJOR + '.'):
                return 'ran aio-pika %r, not 10.x' % (version,)
            if 'pika_file' in result:
                return 'the aio-pika run imported pika'
            return ''
        expected = os.path.join(os.path.realpath(self.opts.ours_path), 'pika')
        if not os.path.realpath(result.get('pika_file',
                                           '')).startswith(expected):
            return 'imported the wrong pika: %s' % result.get('pika_file')
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


def summarise(results: Dict[Tuple[str, str], List[Dict[str, Any]]],
              rows: List[str]) -> List[Dict[str, Any]]:
    """Medians, ratios and verdicts, one dict per row."""
    table = []
    rates: Dict[Tuple[str, str], Optional[float]] = {}
    for row in rows:
        line: Dict[str, Any] = {'row': row, 'label': ROWS[row][0]}
        notes = []
        for client in CLIENTS:
            runs = results.get((row, client), [])
            values = [run['value'] for run in runs if 'value' in run]
            cpus = [
                run['extra']['cpu_us']
                for run in runs
                if 'value' in run and 'cpu_us' in run.get('extra', {})
            ]
            rates[row, client] = line[client] = _median(values)
            line[client + '_cpu'] = _median(cpus)
            errors = [run['error'] for run in runs if 'error' in run]
            if errors:
                notes.append('%s: %s' % (CLIENT_LABELS[client], errors[0]))
        ours, theirs, callback = (line[AIO], line[AIOPIKA], line[CALLBACK])
        line['vs_aiopika'] = ours / theirs if ours and theirs else None
        line['vs_callback'] = ours / callback if ours and callback else None
        checks: List[Tuple[str, bool]] = []
        if row in VERSUS_TARGETS:
            checks.append(
                ('>= %.0fx aio-pika' % VERSUS_AIOPIKA, (line['vs_aiopika'] or 0)
                 >= VERSUS_AIOPIKA))
            checks.append(
                ('>= %.1fx callback' % VERSUS_CALLBACK, (line['vs_callback'] or
                                                         0) >= VERSUS_CALLBACK))
        line['checks'] = checks
        line['notes'] = notes
        table.append(line)
    serial = rates.get(('confirm_serial', AIO))
    for line in table:
        if line['row'] == 'confirm' and line[AIO] and serial:
            line['vs_serial'] = line[AIO] / serial
            line['checks'].append(
                ('>= %.0fx serial' % PIPELINE_TARGET, line['vs_serial']
                 >= PIPELINE_TARGET))
    for line in table:
        checks = line['checks']
        line['target'] = ', '.join(name for name, _ok in checks)
        if line['notes'] and line[AIO] is None:
            line['verdict'] = 'ERROR'
        elif checks:
            line['verdict'] = 'PASS' if all(ok for _n, ok in checks) else 'FAIL'
        else:
            line['verdict'] = ''
    return table


HEADER = [
    'workload', 'pika.aio', 'aio-pika', 'callback', 'aio/aio-pika',
    'aio/callback', 'cpu us/msg aio / aio-pika / callback', 'target', 'result',
    'notes'
]
_LEFT = (0, 7, 8, 9)


def _rate(value: Optional[float]) -> str:
    return '-' if value is None else '{:,.0f}'.format(value)


def _ratio(value: Optional[float]) -> str:
    return '-' if value is None else '%.2fx' % value


def _cells(line: Dict[str, Any]) -> List[str]:
    cpu = ' / '.join('-' if line[client + '_cpu'] is None else '%.1f' %
                     line[client + '_cpu'] for client in CLIENTS)
    notes = list(line['notes'])
    if line.get('vs_serial'):
        notes.insert(0, '%.1fx serial' % line['vs_serial'])
    return [
        line['label'],
        _rate(line[AIO]),
        _rate(line[AIOPIKA]),
        _rate(line[CALLBACK]),
        _ratio(line['vs_aiopika']),
        _ratio(line['vs_callback']), cpu, line['target'], line['verdict'],
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
    parser.add_argument('--aiopika-python',
                        help='python of a venv with aio-pika 10.x (default: '
                        'benchmarks/.venv-aiopika, made on first use)')
    parser.add_argument('--ours-path', default=REPO)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5672)
    parser.add_argument('--json',
                        default=os.path.join(HERE, 'results',
                                             'aio_vs_aiopika.json'),
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
    rounds = opts.rounds or (1 if opts.quick else 3)
    ours_python = opts.ours_python or ensure_ours_venv()
    aiopika_python = opts.aiopika_python or _aiopika_venv.ensure_venv()
    subprocess.run([
        ours_python, '-m', 'compileall', '-q',
        os.path.join(opts.ours_path, 'pika')
    ],
                   check=False)
    runner = Runner(opts, ours_python, aiopika_python)
    print('python %s, %d CPUs; ours: %s; aio-pika %s (%s)' %
          (platform.python_version(), os.cpu_count() or 0, opts.ours_path,
           _aiopika_venv.installed_version(aiopika_python), aiopika_python),
          file=sys.stderr)
    results: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    begin = time.perf_counter()
    for rnd in range(rounds):
        for index, row in enumerate(rows):
            shift = (rnd + index) % len(CLIENTS)
            for client in CLIENTS[shift:] + CLIENTS[:shift]:
                result = runner.run(row, client)
                results.setdefault((row, client), []).append(result)
                shown = ('ERROR ' + result['error']
                         if 'error' in result else '%s msg/s, %.1f us/msg cpu' %
                         (_rate(result['value']),
                          result['extra'].get('cpu_us', 0.0)))
                print('[round %d/%d %4.0fs] %-15s %-8s %s' %
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
