"""pika.aio as ``mypy --strict`` users see it: the revealed types of a small
program (``tests/typing/aio_ok.py``, lines marked ``# T: <type>``) and the
errors of wrong calls (``tests/typing/aio_errors.py``, ``# E: <code>``).
"""

from typing import Tuple

import pytest
import mypy_marks
from mypy_marks import marked, run_mypy


@pytest.fixture(scope='module')
def mypy_output() -> Tuple[str, int]:
    return run_mypy('aio_ok.py', 'aio_errors.py')


def test_user_program_type_checks_with_the_expected_types(mypy_output):
    stdout, _status = mypy_output
    expected = marked('aio_ok.py', 'T')
    assert len(expected) >= 15
    reports = mypy_marks.reports(stdout, 'aio_ok.py')
    errors = [report for report in reports if report[1] == 'error']
    assert errors == []
    revealed = {
        line: text.split('"', 1)[1].rsplit('"', 1)[0]
        for line, kind, text, _code in reports
        if kind == 'note' and text.startswith('Revealed type is')
    }
    assert revealed == expected


def test_wrong_calls_are_reported_wheremarked(mypy_output):
    stdout, status = mypy_output
    assert status == 1
    expected = marked('aio_errors.py', 'E')
    assert len(expected) >= 5
    reported = {
        line: code for line, kind, _text, code in mypy_marks.reports(
            stdout, 'aio_errors.py') if kind == 'error'
    }
    assert reported == expected
