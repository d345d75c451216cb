"""gevent adapter: a pika connection driven by the gevent hub.

:class:`_GeventSelectorIOLoop` presents the hub's event loop (libev or libuv
watchers) as an :class:`AbstractSelectorIOLoop`, and
:class:`_GeventSelectorIOServicesAdapter` adds name resolution through
gevent's resolver in a greenlet. The connection's callbacks run in the hub
greenlet, so any number of greenlets can share one connection (or each own
one) without calling ``ioloop.start()``: the hub runs whenever a greenlet
waits. ``ioloop.start()`` just blocks the calling greenlet until
``ioloop.stop()``.

Works with and without ``gevent.monkey.patch_all()``: the connection only
uses non-blocking sockets and the hub's own watchers.
"""

import logging
from typing import Any, Callable, Dict, Optional, Sequence, Union

import gevent
import gevent.event
import gevent.hub
import gevent.monkey
import gevent.socket

from pika.adapters.base_connection import _recovery_kwargs
from pika.recovery import RecoveryConfig
from pika import compat
from pika.adapters.base_connection import BaseConnection
from pika.adapters.utils import nbio_interface
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.adapters.utils.nbio_interface import (  # noqa: F401
    AbstractIOReference, AbstractIOServices)
from pika.adapters.utils.io_services_utils import (_IOReference,
                                                   check_callback_arg)
from pika.adapters.utils.selector_ioloop_adapter import (
    AbstractSelectorIOLoop, SelectorIOServicesAdapter, _AddressResolver)

LOGGER = logging.getLogger(__name__)

# The OS thread id even when ``threading``/``_thread`` are monkey-patched.
_real_thread_ident = gevent.monkey.get_original('_thread', 'get_ident')


class _GeventSelectorIOLoop(AbstractSelectorIOLoop):
    """The gevent hub's loop as a selector-style I/O loop.

    Its methods must be called from the hub's thread, except
    :meth:`add_callback`, which is thread-safe.
    """

    #: readable event bit (gevent/libev ``READ``)
    READ = 1
    #: writable event bit (gevent/libev ``WRITE``)
    WRITE = 2
    #: gevent has no separate error event; errors show up as readiness
    ERROR = 0

    def __init__(self, gevent_hub: Optional[Any] = None) -> None:
        """
        :param gevent.hub.Hub gevent_hub: the hub to run on (default: the
            calling thread's hub).
        """
        self._hub = gevent_hub or gevent.get_hub()
        self._io_watchers_by_fd: Dict[int, Any] = {}
        self._handlers_by_fd: Dict[int, Callable[[int, int], Any]] = {}
        # Set by stop(); start() waits on it.
        self._waiter = gevent.event.Event()
        # Callbacks from the hub's own OS thread (any greenlet) need no
        # wake-up of the loop; other threads need the thread-safe path.
        self._hub_thread_ident = getattr(self._hub, 'thread_ident', None)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Stop every watcher this loop created (the hub itself is shared
        and stays alive).
        """
        watchers, self._io_watchers_by_fd = self._io_watchers_by_fd, {}
        self._handlers_by_fd = {}
        for watcher in watchers.values():
            watcher.close()

    def start(self) -> None:
        """Block the calling greenlet until :meth:`stop` is called; the hub
        serves I/O meanwhile.
        """
        try:
            self._waiter.wait()
        finally:
            self._waiter.clear()

    def stop(self) -> None:
        """Make :meth:`start` return (or the next :meth:`start` return at
        once if the loop is not running).
        """
        self._waiter.set()

    # -- timers and callbacks --------------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        """Call ``callback`` after ``delay`` seconds.

        :param float delay: seconds.
        :param callable callback: called without arguments.
        :returns: the gevent timer watcher, for :meth:`remove_timeout`.
        """
        check_callback_arg(callback, 'callback')
        timer = self._hub.loop.timer(max(float(delay), 0.0))
        # The loop's cached "now" is stale when the hub has not run for a
        # while; measure the delay from the real current time.
        timer.start(callback, update=True)
        return timer

    def remove_timeout(self, timeout_handle: Any) -> None:
        """Cancel a timer made by :meth:`call_later`.

        :param timeout_handle: the timer watcher.
        """
        timeout_handle.close()

    def add_callback(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` from the hub soon; safe from any thread.

        :param callable callback: called without arguments.
        """
        check_callback_arg(callback, 'callback')
        if _real_thread_ident() == self._hub_thread_ident:
            self._hub.loop.run_callback(callback)
        else:
            self._hub.loop.run_callback_threadsafe(callback)

    def run_once(self) -> None:
        """Let the hub run one iteration (a zero-length ``gevent.sleep``)."""
        gevent.sleep(0)

    # -- file descriptors ------------------------------------------------------

    def add_handler(self, fd: int, handler: Callable[[int, int], Any],
                    events: int) -> None:
        """Call ``handler(fd, events)`` when ``fd`` is ready.

        :param int fd: file descriptor.
        :param callable handler: called with ``(fd, events)``.
        :param int events: READ and/or WRITE bits.
        """
        # pika 1.4 accepts registering a known fd again: the new handler
        # and events replace the old ones.
        old = self._io_watchers_by_fd.pop(fd, None)
        if old is not None:
            old.close()
        self._handlers_by_fd[fd] = handler
        self._io_watchers_by_fd[fd] = self._start_watcher(fd, handler, events)

    def update_handler(self, fd: int, events: int) -> None:
        """Change the events watched on ``fd``.

        :param int fd: file descriptor.
        :param int events: READ and/or WRITE bits.
        """
        watcher = self._io_watchers_by_fd[fd]
        handler = self._handlers_by_fd[fd]
        watcher.close()
        self._io_watchers_by_fd[fd] = self._start_watcher(fd, handler, events)

    def remove_handler(self, fd: int) -> None:
        """Stop watching ``fd``.

        :param int fd: file descriptor.
        :raises KeyError: when ``fd`` is not registered (as pika 1.4).
        """
        watcher = self._io_watchers_by_fd.pop(fd)
        self._handlers_by_fd.pop(fd, None)
        watcher.close()

    def _start_watcher(self, fd: int, handler: Callable[[int, int], Any],
                       events: int) -> Any:
        watcher = self._hub.loop.io(fd, events)

        def on_events(revents: int) -> None:
            handler(fd, revents)

        watcher.start(on_events, pass_events=True)
        return watcher


class _GeventAddressResolver(_AddressResolver):
    """Runs ``getaddrinfo`` with gevent's resolver in a greenlet and reports
    the result through the loop.
    """

    _greenlet: Optional[Any] = None

    def start(self) -> nbio_interface.AbstractIOReference:
        """Start resolving in a new greenlet.

        :rtype: nbio_interface.AbstractIOReference
        """
        self._greenlet = gevent.spawn_raw(self._resolve)
        return _IOReference(self.cancel)

    def cancel(self) -> bool:
        """Abandon the request (killing its greenlet).

        :returns: False if the result was already delivered or cancelled.
        :rtype: bool
        """
        if not super().cancel():
            return False
        greenlet, self._greenlet = self._greenlet, None
        if greenlet is not None and greenlet is not gevent.getcurrent():
            gevent.kill(greenlet)
        return True

    def _lookup(self) -> Any:
        try:
            return gevent.socket.getaddrinfo(*self._args)
        finally:
            self._greenlet = None


class _GeventSelectorIOServicesAdapter(SelectorIOServicesAdapter):
    """Selector I/O services on the gevent hub, resolving names with gevent's
    resolver.
    """

    _address_resolver_class = _GeventAddressResolver


def _make_nbio(custom_ioloop: Any) -> nbio_interface.AbstractIOServices:
    """I/O services for ``custom_ioloop`` (see GeventConnection)."""
    if custom_ioloop is None:
        return _GeventSelectorIOServicesAdapter(_GeventSelectorIOLoop())
    if isinstance(custom_ioloop, nbio_interface.AbstractIOServices):
        return custom_ioloop
    if isinstance(custom_ioloop, gevent.hub.Hub):
        return _GeventSelectorIOServicesAdapter(
            _GeventSelectorIOLoop(custom_ioloop))
    if isinstance(custom_ioloop, AbstractSelectorIOLoop):
        return _GeventSelectorIOServicesAdapter(custom_ioloop)
    hub = gevent.get_hub()
    if custom_ioloop is hub.loop:
        return _GeventSelectorIOServicesAdapter(_GeventSelectorIOLoop(hub))
    raise TypeError(
        'custom_ioloop must be a gevent Hub, the hub\'s loop, a '
        '_GeventSelectorIOLoop or an AbstractIOServices, but got %r' %
        (custom_ioloop,))


class GeventConnection(BaseConnection):
    """Asynchronous connection running on the gevent hub.

    Callbacks run in the hub greenlet; other greenlets may use the
    connection freely (they are not threads). ``connection.ioloop`` is a
    :class:`_GeventSelectorIOLoop` whose ``start()`` blocks the calling
    greenlet until ``stop()``.
    """

    @classmethod
    def create_connection(cls,
                          connection_configs: Sequence[Any],
                          on_done: Callable[[Any], Any],
                          custom_ioloop: Optional[Any] = None,
                          workflow: Optional[Any] = None,
                          recovery: Optional[RecoveryConfig] = None) -> Any:
        """Connect on the gevent hub, as
        :meth:`BaseConnection.create_connection` does (``custom_ioloop`` as
        for :class:`GeventConnection`).

        :returns: the workflow, which can be aborted.
        """
        return cls._create_connection_over(_make_nbio(custom_ioloop),
                                           connection_configs, on_done,
                                           workflow, recovery)

    def __init__(self,
                 parameters: Optional[Any] = None,
                 on_open_callback: Optional[Callable[[Any], Any]] = None,
                 on_open_error_callback: Optional[Callable[[Any, BaseException],
                                                           Any]] = None,
                 on_close_callback: Optional[Callable[[Any, BaseException],
                                                      Any]] = None,
                 custom_ioloop: Optional[Union[
                     Any, nbio_interface.AbstractIOServices]] = None,
                 internal_connection_workflow: bool = True,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        """
        :param pika.connection.Parameters parameters: the connection's
            parameters (None: all defaults).
        :param callable on_open_callback: gets ``(connection)`` once the
            connection is open.
        :param callable on_open_error_callback: gets ``(connection, exc)``
            if it fails to open.
        :param callable on_close_callback: gets ``(connection, exc)`` once an
            open connection has closed.
        :param custom_ioloop: a gevent Hub, a :class:`_GeventSelectorIOLoop`
            or an :class:`AbstractIOServices` (default: the current hub).
        :param bool internal_connection_workflow: True to connect with the
            built-in workflow; False when ``create_connection`` (or an
            ``AMQPConnector``) supplies the transport.
        :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
            automatically from connection losses (see :doc:`/recovery`);
            None (default) for pika 1.4's behaviour.
        """
        if compat.ON_WINDOWS:
            raise RuntimeError('GeventConnection is not supported on Windows.')
        super().__init__(
            parameters,
            on_open_callback,
            on_open_error_callback,
            on_close_callback,
            _make_nbio(custom_ioloop),
            internal_connection_workflow=internal_connection_workflow,
            # (only when given: the call stays pika 1.4's without it)
            **_recovery_kwargs(recovery))
