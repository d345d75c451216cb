"""Twisted adapter: a pika connection as a Twisted :class:`Protocol`.

Theory of operation
-------------------
Twisted owns the socket. :class:`TwistedProtocolConnection` is the protocol
Twisted's connectors (``ClientCreator``, ``connectTCP``, ``connectSSL``,
endpoints) attach to a transport; it forwards ``makeConnection`` /
``dataReceived`` / ``connectionLost`` to :class:`_TwistedConnectionAdapter`,
a :class:`pika.connection.Connection` whose ``_adapter_*`` methods write to
the Twisted transport and schedule timers on the reactor. The engine is
created with ``internal_connection_workflow=False``: connecting, retries and
TLS belong to Twisted (use ``reactor.connectSSL`` or a TLS endpoint for
AMQPS).

The public objects speak Deferreds:

* ``TwistedProtocolConnection.ready`` fires with the connection once AMQP is
  open (then becomes None); it errbacks with ``AMQPConnectionError`` when
  opening fails. ``closed`` is a Deferred created when the connection opens
  and fired with the close reason.
* ``channel()`` returns a Deferred firing with a :class:`TwistedChannel`.
* Every RPC method of :class:`TwistedChannel` returns a Deferred firing with
  the broker's reply frame; all pending ones errback with the channel's close
  reason when the channel closes, and later calls fail with it at once.
* ``basic_consume`` fires with ``(queue, consumer_tag)`` where ``queue`` is a
  :class:`ClosableDeferredQueue` of :class:`ReceivedMessage`; the queue is
  closed (its ``get()`` errbacks) when the consumer is cancelled or the
  channel closes.
* With publisher confirms enabled, ``basic_publish`` returns a Deferred that
  fires with the ``Basic.Ack`` method, or errbacks with ``NackError`` or
  ``UnroutableError``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Set, Union

from twisted.internet import defer, protocol
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure

import pika.connection
from pika import exceptions
# ClosableDeferredQueue and ReceivedMessage are re-exported: pika defines them
# here.
from pika.adapters._twisted_channel import \
    ClosableDeferredQueue as ClosableDeferredQueue
from pika.adapters._twisted_channel import ReceivedMessage as ReceivedMessage
from pika.adapters._twisted_channel import TwistedChannel as TwistedChannel
from pika.adapters.utils import nbio_interface
from pika.adapters.utils.io_services_utils import check_callback_arg
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import spec  # noqa: F401
from pika.exchange_type import ExchangeType  # noqa: F401

LOGGER = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    # pika exposes the global reactor as ``twisted_connection.reactor``.
    # Importing it eagerly would install the default reactor as a side
    # effect of importing this module, so it is resolved on first access.
    if name == 'reactor':
        from twisted.internet import reactor
        return reactor
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def _default_reactor() -> Any:
    # A reactor set (or patched) as this module's ``reactor`` attribute wins.
    patched = globals().get('reactor')
    if patched is not None:
        return patched
    from twisted.internet import reactor
    return reactor


class _TimerHandle(nbio_interface.AbstractTimerReference):
    """Timer reference over a Twisted ``DelayedCall``."""

    def __init__(self, handle: Any) -> None:
        """
        :param twisted.internet.base.DelayedCall handle: the delayed call.
        """
        self._handle: Any = handle

    def cancel(self) -> None:
        """Cancel the timer; harmless when it already ran or was cancelled."""
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.cancel()
            except (twisted_error.AlreadyCalled,
                    twisted_error.AlreadyCancelled):
                pass


class _TwistedConnectionAdapter(pika.connection.Connection):
    """The protocol engine bound to a Twisted transport and reactor."""

    def __init__(self,
                 parameters: Optional[Any],
                 on_open_callback: Optional[Callable[..., Any]],
                 on_open_error_callback: Optional[Callable[..., Any]],
                 on_close_callback: Optional[Callable[..., Any]],
                 custom_reactor: Any = None) -> None:
        """
        :param pika.connection.Parameters parameters: connection parameters.
        :param callable on_open_callback: ``(connection)`` when open.
        :param callable on_open_error_callback: ``(connection, exc)`` when
            opening fails.
        :param callable on_close_callback: ``(connection, exc)`` when an open
            connection closes.
        :param custom_reactor: the reactor to use (default: the global one).
        """
        self._reactor = custom_reactor or _default_reactor()
        self._transport: Any = None
        self._error: Optional[BaseException] = None
        super().__init__(parameters=parameters,
                         on_open_callback=on_open_callback,
                         on_open_error_callback=on_open_error_callback,
                         on_close_callback=on_close_callback,
                         internal_connection_workflow=False)

    # -- engine -> Twisted -----------------------------------------------------

    def _adapter_connect_stream(self) -> None:
        """Not used: Twisted makes the connection."""
        raise NotImplementedError(
            'Twisted connects the transport; use reactor.connectTCP/SSL')

    def _adapter_disconnect_stream(self) -> None:
        """Close the transport; connectionLost reports completion."""
        if self._transport is not None:
            self._transport.loseConnection()

    def _adapter_call_later(self, delay: float,
                            callback: Callable[[], Any]) -> _TimerHandle:
        """Schedule ``callback`` on the reactor.

        :param float delay: seconds.
        :param callable callback: called without arguments.
        :rtype: _TimerHandle
        """
        check_callback_arg(callback, 'callback')
        return _TimerHandle(self._reactor.callLater(delay, callback))

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer made by :meth:`_adapter_call_later`.

        :param _TimerHandle timeout_id: the timer.
        """
        timeout_id.cancel()

    def _adapter_add_callback_threadsafe(self, callback: Callable[[],
                                                                  Any]) -> None:
        """Run ``callback`` in the reactor thread; callable from any thread.

        :param callable callback: called without arguments.
        """
        check_callback_arg(callback, 'callback')
        self._reactor.callFromThread(callback)

    def _adapter_emit_data(self, data: bytes) -> None:
        """Write ``data`` to the transport.

        :param bytes data: outgoing bytes.
        """
        self._transport.write(data)

    def _adapter_get_write_buffer_size(self) -> int:
        """Bytes written but not yet sent (best effort: Twisted does not
        expose it for every transport).

        :rtype: int
        """
        transport = self._transport
        if transport is None:
            return 0
        size = getattr(transport, '_tempDataLen', 0)
        buffered = getattr(transport, 'dataBuffer', b'')
        offset = getattr(transport, 'offset', 0)
        try:
            size += len(buffered) - offset
        except TypeError:
            pass
        return size

    # -- Twisted -> engine -----------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        """The transport is connected: start the AMQP handshake.

        :param transport: the Twisted transport.
        """
        self._transport = transport
        self._on_stream_connected()

    def connection_lost(self, error: Any) -> None:
        """The transport is gone.

        :param error: the :class:`twisted.python.failure.Failure` (or
            exception) Twisted reported.
        """
        self._transport = None
        if isinstance(error, Failure):
            error = error.value
        # As in pika, Twisted's reason (ConnectionDone, ConnectionLost...)
        # is what the close callbacks report, even after a close the engine
        # started itself: the engine reports ``_error`` when given None.
        self._error = error
        if isinstance(error, twisted_error.ConnectionDone):
            # pika 1.4 reports a clean close to the engine as "no error".
            error = None
        self._on_stream_terminated(error)

    def data_received(self, data: bytes) -> None:
        """Feed received bytes to the engine.

        :param bytes data: received bytes.
        """
        self._on_data_available(data)


class TwistedProtocolConnection(protocol.Protocol):
    """A pika connection usable as a Twisted protocol.

    Example::

        cc = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                    pika.ConnectionParameters())
        d = cc.connectTCP('localhost', 5672)
        d.addCallback(lambda conn: conn.ready)
        d.addCallback(lambda conn: conn.channel())

    ``ready`` fires with the connection once AMQP is open; ``closed`` (set
    when the connection opens) fires with the reason it closed.
    """

    def __init__(self,
                 parameters: Optional[Any] = None,
                 custom_reactor: Any = None) -> None:
        """
        :param pika.connection.Parameters parameters: connection parameters
            (host and port are Twisted's business: they are ignored).
        :param custom_reactor: reactor for the engine's timers (default: the
            global reactor).
        """
        self.ready: Optional[defer.Deferred[Any]] = defer.Deferred()
        self.ready.addCallback(lambda _: self.connectionReady())
        self.closed: Optional[defer.Deferred[Any]] = None
        self._impl = _TwistedConnectionAdapter(
            parameters=parameters,
            on_open_callback=self._on_connection_ready,
            on_open_error_callback=self._on_connection_failed,
            on_close_callback=self._on_connection_closed,
            custom_reactor=custom_reactor)
        self._calls: Set[defer.Deferred[Any]] = set()

    def channel(self,
                channel_number: Optional[int] = None) -> defer.Deferred[Any]:
        """Open a channel.

        :param int channel_number: channel number (None: the next free one).
        :returns: Deferred firing with a :class:`TwistedChannel`.
        :raises pika.exceptions.ConnectionWrongStateError: when the
            connection is not open.
        """
        d: defer.Deferred[Any] = defer.Deferred()
        self._impl.channel(channel_number, d.callback)
        self._calls.add(d)
        d.addCallback(self._clear_call, d)
        return d.addCallback(TwistedChannel)

    @property
    def is_open(self) -> bool:
        """True when the AMQP connection is open."""
        return self._impl.is_open

    @property
    def is_closed(self) -> bool:
        """True when the AMQP connection is closed."""
        return self._impl.is_closed

    def close(
            self,
            reply_code: int = 200,
            reply_text: str = 'Normal shutdown'
    ) -> Optional[defer.Deferred[Any]]:
        """Close the connection.

        :param int reply_code: close code reported to the broker.
        :param str reply_text: close text reported to the broker.
        :returns: the ``closed`` Deferred (None once it has fired).
        """
        if not self._impl.is_closed:
            self._impl.close(reply_code, reply_text)
        return self.closed

    # -- Twisted Protocol ------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted
        """Twisted delivers received bytes.

        :param bytes data: received bytes.
        """
        self._impl.data_received(data)

    def connectionLost(  # noqa: N802 - Twisted
            self,
            reason: Failure = protocol.connectionDone) -> None:
        """Twisted reports that the transport is gone.

        :param twisted.python.failure.Failure reason: why.
        """
        self._impl.connection_lost(reason)
        d, self.ready = self.ready, None
        if d is not None:
            d.errback(reason)

    def makeConnection(self, transport: Any) -> None:  # noqa: N802 - Twisted
        """Twisted attaches the transport: start the AMQP handshake.

        :param transport: the Twisted transport.
        """
        self._impl.connection_made(transport)
        protocol.Protocol.makeConnection(  # type: ignore[no-untyped-call]
            self, transport)

    def connectionReady(  # noqa: N802 - pika name
        self) -> Union[TwistedProtocolConnection, defer.Deferred[Any]]:
        """Called when AMQP is open; override to act then. ``ready`` fires
        with its return value (the connection by default).
        """
        return self

    # -- engine callbacks ------------------------------------------------------

    def _clear_call(self, ret: Any, d: defer.Deferred[Any]) -> Any:
        self._calls.discard(d)
        return ret

    def _on_connection_ready(self, _connection: Any) -> None:
        d, self.ready = self.ready, None
        if d is not None:
            self.closed = defer.Deferred()
            d.callback(None)

    def _on_connection_failed(
            self,
            _connection: Any,
            _error_message: Optional[BaseException] = None) -> None:
        d, self.ready = self.ready, None
        if d is not None:
            attempts = self._impl.params.connection_attempts
            d.errback(exceptions.AMQPConnectionError(attempts))

    def _on_connection_closed(self, _connection: Any,
                              exception: BaseException) -> None:
        calls, self._calls = self._calls, set()
        for d in calls:
            d.errback(exception)
        # pika 1.4 drops ``closed`` once it has fired (it reads None after).
        closed, self.closed = self.closed, None
        if closed is not None and not closed.called:
            # A Failure given to callback() would take the errback path.
            reason: Any = (exception.value
                           if isinstance(exception, Failure) else exception)
            closed.callback(reason)
