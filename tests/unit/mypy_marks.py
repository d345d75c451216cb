"""Shared by the typing tests: run ``mypy --strict`` on programs under
``tests/typing`` and read the lines they mark (``# E: <error code>``,
``# T: <revealed type>``) and what mypy reported for them."""

import os
import re
from typing import Dict, List, Tuple

from mypy import api as mypy_api

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TYPING = os.path.join(ROOT, 'tests', 'typing')
NOTE = re.compile(r'^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>note|error): '
                  r'(?P<text>.*?)(?:  \[(?P<code>[a-z-]+)\])?$')


def run_mypy(*files: str) -> Tuple[str, int]:
    """mypy --strict's report on ``files`` (names under tests/typing) and
    its exit status. The package is checked from this tree (ROOT first on
    mypy's path), as an installed, typed (py.typed) package would be."""
    stdout, stderr, status = mypy_api.run([
        '--strict', '--show-error-codes', '--no-error-summary', '--no-pretty',
        '--cache-dir',
        os.path.join(ROOT, '.mypy_cache')
    ] + [os.path.join(TYPING, name) for name in files])
    assert not stderr, stderr
    return stdout, status


def marked(name: str, marker: str) -> Dict[int, str]:
    """Line number -> what the ``# <marker>: ...`` comment on it says."""
    marks = {}
    with open(os.path.join(TYPING, name)) as source:
        for number, line in enumerate(source, 1):
            if '# %s: ' % marker in line:
                mark = line.split('# %s: ' % marker, 1)[1]
                marks[number] = mark.split('  # noqa', 1)[0].strip()
    return marks


def reports(stdout: str, name: str) -> List[Tuple[int, str, str, str]]:
    """(line, note or error, text, error code) of each report on ``name``."""
    found = []
    for line in stdout.splitlines():
        match = NOTE.match(line)
        assert match, 'unexpected mypy output: %r' % line
        if os.path.basename(match['file']) == name:
            found.append((int(match['line']), match['kind'], match['text'],
                          match['code'] or ''))
    return found
