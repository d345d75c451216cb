"""Base class of the asynchronous connection adapters.

:class:`BaseConnection` binds the sans-IO protocol engine
(:class:`pika.connection.Connection`) to I/O services
(:class:`~pika.adapters.utils.nbio_interface.AbstractIOServices`): it
implements the engine's ``_adapter_*`` methods over them, acts as the stream
protocol of the transport (bytes in -> ``_on_data_available``), and, with the
internal connection workflow, establishes the stream itself through
:class:`~pika.adapters.utils.connection_workflow.AMQPConnectionWorkflow`.
Each event-loop adapter only chooses its I/O services.
"""

import copy
import functools
import logging
import operator
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from pika import _recovery_async, connection, exceptions
from pika.adapters.utils import (connection_workflow, io_services_utils,
                                 nbio_interface)
from pika.parameters import Parameters
from pika.recovery import RecoveryConfig, RecoveryState

LOGGER = logging.getLogger(__name__)


def _drop_unsent_data(data: bytes) -> None:
    """Where the engine's writes go while there is no transport."""
    LOGGER.debug('Dropping %d bytes: no transport', len(data))


class BaseConnection(connection.Connection):
    """Connection engine over non-blocking I/O services."""

    # recovery hook: the driver of automatic recovery (recovery=), or None
    _recovery: Optional[_recovery_async.AsyncRecovery] = None

    def __init__(self,
                 parameters: Optional[Parameters],
                 on_open_callback: Optional[Callable[..., Any]],
                 on_open_error_callback: Optional[Callable[..., Any]],
                 on_close_callback: Optional[Callable[..., Any]],
                 nbio: nbio_interface.AbstractIOServices,
                 internal_connection_workflow: bool = True,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        """
        :param pika.connection.Parameters parameters: connection parameters
            (None for the defaults).
        :param callable on_open_callback: ``f(connection)`` once open.
        :param callable on_open_error_callback: ``f(connection, exception)``
            if opening fails; the exception is a
            :class:`pika.exceptions.AMQPConnectionError` subclass, or
            :class:`~pika.adapters.utils.connection_workflow.
            AMQPConnectionWorkflowFailed` when no address could be resolved.
        :param callable on_close_callback: ``f(connection, exception)`` once
            closed.
        :param nbio: the I/O services to run on.
        :param bool internal_connection_workflow: True to connect using
            ``parameters``; False when an external workflow supplies the
            stream (``create_connection``).
        :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
            automatically from connection losses (see :doc:`/recovery`);
            None (default) for pika 1.4's behaviour.
        :raises ValueError: if ``parameters`` is not a Parameters instance.
        """
        if parameters and not isinstance(parameters, connection.Parameters):
            raise ValueError(
                'Expected instance of Parameters, not {!r}'.format(parameters))
        if recovery is not None and not isinstance(recovery, RecoveryConfig):
            raise TypeError('recovery must be a pika.recovery.RecoveryConfig '
                            'or None, but got %r' % (recovery,))
        self._nbio = nbio
        # Our own stream transports queue views without copying them and
        # write a run of them with one vectored send, so large bodies can be
        # handed over as views of the user's bytes instead of one joined copy.
        self._adapter_emits_views = isinstance(
            nbio, io_services_utils.StreamingConnectionMixin)
        self._connection_workflow: Optional[
            connection_workflow.AMQPConnectionWorkflow] = None
        self._transport: Optional[nbio_interface.AbstractStreamTransport] = None
        # What _adapter_emit_data returns: the transport's write while the
        # stream is up.
        self._stream_write: Callable[[bytes], None] = _drop_unsent_data
        self._got_stream = False
        # Set by the stream protocol's EOF notice: the transport's
        # connection_lost(None) that follows means the peer closed it.
        self._got_eof = False
        self._pending_termination = False
        super().__init__(
            parameters=parameters,
            on_open_callback=on_open_callback,
            on_open_error_callback=on_open_error_callback,
            on_close_callback=on_close_callback,
            internal_connection_workflow=internal_connection_workflow)
        if recovery is not None:
            self._enable_recovery(recovery, [parameters or self.params])

    def __repr__(self) -> str:
        return '<{} {} transport={} params={}>'.format(
            self.__class__.__name__,
            self._STATE_NAMES.get(self.connection_state, self.connection_state),
            self._transport, self.params)

    @property
    def ioloop(self) -> Any:
        """The native I/O loop this connection runs on.

        :rtype: object
        """
        return self._nbio.get_native_ioloop()

    @classmethod
    def create_connection(
        cls,
        connection_configs: Sequence[Parameters],
        on_done: Callable[[
            Union['BaseConnection', connection_workflow.AMQPConnectorException]
        ], object],
        custom_ioloop: Any = None,
        workflow: Optional[
            connection_workflow.AbstractAMQPConnectionWorkflow] = None,
        recovery: Optional[RecoveryConfig] = None
    ) -> connection_workflow.AbstractAMQPConnectionWorkflow:
        """Connect using the first of ``connection_configs`` that works
        (every resolved address of each, ``connection_attempts`` rounds).
        With ``recovery``, the connection recovers automatically from
        losses, reconnecting over the same ``connection_configs``.

        :param connection_configs: sequence of
            :class:`pika.connection.Parameters`.
        :param callable on_done: ``f(connection)`` on success, else
            ``f(AMQPConnectionWorkflowFailed)`` (or
            ``AMQPConnectionWorkflowAborted`` after ``abort()``).
        :param custom_ioloop: the adapter's native loop, or None.
        :param workflow: an :class:`~pika.adapters.utils.
            connection_workflow.AbstractAMQPConnectionWorkflow`, or None for
            :class:`~pika.adapters.utils.connection_workflow.
            AMQPConnectionWorkflow`.
        :returns: the workflow; its ``abort()`` cancels.
        """
        raise NotImplementedError

    @classmethod
    def _create_connection_over(
        cls,
        nbio: nbio_interface.AbstractIOServices,
        connection_configs: Any,
        on_done: Callable[[Any], object],
        workflow: Optional[connection_workflow.AbstractAMQPConnectionWorkflow],
        recovery: Optional[RecoveryConfig] = None
    ) -> connection_workflow.AbstractAMQPConnectionWorkflow:
        """The body of every adapter's :meth:`create_connection`: run
        ``workflow`` (default :class:`AMQPConnectionWorkflow`) over ``nbio``,
        its connectors making ``cls(parameters=..., custom_ioloop=nbio,
        internal_connection_workflow=False)`` connections.
        """
        # pika 1.4's checks and wording, before any workflow starts.
        try:
            configs = list(connection_configs)
        except TypeError as error:
            raise TypeError(
                'connection_configs does not support iteration: {!r}'.format(
                    error)) from error
        if not configs:
            raise ValueError(
                'connection_configs is empty: {!r}.'.format(connection_configs))
        if recovery is not None:
            if not isinstance(recovery, RecoveryConfig):
                raise TypeError('recovery must be a pika.recovery.'
                                'RecoveryConfig or None, but got %r' %
                                (recovery,))
            on_done = functools.partial(_enable_recovery_on_success, recovery,
                                        list(configs), on_done)

        def connection_factory(params: Any) -> '_StreamingProtocolShim':
            if params is None:
                raise ValueError('Expected pika.connection.Parameters '
                                 'instance, but got None in params arg.')
            return _StreamingProtocolShim(
                cls(  # type: ignore[call-arg]
                    parameters=params,
                    custom_ioloop=nbio,
                    internal_connection_workflow=False))

        if workflow is None:
            workflow = connection_workflow.AMQPConnectionWorkflow()
            LOGGER.debug('Created default connection workflow %r', workflow)
        if isinstance(workflow, connection_workflow.AMQPConnectionWorkflow):
            workflow.set_io_services(nbio)
        return cls._start_workflow(workflow, nbio, configs, connection_factory,
                                   on_done)

    @classmethod
    def _start_workflow(
        cls, workflow: connection_workflow.AbstractAMQPConnectionWorkflow,
        nbio: Any, connection_configs: Any,
        connection_factory: Callable[[Any], Any], on_done: Callable[[Any],
                                                                    object]
    ) -> connection_workflow.AbstractAMQPConnectionWorkflow:
        """Start ``workflow`` with connectors over ``nbio`` building their
        stream protocol with ``connection_factory``; ``on_done`` receives the
        connection (never its shim) or the error.
        """

        def create_connector() -> connection_workflow.AMQPConnector:
            return connection_workflow.AMQPConnector(connection_factory, nbio)

        workflow.start(connection_configs=connection_configs,
                       connector_factory=create_connector,
                       native_loop=nbio.get_native_ioloop(),
                       on_done=functools.partial(
                           cls._unshim_connection_workflow_callback, on_done))
        return workflow

    @staticmethod
    def _unshim_connection_workflow_callback(user_on_done: Callable[[Any], Any],
                                             shim_or_exc: Any) -> None:
        """Pass the connection (not its shim) or the error to the user."""
        if isinstance(shim_or_exc, _StreamingProtocolShim):
            shim_or_exc = shim_or_exc.conn
        user_on_done(shim_or_exc)

    # -- engine adapter methods --------------------------------------------

    def _adapter_connect_stream(self) -> None:
        """Connect with the internal workflow (this connection's params)."""
        workflow = connection_workflow.AMQPConnectionWorkflow(
            _until_first_amqp_attempt=True)
        workflow.set_io_services(self._nbio)
        self._connection_workflow = workflow
        self._start_workflow(workflow, self._nbio, [self.params],
                             lambda _params: _StreamingProtocolShim(self),
                             self._on_connection_workflow_done)

    def _on_connection_workflow_done(self, conn_or_exc: Any) -> None:
        """The internal workflow finished."""
        self._connection_workflow = None
        if not isinstance(conn_or_exc, BaseException):
            LOGGER.debug('Internal connection workflow succeeded: %r', self)
            return
        if isinstance(conn_or_exc,
                      connection_workflow.AMQPConnectionWorkflowAborted):
            LOGGER.debug('Internal connection workflow aborted: %r', self)
            if self._transport is None:
                self._on_stream_terminated(None)
            return
        if self._got_stream:
            # The AMQP handshake started: the engine reported the outcome.
            LOGGER.debug(
                'Internal connection workflow failed after the '
                'stream was up: %r', conn_or_exc)
            return
        error: BaseException = conn_or_exc
        if isinstance(conn_or_exc,
                      connection_workflow.AMQPConnectionWorkflowFailed):
            errors = conn_or_exc.exceptions
            last = errors[-1] if errors else None
            if isinstance(last,
                          connection_workflow.AMQPConnectorSocketConnectError):
                error = exceptions.AMQPConnectionError(conn_or_exc)
        LOGGER.error('Connection workflow failed: %r', conn_or_exc)
        self._on_stream_terminated(error)

    def _adapter_disconnect_stream(self) -> None:
        """Abort the transport (or the workflow still making it);
        ``_on_stream_terminated`` follows asynchronously.
        """
        if self._transport is not None:
            self._transport.abort()
            return
        workflow = self._connection_workflow
        if workflow is not None:
            try:
                workflow.abort()
                return
            except connection_workflow.AMQPConnectorException as error:
                LOGGER.debug('Workflow abort failed: %r', error)
        if not self._pending_termination:
            self._pending_termination = True
            self._nbio.call_later(0, self._on_late_termination)

    def _on_late_termination(self) -> None:
        self._pending_termination = False
        self._on_stream_terminated(None)

    def _adapter_call_later(self, delay: float, callback: Callable[[],
                                                                   Any]) -> Any:
        """Call ``callback`` after ``delay`` seconds.

        :returns: handle with ``cancel()``
        """
        return self._nbio.call_later(delay, callback)

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer from :meth:`_adapter_call_later`."""
        timeout_id.cancel()

    def _adapter_add_callback_threadsafe(self, callback: Callable[[],
                                                                  Any]) -> None:
        """Call ``callback`` on the loop's thread (from any thread)."""
        if not callable(callback):
            raise TypeError(  # pika 1.4's wording
                'callback must be a callable, but got {!r}'.format(callback))
        self._nbio.add_callback_threadsafe(callback)

    # The engine's ``self._adapter_emit_data(data)`` calls the transport's
    # ``write`` itself (the hot path: no call of ours in between): a read-only
    # property, read in C, returning ``_stream_write``. A subclass may still
    # override it with a method and call up with
    # ``super()._adapter_emit_data(data)``.
    _adapter_emit_data = property(
        operator.attrgetter('_stream_write'),
        doc='Queue ``data`` on the transport: ``_adapter_emit_data(data)``.')

    def _adapter_get_write_buffer_size(self) -> int:
        """Bytes buffered in the transport."""
        transport = self._transport
        return transport.get_write_buffer_size() if transport else 0

    # -- automatic recovery (pika._recovery_async) -------------------------

    def _enable_recovery(self, config: RecoveryConfig,
                         connection_configs: Any) -> None:
        """Turn on automatic recovery over ``connection_configs``."""
        self._recovery = _recovery_async.AsyncRecovery(
            self, config,
            [_pristine_copy(params) for params in connection_configs])

    def _require_recovery(self) -> _recovery_async.AsyncRecovery:
        if self._recovery is None:
            raise ValueError('automatic recovery is not enabled on this '
                             'connection (see the recovery= argument)')
        return self._recovery

    @property
    def recovery_state(self) -> Optional[RecoveryState]:
        """The :class:`pika.recovery.RecoveryState` (``IDLE``,
        ``RECONNECTING``, ``FAILED``), or None without ``recovery=``."""
        if self._recovery is None:
            return None
        return self._recovery.state

    def add_on_recovery_started_callback(
            self, callback: Callable[[Any, BaseException], Any]) -> None:
        """Call ``callback(connection, error)`` when a loss is detected and
        recovery starts (instead of the on-close callbacks).

        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.started_listeners.add(callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[[Any, List[Any]], Any]) -> None:
        """Call ``callback(connection, skipped)`` when recovery succeeded;
        ``skipped`` lists the :class:`pika.recovery.TopologyRecoveryEntity`
        objects that could not be restored.

        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.succeeded_listeners.add(callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[[Any, BaseException], Any]) -> None:
        """Call ``callback(connection, error)`` when recovery gives up
        (before the on-close callbacks, which get the original error).

        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.failed_listeners.add(callback)

    def current_queue_name(self, queue: str) -> str:
        """The current name of a server-named queue that recovery declared
        again (other names are returned as they are).

        :raises ValueError: without ``recovery=``
        """
        return self._require_recovery().ledger.current_queue_name(queue)

    def _prepare_reconnect(self, parameters: Any) -> None:
        """See :meth:`pika.connection.Connection._prepare_reconnect`; also
        forget the last stream."""
        super()._prepare_reconnect(parameters)
        self._transport = None
        self._stream_write = _drop_unsent_data
        self._got_stream = False
        self._got_eof = False
        self._pending_termination = False

    def _reconnect_over(self, connection_configs: Any,
                        on_done: Callable[[Any], Any]) -> Any:
        """Automatic recovery: connect this same connection object again,
        over ``connection_configs`` (each with its own attempts and retry
        delay); ``on_done`` receives this connection once the new AMQP
        session is open, or the workflow's error.

        :returns: the workflow (its ``abort()`` cancels)
        """

        def reuse_self(params: Any) -> '_StreamingProtocolShim':
            self._prepare_reconnect(params)
            return _StreamingProtocolShim(self)

        workflow = connection_workflow.AMQPConnectionWorkflow()
        workflow.set_io_services(self._nbio)
        return self._start_workflow(workflow, self._nbio, connection_configs,
                                    reuse_self, on_done)

    # -- stream protocol ---------------------------------------------------

    def _proto_connection_made(
            self, transport: nbio_interface.AbstractStreamTransport) -> None:
        """The stream is up: start the AMQP handshake.

        :param transport: the stream transport.
        """
        self._transport = transport
        self._stream_write = transport.write
        self._got_stream = True
        self._on_stream_connected()

    def _proto_connection_lost(self, error: Optional[BaseException]) -> None:
        """The stream is gone.

        :param BaseException|None error: None if we aborted it, else why.
        """
        self._transport = None
        self._stream_write = _drop_unsent_data
        if error is None and self._got_eof:
            error = exceptions.StreamLostError('Transport indicated EOF')
        elif error is not None and not isinstance(error,
                                                  exceptions.StreamLostError):
            error = exceptions.StreamLostError(
                'Stream connection lost: {!r}'.format(error))
        if error is not None:
            LOGGER.error('connection_lost: %r', error)
        self._on_stream_terminated(error)

    def _proto_eof_received(self) -> bool:
        """The peer closed its side; the transport then reports
        ``_proto_connection_lost(StreamLostError('Transport indicated EOF'))``.

        :returns: False (half-open streams are not kept).
        """
        LOGGER.error('Transport indicated EOF on %r', self)
        self._got_eof = True
        return False

    def _proto_data_received(self, data: bytes) -> None:
        """Feed received bytes to the engine.

        :param bytes data: received chunk.
        """
        self._on_data_available(data)


def _recovery_kwargs(recovery: Optional[RecoveryConfig]) -> Dict[str, Any]:
    """The adapters' keyword arguments to :class:`BaseConnection` for
    ``recovery``: none when it is None."""
    return {} if recovery is None else {'recovery': recovery}


def _pristine_copy(params: Any) -> Any:
    """A copy of ``params`` that tuning will not write into (the SSL
    options, which hold an SSLContext, stay shared)."""
    if params is None:
        return connection.ConnectionParameters()
    ssl_options = params.ssl_options
    memo: Dict[int, Any] = {}
    if ssl_options is not None:
        memo[id(ssl_options)] = ssl_options
    return copy.deepcopy(params, memo)


def _enable_recovery_on_success(config: RecoveryConfig, configs: List[Any],
                                user_on_done: Callable[[Any], Any],
                                result: Any) -> None:
    """``create_connection(..., recovery=)``: turn recovery on before the
    application gets the connection."""
    if isinstance(result, BaseConnection):
        result._enable_recovery(config, configs)
    user_on_done(result)


class _StreamingProtocolShim(nbio_interface.AbstractStreamProtocol):
    """Stands for a connection inside its own internal workflow: the
    connector uses it as stream protocol and watches the handshake through
    it. As in pika 1.4, the connector's callback replaces the default
    open-error callback (which raises): a handshake failure reaches the
    user's callbacks only, never the loop.
    """

    def __init__(self, conn: BaseConnection) -> None:
        self.conn = conn
        # The connection's own bound methods, set once: no extra call per
        # read, and an adapter subclass's public ``data_received`` (etc.)
        # cannot take over the stream.
        self.connection_made = conn._proto_connection_made  # type: ignore[method-assign]
        self.connection_lost = conn._proto_connection_lost  # type: ignore[method-assign]
        self.eof_received = conn._proto_eof_received  # type: ignore[method-assign]
        self.data_received = conn._proto_data_received  # type: ignore[method-assign]

    # Shadowed on each instance by the assignments above; they satisfy the
    # abstract interface.

    def connection_made(self, transport: Any) -> None:
        """See :meth:`BaseConnection._proto_connection_made`."""
        self.conn._proto_connection_made(transport)

    def connection_lost(self, error: Any) -> None:
        """See :meth:`BaseConnection._proto_connection_lost`."""
        self.conn._proto_connection_lost(error)

    def eof_received(self) -> Any:
        """See :meth:`BaseConnection._proto_eof_received`."""
        return self.conn._proto_eof_received()

    def data_received(self, data: bytes) -> None:
        """See :meth:`BaseConnection._proto_data_received`."""
        self.conn._proto_data_received(data)

    def add_on_open_callback(self, callback: Callable[..., Any]) -> None:
        """Forwarded to the connection."""
        self.conn.add_on_open_callback(callback)

    def add_on_open_error_callback(self,
                                   callback: Callable[..., Any],
                                   remove_default: bool = True) -> None:
        """Forwarded to the connection."""
        self.conn.add_on_open_error_callback(callback,
                                             remove_default=remove_default)

    def close(self, *args: Any, **kwargs: Any) -> Any:
        """Forwarded to the connection."""
        return self.conn.close(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)
