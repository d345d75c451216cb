#!/usr/bin/env python3
"""Make (once) and locate the virtualenv holding aio-pika 10.x for the
``aio_vs_aiopika.py`` benchmark.

aio-pika (with aiormq and pamqp) lives in ``benchmarks/.venv-aiopika``, apart
from this repository's ``pika`` and from the project's own environment; the
benchmark runs its workloads with that venv's interpreter. Run this file
directly to create the venv and print the interpreter path.
"""
import os

from _pika_venv import ensure_package_venv
from _pika_venv import installed_version as _version_of

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_DIR = os.path.join(HERE, '.venv-aiopika')
AIOPIKA_REQUIREMENT = 'aio-pika>=10,<11'
AIOPIKA_MAJOR = '10'


def installed_version(python: str) -> str:
    """Version of aio-pika importable by ``python`` ('' when none)."""
    return _version_of(python, 'aio_pika')


def ensure_venv(venv_dir: str = VENV_DIR, quiet: bool = True) -> str:
    """Create ``venv_dir`` with aio-pika 10.x from PyPI if missing.

    :param str venv_dir: where the virtualenv lives
    :param bool quiet: hide pip's output
    :returns: the path of the venv's python interpreter
    :raises RuntimeError: if the venv cannot be made
    """
    return ensure_package_venv(
        venv_dir, AIOPIKA_REQUIREMENT, 'aio_pika',
        lambda version: version.startswith(AIOPIKA_MAJOR + '.'), quiet)


if __name__ == '__main__':
    print(ensure_venv(quiet=False))
