"""pika.aio as ``mypy --strict`` users see it: the revealed types of a small
program (``tests/typing/aio_ok.py``, lines marked ``# T: <type>``) and the
errors of wrong calls (``tests/typing/aio_errors.py``, ``# E: <code>``).
"""

import os
import re
from typing import Dict, List, Tuple

import pytest
from mypy import api as mypy_api

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TYPING = os.path.join(ROOT, 'tests', 'typing')
NOTE = re.compile(r'^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>note|error): '
                  r'(?P<text>.*?)(?:  \[(?P<code>[a-z-]+)\])?$')


def _run_mypy(*files: str) -> Tuple[str, int]:
    stdout, stderr, status = mypy_api.run([
        '--strict', '--show-error-codes', '--no-error-summary', '--no-pretty',
        '--cache-dir',
        os.path.join(ROOT, '.mypy_cache')
    ] + [os.path.join(TYPING, name) for name in files])
    assert not stderr, stderr
    return stdout, status


def _marked(name: str, marker: str) -> Dict[int, str]:
    marks = {}
    with open(os.path.join(TYPING, name)) as source:
        for number, line in enumerate(source, 1):
            if '# %s: ' % marker in line:
                mark = line.split('# %s: ' % marker, 1)[1]
                marks[number] = mark.split('  # noqa', 1)[0].strip()
    return marks


def _reports(stdout: str, name: str) -> List[Tuple[int, str, str, str]]:
    found = []
    for line in stdout.splitlines():
        match = NOTE.match(line)
        assert match, 'unexpected mypy output: %r' % line
        if os.path.basename(match['file']) == name:
            found.append((int(match['line']), match['kind'], match['text'],
                          match['code'] or ''))
    return found


@pytest.fixture(scope='module')
def mypy_output() -> Tuple[str, int]:
    return _run_mypy('aio_ok.py', 'aio_errors.py')


def test_user_program_type_checks_with_the_expected_types(mypy_output):
    stdout, _status = mypy_output
    expected = _marked('aio_ok.py', 'T')
    assert len(expected) >= 15
    reports = _reports(stdout, 'aio_ok.py')
    errors = [report for report in reports if report[1] == 'error']
    assert errors == []
    revealed = {
        line: text.split('"', 1)[1].rsplit('"', 1)[0]
        for line, kind, text, _code in reports
        if kind == 'note' and text.startswith('Revealed type is')
    }
    assert revealed == expected


def test_wrong_calls_are_reported_where_marked(mypy_output):
    stdout, status = mypy_output
    assert status == 1
    expected = _marked('aio_errors.py', 'E')
    assert len(expected) >= 5
    reported = {
        line: code
        for line, kind, _text, code in _reports(stdout, 'aio_errors.py')
        if kind == 'error'
    }
    assert reported == expected
