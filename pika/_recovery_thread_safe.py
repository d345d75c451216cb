"""Automatic recovery for the thread-safe
:class:`pika.adapters.thread_safe_connection.Connection`
(``Connection(params, recovery=RecoveryConfig())``).

Theory of operation: the I/O thread notices the loss (the asynchronous
connection and its channels report their close with a recoverable reason).
Right there, on the I/O thread, the connection is marked as recovering, so
that every request it runs from then on fails with
:class:`pika.exceptions.ConnectionRecovering`; the threads blocked in a call
are woken with that error (a publish awaiting its confirmation with
:class:`pika.exceptions.ConfirmationLost`, or it stays waiting and is
published again with ``republish_unconfirmed``). The application's
:class:`~pika.adapters.thread_safe_connection.Channel` objects stay: they
are not closed, their consumer worker threads keep running.

A recovery thread (``pika-recovery-N``, one per loss) then runs the
:class:`~pika.recovery.RecoveryCoordinator`'s attempts: it calls the
*started* listeners, waits out the backoff, and drives each attempt in
synchronous steps that it hands to the I/O thread one at a time (open a new
connection over the whole host sequence; reopen each channel with its old
number and swap it in as that ``Channel``'s ``_impl``; QoS; confirm mode;
exchanges, queues and bindings through the shared
:func:`~pika.recovery.restore_topology`; consumers with their tags and
callbacks). The last step, on the I/O thread, swaps the new connection in,
publishes the kept unconfirmed messages again and lifts the recovering mark,
all at once, so no application request runs half-way through. The recovery
thread finally calls the *succeeded* (or *failed*) listeners: every
recovery listener runs on the recovery thread, never on the I/O thread.

Delivery tags: after a loss, the tags the application sees are the
broker's plus ``generation << 40``; ack/nack/reject of a tag from before
the loss is dropped on the I/O thread (logged once per channel and loss),
and deliveries of manual-ack consumers still queued for a worker when the
connection was lost are not handed to the callback (the broker requeued
them; they come again).
"""

import itertools
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from pika import exceptions
from pika.adapters import select_connection
from pika.recovery import (TAG_GENERATION_SHIFT, DeadPeerWatch, RecoveryConfig,
                           RecoveryCoordinator, RecoveryState, StaleTagFilter,
                           TopologyRecoveryEntity, TopologyRecoveryMode,
                           TopologyStep, UnconfirmedMessage, restore_topology,
                           is_recoverable_loss)

LOGGER = logging.getLogger('pika.recovery')

_thread_numbers = itertools.count(1)

# Seconds one restore step may take before the attempt is given up (the
# connection workflow has its own, shorter, timeouts for the connect).
_STEP_TIMEOUT = 60.0


class _AttemptFailed(Exception):
    """The new connection of a recovery attempt was lost or refused."""


class _ChannelRefused(Exception):
    """The broker closed a channel instead of answering a restore step."""


class _Stopped(Exception):
    """The application closed the connection while it was recovering."""


class _Step:
    """One restore step's outcome, set once on the I/O thread."""

    __slots__ = ('_event', 'value', 'error')

    def __init__(self) -> None:
        self._event = threading.Event()
        self.value: Any = None
        self.error: Optional[BaseException] = None

    def set(self, value: Any = None) -> None:
        if not self._event.is_set():
            self.value = value
            self._event.set()

    def fail(self, error: BaseException) -> None:
        if not self._event.is_set():
            self.error = error
            self._event.set()

    def done(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> Any:
        if not self._event.wait(timeout):
            raise _AttemptFailed('restore step took over %rs' % (timeout,))
        if self.error is not None:
            raise self.error
        return self.value


class ThreadSafeRecovery:
    """Recovery driver of one thread-safe ``Connection``.

    :param connection: the thread-safe Connection
    :param RecoveryConfig config: the configuration
    :param list configs: the connection parameters (the host sequence)
    """

    def __init__(self, connection: Any, config: RecoveryConfig,
                 configs: Sequence[Any]) -> None:
        self.coordinator = RecoveryCoordinator(config, connection)
        self.config = config
        self.ledger = self.coordinator.ledger
        self._conn = connection
        self._configs = list(configs)
        # Set while not recovering: callers with wait_timeout wait on it.
        self._idle = threading.Event()
        self._idle.set()
        self._loss_error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        # The attempt's new connection and its unanswered steps (I/O thread).
        self._new_impl: Any = None
        self._steps: Set[_Step] = set()
        self._channel_steps: Dict[int, _Step] = {}
        self._restoring = False
        #: Delivery-tag offset of the current generation (see module doc).
        self.tag_base = 0
        self._generation = 0
        self._stale_tags = StaleTagFilter()
        # channel -> its publishes kept for republishing, in order
        self._republish: Dict[Any, List[Any]] = {}
        # (channel number, consumer tag) -> the I/O-thread delivery handler
        self._consumer_handlers: Dict[Tuple[int, str], Any] = {}
        self._dead_peer: Optional[DeadPeerWatch] = None

    # -- state ---------------------------------------------------------------

    @property
    def state(self) -> RecoveryState:
        """``RECONNECTING`` from the moment the I/O thread saw the loss
        until everything is restored."""
        if self.coordinator.state is RecoveryState.FAILED:
            return RecoveryState.FAILED
        if self._conn._recovering:
            return RecoveryState.RECONNECTING
        return RecoveryState.IDLE

    def recovering_error(self) -> exceptions.ConnectionRecovering:
        """The exception a call made while recovering raises."""
        error = exceptions.ConnectionRecovering(
            'Connection is recovering after %r' % (self._loss_error,))
        error.__cause__ = self._loss_error
        return error

    def wait_or_raise(self) -> None:
        """For a call made while recovering (caller's thread): wait up to
        ``wait_timeout`` for recovery, then raise ``ConnectionRecovering`` if
        it is still under way. Returns if recovered (or failed: the caller's
        own closed check raises then)."""
        timeout = self.config.wait_timeout
        if timeout:
            self._idle.wait(timeout)
        if self._conn._recovering:
            raise self.recovering_error()

    def wait(self, timeout: Optional[float]) -> bool:
        """Wait until recovery is over; True if the connection is usable."""
        self._idle.wait(timeout)
        return self.state is RecoveryState.IDLE and not self._conn.is_closed

    # -- I/O thread: watching a connection -----------------------------------

    def attach(self, impl: Any) -> None:
        """Start watching a (new) asynchronous connection."""
        self._stop_dead_peer_watch()
        heartbeat = getattr(impl.params, 'heartbeat', None)
        if self.config.fast_dead_peer_detection and heartbeat:
            self._dead_peer = DeadPeerWatch(impl, heartbeat)

    def _stop_dead_peer_watch(self) -> None:
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None

    # -- I/O thread: the loss ------------------------------------------------

    def _is_recovered_loss(self, error: BaseException) -> bool:
        conn = self._conn
        return (not conn._close_requested and
                self.coordinator.state is not RecoveryState.FAILED and
                not isinstance(error, exceptions.WorkQueueFullError) and
                is_recoverable_loss(error))

    def on_channel_lost(self, channel: Any, error: BaseException) -> bool:
        """A channel's asynchronous channel closed: True if recovery takes
        the channel over (it then stays open for the application)."""
        if self._restoring:
            step = self._channel_steps.pop(id(channel._impl), None)
            if step is not None:
                step.fail(_ChannelRefused(error))
            return True
        if self._conn._recovering or (not channel._user_closed and
                                      self._is_recovered_loss(error)):
            self._begin(error)
            self._suspend_channel(channel)
            return True
        self.forget_channel(channel.channel_number)
        return False

    def on_connection_lost(self, error: BaseException) -> bool:
        """The asynchronous connection closed: True if it is recovered."""
        if self._conn._recovering or self._is_recovered_loss(error):
            self._begin(error)
            return True
        self._stop_dead_peer_watch()
        return False

    def _begin(self, error: BaseException) -> None:
        conn = self._conn
        if conn._recovering:
            return
        # In this order: a caller that sees the mark finds the error and a
        # cleared event to wait on.
        self._loss_error = error
        self._idle.clear()
        conn._recovering = True
        self._stopped = False
        self._generation += 1
        self.tag_base = self._generation << TAG_GENERATION_SHIFT
        self._stale_tags.new_generation()
        self._stop_dead_peer_watch()
        conn._stop_backpressure()
        failure = self.recovering_error()
        for waiter in list(conn._waiters):
            waiter.fail(failure)
        conn._waiters.clear()
        previous = self._thread
        self._thread = threading.Thread(target=self._run,
                                        args=(error, previous),
                                        name='pika-recovery-%d' %
                                        next(_thread_numbers),
                                        daemon=True)
        self._thread.start()

    def _suspend_channel(self, channel: Any) -> None:
        failure = self.recovering_error()
        for waiter in list(channel._waiters):
            waiter.fail(failure)
        channel._waiters.clear()
        for waiter, _queue, _auto_ack in channel._get_waiters:
            waiter.fail(failure)
        channel._get_waiters.clear()
        channel._returned = None
        kept = self._republish.setdefault(channel, [])
        for tag in sorted(channel._confirm_waiters):
            waiter = channel._confirm_waiters[tag]
            if self.config.republish_unconfirmed:
                kept.append(waiter)
            else:
                waiter.fail(_confirmation_lost([waiter]))
        channel._confirm_waiters.clear()
        generator = channel._generator
        if generator is not None and not generator.auto_ack:
            generator.drain()  # requeued by the broker: they come again

    # -- I/O thread: what the application does -------------------------------

    def delivery_handler(self, channel: Any, callback: Callable[..., Any],
                         auto_ack: bool) -> Callable[..., None]:
        """The I/O-thread handler of a ``basic_consume`` consumer: tags get
        the generation offset; a manual-ack delivery still queued for the
        worker when the connection is lost is not handed to ``callback``."""
        dispatch = channel._dispatch

        def current_only(base: int, *args: Any) -> None:
            if base == self.tag_base:
                callback(*args)

        def on_message(_ch: Any, method: Any, properties: Any,
                       body: bytes) -> None:
            base = self.tag_base
            method.delivery_tag += base
            if auto_ack:
                dispatch(callback, channel, method, properties, body)
            else:
                dispatch(current_only, base, channel, method, properties, body)

        return on_message

    def translated(self, handler: Callable[..., None]) -> Callable[..., None]:
        """A ``consume()`` generator's I/O-thread handler with tags offset."""

        def on_message(ch: Any, method: Any, properties: Any,
                       body: bytes) -> None:
            method.delivery_tag += self.tag_base
            handler(ch, method, properties, body)

        return on_message

    def send_ack(self, channel: Any, name: str, delivery_tag: int,
                 multiple: bool, *extra: Any) -> None:
        """``basic_ack``/``nack``/``reject`` (caller's thread): the tag is
        checked on the I/O thread, where the generation cannot change under
        it; a tag from before a loss is dropped, never sent."""
        if channel._closed or self._conn._closed_event.is_set():
            raise channel._error()

        def request() -> None:
            tag = self._stale_tags.live_tag(channel.channel_number,
                                            delivery_tag, multiple,
                                            self.tag_base,
                                            self._conn._recovering)
            if tag is None or channel._closed:
                return
            if name == 'basic_reject':
                channel._impl.basic_reject(tag, *extra)
            else:
                getattr(channel._impl, name)(tag, multiple, *extra)

        self._conn._submit(request)

    def hold_publish(self, channel: Any, waiter: Any,
                     message: Tuple[Any, ...]) -> bool:
        """A confirmed publish reached the I/O thread while recovering:
        with ``republish_unconfirmed`` it is kept and sent once recovered
        (True); else the caller gets ``ConnectionRecovering`` (False)."""
        if not (self._conn._recovering and channel._confirming and
                self.config.republish_unconfirmed and not channel._closed):
            return False
        waiter.value = message
        self._republish.setdefault(channel, []).append(waiter)
        return True

    def record(self, channel: Any, name: str, args: Tuple[Any, ...],
               reply: Any) -> None:
        """An RPC of ``channel`` was answered (I/O thread): note it in the
        ledger."""
        ledger = self.ledger
        number = channel.channel_number
        if name == 'queue_declare':
            queue, passive, durable, exclusive, auto_delete, arguments = args
            if not passive:
                ledger.record_queue(number, queue, reply.method.queue, durable,
                                    exclusive, auto_delete, arguments)
        elif name == 'exchange_declare':
            (exchange, exchange_type, passive, durable, auto_delete, internal,
             arguments) = args
            if not passive:
                ledger.record_exchange(number, exchange, exchange_type, durable,
                                       auto_delete, internal, arguments)
        elif name in ('queue_bind', 'exchange_bind'):
            kind = 'queue_binding' if name == 'queue_bind' else \
                'exchange_binding'
            ledger.record_binding(number, kind, *args)
        elif name in ('queue_unbind', 'exchange_unbind'):
            kind = 'queue_binding' if name == 'queue_unbind' else \
                'exchange_binding'
            destination, source, routing_key, arguments = args
            ledger.forget_binding(kind, destination or '', source or '',
                                  routing_key, arguments)
        elif name == 'queue_delete':
            ledger.forget_queue(args[0])
        elif name == 'exchange_delete':
            ledger.forget_exchange(args[0] or '')
        elif name == 'basic_qos':
            ledger.record_qos(number, *args)
        elif name == 'basic_cancel':
            self.forget_consumer(number, args[0])

    def record_consumer(self, channel: Any, tag: str, queue: str, handler: Any,
                        auto_ack: bool, exclusive: bool,
                        arguments: Any) -> None:
        """A ``Basic.ConsumeOk`` (I/O thread)."""
        number = channel.channel_number
        self.ledger.record_consumer(number, tag, queue, auto_ack, exclusive,
                                    arguments)
        self._consumer_handlers[(number, tag)] = handler

    def forget_consumer(self, number: int, tag: str) -> None:
        """A consumer was cancelled (I/O thread)."""
        self.ledger.forget_consumer(number, tag)
        self._consumer_handlers.pop((number, tag), None)

    def forget_channel(self, number: int) -> None:
        """A channel closed for good (I/O thread)."""
        self.ledger.forget_channel(number)
        for key in [key for key in self._consumer_handlers if key[0] == number]:
            del self._consumer_handlers[key]

    def drop_channel(self, channel: Any, error: BaseException) -> None:
        """The application closed ``channel`` while recovering (I/O
        thread): it is not restored."""
        for waiter in self._republish.pop(channel, []):
            waiter.fail(_confirmation_lost([waiter]))
        self._conn._channels.pop(channel.channel_number, None)
        self.forget_channel(channel.channel_number)
        channel._on_closed(error)

    def stop(self, error: BaseException) -> None:
        """The application closed the connection while recovering (I/O
        thread): recovery ends and the connection closes with ``error``."""
        self._stopped = True
        self._abandon_attempt(_Stopped())
        self._end(error)

    # -- I/O thread: end of a recovery ---------------------------------------

    def _abandon_attempt(self, error: BaseException) -> None:
        for step in list(self._steps):
            step.fail(error)
        self._steps.clear()
        self._channel_steps.clear()
        impl = self._new_impl
        self._new_impl = None
        self._restoring = False
        if impl is not None and not impl.is_closed:
            impl._terminate_stream(
                exceptions.ConnectionClosedByClient(200, 'Recovery abandoned'))

    def _end(self, error: BaseException) -> None:
        """Recovery failed or was stopped: close the connection for good."""
        conn = self._conn
        for waiters in self._republish.values():
            for waiter in waiters:
                waiter.fail(_confirmation_lost([waiter]))
        self._republish.clear()
        conn._recovering = False
        conn._finish(error)
        self._idle.set()
        conn._ioloop.stop()

    # -- the recovery thread -------------------------------------------------

    def _run(self, error: BaseException,
             previous: Optional[threading.Thread]) -> None:
        if previous is not None:
            previous.join()
        coordinator = self.coordinator
        coordinator.connection_lost(error)
        while not self._stopped:
            delay = coordinator.next_attempt_at() - time.monotonic()
            if delay > 0:
                self._idle.wait(delay)
            if self._stopped:
                return
            coordinator.begin_attempt()
            try:
                skipped = self._attempt()
            except _Stopped:
                return
            except Exception as failure:  # noqa: BLE001 - any failure retries
                if self._stopped:
                    return
                LOGGER.info('Recovery attempt failed: %r', failure)
                if not coordinator.attempt_failed(failure):
                    self._call_on_loop(self._end, error)
                    return
                continue
            coordinator.attempt_succeeded(skipped)
            return

    def _call_on_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on the I/O thread; its return value."""

        def request(step: _Step) -> None:
            step.set(function(*args))

        return self._on_loop(request)

    def _on_loop(self, function: Callable[[_Step], Any]) -> Any:
        """Run ``function(step)`` on the I/O thread and wait for the step's
        outcome (the attempt fails if the new connection goes meanwhile)."""
        step = _Step()

        def run() -> None:
            if self._stopped:
                step.fail(_Stopped())
                return
            self._steps.add(step)
            try:
                function(step)
            except Exception as error:  # noqa: BLE001 - raised in _attempt
                step.fail(error)
            if step.done():
                self._steps.discard(step)

        try:
            self._conn._submit(run)
        except exceptions.AMQPError:
            raise _Stopped() from None
        try:
            return step.wait(_STEP_TIMEOUT)
        finally:
            self._steps.discard(step)

    def _attempt(self) -> List[TopologyRecoveryEntity]:
        try:
            self._on_loop(self._open_connection)
            channels = self._call_on_loop(
                lambda:
                [chan for _, chan in sorted(self._conn._channels.items())])
            for channel in channels:
                self._reopen(channel)
            skipped = restore_topology(self.ledger, self.config.topology, self)
            for channel in channels:
                self._restore_consumers(channel, skipped)
            self._on_loop(self._swap)
        except BaseException as failure:
            if not isinstance(failure, _Stopped):
                self._call_on_loop(self._abandon_attempt,
                                   _AttemptFailed(failure))
            raise
        return skipped

    # I/O-thread halves of the steps.

    def _open_connection(self, step: _Step) -> None:
        self._restoring = True

        def on_done(result: Any) -> None:
            if isinstance(result, BaseException):
                step.fail(_AttemptFailed(result))
                return
            if self._stopped:
                result._terminate_stream(
                    exceptions.ConnectionClosedByClient(200, 'Recovery ended'))
                step.fail(_Stopped())
                return
            self._new_impl = result
            result.add_on_close_callback(self._on_new_impl_closed)
            step.set(result)

        select_connection.SelectConnection.create_connection(
            self._configs, on_done=on_done, custom_ioloop=self._conn._ioloop)

    def _on_new_impl_closed(self, impl: Any, error: BaseException) -> None:
        if impl is not self._new_impl:
            return
        self._new_impl = None
        for step in list(self._steps):
            step.fail(_AttemptFailed(error))
        self._steps.clear()
        self._channel_steps.clear()

    def _swap(self, step: _Step) -> None:
        conn = self._conn
        impl = self._new_impl
        if impl is None or not impl.is_open:
            raise _AttemptFailed('the new connection closed')
        self._new_impl = None
        self._restoring = False
        conn._impl = impl
        impl.add_on_close_callback(conn._on_impl_closed)
        impl.add_on_connection_blocked_callback(conn._on_blocked)
        impl.add_on_connection_unblocked_callback(conn._on_unblocked)
        self.attach(impl)
        conn._recovering = False
        for channel, waiters in self._republish.items():
            for waiter in waiters:
                if channel._closed:
                    waiter.fail(_confirmation_lost([waiter]))
                    continue
                channel._impl.basic_publish(*waiter.value)
                channel._publish_seq += 1
                channel._confirm_waiters[channel._publish_seq] = waiter
            if waiters:
                LOGGER.info(
                    'Published %d unconfirmed message(s) again on '
                    'channel %d', len(waiters), channel.channel_number)
        self._republish.clear()
        for channel in conn._channels.values():
            if channel._overflow:
                conn._suspend_reading()
                break
        self._idle.set()
        step.set()

    # -- channels --------------------------------------------------------------

    def _open_impl_channel(self, number: Optional[int], step: _Step) -> None:
        impl = self._new_impl
        if impl is None:
            raise _AttemptFailed('the new connection closed')
        channel_impl = impl.channel(channel_number=number,
                                    on_open_callback=step.set)
        self._channel_steps[id(channel_impl)] = step
        channel_impl.add_on_close_callback(self._on_restore_channel_closed)

    def _on_restore_channel_closed(self, channel_impl: Any,
                                   error: BaseException) -> None:
        step = self._channel_steps.pop(id(channel_impl), None)
        if step is not None:
            step.fail(_ChannelRefused(error))

    def _reopen(self, channel: Any) -> None:
        if channel._closed:
            return
        number = channel.channel_number
        try:
            channel_impl = self._on_loop(
                lambda step: self._open_impl_channel(number, step))
        except _ChannelRefused as error:
            raise _AttemptFailed('channel %d did not open: %r' %
                                 (number, error)) from error
        self._call_on_loop(channel._attach_impl, channel_impl)
        for global_qos, (size, count) in sorted(
                self.ledger.qos.get(number, {}).items()):
            if self.rpc(channel_impl,
                        'basic_qos',
                        prefetch_size=size,
                        prefetch_count=count,
                        global_qos=global_qos) is None:
                raise _AttemptFailed('basic_qos refused on channel %d' %
                                     (number,))
        if channel._confirming and self.rpc(
                channel_impl,
                'confirm_delivery',
                ack_nack_callback=channel._on_confirm) is None:
            raise _AttemptFailed('confirm_delivery refused on channel %d' %
                                 (number,))

    def _restore_consumers(self, channel: Any,
                           skipped: List[TopologyRecoveryEntity]) -> None:
        number = channel.channel_number
        for tag in sorted(channel._consumer_tags):
            entity = self.ledger.consumers.get((number, tag))
            handler = self._consumer_handlers.get((number, tag))
            if entity is None or handler is None:
                continue
            if self.config.topology is TopologyRecoveryMode.DISABLED:
                skipped.append(entity.skipped('topology recovery is disabled'))
                self._drop_consumer(channel, tag)
                continue
            details = entity.details
            if self.rpc(channel._impl,
                        'basic_consume',
                        queue=details['queue'],
                        on_message_callback=handler,
                        auto_ack=details['auto_ack'],
                        exclusive=details['exclusive'],
                        consumer_tag=tag,
                        arguments=details['arguments'] or None) is None:
                skipped.append(
                    entity.skipped('basic_consume refused (queue %r gone?)' %
                                   (details['queue'],)))
                self._drop_consumer(channel, tag)
                self._reopen(channel)

    def _drop_consumer(self, channel: Any, tag: str) -> None:
        self._call_on_loop(self.forget_consumer, channel.channel_number, tag)
        self._call_on_loop(channel._consumer_gone, tag)

    # -- RestoreDriver, for the shared restore_topology ---------------------

    def open_channel(self) -> Any:
        """A scratch channel on the new connection."""
        try:
            return self._on_loop(
                lambda step: self._open_impl_channel(None, step))
        except _ChannelRefused as error:
            raise _AttemptFailed('scratch channel did not open') from error

    def rpc(self, channel: Any, method: str, **kwargs: Any) -> Any:
        """Run an RPC on an asynchronous channel of the new connection; the
        reply's method frame, or None if the broker closed the channel."""
        return self._reply(
            channel, lambda on_reply: getattr(channel, method)
            (callback=on_reply, **kwargs))

    def send_step(self, channel: Any, step: TopologyStep) -> Any:
        """Send a topology step's method (see
        :func:`pika.recovery.restore_topology`); its reply's method frame,
        or None if the broker closed the channel."""
        return self._reply(
            channel, lambda on_reply: channel._rpc(step.method, None,
                                                   [step.reply], on_reply))

    def _reply(self, channel: Any, send: Callable[[Callable[..., None]],
                                                  None]) -> Any:

        def request(step: _Step) -> None:
            if channel.is_closed:
                raise _ChannelRefused('channel %d is closed' %
                                      (channel.channel_number,))
            self._channel_steps[id(channel)] = step

            def on_reply(*args: Any) -> None:
                self._channel_steps.pop(id(channel), None)
                step.set(args[0] if args else None)

            send(on_reply)

        try:
            return self._on_loop(request)
        except _ChannelRefused:
            return None

    def close_channel(self, channel: Any) -> None:
        """Close a scratch channel (no need to wait for the broker)."""

        if channel.is_open:
            self._call_on_loop(channel.close)


def _confirmation_lost(waiters: List[Any]) -> exceptions.ConfirmationLost:
    return exceptions.ConfirmationLost(
        [UnconfirmedMessage(*waiter.value) for waiter in waiters])
