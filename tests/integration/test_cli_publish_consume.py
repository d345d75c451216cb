"""The command-line tool moves messages through the real broker.

``publish``, ``get``, ``consume``, ``declare`` and ``purge`` run as
subprocesses (``python -m pika``); every queue they make expires on its own
(``x-expires``) so that a failed test leaves nothing behind.
"""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from cli_runner import URL, environment, run, unique

EXPIRES = '--argument=x-expires=120000'


def declare_queue() -> str:
    queue = unique()
    result = run('declare', 'queue', queue, EXPIRES, '--url', URL)
    assert result.code == 0, result
    return queue


def test_declare_queue_reports_name_and_counts_as_json() -> None:
    queue = unique()
    result = run('declare', 'queue', queue, EXPIRES, '--url', URL, '--json')
    assert result.code == 0, result
    assert result.json() == {
        'queue': queue,
        'message_count': 0,
        'consumer_count': 0,
        'passive': False
    }


def test_publish_with_confirms_then_get_returns_body_and_properties() -> None:
    queue = declare_queue()
    result = run('publish', '--routing-key', queue, '--body', 'hello world',
                 '--count', '3', '--confirm', '--persistent', '--content-type',
                 'text/plain', '--header', 'attempt=2', '--header',
                 'source=cli', '--correlation-id', 'c-1', '--url', URL,
                 '--json')
    assert result.code == 0, result
    summary = result.json()
    assert summary['published'] == 3
    assert summary['confirmed'] is True
    assert summary['routing_key'] == queue
    got = run('get', queue, '--url', URL, '--json')
    assert got.code == 0, got
    (message,) = got.json_lines()
    assert message['body'] == 'hello world'
    assert message['queue'] == queue
    assert message['routing_key'] == queue
    assert message['redelivered'] is False
    assert message['message_count'] == 2
    assert message['properties'] == {
        'content_type': 'text/plain',
        'delivery_mode': 2,
        'correlation_id': 'c-1',
        'headers': {
            'attempt': 2,
            'source': 'cli'
        },
    }


def test_consume_prints_bodies_in_order_and_acknowledges() -> None:
    queue = declare_queue()
    lines = ''.join('message %d\n' % number for number in range(5))
    published = run('publish',
                    '-r',
                    queue,
                    '--lines',
                    '--url',
                    URL,
                    stdin=lines)
    assert published.code == 0, published
    assert published.stdout.startswith('published 5 messages')
    consumed = run('consume', queue, '--count', '5', '--idle-timeout', '5',
                   '--url', URL)
    assert consumed.code == 0, consumed
    assert consumed.stdout.splitlines() == [
        'message %d' % number for number in range(5)
    ]
    # acknowledged: nothing is left
    assert run('get', queue, '--url', URL).code == 6


def test_consume_json_lines_keep_binary_bodies() -> None:
    queue = declare_queue()
    published = run('publish',
                    '-r',
                    queue,
                    '--file',
                    '-',
                    '--url',
                    URL,
                    stdin='line one\nline two\n')
    assert published.code == 0, published
    consumed = run('consume', queue, '-n', '1', '-t', '5', '--json', '--url',
                   URL)
    assert consumed.code == 0, consumed
    (message,) = consumed.json_lines()
    assert message['body'] == 'line one\nline two\n'
    binary = subprocess.run(
        [sys.executable, '-m', 'pika', 'publish', '-r', queue, '--url', URL],
        input=b'\xff\x00\xfe',
        capture_output=True,
        env=environment(),
        timeout=60)
    assert binary.returncode == 0, binary
    got = run('get', queue, '--json', '--url', URL)
    (message,) = got.json_lines()
    assert message['body_base64'] == '/wD+'
    assert 'body' not in message


def test_consume_stops_at_idle_timeout_with_exit_6_when_short() -> None:
    queue = declare_queue()
    assert run('publish', '-r', queue, '-b', 'only one', '--url', URL).code == 0
    started = time.monotonic()
    consumed = run('consume', queue, '--count', '3', '--idle-timeout', '1',
                   '--url', URL)
    assert consumed.code == 6, consumed
    assert consumed.stdout.splitlines() == ['only one']
    assert '1 of 3 messages' in consumed.stderr
    assert time.monotonic() - started < 30


def test_get_on_empty_queue_exits_6_and_says_so() -> None:
    queue = declare_queue()
    result = run('get', queue, '--url', URL)
    assert result.code == 6, result
    assert result.stdout == ''
    assert 'is empty' in result.stderr
    as_json = run('get', queue, '--url', URL, '--json')
    assert as_json.code == 6
    assert as_json.json() == {'empty': True, 'queue': queue}


def test_get_requeue_leaves_the_message_in_the_queue() -> None:
    queue = declare_queue()
    assert run('publish', '-r', queue, '-b', 'keep me', '--url', URL).code == 0
    first = run('get', queue, '--requeue', '--url', URL, '--json')
    assert first.code == 0, first
    again = run('get', queue, '--url', URL, '--json')
    (message,) = again.json_lines()
    assert message['body'] == 'keep me'
    assert message['redelivered'] is True


def test_purge_reports_how_many_messages_it_removed() -> None:
    queue = declare_queue()
    assert run('publish', '-r', queue, '-b', 'x', '-n', '7', '--url',
               URL).code == 0
    # publish waits for the broker before it ends, so all 7 are queued
    result = run('purge', queue, '--url', URL, '--json')
    assert result.code == 0, result
    assert result.json() == {'purged': 7, 'queue': queue}
    text = run('purge', queue, '--url', URL)
    assert text.stdout == "purged 0 messages from '%s'\n" % queue


def test_declared_exchange_and_binding_route_published_messages() -> None:
    queue = declare_queue()
    exchange = unique('cli-exchange')
    declared = run('declare', 'exchange', exchange, '--type', 'topic',
                   '--auto-delete', '--url', URL)
    assert declared.code == 0, declared
    assert declared.stdout == "declared exchange '%s' (topic)\n" % exchange
    bound = run('declare', 'binding', exchange, queue, '--routing-key',
                'logs.#', '--url', URL, '--json')
    assert bound.code == 0, bound
    assert bound.json() == {
        'source': exchange,
        'destination': queue,
        'destination_type': 'queue',
        'routing_key': 'logs.#'
    }
    for key in ('logs.app', 'metrics.app', 'logs.db'):
        assert run('publish', '-e', exchange, '-r', key, '-b', key, '--url',
                   URL).code == 0
    consumed = run('consume', queue, '-n', '2', '-t', '5', '--json', '--url',
                   URL)
    assert [message['routing_key'] for message in consumed.json_lines()
           ] == ['logs.app', 'logs.db']
    assert all(
        message['exchange'] == exchange for message in consumed.json_lines())


def test_exchange_to_exchange_binding() -> None:
    source = unique('cli-source')
    destination = unique('cli-destination')
    for name in (source, destination):
        assert run('declare', 'exchange', name, '-t', 'fanout', '--auto-delete',
                   '--url', URL).code == 0
    queue = declare_queue()
    assert run('declare', 'binding', destination, queue, '--url', URL).code == 0
    bound = run('declare', 'binding', source, destination, '--to-exchange',
                '--url', URL)
    assert bound.code == 0, bound
    assert run('publish', '-e', source, '-b', 'through two', '--confirm',
               '--url', URL).code == 0
    got = run('get', queue, '--url', URL)
    assert got.stdout == 'through two\n'


def test_passive_declare_of_missing_queue_exits_5_with_broker_reason() -> None:
    queue = unique('cli-missing')
    result = run('declare', 'queue', queue, '--passive', '--url', URL, '--json')
    assert result.code == 5, result
    error = result.json()['error']
    assert error['exit_code'] == 5
    assert error['kind'] == 'channel-closed'
    assert '404 NOT_FOUND' in error['message'] and queue in error['message']
    assert '404 NOT_FOUND' in result.stderr


def test_redeclaring_with_other_options_exits_5_precondition_failed() -> None:
    queue = declare_queue()
    result = run('declare', 'queue', queue, '--durable', EXPIRES, '--url', URL)
    assert result.code == 5, result
    assert 'PRECONDITION_FAILED' in result.stderr


def test_publish_to_missing_exchange_exits_5_even_without_confirms() -> None:
    exchange = unique('cli-no-exchange')
    result = run('publish', '-e', exchange, '-b', 'lost?', '--url', URL)
    assert result.code == 5, result
    assert "no exchange '%s'" % exchange in result.stderr


def test_unroutable_mandatory_publish_with_confirms_exits_7() -> None:
    result = run('publish', '-e', 'amq.direct', '-r', unique('nobody'), '-b',
                 'x', '--mandatory', '--confirm', '--url', URL, '--json')
    assert result.code == 7, result
    assert result.json()['error']['kind'] == 'unroutable'


def test_unroutable_mandatory_publish_without_confirms_exits_7() -> None:
    result = run('publish', '-r', unique('nobody'), '-b', 'x', '-n', '3',
                 '--mandatory', '--url', URL)
    assert result.code == 7, result
    assert '3 of 3 message(s) returned unroutable' in result.stderr


def test_mandatory_publish_to_a_queue_succeeds_without_confirms() -> None:
    queue = declare_queue()
    result = run('publish', '-r', queue, '-b', 'x', '-n', '3', '--mandatory',
                 '--url', URL, '--json')
    assert result.code == 0, result
    assert result.json()['published'] == 3
    purged = run('purge', queue, '--url', URL)
    assert purged.stdout == "purged 3 messages from '%s'\n" % queue


def test_pika_url_environment_variable_is_the_default_url() -> None:
    queue = declare_queue()
    result = run('publish', '-r', queue, '-b', 'via env', env={'PIKA_URL': URL})
    assert result.code == 0, result
    got = run('get', queue, env={'PIKA_URL': URL})
    assert got.stdout == 'via env\n'


def test_no_progress_line_when_stderr_is_not_a_terminal() -> None:
    queue = declare_queue()
    result = run('publish', '-r', queue, '-b', 'x', '-n', '20000', '--url', URL)
    assert result.code == 0, result
    # (not compared with '': a coverage run may warn there)
    assert 'msg/s' not in result.stderr and '\r' not in result.stderr
    assert '\r' not in result.stdout
    assert result.stdout.startswith('published 20000 messages to queue')
    assert 'msg/s' in result.stdout


def test_long_publish_shows_live_count_and_rate_on_a_terminal() -> None:
    # A run far too long to finish: the test reads the redrawn line until it
    # has seen it change, then interrupts it (bounded however slow the
    # interpreter, e.g. under coverage on an old Python).
    queue = declare_queue()
    master, slave = pty.openpty()
    process = subprocess.Popen([
        sys.executable, '-m', 'pika', 'publish', '-r', queue, '-b', 'x', '-n',
        '100000000', '--url', URL
    ],
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=slave,
                               env=environment(),
                               close_fds=True)
    os.close(slave)
    terminal = ''
    deadline = time.monotonic() + 60
    try:
        while (time.monotonic() < deadline and terminal.count('msg/s') < 3 and
               process.poll() is None):
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                terminal += os.read(master, 65536).decode('utf-8', 'replace')
        process.send_signal(signal.SIGINT)
        # stops at the next message, closes cleanly, says how far it got
        code = process.wait(timeout=30)
        while select.select([master], [], [], 0.5)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            terminal += data.decode('utf-8', 'replace')
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert code == 130, terminal
    assert 'pika: interrupted after ' in terminal, terminal
    updates = [part for part in terminal.split('\r') if 'msg/s' in part]
    # redrawn in place (carriage return), several times over the run
    assert len(updates) >= 3, terminal
    assert '/100000000 (0%) ' in updates[0], updates
    assert 's left' in updates[1], updates
    run('purge', queue, '--url', URL)


def test_consume_discard_counts_without_printing() -> None:
    queue = declare_queue()
    assert run('publish', '-r', queue, '-b', 'x', '-n', '500', '--url',
               URL).code == 0
    result = run('consume', queue, '-n', '500', '--discard', '--json', '--url',
                 URL)
    assert result.code == 0, result
    summary = result.json()
    assert summary['consumed'] == 500
    assert summary['queue'] == queue
    assert summary['rate'] > 0


@pytest.mark.parametrize('args', [
    ['publish', '--count', '0', '-b', 'x'],
    ['publish', '--lines', '--count', '2'],
    ['get', 'q', '--requeue', '--no-ack'],
    ['consume'],
])
def test_bad_command_lines_exit_2_before_connecting(args: list) -> None:
    # a closed port: exit 2 proves nothing was tried
    result = run(*args, '--url', 'amqp://guest:guest@127.0.0.1:9/%2F')
    assert result.code == 2, result
    assert result.stderr


def test_ctrl_c_acknowledges_what_consume_printed_and_exits_130() -> None:
    queue = declare_queue()
    assert run('publish', '-r', queue, '-b', 'x', '-n', '5', '--url',
               URL).code == 0
    proc = subprocess.Popen(
        [sys.executable, '-m', 'pika', 'consume', queue, '--url', URL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment())
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        assert lines == ['x\n'] * 5
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert err.endswith('pika: interrupted\n'), err
    # acknowledged before the connection closed: nothing comes back
    left = run('declare', 'queue', queue, '--passive', '--url', URL, '--json')
    assert left.json()['message_count'] == 0, left
