"""Asynchronous connection adapter for :mod:`asyncio`.

The connection runs on a given event loop or on the current one (no global
policy change). I/O goes through ``loop.add_reader``/``loop.add_writer`` and
the shared stream transports of
:mod:`pika.adapters.utils.io_services_utils`, which coalesce writes per loop
turn (``loop.call_soon``) and read in large chunks; measured faster than
asyncio's own socket transports, which issue one ``send`` per ``write()``.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from pika.parameters import Parameters

from pika.adapters.base_connection import _recovery_kwargs
from pika.recovery import RecoveryConfig
from pika.adapters import base_connection
from pika.adapters.utils import io_services_utils, nbio_interface
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.adapters.utils import connection_workflow  # noqa: F401
from pika.adapters.utils.io_services_utils import (check_callback_arg,
                                                   check_fd_arg)

LOGGER = logging.getLogger(__name__)


def _current_loop() -> asyncio.AbstractEventLoop:
    """Return the running loop, else a new loop of this connection's own
    (as pika 1.4 does: the thread's current loop is not reused, so closing
    one connection's loop does not break the next connection).
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.new_event_loop()


class AsyncioConnection(base_connection.BaseConnection):
    """Asynchronous connection running on an :mod:`asyncio` event loop."""

    if TYPE_CHECKING:  # the inherited property, as type checkers see it here

        @property
        def ioloop(self) -> asyncio.AbstractEventLoop:
            """The asyncio loop this connection runs on."""

    def __init__(self,
                 parameters: Optional[Parameters] = None,
                 on_open_callback: Optional[Callable[['AsyncioConnection'],
                                                     object]] = None,
                 on_open_error_callback: Optional[Callable[
                     ['AsyncioConnection', BaseException], object]] = None,
                 on_close_callback: Optional[Callable[
                     ['AsyncioConnection', BaseException], object]] = None,
                 custom_ioloop: Optional[
                     Union[asyncio.AbstractEventLoop,
                           nbio_interface.AbstractIOServices]] = None,
                 internal_connection_workflow: bool = True,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        """
        :param pika.connection.Parameters parameters: the broker and the
            session settings.
        :param callable on_open_callback: called as ``f(connection)`` when
            the connection is open.
        :param callable on_open_error_callback: called as
            ``f(connection, exception)`` when it cannot be opened.
        :param callable on_close_callback: called as
            ``f(connection, exception)`` when it has closed.
        :param custom_ioloop: the :class:`asyncio.AbstractEventLoop` to use
            (default: the current loop), or ready-made I/O services.
        :param bool internal_connection_workflow: True to connect using
            ``parameters``; False when an external workflow supplies the
            stream.
        :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
            automatically from connection losses (see :doc:`/recovery`);
            None (default) for pika 1.4's behaviour.
        """
        if isinstance(custom_ioloop, nbio_interface.AbstractIOServices):
            nbio: nbio_interface.AbstractIOServices = custom_ioloop
        else:
            nbio = _AsyncioIOServicesAdapter(custom_ioloop)
        super().__init__(
            parameters,
            on_open_callback,
            on_open_error_callback,
            on_close_callback,
            nbio,
            internal_connection_workflow=internal_connection_workflow,
            # (only when given: the call stays pika 1.4's without it)
            **_recovery_kwargs(recovery))

    @classmethod
    def create_connection(
        cls,
        connection_configs: Sequence[Parameters],
        on_done: Callable[[
            Union['AsyncioConnection',
                  connection_workflow.AMQPConnectorException]
        ], object],
        custom_ioloop: Optional[asyncio.AbstractEventLoop] = None,
        workflow: Optional[
            connection_workflow.AbstractAMQPConnectionWorkflow] = None,
        recovery: Optional[RecoveryConfig] = None
    ) -> connection_workflow.AbstractAMQPConnectionWorkflow:
        """Connect on the asyncio loop ``custom_ioloop`` (default: the
        current one), trying ``connection_configs`` in turn; the arguments
        are those of
        :meth:`pika.adapters.base_connection.BaseConnection.create_connection`.

        :returns: the workflow; ``abort()`` on it cancels the attempt.
        """
        return cls._create_connection_over(
            _AsyncioIOServicesAdapter(custom_ioloop), connection_configs,
            on_done, workflow, recovery)


class _TimerHandle(nbio_interface.AbstractTimerReference):
    """Timer reference over an :class:`asyncio.TimerHandle`."""

    __slots__ = ('_handle',)

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def cancel(self) -> None:
        """Cancel the timer; idempotent."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _AsyncioIOReference(nbio_interface.AbstractIOReference):
    """Reference over an :class:`asyncio.Future`."""

    def __init__(self, future: Any, on_done: Callable[[Any], Any]) -> None:
        self._future = future
        self._on_done = on_done
        future.add_done_callback(self._on_future_done)

    def cancel(self) -> bool:
        """Cancel the operation.

        :returns: False if it already completed or was cancelled.
        :rtype: bool
        """
        if self._future.done():
            return False
        self._future.cancel()
        return True

    def _on_future_done(self, future: Any) -> None:
        if future.cancelled():
            return
        error = future.exception()
        self._on_done(error if error is not None else future.result())


class _AsyncioIOServicesAdapter(io_services_utils.SocketConnectionMixin,
                                io_services_utils.StreamingConnectionMixin,
                                nbio_interface.AbstractIOServices,
                                nbio_interface.AbstractFileDescriptorServices):
    """I/O services over an :mod:`asyncio` event loop."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None):
        """
        :param asyncio.AbstractEventLoop loop: the loop; default the current.
        """
        self._loop = loop if loop is not None else _current_loop()

    def get_native_ioloop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop these services run on.

        :rtype: asyncio.AbstractEventLoop
        """
        return self._loop

    def run(self) -> None:
        """``loop.run_forever()``: until :meth:`stop`."""
        self._loop.run_forever()

    def run_once(self) -> None:
        """Run one iteration of the asyncio loop (what is ready now; it does
        not wait for I/O).
        """
        loop = self._loop
        loop.call_soon(loop.stop)
        loop.run_forever()

    def stop(self) -> None:
        """``loop.stop()``: :meth:`run` returns after this iteration."""
        self._loop.stop()

    def close(self) -> None:
        """``loop.close()``; the loop must not be running."""
        self._loop.close()

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """``loop.call_soon(callback)``: on the next iteration, from the
        loop's thread only.

        :param callable callback: called without arguments.
        """
        self._loop.call_soon(callback)

    def _transport_call_soon(self) -> Callable[[Callable[[], Any]], Any]:
        """``loop.call_soon`` itself, for the transports' write flush: no
        extra call per write.
        """
        return self._loop.call_soon

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """``loop.call_soon_threadsafe(callback)``: from any thread.

        :param callable callback: called without arguments.
        """
        check_callback_arg(callback, 'callback')
        self._loop.call_soon_threadsafe(callback)

    def call_later(self, delay: float, callback: Callable[[],
                                                          Any]) -> _TimerHandle:
        """Call ``callback`` after ``delay`` seconds.

        :param float delay: seconds.
        :param callable callback: called without arguments.
        :rtype: nbio_interface.AbstractTimerReference
        """
        check_callback_arg(callback, 'callback')
        return _TimerHandle(self._loop.call_later(delay, callback))

    def getaddrinfo(self,
                    host: Any,
                    port: Any,
                    on_done: Callable[[Any], Any],
                    family: int = 0,
                    socktype: int = 0,
                    proto: int = 0,
                    flags: int = 0) -> _AsyncioIOReference:
        """Resolve with ``loop.getaddrinfo``.

        :param host: host name or address.
        :param port: port number or service name.
        :param callable on_done: called with the result list or exception.
        :param int family: address family.
        :param int socktype: socket type.
        :param int proto: protocol.
        :param int flags: flags.
        :rtype: nbio_interface.AbstractIOReference
        """
        check_callback_arg(on_done, 'on_done')
        future = asyncio.ensure_future(self._loop.getaddrinfo(host,
                                                              port,
                                                              family=family,
                                                              type=socktype,
                                                              proto=proto,
                                                              flags=flags),
                                       loop=self._loop)
        return _AsyncioIOReference(future, on_done)

    def set_reader(self, fd: int, on_readable: Callable[[], Any]) -> None:
        """Call ``on_readable()`` whenever ``fd`` is readable.

        :param int fd: file descriptor.
        :param callable on_readable: called without arguments.
        """
        check_fd_arg(fd)
        check_callback_arg(on_readable, 'on_readable')
        self._loop.add_reader(fd, on_readable)

    def remove_reader(self, fd: int) -> bool:
        """Stop watching ``fd`` for readability.

        :param int fd: file descriptor.
        :rtype: bool
        """
        check_fd_arg(fd)
        return self._loop.remove_reader(fd)

    def set_writer(self, fd: int, on_writable: Callable[[], Any]) -> None:
        """Call ``on_writable()`` whenever ``fd`` is writable.

        :param int fd: file descriptor.
        :param callable on_writable: called without arguments.
        """
        check_fd_arg(fd)
        check_callback_arg(on_writable, 'on_writable')
        self._loop.add_writer(fd, on_writable)

    def remove_writer(self, fd: int) -> bool:
        """Stop watching ``fd`` for writability.

        :param int fd: file descriptor.
        :rtype: bool
        """
        check_fd_arg(fd)
        return self._loop.remove_writer(fd)
