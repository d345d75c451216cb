"""The blocking examples run to completion against the test broker."""

import os
import pathlib
import subprocess
import sys
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'examples'

CASES = {
    'blocking_publish.py': ['--count', '200'],
    'blocking_consume.py': ['--count', '5'],
    'blocking_consume_generator.py': ['--count', '5', '--idle', '0.2'],
    'blocking_basic_get.py': [],
    'blocking_confirms.py': [],
    'blocking_rpc_direct_reply_to.py': ['--count', '5'],
    'blocking_threaded_consumer.py': ['--count', '4', '--job-seconds', '0.1'],
    'blocking_consume_recover_multiple_hosts.py': [
        '--count', '3', '--queue', 'recover-example-' + uuid.uuid4().hex
    ],
    'demo_roundtrip.py': ['--count', '50'],
    'thread_safe_workers.py': ['--workers', '4', '--count', '250'],
    'recovery_thread_safe.py': ['--count', '400'],
}

EXPECTED = {
    'blocking_publish.py': 'published 200 messages',
    'blocking_consume.py': 'consumed 5 messages',
    'blocking_consume_generator.py': 'consumed 5 messages',
    'blocking_basic_get.py': 'queue is empty',
    'blocking_confirms.py': 'nacked: the queue is full',
    'blocking_rpc_direct_reply_to.py': 'fib(4) = 3',
    'blocking_threaded_consumer.py': '4 jobs of 0.1 s',
    'blocking_consume_recover_multiple_hosts.py': 'consumed 3 messages',
    'demo_roundtrip.py': 'Demo OK.',
    'thread_safe_workers.py': 'consumed and acked 1000 messages',
    'recovery_thread_safe.py': 'confirmed 400, consumed 400, after 1 recovery',
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_example_runs(name):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)] + CASES[name],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False)
    assert result.returncode == 0, result.stderr
    assert EXPECTED[name] in result.stdout
