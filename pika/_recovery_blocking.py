"""Automatic recovery for :class:`pika.adapters.blocking_connection.
BlockingConnection` (``BlockingConnection(params, recovery=RecoveryConfig())``).

Theory of operation: the blocking connection runs its private ioloop only
while a blocking call pumps it, so recovery runs the same way. The loss is
seen inside whatever call is pumping: the channels' and the connection's
close callbacks hand the :class:`~pika.recovery.RecoveryCoordinator` the
reason; if it is a recoverable loss the state becomes ``RECONNECTING``, each
``BlockingChannel`` (and the connection) gets a stand-in ``_impl`` that
refuses calls with :class:`pika.exceptions.ConnectionRecovering` (or waits up
to ``wait_timeout``), and the interrupted call raises
``ConnectionRecovering`` (a publish awaiting its confirmation raises
:class:`pika.exceptions.ConfirmationLost`, or is published again with
``republish_unconfirmed``). ``process_data_events``, ``sleep``,
``start_consuming``, ``consume`` and :meth:`BlockingRecovery.wait` drive the
recovery: they pump the ioloop through the backoff (user timers keep
firing), make the attempts, and go on with their own work once recovered.

An attempt opens a new asynchronous connection on the same ioloop over the
whole host sequence, reopens every channel with its old number and swaps it
in as the ``BlockingChannel``'s ``_impl``, then restores QoS, confirm mode,
exchanges, queues, bindings (these three on a scratch channel, so that a
declaration the broker refuses only costs that channel) and consumers.

Delivery tags: after the n-th recovery a channel's tags, as the application
sees them, are the broker's plus ``n << 40``, so a tag from before a loss can
never be mistaken for a new one; ack/nack/reject of an old tag is dropped
(logged once per channel and recovery) because the broker has requeued that
message already.

The per-channel hooks (ledger recording, tag translation, confirm loss) are
installed on each channel instance when it is created, so a connection
without ``recovery=`` runs none of this code.
"""

import functools
import logging
import time
from typing import Any, Callable, List, Optional, Sequence

from pika import exceptions
from pika._recovery_blocking_hooks import ChannelHooks
from pika.adapters._blocking_events import (_CallbackResult,
                                            _ConsumerDeliveryEvt, _ConsumerInfo)
from pika.recovery import (DeadPeerWatch, RecoveryConfig, RecoveryCoordinator,
                           RecoveryState, TopologyRecoveryEntity,
                           StaleTagFilter, TAG_GENERATION_SHIFT,
                           TopologyRecoveryMode, TopologyRestorer,
                           is_recoverable_loss)

LOGGER = logging.getLogger('pika.recovery')

_monotonic = time.monotonic


class _AttemptFailed(Exception):
    """A recovery attempt lost its new connection."""


class _RecoveringImpl:
    """Stands in for the asynchronous connection or channel while
    recovering: neither open nor closed; every other attribute is a call that
    waits for recovery (``wait_timeout``) or raises ``ConnectionRecovering``,
    then goes to the object that replaced this one.

    :param BlockingRecovery recovery: the recovery driver
    :param previous: the closed asynchronous object this one replaces
    :param current: returns the object calls go to once recovered
    """

    is_open = False
    is_closed = False
    is_closing = False

    def __init__(self, recovery: 'BlockingRecovery', previous: Any,
                 current: Callable[[], Any]) -> None:
        self._recovery = recovery
        self.previous = previous
        self._current = current

    @property
    def channel_number(self) -> Any:
        """The replaced channel's number."""
        return self.previous.channel_number

    @property
    def ioloop(self) -> Any:
        """The connection's ioloop (the same across recoveries)."""
        return self.previous.ioloop

    def __repr__(self) -> str:
        return '<recovering %r>' % (self.previous,)

    # Timers and thread-safe callbacks keep working while recovering: they
    # live on the ioloop, which outlives the connection.
    def _adapter_call_later(self, delay: float, callback: Any) -> Any:
        return self.previous._adapter_call_later(delay, callback)

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        self.previous._adapter_remove_timeout(timeout_id)

    def _adapter_add_callback_threadsafe(self, callback: Any) -> None:
        self.previous._adapter_add_callback_threadsafe(callback)

    def _adapter_get_write_buffer_size(self) -> int:
        return 0

    def close(self, *args: Any, **kwargs: Any) -> Any:
        """Closing while recovering: the connection stops recovering; a
        channel is simply not restored."""
        return self._recovery._close_while_recovering(self, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._recovery.wait_or_raise()
            current = self._current()
            if current is self:
                raise exceptions.ChannelWrongStateError('Channel is closed.')
            return getattr(current, name)(*args, **kwargs)

        return call


class BlockingRecovery:
    """Recovery driver of one :class:`BlockingConnection`.

    :param connection: the BlockingConnection
    :param RecoveryConfig config: the configuration
    :param list configs: the connection parameters (the host sequence)
    :param impl_class: the asynchronous connection class
    """

    def __init__(self, connection: Any, config: RecoveryConfig,
                 configs: Sequence[Any], impl_class: Any) -> None:
        self.coordinator = RecoveryCoordinator(config, connection)
        self.config = config
        self.ledger = self.coordinator.ledger
        self._conn = connection
        self._configs = list(configs)
        self._impl_class = impl_class
        self._restoring = False
        # connection-level callbacks to register again on a new connection
        self._blocked_callbacks: List[Any] = []
        self._unblocked_callbacks: List[Any] = []
        self._stale_tags = StaleTagFilter()
        self._dead_peer: Optional[DeadPeerWatch] = None
        self._attach_impl(connection._impl)

    # -- state ---------------------------------------------------------------

    @property
    def state(self) -> RecoveryState:
        """The coordinator's state."""
        return self.coordinator.state

    @property
    def _tag_base(self) -> int:
        # While recovering, the channels being restored already belong to
        # the next generation (their deliveries arrive before the attempt
        # is over).
        generation = self.coordinator.recoveries
        if self.coordinator.is_recovering:
            generation += 1
        return generation << TAG_GENERATION_SHIFT

    # -- the new connection ------------------------------------------------

    def _attach_impl(self, impl: Any) -> None:
        """Start watching a (new) asynchronous connection."""
        original_blocked = impl.add_on_connection_blocked_callback
        original_unblocked = impl.add_on_connection_unblocked_callback

        def add_blocked(callback: Any) -> None:
            self._blocked_callbacks.append(callback)
            original_blocked(callback)

        def add_unblocked(callback: Any) -> None:
            self._unblocked_callbacks.append(callback)
            original_unblocked(callback)

        impl.add_on_connection_blocked_callback = add_blocked
        impl.add_on_connection_unblocked_callback = add_unblocked
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None
        heartbeat = getattr(impl.params, 'heartbeat', None)
        if self.config.fast_dead_peer_detection and heartbeat:
            self._dead_peer = DeadPeerWatch(impl, heartbeat)

    # -- loss ------------------------------------------------------------------

    def on_channel_closed(self, channel: Any, reason: Any) -> bool:
        """Hook of ``BlockingChannel._on_channel_closed``: True if recovery
        takes the channel over (it must then not clean up)."""
        if self._restoring and channel._impl is not None:
            # A restore step the broker refused closed it; the attempt
            # reopens it.
            return True
        if (not getattr(channel, '_recovery_user_closed', False) and
                not self._conn._user_initiated_close and
                is_recoverable_loss(reason) and
                self.coordinator.connection_lost(reason)):
            self._suspend_channel(channel)
            self._suspend_connection()
            return True
        self.ledger.forget_channel(channel.channel_number)
        return False

    def on_connection_closed(self) -> None:
        """Hook of ``BlockingConnection._on_impl_closed``: raise
        ``ConnectionRecovering`` if this loss is being recovered."""
        if self._conn._user_initiated_close:
            return
        if not self.coordinator.is_recovering:
            assert self._conn._closed_result.value is not None
            error = self._conn._closed_result.value[1]
            if not self.coordinator.connection_lost(error):
                return
            self._suspend_connection()
        raise self.coordinator.recovering_error()

    def _suspend_channel(self, channel: Any) -> None:
        if isinstance(channel._impl, _RecoveringImpl):
            return
        channel._impl = _RecoveringImpl(
            self, channel._impl, functools.partial(getattr, channel, '_impl'))
        # Deliveries of manual-ack consumers that were not dispatched yet
        # are requeued by the broker and come again; their tags are dead.
        infos = channel._consumer_infos
        for source in (channel._pending_events,
                       getattr(channel._queue_consumer_generator,
                               'pending_events', None)):
            if not source:
                continue
            kept = [
                evt for evt in source
                if type(evt) is not _ConsumerDeliveryEvt or
                getattr(infos.get(evt.method.consumer_tag), 'auto_ack', False)
            ]
            if len(kept) != len(source):
                source.clear()
                source.extend(kept)

    def _suspend_connection(self) -> None:
        conn = self._conn
        if isinstance(conn._impl, _RecoveringImpl):
            return
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None
        conn._impl = _RecoveringImpl(self, conn._impl,
                                     functools.partial(getattr, conn, '_impl'))
        self._stale_tags.new_generation()

    # -- waiting and driving ------------------------------------------------

    def wait_or_raise(self) -> None:
        """For a call made while recovering: wait up to ``wait_timeout``,
        then raise ``ConnectionRecovering`` if still recovering (or the
        connection's error if recovery failed)."""
        coordinator = self.coordinator
        if coordinator.is_recovering and self.config.wait_timeout:
            self.drive(_monotonic() + self.config.wait_timeout)
        if coordinator.is_recovering:
            raise coordinator.recovering_error()
        if coordinator.state is RecoveryState.FAILED:
            self._conn._on_impl_closed()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Drive recovery until it is over or ``timeout`` seconds passed.
        True if the connection is usable (not recovering, not failed)."""
        deadline = None if timeout is None else _monotonic() + timeout
        if self.coordinator.is_recovering:
            self.drive(deadline)
        return self.coordinator.state is RecoveryState.IDLE

    def process_data_events(self, inner: Callable[..., None],
                            time_limit: Optional[float],
                            waiters: Sequence[Callable[[], Any]]) -> None:
        """``process_data_events`` that goes on recovering within its time
        limit when the connection is (or gets) lost."""
        deadline = None if time_limit is None else _monotonic() + time_limit
        coordinator = self.coordinator
        while True:
            if coordinator.is_recovering:
                self.drive(deadline)
                if coordinator.is_recovering:
                    return
                if coordinator.state is RecoveryState.FAILED:
                    self._conn._on_impl_closed()
                    return
            remaining = (None if deadline is None else max(
                0.0, deadline - _monotonic()))
            try:
                inner(remaining, *waiters)
                return
            except exceptions.ConnectionRecovering:
                if not coordinator.is_recovering:
                    raise

    def drive(self, deadline: Optional[float]) -> None:
        """Wait out the backoff and make attempts until recovery is over or
        ``deadline`` (monotonic) passed; an attempt under way is finished."""
        coordinator = self.coordinator
        while coordinator.is_recovering:
            now = _monotonic()
            due = coordinator.next_attempt_at()
            if now < due:
                if deadline is not None and now >= deadline:
                    return
                until = due if deadline is None else min(due, deadline)
                self._pump_for(until - now)
                continue
            coordinator.begin_attempt()
            try:
                skipped = self._attempt()
            except Exception as error:  # noqa: BLE001 - any failure retries
                LOGGER.info('Recovery attempt failed: %r', error)
                if not coordinator.attempt_failed(error):
                    self._give_up()
                    return
                continue
            coordinator.attempt_succeeded(skipped)

    def _pump_for(self, duration: float) -> None:
        ioloop = self._conn._ioloop
        fired: List[bool] = []
        handle = ioloop.call_later(max(0.0, duration),
                                   functools.partial(fired.append, True))
        try:
            while not fired:
                self._conn._run_once()
        finally:
            if not fired:
                ioloop.remove_timeout(handle)

    # -- one attempt ------------------------------------------------------

    def _attempt(self) -> List[TopologyRecoveryEntity]:
        conn = self._conn
        result = _CallbackResult()
        self._impl_class.create_connection(self._configs,
                                           on_done=result.set_value_once,
                                           custom_ioloop=conn._ioloop)
        while not result.is_ready():
            conn._run_once()
        assert result.value is not None
        new_impl = result.value[0]
        if isinstance(new_impl, BaseException):
            raise new_impl
        closed = _CallbackResult()
        new_impl.add_on_close_callback(closed.set_value_once)
        self._restoring = True
        try:
            skipped = _Restore(self, new_impl, closed).run()
        except BaseException:
            self._restoring = False
            if not new_impl.is_closed and not new_impl.is_closing:
                new_impl.close()
            while not closed.is_ready():
                conn._run_once()
            for channel in list(conn._channels.values()):
                self._suspend_channel(channel)
            raise
        self._restoring = False
        # Swap the new connection in.
        stand_in = conn._impl
        conn._impl = new_impl
        conn._closed_result = closed
        conn._close_reported = False
        for callback in self._blocked_callbacks:
            new_impl.add_on_connection_blocked_callback(callback)
        for callback in self._unblocked_callbacks:
            new_impl.add_on_connection_unblocked_callback(callback)
        self._attach_impl(new_impl)
        LOGGER.debug('Recovered connection %r replaces %r', new_impl, stand_in)
        return skipped

    def _give_up(self) -> None:
        """Recovery failed: the connection and its channels are closed for
        good with the original error."""
        conn = self._conn
        if isinstance(conn._impl, _RecoveringImpl):
            conn._impl = conn._impl.previous
        error = self.coordinator.loss_error
        for channel in list(conn._channels.values()):
            if isinstance(channel._impl, _RecoveringImpl):
                channel._impl = channel._impl.previous
            channel._closing_reason = error

    def _close_while_recovering(self, stand_in: _RecoveringImpl, *args: Any,
                                **_kwargs: Any) -> None:
        conn = self._conn
        if conn._impl is stand_in:
            reply_code = args[0] if args else 200
            reply_text = args[1] if len(args) > 1 else 'Normal shutdown'
            self.coordinator.state = RecoveryState.IDLE
            conn._impl = stand_in.previous
            closed = _CallbackResult()
            closed.set_value_once(
                stand_in.previous,
                exceptions.ConnectionClosedByClient(reply_code, reply_text))
            conn._closed_result = closed
            for channel in list(conn._channels.values()):
                if isinstance(channel._impl, _RecoveringImpl):
                    channel._impl = channel._impl.previous
            return
        # A channel closed by the application while recovering: it is done.
        for channel in list(conn._channels.values()):
            if channel._impl is stand_in:
                channel._impl = stand_in.previous
                channel._closing_reason = exceptions.ChannelClosedByClient(
                    args[0] if args else 0,
                    args[1] if len(args) > 1 else 'Normal shutdown')
                self.ledger.forget_channel(channel.channel_number)
                channel._cleanup()

    # -- channel hooks -------------------------------------------------------

    def is_suspended(self, channel: Any) -> bool:
        """True while ``channel`` waits for recovery (stand-in ``_impl``)."""
        return isinstance(channel._impl, _RecoveringImpl)

    def adopt_channel(self, channel: Any) -> None:
        """Install the recording and translating hooks on a new
        BlockingChannel instance."""
        ChannelHooks(self, channel).install()

    def live_tag(self, channel: Any, delivery_tag: int,
                 multiple: bool) -> Optional[int]:
        """The broker's tag for an application tag, or None if it is from
        before a loss (the call is then dropped)."""
        return self._stale_tags.live_tag(channel.channel_number, delivery_tag,
                                         multiple, self._tag_base,
                                         self.coordinator.is_recovering)

    def add_channel_listener(self, kind: str, channel: Any,
                             callback: Callable[..., Any]) -> None:
        """A channel's recovery listener (see
        :meth:`pika.recovery.RecoveryCoordinator.add_channel_listener`)."""
        self.coordinator.add_channel_listener(
            kind, channel, lambda chan: chan in self._conn._channels.values(),
            callback)


class _Restore:
    """One attempt's restoration on a freshly opened connection."""

    def __init__(self, recovery: BlockingRecovery, impl: Any,
                 closed: _CallbackResult) -> None:
        self._recovery = recovery
        self._conn = recovery._conn
        self._ledger = recovery.ledger
        self._mode = recovery.config.topology
        self._impl = impl
        self._closed = closed
        self.skipped: List[TopologyRecoveryEntity] = []

    # -- pumping ---------------------------------------------------------------

    def _wait(self, done: Callable[[], Any]) -> None:
        closed = self._closed
        run_once = self._conn._run_once
        while not (done() or closed.is_ready()):
            run_once()
        if closed.is_ready():
            assert closed.value is not None
            raise _AttemptFailed(closed.value[1])

    def _open(self, number: Optional[int]) -> Any:
        opened = _CallbackResult()
        channel_impl = self._impl.channel(channel_number=number,
                                          on_open_callback=opened.signal_once)
        self._wait(lambda: opened.is_ready() or channel_impl.is_closed)
        if not opened.is_ready():
            raise _AttemptFailed('channel %r did not open' % (number,))
        return channel_impl

    # -- the steps -------------------------------------------------------------

    def run(self) -> List[TopologyRecoveryEntity]:
        channels = [
            channel for _, channel in sorted(self._conn._channels.items())
            if not getattr(channel, '_recovery_user_closed', False)
        ]
        for channel in channels:
            self._reopen(channel)
        self._restore_topology()
        for channel in channels:
            self._restore_consumers(channel)
        return self.skipped

    def _reopen(self, channel: Any) -> None:
        number = channel.channel_number
        channel_impl = self._open(number)
        channel._bind_impl(channel_impl)
        channel._impl = channel_impl
        for global_qos, (size, count) in sorted(
                self._ledger.qos.get(number, {}).items()):
            if self.rpc(channel_impl,
                        'basic_qos',
                        prefetch_size=size,
                        prefetch_count=count,
                        global_qos=global_qos) is None:
                raise _AttemptFailed('basic_qos refused on channel %d' %
                                     (number,))
        if channel._delivery_confirmation:
            result = _CallbackResult()
            channel_impl.confirm_delivery(
                ack_nack_callback=channel._on_message_confirmation,
                callback=result.signal_once)
            self._wait(functools.partial(_reply_or_closed, result,
                                         channel_impl))
            channel._publish_seq = 0
            channel._confirmation = None
            channel._puback_return = None

    def _restore_topology(self) -> None:
        restorer = TopologyRestorer(self._ledger, self._mode, self)
        self.skipped.extend(restorer.run())

    # -- RestoreDriver, for the shared TopologyRestorer ---------------------

    def open_channel(self) -> Any:
        """A scratch channel on the new connection."""
        return self._open(None)

    def rpc(self, channel: Any, method: str, **kwargs: Any) -> Any:
        """Run an RPC on ``channel``; its reply's method frame, or None if
        the broker closed the channel instead."""
        result = _CallbackResult()
        getattr(channel, method)(callback=result.set_value_once, **kwargs)
        self._wait(functools.partial(_reply_or_closed, result, channel))
        if not result.is_ready() or channel.is_closed:
            return None
        assert result.value is not None
        return result.value[0]

    def close_channel(self, channel: Any) -> None:
        """Close a scratch channel and wait until it is closed."""
        if channel.is_open:
            closed = _CallbackResult()
            channel.add_on_close_callback(closed.signal_once)
            channel.close()
            self._wait(closed.is_ready)

    def _restore_consumers(self, channel: Any) -> None:
        number = channel.channel_number
        infos = channel._consumer_infos
        for tag, info in list(infos.items()):
            entity = self._ledger.consumers.get((number, tag))
            if info.state == _ConsumerInfo.CANCELLED_BY_BROKER:
                continue
            if entity is None:
                continue
            if self._mode is TopologyRecoveryMode.DISABLED:
                self._drop_consumer(
                    channel, tag,
                    entity.skipped('topology recovery is '
                                   'disabled'))
                continue
            details = entity.details
            if info.alternate_event_sink is not None:
                on_message = channel._on_consumer_generator_delivery
            else:
                on_message = channel._on_consumer_message_delivery
            channel_impl = channel._impl
            result = _CallbackResult()
            channel_impl.basic_consume(queue=details['queue'],
                                       on_message_callback=on_message,
                                       auto_ack=details['auto_ack'],
                                       exclusive=details['exclusive'],
                                       consumer_tag=tag,
                                       arguments=details['arguments'] or None,
                                       callback=result.signal_once)
            self._wait(functools.partial(_reply_or_closed, result,
                                         channel_impl))
            if channel_impl.is_closed:
                self._drop_consumer(
                    channel, tag,
                    entity.skipped('basic_consume refused (queue %r gone?)' %
                                   (details['queue'],)))
                self._reopen(channel)

    def _drop_consumer(self, channel: Any, tag: str,
                       entity: TopologyRecoveryEntity) -> None:
        self.skipped.append(entity)
        channel._consumer_infos.pop(tag, None)
        self._ledger.forget_consumer(channel.channel_number, tag)
        generator = channel._queue_consumer_generator
        if generator is not None and generator.consumer_tag == tag:
            channel._queue_consumer_generator = None


def _reply_or_closed(result: _CallbackResult, channel_impl: Any) -> bool:
    return result.is_ready() or channel_impl.is_closed
