"""The pika.aio examples run against the broker and print what they did."""

import pathlib
import re
import subprocess
import sys

from async_harness import BROKER_HOST, BROKER_PORT, unique_name

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / 'examples'
URL = 'amqp://guest:guest@%s:%d/%%2F' % (BROKER_HOST, BROKER_PORT)


def _run_example(name: str, *args: str) -> str:
    env = {'PYTHONPATH': str(EXAMPLES.parent), 'PATH': '/usr/bin:/bin'}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), URL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True).stdout


def test_publish_consume_example_consumes_both_ways():
    queue = unique_name('aio-example')
    out = _run_example('aio_publish_consume.py', '--count', '30', '--queue',
                       queue)
    assert out.splitlines() == [
        'declared %s (0 messages ready)' % queue,
        'iterator received 30 messages: message 0 ... message 29',
        'callback received 30 messages',
        'deleted %s (0 left)' % queue,
    ]


def test_confirms_example_reports_confirmed_and_unroutable():
    out = _run_example('aio_confirms.py', '--count', '300', '--window', '50')
    lines = out.splitlines()
    assert lines[0] == '300 messages confirmed, 50 in flight at most'
    assert re.fullmatch(r'\(\d+ msg/s\)', lines[1])
    assert lines[2:] == [
        'unroutable: returned with 312 NO_ROUTE',
        'queue holds 301 messages',
    ]


def test_recovery_example_goes_on_after_a_connection_loss():
    out = _run_example('aio_recovery.py', '--count', '30')
    assert out.splitlines() == [
        'connection lost: StreamLostError; recovering',
        '30 messages confirmed, 30 consumed after 1 recovery(ies), '
        'skipped: [[]]',
    ]
