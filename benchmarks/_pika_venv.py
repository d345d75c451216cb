#!/usr/bin/env python3
"""Make (once) and locate the virtualenv holding pika 1.4.4 for benchmarks.

The reference pika lives in ``benchmarks/.venv-pika144`` so that it is never
importable next to this repository's ``pika``. Benchmarks run it through a
subprocess with that venv's interpreter::

    from _pika_venv import ensure_venv
    python = ensure_venv()      # creates the venv on first use

Run this file directly to create the venv and print the interpreter path.
"""
import os
import subprocess
import venv
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_DIR = os.path.join(HERE, '.venv-pika144')
PIKA_REQUIREMENT = 'pika==1.4.4'
PIKA_VERSION = '1.4.4'


def venv_python(venv_dir: str = VENV_DIR) -> str:
    """Return the path of the interpreter inside ``venv_dir``."""
    if os.name == 'nt':
        return os.path.join(venv_dir, 'Scripts', 'python.exe')
    return os.path.join(venv_dir, 'bin', 'python')


def installed_version(python: str, module: str = 'pika') -> str:
    """Version of ``module`` importable by ``python`` ('' when none)."""
    try:
        result = subprocess.run(
            [
                python, '-c',
                'import %s; print(%s.__version__)' % (module, module)
            ],
            cwd=os.path.dirname(python),  # keep the repo off sys.path
            capture_output=True,
            text=True,
            timeout=60,
            check=False)
    except (OSError, subprocess.SubprocessError):
        return ''
    return result.stdout.strip() if result.returncode == 0 else ''


def ensure_package_venv(venv_dir: str,
                        requirement: str,
                        module: str,
                        accept: Callable[[str], bool],
                        quiet: bool = True) -> str:
    """Create ``venv_dir`` holding ``requirement`` from PyPI unless it has it.

    :param str venv_dir: where the virtualenv lives
    :param str requirement: what pip installs, e.g. ``pika==1.4.4``
    :param str module: the module whose ``__version__`` is checked
    :param accept: whether an installed version will do
    :param bool quiet: hide pip's output
    :returns: the path of the venv's python interpreter
    :raises RuntimeError: if the venv cannot be made
    """
    python = venv_python(venv_dir)
    if os.path.exists(python) and accept(installed_version(python, module)):
        return python
    if not os.path.exists(python):
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    command = [
        python, '-m', 'pip', 'install', '--disable-pip-version-check',
        requirement
    ]
    if quiet:
        command.insert(3, '-q')
    result = subprocess.run(command,
                            check=False,
                            cwd=venv_dir,
                            capture_output=quiet)
    if result.returncode != 0 or not accept(installed_version(python, module)):
        raise RuntimeError('could not install %s into %s' %
                           (requirement, venv_dir))
    return python


def ensure_venv(venv_dir: str = VENV_DIR, quiet: bool = True) -> str:
    """Create ``venv_dir`` with pika 1.4.4 from PyPI if missing.

    :param str venv_dir: Where the virtualenv lives
    :param bool quiet: Hide pip's output
    :returns: the path of the venv's python interpreter
    :raises RuntimeError: if the venv cannot be made
    """
    return ensure_package_venv(venv_dir, PIKA_REQUIREMENT, 'pika',
                               lambda version: version == PIKA_VERSION, quiet)


if __name__ == '__main__':
    print(ensure_venv(quiet=False))
