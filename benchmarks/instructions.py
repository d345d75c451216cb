#!/usr/bin/env python3
"""CPU instructions per message, this package against pika 1.4.4.

Usage::

    python3 benchmarks/instructions.py                  # engine rows
    python3 benchmarks/instructions.py engine_consume:2000 blocking_publish:2000
    python3 benchmarks/instructions.py --ours-path /tmp/new \\
        --baseline-path /tmp/old engine_consume:2000    # A/B two trees

Runs each workload of ``workloads.py`` under ``valgrind --tool=callgrind``
with N and 2N messages; the difference divided by N is the instructions one
message costs in the client process (start-up cancels out). Unlike any
clock this count does not depend on what else the machine is doing, so it can
show a 5% change that wall-clock or CPU-time runs on a busy machine cannot.
Valgrind makes Python ~50x slower: keep N small.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run import REPO, ensure_ours_venv, find_pika_python  # noqa: E402

DEFAULT = ['engine_publish:2000', 'engine_consume:2000']


def count_instructions(python: str,
                       env: Dict[str, str],
                       workload: str,
                       count: int,
                       script: str = 'workloads.py') -> int:
    """Total instructions (callgrind Ir) of one workload run.

    :param str script: the workload module in benchmarks/ (``workloads.py``
        or ``aio_workloads.py``)
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'callgrind.out')
        subprocess.run([
            'valgrind', '--tool=callgrind', '--callgrind-out-file=' + out,
            python,
            os.path.join(HERE, script), workload, '--n',
            str(count), '--reps', '1', '--queue',
            'pika-bench-callgrind-%d-%s' % (os.getpid(), workload)
        ],
                       env=env,
                       cwd=tmp,
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       check=True)
        with open(out) as report:
            for line in report:
                if line.startswith(('summary:', 'totals:')):
                    return int(line.split()[1])
    raise RuntimeError('no instruction total in the callgrind output')


def per_message(python: str,
                env: Dict[str, str],
                workload: str,
                count: int,
                script: str = 'workloads.py') -> float:
    """Instructions per message from runs of N and 2N messages."""
    once = count_instructions(python, env, workload, count, script)
    twice = count_instructions(python, env, workload, 2 * count, script)
    return (twice - once) / count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('specs',
                        nargs='*',
                        help='workload:N (default: %s)' % ' '.join(DEFAULT))
    parser.add_argument('--ours-path', default=REPO)
    parser.add_argument('--baseline-path',
                        help='compare against this tree instead of pika 1.4.4')
    opts = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    ours_python = ensure_ours_venv()
    sides = [('ours', ours_python, dict(base, PYTHONPATH=opts.ours_path))]
    baseline: Optional[str] = opts.baseline_path
    if baseline:
        sides.append(('baseline', ours_python, dict(base, PYTHONPATH=baseline)))
    else:
        sides.append(('pika 1.4.4', find_pika_python(None), base))
    for _label, python, env in sides:
        path = env.get('PYTHONPATH')
        if path:
            subprocess.run(
                [python, '-m', 'compileall', '-q',
                 os.path.join(path, 'pika')],
                check=False)
    print('%-20s %14s %14s %8s' % ('workload', 'ours', sides[1][0], 'ratio'))
    for spec in opts.specs or DEFAULT:
        workload, _, count_text = spec.partition(':')
        count = int(count_text or 2000)
        values: List[float] = []
        for _label, python, env in sides:
            values.append(per_message(python, env, workload, count))
        print('%-20s %14s %14s %7.2fx' % (workload, '{:,.0f}'.format(
            values[0]), '{:,.0f}'.format(values[1]), values[1] / values[0]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
