#!/usr/bin/env python3
"""Side-by-side benchmark: this repository's pika against pika 1.4.4.

Usage (from the repository root, broker on 127.0.0.1:5672, guest/guest)::

    python3 benchmarks/run.py            # full run, about 4-5 minutes
    python3 benchmarks/run.py --quick    # under a minute, smaller counts
    python3 benchmarks/run.py --only blocking_publish,codec --rounds 5

Every workload runs in a fresh subprocess, alternately with this package
(``PYTHONPATH=<repo>``) and with pika 1.4.4 (its own virtualenv, made by
``_pika_venv.py`` or given with ``--pika-python``; never mixed), over several
rounds.  The table shows medians, the ratio ours/pika and PASS/FAIL against
the project's targets.  A workload that fails prints ERROR with a one-line
reason and the rest carry on.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKLOADS_PY = os.path.join(HERE, 'workloads.py')
sys.path.insert(0, HERE)

import _rawamqp  # noqa: E402

OURS = 'ours'
PIKA = 'pika'
RAW = 'raw'

# name: (label, unit, full count, quick count, per-run timeout seconds)
WORKLOADS: Dict[str, Tuple[str, str, int, int, float]] = {
    'codec': ('codec: marshal+decode publish (bench_codec)', 'ops/s', 0, 0, 60),
    'codec_public':
        ('codec: same public calls (Frame.marshal)', 'ops/s', 0, 0, 60),
    'engine_publish': ('engine only: basic_publish to emit, no I/O', 'msg/s',
                       50000, 20000, 60),
    'engine_consume': ('engine only: 4 KiB reads to callback, no I/O', 'msg/s',
                       50000, 20000, 60),
    'blocking_publish':
        ('blocking publish 64 B, no confirms', 'msg/s', 20000, 8000, 120),
    'blocking_publish_confirm':
        ('blocking publish with confirms', 'msg/s', 5000, 2000, 120),
    'blocking_consume':
        ('blocking consume, prefetch 1000', 'msg/s', 50000, 20000, 120),
    'basic_get': ('blocking basic_get', 'msg/s', 5000, 2000, 120),
    'select_publish': ('SelectConnection publish', 'msg/s', 50000, 20000, 120),
    'select_consume': ('SelectConnection consume', 'msg/s', 50000, 20000, 120),
    'asyncio_publish':
        ('AsyncioConnection publish', 'msg/s', 50000, 20000, 120),
    'asyncio_consume':
        ('AsyncioConnection consume', 'msg/s', 50000, 20000, 120),
    'publish_1mib': ('blocking publish 1 MiB bodies', 'MB/s', 1500, 60, 180),
    'consume_1mib': ('blocking consume 1 MiB bodies', 'MB/s', 1500, 60, 180),
    'raw_publish':
        ('broker ceiling: raw socket publish', 'msg/s', 100000, 40000, 120),
    'raw_consume':
        ('broker ceiling: raw socket consume', 'msg/s', 100000, 40000, 120),
    'raw_publish_1mib':
        ('broker ceiling: raw socket publish 1 MiB', 'MB/s', 1500, 60, 180),
    'rss_publish':
        ('peak RSS, blocking publish run', 'MiB', 1000000, 100000, 600),
}
RAW_WORKLOADS = ('raw_publish', 'raw_consume', 'raw_publish_1mib')

# Ratio targets ours/pika (higher is better unless noted).
RATIO_TARGETS = {
    'codec': 3.0,
    'blocking_publish': 2.0,
    'blocking_publish_confirm': 1.3,
    'blocking_consume': 1.5,
    'basic_get': 1.3,
    'select_publish': 1.5,
    'select_consume': 1.5,
    'publish_1mib': 1.5,
    'consume_1mib': 1.5,
}
RAW_FRACTION_TARGET = {'select_publish': 0.70}
# asyncio workload -> the select workload it must be within 20% of
ASYNCIO_VS_SELECT = {
    'asyncio_publish': 'select_publish',
    'asyncio_consume': 'select_consume',
}
# Rows shown as a share of a raw-socket ceiling, and that ceiling.
RAW_CEILING_OF = {
    'blocking_publish': 'raw_publish',
    'blocking_publish_confirm': 'raw_publish',
    'select_publish': 'raw_publish',
    'asyncio_publish': 'raw_publish',
    'blocking_consume': 'raw_consume',
    'select_consume': 'raw_consume',
    'asyncio_consume': 'raw_consume',
    'publish_1mib': 'raw_publish_1mib',
}


def find_pika_python(explicit: Optional[str]) -> str:
    """Return the interpreter of a virtualenv holding pika 1.4.4."""
    if explicit:
        return explicit
    try:
        import _pika_venv  # the codec helper's venv builder
        for name in ('ensure_venv', 'ensure', 'venv_python', 'python_path',
                     'get_python'):
            func = getattr(_pika_venv, name, None)
            if callable(func):
                return str(func())
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001 - fall back below
        print('note: _pika_venv failed (%s); falling back' % exc,
              file=sys.stderr)
    for candidate in (os.path.join(HERE, '.venv-pika144', 'bin',
                                   'python'), '/tmp/pika144/bin/python'):
        if os.path.exists(candidate):
            return candidate
    raise SystemExit('no pika 1.4.4 virtualenv; run benchmarks/_pika_venv.py '
                     'or pass --pika-python')


def ensure_ours_venv() -> str:
    """Return the python of a bare virtualenv for running this package.

    pika 1.4.4 runs in a venv that sees no system site-packages; ours gets
    the same kind of interpreter (same base python, no packages at all, the
    repository on PYTHONPATH), so start-up imports and peak RSS compare like
    with like.
    """
    venv_dir = os.path.join(HERE, '.venv-ours')
    python = os.path.join(venv_dir, 'bin', 'python')
    if not os.path.exists(python):
        import venv
        venv.EnvBuilder(with_pip=False, clear=True).create(venv_dir)
    return python


class Runner:
    """Start workload subprocesses and collect their results."""

    def __init__(self, opts: argparse.Namespace, pika_python: str,
                 ours_python: str) -> None:
        self.opts = opts
        self.pika_python = pika_python
        self.ours_python = ours_python
        self.workdir = tempfile.mkdtemp(prefix='pika-bench-')
        self.admin: Optional[_rawamqp.RawClient] = None
        self.serial = 0

    def _env(self, flavour: str) -> Dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP')
        }
        env['PYTHONHASHSEED'] = '0'
        if flavour == OURS:
            env['PYTHONPATH'] = self.opts.ours_path
        elif flavour == PIKA and self.opts.baseline_path:
            env['PYTHONPATH'] = self.opts.baseline_path
        return env

    def _cleanup(self, queue: str) -> None:
        try:
            if self.admin is None:
                self.admin = _rawamqp.RawClient(self.opts.host, self.opts.port)
            self.admin.delete(queue)
        except Exception:  # noqa: BLE001 - reconnect next time
            self.admin = None

    def run(self, workload: str, flavour: str) -> Dict[str, Any]:
        """Run one workload; retry once if the broker was away."""
        result = self._run_once(workload, flavour)
        error = result.get('error', '')
        if any(sign in error for sign in BROKER_AWAY):
            if wait_for_broker(self.opts.host, self.opts.port, 90.0):
                self.admin = None
                result = self._run_once(workload, flavour)
                if 'error' not in result:
                    result['retried'] = error
        return result

    def _run_once(self, workload: str, flavour: str) -> Dict[str, Any]:
        """Run one workload once; return its result or an error record."""
        _label, _unit, full_n, quick_n, timeout = WORKLOADS[workload]
        count = quick_n if self.opts.quick else full_n
        if self.opts.quick:
            timeout = min(timeout, 45.0 if workload != 'rss_publish' else 150.0)
        if self.opts.scale != 1.0:
            count = max(1, int(count * self.opts.scale))
        self.serial += 1
        queue = 'pika-bench-%d-%d-%s' % (os.getpid(), self.serial, workload)
        python = self.ours_python
        if flavour == PIKA and not self.opts.baseline_path:
            python = self.pika_python
        cmd = [
            python, WORKLOADS_PY, workload, '--queue', queue, '--n',
            str(count), '--host', self.opts.host, '--port',
            str(self.opts.port), '--timeout',
            str(timeout * 0.8)
        ]
        if workload.startswith('codec') and self.opts.quick:
            cmd += ['--reps', '3', '--seconds', '0.2']
        if workload.startswith('engine'):
            cmd += ['--reps', '3']
        if workload == 'rss_publish':
            cmd += ['--max-length', '10000']
        if flavour == RAW:
            cmd.append('--no-pika')
        result = run_workload_process(cmd, self.workdir, self._env(flavour),
                                      timeout)
        self._cleanup(queue)
        if 'error' in result:
            return result
        problem = self._check_package(result, flavour)
        if problem:
            return {'error': problem}
        return result

    def _check_package(self, result: Dict[str, Any], flavour: str) -> str:
        path = result.get('pika_file', '')
        if result.get(
                'python') and result['python'] != platform.python_version():
            return 'ran on python %s, the harness on %s' % (
                result['python'], platform.python_version())
        if flavour == OURS:
            expected = os.path.join(os.path.realpath(self.opts.ours_path),
                                    'pika')
            if not os.path.realpath(path).startswith(expected):
                return 'imported the wrong pika: %s' % path
        elif flavour == PIKA and self.opts.baseline_path:
            expected = os.path.join(os.path.realpath(self.opts.baseline_path),
                                    'pika')
            if not os.path.realpath(path).startswith(expected):
                return 'baseline imported the wrong pika: %s' % path
        elif flavour == PIKA:
            if result.get('pika_version') != '1.4.4':
                return 'reference is pika %s, not 1.4.4' % (
                    result.get('pika_version'),)
            if os.path.realpath(path).startswith(
                    os.path.realpath(REPO) + os.sep + 'pika'):
                return 'reference run imported this repository'
        return ''


BROKER_AWAY = ('Connection refused', 'ConnectionRefused', 'Connection reset',
               'connection lost', 'StreamLostError', 'BrokenPipe')


def wait_for_broker(host: str, port: int, patience: float) -> bool:
    """Wait until the broker accepts an AMQP connection again."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            _rawamqp.RawClient(host, port, timeout=5.0).close()
            return True
        except Exception:  # noqa: BLE001 - still restarting
            time.sleep(1.0)
    return False


def render_cells(cells: List[List[str]], left: Any, rst: bool = False) -> str:
    """Rows of strings (the header first) as aligned text, the columns in
    ``left`` left-aligned and the others right-aligned, or as a
    reStructuredText simple table."""
    count = len(cells[0])
    widths = [max(len(row[i]) for row in cells) or 2 for i in range(count)]
    out = []
    if rst:
        rule = '  '.join('=' * width for width in widths)
        out.append(rule)
        for number, row in enumerate(cells):
            out.append('  '.join(
                (row[i] or '..' if i == 0 else row[i]).ljust(widths[i])
                for i in range(count)).rstrip())
            if number == 0:
                out.append(rule)
        out.append(rule)
        return '\n'.join(out)
    for number, row in enumerate(cells):
        out.append('  '.join(
            row[i].ljust(widths[i]) if i in left else row[i].rjust(widths[i])
            for i in range(count)).rstrip())
        if number == 0:
            out.append('  '.join('-' * width for width in widths))
    return '\n'.join(out)


def run_workload_process(cmd: List[str], cwd: str, env: Dict[str, str],
                         timeout: float) -> Dict[str, Any]:
    """Run one workload in its own process (group) and read its result.

    :returns: the JSON object it printed last, with ``elapsed`` (wall-clock
        seconds of the whole process), or ``{'error': reason}``
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd,
                            cwd=cwd,
                            env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {'error': 'timed out after %ds' % timeout}
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        return {'error': _reason(err.decode('utf-8', 'replace'))}
    lines = [ln for ln in out.decode().splitlines() if ln.startswith('{')]
    if not lines:
        return {'error': 'no result printed'}
    result: Dict[str, Any] = json.loads(lines[-1])
    result['elapsed'] = elapsed
    return result


def _reason(stderr: str) -> str:
    """One line that says why a workload failed."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return 'failed without a message'
    for line in reversed(lines):
        if not line.startswith(('File ', '^', '~')):
            return line[:160]
    return lines[-1][:160]


def _fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return '-'
    if unit in ('MB/s', 'MiB'):
        return '%.1f' % value
    return '{:,.0f}'.format(value)


def median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def summarise(results: Dict[str, Dict[str, List[Dict[str, Any]]]],
              order: List[str]) -> List[Dict[str, Any]]:
    """Turn raw results into table rows with verdicts."""
    med: Dict[Tuple[str, str], Optional[float]] = {}
    errors: Dict[Tuple[str, str], str] = {}
    cpu: Dict[Tuple[str, str], Optional[float]] = {}
    spread: Dict[Tuple[str, str], float] = {}
    for name in order:
        for flavour, runs in results.get(name, {}).items():
            values = [r['value'] for r in runs if 'value' in r]
            med[name, flavour] = median(values)
            if len(values) > 1:
                middle = statistics.median(values)
                spread[name, flavour] = (max(values) - min(values)) / 2 / middle
            cpus = [
                r['extra']['cpu_us']
                for r in runs
                if 'cpu_us' in r.get('extra', {})
            ]
            cpu[name, flavour] = median(cpus)
            errs = [r['error'] for r in runs if 'error' in r]
            if errs:
                errors[name, flavour] = errs[0]
    # The ceiling row shows the best the broker managed in any round; the
    # shares in the other rows pair each run with the raw run of its round.
    ceiling: Dict[str, Optional[float]] = {}
    for raw_name in RAW_WORKLOADS:
        raw_values = [
            r['value']
            for r in results.get(raw_name, {}).get(RAW, [])
            if 'value' in r
        ]
        ceiling[raw_name] = max(raw_values) if raw_values else None
    rows = []
    for name in order:
        label, unit = WORKLOADS[name][:2]
        row: Dict[str, Any] = {'name': name, 'label': label, 'unit': unit}
        raw = ceiling.get(RAW_CEILING_OF.get(name, ''))
        if name in RAW_WORKLOADS:
            row.update(ours=ceiling[name],
                       pika=None,
                       ratio=None,
                       target='(best run)',
                       verdict='',
                       note=errors.get((name, RAW), ''))
            if errors.get((name, RAW)):
                row['verdict'] = 'ERROR'
            rows.append(row)
            continue
        ours, ref = med.get((name, OURS)), med.get((name, PIKA))
        row['ours'], row['pika'] = ours, ref
        row['cpu'] = (cpu.get((name, OURS)), cpu.get((name, PIKA)))
        if (name, OURS) in spread or (name, PIKA) in spread:
            row['spread'] = (spread.get((name, OURS)), spread.get((name, PIKA)))
        row['ratio'] = ours / ref if ours and ref else None
        checks: List[Tuple[str, bool]] = []
        if name in RATIO_TARGETS:
            goal = RATIO_TARGETS[name]
            checks.append(('>= %.1fx' % goal, bool(row['ratio']) and
                           row['ratio'] >= goal))
        if name in RAW_FRACTION_TARGET and raw:
            goal = RAW_FRACTION_TARGET[name]
            pending_raw_check = goal
        else:
            pending_raw_check = None
        if name in ASYNCIO_VS_SELECT:
            sel = med.get((ASYNCIO_VS_SELECT[name], OURS))
            checks.append(('>= 0.8x select', bool(ours and sel) and
                           ours / sel >= 0.8))
            if ours and sel:
                row['vs_select'] = ours / sel
        if name == 'rss_publish':
            checks.append(('<= pika', bool(ours and ref) and ours <= ref))
        if name in RAW_CEILING_OF and raw:
            # Each run against the raw run of the same round (same machine
            # conditions), then the median of those shares.
            raw_name = RAW_CEILING_OF[name]
            raw_runs = results.get(raw_name, {}).get(RAW, [])
            shares = []
            for flavour in (OURS, PIKA):
                runs = results.get(name, {}).get(flavour, [])
                paired = [
                    run['value'] / base['value']
                    for run, base in zip(runs, raw_runs)
                    if 'value' in run and 'value' in base
                ] if len(runs) == len(raw_runs) else []
                shares.append(median(paired))
            row['raw_frac'] = tuple(shares)
        if pending_raw_check is not None:
            share = (row.get('raw_frac') or (None, None))[0]
            checks.append(('>= %d%% raw' % (pending_raw_check * 100),
                           share is not None and share >= pending_raw_check))
        row['target'] = ', '.join(c[0] for c in checks)
        note = errors.get((name, OURS)) or errors.get((name, PIKA), '')
        if (name, OURS) in errors and ours is None:
            row['verdict'] = 'ERROR'
            row['note'] = 'ours: ' + errors[name, OURS]
        elif (name, PIKA) in errors and ref is None:
            row['verdict'] = 'ERROR'
            row['note'] = 'pika 1.4.4: ' + errors[name, PIKA]
        else:
            row['verdict'] = ('PASS' if all(
                c[1] for c in checks) else 'FAIL') if checks else ''
            row['note'] = note
        rows.append(row)
    return rows


def _cells(row: Dict[str, Any]) -> List[str]:
    unit = row['unit']
    ratio = '%.2fx' % row['ratio'] if row.get('ratio') else '-'
    cpu_cell = ''
    ours_cpu, ref_cpu = row.get('cpu') or (None, None)
    if ours_cpu or ref_cpu:
        cpu_cell = '%s / %s' % ('%.1f' % ours_cpu if ours_cpu else '-',
                                '%.1f' % ref_cpu if ref_cpu else '-')
        if ours_cpu and ref_cpu:
            cpu_cell += ' (%.1fx)' % (ref_cpu / ours_cpu)
    extra = []
    if row.get('raw_frac'):
        ours_f, ref_f = row['raw_frac']
        extra.append('of ceiling: %s / %s' %
                     ('%d%%' % round(ours_f * 100) if ours_f else '-',
                      '%d%%' % round(ref_f * 100) if ref_f else '-'))
    if row.get('vs_select'):
        extra.append('%.2fx select' % row['vs_select'])
    if row.get('spread'):
        extra.append(
            'spread +-%s / +-%s' %
            tuple('%d%%' % round(value * 100) if value is not None else '-'
                  for value in row['spread']))
    if row.get('note'):
        extra.append(row['note'])
    return [
        row['label'], unit,
        _fmt(row.get('ours'), unit),
        _fmt(row.get('pika'), unit), ratio, cpu_cell,
        row.get('target', ''),
        row.get('verdict', ''), '; '.join(extra)
    ]


HEADER = [
    'workload', 'unit', 'ours', 'pika 1.4.4', 'ours/pika',
    'cpu us/op ours / pika', 'target', 'result', 'notes'
]
_LEFT = (0, 1, 6, 7)


def render_text(rows: List[Dict[str, Any]]) -> str:
    table = [HEADER] + [_cells(r) for r in rows]
    last = len(HEADER) - 1
    widths = [max(len(line[i]) for line in table) for i in range(last)]
    out = []
    for num, line in enumerate(table):
        cells = [
            line[i].ljust(widths[i]) if i in _LEFT else line[i].rjust(widths[i])
            for i in range(last)
        ]
        out.append('  '.join(cells) + ('  ' + line[last] if line[last] else ''))
        if num == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def render_rst(rows: List[Dict[str, Any]]) -> str:
    table = [HEADER] + [_cells(r) for r in rows]
    count = len(HEADER)
    widths = [max(len(line[i]) for line in table) or 2 for i in range(count)]
    sep = '  '.join('=' * w for w in widths)
    out = [
        sep, '  '.join(table[0][i].ljust(widths[i]) for i in range(count)), sep
    ]
    for line in table[1:]:
        out.append('  '.join(
            (line[i] or ('..' if i == 0 else '')).ljust(widths[i])
            for i in range(count)).rstrip())
    out.append(sep)
    return '\n'.join(out)


def export_revision(ref: str) -> str:
    """Export ``pika/`` at git revision ``ref`` into a fresh directory."""
    target = tempfile.mkdtemp(prefix='pika-bench-ours-')
    archive = subprocess.run(['git', 'archive', ref, 'pika'],
                             cwd=REPO,
                             check=True,
                             capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', target], input=archive, check=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', ref],
                            cwd=REPO,
                            check=True,
                            capture_output=True,
                            text=True).stdout.strip()
    print('ours: %s exported at %s' % (ref, commit), file=sys.stderr)
    return target


def broker_version(host: str, port: int) -> str:
    try:
        client = _rawamqp.RawClient(host, port)
        version = client.server_version
        client.close()
        return version
    except Exception as exc:  # noqa: BLE001
        raise SystemExit('cannot reach the broker at %s:%d: %s' %
                         (host, port, exc))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--quick',
                        action='store_true',
                        help='one round, smaller counts (< 1 minute)')
    parser.add_argument('--rounds',
                        type=int,
                        help='alternating rounds (default 3, quick 1)')
    parser.add_argument('--only',
                        help='comma-separated workloads (default: all): ' +
                        ', '.join(WORKLOADS))
    parser.add_argument('--skip',
                        default='',
                        help='comma-separated workloads to leave out')
    parser.add_argument('--scale',
                        type=float,
                        default=1.0,
                        help='multiply message counts by this')
    parser.add_argument('--ours-python',
                        help='interpreter for this package (default: a bare '
                        'venv in benchmarks/.venv-ours)')
    parser.add_argument('--pika-python',
                        help='python of a venv with pika==1.4.4')
    parser.add_argument('--ours-path',
                        default=REPO,
                        help='directory holding this package (PYTHONPATH)')
    parser.add_argument('--ours-ref',
                        help='measure a git revision of this package (e.g. '
                        'HEAD: committed code only) instead of the working '
                        'tree; exported with git archive to a temp dir')
    parser.add_argument('--baseline-path',
                        help='A/B mode: run this directory\'s pika (e.g. an '
                        'older export of this package) in the "pika 1.4.4" '
                        'column instead of the reference')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5672)
    parser.add_argument('--json',
                        default=os.path.join(HERE, 'results', 'latest.json'),
                        help='where to save every measurement')
    parser.add_argument('--rst',
                        action='store_true',
                        help='also print the table as reStructuredText')
    opts = parser.parse_args()
    if opts.host not in ('127.0.0.1', 'localhost', '::1'):
        parser.error('benchmarks only run against a local broker')
    rounds = opts.rounds or (1 if opts.quick else 3)
    order = list(WORKLOADS)
    if opts.only:
        wanted = [w.strip() for w in opts.only.split(',') if w.strip()]
        unknown = [w for w in wanted if w not in WORKLOADS]
        if unknown:
            parser.error('unknown workloads: %s' % ', '.join(unknown))
        order = [w for w in order if w in wanted]
    skip = {w.strip() for w in opts.skip.split(',') if w.strip()}
    order = [w for w in order if w not in skip]
    if opts.ours_ref:
        opts.ours_path = export_revision(opts.ours_ref)
    if opts.baseline_path:
        subprocess.run([
            sys.executable, '-m', 'compileall', '-q',
            os.path.join(opts.baseline_path, 'pika')
        ],
                       check=False)
        print('A/B mode: the "pika 1.4.4" column is %s' % opts.baseline_path,
              file=sys.stderr)
    pika_python = find_pika_python(opts.pika_python)
    version = broker_version(opts.host, opts.port)
    ours_python = opts.ours_python or ensure_ours_venv()
    # pip byte-compiles pika 1.4.4 when it installs it; do the same for ours
    # so neither side pays the compiler (time and peak RSS) at import.
    subprocess.run([
        ours_python, '-m', 'compileall', '-q',
        os.path.join(opts.ours_path, 'pika')
    ],
                   check=False)
    runner = Runner(opts, pika_python, ours_python)
    print('broker: RabbitMQ %s at %s:%d; python %s; %d CPUs' %
          (version, opts.host, opts.port, platform.python_version(),
           os.cpu_count() or 0),
          file=sys.stderr)
    print('ours: %s (PYTHONPATH) with %s; reference: %s' %
          (opts.ours_path, ours_python, pika_python),
          file=sys.stderr)
    results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    failed_ours: Dict[str, str] = {}
    begin = time.perf_counter()
    for rnd in range(rounds):
        for index, name in enumerate(order):
            if name == 'rss_publish' and rnd > 0:
                continue  # one long run each is enough for peak memory
            if name in RAW_WORKLOADS:
                flavours = [RAW]
            elif (rnd + index) % 2 == 0:
                flavours = [OURS, PIKA]
            else:
                flavours = [PIKA, OURS]
            for flavour in flavours:
                if flavour == OURS and name in failed_ours:
                    continue  # not implemented yet; don't retry each round
                res = runner.run(name, flavour)
                results.setdefault(name, {}).setdefault(flavour, []).append(res)
                if 'error' in res:
                    if flavour == OURS:
                        failed_ours[name] = res['error']
                    shown = 'ERROR ' + res['error']
                else:
                    shown = '%s %s (%.1fs)' % (_fmt(
                        res['value'], res['unit']), res['unit'], res['elapsed'])
                print('[round %d/%d %5.0fs] %-26s %-4s %s' %
                      (rnd + 1, rounds, time.perf_counter() - begin, name,
                       flavour, shown),
                      file=sys.stderr,
                      flush=True)
    rows = summarise(results, order)
    print()
    print(
        'medians of %d round(s); ours = %s, pika = 1.4.4; total %.0fs' %
        (rounds, opts.ours_ref or opts.ours_path, time.perf_counter() - begin))
    print(render_text(rows))
    if opts.rst:
        print()
        print(render_rst(rows))
    if opts.json:
        os.makedirs(os.path.dirname(opts.json), exist_ok=True)
        with open(opts.json, 'w') as handle:
            json.dump(
                {
                    'when': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                    'broker': version,
                    'python': platform.python_version(),
                    'cpus': os.cpu_count(),
                    'rounds': rounds,
                    'quick': opts.quick,
                    'rows': rows,
                    'runs': results,
                },
                handle,
                indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
