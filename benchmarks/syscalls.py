#!/usr/bin/env python3
"""System calls per message, this package against pika 1.4.4 (needs strace).

Usage::

    python3 benchmarks/syscalls.py                     # the default set
    python3 benchmarks/syscalls.py blocking_publish:20000 basic_get:5000

Each workload of ``workloads.py`` runs twice per package under
``strace -f -c``, with N and 2N messages; the difference divided by N is what
one message costs (start-up work such as imports cancels out). The table
lists the calls made at least once per 200 messages. Unlike wall-clock rates
this does not move with machine load, so it shows plainly what each library
asks of the kernel per message.
"""

import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run import REPO, ensure_ours_venv, find_pika_python  # noqa: E402

DEFAULT = [
    'blocking_publish:20000', 'blocking_publish_confirm:5000',
    'blocking_consume:50000', 'basic_get:5000', 'select_publish:50000',
    'select_consume:50000', 'asyncio_publish:50000', 'asyncio_consume:50000',
    'publish_1mib:100', 'consume_1mib:100'
]


def measure(python: str, env: Dict[str, str], workload: str,
            count: int) -> List[Tuple[str, float]]:
    """Return (syscall, calls per message) from runs of N and 2N messages."""
    once = _count_calls(python, env, workload, count)
    twice = _count_calls(python, env, workload, 2 * count)
    rows = []
    for name in set(once) | set(twice):
        per = (twice.get(name, 0) - once.get(name, 0)) / count
        if per >= 0.005:
            rows.append((name, per))
    rows.sort(key=lambda row: -row[1])
    return rows


def _count_calls(python: str, env: Dict[str, str], workload: str,
                 count: int) -> Dict[str, int]:
    """Run one workload under strace -c; return calls per syscall name."""
    with tempfile.NamedTemporaryFile(suffix='.strace') as out:
        subprocess.run([
            'strace', '-f', '-c', '-o', out.name, python,
            os.path.join(HERE, 'workloads.py'), workload, '--n',
            str(count), '--queue',
            'pika-bench-strace-%d-%s' % (os.getpid(), workload)
        ],
                       env=env,
                       cwd=tempfile.gettempdir(),
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       check=True)
        calls: Dict[str, int] = {}
        with open(out.name) as report:
            for line in report:
                parts = line.split()
                if len(parts) >= 5 and parts[0][:1].isdigit() and \
                        parts[-1] != 'total':
                    calls[parts[-1]] = int(parts[3])
    return calls


def main() -> int:
    specs = sys.argv[1:] or DEFAULT
    base = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    sides = [('ours', ensure_ours_venv(), dict(base, PYTHONPATH=REPO)),
             ('pika 1.4.4', find_pika_python(None), base)]
    print('%-26s %-11s %6s  %s' %
          ('workload', 'package', 'total', 'per message'))
    for spec in specs:
        workload, _, count_text = spec.partition(':')
        count = int(count_text or 10000)
        for label, python, env in sides:
            try:
                rows = measure(python, env, workload, count)
            except subprocess.CalledProcessError as error:
                print('%-26s %-11s ERROR %s' % (workload, label, error))
                continue
            total = sum(per for _, per in rows)
            print('%-26s %-11s %6.2f  %s' % (workload, label, total, ', '.join(
                '%s %.2f' % (name, per) for name, per in rows)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
