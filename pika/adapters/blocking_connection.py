"""The synchronous API: :class:`BlockingConnection` and
:class:`BlockingChannel`.

Theory of operation: a :class:`BlockingConnection` owns a
:class:`~pika.adapters.select_connection.SelectConnection` (``_impl``) with a
private :class:`~pika.adapters.select_connection.IOLoop`. Every blocking call
issues the asynchronous request and then pumps that loop on the caller's
thread, one ``run_once()`` at a time through the
:class:`~pika.adapters.utils.nbio_interface.PumpedLoop` protocol, until its
completion has arrived or the connection has closed; the error that closed
the connection (or, for channel calls, the channel) is raised in the caller.

Rules:

* Asynchronous callbacks from the engine only record results or queue
  events; user callbacks run from :meth:`BlockingConnection.process_data_events`
  (and the loops built on it: ``sleep``, ``start_consuming``, ``consume``),
  never from inside the I/O pump.
* While a user callback runs, nested blocking calls pump I/O but do not
  dispatch further events (no recursion into user code), and
  ``start_consuming`` raises :class:`pika.exceptions.ReentrancyError`.
* One connection belongs to one thread; the only thread-safe method is
  :meth:`BlockingConnection.add_callback_threadsafe`.
"""

import collections
import contextlib
import functools
import logging
import time
from typing import (TYPE_CHECKING, Any, Callable, Deque, Dict, Iterator, List,
                    Optional, Sequence, Set, Union)

from pika import exceptions, frame, spec, validators
from pika.adapters import select_connection
from pika.adapters import _blocking_channel
from pika.adapters._forwarding import forwarded_property
from pika.adapters._blocking_events import ReturnedMessage as ReturnedMessage
from pika.adapters._blocking_events import (
    _CallbackResult, _ConnectionBlockedEvt, _ConnectionUnblockedEvt,
    _ConsumerCancellationEvt, _ConsumerDeliveryEvt, _ConsumerInfo,
    _QueueConsumerGeneratorInfo, _ReturnedMessageEvt, _TimerEvt)
from pika.adapters.utils import connection_workflow, nbio_interface
from pika.parameters import ConnectionParameters, Parameters
from pika import _recovery_blocking
from pika.recovery import RecoveryConfig, RecoveryState
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import compat  # noqa: F401
from pika.exchange_type import ExchangeType  # noqa: F401

# Names that code written for pika reaches into; kept importable from here.
_PRIVATE_REEXPORTS = (_ConsumerCancellationEvt, _ConsumerDeliveryEvt,
                      _ConsumerInfo, _QueueConsumerGeneratorInfo,
                      _ReturnedMessageEvt, _CallbackResult)

LOGGER = logging.getLogger(__name__)

if TYPE_CHECKING:

    class BlockingChannel(_blocking_channel.BlockingChannel):
        """For type checkers only: :class:`BlockingChannel` named under
        this module, where users import it (at run time this name is the
        class itself, whose ``__module__`` is this module already)."""
else:
    BlockingChannel = _blocking_channel.BlockingChannel

_monotonic = time.monotonic


class _IoloopTimerContext:
    """Context manager running an ioloop timer that marks itself ready.

    :param float duration: seconds until ready
    :param connection: the asynchronous connection that owns the timer
    """

    __slots__ = ('_duration', '_connection', '_ready', '_handle')

    def __init__(self, duration: float, connection: Any) -> None:
        self._duration = duration
        self._connection = connection
        self._ready = False
        self._handle: Any = None

    def __enter__(self) -> '_IoloopTimerContext':
        self._handle = self._connection._adapter_call_later(
            self._duration, self._on_timer)
        return self

    def __exit__(self, *_args: Any) -> None:
        if not self._ready:
            self._connection._adapter_remove_timeout(self._handle)
        self._handle = None

    def _on_timer(self) -> None:
        self._ready = True

    def is_ready(self) -> bool:
        """True once the timer has fired."""
        return self._ready


def _check_time_value(value: Any,
                      name: str,
                      value_error: type = ValueError) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError('%s must be a number, but got %r' % (name, value))
    if value < 0:
        if name in ('delay', 'time_limit'):
            # pika 1.4's wording (both go through its call_later)
            raise ValueError(
                'call_later: delay must be non-negative, but got %r%s' %
                (value,
                 '' if name == 'delay' else ' (%s must be a number >= 0)' %
                 (name,)))
        raise value_error('%s must be non-negative, but got %r' % (name, value))


class BlockingConnection:
    """A synchronous connection to RabbitMQ, driven on the calling thread.

    Use one connection per thread; only :meth:`add_callback_threadsafe` may
    be called from other threads. Errors that close the connection are
    raised from whichever blocking call is waiting when they happen
    (:class:`pika.exceptions.ConnectionClosedByBroker`,
    :class:`pika.exceptions.StreamLostError`,
    :class:`pika.exceptions.AMQPHeartbeatTimeout`,
    :class:`pika.exceptions.ConnectionBlockedTimeout`, ...).

    Example::

        with pika.BlockingConnection(pika.ConnectionParameters()) as conn:
            channel = conn.channel()
            channel.basic_publish('', 'queue', b'body')

    :param parameters: a :class:`pika.connection.Parameters` instance, a
        non-empty sequence of them (tried in order), or None for the
        defaults
    :param _impl_class: the asynchronous connection class to drive (for
        tests); defaults to
        :class:`~pika.adapters.select_connection.SelectConnection`
    :param recovery: a :class:`pika.recovery.RecoveryConfig` to recover
        automatically from connection losses (see :mod:`pika.recovery`);
        None (the default) behaves as pika 1.4
    :raises pika.exceptions.AMQPConnectionError: if the connection cannot be
        opened (a subclass such as
        :class:`pika.exceptions.ProbableAuthenticationError` when the cause
        is known)
    """

    def __init__(self,
                 parameters: Union[Parameters, Sequence[Parameters],
                                   None] = None,
                 _impl_class: Optional[type] = None,
                 recovery: Optional[RecoveryConfig] = None) -> None:
        # Connection-level events (timers, thread-safe callbacks,
        # blocked/unblocked notices) ready for dispatch.
        self._ready_events: Deque[Any] = collections.deque()
        # Channels whose _pending_events need dispatching.
        self._channels_pending_dispatch: Set[BlockingChannel] = set()
        # Open BlockingChannels by channel number.
        self._channels: Dict[int, BlockingChannel] = {}
        # > 0 while a user callback dispatched by us runs.
        self._event_dispatch_suspend_depth = 0
        # (connection, error) once the connection has closed.
        self._closed_result = _CallbackResult()
        self._user_initiated_close = False
        self._close_reported = False
        # recovery hook: the driver of automatic recovery, or None
        self._recovery: Optional[_recovery_blocking.BlockingRecovery] = None
        if recovery is not None and not isinstance(recovery, RecoveryConfig):
            raise TypeError('recovery must be a pika.recovery.RecoveryConfig '
                            'or None, but got %r' % (recovery,))

        self._impl = self._create_connection(parameters, _impl_class)
        self._impl.add_on_close_callback(self._closed_result.set_value_once)
        # The private loop, driven only through nbio_interface.PumpedLoop;
        # its methods fetched once: the pump runs on every call.
        self._ioloop: nbio_interface.PumpedLoop = self._impl.ioloop
        self._run_once = self._ioloop.run_once
        self._run_ready_callbacks = self._ioloop.run_ready_callbacks
        if recovery is not None:
            self._recovery = _recovery_blocking.BlockingRecovery(
                self, recovery, self._normalize_parameters(parameters),
                _impl_class or select_connection.SelectConnection)

    def __repr__(self) -> str:
        return '<%s impl=%r>' % (type(self).__name__, self._impl)

    def __enter__(self) -> 'BlockingConnection':
        return self

    def __exit__(self, exc_type: Any, value: Any, traceback: Any) -> None:
        if self.is_open:
            self.close()

    # -- opening ------------------------------------------------------------

    @staticmethod
    def _normalize_parameters(parameters: Any) -> List[Parameters]:
        if parameters is None:
            return [ConnectionParameters()]
        if isinstance(parameters, Parameters):
            return [parameters]
        if isinstance(parameters,
                      (str, bytes)) or not hasattr(parameters, '__iter__'):
            raise TypeError(
                'parameters must be a pika.connection.Parameters instance or '
                'a sequence of them, but got %r' % (parameters,))
        configs = list(parameters)
        if not configs:
            raise ValueError('Expected a non-empty sequence of connection '
                             'parameters, but got %r.' % (parameters,))
        for config in configs:
            if not isinstance(config, Parameters):
                raise TypeError('Expected a sequence of '
                                'pika.connection.Parameters instances, but '
                                'got %r' % (config,))
        return configs

    def _create_connection(self, parameters: Any,
                           impl_class: Optional[type]) -> Any:
        """Run the connection workflow on a private ioloop; return the open
        asynchronous connection or raise why it could not be opened.
        """
        configs = self._normalize_parameters(parameters)
        if impl_class is None:
            impl_class = select_connection.SelectConnection
        ioloop = select_connection.IOLoop()
        ioloop.activate_poller()
        result = _CallbackResult()
        try:
            impl_class.create_connection(  # type: ignore[attr-defined]
                configs,
                on_done=result.set_value_once,
                custom_ioloop=ioloop)
            while not result.is_ready():
                ioloop.run_once()
        except BaseException:
            ioloop.close()
            raise
        assert result.value is not None
        outcome = result.value[0]
        if isinstance(outcome, BaseException):
            ioloop.close()
            raise self._translate_open_error(outcome)
        return outcome

    @staticmethod
    def _translate_open_error(error: BaseException) -> BaseException:
        if isinstance(error, connection_workflow.AMQPConnectionWorkflowFailed):
            failures = getattr(error, 'exceptions', None)
            if failures:
                error = failures[-1]
        # As pika 1.4: the handshake's or the TLS set-up's own error, a stack
        # timeout or a name-resolution error (e.g. socket.gaierror) as they
        # are; a failed TCP connect wrapped in AMQPConnectionError.
        if isinstance(error,
                      (connection_workflow.AMQPConnectorAMQPHandshakeError,
                       connection_workflow.AMQPConnectorTransportSetupError)):
            error = error.exception
        if isinstance(error, (exceptions.AMQPConnectionError,
                              connection_workflow.AMQPConnectorStackTimeout)):
            return error
        if not isinstance(error, connection_workflow.AMQPConnectorException):
            return error
        return exceptions.AMQPConnectionError(error)

    # -- the I/O pump ---------------------------------------------------------

    def _wait_until(self, done: Callable[[], Any]) -> None:
        """Pump I/O until ``done()`` is true or the connection closes; then
        raise the close reason if the connection closed and the user did not
        ask for it. The hot path of every round trip: for channel calls
        ``done`` also covers the channel's close.

        :param callable done: returns true when the wait is over
        """
        closed = self._closed_result
        if not (closed._ready or done()):
            # The queued callbacks (the transport's flush of the request
            # just written) first: the request leaves without a zero-timeout
            # poll before the wait for its reply.
            self._run_ready_callbacks()
            run_once = self._run_once
            while not (closed._ready or done()):
                run_once()
        if closed._ready:
            self._on_impl_closed()

    def _wait_for_reply(self, done: Callable[[], Any]) -> None:
        """:meth:`_wait_until` right after a request was written, when
        ``done()`` cannot be true yet (its reply has not been read): one
        check fewer per round trip.

        :param callable done: returns true when the wait is over
        """
        closed = self._closed_result
        if not closed._ready:
            # The queued callbacks (the transport's flush of the request
            # just written) first: the request leaves without a zero-timeout
            # poll before the wait for its reply.
            self._run_ready_callbacks()
            run_once = self._run_once
            while not (closed._ready or done()):
                run_once()
        if closed._ready:
            self._on_impl_closed()

    def _flush_output(self, *waiters: Callable[[], Any]) -> None:
        """Pump I/O until a waiter is satisfied (with no waiters: until the
        output is written) or the connection closes; then raise the close
        reason if the connection closed and the user did not ask for it.

        :param waiters: callables returning true when done
        """
        if len(waiters) == 1:
            self._wait_until(waiters[0])
            return
        closed = self._closed_result
        if waiters:

            def is_done() -> bool:
                if closed._ready:
                    return True
                for waiter in waiters:
                    if waiter():
                        return True
                return False
        else:
            buffered = self._impl._adapter_get_write_buffer_size

            def is_done() -> bool:
                return closed._ready or not buffered()

        self._wait_until(is_done)

    def _flush_published(self) -> None:
        """After a fire-and-forget send (publish, ack): pump I/O once without
        waiting, so that the bytes leave and whatever the broker sent
        meanwhile (a Channel.Close, Connection.Blocked...) is seen now, as
        pika does; wait only if the socket cannot take the bytes yet.
        """
        self._run_once(0.0)
        if self._closed_result._ready:
            self._on_impl_closed()
        elif self._impl._adapter_get_write_buffer_size():
            self._flush_output()

    def _on_impl_closed(self) -> None:
        """The asynchronous connection has closed: release resources and
        raise the reason unless the user closed it.
        """
        assert self._closed_result.value is not None
        if self._recovery is not None:
            # recovery hook: raises ConnectionRecovering for a recovered loss
            self._recovery.on_connection_closed()
        error = self._closed_result.value[1]
        first_report = not self._close_reported
        if first_report:
            self._close_reported = True
            self._cleanup()
        if self._user_initiated_close and isinstance(
                error, exceptions.ConnectionClosedByClient):
            return
        if first_report:
            LOGGER.debug('Connection closed: %r', error)
        if isinstance(error, BaseException):
            raise error
        raise exceptions.ConnectionClosed(0, repr(error))

    def _cleanup(self) -> None:
        self._ready_events.clear()
        self._channels_pending_dispatch.clear()
        for channel in list(self._channels.values()):
            channel._cleanup()
        self._channels.clear()
        try:
            self._ioloop.close()
        except Exception as error:  # noqa: BLE001 - already closing
            LOGGER.debug('ioloop close failed: %r', error)

    def _raise_if_loop_closed(self) -> None:
        recovery = self._recovery
        if recovery is not None and recovery.coordinator.is_recovering:
            return  # recovery hook: the loop lives on while recovering
        if self._close_reported:
            # Matches pika 1.4: the private ioloop is gone.
            raise ValueError('Timeout closed before call')
        if self._closed_result.is_ready():
            self._on_impl_closed()

    # -- dispatch -------------------------------------------------------------

    @contextlib.contextmanager
    def _acquire_event_dispatch(self) -> Iterator[bool]:
        """Yield True if this (outermost) caller may dispatch events."""
        dispatch_allowed = self._event_dispatch_suspend_depth == 0
        self._event_dispatch_suspend_depth += 1
        try:
            yield dispatch_allowed
        finally:
            self._event_dispatch_suspend_depth -= 1

    def _channel_dispatch_requester(self) -> Callable[[BlockingChannel], None]:
        """The function a channel calls with itself when it has events to
        dispatch: the pending set's own ``add``, so a delivery costs no
        extra call.
        """
        return self._channels_pending_dispatch.add

    def _dispatch_channel_events(self) -> None:
        pending = self._channels_pending_dispatch
        candidates = sorted(pending, key=_channel_number_of)
        pending.clear()
        for index, channel in enumerate(candidates):
            try:
                channel._dispatch_events()
            except BaseException:
                # A user callback raised: the channels not reached yet keep
                # their turn for the next dispatch.
                pending.update(candidates[index + 1:])
                raise

    def _dispatch_connection_events(self) -> None:
        ready = self._ready_events
        # Only what is ready now: callbacks that schedule more callbacks
        # must not keep us here forever.
        for _ in range(len(ready)):
            if not ready:
                break
            ready.popleft().dispatch()

    def _process_data_events(self, time_limit: Optional[float], *extra_waiters:
                             Callable[[], Any]) -> None:
        """``process_data_events`` that also returns early once one of
        ``extra_waiters`` is satisfied.
        """
        if self._recovery is not None:
            # recovery hook: recover within the time limit on a loss
            self._recovery.process_data_events(self._process_io_events,
                                               time_limit, extra_waiters)
            return
        self._process_io_events(time_limit, *extra_waiters)

    def _process_io_events(self, time_limit: Optional[float], *extra_waiters:
                           Callable[[], Any]) -> None:
        with self._acquire_event_dispatch() as dispatch_allowed:
            ready_events = self._ready_events
            pending_channels = self._channels_pending_dispatch

            def has_events() -> bool:
                return dispatch_allowed and bool(pending_channels or
                                                 ready_events)

            if time_limit is None:
                self._flush_output(has_events, *extra_waiters)
            else:
                with _IoloopTimerContext(time_limit, self._impl) as timer:
                    self._flush_output(timer.is_ready, has_events,
                                       *extra_waiters)
            if dispatch_allowed:
                # Timers and other connection events first, as pika does.
                if ready_events:
                    self._dispatch_connection_events()
                if pending_channels:
                    self._dispatch_channel_events()

    # -- public API -------------------------------------------------------

    def add_on_connection_blocked_callback(
        self, callback: Callable[
            ['BlockingConnection', 'frame.Method[spec.Connection.Blocked]'],
            object]
    ) -> None:
        """Call ``callback(connection, method_frame)`` when RabbitMQ sends
        ``Connection.Blocked`` (resources are low; publishing is paused).
        See also the ``blocked_connection_timeout`` connection parameter.

        :param callable callback: ``callback(connection, method_frame)``
            with this :class:`BlockingConnection` and a
            :class:`pika.frame.Method` carrying
            :class:`pika.spec.Connection.Blocked`
        """
        validators.require_callback(callback)
        user_callback = functools.partial(callback, self)

        def on_blocked(_connection: Any, method_frame: Any) -> None:
            self._ready_events.append(
                _ConnectionBlockedEvt(user_callback, method_frame))

        self._impl.add_on_connection_blocked_callback(on_blocked)

    def add_on_connection_unblocked_callback(
        self, callback: Callable[
            ['BlockingConnection', 'frame.Method[spec.Connection.Unblocked]'],
            object]
    ) -> None:
        """Call ``callback(connection, method_frame)`` when RabbitMQ sends
        ``Connection.Unblocked``.

        :param callable callback: ``callback(connection, method_frame)``
            with this :class:`BlockingConnection` and a
            :class:`pika.frame.Method` carrying
            :class:`pika.spec.Connection.Unblocked`
        """
        validators.require_callback(callback)
        user_callback = functools.partial(callback, self)

        def on_unblocked(_connection: Any, method_frame: Any) -> None:
            self._ready_events.append(
                _ConnectionUnblockedEvt(user_callback, method_frame))

        self._impl.add_on_connection_unblocked_callback(on_unblocked)

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Any:
        """Run ``callback()`` once, ``delay`` seconds from now, from a later
        :meth:`process_data_events` (or ``sleep``, ``start_consuming``,
        ``consume``) on this thread.

        :param float delay: seconds, non-negative
        :param callable callback: called without arguments
        :returns: an opaque timer id for :meth:`remove_timeout`
        """
        validators.require_callback(callback)
        _check_time_value(delay, 'delay')
        if self._close_reported:
            raise ValueError('Timeout closed before call')
        evt = _TimerEvt(callback=callback)
        timer_id = self._impl._adapter_call_later(
            delay, functools.partial(self._on_timer_ready, evt))
        evt.timer_id = timer_id
        return timer_id

    def _on_timer_ready(self, evt: _TimerEvt) -> None:
        self._ready_events.append(evt)

    def remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer made by :meth:`call_later` (also one that fired but
        whose callback has not run yet).

        :param timeout_id: the value :meth:`call_later` returned
        """
        if timeout_id is None:
            raise TypeError('timeout_id must be a timer id returned by '
                            'call_later, but got None')
        if not self._close_reported:
            self._impl._adapter_remove_timeout(timeout_id)
        for evt in self._ready_events:
            if type(evt) is _TimerEvt and evt.timer_id is timeout_id:
                self._ready_events.remove(evt)
                break

    def add_callback_threadsafe(self, callback: Callable[[], Any]) -> None:
        """Ask this connection's thread to run ``callback()``; the only
        method that may be called from another thread. The callback runs
        from the connection thread's next :meth:`process_data_events` (or
        ``sleep``, ``start_consuming``, ``consume``), which it wakes up.

        Example: a worker thread acknowledging a message::

            connection.add_callback_threadsafe(
                functools.partial(channel.basic_ack, delivery_tag))

        :param callable callback: called without arguments
        :raises pika.exceptions.ConnectionWrongStateError: if the connection
            is closed or closing
        """
        validators.require_callback(callback)
        if self.is_closed or self._impl.is_closing:
            raise exceptions.ConnectionWrongStateError(
                'BlockingConnection.add_callback_threadsafe() called on '
                'closed or closing connection.')
        self._impl._adapter_add_callback_threadsafe(
            functools.partial(self._on_threadsafe_callback, callback))

    def _on_threadsafe_callback(self, user_callback: Callable[[], Any]) -> None:
        # Through a zero-delay timer, so that it is ordered with timers that
        # are already due, as in pika.
        if not self._close_reported and not self._impl.is_closed:
            self.call_later(0, user_callback)

    def close(self,
              reply_code: int = 200,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the open channels, then the connection, and wait until it is
        closed.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        :raises pika.exceptions.ConnectionWrongStateError: if already closed
        """
        if self.is_closed:
            LOGGER.debug('close() called on closed connection')
            raise exceptions.ConnectionWrongStateError(
                'BlockingConnection.close({}, {!r}) called on closed '
                'connection.'.format(reply_code, reply_text))
        if not isinstance(reply_code, int) or isinstance(reply_code, bool):
            raise TypeError('reply_code must be an int, but got %r' %
                            (reply_code,))
        if not isinstance(reply_text, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'reply_text must be a str or unicode str, but got %r' %
                (reply_text,))
        LOGGER.info('Closing connection (%s): %r', reply_code, reply_text)
        self._user_initiated_close = True
        for channel in list(self._channels.values()):
            if channel.is_open:
                try:
                    channel.close(reply_code, reply_text)
                except exceptions.ChannelClosed as error:
                    LOGGER.debug('channel close failed: %r', error)
        if not self._impl.is_closed:
            if not self._impl.is_closing:
                self._impl.close(reply_code, reply_text)
            self._flush_output(self._closed_result.is_ready)
        elif not self._close_reported:
            self._flush_output(self._closed_result.is_ready)

    def process_data_events(self, time_limit: Optional[float] = 0) -> None:
        """Do I/O and dispatch ready callbacks (consumer deliveries, returned
        messages, broker cancellations, timers, thread-safe callbacks,
        blocked/unblocked notices).

        Returns once events were dispatched or ``time_limit`` has passed,
        whichever comes first. Inside a callback that this connection
        dispatched, it only does I/O (it never calls user callbacks
        recursively).

        :param time_limit: upper bound in seconds; 0 polls once without
            waiting; None waits until something can be dispatched
        """
        if time_limit is not None:
            _check_time_value(time_limit, 'time_limit')
        self._raise_if_loop_closed()
        self._process_data_events(time_limit)

    def sleep(self, duration: float) -> None:
        """Wait ``duration`` seconds while doing I/O and dispatching
        callbacks as :meth:`process_data_events` does. Use this rather than
        ``time.sleep()`` so that heartbeats keep flowing.

        :param float duration: seconds, non-negative
        """
        # pika 1.4 asserts a non-negative duration.
        _check_time_value(duration, 'duration', exceptions._ArgumentValueError)
        self._raise_if_loop_closed()
        deadline = _monotonic() + duration
        time_limit = duration
        while True:
            self._process_data_events(time_limit)
            time_limit = deadline - _monotonic()
            if time_limit <= 0:
                break

    def channel(self, channel_number: Optional[int] = None) -> BlockingChannel:
        """Open a channel and wait until it is open.

        :param int channel_number: the channel number to use; None picks the
            next free one
        :rtype: BlockingChannel
        """
        opened = _CallbackResult()
        impl_channel = self._impl.channel(channel_number=channel_number,
                                          on_open_callback=opened.signal_once)
        channel = BlockingChannel(impl_channel, self)
        self._channels[impl_channel.channel_number] = channel
        if self._recovery is not None:
            self._recovery.adopt_channel(channel)  # recovery hook
        channel._flush_output(opened.is_ready)
        return channel

    def _on_channel_closed(self, channel: BlockingChannel) -> None:
        if self._channels.get(channel.channel_number) is channel:
            del self._channels[channel.channel_number]
        self._channels_pending_dispatch.discard(channel)

    def update_secret(self, new_secret: str, reason: str) -> None:
        """Send ``Connection.UpdateSecret`` (e.g. a refreshed OAuth token)
        and wait for the broker's answer.

        :param str new_secret: the new secret
        :param str reason: why it is being updated
        """
        result = _CallbackResult()
        self._impl.update_secret(new_secret,
                                 reason,
                                 callback=result.signal_once)
        self._flush_output(result.is_ready)

    # -- automatic recovery (pika.recovery) ----------------------------------

    def _require_recovery(self) -> '_recovery_blocking.BlockingRecovery':
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
            self, callback: Callable[['BlockingConnection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` when a loss is detected and
        recovery starts.

        :param callable callback: receives this connection and the loss
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.started_listeners.add(callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[['BlockingConnection', List[Any]],
                                     Any]) -> None:
        """Call ``callback(connection, skipped)`` once the connection, its
        channels and topology are restored; ``skipped`` lists the
        :class:`pika.recovery.TopologyRecoveryEntity` objects that could not
        be.

        :param callable callback: receives this connection and the list
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.succeeded_listeners.add(callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[['BlockingConnection', BaseException],
                                     Any]) -> None:
        """Call ``callback(connection, error)`` when recovery gives up
        (``max_attempts`` reached); the connection is then closed.

        :param callable callback: receives this connection and the last
            attempt's error
        :raises ValueError: without ``recovery=``
        """
        self._require_recovery().coordinator.failed_listeners.add(callback)

    def wait_for_recovery(self, timeout: Optional[float] = None) -> bool:
        """While recovering: do the recovery's work (backoff, attempts) for
        up to ``timeout`` seconds. Returns True if the connection is usable
        afterwards (recovered or never lost).

        :param float timeout: seconds; None waits until recovered or failed
        :raises ValueError: without ``recovery=``
        """
        if timeout is not None:
            _check_time_value(timeout, 'timeout')
        return self._require_recovery().wait(timeout)

    def current_queue_name(self, queue: str) -> str:
        """The name ``queue`` has now: a server-named queue gets a new name
        when recovery declares it again; other names are returned as is.

        :param str queue: a queue name the application received earlier
        :raises ValueError: without ``recovery=``
        """
        return self._require_recovery().ledger.current_queue_name(queue)

    # -- state and capabilities ---------------------------------------------

    is_closed = forwarded_property('_impl.is_closed',
                                   'True once the connection is closed.', bool)
    is_open = forwarded_property('_impl.is_open',
                                 'True while the connection is open.', bool)
    basic_nack_supported = forwarded_property(
        '_impl.basic_nack', 'True if the broker supports ``Basic.Nack``.', bool)
    consumer_cancel_notify_supported = forwarded_property(
        '_impl.consumer_cancel_notify',
        'True if the broker tells consumers when it cancels them.', bool)
    exchange_exchange_bindings_supported = forwarded_property(
        '_impl.exchange_exchange_bindings',
        'True if the broker supports exchange-to-exchange bindings.', bool)
    publisher_confirms_supported = forwarded_property(
        '_impl.publisher_confirms',
        'True if the broker supports publisher confirms.', bool)
    # pika 0.x names, kept by pika 1.4.
    basic_nack = forwarded_property('_impl.basic_nack',
                                    'Same as :attr:`basic_nack_supported`.',
                                    bool)
    consumer_cancel_notify = forwarded_property(
        '_impl.consumer_cancel_notify',
        'Same as :attr:`consumer_cancel_notify_supported`.', bool)
    exchange_exchange_bindings = forwarded_property(
        '_impl.exchange_exchange_bindings',
        'Same as :attr:`exchange_exchange_bindings_supported`.', bool)
    publisher_confirms = forwarded_property(
        '_impl.publisher_confirms',
        'Same as :attr:`publisher_confirms_supported`.', bool)


def _channel_number_of(channel: BlockingChannel) -> int:
    return channel.channel_number
