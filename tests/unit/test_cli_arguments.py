"""The command-line tool's parsing, messages and exit codes, without a broker.

Everything here runs in-process: the parser, the translation of library
exceptions into plain words and exit codes, the progress line, the JSON
records and the diagnosis report (its protocol check fed scripted bytes).
"""

import argparse
import io
import json
import re
import socket
import ssl
from typing import Any, List, Set

import pytest

import pika
from pika import cli, exceptions, spec
from pika.adapters.utils import connection_workflow as workflow
from pika.cli import _parser, _runtime, diagnose

COMMANDS = ['publish', 'consume', 'get', 'purge', 'diagnose']
DECLARE_KINDS = ['exchange', 'queue', 'binding']


def parse(*argv: str) -> Any:
    args = _parser.build_parser().parse_args(list(argv))
    if args.url is None:
        args.url = _runtime.default_url()
    return args


@pytest.mark.parametrize(
    'argv', [[name, '--help'] for name in COMMANDS] +
    [['declare', kind, '--help'] for kind in DECLARE_KINDS] +
    [['--help'], ['declare', '--help']])
def test_every_command_has_help_with_the_exit_codes(argv: List[str],
                                                    capsys: Any) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith('usage: pika')
    assert 'exit codes:' in out
    assert '130  interrupted' in out
    assert 'PIKA_URL' in out


@pytest.mark.parametrize(
    'argv', [[name, '--help'] for name in COMMANDS] +
    [['declare', kind, '--help'] for kind in DECLARE_KINDS])
def test_url_option_help_names_the_default_url(argv: List[str],
                                               capsys: Any) -> None:
    assert cli.main(argv) == 0
    out = ' '.join(capsys.readouterr().out.split())
    assert ('--url URL broker URL, amqp:// or amqps:// (default: $PIKA_URL, '
            'else amqp://guest:guest@localhost:5672/%2F)') in out
    # argparse's own state must never leak into a help text.
    assert 'option_strings' not in out


def _command_parsers(parser: Any, prefix: str = '') -> Any:
    """(command line, parser) of every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + name, sub
                yield from _command_parsers(sub, prefix + name + ' ')


def _options(parser: Any) -> Set[str]:
    """The options of ``parser`` and of its subcommands."""
    options = {
        option for action in parser._actions for option in action.option_strings
    }
    for _, sub in _command_parsers(parser):
        options |= _options(sub)
    return options


def test_options_named_in_help_texts_exist() -> None:
    main = _parser.build_parser()
    every = _options(main)
    for command, sub in _command_parsers(main):
        named = set(re.findall(r'--[a-z][a-z-]*', sub.description or ''))
        assert named <= _options(sub), (command, named - _options(sub))
        every |= _options(sub)
    named = set(re.findall(r'``[a-z ]*(--[a-z][a-z-]*)', cli.__doc__ or ''))
    assert named and named <= every, named - every


def test_exit_codes_are_documented_in_the_module_docstring() -> None:
    doc = cli.__doc__ or ''
    for code in (cli.EXIT_OK, cli.EXIT_ERROR, cli.EXIT_USAGE,
                 cli.EXIT_UNREACHABLE, cli.EXIT_ACCESS, cli.EXIT_REFUSED,
                 cli.EXIT_EMPTY, cli.EXIT_UNCONFIRMED, cli.EXIT_INTERRUPTED):
        assert '* %d: ' % code in doc
        assert '  %-3d  ' % code in _runtime.EXIT_CODES_HELP


def test_version_option_prints_the_library_version(capsys: Any) -> None:
    assert cli.main(['--version']) == 0
    assert capsys.readouterr().out == 'pika %s\n' % pika.__version__


def test_no_command_prints_help_and_exits_2(capsys: Any) -> None:
    assert cli.main([]) == 2
    assert 'commands:' in capsys.readouterr().err


@pytest.mark.parametrize('argv', [
    ['frobnicate'],
    ['publish', '--count', 'many'],
    ['publish', '--count', '0'],
    ['publish', '--priority', '300'],
    ['publish', '--body', 'x', '--lines'],
    ['consume'],
    ['consume', 'q', '--count', '-1'],
    ['get', 'q', '--count', '0'],
    ['declare'],
    ['declare', 'queue', '--timeout', '0'],
    ['declare', 'binding', 'only-source'],
])
def test_invalid_command_lines_exit_2(argv: List[str], capsys: Any) -> None:
    assert cli.main(argv) == 2
    assert 'error:' in capsys.readouterr().err


def test_url_defaults_to_pika_url_then_localhost(monkeypatch: Any) -> None:
    monkeypatch.delenv('PIKA_URL', raising=False)
    assert parse('purge', 'q').url == ('amqp://guest:guest@localhost:5672/%2F')
    monkeypatch.setenv('PIKA_URL', 'amqp://u:p@example.invalid:1/v')
    assert parse('purge', 'q').url == 'amqp://u:p@example.invalid:1/v'
    assert parse('purge', 'q', '--url',
                 'amqp://a:b@h/%2F').url == 'amqp://a:b@h/%2F'


def test_publish_options_become_basic_properties() -> None:
    from pika.cli import publish
    args = parse('publish', '-b', 'x', '--persistent', '--content-type',
                 'application/json', '-H', 'retries=3', '-H', 'flag=true', '-H',
                 'name=abc', '--priority', '5', '--expiration', '60000',
                 '--reply-to', 'replies', '--message-id', 'm1')
    properties = publish.properties_from(args)
    assert isinstance(properties, spec.BasicProperties)
    assert properties.delivery_mode == 2
    assert properties.content_type == 'application/json'
    assert properties.headers == {'retries': 3, 'flag': True, 'name': 'abc'}
    assert properties.priority == 5
    assert properties.expiration == '60000'
    assert (properties.reply_to, properties.message_id) == ('replies', 'm1')
    assert list(publish.bodies(parse('publish', '-b', 'hé', '-n',
                                     '2'))) == ['hé'.encode(), 'hé'.encode()]


def test_table_values_decode_json_but_keep_other_text() -> None:
    assert _runtime.parse_table(
        ['n=10', 's=quorum', 'b=false', 'l=[1,2]', 'f=1.5', 'e=', 'z=null'],
        '--argument') == {
            'n': 10,
            's': 'quorum',
            'b': False,
            'l': [1, 2],
            'f': '1.5',
            'e': '',
            'z': 'null'
        }
    with pytest.raises(_runtime.CommandError) as caught:
        _runtime.parse_table(['novalue'], '--header')
    assert caught.value.exit_code == cli.EXIT_USAGE
    assert '--header expects KEY=VALUE' in caught.value.message


def test_redacted_url_hides_only_the_password() -> None:
    assert _runtime.redact_url('amqps://user:secret@host:5671/vh?x=1') == (
        'amqps://user:***@host:5671/vh?x=1')
    assert _runtime.redact_url('amqp://host/%2F') == 'amqp://host/%2F'


def test_connection_parameters_follow_url_timeout_and_tls_options(
        tmp_path: Any) -> None:
    params = _runtime.connection_parameters(
        parse('get', 'q', '--url', 'amqp://u:p@h:1234/v', '--timeout', '2.5'),
        'get')
    assert (params.host, params.port, params.virtual_host) == ('h', 1234, 'v')
    assert params.socket_timeout == 2.5
    assert params.stack_timeout == 2.5
    assert params.connection_attempts == 1
    assert params.ssl_options is None
    assert params.client_properties == {
        'connection_name': 'pika command-line tool (get)'
    }
    tls = _runtime.connection_parameters(
        parse('get', 'q', '--url', 'amqps://u:p@broker.test/v', '--insecure'),
        'get')
    assert tls.ssl_options is not None
    assert tls.ssl_options.server_hostname == 'broker.test'
    assert tls.ssl_options.context.verify_mode == ssl.CERT_NONE
    with pytest.raises(_runtime.CommandError) as caught:
        _runtime.connection_parameters(
            parse('get', 'q', '--url', 'amqp://h/v', '--insecure'), 'get')
    assert caught.value.exit_code == cli.EXIT_USAGE
    with pytest.raises(_runtime.CommandError) as caught:
        _runtime.connection_parameters(
            parse('get', 'q', '--url', 'amqps://h/v', '--cacert',
                  str(tmp_path / 'missing.pem')), 'get')
    assert 'cannot load the TLS files' in caught.value.message


def _refused() -> exceptions.AMQPConnectionError:
    return exceptions.AMQPConnectionError(
        workflow.AMQPConnectorSocketConnectError(
            ConnectionRefusedError(111, 'Connection refused')))


@pytest.mark.parametrize('error, code, kind, words', [
    (_refused(), 3, 'tcp', 'refused: nothing listens'),
    (exceptions.AMQPConnectionError(
        workflow.AMQPConnectionWorkflowFailed([
            workflow.AMQPConnectorStackTimeout('late')
        ])), 3, 'timeout', 'timed out connecting'),
    (socket.gaierror(-2, 'Name or service not known'), 3, 'resolve',
     'name resolution failed'),
    (ssl.SSLCertVerificationError(
        1, 'certificate verify failed'), 3, 'tls', '--cacert'),
    (exceptions.ProbableAuthenticationError('403 ACCESS_REFUSED'), 4,
     'authentication', 'wrong user name or password'),
    (exceptions.ProbableAccessDeniedError('530 NOT_ALLOWED'), 4, 'vhost',
     "virtual host 'v'"),
    (exceptions.ConnectionClosedByBroker(320, 'CONNECTION_FORCED'), 3,
     'connection-closed', '320 CONNECTION_FORCED'),
    (exceptions.IncompatibleProtocolError('bad frame'), 3, 'protocol',
     'amqps://'),
    (exceptions.ChannelClosedByBroker(404, "NOT_FOUND - no queue 'q'"), 5,
     'channel-closed', "404 NOT_FOUND - no queue 'q'"),
    (exceptions.UnroutableError([object()]), 7, 'unroutable', 'unroutable'),
    (exceptions.NackError([object(), object()]), 7, 'nacked', '2 message'),
    (exceptions.ConnectionBlockedTimeout(), 3, 'blocked', 'memory or disk'),
    (exceptions.AMQPHeartbeatTimeout('no frames for 120 s'), 3, 'heartbeat',
     'no frames for 120 s'),
    (exceptions.StreamLostError('Transport indicated EOF'), 3,
     'connection-lost', 'h:1 was lost: Transport indicated EOF'),
    (ValueError('queue must be a str'), 2, 'usage', 'queue must be a str'),
    (RuntimeError('boom'), 1, 'internal', 'RuntimeError: boom'),
])
def test_errors_become_plain_words_and_exit_codes(error: BaseException,
                                                  code: int, kind: str,
                                                  words: str) -> None:
    params = pika.URLParameters('amqp://u:p@h:1/v')
    problem = _runtime.describe_error(error, params)
    assert (problem.exit_code, problem.kind) == (code, kind)
    assert words in problem.message


def test_json_errors_go_to_stdout_and_text_to_stderr() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    output = _runtime.Output(True, stdout=stdout, stderr=stderr)
    output.error(_runtime.CommandError('it broke', 5, 'channel-closed'))
    assert json.loads(stdout.getvalue()) == {
        'error': {
            'exit_code': 5,
            'kind': 'channel-closed',
            'message': 'it broke'
        }
    }
    assert stderr.getvalue() == 'pika: error: it broke\n'


class FakeTerminal(io.StringIO):

    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_only_on_a_terminal(monkeypatch: Any) -> None:
    clock = [100.0]
    monkeypatch.setattr(_runtime.time, 'monotonic', lambda: clock[0])
    terminal = FakeTerminal()
    output = _runtime.Output(False, stderr=terminal)
    progress = output.progress('published', 1000)
    assert progress.enabled
    for _ in range(500):
        progress.add()
    clock[0] += 1.0
    progress.add()
    assert terminal.getvalue() == (
        '\r\x1b[Kpublished 501/1000 (50%) 501 msg/s, 1 s left')
    progress.finish()
    assert terminal.getvalue().endswith('\r\x1b[K')
    assert progress.count == 501
    pipe = io.StringIO()
    quiet = _runtime.Output(False, stderr=pipe).progress('published', None)
    assert not quiet.enabled
    clock[0] += 5
    quiet.add(10)
    quiet.finish()
    assert pipe.getvalue() == ''
    assert not _runtime.Output(False, quiet=True,
                               stderr=FakeTerminal()).progress('x', 1).enabled


def test_message_record_has_text_or_base64_body() -> None:
    method = spec.Basic.Deliver('ctag', 7, True, 'ex', 'rk')
    properties = spec.BasicProperties(content_type='text/plain',
                                      headers={'raw': b'\xff'})
    record, text = _runtime.message_record(method, properties, b'caf\xc3\xa9',
                                           'q')
    assert text == 'café'
    assert record == {
        'queue': 'q',
        'exchange': 'ex',
        'routing_key': 'rk',
        'delivery_tag': 7,
        'redelivered': True,
        'properties': {
            'content_type': 'text/plain',
            'headers': {
                'raw': {
                    'base64': '/w=='
                }
            }
        },
        'body': 'café',
    }
    record, text = _runtime.message_record(method, spec.BasicProperties(),
                                           b'\x00\xff', 'q')
    assert record['body_base64'] == 'AP8='
    assert 'body' not in record
    assert text == '\x00\ufffd'


class ScriptedSocket:
    """Answers the protocol header with scripted bytes (or an error)."""

    def __init__(self, answer: Any) -> None:
        self.answer = list(answer)
        self.sent = b''

    def settimeout(self, _timeout: float) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, _size: int) -> bytes:
        if not self.answer:
            return b''
        item = self.answer.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


START = b'\x01\x00\x00\x00\x00\x01\x00\x00\x0a\x00\x0a'


@pytest.mark.parametrize('answer, tls, status, words', [
    ([START[:5], START[5:]], None, 'ok', 'speaks AMQP 0-9-1'),
    ([b'AMQP\x01\x01\x00\x0a'], None, 'fail', 'protocol 1-1-0-10'),
    ([b'\x15\x03\x03\x00\x02\x02\x32'], None, 'fail', 'use amqps://'),
    ([b'HTTP/1.1 400 Bad Request\r\n'], None, 'fail', 'HTTP server'),
    ([], None, 'fail', 'closed the connection without answering'),
    ([b'SSH-2.0-OpenSSH\r\n'], None, 'fail', "answered b'SSH-2.0"),
    ([socket.timeout()], None, 'fail', 'a TLS port waiting'),
    ([socket.timeout()], object(), 'fail', 'not an AMQP port?)'),
    ([ConnectionResetError(104, 'reset')], None, 'fail', 'reset the conn'),
])
def test_protocol_check_classifies_the_first_answer(answer: Any, tls: Any,
                                                    status: str,
                                                    words: str) -> None:
    report = diagnose.Report('amqp://u:p@h/v')
    sock = ScriptedSocket(answer)
    passed = diagnose._protocol_step(report, sock, 1.0, tls)  # type: ignore
    assert sock.sent == b'AMQP\x00\x00\x09\x01'
    (step,) = report.steps
    assert passed is (status == 'ok')
    assert (step['step'], step['status']) == ('amqp', status)
    assert words in step['detail']


def test_report_exit_code_is_the_failed_steps_and_lists_untried_steps() -> None:
    report = diagnose.Report('amqp://u:secret@h/v')
    report.ok('resolve', 'h -> 127.0.0.1', 0.001)
    report.ok('tcp', 'connected', 0.001)
    report.skip('tls', 'not used')
    report.ok('amqp', 'speaks AMQP', 0.001)
    report.fail('authenticate', 'authentication refused')
    assert report.exit_code() == cli.EXIT_ACCESS
    data = report.as_json()
    assert data['url'] == 'amqp://u:***@h/v'
    assert data['failed_step'] == 'authenticate'
    assert [step['status'] for step in data['steps']] == [
        'ok', 'ok', 'skip', 'ok', 'fail', 'not-run', 'not-run', 'not-run'
    ]
    text = report.as_text()
    assert "FAILED at step 'authenticate': authentication refused" in text
    assert 'secret' not in text
    for step, code in diagnose.STEP_EXIT_CODES.items():
        other = diagnose.Report('amqp://h/')
        other.fail(step, 'x')
        assert other.exit_code() == code


def test_python_dash_m_pika_runs_the_same_main() -> None:
    import runpy
    with pytest.raises(SystemExit) as stopped:
        import sys
        argv = sys.argv
        sys.argv = ['pika', '--version']
        try:
            runpy.run_module('pika', run_name='__main__')
        finally:
            sys.argv = argv
    assert stopped.value.code == 0
