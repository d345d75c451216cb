"""The awaitable connection of :mod:`pika.aio`.

:func:`connect` opens an
:class:`~pika.adapters.asyncio_connection.AsyncioConnection` on the running
loop and returns a :class:`Connection` wrapping it; the wrapper turns the
open, close, blocked and channel-open callbacks into awaitables. The adapter
itself is used as it is.
"""

import asyncio
import logging
from types import TracebackType
from typing import Any, Callable, List, Optional, Sequence, Type, Union

from pika import exceptions
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.aio._closing import settle_closed
from pika.aio._recovery import AioRecovery
from pika.aio.channel import Channel
from pika.parameters import ConnectionParameters, Parameters, URLParameters
from pika.recovery import RecoveryConfig, RecoveryState

__all__ = ['connect', 'Connection']

LOGGER = logging.getLogger(__name__)

ParametersOrUrl = Union[None, str, Parameters, Sequence[Parameters]]


def _parameter_list(parameters: ParametersOrUrl) -> List[Parameters]:
    if parameters is None:
        return [ConnectionParameters()]
    if isinstance(parameters, str):
        return [URLParameters(parameters)]
    if isinstance(parameters, Parameters):
        return [parameters]
    if isinstance(parameters, (list, tuple)) and parameters and all(
            isinstance(item, Parameters) for item in parameters):
        return list(parameters)
    raise TypeError('parameters_or_url must be a pika.ConnectionParameters, '
                    'a URL str, a non-empty sequence of parameters or None, '
                    'but got %r' % (parameters,))


async def connect(
        parameters_or_url: ParametersOrUrl = None,
        *,
        recovery: Optional[RecoveryConfig] = None,
        loop: Optional[asyncio.AbstractEventLoop] = None) -> 'Connection':
    """Open a connection on the running event loop.

    :param parameters_or_url: a :class:`pika.ConnectionParameters` (or
        other :class:`pika.connection.Parameters`), an ``amqp://`` /
        ``amqps://`` URL, a sequence of parameters (tried in turn, with
        their ``connection_attempts`` and ``retry_delay``) or None for the
        defaults
    :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
        automatically from a connection loss (see :doc:`/recovery`); None
        (the default) for none
    :param loop: the running loop (the default); another loop is refused
    :returns: the open connection
    :rtype: pika.aio.Connection
    :raises TypeError: if ``recovery`` is not a RecoveryConfig or None
    :raises pika.exceptions.AMQPConnectionError: if it cannot connect
    """
    if recovery is not None and not isinstance(recovery, RecoveryConfig):
        raise TypeError('recovery must be a pika.recovery.RecoveryConfig or '
                        'None, but got %r' % (recovery,))
    configs = _parameter_list(parameters_or_url)
    running = asyncio.get_running_loop()
    if loop is not None and loop is not running:
        raise ValueError('loop must be the running event loop (or None)')
    connection = Connection(running)
    await connection._open(configs)
    if recovery is not None:
        connection._recovery = AioRecovery(connection, recovery, configs)
        connection._recovery.watch(connection._impl)
    return connection


class Connection:
    """An open AMQP connection on an asyncio loop; see :func:`connect`.

    Usable as ``async with`` (closes on exit).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use :func:`connect`.

        :param loop: the running loop
        """
        self._loop = loop
        # Set by _open before connect() hands the connection out.
        self._impl: AsyncioConnection = None  # type: ignore[assignment]
        self._closed: asyncio.Future[BaseException] = loop.create_future()
        self._unblocked = asyncio.Event()
        self._unblocked.set()
        self._close_callbacks: List[Callable[..., Any]] = []
        self._blocked_callbacks: List[Callable[..., Any]] = []
        self._unblocked_callbacks: List[Callable[..., Any]] = []
        #: the recovery driver (``recovery=``), else None
        self._recovery: Optional[AioRecovery] = None
        # close() was called: a loss from then on is not recovered
        self._user_closing = False

    def __repr__(self) -> str:
        return '<pika.aio.Connection %r>' % (self._impl,)

    async def __aenter__(self) -> 'Connection':
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        await self.close()

    async def _open(self, configs: List[Parameters]) -> None:
        self._impl = await self._connect(configs, self._watch)

    async def _connect(
            self, configs: List[Parameters],
            on_opened: Callable[[AsyncioConnection],
                                None]) -> AsyncioConnection:
        """Open an AsyncioConnection over ``configs``; ``on_opened(impl)``
        runs as soon as it is open, before anything else can happen to it.
        """
        opened: asyncio.Future[Any] = self._loop.create_future()

        def on_done(result: Any) -> None:
            if opened.done():
                if isinstance(result, AsyncioConnection) and result.is_open:
                    # Its opener gave up (cancelled): do not leak it.
                    result.close()
                return
            if isinstance(result, BaseException):
                opened.set_exception(result)
            else:
                on_opened(result)
                opened.set_result(result)

        if len(configs) == 1:
            impl = AsyncioConnection(
                configs[0],
                on_open_callback=on_done,
                on_open_error_callback=lambda _conn, error: on_done(error),
                custom_ioloop=self._loop)
            try:
                await opened
            except asyncio.CancelledError:
                if not (impl.is_closed or impl.is_closing):
                    impl.close()
                raise
            return impl
        workflow = AsyncioConnection.create_connection(configs,
                                                       on_done,
                                                       custom_ioloop=self._loop)
        try:
            connected: AsyncioConnection = await opened
        except asyncio.CancelledError:
            workflow.abort()
            raise
        return connected

    def _watch(self, impl: AsyncioConnection) -> None:
        impl.add_on_close_callback(self._on_closed)
        impl.add_on_connection_blocked_callback(self._on_blocked)
        impl.add_on_connection_unblocked_callback(self._on_unblocked)

    def _swap(self, impl: AsyncioConnection) -> None:
        """Recovery: ``impl`` replaces the lost connection."""
        self._impl = impl
        self._unblocked.set()
        self._watch(impl)

    # -- engine callbacks --------------------------------------------------

    def _on_closed(self, impl: Any, reason: BaseException) -> None:
        recovery = self._recovery
        if recovery is not None and recovery.on_connection_closed(impl, reason):
            return  # a loss being recovered
        self._finish(reason)

    def _finish(self, reason: BaseException) -> None:
        self._unblocked.set()
        settle_closed(self, self._closed, self._close_callbacks, reason, LOGGER)

    def _on_blocked(self, _impl: Any, method_frame: Any) -> None:
        self._unblocked.clear()
        self._notify(self._blocked_callbacks, method_frame)

    def _on_unblocked(self, _impl: Any, method_frame: Any) -> None:
        self._unblocked.set()
        self._notify(self._unblocked_callbacks, method_frame)

    def _notify(self, callbacks: List[Callable[..., Any]],
                method_frame: Any) -> None:
        for callback in list(callbacks):
            try:
                callback(self, method_frame)
            except Exception:  # noqa: BLE001 - user code must not break us
                LOGGER.exception('Callback %r failed', callback)

    # -- state -------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while the connection is open.

        :rtype: bool
        """
        return self._impl.is_open

    @property
    def is_closing(self) -> bool:
        """True while the connection is closing.

        :rtype: bool
        """
        return self._impl.is_closing

    @property
    def is_closed(self) -> bool:
        """True once the connection is closed (not while it recovers).

        :rtype: bool
        """
        recovery = self._recovery
        if recovery is not None and recovery.is_recovering:
            return False
        return self._impl.is_closed

    @property
    def is_blocked(self) -> bool:
        """True between the broker's ``Connection.Blocked`` and
        ``Connection.Unblocked`` (resource alarm: publishes are held).

        :rtype: bool
        """
        return not self._unblocked.is_set()

    @property
    def close_reason(self) -> Optional[BaseException]:
        """Why the connection closed (None while it is not closed).

        :rtype: Exception
        """
        return self._closed.result() if self._closed.done() else None

    @property
    def server_properties(self) -> Any:
        """The broker's ``Connection.Start`` server properties.

        :rtype: dict
        """
        return self._impl.server_properties

    def add_on_close_callback(
            self, callback: Callable[['Connection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, reason)`` once the connection closed.

        :param callable callback: ``callback(connection, reason)``
        """
        _require_callable(callback)
        self._close_callbacks.append(callback)

    def add_on_connection_blocked_callback(
            self, callback: Callable[['Connection', Any], Any]) -> None:
        """Call ``callback(connection, method_frame)`` on
        ``Connection.Blocked``.

        :param callable callback: ``callback(connection, method_frame)``
        """
        _require_callable(callback)
        self._blocked_callbacks.append(callback)

    def add_on_connection_unblocked_callback(
            self, callback: Callable[['Connection', Any], Any]) -> None:
        """Call ``callback(connection, method_frame)`` on
        ``Connection.Unblocked``.

        :param callable callback: ``callback(connection, method_frame)``
        """
        _require_callable(callback)
        self._unblocked_callbacks.append(callback)

    async def wait_unblocked(self) -> None:
        """Wait until the broker is not blocking the connection (returns at
        once when it is not; also when the connection closes).
        """
        await self._unblocked.wait()

    async def wait_closed(self) -> BaseException:
        """Wait until the connection has closed.

        :returns: the close reason
        :rtype: Exception
        """
        return await asyncio.shield(self._closed)

    # -- channels and closing ----------------------------------------------

    async def channel(self, channel_number: Optional[int] = None) -> Channel:
        """Open a channel.

        :param int channel_number: the number to use; allocated when None
        :rtype: pika.aio.Channel
        :raises pika.exceptions.ConnectionWrongStateError: if the connection
            is not open
        """
        recovery = self._recovery
        if recovery is not None and recovery.is_recovering:
            await recovery.wait_ready()
        impl_holder: List[Any] = []

        def on_open(impl: Any) -> None:
            impl_holder[0]._on_open(impl)

        impl = self._impl.channel(channel_number, on_open)
        chan = Channel(self, impl)
        impl_holder.append(chan)
        if recovery is not None:
            recovery.adopt(chan)
        try:
            await chan._opened
        except asyncio.CancelledError:
            # Nobody will use it: close it once open (the engine defers
            # the Close until the OpenOk).
            if not (impl.is_closed or impl.is_closing):
                impl.close()
            raise
        return chan

    async def close(self,
                    reply_code: int = 200,
                    reply_text: str = 'Normal shutdown') -> None:
        """Close the connection (its channels first) and wait until it is
        closed. Returns at once when it is already closed.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        """
        self._user_closing = True
        recovery = self._recovery
        if recovery is not None and recovery.is_recovering:
            await recovery.stop(
                exceptions.ConnectionClosedByClient(reply_code, reply_text))
        impl = self._impl
        if not (impl.is_closed or impl.is_closing):
            impl.close(reply_code, reply_text)
        reason = await asyncio.shield(self._closed)
        if not isinstance(reason, (exceptions.ConnectionClosedByClient,
                                   exceptions.ConnectionOpenAborted)):
            LOGGER.debug('Connection had closed already: %r', reason)

    # -- automatic recovery ------------------------------------------------

    def _require_recovery(self) -> AioRecovery:
        if self._recovery is None:
            raise ValueError('this connection was created without recovery=; '
                             'pass recovery=pika.recovery.RecoveryConfig() to '
                             'pika.aio.connect')
        return self._recovery

    @property
    def recovery_state(self) -> Optional[RecoveryState]:
        """The :class:`pika.recovery.RecoveryState` (``IDLE``,
        ``RECONNECTING``, ``FAILED``); None without ``recovery=``.

        :rtype: pika.recovery.RecoveryState
        """
        recovery = self._recovery
        return None if recovery is None else recovery.coordinator.state

    def add_on_recovery_started_callback(
            self, callback: Callable[['Connection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` when a loss starts a
        recovery.

        :param callable callback: ``callback(connection, error)``
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.started_listeners.add(callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[['Connection', List[Any]], Any]) -> None:
        """Call ``callback(connection, skipped)`` once recovered;
        ``skipped`` lists the :class:`pika.recovery.TopologyRecoveryEntity`
        that could not be restored.

        :param callable callback: ``callback(connection, skipped)``
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.succeeded_listeners.add(callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['Connection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` when recovery gives up
        (``max_attempts``); the connection then closes with the error of
        the loss.

        :param callable callback: ``callback(connection, error)``
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.failed_listeners.add(callback)

    async def wait_for_recovery(self, timeout: Optional[float] = None) -> bool:
        """Wait until a recovery under way is over (returns at once when
        none is).

        :param float timeout: seconds at most; None waits as long as it
            takes
        :returns: True if the connection is usable, False if still
            recovering after ``timeout`` or if recovery failed
        :rtype: bool
        :raises ValueError: without ``recovery=``
        """
        return await self._require_recovery().wait(timeout)

    def current_queue_name(self, name: str) -> str:
        """The name a queue has now: a server-named queue declared again by
        recovery has a new name; other names come back unchanged.

        :param str name: a queue name the application received earlier
        :rtype: str
        :raises ValueError: without ``recovery=``
        """
        return self._require_recovery().ledger.current_queue_name(name)


def _require_callable(callback: Any) -> None:
    if not callable(callback):
        raise TypeError('callback must be callable, but got %r' % (callback,))
