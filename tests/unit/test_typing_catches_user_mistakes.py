"""Typical pika programs as ``mypy --strict`` users see them.

``tests/typing/user_mistakes.py`` holds typical mistakes (a 3-argument
consumer callback, ``delivery_mode=3``, an ``int`` body, ``port='5672'``,
``.decode()`` on an ``Optional``...), one per line, each marked with the
error code mypy must report there (``# E: <code>``); ``user_ok.py`` holds
correct programs (blocking publish/consume/get/RPC, ``SelectConnection``
callbacks, ``AsyncioConnection``) that must type-check cleanly, with a few
revealed types marked ``# T: <type>``.
"""

from typing import Dict, List, Tuple

import pytest
import mypy_marks
from mypy_marks import marked, run_mypy

MISTAKES = 'user_mistakes.py'
OK = 'user_ok.py'


@pytest.fixture(scope='module')
def mypy_output() -> Tuple[str, int]:
    return run_mypy(OK, MISTAKES)


def test_each_marked_mistake_is_reported_with_its_error_code(mypy_output):
    stdout, status = mypy_output
    assert status == 1
    expected = marked(MISTAKES, 'E')
    assert len(expected) >= 18
    reported: Dict[int, List[str]] = {}
    for line, kind, _text, code in mypy_marks.reports(stdout, MISTAKES):
        if kind == 'error':
            reported.setdefault(line, []).append(code)
    # Exactly one error on each marked line, none elsewhere.
    assert reported == {line: [code] for line, code in expected.items()}


def test_correct_programs_type_check_without_errors(mypy_output):
    stdout, _status = mypy_output
    reports = mypy_marks.reports(stdout, OK)
    assert [report for report in reports if report[1] == 'error'] == []
    revealed = {
        line: text.split('"', 1)[1].rsplit('"', 1)[0]
        for line, kind, text, _code in reports
        if kind == 'note' and text.startswith('Revealed type is')
    }
    expected = marked(OK, 'T')
    assert len(expected) >= 4
    assert revealed == expected
