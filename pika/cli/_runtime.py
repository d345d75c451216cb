"""What every command of the tool shares.

Exit codes, the connection opened from ``--url`` and the TLS options, the
output (plain text or ``--json``), the live progress line, and the
translation of an exception into a plain-words message and an exit code.
"""

import argparse
import base64
import json
import os
import ssl
import sys
import time
import urllib.parse
from typing import (Any, Callable, Dict, List, Optional, Sequence, TextIO,
                    Tuple)

import pika
from pika import exceptions
from pika.adapters.utils import connection_workflow as workflow

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_ACCESS = 4
EXIT_REFUSED = 5
EXIT_EMPTY = 6
EXIT_UNCONFIRMED = 7
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    unexpected error (a bug)
  2    bad command line (unknown option, invalid URL or value)
  3    broker unreachable: name resolution, TCP refused or timed out,
       TLS handshake failed, not an AMQP 0-9-1 peer
  4    access refused: authentication failed, or the virtual host does
       not exist / the user may not use it
  5    the broker refused the operation (channel closed: NOT_FOUND,
       PRECONDITION_FAILED, ACCESS_REFUSED, ...)
  6    no message (get on an empty queue; consume timed out before --count)
  7    a published message was nacked or returned unroutable
  130  interrupted (Ctrl-C)

environment:
  PIKA_URL  broker URL used when --url is not given
            (default amqp://guest:guest@localhost:5672/%2F)
"""


def plain(text: Optional[str]) -> str:
    """A docstring as ``--help`` shows it: without reST's double backquotes.

    :param text: the docstring
    :rtype: str
    """
    return (text or '').replace('``', '')


DEFAULT_URL = 'amqp://guest:guest@localhost:5672/%2F'
URL_ENVIRONMENT_VARIABLE = 'PIKA_URL'


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers of at least ``minimum``.

    :param minimum: the smallest value allowed (0 or 1 in the commands)
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%r is not a whole number' %
                                             text) from None
        if value < minimum:
            bound = ('0 or more' if minimum == 0 else 'at least %d' % minimum)
            raise argparse.ArgumentTypeError('must be %s, got %s' %
                                             (bound, text))
        return value

    return parse


def add_command(
    subparsers: Any,
    name: str,
    help_text: str,
    doc: Optional[str],
    parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Add one command's parser: its help line, description and exit codes.

    :param subparsers: the main parser's subparsers
    :param name: the command's name
    :param help_text: the one line shown in the main ``--help``
    :param doc: the command module's docstring (the description)
    :param parents: parsers whose options the command shares
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        parents=list(parents),
        help=help_text,
        description=plain(doc),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def add_queue_reader(subparsers: Any, name: str, help_text: str,
                     doc: Optional[str], common: argparse.ArgumentParser,
                     count_minimum: int,
                     count_help: str) -> argparse.ArgumentParser:
    """Add a command that reads messages from a queue (``consume``,
    ``get``): its positional ``queue`` and its ``-n/--count`` limit.

    :param count_minimum: the smallest (and default) ``--count``
    :param count_help: the help text of ``--count``
    """
    parser = add_command(subparsers, name, help_text, doc, parents=[common])
    parser.add_argument('queue', help='queue to %s from' % (name,))
    parser.add_argument('-n',
                        '--count',
                        type=whole_number(count_minimum),
                        default=count_minimum,
                        help=count_help)
    return parser


class Interrupt:
    """Ctrl-C as a request the command checks between messages.

    A ``KeyboardInterrupt`` raised wherever the main thread happens to be
    can land inside the library while it writes a frame; the half-written
    frame then corrupts the stream and the closing handshake waits until the
    broker gives up. Inside ``with Interrupt() as interrupt:`` SIGINT only
    sets :attr:`requested`; the command stops at its next check and closes
    the connection cleanly. Outside the main thread it does nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.requested = True

    def __enter__(self) -> 'Interrupt':
        import signal
        import threading
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        import signal
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class CommandError(Exception):
    """A failure to report in plain words, with the exit code to end with.

    :param str message: what happened and what to check
    :param int exit_code: one of the ``EXIT_*`` codes
    :param str kind: a short machine-readable name for ``--json``
    """

    def __init__(self, message: str, exit_code: int, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.kind = kind


def default_url() -> str:
    """The broker URL when ``--url`` is not given (``PIKA_URL`` or default).

    :rtype: str
    """
    return os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe to print).

    :param str url: an AMQP URL
    :rtype: str
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return '<invalid URL>'
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition('@')
    user = userinfo.split(':', 1)[0]
    return urllib.parse.urlunsplit(
        (parts.scheme, '%s:***@%s' % (user, hostinfo), parts.path, parts.query,
         parts.fragment))


def connection_parameters(args: Any, purpose: str) -> pika.URLParameters:
    """The connection parameters for ``args.url`` and the TLS options.

    :param args: the parsed command line (``url``, ``timeout``, ``cacert``,
        ``cert``, ``key``, ``insecure``)
    :param str purpose: named in the ``connection_name`` the broker shows
    :raises CommandError: for an invalid URL or TLS option (exit 2)
    :rtype: pika.URLParameters
    """
    try:
        params = pika.URLParameters(args.url)
    except (ValueError, TypeError) as error:
        raise CommandError('invalid URL %s: %s' % (redact_url(args.url), error),
                           EXIT_USAGE, 'usage')
    scheme = urllib.parse.urlsplit(args.url).scheme.lower()
    tls_wanted = scheme in ('amqps', 'https')
    if args.cacert or args.cert or args.insecure:
        if not tls_wanted:
            raise CommandError(
                '--cacert, --cert and --insecure need an amqps:// URL',
                EXIT_USAGE, 'usage')
        params.ssl_options = pika.SSLOptions(tls_context(args), params.host)
    elif tls_wanted and params.ssl_options is not None:
        params.ssl_options = pika.SSLOptions(
            params.ssl_options.context, params.ssl_options.server_hostname or
            params.host)
    if args.timeout is not None:
        params.socket_timeout = args.timeout
        params.stack_timeout = args.timeout
        params.blocked_connection_timeout = args.timeout
    params.connection_attempts = 1
    properties = dict(params.client_properties or {})
    properties.setdefault('connection_name',
                          'pika command-line tool (%s)' % purpose)
    params.client_properties = properties
    return params


def tls_context(args: Any) -> ssl.SSLContext:
    """The TLS context for ``--cacert``, ``--cert``, ``--key``, ``--insecure``.

    :raises CommandError: when a file cannot be loaded (exit 2)
    :rtype: ssl.SSLContext
    """
    try:
        context = ssl.create_default_context(cafile=args.cacert)
        if args.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as error:
        raise CommandError('cannot load the TLS files: %s' % (error,),
                           EXIT_USAGE, 'usage')
    return context


def connect(args: Any, purpose: str) -> pika.BlockingConnection:
    """Open a blocking connection as the command line says.

    :param args: the parsed command line
    :param str purpose: the command's name, shown to the broker
    :raises CommandError: when the connection cannot be opened
    :rtype: pika.BlockingConnection
    """
    params = connection_parameters(args, purpose)
    try:
        return pika.BlockingConnection(params)
    except Exception as error:  # noqa: BLE001 - every cause is explained
        raise describe_error(error, params) from error


def _where(params: Any) -> str:
    if params is None:
        return 'the broker'
    return '%s:%s' % (params.host, params.port)


def _ssl_error_text(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return ('TLS handshake failed: the broker certificate was not '
                'accepted (%s); give its CA with --cacert, or --insecure to '
                'skip the check' % (getattr(error, 'verify_message', None) or
                                    getattr(error, 'reason', None) or error,))
    reason = getattr(error, 'reason', None) or str(error)
    if reason in ('WRONG_VERSION_NUMBER', 'RECORD_LAYER_FAILURE',
                  'UNEXPECTED_EOF_WHILE_READING'):
        return ('TLS handshake failed (%s): the port does not seem to speak '
                'TLS; is it the plain AMQP port (usually 5672; use amqp://)?' %
                reason)
    return 'TLS handshake failed: %s' % (reason,)


def describe_error(error: BaseException, params: Any = None) -> CommandError:
    """Say in plain words what ``error`` means, with its exit code.

    :param BaseException error: what the library (or the OS) raised
    :param params: the connection parameters, to name host and vhost
    :rtype: CommandError
    """
    if isinstance(error, CommandError):
        return error
    where = _where(params)
    vhost = getattr(params, 'virtual_host', '?')
    # The opening workflow wraps the socket-level cause; unwrap it.
    cause: BaseException = error
    if type(error) is exceptions.AMQPConnectionError and error.args:
        inner = error.args[0]
        if isinstance(
                inner,
                workflow.AMQPConnectionWorkflowFailed) and (inner.exceptions):
            inner = inner.exceptions[-1]
        if isinstance(inner, workflow.AMQPConnectorStackTimeout):
            return CommandError(
                'timed out connecting to %s (host down, firewall, or a '
                'broker too busy to answer?)' % where, EXIT_UNREACHABLE,
                'timeout')
        if isinstance(inner, workflow.AMQPConnectorAMQPHandshakeError):
            error = cause = inner.exception
        elif isinstance(inner, workflow.AMQPConnectorPhaseErrorBase):
            cause = inner.exception
        elif isinstance(inner, BaseException):
            cause = inner
    if isinstance(cause, ssl.SSLError):
        return CommandError('%s: %s' % (where, _ssl_error_text(cause)),
                            EXIT_UNREACHABLE, 'tls')
    if isinstance(cause, OSError) and getattr(cause, 'errno',
                                              None) in (-2, -3, -5):
        return CommandError(
            'name resolution failed for %r: %s' %
            (getattr(params, 'host', '?'), cause.strerror), EXIT_UNREACHABLE,
            'resolve')
    if isinstance(cause, ConnectionRefusedError):
        return CommandError(
            'TCP connection to %s refused: nothing listens there (is the '
            'broker running? is the port right?)' % where, EXIT_UNREACHABLE,
            'tcp')
    if isinstance(
            cause,
        (TimeoutError, OSError)) and 'timed out' in str(cause).lower():
        return CommandError(
            'timed out connecting to %s (host down, firewall, or a '
            'broker too busy to answer?)' % where, EXIT_UNREACHABLE, 'timeout')
    if isinstance(error, exceptions.ProbableAuthenticationError) or (isinstance(
            error, exceptions.AuthenticationError)):
        return CommandError(
            'authentication refused by %s: wrong user name or password, or '
            'the mechanism is not enabled (%s)' % (where, _first_arg(error)),
            EXIT_ACCESS, 'authentication')
    if isinstance(error, exceptions.ProbableAccessDeniedError):
        return CommandError(
            'access to virtual host %r denied by %s: it does not exist or '
            'the user has no permission on it (%s)' %
            (vhost, where, _first_arg(error)), EXIT_ACCESS, 'vhost')
    if isinstance(error, exceptions.ConnectionClosedByBroker):
        code = EXIT_ACCESS if error.reply_code in (403,
                                                   530) else (EXIT_UNREACHABLE)
        return CommandError(
            'the broker closed the connection: %s %s' %
            (error.reply_code, error.reply_text), code, 'connection-closed')
    if isinstance(error, exceptions.IncompatibleProtocolError):
        return CommandError(
            '%s does not speak AMQP 0-9-1 (a TLS port? then use amqps://): '
            '%s' % (where, _first_arg(error)), EXIT_UNREACHABLE, 'protocol')
    if isinstance(error, exceptions.ChannelClosedByBroker):
        return CommandError(
            'the broker refused: %s %s' % (error.reply_code, error.reply_text),
            EXIT_REFUSED, 'channel-closed')
    if isinstance(error, exceptions.UnroutableError):
        return CommandError(
            '%d message(s) returned unroutable: no queue is bound for the '
            'routing key' % len(error.messages), EXIT_UNCONFIRMED, 'unroutable')
    if isinstance(error, exceptions.NackError):
        return CommandError(
            '%d message(s) nacked by the broker' % len(error.messages),
            EXIT_UNCONFIRMED, 'nacked')
    if isinstance(error, exceptions.ConnectionBlockedTimeout):
        return CommandError(
            'the broker blocked this connection (a memory or disk alarm) '
            'for longer than --timeout', EXIT_UNREACHABLE, 'blocked')
    if isinstance(error, exceptions.AMQPHeartbeatTimeout):
        return CommandError(
            'the broker stopped answering (no heartbeat): %s' %
            (_first_arg(error),), EXIT_UNREACHABLE, 'heartbeat')
    if isinstance(error, exceptions.StreamLostError):
        return CommandError(
            'the connection to %s was lost: %s' % (where, _first_arg(error)),
            EXIT_UNREACHABLE, 'connection-lost')
    if isinstance(error, exceptions.AMQPConnectionError):
        return CommandError(
            'connection to %s failed: %s' %
            (where, _first_arg(error) or type(error).__name__),
            EXIT_UNREACHABLE, 'connection')
    if isinstance(error, OSError):
        return CommandError('connection to %s failed: %s' % (where, error),
                            EXIT_UNREACHABLE, 'connection')
    if isinstance(error, (ValueError, TypeError)):
        return CommandError(str(error), EXIT_USAGE, 'usage')
    return CommandError(
        'unexpected error: %s: %s' % (type(error).__name__, error), EXIT_ERROR,
        'internal')


def _first_arg(error: BaseException) -> str:
    if not error.args:
        return ''
    first = error.args[0]
    return first if isinstance(first, str) else repr(first)


class Output:
    """Where a command writes its results: text lines or JSON objects.

    :param bool as_json: write JSON (one object per line) instead of text
    :param bool quiet: no progress and no text summaries
    :param stdout: the result stream
    :param stderr: the progress and error stream
    """

    def __init__(self,
                 as_json: bool,
                 quiet: bool = False,
                 stdout: Optional[TextIO] = None,
                 stderr: Optional[TextIO] = None) -> None:
        self.as_json = as_json
        self.quiet = quiet
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr

    def result(self, record: Dict[str, Any], text: str) -> None:
        """Write one result: ``record`` with ``--json``, else ``text``.

        :param dict record: the JSON form
        :param str text: the text form (not written when quiet)
        """
        if self.as_json:
            self.stdout.write(json.dumps(record, sort_keys=True) + '\n')
        elif not self.quiet:
            self.stdout.write(text + '\n')
        self.stdout.flush()

    def data(self, record: Dict[str, Any], text: str) -> None:
        """Write one piece of data (a message), also when quiet.

        :param dict record: the JSON form
        :param str text: the text form
        """
        self.stdout.write(
            (json.dumps(record, sort_keys=True) if self.as_json else text) +
            '\n')
        self.stdout.flush()

    def error(self, problem: CommandError) -> None:
        """Report a failure on stderr (and as JSON on stdout with --json).

        :param CommandError problem: what failed
        """
        if self.as_json:
            self.stdout.write(
                json.dumps(
                    {
                        'error': {
                            'exit_code': problem.exit_code,
                            'kind': problem.kind,
                            'message': problem.message,
                        }
                    },
                    sort_keys=True) + '\n')
            self.stdout.flush()
        self.stderr.write('pika: error: %s\n' % problem.message)
        self.stderr.flush()

    def progress(self, label: str, total: Optional[int]) -> 'Progress':
        """A live progress line for a long run (on stderr if a terminal).

        :param str label: the verb shown (``published``, ``consumed``)
        :param total: the expected count, or None
        :rtype: Progress
        """
        enabled = not self.quiet and isatty(self.stderr)
        return Progress(self.stderr, label, total, enabled)


def isatty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False when it cannot tell).

    :rtype: bool
    """
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


PROGRESS_INTERVAL = 0.25


class Progress:
    """Counts a long run and shows count and rate, redrawn in place.

    :param stream: where the line is drawn
    :param str label: the verb shown
    :param total: the expected count, or None
    :param bool enabled: draw at all (False: only count)
    """

    def __init__(self, stream: TextIO, label: str, total: Optional[int],
                 enabled: bool) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        self.enabled = enabled
        self.count = 0
        self.started = time.monotonic()
        self._next_draw = self.started + PROGRESS_INTERVAL
        self._drawn = False

    def add(self, count: int = 1) -> None:
        """Count ``count`` more; redraw at most every quarter second.

        :param int count: how many more were done
        """
        self.count += count
        if self.enabled:
            now = time.monotonic()
            if now >= self._next_draw:
                self._next_draw = now + PROGRESS_INTERVAL
                self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self.started, 1e-9)
        if self.total:
            text = '%s %d/%d (%d%%) %.0f msg/s' % (
                self.label, self.count, self.total,
                100 * self.count // self.total, rate)
            if rate > 0:
                text += ', %.0f s left' % ((self.total - self.count) / rate)
        else:
            text = '%s %d, %.0f msg/s' % (self.label, self.count, rate)
        self.stream.write('\r\x1b[K' + text)
        self.stream.flush()
        self._drawn = True

    def elapsed(self) -> float:
        """Seconds since the run started.

        :rtype: float
        """
        return time.monotonic() - self.started

    def rate(self) -> float:
        """Average count per second so far.

        :rtype: float
        """
        return self.count / max(self.elapsed(), 1e-9)

    def finish(self) -> None:
        """Erase the progress line (the caller prints the summary)."""
        if self._drawn:
            self.stream.write('\r\x1b[K')
            self.stream.flush()
            self._drawn = False


def parse_table(pairs: Optional[List[str]], option: str) -> Dict[str, Any]:
    """``KEY=VALUE`` strings as a field table; JSON values are decoded.

    ``x-max-length=10`` gives the int 10, ``flag=true`` a bool, ``name=q1``
    the string ``'q1'`` (a value that is not JSON stays a string).

    :param pairs: the strings given, or None
    :param str option: the option's name, for the error message
    :raises CommandError: for a string without ``=``
    :rtype: dict
    """
    table: Dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition('=')
        if not sep or not key:
            raise CommandError('%s expects KEY=VALUE, got %r' % (option, pair),
                               EXIT_USAGE, 'usage')
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, float) or value is None:
            value = raw
        table[key] = value
    return table


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode('utf-8')
        except UnicodeDecodeError:
            return {'base64': base64.b64encode(value).decode('ascii')}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


PROPERTY_NAMES = ('content_type', 'content_encoding', 'headers',
                  'delivery_mode', 'priority', 'correlation_id', 'reply_to',
                  'expiration', 'message_id', 'timestamp', 'type', 'user_id',
                  'app_id', 'cluster_id')


def message_record(method: Any, properties: Any, body: bytes,
                   queue: str) -> Tuple[Dict[str, Any], str]:
    """A received message as a JSON record and as text (its body).

    The body is a string when it is UTF-8, else ``body_base64`` holds it.

    :param method: the ``Basic.Deliver`` or ``Basic.GetOk`` method
    :param properties: the ``BasicProperties``
    :param bytes body: the body
    :param str queue: the queue it came from
    :rtype: tuple
    """
    record: Dict[str, Any] = {
        'queue': queue,
        'exchange': method.exchange,
        'routing_key': method.routing_key,
        'delivery_tag': method.delivery_tag,
        'redelivered': bool(method.redelivered),
        'properties': {
            name: _jsonable(getattr(properties, name))
            for name in PROPERTY_NAMES
            if getattr(properties, name, None) is not None
        },
    }
    try:
        text = body.decode('utf-8')
        record['body'] = text
    except UnicodeDecodeError:
        record['body_base64'] = base64.b64encode(body).decode('ascii')
        text = body.decode('utf-8', 'replace')
    return record, text
