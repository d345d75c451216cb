"""Typical pika programs as ``mypy --strict`` users see them.

``tests/typing/user_mistakes.py`` holds typical mistakes (a 3-argument
consumer callback, ``delivery_mode=3``, an ``int`` body, ``port='5672'``,
``.decode()`` on an ``Optional``...), one per line, each marked with the
error code mypy must report there (``# E: <code>``); ``user_ok.py`` holds
correct programs (blocking publish/consume/get/RPC, ``SelectConnection``
callbacks, ``AsyncioConnection``) that must type-check cleanly, with a few
revealed types marked ``# T: <type>``.
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

MISTAKES = 'user_mistakes.py'
OK = 'user_ok.py'


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
    # The package is checked from this tree (ROOT first on mypy's path), as
    # an installed, typed (py.typed) package would be.
    stdout, stderr, status = mypy_api.run([
        '--strict', '--show-error-codes', '--no-error-summary', '--no-pretty',
        '--cache-dir',
        os.path.join(ROOT, '.mypy_cache'),
        os.path.join(TYPING, OK),
        os.path.join(TYPING, MISTAKES)
    ])
    assert not stderr, stderr
    return stdout, status


def test_each_marked_mistake_is_reported_with_its_error_code(mypy_output):
    stdout, status = mypy_output
    assert status == 1
    expected = _marked(MISTAKES, 'E')
    assert len(expected) >= 18
    reported: Dict[int, List[str]] = {}
    for line, kind, _text, code in _reports(stdout, MISTAKES):
        if kind == 'error':
            reported.setdefault(line, []).append(code)
    # Exactly one error on each marked line, none elsewhere.
    assert reported == {line: [code] for line, code in expected.items()}


def test_correct_programs_type_check_without_errors(mypy_output):
    stdout, _status = mypy_output
    reports = _reports(stdout, OK)
    assert [report for report in reports if report[1] == 'error'] == []
    revealed = {
        line: text.split('"', 1)[1].rsplit('"', 1)[0]
        for line, kind, text, _code in reports
        if kind == 'note' and text.startswith('Revealed type is')
    }
    expected = _marked(OK, 'T')
    assert len(expected) >= 4
    assert revealed == expected
