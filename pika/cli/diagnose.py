"""``pika diagnose [URL]``: check a broker connection step by step.

Resolves the host name, opens a TCP connection, does the TLS handshake (for
``amqps://``), checks that the peer speaks AMQP 0-9-1, authenticates, opens
the virtual host and a channel, and measures round trips. Then it reports
the broker's product and version, its capabilities, the negotiated
``frame_max``, ``channel_max`` and heartbeat, and the round-trip time. When a
step fails it says which one and why, in plain words, and the exit code
tells the kind of failure (3: unreachable, 4: access refused, 5: channel
refused).
"""

import argparse
import socket
import ssl
import statistics
import time
from typing import Any, Dict, List, Optional

import pika
from pika import exceptions
from pika.cli._runtime import (add_command, whole_number, EXIT_ACCESS, EXIT_OK,
                               EXIT_REFUSED, EXIT_UNREACHABLE, Output,
                               connection_parameters, describe_error,
                               redact_url, _ssl_error_text)

NAME = 'diagnose'

DEFAULT_TIMEOUT = 10.0
PROTOCOL_HEADER = b'AMQP\x00\x00\x09\x01'

# Which exit code a failure at each step ends with.
STEP_EXIT_CODES = {
    'resolve': EXIT_UNREACHABLE,
    'tcp': EXIT_UNREACHABLE,
    'tls': EXIT_UNREACHABLE,
    'amqp': EXIT_UNREACHABLE,
    'authenticate': EXIT_ACCESS,
    'vhost': EXIT_ACCESS,
    'channel': EXIT_REFUSED,
    'round-trip': EXIT_REFUSED,
}
STEPS = tuple(STEP_EXIT_CODES)


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``diagnose`` command.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_command(
        subparsers,
        NAME,
        'check a connection step by step and report on the broker',
        __doc__,
        parents=[common])
    parser.add_argument('target',
                        nargs='?',
                        metavar='URL',
                        help='broker URL (default: --url, $PIKA_URL, or the '
                        'local default)')
    parser.add_argument('--round-trips',
                        type=whole_number(0),
                        default=10,
                        metavar='N',
                        help='round trips to time (default 10)')
    parser.set_defaults(handler=run)


class Report:
    """The steps of a diagnosis and what was learnt about the broker.

    :param str url: the URL diagnosed (printed with its password hidden)
    """

    def __init__(self, url: str) -> None:
        self.url = redact_url(url)
        self.steps: List[Dict[str, Any]] = []
        self.broker: Dict[str, Any] = {}
        self.negotiated: Dict[str, Any] = {}
        self.round_trip_ms: Dict[str, Any] = {}
        self.failed: Optional[Dict[str, Any]] = None

    def ok(self,
           name: str,
           detail: str,
           seconds: Optional[float] = None) -> None:
        """Record a step that succeeded."""
        self._add(name, 'ok', detail, seconds)

    def skip(self, name: str, detail: str) -> None:
        """Record a step that does not apply."""
        self._add(name, 'skip', detail, None)

    def fail(self,
             name: str,
             detail: str,
             seconds: Optional[float] = None) -> None:
        """Record the step that failed (the diagnosis stops there)."""
        self.failed = self._add(name, 'fail', detail, seconds)

    def _add(self, name: str, status: str, detail: str,
             seconds: Optional[float]) -> Dict[str, Any]:
        step = {
            'step': name,
            'status': status,
            'detail': detail,
            'ms': None if seconds is None else round(seconds * 1000, 3),
        }
        self.steps.append(step)
        return step

    def exit_code(self) -> int:
        """0 when every step passed, else the failed step's exit code."""
        if self.failed is None:
            return EXIT_OK
        return STEP_EXIT_CODES[self.failed['step']]

    def as_json(self) -> Dict[str, Any]:
        """The report as a JSON-able dict."""
        done = {step['step'] for step in self.steps}
        steps = self.steps + [{
            'step': name,
            'status': 'not-run',
            'detail': 'not tried: an earlier step failed',
            'ms': None
        } for name in STEPS if name not in done]
        return {
            'url': self.url,
            'ok': self.failed is None,
            'failed_step': self.failed and self.failed['step'],
            'message': self.summary(),
            'exit_code': self.exit_code(),
            'steps': steps,
            'broker': self.broker,
            'negotiated': self.negotiated,
            'round_trip_ms': self.round_trip_ms,
        }

    def summary(self) -> str:
        """One sentence: all good, or which step failed and why."""
        if self.failed is None:
            return 'OK: every step passed'
        return 'FAILED at step %r: %s' % (self.failed['step'],
                                          self.failed['detail'])

    def as_text(self) -> str:
        """The report as lines for a terminal."""
        lines = ['pika diagnose %s' % self.url]
        for step in self.steps:
            timing = '' if step['ms'] is None else ' (%.1f ms)' % step['ms']
            lines.append('  %-5s %-13s %s%s' %
                         (step['status'], step['step'], step['detail'], timing))
        done = {step['step'] for step in self.steps}
        for name in STEPS:
            if name not in done:
                lines.append('  %-5s %-13s %s' % ('-', name, 'not tried'))
        broker = self.broker
        if broker:
            lines.append(
                'broker:       %s %s on %s%s' %
                (broker.get('product'), broker.get('version'),
                 broker.get('platform'), ', cluster %r' %
                 broker['cluster_name'] if broker.get('cluster_name') else ''))
            capabilities = broker.get('capabilities') or {}
            lines.append(
                'capabilities: %s' %
                (', '.join(name for name, value in sorted(capabilities.items())
                           if value) or 'none announced'))
        if self.negotiated:
            negotiated = self.negotiated
            lines.append(
                'negotiated:   frame_max %s bytes, channel_max %s, '
                'heartbeat %s' %
                (negotiated['frame_max'], negotiated['channel_max'], '%s s' %
                 negotiated['heartbeat'] if negotiated['heartbeat'] else 'off'))
        if self.round_trip_ms:
            rtt = self.round_trip_ms
            lines.append(
                'round trip:   min %.3f ms, median %.3f ms, max %.3f ms '
                '(%d samples)' %
                (rtt['min'], rtt['median'], rtt['max'], rtt['samples']))
        lines.append(self.summary())
        return '\n'.join(lines)


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, dict):
        return {str(key): _text(item) for key, item in value.items()}
    return value


def check_socket_steps(report: Report, params: Any, timeout: float) -> bool:
    """Resolve, connect, TLS and the AMQP protocol header, with sockets.

    :returns: True when every one of these steps passed
    """
    host, port = params.host, params.port
    started = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as error:
        report.fail(
            'resolve', 'name resolution failed: cannot resolve %r (%s); '
            'check the host name in the URL' % (host, error.strerror),
            time.monotonic() - started)
        return False
    addresses: List[str] = []
    for info in infos:
        if str(info[4][0]) not in addresses:
            addresses.append(str(info[4][0]))
    report.ok('resolve', '%s -> %s' % (host, ', '.join(addresses)),
              time.monotonic() - started)

    sock = None
    problems = []
    started = time.monotonic()
    for family, kind, proto, _name, address in infos:
        candidate = socket.socket(family, kind, proto)
        candidate.settimeout(timeout)
        try:
            candidate.connect(address)
        except ConnectionRefusedError:
            problems.append('%s: connection refused' % (address[0],))
        except socket.timeout:
            problems.append('%s: no answer within %g s' % (address[0], timeout))
        except OSError as error:
            problems.append('%s: %s' % (address[0], error.strerror or error))
        else:
            sock = candidate
            break
        candidate.close()
    if sock is None:
        refused = all(problem.endswith('refused') for problem in problems)
        hint = (' nothing listens on port %d there (is the broker running? '
                'is the port right? 5672 is the usual AMQP port, 5671 '
                'AMQPS)' % port
                if refused else ' (host down, or a firewall dropping packets?)')
        report.fail(
            'tcp', 'TCP connection failed: %s;%s' % ('; '.join(problems), hint),
            time.monotonic() - started)
        return False
    report.ok('tcp', 'connected to %s port %d' % (sock.getpeername()[0], port),
              time.monotonic() - started)

    try:
        if params.ssl_options is not None:
            tls_sock = _tls_step(report, sock, params)
            if tls_sock is None:
                return False
            sock = tls_sock
        else:
            report.skip('tls', 'not used (amqp:// URL; amqps:// for TLS)')
        return _protocol_step(report, sock, timeout, params.ssl_options)
    finally:
        sock.close()


def _tls_step(report: Report, sock: socket.socket,
              params: Any) -> Optional[ssl.SSLSocket]:
    options = params.ssl_options
    context: ssl.SSLContext = options.context
    server_hostname = options.server_hostname or params.host
    started = time.monotonic()
    try:
        tls_sock = context.wrap_socket(
            sock,
            server_hostname=server_hostname
            if context.check_hostname or server_hostname else None)
    except ssl.SSLError as error:
        report.fail('tls', _ssl_error_text(error), time.monotonic() - started)
        return None
    except socket.timeout:
        report.fail(
            'tls', 'TLS handshake timed out: the port does not seem to speak '
            'TLS (the plain AMQP port? use amqp://)',
            time.monotonic() - started)
        return None
    except OSError as error:
        report.fail('tls', 'TLS handshake failed: %s' % (error,),
                    time.monotonic() - started)
        return None
    detail = '%s, %s' % (tls_sock.version(), (tls_sock.cipher() or ('?',))[0])
    peer = tls_sock.getpeercert()
    if peer:
        # ((('commonName', 'broker'),), ...): one tuple of pairs per RDN
        subject: Any = peer.get('subject', ())
        common_names = [
            pair[1]
            for rdn in subject
            for pair in rdn
            if pair[0] == 'commonName'
        ]
        detail += ', certificate of %r' % (common_names or ['?'])[0]
    elif context.verify_mode == ssl.CERT_NONE:
        detail += ', certificate NOT verified (--insecure)'
    report.ok('tls', detail, time.monotonic() - started)
    return tls_sock


def _protocol_step(report: Report, sock: socket.socket, timeout: float,
                   tls: Any) -> bool:
    started = time.monotonic()
    data = b''
    try:
        sock.settimeout(timeout)
        sock.sendall(PROTOCOL_HEADER)
        while len(data) < 11:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        report.fail(
            'amqp', 'no answer to the AMQP protocol header within %g s '
            '(not an AMQP port?%s)' %
            (timeout, '' if tls else ' a TLS port waiting for a handshake? '
             'then use amqps://'),
            time.monotonic() - started)
        return False
    except OSError as error:
        if not data:
            report.fail(
                'amqp', 'the server reset the connection on the AMQP '
                'protocol header (%s)%s' %
                (error, '' if tls else '; a TLS port? then use amqps://'),
                time.monotonic() - started)
            return False
    elapsed = time.monotonic() - started
    if data[:1] == b'\x01' and data[7:11] == b'\x00\x0a\x00\x0a':
        report.ok('amqp', 'the broker speaks AMQP 0-9-1 (Connection.Start)',
                  elapsed)
        return True
    if data.startswith(b'AMQP') and len(data) >= 8:
        detail = ('the server does not speak AMQP 0-9-1: it asks for '
                  'protocol %d-%d-%d-%d' % tuple(data[4:8]))
    elif data[:1] in (b'\x15', b'\x16') and not tls:
        detail = ('the server answered with TLS: this is a TLS port, use '
                  'amqps://')
    elif data.startswith(b'HTTP/'):
        detail = ('this is an HTTP server (the management port?), not an '
                  'AMQP broker')
    elif not data:
        detail = ('the server closed the connection without answering the '
                  'AMQP protocol header (not an AMQP port?)')
    else:
        detail = ('the server answered %r, not AMQP 0-9-1 (not an AMQP '
                  'port?)' % (data[:16],))
    report.fail('amqp', detail, elapsed)
    return False


class _AmqpSteps:
    """Authenticate, open the vhost and a channel, and time round trips.

    Runs a :class:`pika.SelectConnection` until done or ``timeout``.
    """

    def __init__(self, report: Report, params: Any, timeout: float,
                 round_trips: int) -> None:
        self.report = report
        self.params = params
        self.timeout = timeout
        self.round_trips = max(round_trips, 0)
        self.samples: List[float] = []
        self.stage = 'vhost'
        self.connection: Any = None
        self.channel: Any = None
        self.mark = 0.0
        self.timer: Any = None

    def run(self) -> None:
        """Run the steps; the report holds the outcome."""
        self.mark = time.monotonic()
        self.connection = pika.SelectConnection(
            self.params,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed)
        self.timer = self.connection.ioloop.call_later(self.timeout,
                                                       self._on_timeout)
        self.connection.ioloop.start()

    def _stop(self) -> None:
        self.connection.ioloop.stop()

    def _on_timeout(self) -> None:
        self.timer = None
        if self.report.failed is None:
            what = {
                'vhost': 'the AMQP handshake (authentication, virtual host)',
                'channel': 'opening a channel',
                'round-trip': 'the round trips',
            }[self.stage]
            self.report.fail(
                self.stage,
                'timed out after %g s during %s' % (self.timeout, what),
                time.monotonic() - self.mark)
        try:
            self.connection.close()
        except exceptions.ConnectionWrongStateError:
            pass
        self._stop()

    def _on_open_error(self, _connection: Any, error: BaseException) -> None:
        elapsed = time.monotonic() - self.mark
        params = self.params
        if isinstance(error, (exceptions.ProbableAuthenticationError,
                              exceptions.AuthenticationError)):
            self.report.fail(
                'authenticate', 'authentication refused: the broker did not '
                'accept user %r with that password (ACCESS_REFUSED; check '
                'the user name and password in the URL)%s' %
                (params.credentials.username if hasattr(
                    params.credentials, 'username') else '?', _reason(error)),
                elapsed)
        elif isinstance(error, exceptions.ProbableAccessDeniedError):
            self.report.ok('authenticate', 'credentials accepted')
            self.report.fail(
                'vhost', 'access to virtual host %r denied: it does not exist '
                'or the user has no permission on it (NOT_ALLOWED)%s' %
                (params.virtual_host, _reason(error)), elapsed)
        elif self.report.failed is None:
            self.report.fail('vhost',
                             describe_error(error, params).message, elapsed)
        self._stop()

    def _on_open(self, connection: Any) -> None:
        elapsed = time.monotonic() - self.mark
        params = connection.params
        self.report.ok(
            'authenticate', 'user %r accepted' %
            (getattr(params.credentials, 'username', '?'),))
        self.report.ok('vhost',
                       'virtual host %r opened' % (params.virtual_host,),
                       elapsed)
        properties = _text(connection.server_properties or {})
        self.report.broker = {
            'product': properties.get('product'),
            'version': properties.get('version'),
            'platform': properties.get('platform'),
            'cluster_name': properties.get('cluster_name'),
            'capabilities': properties.get('capabilities') or {},
        }
        self.report.negotiated = {
            'frame_max': params.frame_max,
            'channel_max': params.channel_max,
            'heartbeat': params.heartbeat,
        }
        self.stage = 'channel'
        self.mark = time.monotonic()
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel: Any) -> None:
        self.report.ok('channel', 'channel %d opened' % channel.channel_number,
                       time.monotonic() - self.mark)
        self.channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        self.stage = 'round-trip'
        self._round_trip()

    def _round_trip(self) -> None:
        if len(self.samples) >= self.round_trips:
            self._finish()
            return
        self.mark = time.monotonic()
        self.channel.basic_qos(prefetch_count=0, callback=self._on_qos_ok)

    def _on_qos_ok(self, _frame: Any) -> None:
        self.samples.append(time.monotonic() - self.mark)
        self._round_trip()

    def _finish(self) -> None:
        if self.samples:
            samples_ms = [sample * 1000 for sample in self.samples]
            self.report.round_trip_ms = {
                'min': round(min(samples_ms), 3),
                'median': round(statistics.median(samples_ms), 3),
                'max': round(max(samples_ms), 3),
                'samples': len(samples_ms),
            }
            self.report.ok(
                'round-trip', 'median %.3f ms over %d Basic.Qos round trips' %
                (self.report.round_trip_ms['median'], len(samples_ms)))
        else:
            self.report.skip('round-trip', 'not asked (--round-trips 0)')
        self.channel.close()

    def _on_channel_closed(self, _channel: Any, reason: BaseException) -> None:
        if self.report.failed is None and not isinstance(
                reason, exceptions.ChannelClosedByClient):
            self.report.fail(self.stage,
                             'the broker closed the channel: %s' % (reason,))
        if self.connection.is_open:
            self.connection.close()

    def _on_closed(self, _connection: Any, reason: BaseException) -> None:
        if self.report.failed is None and not isinstance(
                reason, exceptions.ConnectionClosedByClient):
            self.report.fail(
                self.stage, 'the connection was lost: %s' %
                (describe_error(reason, self.params).message,))
        if self.timer is not None:
            self.connection.ioloop.remove_timeout(self.timer)
            self.timer = None
        self._stop()


def _reason(error: BaseException) -> str:
    text = error.args[0] if error.args else ''
    return ': %s' % (text,) if text else ''


def run(args: Any, output: Output) -> int:
    """Diagnose the connection the command line names.

    :param args: the parsed ``diagnose`` command line
    :param Output output: where the report goes
    :returns: the exit code of the first failed step, or 0
    """
    if args.target:
        args.url = args.target
    timeout = args.timeout or DEFAULT_TIMEOUT
    report = Report(args.url)
    params = connection_parameters(args, NAME)
    if check_socket_steps(report, params, timeout):
        _AmqpSteps(report, connection_parameters(args, NAME), timeout,
                   args.round_trips).run()
    if output.as_json:
        output.result(report.as_json(), '')
    elif output.quiet:
        # only the verdict, and only when a step failed (as other commands
        # print nothing but errors with --quiet)
        if report.exit_code() != EXIT_OK:
            output.stderr.write('pika: error: %s\n' %
                                report.as_json()['message'])
            output.stderr.flush()
    else:
        output.stdout.write(report.as_text() + '\n')
        output.stdout.flush()
    return report.exit_code()
