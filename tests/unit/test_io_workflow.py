"""Unit tests of AMQPConnector / AMQPConnectionWorkflow and of fault
handling by BaseConnection, against scripted local servers (no broker).
"""

import socket
import threading
import time

import pytest

import pika.heartbeat

from pika import exceptions, frame, spec
from pika.adapters.select_connection import IOLoop, SelectConnection
from pika.adapters.utils import connection_workflow as cw
from pika.adapters.utils.selector_ioloop_adapter import \
    SelectorIOServicesAdapter
from pika.connection import ConnectionParameters

# -- scripted servers --------------------------------------------------------


class FakeServer:
    """Listening socket on 127.0.0.1; each accepted connection is handed to
    ``script(sock)`` in a thread.
    """

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.accepted = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._run, args=(conn,),
                             daemon=True).start()

    def _run(self, conn):
        try:
            self.script(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        self.sock.close()


def _read_exact(sock, size):
    data = b''
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError('eof')
        data += chunk
    return data


def _read_frame(sock):
    header = _read_exact(sock, 7)
    size = int.from_bytes(header[3:7], 'big')
    return header + _read_exact(sock, size + 1)


def _method(method, channel=0):
    return frame.Method(channel, method).marshal()


def amqp_handshake(sock, heartbeat=0):
    """Play the broker side of the AMQP handshake up to Connection.OpenOk."""
    assert _read_exact(sock, 8) == b'AMQP\x00\x00\x09\x01'
    sock.sendall(
        _method(
            spec.Connection.Start(server_properties={
                'product': 'fake',
                'capabilities': {}
            },
                                  mechanisms='PLAIN',
                                  locales='en_US')))
    _read_frame(sock)  # StartOk
    sock.sendall(_method(spec.Connection.Tune(2047, 131072, heartbeat)))
    _read_frame(sock)  # TuneOk
    _read_frame(sock)  # Open
    sock.sendall(_method(spec.Connection.OpenOk()))


def silent(sock):
    time.sleep(3)


def eof_after_header(sock):
    _read_exact(sock, 8)


def reset_after_header(sock):
    _read_exact(sock, 8)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    b'\x01\x00\x00\x00\x00\x00\x00\x00')


def garbage_after_header(sock):
    _read_exact(sock, 8)
    sock.sendall(b'HTTP/1.1 400 Bad Request\r\n\r\n' * 4)
    time.sleep(2)


def open_then_silent(sock):
    amqp_handshake(sock, heartbeat=1)
    time.sleep(6)


def open_then_bad_frame_end(sock):
    amqp_handshake(sock)
    sock.sendall(frame.Heartbeat().marshal()[:-1] + b'\x00')
    time.sleep(2)


def open_then_serve(sock):
    """Open, then answer Connection.Close with CloseOk."""
    amqp_handshake(sock)
    while True:
        data = _read_frame(sock)
        if data[:1] == b'\x01' and data[7:11] == b'\x00\x0a\x00\x32':
            sock.sendall(_method(spec.Connection.CloseOk()))
            return


@pytest.fixture
def ioloop():
    loop = IOLoop()
    yield loop
    loop.close()


def _open(ioloop, params, timeout=5.0):
    """Open a SelectConnection; return ('open'|'error'|'closed', conn, exc)."""
    outcome = []

    def record(kind):

        def callback(conn, exc=None):
            outcome.append((kind, conn, exc))
            ioloop.stop()

        return callback

    conn = SelectConnection(params,
                            on_open_callback=record('open'),
                            on_open_error_callback=record('error'),
                            on_close_callback=record('closed'),
                            custom_ioloop=ioloop)
    guard = ioloop.call_later(timeout, ioloop.stop)
    ioloop.start()
    ioloop.remove_timeout(guard)
    assert outcome, 'no callback within %s s' % timeout
    assert outcome[0][1] is conn
    return outcome[0]


def _closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# -- exceptions --------------------------------------------------------------


def test_exception_reprs():
    inner = ConnectionRefusedError(111, 'Connection refused')
    error = cw.AMQPConnectorSocketConnectError(inner)
    assert error.exception is inner
    assert repr(error) == ("AMQPConnectorSocketConnectError: "
                           "ConnectionRefusedError(111, 'Connection refused')")
    assert 'TCP connection' in str(error)  # pika 1.4: '' (issue 14)
    failed = cw.AMQPConnectionWorkflowFailed([error])
    assert failed.exceptions == (error,)
    assert repr(failed) == (
        'AMQPConnectionWorkflowFailed: 1 exceptions in all; last exception - '
        "AMQPConnectorSocketConnectError: ConnectionRefusedError(111, "
        "'Connection refused'); first exception - None")
    assert 'first exception - AMQPConnectorSocketConnectError' in repr(
        cw.AMQPConnectionWorkflowFailed([error, error]))
    for cls in (cw.AMQPConnectorStackTimeout, cw.AMQPConnectorAborted,
                cw.AMQPConnectorWrongState, cw.AMQPConnectorPhaseErrorBase,
                cw.AMQPConnectionWorkflowAborted,
                cw.AMQPConnectionWorkflowFailed,
                cw.AMQPConnectionWorkflowWrongState):
        assert issubclass(cls, cw.AMQPConnectorException)


# -- connection open failures through the internal workflow ------------------


def test_refused_port_reports_amqp_connection_error(ioloop):
    kind, _conn, exc = _open(ioloop,
                             ConnectionParameters('127.0.0.1', _closed_port()))
    assert kind == 'error'
    assert type(exc) is exceptions.AMQPConnectionError
    failed = exc.args[0]
    assert isinstance(failed, cw.AMQPConnectionWorkflowFailed)
    assert isinstance(failed.exceptions[-1].exception, ConnectionRefusedError)


def test_refused_port_retries_with_delay(ioloop):
    params = ConnectionParameters('127.0.0.1',
                                  _closed_port(),
                                  connection_attempts=3,
                                  retry_delay=0.1)
    started = time.monotonic()
    kind, _conn, exc = _open(ioloop, params)
    elapsed = time.monotonic() - started
    assert kind == 'error'
    assert len(exc.args[0].exceptions) == 3
    assert 0.18 <= elapsed < 2


def test_dns_failure_reports_workflow_failed(ioloop):
    kind, _conn, exc = _open(ioloop,
                             ConnectionParameters('host.invalid'),
                             timeout=10)
    assert kind == 'error'
    assert type(exc) is cw.AMQPConnectionWorkflowFailed
    assert isinstance(exc.exceptions[-1], socket.gaierror)


@pytest.mark.parametrize('script', [eof_after_header, reset_after_header])
def test_stream_lost_during_protocol_header(ioloop, script):
    server = FakeServer(script)
    try:
        kind, conn, exc = _open(ioloop,
                                ConnectionParameters('127.0.0.1', server.port))
    finally:
        server.close()
    assert kind == 'error'
    assert isinstance(exc, exceptions.IncompatibleProtocolError)
    assert 'StreamLostError' in repr(exc)
    assert conn.is_closed and conn._transport is None


def test_silent_peer_hits_stack_timeout(ioloop):
    server = FakeServer(silent)
    try:
        started = time.monotonic()
        kind, _conn, exc = _open(
            ioloop,
            ConnectionParameters('127.0.0.1', server.port, stack_timeout=0.3))
    finally:
        server.close()
    assert kind == 'error'
    assert isinstance(exc, exceptions.ConnectionOpenAborted)
    assert 'Timeout while setting up AMQP to' in repr(exc)
    assert 0.25 < time.monotonic() - started < 2


def test_garbage_from_peer_fails_open(ioloop):
    server = FakeServer(garbage_after_header)
    try:
        kind, _conn, exc = _open(
            ioloop,
            ConnectionParameters('127.0.0.1', server.port, stack_timeout=0.5))
    finally:
        server.close()
    assert kind == 'error'
    assert isinstance(exc, exceptions.AMQPConnectionError)


def test_heartbeat_timeout_when_peer_goes_silent(ioloop, monkeypatch):
    # Check idleness every heartbeat interval instead of interval + 5 s.
    monkeypatch.setattr(pika.heartbeat, '_CHECK_INTERVAL_SLACK', 0)
    server = FakeServer(open_then_silent)
    try:
        kind, conn, _exc = _open(
            ioloop, ConnectionParameters('127.0.0.1', server.port, heartbeat=1))
        assert kind == 'open'
        closed = []
        conn.add_on_close_callback(lambda c, e:
                                   (closed.append(e), ioloop.stop()))
        guard = ioloop.call_later(5, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
    finally:
        server.close()
    assert len(closed) == 1
    assert isinstance(closed[0], exceptions.AMQPHeartbeatTimeout)


def test_bad_frame_after_open_closes_and_loop_stays_usable(ioloop):
    server = FakeServer(open_then_bad_frame_end)
    good = FakeServer(open_then_serve)
    try:
        kind, conn, _exc = _open(ioloop,
                                 ConnectionParameters('127.0.0.1', server.port))
        assert kind == 'open'
        closed = []
        conn.add_on_close_callback(lambda c, e:
                                   (closed.append(e), ioloop.stop()))
        guard = ioloop.call_later(3, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
        assert len(closed) == 1
        # As pika 1.4.4: the protocol error ends the stream.
        assert isinstance(closed[0], exceptions.StreamLostError)
        assert 'InvalidFrameError' in repr(closed[0])
        assert conn.is_closed

        # Same loop, another connection: still works.
        kind, conn2, _exc = _open(ioloop,
                                  ConnectionParameters('127.0.0.1', good.port))
        assert kind == 'open'
        closed.clear()
        conn2.add_on_close_callback(lambda c, e:
                                    (closed.append(e), ioloop.stop()))
        conn2.close()
        guard = ioloop.call_later(3, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
        assert isinstance(closed[0], exceptions.ConnectionClosedByClient)
    finally:
        server.close()
        good.close()


def test_close_while_connecting_reports_open_aborted(ioloop):
    outcome = []
    conn = SelectConnection(ConnectionParameters('127.0.0.1', _closed_port()),
                            on_open_error_callback=lambda c, e:
                            (outcome.append(e), ioloop.stop()),
                            custom_ioloop=ioloop)
    conn.close()
    guard = ioloop.call_later(3, ioloop.stop)
    ioloop.start()
    ioloop.remove_timeout(guard)
    assert len(outcome) == 1
    assert isinstance(outcome[0], exceptions.ConnectionOpenAborted)


# -- create_connection / workflow ---------------------------------------------


def _create(ioloop, configs, workflow=None, timeout=5.0):
    results = []

    def on_done(result):
        results.append(result)
        ioloop.stop()

    wf = SelectConnection.create_connection(configs,
                                            on_done,
                                            custom_ioloop=ioloop,
                                            workflow=workflow)
    guard = ioloop.call_later(timeout, ioloop.stop)
    ioloop.start()
    ioloop.remove_timeout(guard)
    assert len(results) == 1
    return wf, results[0]


def test_create_connection_multi_host_first_refused(ioloop):
    server = FakeServer(open_then_serve)
    try:
        wf, result = _create(ioloop, [
            ConnectionParameters('127.0.0.1', _closed_port()),
            ConnectionParameters('127.0.0.1', server.port)
        ])
        assert isinstance(wf, cw.AMQPConnectionWorkflow)
        assert isinstance(result, SelectConnection)
        assert result.is_open
        assert result.params.port == server.port
        with pytest.raises(cw.AMQPConnectorWrongState):
            wf.abort()
        closed = []
        result.add_on_close_callback(lambda c, e:
                                     (closed.append(e), ioloop.stop()))
        result.close()
        guard = ioloop.call_later(3, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
        assert isinstance(closed[0], exceptions.ConnectionClosedByClient)
    finally:
        server.close()


def test_create_connection_all_fail_attempts_from_last_params(ioloop):
    configs = [
        ConnectionParameters('127.0.0.1',
                             _closed_port(),
                             connection_attempts=5,
                             retry_delay=5),
        ConnectionParameters('127.0.0.1',
                             _closed_port(),
                             connection_attempts=2,
                             retry_delay=0.05)
    ]
    _wf, result = _create(ioloop, configs)
    assert isinstance(result, cw.AMQPConnectionWorkflowFailed)
    assert len(result.exceptions) == 4
    assert all(
        isinstance(exc, cw.AMQPConnectorSocketConnectError)
        for exc in result.exceptions)


def test_create_connection_handshake_timeout(ioloop):
    server = FakeServer(silent)
    try:
        _wf, result = _create(
            ioloop,
            [ConnectionParameters('127.0.0.1', server.port, stack_timeout=0.3)])
    finally:
        server.close()
    assert isinstance(result, cw.AMQPConnectionWorkflowFailed)
    last = result.exceptions[-1]
    assert isinstance(last, cw.AMQPConnectorAMQPHandshakeError)
    assert isinstance(last.exception, cw.AMQPConnectorStackTimeout)
    assert 'Timeout during AMQP handshake' in repr(last.exception)


def test_workflow_abort_is_asynchronous(ioloop):
    results = []
    wf = SelectConnection.create_connection(
        [ConnectionParameters('127.0.0.1', _closed_port())],
        lambda r: (results.append(r), ioloop.stop()),
        custom_ioloop=ioloop)
    wf.abort()
    assert results == []
    with pytest.raises(cw.AMQPConnectorWrongState):
        wf.abort()
    guard = ioloop.call_later(3, ioloop.stop)
    ioloop.start()
    ioloop.remove_timeout(guard)
    assert len(results) == 1
    assert isinstance(results[0], cw.AMQPConnectionWorkflowAborted)


def test_workflow_argument_checks(ioloop):
    wf = cw.AMQPConnectionWorkflow()
    with pytest.raises(cw.AMQPConnectionWorkflowWrongState):
        wf.start([ConnectionParameters()], lambda: None, ioloop, print)
    wf.set_io_services(SelectorIOServicesAdapter(ioloop))
    with pytest.raises(ValueError):
        wf.start([], lambda: None, ioloop, print)
    with pytest.raises(TypeError):
        wf.start([ConnectionParameters()], lambda: None, ioloop, 'x')
    with pytest.raises(cw.AMQPConnectorWrongState):
        cw.AMQPConnectionWorkflow().abort()


def test_connector_socket_timeout(ioloop):
    # A listener with a full backlog leaves further connects pending.
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(('127.0.0.1', port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    nbio = SelectorIOServicesAdapter(ioloop)
    connector = cw.AMQPConnector(lambda params: None, nbio)
    results = []
    addr = socket.getaddrinfo('127.0.0.1', port, socket.AF_INET,
                              socket.SOCK_STREAM, socket.IPPROTO_TCP)[0]
    connector.start(addr,
                    ConnectionParameters('127.0.0.1', port, socket_timeout=0.2),
                    lambda r: (results.append(r), ioloop.stop()))
    guard = ioloop.call_later(3, ioloop.stop)
    started = time.monotonic()
    ioloop.start()
    ioloop.remove_timeout(guard)
    listener.close()
    for filler in fillers:
        filler.close()
    assert len(results) == 1
    assert isinstance(results[0], cw.AMQPConnectorSocketConnectError)
    assert isinstance(results[0].exception, socket.timeout)
    assert time.monotonic() - started < 2
    with pytest.raises(cw.AMQPConnectorWrongState):
        connector.abort()


class _SilentConnection:
    """Stream protocol standing in for a connection whose open callbacks
    never reach the connector (e.g. an earlier callback raised)."""

    def __init__(self, is_open):
        self.is_open = is_open
        self.closed_with = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, error):
        pass

    def eof_received(self):
        return False

    def data_received(self, data):
        pass

    def add_on_open_callback(self, callback):
        pass

    def add_on_open_error_callback(self, callback, remove_default=True):
        pass

    def close(self, reply_code=200, reply_text='Normal shutdown'):
        self.closed_with = (reply_code, reply_text)
        self.transport.abort()


@pytest.mark.parametrize('is_open', [True, False])
def test_connector_stack_timeout_in_amqp_phase(ioloop, is_open):
    server = FakeServer(silent)
    conn = _SilentConnection(is_open)
    nbio = SelectorIOServicesAdapter(ioloop)
    connector = cw.AMQPConnector(lambda params: conn, nbio)
    results = []
    addr = socket.getaddrinfo('127.0.0.1', server.port, socket.AF_INET,
                              socket.SOCK_STREAM, socket.IPPROTO_TCP)[0]
    try:
        connector.start(
            addr,
            ConnectionParameters('127.0.0.1', server.port, stack_timeout=0.2),
            lambda r: (results.append(r), ioloop.stop()))
        guard = ioloop.call_later(3, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
    finally:
        server.close()
    assert len(results) == 1
    if is_open:
        # Open already: reported as success, not closed.
        assert results[0] is conn
        assert conn.closed_with is None
        conn.transport.abort()
    else:
        assert isinstance(results[0], cw.AMQPConnectorAMQPHandshakeError)
        assert isinstance(results[0].exception, cw.AMQPConnectorStackTimeout)
        assert conn.closed_with[0] == 320
        assert conn.closed_with[1].startswith(
            'Timeout while setting up AMQP to')


def test_tls_handshake_with_silent_peer_hits_stack_timeout(ioloop):
    import ssl
    from pika.connection import SSLOptions
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    server = FakeServer(silent)
    try:
        kind, _conn, exc = _open(
            ioloop,
            ConnectionParameters('127.0.0.1',
                                 server.port,
                                 ssl_options=SSLOptions(context),
                                 stack_timeout=0.3))
    finally:
        server.close()
    assert kind == 'error'
    assert isinstance(exc, cw.AMQPConnectionWorkflowFailed)
    last = exc.exceptions[-1]
    assert isinstance(last, cw.AMQPConnectorTransportSetupError)
    assert isinstance(last.exception, cw.AMQPConnectorStackTimeout)
    assert 'Timeout while setting up transport to' in repr(last.exception)
    assert 'ssl=True' in repr(last.exception)


def test_workflow_and_connector_keep_pika_method_names():
    # The overridable steps pika 1.4.4 has on these classes (its dir()).
    from pika.adapters.utils import connection_workflow as cw
    for name in ('start', 'abort', '_close', '_deactivate',
                 '_report_completion_and_cleanup', '_on_tcp_connection_timeout',
                 '_on_overall_timeout', '_on_tcp_connection_done',
                 '_on_transport_establishment_done', '_on_amqp_handshake_done'):
        assert callable(getattr(cw.AMQPConnector, name)), name
    for name in ('set_io_services', 'start', 'abort', '_close', '_deactivate',
                 '_report_completion_and_cleanup', '_start_new_cycle_async',
                 '_try_next_config_async', '_on_getaddrinfo_async_done',
                 '_try_next_resolved_address', '_on_connector_done'):
        assert callable(getattr(cw.AMQPConnectionWorkflow, name)), name


class _ConnectionWithStreamNames(SelectConnection):
    """A user subclass that happens to define the stream-protocol names."""

    user_calls: list = []

    def connection_made(self, transport):
        self.user_calls.append('connection_made')

    def connection_lost(self, error):
        self.user_calls.append('connection_lost')

    def eof_received(self):
        self.user_calls.append('eof_received')

    def data_received(self, data):
        self.user_calls.append('data_received')


def test_subclass_stream_protocol_names_do_not_replace_the_protocol(ioloop):
    from pika.adapters import base_connection

    # As pika 1.4.4: the stream-protocol handlers are private.
    for name in ('connection_made', 'connection_lost', 'eof_received',
                 'data_received'):
        assert not hasattr(base_connection.BaseConnection, name)
        assert hasattr(base_connection.BaseConnection, '_proto_' + name)

    server = FakeServer(open_then_serve)
    try:
        outcome = []
        conn = _ConnectionWithStreamNames(
            ConnectionParameters('127.0.0.1', server.port),
            on_open_callback=lambda c: (outcome.append('open'), ioloop.stop()),
            on_open_error_callback=lambda c, e:
            (outcome.append(e), ioloop.stop()),
            on_close_callback=lambda c, e: (outcome.append(e), ioloop.stop()),
            custom_ioloop=ioloop)
        guard = ioloop.call_later(5, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
        assert outcome == ['open']
        conn.close()
        guard = ioloop.call_later(5, ioloop.stop)
        ioloop.start()
        ioloop.remove_timeout(guard)
        assert isinstance(outcome[1], exceptions.ConnectionClosedByClient)
        assert _ConnectionWithStreamNames.user_calls == []
    finally:
        server.close()

    # The shim hands the transport the connection's own bound methods: no
    # call in between on each read.
    shim = base_connection._StreamingProtocolShim(conn)
    assert shim.data_received == conn._proto_data_received
    assert shim.data_received.__self__ is conn
    assert shim.connection_made == conn._proto_connection_made
    assert shim.connection_lost == conn._proto_connection_lost
    assert shim.eof_received == conn._proto_eof_received
