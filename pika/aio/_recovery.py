"""Automatic recovery for :mod:`pika.aio`
(``await pika.aio.connect(..., recovery=RecoveryConfig(...))``).

Theory of operation
-------------------
One :class:`AioRecovery` per connection drives the shared
:class:`~pika.recovery.RecoveryCoordinator` (state, attempts, backoff,
listeners, topology ledger) from a task on the connection's loop.

A loss is seen first by the engine channels (each
:class:`~pika.aio._recovery_channel.ChannelRecovery` suspends its channel),
then by the connection's close callback. If the coordinator takes it as a
recoverable loss (anything but a close the client asked for), the state
becomes ``RECONNECTING`` and the recovery task starts: it waits out the
backoff, then makes an attempt, over the whole host sequence the
connection was created with:

1. open a new :class:`~pika.adapters.asyncio_connection.AsyncioConnection`;
2. reopen every live channel with its number, attached to the same
   :class:`pika.aio.Channel` object, with its QoS and confirm mode;
3. on a scratch channel, declare the recorded exchanges, queues (a
   server-named queue gets a new name, which its bindings and consumers
   follow) and bindings; what the broker refuses is skipped;
4. restart the consumers on their channels with their tags, feeding the
   same iterators and callbacks; a consumer whose queue is gone is skipped
   and its iterator ends with :class:`pika.exceptions.ConsumerCancelled`;
5. swap the new connection in, publish the held unconfirmed messages again
   (``republish_unconfirmed``), report success with the skipped entities.

An attempt that fails closes its connection and the next one follows after
the backoff; when they run out the state becomes ``FAILED`` and the
connection and its channels close with the original error. Calls made
meanwhile wait for the outcome up to ``wait_timeout`` or raise
:class:`pika.exceptions.ConnectionRecovering`.
"""

import asyncio
import functools
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from pika import exceptions
from pika.aio._recovery_channel import ChannelRecovery
from pika.aio.consumer import Consumer
from pika.recovery import (DeadPeerWatch, RecoveryConfig, RecoveryCoordinator,
                           RecoveryState, TopologyRecoveryEntity,
                           TopologyRecoveryMode, is_recoverable_loss, step_done,
                           step_refused, topology_steps)

if TYPE_CHECKING:
    from pika.adapters.asyncio_connection import AsyncioConnection
    from pika.aio.channel import Channel
    from pika.aio.connection import Connection
    from pika.parameters import Parameters

__all__ = ['AioRecovery']

LOGGER = logging.getLogger('pika.recovery')


class _AttemptFailed(Exception):
    """A recovery attempt lost its new connection or could not restore a
    channel."""


class AioRecovery:
    """The recovery driver of one :class:`pika.aio.Connection`.

    :param connection: the connection
    :param RecoveryConfig config: the configuration
    :param list configs: the host sequence (connection parameters)
    """

    def __init__(self, connection: 'Connection', config: RecoveryConfig,
                 configs: List['Parameters']) -> None:
        self.coordinator = RecoveryCoordinator(config, connection)
        self.config = config
        self.ledger = self.coordinator.ledger
        self._conn = connection
        self._configs = configs
        self._loop = connection._loop
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: Optional[asyncio.Task[None]] = None
        self._dead_peer: Optional[DeadPeerWatch] = None
        #: True while an attempt restores channels and topology
        self.restoring = False
        self._channels: List[Channel] = []

    @property
    def is_recovering(self) -> bool:
        """True while ``RECONNECTING``."""
        return self.coordinator.state is RecoveryState.RECONNECTING

    # -- channels and connections ------------------------------------------

    def adopt(self, channel: 'Channel') -> None:
        """Install the recovery hooks on a new channel."""
        ChannelRecovery(self, channel).install()
        self._channels.append(channel)

    def forget(self, channel: 'Channel') -> None:
        """A channel closed for good: it is not restored."""
        if channel in self._channels:
            self._channels.remove(channel)

    def channels(self) -> List['Channel']:
        """The channels a recovery restores, by number."""
        live = [
            channel for channel in self._channels
            if channel._recovery is not None and channel._recovery.live
        ]
        return sorted(live, key=lambda channel: channel.channel_number)

    def watch(self, impl: 'AsyncioConnection') -> None:
        """Start watching a (new) connection for a silent peer."""
        self._stop_watch()
        heartbeat = getattr(impl.params, 'heartbeat', None)
        if self.config.fast_dead_peer_detection and heartbeat:
            self._dead_peer = DeadPeerWatch(impl, heartbeat)

    def _stop_watch(self) -> None:
        if self._dead_peer is not None:
            self._dead_peer.stop()
            self._dead_peer = None

    # -- loss --------------------------------------------------------------

    def on_loss(self, reason: BaseException) -> bool:
        """A channel or the connection went away with ``reason``: True if
        it is being recovered."""
        if self._conn._user_closing:
            return False
        if not self.coordinator.connection_lost(reason):
            return False
        if self._task is None:
            self._stop_watch()
            self._idle.clear()
            self._task = self._loop.create_task(self._run())
        return True

    def on_connection_closed(self, impl: Any, reason: BaseException) -> bool:
        """The connection's close hook: True if the close is a loss being
        recovered (the connection must not report it as closed)."""
        if impl is not self._conn._impl:
            return True  # a connection recovery already replaced
        if self.on_loss(reason):
            return True
        self._stop_watch()
        return False

    # -- waiting -----------------------------------------------------------

    async def wait_ready(self) -> None:
        """For a call made while recovering: wait up to ``wait_timeout``,
        then raise ``ConnectionRecovering`` if still recovering."""
        timeout = self.config.wait_timeout
        if self.is_recovering and timeout:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        if self.is_recovering:
            raise self.coordinator.recovering_error()

    async def wait(self, timeout: Optional[float]) -> bool:
        """Wait until recovery is over or ``timeout`` seconds passed; True
        if the connection is usable (not recovering, not failed)."""
        if self.is_recovering:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except asyncio.TimeoutError:
                return False
        return (self.coordinator.state is RecoveryState.IDLE and
                not self._conn.is_closed)

    # -- the task ----------------------------------------------------------

    async def _run(self) -> None:
        coordinator = self.coordinator
        try:
            while coordinator.is_recovering:
                delay = coordinator.next_attempt_at() - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                coordinator.begin_attempt()
                try:
                    skipped = await self._attempt()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - any failure retries
                    LOGGER.info('Recovery attempt failed: %r', error)
                    if not coordinator.attempt_failed(error):
                        self._give_up()
                    continue
                coordinator.attempt_succeeded(skipped)
        finally:
            self._task = None
            self._idle.set()

    async def _attempt(self) -> List[TopologyRecoveryEntity]:
        closed: asyncio.Future[BaseException] = self._loop.create_future()

        def on_closed(_impl: Any, reason: BaseException) -> None:
            if not closed.done():
                closed.set_result(reason)

        impl = await self._conn._connect(
            self._configs, lambda impl: impl.add_on_close_callback(on_closed))
        restore = _Restore(self, impl, closed)
        self.restoring = True
        try:
            skipped = await restore.run()
        except BaseException:
            for channel in self.channels():
                assert channel._recovery is not None
                channel._recovery.suspend()
            if not (impl.is_closed or impl.is_closing):
                impl.close()
            raise
        finally:
            self.restoring = False
        self._conn._swap(impl)
        self.watch(impl)
        for channel in self.channels():
            assert channel._recovery is not None
            channel._recovery.republish()
        return skipped

    def _give_up(self) -> None:
        """Recovery failed: the channels and the connection close with the
        original error."""
        error = self.coordinator.loss_error
        assert error is not None
        self._finish_all(error)

    def _finish_all(self, reason: BaseException) -> None:
        for channel in self.channels():
            assert channel._recovery is not None
            channel._recovery.finish(reason)
        self._conn._finish(reason)

    async def stop(self, reason: BaseException) -> None:
        """The application closed the connection while it recovers: stop,
        and close everything with ``reason``."""
        task = self._task
        if task is not None:
            task.cancel()
        self.coordinator.state = RecoveryState.IDLE
        self._finish_all(reason)
        if task is not None:
            # Let it close the connection of an attempt under way; a
            # cancelled close() stops only this wait.
            await asyncio.wait([task])

    # -- listeners ---------------------------------------------------------

    def add_channel_listener(self, kind: str, channel: 'Channel',
                             callback: Any) -> None:
        """A channel's ``add_on_recovery_*_callback``."""
        self.coordinator.add_channel_listener(
            kind, channel, callback, lambda: channel in self.channels())


async def _first(*futures: 'asyncio.Future[Any]') -> None:
    """Wait until one of ``futures`` is done (none is cancelled)."""
    await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)


class _EngineChannel:
    """An engine channel opened by an attempt, with its close reason as a
    future.

    :param impl: the :class:`pika.channel.Channel`
    """

    def __init__(self, impl: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.impl = impl
        self.closed: asyncio.Future[BaseException] = loop.create_future()
        impl.add_on_close_callback(self._on_closed)

    def _on_closed(self, _impl: Any, reason: BaseException) -> None:
        if not self.closed.done():
            self.closed.set_result(reason)


class _Restore:
    """One attempt's restoration on a freshly opened connection."""

    def __init__(self, driver: AioRecovery, impl: 'AsyncioConnection',
                 closed: 'asyncio.Future[BaseException]') -> None:
        self._driver = driver
        self._ledger = driver.ledger
        self._mode = driver.config.topology
        self._impl = impl
        self._closed = closed
        self._loop = driver._loop
        self.skipped: List[TopologyRecoveryEntity] = []

    async def run(self) -> List[TopologyRecoveryEntity]:
        """Restore everything; the skipped entities."""
        channels = self._driver.channels()
        engines: Dict[int, _EngineChannel] = {}
        for channel in channels:
            engines[channel.channel_number] = await self._reopen(channel)
        await self._restore_topology()
        for channel in channels:
            engine = engines[channel.channel_number]
            while not await self._restore_consumers(channel, engine):
                # A refused consumer closed the channel: open it again and
                # restart the others on it.
                engine = await self._reopen(channel)
        return self.skipped

    @staticmethod
    def _closed_by_application(channel: 'Channel') -> bool:
        # The application may close a channel while it is being restored:
        # it is then left alone.
        assert channel._recovery is not None
        return not channel._recovery.live

    # -- engine calls ------------------------------------------------------

    async def _call(self, engine: _EngineChannel, method: str,
                    **kwargs: Any) -> Any:
        """Run the engine RPC named ``method``; its reply, or None if the
        broker closed the channel instead of replying."""
        return await self._reply(
            engine, lambda on_reply: getattr(engine.impl, method)
            (callback=on_reply, **kwargs))

    async def _reply(self, engine: _EngineChannel,
                     send: Callable[[Callable[[Any], None]], None]) -> Any:
        """``send(on_reply)`` an RPC on ``engine``; its reply, or None if the
        broker closed the channel instead of replying."""
        reply: asyncio.Future[Any] = self._loop.create_future()

        def on_reply(result: Any) -> None:
            if not reply.done():
                reply.set_result(result)

        send(on_reply)
        await _first(reply, engine.closed, self._closed)
        if reply.done():
            return reply.result()
        self._check_connection(engine)
        return None

    def _check_connection(self, engine: _EngineChannel) -> None:
        if self._closed.done():
            raise _AttemptFailed(self._closed.result())
        if engine.closed.done() and is_recoverable_loss(engine.closed.result()):
            raise _AttemptFailed(engine.closed.result())

    async def _open(self, number: Optional[int]) -> _EngineChannel:
        opened: asyncio.Future[None] = self._loop.create_future()

        def on_open(_impl: Any) -> None:
            if not opened.done():
                opened.set_result(None)

        engine = _EngineChannel(self._impl.channel(number, on_open), self._loop)
        await _first(opened, engine.closed, self._closed)
        if not opened.done():
            self._check_connection(engine)
            raise _AttemptFailed('channel %r did not open: %r' %
                                 (number, engine.closed.result()))
        return engine

    # -- the steps ---------------------------------------------------------

    async def _reopen(self, channel: 'Channel') -> _EngineChannel:
        number = channel.channel_number
        engine = await self._open(number)
        if self._closed_by_application(channel):
            engine.impl.close()
            return engine
        channel._attach(engine.impl)
        assert channel._recovery is not None
        engine.impl = channel._recovery.shift_tags(engine.impl)
        for global_qos, (size, count) in sorted(
                self._ledger.qos.get(number, {}).items()):
            if await self._call(engine,
                                'basic_qos',
                                prefetch_size=size,
                                prefetch_count=count,
                                global_qos=global_qos) is None:
                if self._closed_by_application(channel):
                    return engine
                raise _AttemptFailed('basic_qos refused on channel %d' %
                                     (number,))
        if channel._confirming:
            if await self._call(engine,
                                'confirm_delivery',
                                ack_nack_callback=channel._on_confirm) is None:
                if self._closed_by_application(channel):
                    return engine
                raise _AttemptFailed('confirm_delivery refused on channel %d' %
                                     (number,))
            # The broker counts the new channel's confirms from 1.
            channel._publish_seq = 0
            channel._returned = None
        return engine

    async def _restore_topology(self) -> None:
        ledger = self._ledger
        scratch: Optional[_EngineChannel] = None
        for step in topology_steps(ledger, self._mode):
            if scratch is None:
                scratch = await self._open(None)
            engine = scratch
            reply = await self._reply(
                engine,
                functools.partial(engine.impl._rpc, step.method, None,
                                  [step.reply]))
            if reply is None:
                self.skipped.extend(
                    step_refused(ledger, step, engine.closed.result()))
                scratch = None
                continue
            step_done(ledger, step, reply)
        if scratch is not None and scratch.impl.is_open:
            scratch.impl.close()
            await _first(scratch.closed, self._closed)

    async def _restore_consumers(self, channel: 'Channel',
                                 engine: _EngineChannel) -> bool:
        """Restart the channel's consumers; False if the broker refused
        one (it is skipped, and the channel must be opened again)."""
        number = channel.channel_number
        if self._closed_by_application(channel):
            return True
        for tag, consumer in list(channel._consumers.items()):
            entity = self._ledger.consumers.get((number, tag))
            if entity is None or (isinstance(consumer, Consumer) and
                                  consumer._ended):
                # Cancelled while recovering, or never confirmed.
                self._drop(channel, tag, consumer, None)
                continue
            if self._mode is TopologyRecoveryMode.DISABLED:
                self._drop(channel, tag, consumer,
                           entity.skipped('topology recovery is disabled'))
                continue
            details = entity.details
            queue = details['queue']
            reply = await self._call(
                engine,
                'basic_consume',
                queue=queue,
                on_message_callback=channel._delivery_handler(
                    consumer, details['auto_ack']),
                auto_ack=details['auto_ack'],
                exclusive=details['exclusive'],
                consumer_tag=tag,
                arguments=details['arguments'] or None)
            if reply is None:
                if self._closed_by_application(channel):
                    return True
                self._drop(
                    channel, tag, consumer,
                    entity.skipped('basic_consume refused: %r' %
                                   (engine.closed.result(),)))
                return False
            if isinstance(consumer, Consumer):
                consumer.queue = queue
        return True

    def _drop(self, channel: 'Channel', tag: str, consumer: Any,
              entity: Optional[TopologyRecoveryEntity]) -> None:
        channel._consumers.pop(tag, None)
        self._ledger.forget_consumer(channel.channel_number, tag)
        if entity is None:
            return
        self.skipped.append(entity)
        if isinstance(consumer, Consumer):
            consumer.consumer_tag = None
            consumer._end(
                exceptions.ConsumerCancelled(
                    'consumer %r of queue %r was not restored after the '
                    'connection was lost: %s' %
                    (tag, entity.details['queue'], entity.reason)))
