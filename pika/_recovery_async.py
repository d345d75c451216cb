"""Automatic recovery for the asynchronous adapters built on
:class:`pika.adapters.base_connection.BaseConnection` (``SelectConnection``,
``AsyncioConnection``, ``TornadoConnection``, ``GeventConnection``), created
with ``recovery=RecoveryConfig(...)``.

Theory of operation: the application keeps the connection object and its
:class:`pika.channel.Channel` objects across a loss, so recovery reuses
them. The driver shadows a few methods on the connection instance (and
:mod:`pika._recovery_async_hooks` a few on each channel instance); a
connection without ``recovery=`` runs none of this.

1. A recoverable loss (:func:`pika.recovery.is_recoverable_loss`) reaches the
   engine's ``_on_stream_terminated``. Instead of closing, the driver
   *suspends*: the channels leave the engine's table and wait in the
   ``OPENING`` state (``is_open`` and ``is_closed`` false; every call raises
   :class:`pika.exceptions.ConnectionRecovering`), their consumers are put
   aside, publishes awaiting a confirmation are reported to the
   confirmation-lost callbacks (or kept for ``republish_unconfirmed``), the
   connection goes back to ``INIT`` and the *started* listeners run. The
   close callbacks are not called.
2. After the backoff an attempt reconnects the same connection object over
   the whole host sequence (``BaseConnection._reconnect_over``). While it
   runs the user's open/close callback lists are put aside, so that only the
   connection workflow hears about the handshake.
3. Once open, :meth:`AsyncRecovery._restore` runs as a generator: each
   ``yield`` sends one synchronous method and resumes with the reply (or the
   reason the channel closed). It reopens every channel with its number,
   restores QoS and confirm mode, declares exchanges, queues (a server-named
   queue gets a new name, bindings and consumers follow) and bindings on a
   scratch channel, then the consumers with their tags and callbacks, and
   republishes unconfirmed messages if asked. Deliveries that arrive before
   the end are held and handed over once the channels are open again.
4. Any failure of an attempt (the new stream lost, a channel that does not
   reopen) makes the next attempt; when ``max_attempts`` ran out, the
   *failed* listeners run, then the channels' and the connection's close
   callbacks with the original error.

Delivery tags: after the n-th recovery a channel's tags are the broker's
plus ``n << 40`` (:class:`pika.recovery.DeliveryTagGenerations`, shared with
the blocking driver), and ack/nack/reject of an older tag is dropped.
"""

import functools
import logging
import time
from typing import (Any, Callable, Dict, Generator, List, Optional, Set, Tuple)

from pika import channel as channel_module
from pika import exceptions, spec
from pika._recovery_async_hooks import AsyncChannelHooks, hooks_of
from pika.recovery import (DeadPeerWatch, DeliveryTagGenerations,
                           RecoveryConfig, RecoveryCoordinator, RecoveryState,
                           TopologyRecoveryEntity, TopologyRecoveryMode,
                           UnconfirmedMessage, is_recoverable_loss, step_done,
                           step_refused, topology_steps)

LOGGER = logging.getLogger('pika.recovery')

_monotonic = time.monotonic

# What the restore generator yields: (channel, method, reply classes) for a
# synchronous method, or a callable ``start(resume)`` for anything else.
_Step = Any
_RestoreGen = Generator[_Step, Any, Any]


class _AttemptFailed(Exception):
    """A recovery attempt cannot go on with its new connection."""


class AsyncRecovery:
    """Recovery driver of one asynchronous connection.

    :param connection: the :class:`~pika.adapters.base_connection.
        BaseConnection`
    :param RecoveryConfig config: the configuration
    :param list configs: the host sequence (copies of the parameters)
    """

    def __init__(self, connection: Any, config: RecoveryConfig,
                 configs: List[Any]) -> None:
        self.coordinator = RecoveryCoordinator(config, connection)
        self.config = config
        self.ledger = self.coordinator.ledger
        self.tags = DeliveryTagGenerations(self.coordinator)
        self._conn = connection
        self._configs = configs
        # channel number -> channel waiting for (or being) restored
        self._suspended: Dict[int, Any] = {}
        # channel number -> {consumer tag: callback} put aside
        self._consumers: Dict[int, Dict[str, Any]] = {}
        # channel number -> messages to publish again
        self._republish: Dict[int, List[UnconfirmedMessage]] = {}
        # channels lost before their Channel.OpenOk: their on-open callback
        # runs once recovered
        self._never_opened: Set[int] = set()
        # deliveries received while restoring: (channel, handler, frames)
        self._held: List[Tuple[Any, Callable[..., Any], Tuple[Any, ...]]] = []
        self._attempting = False
        self._restoring = False
        self._timer: Any = None
        self._workflow: Any = None
        self._restore_gen: Optional[_RestoreGen] = None
        self._pending: Optional[Tuple[Any, Callable[[Any], None]]] = None
        # the user's (open, open error, close) callback lists, put aside
        # while an attempt runs
        self._user_callbacks: Optional[Tuple[List[Any], List[Any],
                                             List[Any]]] = None
        self._dead_peer: Optional[DeadPeerWatch] = None
        self._originals: Dict[str, Callable[..., Any]] = {}
        self._install()

    # -- installation ---------------------------------------------------

    def _install(self) -> None:
        conn = self._conn
        cls = type(conn)
        for name in ('_on_stream_terminated', '_create_channel', 'channel',
                     'close'):
            original = getattr(cls, name).__get__(conn, cls)
            self._originals[name] = original
            hook = getattr(
                self, '_conn' + (name if name.startswith('_') else '_' + name))
            setattr(
                conn, name,
                functools.wraps(original)(functools.partial(hook, original)))
        if conn.is_open:
            self._watch_peer()
        else:
            conn.add_on_open_callback(self._on_first_open)

    def _on_first_open(self, _conn: Any) -> None:
        if not self.coordinator.is_recovering:
            self._watch_peer()

    def _watch_peer(self) -> None:
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None
        heartbeat = getattr(self._conn.params, 'heartbeat', None)
        if self.config.fast_dead_peer_detection and heartbeat:
            self._dead_peer = DeadPeerWatch(self._conn, heartbeat)

    # -- state -----------------------------------------------------------

    @property
    def state(self) -> RecoveryState:
        """The coordinator's state."""
        return self.coordinator.state

    @property
    def tag_base(self) -> int:
        """What is added to the broker's delivery tags now."""
        return self.tags.base

    def is_suspended(self, channel: Any) -> bool:
        """True while ``channel`` waits for recovery."""
        return self._suspended.get(channel.channel_number) is channel

    def live_tag(self, channel: Any, delivery_tag: int,
                 multiple: bool) -> Optional[int]:
        """The broker's tag for an application tag, or None to drop the
        call (a tag from before a loss)."""
        return self.tags.live_tag(channel.channel_number, delivery_tag,
                                  multiple)

    # -- connection hooks -------------------------------------------------

    def _conn_create_channel(self, original: Any, channel_number: int,
                             on_open_callback: Any) -> Any:
        chan = original(channel_number, on_open_callback)
        AsyncChannelHooks(self, chan).install()
        return chan

    def _conn_channel(self, original: Any, *args: Any, **kwargs: Any) -> Any:
        if self.coordinator.is_recovering:
            raise self.coordinator.recovering_error()
        return original(*args, **kwargs)

    def _conn_close(self, original: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.coordinator.is_recovering:
            return original(*args, **kwargs)
        reply_code = int(kwargs.get('reply_code', args[0] if args else 200))
        reply_text = kwargs.get('reply_text',
                                args[1] if len(args) > 1 else 'Normal shutdown')
        LOGGER.info('Connection closed by the application while recovering')
        self.coordinator.state = RecoveryState.IDLE
        self._finish(exceptions.ConnectionClosedByClient(
            reply_code, reply_text))
        return None

    def _conn_on_stream_terminated(self, original: Any,
                                   error: Optional[BaseException]) -> None:
        conn = self._conn
        if self._attempting:
            restoring = self._restoring
            self._detach_channels()
            original(error)
            if restoring and self._attempting:
                self._attempt_failed(error or exceptions.StreamLostError(
                    'Stream terminated while restoring'))
            return
        if conn.connection_state == conn.CONNECTION_CLOSED or not conn._opened:
            original(error)
            return
        if conn._terminating and conn._error is not None:
            reason: BaseException = conn._error
        else:
            reason = error or conn._error or exceptions.StreamLostError(
                'Stream terminated without a reason')
        if (isinstance(conn._error, exceptions.ConnectionClosedByClient) or
                not is_recoverable_loss(reason) or
                self.coordinator.state is not RecoveryState.IDLE):
            original(error)
            return
        # The channels wait before the started listeners run, so that what
        # these see (and call) is the recovering connection.
        lost = self._suspend(reason)
        self.coordinator.connection_lost(reason)
        for hooks, messages in lost:
            hooks.report_lost(messages)
        self._schedule()

    # -- loss ----------------------------------------------------------------

    def _suspend(self, reason: BaseException) -> List[Tuple[Any, Any]]:
        """Put the channels aside; returns ``(hooks, messages)`` of the
        publishes to report as lost."""
        conn = self._conn
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None
        conn._stop_timers()
        conn._discard_buffer()
        self.tags.new_generation()
        republish = self.config.republish_unconfirmed
        lost: List[Tuple[Any, Any]] = []
        for number, chan in sorted(conn._channels.items()):
            if chan.is_closing or chan.is_closed:
                # Closing at the application's request: it is done.
                chan._on_close_meta(reason)
                continue
            self._suspended[number] = chan
            if chan.is_opening:
                self._never_opened.add(number)
            self._consumers[number] = {
                tag: callback
                for tag, callback in chan._consumers.items()
                if tag not in chan._cancelled
            }
            chan._cleanup()
            chan._set_state(chan.OPENING)
            hooks = hooks_of(chan)
            if hooks is not None and hooks.confirms is not None:
                messages = hooks.confirms.take_lost()
                if republish:
                    self._republish.setdefault(number, []).extend(messages)
                elif messages:
                    lost.append((hooks, messages))
        conn._channels.clear()
        conn._error = None
        conn._set_connection_state(conn.CONNECTION_INIT)
        return lost

    def _detach_channels(self) -> None:
        """An attempt ends: the channels wait again."""
        conn = self._conn
        self._restore_gen = None
        self._pending = None
        self._held.clear()
        for number, chan in self._suspended.items():
            if conn._channels.get(number) is chan:
                del conn._channels[number]
            chan._cleanup()
            chan._set_state(chan.OPENING)

    # -- attempts -----------------------------------------------------------

    def _schedule(self) -> None:
        delay = max(0.0, self.coordinator.next_attempt_at() - _monotonic())
        self._timer = self._conn._adapter_call_later(delay, self._attempt)

    def _attempt(self) -> None:
        self._timer = None
        if not self.coordinator.is_recovering:
            return
        conn = self._conn
        self.coordinator.begin_attempt()
        self._attempting = True
        self._restoring = False
        if self._user_callbacks is None:
            self._user_callbacks = (conn._on_open_callbacks,
                                    conn._on_open_error_callbacks,
                                    conn._on_close_callbacks)
            conn._on_open_callbacks = []
            conn._on_open_error_callbacks = []
            conn._on_close_callbacks = []
        try:
            self._workflow = conn._reconnect_over(self._configs,
                                                  self._on_reconnected)
        except Exception as error:  # noqa: BLE001 - the attempt failed
            self._attempt_failed(error)

    def _on_reconnected(self, result: Any) -> None:
        self._workflow = None
        if not self._attempting:
            return
        if isinstance(result, BaseException):
            self._attempt_failed(result)
            return
        LOGGER.info('Recovery attempt %d connected to %s:%s; restoring',
                    self.coordinator.attempt, self._conn.params.host,
                    self._conn.params.port)
        self._restoring = True
        self._restore_gen = self._restore()
        self._advance(None)

    def _attempt_failed(self, error: BaseException) -> None:
        conn = self._conn
        self._attempting = False
        self._restoring = False
        self._restore_gen = None
        self._give_back_callbacks()
        if conn.connection_state != conn.CONNECTION_INIT:
            conn._set_connection_state(conn.CONNECTION_INIT)
        LOGGER.info('Recovery attempt %d failed: %r', self.coordinator.attempt,
                    error)
        if self.coordinator.attempt_failed(error):
            self._schedule()
            return
        loss = self.coordinator.loss_error
        self._finish(loss if loss is not None else error)

    def _give_back_callbacks(self) -> None:
        conn = self._conn
        saved = self._user_callbacks
        if saved is None:
            return
        self._user_callbacks = None
        added = (conn._on_open_callbacks, conn._on_open_error_callbacks,
                 conn._on_close_callbacks)
        for mine, theirs in zip(saved, added):
            # Keep what the application added meanwhile, not the connection
            # workflow's own handshake callbacks.
            mine.extend(callback for callback in theirs
                        if not _is_workflow_callback(callback))
        (conn._on_open_callbacks, conn._on_open_error_callbacks,
         conn._on_close_callbacks) = saved

    def _finish(self, error: BaseException) -> None:
        """Recovery is over for good (failed, or the application closed the
        connection): report ``error`` the way a closed connection does."""
        conn = self._conn
        self._attempting = False
        self._restoring = False
        if self._timer is not None:
            conn._adapter_remove_timeout(self._timer)
            self._timer = None
        workflow, self._workflow = self._workflow, None
        if workflow is not None:
            try:
                workflow.abort()
            except Exception as abort_error:  # noqa: BLE001 - best effort
                LOGGER.debug('Aborting the recovery workflow: %r', abort_error)
        self._detach_channels()
        self._give_back_callbacks()
        for number, messages in sorted(self._republish.items()):
            chan = self._suspended.get(number)
            hooks = hooks_of(chan) if chan is not None else None
            if hooks is not None:
                hooks.report_lost(messages)
        self._republish.clear()
        channels, self._suspended = self._suspended, {}
        self._consumers.clear()
        self._never_opened.clear()
        if conn._transport is not None:
            conn._transport.abort()
        conn._channels.update(channels)
        conn._opened = True
        conn._terminating = True
        conn._error = error
        conn._set_connection_state(conn.CONNECTION_CLOSING)
        self._originals['_on_stream_terminated'](error)

    # -- channels ------------------------------------------------------------

    def channel_closed(self, chan: Any, reason: Any) -> bool:
        """Hook of a channel's ``_finish_close``: True if recovery takes
        over (a restore step the broker refused; the channel is reopened)."""
        if not (self._restoring and self.is_suspended(chan)):
            return False
        conn = self._conn
        chan._set_state(chan.CLOSED)
        chan._cleanup()
        if conn._channels.get(chan.channel_number) is chan:
            del conn._channels[chan.channel_number]
        self._resume_if_pending(chan, reason)
        return True

    def close_suspended_channel(self,
                                chan: Any,
                                reply_code: int = 0,
                                reply_text: str = 'Normal shutdown') -> None:
        """The application closes a channel that waits for recovery: it is
        not restored; its close callbacks run at once."""
        number = chan.channel_number
        del self._suspended[number]
        self._consumers.pop(number, None)
        self.ledger.forget_channel(number)
        hooks = hooks_of(chan)
        if hooks is not None:
            hooks.report_lost(self._republish.pop(number, []))
        if self._conn._channels.get(number) is chan:
            del self._conn._channels[number]
        chan._finish_close(exceptions.ChannelClosedByClient(
            reply_code, reply_text),
                           notify_connection=False)

    def hold_delivery(self, chan: Any, handler: Callable[..., Any],
                      frames: Tuple[Any, ...]) -> bool:
        """Hook of ``_on_deliver``: True if the delivery is held until the
        restore is over."""
        if not self.is_suspended(chan):
            return False
        self._held.append((chan, handler, frames))
        return True

    def add_channel_listener(self, kind: str, chan: Any,
                             callback: Callable[..., Any]) -> None:
        """A channel's recovery listener (see
        :meth:`pika.recovery.RecoveryCoordinator.add_channel_listener`): while
        it waits for recovery or is still the connection's channel."""
        number = chan.channel_number
        self.coordinator.add_channel_listener(
            kind, chan, callback, lambda: self.is_suspended(chan) or self._conn.
            _channels.get(number) is chan)

    # -- the restore -------------------------------------------------------

    def _advance(self, value: Any) -> None:
        gen = self._restore_gen
        if gen is None:
            return
        try:
            step = gen.send(value)
        except StopIteration:
            self._restore_gen = None
            return
        except Exception as error:  # noqa: BLE001 - any failure retries
            self._restore_gen = None
            LOGGER.info('Recovery restore failed: %r', error)
            self._conn._terminate_stream(
                exceptions.StreamLostError('Recovery restore failed: %r' %
                                           (error,)))
            return
        token: List[bool] = []

        def resume(result: Any) -> None:
            if token or self._restore_gen is not gen:
                return
            token.append(True)
            self._pending = None
            self._advance(result)

        if callable(step):
            step(resume)
            return
        chan, method, replies = step
        self._pending = (chan, resume)
        chan._rpc(method, None, replies, resume)

    def _resume_if_pending(self, chan: Any, result: Any) -> None:
        pending = self._pending
        if pending is not None and pending[0] is chan:
            pending[1](result)

    def _scratch_closed(self, chan: Any, reason: Any) -> None:
        self._resume_if_pending(chan, reason)

    def _open_scratch(self) -> Generator[_Step, Any, Any]:
        conn = self._conn

        def start(resume: Callable[[Any], None]) -> None:
            number = conn._next_channel_number()
            scratch = channel_module.Channel(conn, number, resume)
            conn._channels[number] = scratch
            scratch.add_on_close_callback(self._scratch_closed)
            self._pending = (scratch, resume)
            scratch.open()

        result = yield start
        if isinstance(result, BaseException):
            raise _AttemptFailed('scratch channel did not open: %r' % (result,))
        return result

    def _reopen(self, chan: Any) -> Generator[_Step, Any, None]:
        conn = self._conn
        number = chan.channel_number
        chan._cleanup()
        chan._set_state(chan.OPENING)
        conn._channels[number] = chan
        reply = yield (chan, spec.Channel.Open(), [spec.Channel.OpenOk])
        if isinstance(reply, BaseException):
            raise _AttemptFailed('channel %d did not reopen: %r' %
                                 (number, reply))
        for global_qos, (size, count) in sorted(
                self.ledger.qos.get(number, {}).items()):
            reply = yield (chan, spec.Basic.Qos(size, count,
                                                global_qos), [spec.Basic.QosOk])
            if isinstance(reply, BaseException):
                raise _AttemptFailed('basic_qos refused on channel %d: %r' %
                                     (number, reply))
        hooks = hooks_of(chan)
        if hooks is not None and hooks.confirms is not None:
            reply = yield (chan, spec.Confirm.Select(), [spec.Confirm.SelectOk])
            if isinstance(reply, BaseException):
                raise _AttemptFailed('confirm_delivery refused on channel %d: '
                                     '%r' % (number, reply))
            hooks.confirms.broker_seq = 0

    def _restore(self) -> Generator[_Step, Any, None]:
        skipped: List[TopologyRecoveryEntity] = []
        channels = [chan for _, chan in sorted(self._suspended.items())]
        for chan in channels:
            yield from self._reopen(chan)
        yield from self._restore_topology(skipped)
        for chan in channels:
            yield from self._restore_consumers(chan, skipped)
        self._succeed(channels, skipped)

    def _restore_topology(
            self, skipped: List[TopologyRecoveryEntity]
    ) -> Generator[_Step, Any, None]:
        scratch = None
        for step in topology_steps(self.ledger, self.config.topology):
            if scratch is None:
                scratch = yield from self._open_scratch()
            reply = yield (scratch, step.method, [step.reply])
            if isinstance(reply, BaseException):
                skipped.extend(step_refused(self.ledger, step, reply))
                scratch = None
                continue
            step_done(self.ledger, step, reply)
        if scratch is None:
            return
        open_scratch = scratch

        def close_scratch(resume: Callable[[Any], None]) -> None:
            self._pending = (open_scratch, resume)
            open_scratch.close()

        yield close_scratch

    def _restore_consumers(
            self, chan: Any, skipped: List[TopologyRecoveryEntity]
    ) -> Generator[_Step, Any, None]:
        number = chan.channel_number
        saved = self._consumers.get(number, {})
        while True:
            refused = False
            for tag, callback in list(saved.items()):
                entity = self.ledger.consumers.get((number, tag))
                if entity is None:
                    del saved[tag]
                    continue
                if self.config.topology is TopologyRecoveryMode.DISABLED:
                    skipped.append(
                        entity.skipped('topology recovery is disabled'))
                    self._drop_consumer(saved, number, tag)
                    continue
                if tag in chan._consumers:
                    continue  # restored before the channel was reopened
                details = entity.details
                chan._consumers[tag] = callback
                if details['auto_ack']:
                    chan._consumers_with_noack.add(tag)
                reply = yield (chan,
                               spec.Basic.Consume(
                                   queue=details['queue'],
                                   consumer_tag=tag,
                                   no_ack=details['auto_ack'],
                                   exclusive=details['exclusive'],
                                   arguments=details['arguments'] or
                                   None), [spec.Basic.ConsumeOk])
                if isinstance(reply, BaseException):
                    skipped.append(
                        entity.skipped('basic_consume refused (queue %r '
                                       'gone?): %r' %
                                       (details['queue'], reply)))
                    self._drop_consumer(saved, number, tag)
                    refused = True
                    break
            if not refused:
                return
            # The broker closed the channel: reopen it and restore its other
            # consumers again.
            yield from self._reopen(chan)

    def _drop_consumer(self, saved: Dict[str, Any], number: int,
                       tag: str) -> None:
        saved.pop(tag, None)
        self.ledger.forget_consumer(number, tag)

    def _succeed(self, channels: List[Any],
                 skipped: List[TopologyRecoveryEntity]) -> None:
        for chan in channels:
            chan._set_state(chan.OPEN)
        for chan in channels:
            messages = self._republish.pop(chan.channel_number, [])
            hooks = hooks_of(chan)
            if not messages or hooks is None or hooks.confirms is None:
                continue
            LOGGER.info(
                'Publishing %d unconfirmed message(s) again on '
                'channel %d', len(messages), chan.channel_number)
            for message in messages:
                channel_module.Channel.basic_publish(chan, message.exchange,
                                                     message.routing_key,
                                                     message.body,
                                                     message.properties,
                                                     message.mandatory)
                hooks.confirms.sent(message, message.delivery_tag)
        self._suspended.clear()
        self._consumers.clear()
        self._attempting = False
        self._restoring = False
        self._give_back_callbacks()
        self._watch_peer()
        self.coordinator.attempt_succeeded(skipped)
        never_opened, self._never_opened = self._never_opened, set()
        for chan in channels:
            callback = chan._on_openok_callback
            if chan.channel_number in never_opened and callback is not None:
                callback(chan)
        held, self._held = self._held, []
        for chan, handler, frames in held:
            if chan.is_open:
                handler(*frames)


_WORKFLOW_MODULE = 'pika.adapters.utils.connection_workflow'


def _is_workflow_callback(callback: Any) -> bool:
    owner = getattr(callback, '__self__', None)
    return owner is not None and type(owner).__module__ == _WORKFLOW_MODULE
