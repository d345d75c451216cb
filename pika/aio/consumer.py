"""The consumer iterator of :mod:`pika.aio`.

Theory of operation
-------------------
A :class:`Consumer` is what a subscription looks like to its user: an async
iterator of :class:`~pika.aio.message.Message`. It holds what is needed to
start the subscription (queue, flags, prefetch) apart from the engine
consumer that currently feeds it, so that automatic recovery
(:mod:`pika.aio._recovery`) can restart the subscription on a new engine
channel and feed the iterator the application is already looping over; a
subscription recovery cannot restore ends the iteration with
:class:`pika.exceptions.ConsumerCancelled` saying why.

* Flow control is the broker's: with ``prefetch_count`` the channel's
  ``Basic.Qos`` bounds the deliveries not yet settled, so the buffer between
  the engine and the iterating task never holds more than that.
* Deliveries go to a waiting ``__anext__`` directly, else into the buffer;
  a cancelled ``__anext__`` leaves its message in the buffer (nothing lost).
* Leaving ``async with`` (or :meth:`Consumer.cancel`) cancels the consumer,
  then returns to the broker (``Basic.Reject`` with requeue) every delivery
  of this consumer not yet settled, buffered or handed out; the iteration
  then ends.
* The broker cancelling the consumer ends the iteration with
  :class:`pika.exceptions.ConsumerCancelled` once the buffer is drained; the
  channel closing ends it at once with the channel's close reason.
"""

import asyncio
import collections
import logging
from types import TracebackType
from typing import (TYPE_CHECKING, Any, AsyncIterator, Deque, Dict, Optional,
                    Type)

from pika import exceptions, validators
from pika.aio.message import Message

if TYPE_CHECKING:  # the channel module imports this one
    from pika.aio.channel import Channel

__all__ = ['Consumer']

LOGGER = logging.getLogger(__name__)

# The buffer's "no more messages" marker given to a waiting __anext__.
_END = None


class Consumer(AsyncIterator[Message]):
    """An async iterator over a queue's deliveries; create it with
    :meth:`pika.aio.Channel.consume`.

    Use it as ``async with channel.consume(queue) as messages: async for
    message in messages: ...``; iterating without ``async with`` starts it
    on the first ``__anext__`` (then call :meth:`cancel` when done).
    """

    def __init__(self,
                 channel: 'Channel',
                 queue: str,
                 auto_ack: bool = False,
                 exclusive: bool = False,
                 arguments: Optional[Dict[str, Any]] = None,
                 prefetch_count: Optional[int] = None,
                 consumer_tag: Optional[str] = None) -> None:
        """See :meth:`pika.aio.Channel.consume` for the arguments."""
        validators.require_string(queue, 'queue')
        if prefetch_count is not None:
            validators.zero_or_greater('prefetch_count', prefetch_count)
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError('arguments must be a dict or None, but got %r' %
                            (arguments,))
        if consumer_tag is not None:
            validators.require_string(consumer_tag, 'consumer_tag')
        self._channel = channel
        self.queue = queue
        self.auto_ack = bool(auto_ack)
        self.exclusive = bool(exclusive)
        self.arguments = arguments
        self.prefetch_count = prefetch_count
        self._requested_tag = consumer_tag
        #: the consumer tag while subscribed, else None
        self.consumer_tag: Optional[str] = None
        self._buffer: Deque[Message] = collections.deque()
        self._waiter: Optional[asyncio.Future[Optional[Message]]] = None
        self._starting = asyncio.Lock()
        # Set once the iteration is over: None for a normal end, else the
        # exception __anext__ raises once the buffer is drained.
        self._ended = False
        self._error: Optional[BaseException] = None

    def __repr__(self) -> str:
        return '<%s queue=%r consumer_tag=%r buffered=%d>' % (
            self.__class__.__name__, self.queue, self.consumer_tag,
            len(self._buffer))

    # -- the user's side ---------------------------------------------------

    async def __aenter__(self) -> 'Consumer':
        await self.start()
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException],
                        traceback: Optional[TracebackType]) -> None:
        await self.cancel()

    def __aiter__(self) -> 'Consumer':
        return self

    async def __anext__(self) -> Message:
        buffer = self._buffer
        if buffer:
            return buffer.popleft()
        if self._ended:
            return self._raise_end()
        if self.consumer_tag is None:
            await self.start()
            if buffer:
                return buffer.popleft()
        waiter: asyncio.Future[Optional[Message]]
        waiter = self._waiter = self._channel._loop.create_future()
        try:
            message = await waiter
        except asyncio.CancelledError:
            if (waiter.done() and not waiter.cancelled() and
                    waiter.exception() is None):
                # Delivered, then cancelled before this task resumed: keep
                # the message for the next __anext__.
                delivered = waiter.result()
                if delivered is not None:
                    buffer.appendleft(delivered)
            raise
        finally:
            if self._waiter is waiter:
                self._waiter = None
        if message is None:
            return self._raise_end()
        return message

    def _raise_end(self) -> Message:
        if self._error is not None:
            raise self._error
        raise StopAsyncIteration

    async def start(self) -> None:
        """Subscribe (``Basic.Qos`` when ``prefetch_count`` is given, then
        ``Basic.Consume``); idempotent, concurrent calls share the start.

        :raises pika.exceptions.ChannelClosed: if the channel closes first
        """
        async with self._starting:
            if self.consumer_tag is not None or self._ended:
                return
            # A cancelled start leaves nothing behind: the channel cancels
            # a consumer whose Basic.ConsumeOk nobody waits for.
            await self._bind(self._channel)

    async def cancel(self) -> None:
        """Cancel the consumer, return its unsettled deliveries to the
        broker and end the iteration. Idempotent.
        """
        tag = self.consumer_tag
        try:
            if tag is not None and self._channel.is_open:
                self.consumer_tag = None
                await self._channel.basic_cancel(tag)
        finally:
            self._requeue_unsettled(tag)
            self._end(None)

    @property
    def buffered(self) -> int:
        """Messages received and not yet handed out by ``__anext__``.

        :rtype: int
        """
        return len(self._buffer)

    # -- the channel's side ------------------------------------------------

    async def _bind(self, channel: 'Channel') -> None:
        """Start the subscription on ``channel`` (a :class:`pika.aio.Channel`)
        and feed this iterator from it.
        """
        self._channel = channel
        if self.prefetch_count is not None:
            await channel.basic_qos(prefetch_count=self.prefetch_count)
        self.consumer_tag = await channel._subscribe(self)

    def _on_message(self, message: Message) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(message)
                return
        self._buffer.append(message)

    def _on_cancelled_by_broker(self) -> None:
        self.consumer_tag = None
        self._end(exceptions.ConsumerCancelled())

    def _on_connection_lost(self) -> None:
        # Automatic recovery will restart the subscription on this same
        # iterator. Manual-ack deliveries not handed out yet are requeued by
        # the broker (they come again); auto-acked ones are kept.
        if not self.auto_ack:
            self._buffer.clear()

    def _on_channel_closed(self, reason: BaseException) -> None:
        # The broker requeues what this channel had not settled.
        self.consumer_tag = None
        self._buffer.clear()
        self._end(reason)

    def _end(self, error: Optional[BaseException]) -> None:
        if self._ended:
            return
        self._ended = True
        self._error = error
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(_END)

    def _requeue_unsettled(self, tag: Optional[str]) -> None:
        # Buffered messages are unsettled too: the channel's list has them.
        self._buffer.clear()
        if self.auto_ack or tag is None:
            return
        channel = self._channel
        pending = channel._unsettled_of(tag)
        if not pending or not channel.is_open:
            return
        for message in pending:
            try:
                message.reject(requeue=True)
            except exceptions.AMQPError as error:
                LOGGER.warning('Could not requeue %r: %r', message, error)
                return
