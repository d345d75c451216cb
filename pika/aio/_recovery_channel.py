"""What automatic recovery adds to each :class:`pika.aio.Channel` of a
connection created with ``recovery=`` (see :mod:`pika.aio._recovery`).

Theory of operation
-------------------
:class:`ChannelRecovery` is installed on the channel instance (the
channel's ``_recovery``, plus instance attributes that wrap its public
methods), so channels of connections without ``recovery=`` run none of it.

* Recording: the declaration, binding, QoS and consumer methods record in
  the connection's :class:`~pika.recovery.TopologyLedger` what the broker
  acknowledged, and forget what is deleted, unbound or cancelled.
* Waiting: while the connection recovers, every awaitable method first
  waits for recovery up to ``RecoveryConfig.wait_timeout`` (or fails at
  once) with :class:`pika.exceptions.ConnectionRecovering`; nothing is sent
  before the channel is back.
* Suspending: when the engine channel goes away with a recoverable loss,
  the channel is not closed: pending RPC awaits fail with
  ``ConnectionRecovering``, its engine channel is replaced by a stand-in
  (neither open nor closed), consumers keep their iterators (deliveries of
  manual-ack consumers not handed out yet are dropped: the broker requeues
  them), and every delivery not settled yet is pointed at a sink that drops
  its ``ack``/``nack``/``reject`` (logged once): the broker has requeued
  those messages, and their tags mean nothing on the new channel.
* Confirms: each publish awaiting its confirm when the loss came fails with
  :class:`pika.exceptions.ConfirmationLost`, or, with
  ``republish_unconfirmed``, is held and published again once the channel
  is restored, its await then completing with the new confirm.
"""

import asyncio
import functools
import inspect
import logging
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Dict, List,
                    Optional, Tuple)

from pika import exceptions
from pika.aio.consumer import Consumer
from pika.recovery import UnconfirmedMessage, is_recoverable_loss

if TYPE_CHECKING:
    from pika.aio._recovery import AioRecovery
    from pika.aio.channel import Channel

__all__ = ['ChannelRecovery']

LOGGER = logging.getLogger('pika.recovery')

# Awaitable methods that only wait for recovery before running.
_WAITING = ('queue_purge', 'basic_recover', 'flow', 'tx_select', 'tx_commit',
            'tx_rollback', 'confirm_delivery', 'basic_get')

# Awaitable methods whose acknowledged effect goes into the ledger.
_RECORDING = ('exchange_declare', 'exchange_delete', 'exchange_bind',
              'exchange_unbind', 'queue_declare', 'queue_delete', 'queue_bind',
              'queue_unbind', 'basic_qos', '_start_consumer')


class _StaleDeliveries:
    """Where deliveries from before a loss send their ``ack``, ``nack`` and
    ``reject``: nowhere (the broker requeued them with the old channel);
    the first one per channel and loss is logged.

    :param int channel_number: the channel they arrived on
    """

    is_open = False

    def __init__(self, channel_number: int) -> None:
        self._channel_number = channel_number
        self._logged = False

    def _drop(self, delivery_tag: int) -> None:
        if self._logged:
            return
        self._logged = True
        LOGGER.warning(
            'Not sending ack/nack/reject of delivery tag %d on channel %d: '
            'it is from before the connection was lost, and the broker has '
            'requeued that message (logged once per channel and recovery)',
            delivery_tag, self._channel_number)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Drop it."""
        self._drop(delivery_tag)

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Drop it."""
        self._drop(delivery_tag)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Drop it."""
        self._drop(delivery_tag)


class _SuspendedImpl(_StaleDeliveries):
    """Stands in for the engine channel while the connection recovers:
    neither open nor closed; acks by tag are dropped (every tag is from
    before the loss); anything else raises
    :class:`pika.exceptions.ConnectionRecovering`.

    :param ChannelRecovery hooks: the channel's recovery hooks
    :param previous: the engine channel that went away
    """

    is_closed = False
    is_closing = False
    flow_active = True

    def __init__(self, hooks: 'ChannelRecovery', previous: Any) -> None:
        super().__init__(previous.channel_number)
        self._hooks = hooks
        self.previous = previous

    @property
    def channel_number(self) -> int:
        """The channel's number (kept by recovery)."""
        number: int = self.previous.channel_number
        return number

    @property
    def consumer_tags(self) -> List[str]:
        """The consumers recovery will restart."""
        return list(self._hooks.channel._consumers)

    def __repr__(self) -> str:
        return '<recovering %r>' % (self.previous,)

    def basic_publish(self, *_args: Any, **_kwargs: Any) -> None:
        """Refuse: nothing is sent while recovering."""
        raise self._hooks.driver.coordinator.recovering_error()

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        raise self._hooks.driver.coordinator.recovering_error()


# After the n-th recovery a channel's delivery tags, as the application sees
# them, are the broker's plus n << _TAG_GENERATION_SHIFT: a tag from before a
# loss can never be taken for one of the new channel.
_TAG_GENERATION_SHIFT = 40


class _TagShift:
    """The engine channel of a restored channel, as the
    :class:`pika.aio.Channel` uses it: deliveries get the generation's base
    added to their tag, and acks by tag take it off again, dropping tags of
    an earlier generation (logged once).

    :param impl: the engine channel
    :param int generation: recoveries so far, this one included
    :param stale: where acks of older tags go
    """

    def __init__(self, impl: Any, generation: int,
                 stale: _StaleDeliveries) -> None:
        self.wrapped = impl
        self._base = generation << _TAG_GENERATION_SHIFT
        self._stale = stale

    def __repr__(self) -> str:
        return repr(self.wrapped)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def _shifting(self, callback: Callable[..., Any]) -> Callable[..., None]:
        base = self._base

        def shifted(channel: Any, method: Any, properties: Any,
                    body: bytes) -> None:
            method.delivery_tag += base
            callback(channel, method, properties, body)

        return shifted

    def basic_consume(self, queue: str, on_message_callback: Callable[..., Any],
                      *args: Any, **kwargs: Any) -> Any:
        """The engine's, with the tags of deliveries shifted."""
        return self.wrapped.basic_consume(queue,
                                          self._shifting(on_message_callback),
                                          *args, **kwargs)

    def basic_get(self, queue: str, callback: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> Any:
        """The engine's, with the tag of the message shifted."""
        return self.wrapped.basic_get(queue, self._shifting(callback), *args,
                                      **kwargs)

    def _live(self, delivery_tag: int) -> Optional[int]:
        if not delivery_tag:
            return 0  # with multiple: everything unacknowledged
        if delivery_tag <= self._base:
            self._stale.basic_ack(delivery_tag)
            return None
        return delivery_tag - self._base

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """The engine's, for a tag of this generation."""
        tag = self._live(delivery_tag)
        if tag is not None:
            self.wrapped.basic_ack(tag, multiple)

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """The engine's, for a tag of this generation."""
        tag = self._live(delivery_tag)
        if tag is not None:
            self.wrapped.basic_nack(tag, multiple, requeue)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """The engine's, for a tag of this generation."""
        tag = self._live(delivery_tag)
        if tag is not None:
            self.wrapped.basic_reject(tag, requeue)


def _retrieved(future: 'asyncio.Future[Any]', error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
        # Awaits still raise it; one nobody awaits is not an error.
        future.exception()


def _transfer(source: 'asyncio.Future[Any]',
              target: 'asyncio.Future[Any]') -> None:
    """``source`` (a republished message's confirm) completed: complete
    ``target`` (the original publish's) the same way."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        _retrieved(target, source.exception())  # type: ignore[arg-type]
    else:
        target.set_result(None)


class ChannelRecovery:
    """The recovery hooks of one :class:`pika.aio.Channel`.

    :param driver: the connection's :class:`~pika.aio._recovery.AioRecovery`
    :param channel: the channel
    """

    def __init__(self, driver: 'AioRecovery', channel: 'Channel') -> None:
        self.driver = driver
        self.channel = channel
        self._ledger = driver.ledger
        #: the application closed the channel: never restore it
        self.user_closed = False
        # confirm sequence number -> what was published, while unconfirmed
        self._unconfirmed: Dict[int, UnconfirmedMessage] = {}
        #: publishes to make again once restored, with the awaits they
        #: complete (republish_unconfirmed)
        self.held: List[Tuple[UnconfirmedMessage, asyncio.Future[Any]]] = []
        self._publish_original: Callable[..., Awaitable[None]] = (
            channel.basic_publish)
        # where acks by tag go while recovering (one per loss)
        self._stale = _StaleDeliveries(channel.channel_number)
        channel._recovery = self

    # -- installing ----------------------------------------------------------

    def install(self) -> None:
        """Wrap the channel's methods on the instance."""
        channel = self.channel
        for name in _WAITING + _RECORDING:
            original = getattr(channel, name)
            setattr(channel, name, self._waiting(name, original))
        wrappers: Dict[str, Callable[[Any], Any]] = {
            'basic_publish': self._publishing,
            'basic_cancel': self._cancelling,
            'close': self._closing,
            'basic_ack': self._settling,
            'basic_nack': self._settling,
            'basic_reject': self._settling,
        }
        for name, wrap in wrappers.items():
            setattr(channel, name, wrap(getattr(channel, name)))

    @property
    def suspended(self) -> bool:
        """True while the channel waits for recovery."""
        return isinstance(self.channel._impl, _SuspendedImpl)

    @property
    def live(self) -> bool:
        """True while the channel is (to be) restored."""
        channel = self.channel
        return (not self.user_closed and channel._opened.done() and
                not channel._closed.done())

    def _waiting(self, name: str, original: Callable[...,
                                                     Awaitable[Any]]) -> Any:
        signature = inspect.signature(original)
        driver = self.driver
        recording = name in _RECORDING

        async def call(*args: Any, **kwargs: Any) -> Any:
            if driver.is_recovering:
                await driver.wait_ready()
            reply = await original(*args, **kwargs)
            if recording:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                self._record(name, bound.arguments, reply)
            return reply

        call.__name__ = name
        call.__doc__ = original.__doc__
        return call

    def _record(self, name: str, arguments: Dict[str, Any], reply: Any) -> None:
        ledger = self._ledger
        number = self.channel.channel_number
        get: Callable[[str], Any] = arguments.__getitem__
        if name == 'exchange_declare':
            if not get('passive'):
                ledger.record_exchange(number, get('exchange'),
                                       get('exchange_type'), get('durable'),
                                       get('auto_delete'), get('internal'),
                                       get('arguments'))
        elif name == 'queue_declare':
            if not get('passive'):
                ledger.record_queue(number, get('queue'), reply.method.queue,
                                    get('durable'), get('exclusive'),
                                    get('auto_delete'), get('arguments'))
        elif name in ('exchange_bind', 'queue_bind'):
            destination, source = (('destination',
                                    'source') if name == 'exchange_bind' else
                                   ('queue', 'exchange'))
            ledger.record_binding(number, name.replace('_bind', '_binding'),
                                  get(destination), get(source),
                                  get('routing_key'), get('arguments'))
        elif name in ('exchange_unbind', 'queue_unbind'):
            destination, source = (('destination',
                                    'source') if name == 'exchange_unbind' else
                                   ('queue', 'exchange'))
            ledger.forget_binding(name.replace('_unbind', '_binding'),
                                  get(destination) or '',
                                  get(source) or '', get('routing_key'),
                                  get('arguments'))
        elif name == 'exchange_delete':
            ledger.forget_exchange(get('exchange') or '')
        elif name == 'queue_delete':
            ledger.forget_queue(get('queue'))
        elif name == 'basic_qos':
            ledger.record_qos(number, get('prefetch_size'),
                              get('prefetch_count'), get('global_qos'))
        else:  # _start_consumer: the reply is the consumer tag
            ledger.record_consumer(number, reply, get('queue'), get('auto_ack'),
                                   get('exclusive'), get('arguments'))

    def _publishing(self, original: Callable[..., Awaitable[None]]) -> Any:
        driver = self.driver
        channel = self.channel
        unconfirmed = self._unconfirmed

        def basic_publish(exchange: str,
                          routing_key: str,
                          body: Any,
                          properties: Any = None,
                          mandatory: bool = False) -> Awaitable[None]:
            if driver.is_recovering:
                if not driver.config.wait_timeout:
                    raise driver.coordinator.recovering_error()
                # A task, so that it goes out (in call order) even if the
                # application does not await it; cancelling it before the
                # recovery is over means it is never sent.
                return asyncio.ensure_future(
                    self._publish_when_recovered(exchange, routing_key, body,
                                                 properties, mandatory))
            result = original(exchange, routing_key, body, properties,
                              mandatory)
            if channel._confirming:
                unconfirmed[channel._publish_seq] = UnconfirmedMessage(
                    exchange, routing_key, body, properties, mandatory)
                if len(unconfirmed) > 2 * len(channel._confirms) + 64:
                    self._prune()
            return result

        basic_publish.__doc__ = original.__doc__
        return basic_publish

    def _prune(self) -> None:
        confirms = self.channel._confirms
        unconfirmed = self._unconfirmed
        for seq in [seq for seq in unconfirmed if seq not in confirms]:
            del unconfirmed[seq]

    async def _publish_when_recovered(self, exchange: str, routing_key: str,
                                      body: Any, properties: Any,
                                      mandatory: bool) -> None:
        await self.driver.wait_ready()
        await self.channel.basic_publish(exchange, routing_key, body,
                                         properties, mandatory)

    def _settling(self, original: Callable[..., None]) -> Any:

        def settle(delivery_tag: int = 0, *args: Any, **kwargs: Any) -> None:
            if self.suspended:
                # Every tag is from before the loss until the channel is
                # reopened; after that its tag shift tells them apart.
                self._stale.basic_ack(delivery_tag)
                return
            original(delivery_tag, *args, **kwargs)

        settle.__doc__ = original.__doc__
        return settle

    def _cancelling(self, original: Callable[..., Awaitable[Any]]) -> Any:
        channel = self.channel

        async def basic_cancel(consumer_tag: str = '') -> Any:
            if self.suspended:
                # Nothing to tell the broker: the consumer is just not
                # restarted.
                channel._consumers.pop(consumer_tag, None)
                self._ledger.forget_consumer(channel.channel_number,
                                             consumer_tag)
                return None
            try:
                return await original(consumer_tag)
            finally:
                self._ledger.forget_consumer(channel.channel_number,
                                             consumer_tag)

        basic_cancel.__doc__ = original.__doc__
        return basic_cancel

    def _closing(self, original: Callable[..., Awaitable[None]]) -> Any:

        async def close(reply_code: int = 0,
                        reply_text: str = 'Normal shutdown') -> None:
            self.user_closed = True
            if self.suspended:
                self.finish(
                    exceptions.ChannelClosedByClient(reply_code, reply_text))
                return
            await original(reply_code, reply_text)

        close.__doc__ = original.__doc__
        return close

    # -- loss ----------------------------------------------------------------

    def on_engine_closed(self, impl: Any, reason: BaseException) -> bool:
        """The channel's ``_on_closed`` hook: True if recovery takes the
        loss over (the channel must not finish)."""
        channel = self.channel
        driver = self.driver
        current: Any = channel._impl
        if isinstance(current, _TagShift):
            current = current.wrapped
        if impl is not current:
            return True  # an engine channel this one no longer drives
        if self.user_closed:
            # Closed by the application (maybe while being restored).
            self._ledger.forget_channel(channel.channel_number)
            driver.forget(channel)
            return False
        if driver.restoring:
            # A restore step the broker refused, or the new connection
            # lost: the attempt sees it and acts.
            if is_recoverable_loss(reason):
                self.suspend()
            return True
        if (not self.user_closed and is_recoverable_loss(reason) and
                driver.on_loss(reason)):
            if self.live:
                self.suspend()
                return True
            # Still opening: nobody holds it yet, its opener is told.
            self.finish(driver.coordinator.recovering_error())
            return True
        self._ledger.forget_channel(channel.channel_number)
        self.driver.forget(channel)
        return False

    def suspend(self) -> None:
        """Park the channel until recovery restores it (idempotent)."""
        channel = self.channel
        if self.suspended:
            return
        stand_in = _SuspendedImpl(self, channel._impl)
        channel._impl = stand_in  # type: ignore[assignment]
        channel._publish = stand_in.basic_publish
        coordinator = self.driver.coordinator
        calls, channel._calls = channel._calls, set()
        pending = list(calls) + list(channel._cancelling.values())
        channel._cancelling = {}
        if channel._get_pending is not None:
            pending.append(channel._get_pending)
            channel._get_pending = None
        for future in pending:
            _retrieved(future, coordinator.recovering_error())
        self._lose_confirms()
        stale = self._stale = _StaleDeliveries(channel.channel_number)
        for message in channel._unsettled.values():
            message._impl = stale  # type: ignore[assignment]
        channel._unsettled = {}
        for consumer in channel._consumers.values():
            if isinstance(consumer, Consumer):
                consumer._on_connection_lost()

    def _lose_confirms(self) -> None:
        channel = self.channel
        confirms, channel._confirms = channel._confirms, {}
        channel._returned = None
        # The publish wrapper holds this very dict: empty it in place.
        unconfirmed = dict(self._unconfirmed)
        self._unconfirmed.clear()
        republish = self.driver.config.republish_unconfirmed
        for seq, future in confirms.items():
            message = unconfirmed.get(seq)
            if republish and message is not None:
                self.held.append((message, future))
            elif not future.done():
                _retrieved(
                    future,
                    exceptions.ConfirmationLost([message] if message else []))

    def finish(self, reason: BaseException) -> None:
        """The channel is closed for good (recovery failed or stopped, or
        the application closed it while recovering)."""
        channel = self.channel
        impl = channel._impl
        if isinstance(impl, _SuspendedImpl):
            channel._impl = impl.previous
            channel._publish = impl.previous.basic_publish
        self._ledger.forget_channel(channel.channel_number)
        self.driver.forget(channel)
        held, self.held = self.held, []
        for message, future in held:
            if not future.done():
                _retrieved(future, exceptions.ConfirmationLost([message]))
        channel._finish(reason)

    def shift_tags(self, impl: Any) -> Any:
        """The channel was reopened on engine channel ``impl`` (attached):
        from now on its delivery tags belong to the next generation. Returns
        what the channel drives now."""
        shifted = _TagShift(impl, self.driver.coordinator.recoveries + 1,
                            self._stale)
        self.channel._impl = shifted  # type: ignore[assignment]
        return shifted

    # -- after a restore ------------------------------------------------------

    def republish(self) -> None:
        """Publish the held messages again on the restored channel; each
        original await completes with its new confirm."""
        held, self.held = self.held, []
        original = self._publish_original
        channel = self.channel
        for message, future in held:
            try:
                result = original(message.exchange, message.routing_key,
                                  message.body, message.properties,
                                  message.mandatory)
            except exceptions.AMQPError as error:
                _retrieved(future, error)
                continue
            self._unconfirmed[channel._publish_seq] = message
            # A future (the confirm), or after a congested write buffer a
            # coroutine that drains first.
            confirmed = asyncio.ensure_future(result)
            confirmed.add_done_callback(
                functools.partial(_transfer, target=future))
