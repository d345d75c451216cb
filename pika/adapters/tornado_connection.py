"""Tornado adapter: a pika connection on a Tornado ``IOLoop``.

A Tornado ``IOLoop`` already offers the selector-style loop protocol
(``add_handler``, ``update_handler``, ``call_later``... with its own
READ/WRITE/ERROR bits), so the generic :class:`SelectorIOServicesAdapter`
runs directly on it. ``connection.ioloop`` is the Tornado ``IOLoop`` itself,
as in pika.
"""

import logging
from typing import Any, Callable, Optional, Sequence, Union

from tornado import ioloop

from pika.adapters.base_connection import _recovery_kwargs
from pika.recovery import RecoveryConfig
from pika.adapters import base_connection
from pika.adapters.utils import nbio_interface, selector_ioloop_adapter

LOGGER = logging.getLogger(__name__)


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
                 internal_connection_workflow: bool = True,
                 recovery: Optional[RecoveryConfig] = None) -> None:
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
        :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
            automatically from connection losses (see :doc:`/recovery`);
            None (default) for pika 1.4's behaviour.
        """
        super().__init__(
            parameters,
            on_open_callback,
            on_open_error_callback,
            on_close_callback,
            _make_nbio(custom_ioloop),
            internal_connection_workflow=internal_connection_workflow,
            # (only when given: the call stays pika 1.4's without it)
            **_recovery_kwargs(recovery))

    @classmethod
    def create_connection(cls,
                          connection_configs: Sequence[Any],
                          on_done: Callable[[Any], Any],
                          custom_ioloop: Optional[Any] = None,
                          workflow: Optional[Any] = None,
                          recovery: Optional[RecoveryConfig] = None) -> Any:
        """Connect on a Tornado loop, trying each configuration in turn (the
        arguments of :meth:`BaseConnection.create_connection`;
        ``custom_ioloop`` as for :class:`TornadoConnection`).

        :returns: the workflow, which can be aborted.
        """
        return cls._create_connection_over(_make_nbio(custom_ioloop),
                                           connection_configs, on_done,
                                           workflow, recovery)
