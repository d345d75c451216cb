"""Run the command-line tool (``python -m pika``) as a subprocess.

The tool is started the way a user starts it, with this checkout first on
``PYTHONPATH``; the parent's environment is passed on (coverage measures the
subprocess through it).
"""

import json
import os
import pathlib
import subprocess
import sys
import uuid
from typing import Any, Dict, List, Optional

REPO = pathlib.Path(__file__).resolve().parents[2]
HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))
TLS_PORT = int(os.environ.get('PIKA_TEST_TLS_PORT', '5671'))
URL = 'amqp://guest:guest@%s:%d/%%2F' % (HOST, PORT)


def url(user: str = 'guest',
        password: str = 'guest',
        port: int = PORT,
        vhost: str = '%2F',
        scheme: str = 'amqp',
        host: str = HOST) -> str:
    """An AMQP URL for the test broker, with the parts a test changes."""
    return '%s://%s:%s@%s:%d/%s' % (scheme, user, password, host, port, vhost)


def unique(prefix: str = 'cli-test') -> str:
    """A queue or exchange name no other test uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex)


class Result:
    """What one run of the tool gave: exit code, stdout, stderr."""

    def __init__(self, completed: 'subprocess.CompletedProcess[str]') -> None:
        self.code = completed.returncode
        self.stdout = completed.stdout
        self.stderr = _without_coverage_warnings(completed.stderr)

    def json(self) -> Any:
        """stdout as one JSON document."""
        return json.loads(self.stdout)

    def json_lines(self) -> List[Any]:
        """stdout as JSON lines."""
        return [json.loads(line) for line in self.stdout.splitlines() if line]

    def __repr__(self) -> str:
        return '<Result code=%d stdout=%r stderr=%r>' % (
            self.code, self.stdout[-2000:], self.stderr[-2000:])


def _without_coverage_warnings(stderr: str) -> str:
    """``stderr`` less what coverage itself prints in the subprocess.

    Under ``pytest --cov`` the tool's process is measured too, and a
    coverage release older than the project's configuration (the one that
    still runs on Python 3.8) warns about options it does not know, on
    stderr, before the tool writes anything.
    """
    lines = stderr.splitlines(keepends=True)
    kept = []
    skip_next = False
    for line in lines:
        if skip_next and line.strip() == 'warn(':
            skip_next = False
            continue
        skip_next = 'CoverageWarning: ' in line
        if not skip_next:
            kept.append(line)
    return ''.join(kept)


def environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The subprocess environment: ours, this checkout first on the path."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO)] + [part for part in [env.get('PYTHONPATH')] if part])
    env.pop('PIKA_URL', None)
    env.update(extra or {})
    return env


def run(*args: str,
        stdin: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        timeout: float = 60) -> Result:
    """``python -m pika ARGS`` with its output captured (not a terminal)."""
    completed = subprocess.run([sys.executable, '-m', 'pika', *args],
                               input=stdin if stdin is not None else '',
                               capture_output=True,
                               text=True,
                               env=environment(env),
                               cwd=str(REPO),
                               timeout=timeout)
    return Result(completed)
