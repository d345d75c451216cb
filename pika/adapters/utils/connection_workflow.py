"""Connection establishment: one attempt (:class:`AMQPConnector`) and the
multi-host, multi-attempt workflow (:class:`AMQPConnectionWorkflow`).

An :class:`AMQPConnector` makes one AMQP connection to one resolved address:
TCP connect (bounded by ``socket_timeout``), optional TLS handshake, then the
AMQP handshake of the connection made by its ``conn_factory``; the whole is
bounded by ``stack_timeout``. It reports ``on_done(connection)`` or
``on_done(AMQPConnectorException subclass)``.

An :class:`AMQPConnectionWorkflow` tries the given connection parameters in
order, each resolved address of each host in turn, for
``connection_attempts`` rounds separated by ``retry_delay`` (both taken from
the last parameters), and reports ``on_done(connection)`` or
``on_done(AMQPConnectionWorkflowFailed)`` (every error seen, in order) or,
after :meth:`AMQPConnectionWorkflow.abort`,
``on_done(AMQPConnectionWorkflowAborted)``.
"""

import functools
import logging
import socket
import time
from typing import Any, Callable, List, Optional, Sequence

import pika.tcp_socket_opts
from pika.adapters.utils.io_services_utils import check_callback_arg
from pika.compat import AbstractBase

LOGGER = logging.getLogger(__name__)

_CONNECTION_FORCED = 320


class AMQPConnectorException(Exception):
    """Base class for connector and workflow errors."""


class AMQPConnectorStackTimeout(AMQPConnectorException):
    """The whole connection stack did not come up within ``stack_timeout``
    (or the TCP connect within ``socket_timeout``).
    """


class AMQPConnectorAborted(AMQPConnectorException):
    """The connector was aborted by :meth:`AMQPConnector.abort`."""


class AMQPConnectorWrongState(AMQPConnectorException):
    """A connector or workflow method was called in the wrong state."""


class AMQPConnectorPhaseErrorBase(AMQPConnectorException):
    """A phase of the connection stack failed; ``exception`` tells why."""

    def __init__(self, exception: BaseException, *args: Any) -> None:
        """
        :param BaseException exception: the error that ended the phase.
        :param args: further ``Exception`` arguments.
        """
        super().__init__(*args)
        self.exception = exception

    #: What went wrong, in words; the subclasses name their phase.
    _WHAT_FAILED = 'A phase of the connection stack failed'
    #: What the user should check.
    _WHAT_TO_CHECK = 'check the connection parameters and the broker log'

    def __repr__(self) -> str:
        return '{}: {!r}'.format(self.__class__.__name__, self.exception)

    #: The broker's address as the connector tried it (``'localhost
    #: (127.0.0.1) port 5672'``), set by the connector; not in ``args`` nor
    #: ``repr``, which stay as pika 1.4 has them.
    where: Optional[str] = None

    def __str__(self) -> str:
        text = super().__str__()
        if text:
            return text
        where = '{}: '.format(self.where) if self.where else ''
        return '{} ({}{!r}); {}'.format(self._WHAT_FAILED, where,
                                        self.exception, self._WHAT_TO_CHECK)


class AMQPConnectorSocketConnectError(AMQPConnectorPhaseErrorBase):
    """The TCP connection could not be made."""

    _WHAT_FAILED = 'Could not open a TCP connection to the broker'
    _WHAT_TO_CHECK = (
        'check that RabbitMQ is running and listening on the host and '
        'port of the connection parameters')


class AMQPConnectorTransportSetupError(AMQPConnectorPhaseErrorBase):
    """The transport (e.g. TLS) could not be set up."""

    _WHAT_FAILED = 'Could not set up the transport (TLS) to the broker'
    _WHAT_TO_CHECK = (
        'check ssl_options (certificates, server_hostname) and that the '
        'port speaks TLS')


class AMQPConnectorAMQPHandshakeError(AMQPConnectorPhaseErrorBase):
    """The AMQP handshake failed."""

    _WHAT_FAILED = 'The AMQP handshake with the broker failed'
    _WHAT_TO_CHECK = (
        'check the credentials, the virtual host and the broker log')


class AMQPConnectionWorkflowAborted(AMQPConnectorException):
    """The workflow was aborted by :meth:`AMQPConnectionWorkflow.abort`."""


class AMQPConnectionWorkflowWrongState(AMQPConnectorException):
    """A workflow method was called in the wrong state."""


class AMQPConnectionWorkflowFailed(AMQPConnectorException):
    """Every attempt of the workflow failed; ``exceptions`` holds the error
    of each attempt, in order.
    """

    def __init__(self, exceptions: Sequence[BaseException], *args: Any) -> None:
        """
        :param exceptions: the errors of all attempts, in order.
        :param args: further ``Exception`` arguments.
        """
        super().__init__(*args)
        self.exceptions = tuple(exceptions)

    #: The host name whose resolution ended the workflow, set by the
    #: workflow (the last error is then the resolver's ``socket.gaierror``).
    unresolved_host: Optional[str] = None

    def __str__(self) -> str:
        text = super().__str__()
        if text or not self.exceptions:
            return text or 'No connection attempt was made'
        last: Any = self.exceptions[-1]
        if self.unresolved_host is not None and isinstance(
                last, socket.gaierror):
            last = ('could not resolve the host name {!r} ({}); check the '
                    'host of the connection parameters'.format(
                        self.unresolved_host, last))
        return 'All {} connection attempt(s) failed; the last: {}'.format(
            len(self.exceptions), last)

    def __repr__(self) -> str:
        count = len(self.exceptions)
        return ('{}: {} exceptions in all; last exception - {!r}; '
                'first exception - {!r}').format(
                    self.__class__.__name__, count,
                    self.exceptions[-1] if count else None,
                    self.exceptions[0] if count > 1 else None)


class AMQPConnector:
    """Makes one AMQP connection to one resolved address."""

    _STATE_INIT = 0
    _STATE_TCP = 1
    _STATE_TRANSPORT = 2
    _STATE_AMQP = 3
    _STATE_TIMEOUT = 4
    _STATE_ABORTING = 5
    _STATE_DONE = 6

    def __init__(self, conn_factory: Callable[[Any], Any], nbio: Any) -> None:
        """
        :param callable conn_factory: ``f(parameters)`` returning a new
            connection (a :class:`pika.adapters.base_connection.
            BaseConnection` created with ``internal_connection_workflow=
            False``), used as the stream protocol.
        :param nbio: :class:`~pika.adapters.utils.nbio_interface.
            AbstractIOServices` to run on.
        """
        check_callback_arg(conn_factory, 'conn_factory')
        self._conn_factory = conn_factory
        self._nbio = nbio
        self._state = self._STATE_INIT
        self._addr_record: Any = None
        self._conn_params: Any = None
        self._on_done: Optional[Callable[[Any], Any]] = None
        self._sock: Optional[socket.socket] = None
        self._amqp_conn: Any = None
        self._transport: Any = None
        self._task_ref: Any = None
        self._tcp_timeout_ref: Any = None
        self._stack_timeout_ref: Any = None
        self._started_at = 0.0

    def start(self, addr_record: Any, conn_params: Any,
              on_done: Callable[[Any], Any]) -> None:
        """Begin connecting.

        :param tuple addr_record: one 5-tuple of ``getaddrinfo``'s result.
        :param pika.connection.Parameters conn_params: parameters.
        :param callable on_done: ``f(connection_or_AMQPConnectorException)``.
        :raises AMQPConnectorWrongState: if already started.
        """
        if self._state != self._STATE_INIT:
            raise AMQPConnectorWrongState(
                'Already in progress or finished; state={}'.format(self._state))
        check_callback_arg(on_done, 'on_done')
        self._addr_record = addr_record
        self._conn_params = conn_params
        self._on_done = on_done
        self._state = self._STATE_TCP
        self._started_at = time.monotonic()
        if conn_params.stack_timeout:
            self._stack_timeout_ref = self._nbio.call_later(
                conn_params.stack_timeout, self._on_overall_timeout)
        try:
            family, socktype, proto = addr_record[:3]
            self._sock = socket.socket(family, socktype, proto)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pika.tcp_socket_opts.set_sock_opts(conn_params.tcp_options,
                                               self._sock)
            self._sock.setblocking(False)
            addr = addr_record[4]
            LOGGER.info('Pika version %s connecting to %r', _version(), addr)
            self._task_ref = self._nbio.connect_socket(
                self._sock, addr, self._on_tcp_connection_done)
        except Exception as error:  # noqa: BLE001 - reported to on_done
            LOGGER.error('TCP connect to %s failed at once: %r', self._where(),
                         error)
            self._task_ref = self._nbio.call_later(
                0,
                functools.partial(
                    self._report_completion_and_cleanup,
                    self._phase_error(AMQPConnectorSocketConnectError, error)))
            return
        if conn_params.socket_timeout:
            self._tcp_timeout_ref = self._nbio.call_later(
                conn_params.socket_timeout, self._on_tcp_connection_timeout)

    def abort(self) -> None:
        """Abort the attempt; ``on_done`` then receives
        :class:`AMQPConnectorAborted` asynchronously.

        :raises AMQPConnectorWrongState: if not in progress.
        """
        if self._state == self._STATE_INIT:
            raise AMQPConnectorWrongState('Cannot abort before starting.')
        if self._state in (self._STATE_DONE, self._STATE_ABORTING):
            raise AMQPConnectorWrongState(
                'Cannot abort after completion was reported')
        LOGGER.info('AMQPConnector: aborting connection to %s', self._where())
        amqp_phase = self._state == self._STATE_AMQP
        self._state = self._STATE_ABORTING
        self._deactivate()
        if amqp_phase:
            self._close_amqp_connection(
                'Client aborted the connection setup to {}'.format(
                    self._where()))
        self._nbio.call_later(
            0,
            functools.partial(self._report_completion_and_cleanup,
                              AMQPConnectorAborted()))

    # -- internals (pika's names and roles: subclasses may override) -------

    def _where(self) -> str:
        """Host and address of this attempt, for messages."""
        return '{!r}/{}'.format(self._conn_params.host, self._addr_record)

    def _phase_error(self, error_class: Any,
                     error: BaseException) -> 'AMQPConnectorPhaseErrorBase':
        """``error_class(error)``, told the address for its message."""
        phase_error: AMQPConnectorPhaseErrorBase = error_class(error)
        host = self._conn_params.host
        port = self._conn_params.port
        if self._addr_record is not None:
            address, port = self._addr_record[4][:2]
            if address != host:
                host = '{} ({})'.format(host, address)
        phase_error.where = '{} port {}'.format(host, port)
        return phase_error

    def _deactivate(self) -> None:
        """Cancel the pending timers and I/O task."""
        for name in ('_task_ref', '_tcp_timeout_ref', '_stack_timeout_ref'):
            ref = getattr(self, name)
            if ref is not None:
                setattr(self, name, None)
                ref.cancel()

    def _close(self) -> None:
        """Deactivate, release the socket and references; state DONE."""
        self._deactivate()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        self._amqp_conn = None
        self._transport = None
        self._on_done = None
        self._state = self._STATE_DONE

    def _report_completion_and_cleanup(self, result: Any) -> None:
        """Clean up (:meth:`_close`), then give ``result`` to ``on_done``.

        :param result: the connection, or the
            :class:`AMQPConnectorException` that ended the attempt
        """
        if self._state == self._STATE_DONE:
            return
        on_done = self._on_done
        if isinstance(result, BaseException):
            LOGGER.error('AMQPConnector - reporting failure: %r', result)
        else:
            LOGGER.info('AMQPConnector - reporting success: %r', result)
        self._close()
        if on_done is not None:
            on_done(result)

    def _close_amqp_connection(self, reason: str) -> None:
        conn = self._amqp_conn
        try:
            conn.close(reply_code=_CONNECTION_FORCED, reply_text=reason)
        except Exception as error:  # noqa: BLE001 - fall back to the stream
            LOGGER.debug(
                'close() during handshake raised %r; aborting the '
                'stream', error)
            transport = self._transport
            if transport is not None:
                transport.abort()

    def _on_tcp_connection_timeout(self) -> None:
        self._tcp_timeout_ref = None
        if self._state != self._STATE_TCP:
            return
        error = socket.timeout('TCP connection attempt timed out: {}'.format(
            self._where()))
        LOGGER.error('TCP connection to %s timed out', self._where())
        self._report_completion_and_cleanup(
            self._phase_error(AMQPConnectorSocketConnectError, error))

    def _on_overall_timeout(self) -> None:
        self._stack_timeout_ref = None
        state = self._state
        where = self._where()
        ssl = bool(self._conn_params.ssl_options)
        if state == self._STATE_TCP:
            self._report_completion_and_cleanup(
                self._phase_error(
                    AMQPConnectorSocketConnectError,
                    AMQPConnectorStackTimeout(
                        'Timeout while connecting socket to {}'.format(where))))
        elif state == self._STATE_TRANSPORT:
            self._report_completion_and_cleanup(
                self._phase_error(
                    AMQPConnectorTransportSetupError,
                    AMQPConnectorStackTimeout(
                        'Timeout while setting up transport to {}; '
                        'ssl={}'.format(where, ssl))))
        elif state == self._STATE_AMQP:
            if getattr(self._amqp_conn, 'is_open', False):
                # Opened, but an earlier on-open callback raised before ours
                # ran: the connection is fine, report it.
                self._report_completion_and_cleanup(self._amqp_conn)
                return
            self._state = self._STATE_TIMEOUT
            self._close_amqp_connection(
                'Timeout while setting up AMQP to {}; ssl={}'.format(
                    where, ssl))
            self._report_completion_and_cleanup(
                self._phase_error(
                    AMQPConnectorAMQPHandshakeError,
                    AMQPConnectorStackTimeout(
                        'Timeout during AMQP handshake{}; ssl={}'.format(
                            where, ssl))))

    def _on_tcp_connection_done(self, exc: Optional[BaseException]) -> None:
        self._task_ref = None
        if self._state != self._STATE_TCP:
            return
        overdue = self._overdue_tcp_timeout()
        if overdue is not None:
            # The connect completed after a timeout was due but before its
            # timer ran (loops order same-turn events and timers
            # differently): the timeout wins, on every loop alike.
            overdue()
            return
        if self._tcp_timeout_ref is not None:
            self._tcp_timeout_ref.cancel()
            self._tcp_timeout_ref = None
        if exc is not None:
            LOGGER.error('TCP connection to %s failed: %r', self._where(), exc)
            self._report_completion_and_cleanup(
                self._phase_error(AMQPConnectorSocketConnectError, exc))
            return
        LOGGER.debug('TCP connection to %s established (local address %s)',
                     self._where(), _local_address(self._sock))
        self._state = self._STATE_TRANSPORT
        ssl_options = self._conn_params.ssl_options
        LOGGER.debug('Setting up the %s transport to %s',
                     'TLS' if ssl_options is not None else 'plaintext',
                     self._where())
        ssl_context = server_hostname = None
        if ssl_options is not None:
            ssl_context = ssl_options.context
            server_hostname = ssl_options.server_hostname
            if server_hostname is None:
                # As pika 1.4: without an explicit name, the host the
                # parameters connect to is used (SNI and hostname check).
                server_hostname = self._conn_params.host
        sock, self._sock = self._sock, None
        try:
            self._task_ref = self._nbio.create_streaming_connection(
                protocol_factory=self._make_protocol,
                sock=sock,
                on_done=self._on_transport_establishment_done,
                ssl_context=ssl_context,
                server_hostname=server_hostname)
        except Exception as error:  # noqa: BLE001 - reported to on_done
            if sock is not None:
                sock.close()
            self._report_completion_and_cleanup(
                self._phase_error(AMQPConnectorTransportSetupError, error))

    def _overdue_tcp_timeout(self) -> Optional[Callable[[], None]]:
        """Return the handler of the first of ``socket_timeout`` and
        ``stack_timeout`` whose deadline has passed with its timer still
        pending, else None.
        """
        elapsed = time.monotonic() - self._started_at
        params = self._conn_params
        due = []
        if (self._tcp_timeout_ref is not None and
                elapsed >= params.socket_timeout):
            due.append(
                (params.socket_timeout, 0, self._on_tcp_connection_timeout))
        if (self._stack_timeout_ref is not None and
                elapsed >= params.stack_timeout):
            due.append((params.stack_timeout, 1, self._on_overall_timeout))
        if not due:
            return None
        return min(due, key=lambda entry: entry[:2])[2]

    def _make_protocol(self) -> Any:
        self._amqp_conn = self._conn_factory(self._conn_params)
        return self._amqp_conn

    def _on_transport_establishment_done(self, result: Any) -> None:
        self._task_ref = None
        if self._state != self._STATE_TRANSPORT:
            if not isinstance(result, BaseException):
                result[0].abort()
            return
        if isinstance(result, BaseException):
            LOGGER.error('Transport setup to %s failed: %r', self._where(),
                         result)
            self._report_completion_and_cleanup(
                self._phase_error(AMQPConnectorTransportSetupError, result))
            return
        self._transport = result[0]
        self._state = self._STATE_AMQP
        LOGGER.debug('Transport to %s ready; starting the AMQP handshake',
                     self._where())
        conn = self._amqp_conn
        conn.add_on_open_callback(self._on_amqp_handshake_done)
        conn.add_on_open_error_callback(self._on_amqp_handshake_done,
                                        remove_default=True)

    def _on_amqp_handshake_done(self,
                                connection: Any,
                                error: Optional[BaseException] = None) -> None:
        if self._state != self._STATE_AMQP:
            return
        if error is None:
            LOGGER.debug('AMQP handshake with %s done', self._where())
            self._report_completion_and_cleanup(connection)
        else:
            LOGGER.error('AMQP handshake with %s failed: %r', self._where(),
                         error)
            self._report_completion_and_cleanup(
                self._phase_error(AMQPConnectorAMQPHandshakeError, error))


def _local_address(sock: Any) -> Any:
    """The socket's local address, for the log ('?' when unknown)."""
    try:
        return sock.getsockname()
    except Exception:  # noqa: BLE001 - only for a log line
        return '?'


def _version() -> str:
    import pika
    return getattr(pika, '__version__', '?')


class AbstractAMQPConnectionWorkflow(AbstractBase):
    """Interface of a connection workflow usable with ``create_connection``.
    """

    def start(self, connection_configs: Sequence[Any],
              connector_factory: Callable[[], AMQPConnector], native_loop: Any,
              on_done: Callable[[Any], Any]) -> None:
        """Begin the workflow.

        :param connection_configs: non-empty sequence of
            :class:`pika.connection.Parameters`.
        :param callable connector_factory: returns a new
            :class:`AMQPConnector`.
        :param native_loop: the native I/O loop.
        :param callable on_done: ``f(connection_or_exception)``.
        """
        raise NotImplementedError

    def abort(self) -> None:
        """Abort the workflow; ``on_done`` receives
        :class:`AMQPConnectionWorkflowAborted`.
        """
        raise NotImplementedError


class AMQPConnectionWorkflow(AbstractAMQPConnectionWorkflow):
    """Tries a sequence of connection parameters, every resolved address of
    each host, for ``connection_attempts`` rounds.
    """

    _STATE_INIT = 0
    _STATE_ACTIVE = 1
    _STATE_ABORTING = 2
    _STATE_DONE = 3

    def __init__(self, _until_first_amqp_attempt: bool = False) -> None:
        """
        :param bool _until_first_amqp_attempt: stop after the first attempt
            that reaches the AMQP handshake, whatever its outcome (used by
            adapters' internal workflow, where handshake errors are reported
            by the connection itself).
        """
        self._until_first_amqp_attempt = _until_first_amqp_attempt
        self._state = self._STATE_INIT
        self._nbio: Any = None
        self._connection_configs: List[Any] = []
        self._connector_factory: Any = None
        self._on_done: Optional[Callable[[Any], Any]] = None
        self._connector: Optional[AMQPConnector] = None
        self._exceptions: List[BaseException] = []
        self._attempts_left = 0
        self._retry_delay = 0.0
        self._config_index = 0
        self._addr_records: List[Any] = []
        self._addr_index = 0
        self._task_ref: Any = None

    def set_io_services(self, nbio: Any) -> None:
        """Set the I/O services to run on (done by ``create_connection``).

        :param nbio: :class:`~pika.adapters.utils.nbio_interface.
            AbstractIOServices`.
        """
        self._nbio = nbio

    def start(self, connection_configs: Sequence[Any],
              connector_factory: Callable[[], AMQPConnector], native_loop: Any,
              on_done: Callable[[Any], Any]) -> None:
        """Begin the workflow.

        :param connection_configs: non-empty sequence of
            :class:`pika.connection.Parameters`.
        :param callable connector_factory: returns a new
            :class:`AMQPConnector`.
        :param native_loop: the native I/O loop (unused here; the I/O
            services were given by :meth:`set_io_services`).
        :param callable on_done: ``f(connection_or_exception)``.
        :raises AMQPConnectionWorkflowWrongState: if already started.
        """
        if self._state != self._STATE_INIT:
            raise AMQPConnectorWrongState('Already in progress or finished; '
                                          'state={}'.format(self._state))
        if self._nbio is None:
            raise AMQPConnectionWorkflowWrongState(
                'set_io_services() must be called before start()')
        configs = list(connection_configs)
        if not configs:
            raise ValueError('connection_configs must be a non-empty '
                             'sequence of pika.connection.Parameters')
        check_callback_arg(connector_factory, 'connector_factory')
        check_callback_arg(on_done, 'on_done')
        self._connection_configs = configs
        self._connector_factory = connector_factory
        self._on_done = on_done
        last = configs[-1]
        self._attempts_left = last.connection_attempts
        self._retry_delay = last.retry_delay
        self._state = self._STATE_ACTIVE
        self._task_ref = self._nbio.call_later(0, self._start_new_cycle_async)

    def abort(self) -> None:
        """Abort the workflow; ``on_done`` then receives
        :class:`AMQPConnectionWorkflowAborted` asynchronously.

        :raises AMQPConnectorWrongState: if not in progress.
        """
        if self._state == self._STATE_INIT:
            raise AMQPConnectorWrongState('Cannot abort before starting.')
        if self._state != self._STATE_ACTIVE:
            raise AMQPConnectorWrongState(
                'Cannot abort after completion was reported')
        self._state = self._STATE_ABORTING
        if self._task_ref is not None:
            self._task_ref.cancel()
            self._task_ref = None
        connector, self._connector = self._connector, None
        if connector is not None:
            try:
                connector.abort()
            except AMQPConnectorWrongState:
                pass
        self._nbio.call_later(
            0,
            functools.partial(self._report_completion_and_cleanup,
                              AMQPConnectionWorkflowAborted()))

    # -- internals ---------------------------------------------------------

    def _deactivate(self) -> None:
        """Cancel the pending task (timer or name resolution)."""
        if self._task_ref is not None:
            self._task_ref.cancel()
            self._task_ref = None

    def _close(self) -> None:
        """Deactivate and drop references; the workflow is DONE."""
        self._deactivate()
        self._connector = None
        self._on_done = None
        self._state = self._STATE_DONE

    def _report_completion_and_cleanup(self, result: Any) -> None:
        """Clean up (:meth:`_close`), then give ``result`` to ``on_done``.

        Subclasses may override it to see (or wrap) the outcome.

        :param result: the open :class:`pika.connection.Connection`, or the
            :class:`AMQPConnectorException` (e.g.
            :class:`AMQPConnectionWorkflowFailed`) that ended the workflow
        """
        if self._state == self._STATE_DONE:
            return
        if isinstance(result, BaseException):
            LOGGER.error('AMQPConnectionWorkflow - reporting failure: %r',
                         result)
        else:
            LOGGER.info('AMQPConnectionWorkflow - reporting success: %r',
                        result)
        on_done = self._on_done
        self._close()
        if on_done is not None:
            on_done(result)

    def _start_new_cycle_async(self, first: bool = False) -> None:
        """Begin a round over the configs (``first``: no delay was taken)."""
        self._task_ref = None
        if self._state != self._STATE_ACTIVE:
            return
        self._attempts_left -= 1
        self._config_index = 0
        LOGGER.debug(
            'Connection workflow: new cycle over %d host(s); %d attempt(s) '
            'left after this one', len(self._connection_configs),
            self._attempts_left)
        self._try_next_config_async()

    def _try_next_config_async(self) -> None:
        params = self._connection_configs[self._config_index]
        LOGGER.debug('Resolving %r port %s', params.host, params.port)
        self._task_ref = self._nbio.getaddrinfo(
            host=params.host,
            port=params.port,
            on_done=self._on_getaddrinfo_async_done,
            socktype=socket.SOCK_STREAM,
            proto=socket.IPPROTO_TCP)

    def _on_getaddrinfo_async_done(self, result: Any) -> None:
        self._task_ref = None
        if self._state != self._STATE_ACTIVE:
            return
        if isinstance(result, BaseException):
            # As pika 1.4: a failed name resolution ends the whole workflow
            # (no further hosts, no retries).
            self._exceptions.append(result)
            failed = AMQPConnectionWorkflowFailed(self._exceptions)
            failed.unresolved_host = self._connection_configs[
                self._config_index].host
            self._report_completion_and_cleanup(failed)
            return
        self._addr_records = list(result)
        self._addr_index = 0
        LOGGER.debug(
            'Resolved to %d address(es): %s', len(self._addr_records),
            ', '.join(repr(record[4]) for record in self._addr_records))
        self._try_next_resolved_address()

    def _try_next_resolved_address(self) -> None:
        if self._addr_index >= len(self._addr_records):
            self._next_config()
            return
        addr_record = self._addr_records[self._addr_index]
        self._addr_index += 1
        params = self._connection_configs[self._config_index]
        self._connector = self._connector_factory()
        self._connector.start(addr_record, params, self._on_connector_done)

    def _on_connector_done(self, result: Any) -> None:
        self._connector = None
        if self._state != self._STATE_ACTIVE:
            if not isinstance(result, BaseException):
                result.close()
            return
        if not isinstance(result, BaseException):
            self._report_completion_and_cleanup(result)
            return
        self._exceptions.append(result)
        if (self._until_first_amqp_attempt and
                isinstance(result, AMQPConnectorAMQPHandshakeError)):
            self._report_completion_and_cleanup(
                AMQPConnectionWorkflowFailed(self._exceptions))
            return
        self._try_next_resolved_address()

    def _next_config(self) -> None:
        self._config_index += 1
        if self._config_index < len(self._connection_configs):
            self._try_next_config_async()
            return
        if self._attempts_left > 0:
            LOGGER.debug('Every host failed; next cycle in %s s',
                         self._retry_delay)
            self._task_ref = self._nbio.call_later(self._retry_delay,
                                                   self._start_new_cycle_async)
            return
        self._report_completion_and_cleanup(
            AMQPConnectionWorkflowFailed(self._exceptions))
