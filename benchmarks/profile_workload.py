#!/usr/bin/env python3
"""Profile one benchmark workload with cProfile, for ours or pika 1.4.4.

Usage::

    python3 benchmarks/profile_workload.py blocking_publish --n 20000
    python3 benchmarks/profile_workload.py select_consume --pika  # reference
    python3 benchmarks/profile_workload.py codec --sort cumulative --top 40

It re-runs itself in a subprocess with the right interpreter and
``PYTHONPATH`` (exactly like ``run.py``), runs the workload under cProfile and
prints the top functions.  ``--out FILE`` keeps the .prof file (e.g. for
snakeviz); py-spy or pyinstrument can be pointed at ``workloads.py`` the same
way.
"""

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def _child(opts: argparse.Namespace, rest: list) -> int:
    sys.path.insert(0, HERE)
    import workloads
    sys.argv = ['workloads.py', opts.workload] + rest
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        workloads.main()
    finally:
        profiler.disable()
        out = opts.out or tempfile.mktemp(suffix='.prof')
        profiler.dump_stats(out)
        stats = pstats.Stats(out)
        stats.strip_dirs().sort_stats(opts.sort).print_stats(opts.top)
        print('profile saved to', out)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('workload')
    parser.add_argument('--pika',
                        action='store_true',
                        help='profile pika 1.4.4 instead of this package')
    parser.add_argument('--pika-python')
    parser.add_argument('--sort', default='tottime')
    parser.add_argument('--top', type=int, default=30)
    parser.add_argument('--out')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    opts, rest = parser.parse_known_args()
    if opts.child:
        return _child(opts, rest)
    sys.path.insert(0, HERE)
    from run import find_pika_python
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    if opts.pika:
        python = find_pika_python(opts.pika_python)
    else:
        python = sys.executable
        env['PYTHONPATH'] = REPO
    queue = 'pika-bench-profile-%d' % os.getpid()
    cmd = [
        python,
        os.path.abspath(__file__), opts.workload, '--child', '--sort',
        opts.sort, '--top',
        str(opts.top), '--queue', queue
    ] + (['--out', os.path.abspath(opts.out)] if opts.out else []) + rest
    return subprocess.call(cmd, cwd=tempfile.gettempdir(), env=env)


if __name__ == '__main__':
    sys.exit(main())
