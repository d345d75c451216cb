#!/usr/bin/env python3
"""Make (once) and locate the virtualenv holding aio-pika 10.x for the
``aio_vs_aiopika.py`` benchmark.

aio-pika (with aiormq and pamqp) lives in ``benchmarks/.venv-aiopika``, apart
from this repository's ``pika`` and from the project's own environment; the
benchmark runs its workloads with that venv's interpreter. Run this file
directly to create the venv and print the interpreter path.
"""
import os
import subprocess
import venv

from _pika_venv import venv_python

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_DIR = os.path.join(HERE, '.venv-aiopika')
AIOPIKA_REQUIREMENT = 'aio-pika>=10,<11'
AIOPIKA_MAJOR = '10'


def installed_version(python: str) -> str:
    """Version of aio-pika importable by ``python`` ('' when none)."""
    try:
        result = subprocess.run(
            [python, '-c', 'import aio_pika; print(aio_pika.__version__)'],
            cwd=os.path.dirname(python),  # keep the repo off sys.path
            capture_output=True,
            text=True,
            timeout=60,
            check=False)
    except (OSError, subprocess.SubprocessError):
        return ''
    return result.stdout.strip() if result.returncode == 0 else ''


def ensure_venv(venv_dir: str = VENV_DIR, quiet: bool = True) -> str:
    """Create ``venv_dir`` with aio-pika 10.x from PyPI if missing.

    :param str venv_dir: where the virtualenv lives
    :param bool quiet: hide pip's output
    :returns: the path of the venv's python interpreter
    :raises RuntimeError: if the venv cannot be made
    """
    python = venv_python(venv_dir)
    if os.path.exists(python) and installed_version(python).startswith(
            AIOPIKA_MAJOR + '.'):
        return python
    if not os.path.exists(python):
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    command = [
        python, '-m', 'pip', 'install', '--disable-pip-version-check',
        AIOPIKA_REQUIREMENT
    ]
    if quiet:
        command.insert(3, '-q')
    result = subprocess.run(command,
                            check=False,
                            cwd=venv_dir,
                            capture_output=quiet)
    if result.returncode != 0 or not installed_version(python).startswith(
            AIOPIKA_MAJOR + '.'):
        raise RuntimeError('could not install %s into %s' %
                           (AIOPIKA_REQUIREMENT, venv_dir))
    return python


if __name__ == '__main__':
    print(ensure_venv(quiet=False))
