"""Tornado adapter: a pika connection on a Tornado ``IOLoop``.

:class:`_TornadoIOLoopAdapter` presents the Tornado loop as an
:class:`AbstractSelectorIOLoop` (Tornado's ``add_handler``,
``update_handler``, ``call_later``... map one to one) and the generic
:class:`SelectorIOServicesAdapter` does the rest. ``connection.ioloop`` is the
Tornado ``IOLoop`` itself, as in pika.
"""

import logging
from typing import Any, Callable, Optional, Sequence, Union

from tornado import ioloop

from pika.adapters import base_connection
from pika.adapters.utils import nbio_interface, selector_ioloop_adapter
from pika.adapters.utils.io_services_utils import check_callback_arg
from pika.adapters.utils.selector_ioloop_adapter import (
    AbstractSelectorIOLoop, SelectorIOServicesAdapter)

LOGGER = logging.getLogger(__name__)

__all__ = ['TornadoConnection']


class _TornadoIOLoopAdapter(AbstractSelectorIOLoop):
    """A Tornado ``IOLoop`` as a selector-style I/O loop."""

    #: readable event bit (Tornado's)
    READ = ioloop.IOLoop.READ
    #: writable event bit (Tornado's)
    WRITE = ioloop.IOLoop.WRITE
    #: error event bits (Tornado's)
    ERROR = ioloop.IOLoop.ERROR

    def __init__(self, tornado_loop: ioloop.IOLoop) -> None:
        """
        :param tornado.ioloop.IOLoop tornado_loop: the Tornado loop.
        """
        self._loop = tornado_loop

    @property
    def tornado_loop(self) -> ioloop.IOLoop:
        """The wrapped Tornado ``IOLoop``."""
        return self._loop

    def close(self) -> None:
        """Close the Tornado loop."""
        self._loop.close()

    def start(self) -> None:
        """Run the Tornado loop until :meth:`stop`."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the Tornado loop."""
        self._loop.stop()

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        """Call ``callback`` after ``delay`` seconds.

        :param float delay: seconds.
        :param callable callback: called without arguments.
        :returns: Tornado's timeout handle.
        """
        check_callback_arg(callback, 'callback')
        return self._loop.call_later(delay, callback)

    def remove_timeout(self, timeout_handle: Any) -> None:
        """Cancel a timer made by :meth:`call_later`.

        :param timeout_handle: Tornado's timeout handle.
        """
        self._loop.remove_timeout(timeout_handle)

    def add_callback(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on the loop's next iteration; thread-safe.

        :param callable callback: called without arguments.
        """
        self._loop.add_callback(callback)

    def add_handler(self, fd: int, handler: Callable[[int, int], Any],
                    events: int) -> None:
        """Call ``handler(fd, events)`` when ``fd`` is ready.

        :param int fd: file descriptor.
        :param callable handler: called with ``(fd, events)``.
        :param int events: READ/WRITE/ERROR bits.
        """
        self._loop.add_handler(fd, handler, events)

    def update_handler(self, fd: int, events: int) -> None:
        """Change the events watched on ``fd``.

        :param int fd: file descriptor.
        :param int events: READ/WRITE/ERROR bits.
        """
        self._loop.update_handler(fd, events)

    def remove_handler(self, fd: int) -> None:
        """Stop watching ``fd``.

        :param int fd: file descriptor.
        """
        self._loop.remove_handler(fd)


class _TornadoIOServicesAdapter(SelectorIOServicesAdapter):
    """Selector I/O services over a Tornado loop; the native loop reported to
    users is the Tornado ``IOLoop``.
    """

    def __init__(self, tornado_loop: ioloop.IOLoop) -> None:
        """
        :param tornado.ioloop.IOLoop tornado_loop: the Tornado loop.
        """
        super().__init__(_TornadoIOLoopAdapter(tornado_loop))

    def get_native_ioloop(self) -> ioloop.IOLoop:
        """Return the Tornado ``IOLoop``.

        :rtype: tornado.ioloop.IOLoop
        """
        return self._loop.tornado_loop


def _make_nbio(custom_ioloop: Any) -> nbio_interface.AbstractIOServices:
    """I/O services for ``custom_ioloop`` (see TornadoConnection)."""
    if isinstance(custom_ioloop, nbio_interface.AbstractIOServices):
        return custom_ioloop
    if custom_ioloop is None:
        custom_ioloop = ioloop.IOLoop.current()
    if not isinstance(custom_ioloop, ioloop.IOLoop):
        raise TypeError('custom_ioloop must be a tornado.ioloop.IOLoop or an '
                        'AbstractIOServices, but got %r' % (custom_ioloop,))
    # As pika 1.4: the Tornado loop is a selector-style loop as it is; the
    # services class is looked up on its module (tests patch it there).
    return selector_ioloop_adapter.SelectorIOServicesAdapter(custom_ioloop)


class TornadoConnection(base_connection.BaseConnection):
    """Asynchronous connection on a Tornado ``IOLoop`` (the current one unless
    ``custom_ioloop`` is given). Callbacks run on that loop.
    """

    def __init__(self,
                 parameters: Optional[Any] = None,
                 on_open_callback: Optional[Callable[[Any], Any]] = None,
                 on_open_error_callback: Optional[Callable[[Any, BaseException],
                                                           Any]] = None,
                 on_close_callback: Optional[Callable[[Any, BaseException],
                                                      Any]] = None,
                 custom_ioloop: Optional[Union[
                     ioloop.IOLoop, nbio_interface.AbstractIOServices]] = None,
                 internal_connection_workflow: bool = True) -> None:
        """
        :param pika.connection.Parameters parameters: connection parameters.
        :param callable on_open_callback: ``(connection)`` when open.
        :param callable on_open_error_callback: ``(connection, exc)`` when
            opening fails.
        :param callable on_close_callback: ``(connection, exc)`` when an open
            connection closes.
        :param custom_ioloop: a Tornado ``IOLoop`` or an
            :class:`AbstractIOServices` (default: ``IOLoop.current()``).
        :param bool internal_connection_workflow: True to connect with the
            built-in workflow; False when ``create_connection`` (or an
            ``AMQPConnector``) supplies the transport.
        """
        nbio = _make_nbio(custom_ioloop)
        super().__init__(
            parameters,
            on_open_callback,
            on_open_error_callback,
            on_close_callback,
            nbio,
            internal_connection_workflow=internal_connection_workflow)

    @classmethod
    def create_connection(cls,
                          connection_configs: Sequence[Any],
                          on_done: Callable[[Any], Any],
                          custom_ioloop: Optional[Any] = None,
                          workflow: Optional[Any] = None) -> Any:
        """Connect trying each configuration in turn (see
        :meth:`BaseConnection.create_connection`).

        :param connection_configs: sequence of connection parameters.
        :param callable on_done: called with the connection, or with an
            ``AMQPConnectionWorkflowFailed`` or
            ``AMQPConnectionWorkflowAborted``.
        :param custom_ioloop: as for :class:`TornadoConnection`.
        :param workflow: an ``AbstractAMQPConnectionWorkflow`` (default: a new
            ``AMQPConnectionWorkflow``).
        :returns: the workflow, which can be aborted.
        """
        return cls._create_connection_over(_make_nbio(custom_ioloop),
                                           connection_configs, on_done,
                                           workflow)
