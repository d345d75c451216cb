"""Messages received by :mod:`pika.aio` (consumers, ``basic_get``,
returns), and the already-completed awaitable the non-waiting methods
return.

A message remembers the engine channel it arrived on: its ``ack``, ``nack``
and ``reject`` go to that channel only, so a delivery tag is never sent on a
channel it does not belong to (a later recovery opens a new engine channel;
messages from before it then fail to settle instead of settling the wrong
message).
"""

from typing import TYPE_CHECKING, Any, Dict, Generator, Optional, Union

from pika import channel as engine_channel
from pika import spec

if TYPE_CHECKING:  # the channel module imports this one
    from pika.aio.channel import Channel

__all__ = ['Message', 'DONE', 'MessageMethod']

#: The method a :class:`Message` arrived with.
MessageMethod = Union[spec.Basic.Deliver, spec.Basic.GetOk, spec.Basic.Return]


class _Done:
    """An awaitable that is already complete (its result is None).

    Returned by calls that have nothing to wait for (acks, publishes without
    confirms), so ``await`` on them costs no future, no loop turn and no
    allocation: every await gets the same exhausted iterator.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return _EXHAUSTED

    def __repr__(self) -> str:
        return '<pika.aio.DONE>'


def _over() -> Generator[Any, None, None]:
    return
    yield  # pragma: no cover - makes this a generator


# A generator that is over: resuming it raises StopIteration (value None) at
# once, every time, so every ``await DONE`` can share it.
_EXHAUSTED = _over()
next(_EXHAUSTED, None)

#: The shared completed awaitable.
DONE = _Done()


class Message:
    """A message from the broker.

    :ivar channel: the :class:`pika.aio.Channel` it arrived on
    :ivar method: ``spec.Basic.Deliver``, ``spec.Basic.GetOk`` or
        ``spec.Basic.Return``
    :ivar properties: its :class:`pika.spec.BasicProperties`
    :ivar bytes body: its body
    """

    __slots__ = ('channel', 'method', 'properties', 'body', '_impl',
                 '_unsettled', '_settled')

    def __init__(self, channel: 'Channel', impl: engine_channel.Channel,
                 method: MessageMethod, properties: spec.BasicProperties,
                 body: bytes, unsettled: Optional[Dict[int,
                                                       'Message']]) -> None:
        """
        :param channel: the :class:`pika.aio.Channel` it arrived on
        :param impl: the :class:`pika.channel.Channel` it arrived on
        :param method: the delivering method
        :param properties: the message properties
        :param bytes body: the body
        :param dict unsettled: the channel's unsettled deliveries (this
            message is in it), or None when it needs no settling (auto-ack,
            returned messages)
        """
        self.channel = channel
        self.method = method
        self.properties = properties
        self.body = body
        self._impl = impl
        self._unsettled = unsettled
        self._settled = unsettled is None

    def __repr__(self) -> str:
        return '<%s %s delivery_tag=%s body=%d bytes>' % (
            self.__class__.__name__, self.method.NAME, self.delivery_tag,
            len(self.body))

    @property
    def delivery_tag(self) -> int:
        """The delivery tag (0 for a returned message).

        :rtype: int
        """
        tag: int = getattr(self.method, 'delivery_tag', 0)
        return tag

    @property
    def consumer_tag(self) -> Optional[str]:
        """The consumer tag of a delivery, else None.

        :rtype: str
        """
        tag: Optional[str] = getattr(self.method, 'consumer_tag', None)
        return tag

    @property
    def exchange(self) -> str:
        """The exchange it was published to.

        :rtype: str
        """
        return self.method.exchange or ''

    @property
    def routing_key(self) -> str:
        """The routing key it was published with.

        :rtype: str
        """
        return self.method.routing_key or ''

    @property
    def redelivered(self) -> bool:
        """True when the broker delivered it before.

        :rtype: bool
        """
        return bool(getattr(self.method, 'redelivered', False))

    @property
    def settled(self) -> bool:
        """True once acknowledged or rejected (always True for auto-ack and
        returned messages).

        :rtype: bool
        """
        return self._settled

    def ack(self, multiple: bool = False) -> _Done:
        """Acknowledge the message (``Basic.Ack``); with ``multiple``, every
        unsettled message of the channel up to this one as well.

        Nothing waits for the broker: the returned awaitable is complete, so
        ``await message.ack()`` and ``message.ack()`` do the same.

        :param bool multiple: settle the earlier deliveries too
        :raises ValueError: if the message is already settled
        :raises pika.exceptions.ChannelWrongStateError: if its channel is
            closed
        """
        if self._settled:
            self._require_unsettled()
        # Hot path. Only deliveries and Basic.GetOk are unsettled, and both
        # carry their tag.
        tag: int = self.method.delivery_tag  # type: ignore[union-attr]
        self._impl.basic_ack(tag, multiple)
        if multiple:
            self._mark_settled(True)
            return DONE
        self._settled = True
        unsettled = self._unsettled
        if unsettled is not None:
            unsettled.pop(tag, None)
        return DONE

    def nack(self, multiple: bool = False, requeue: bool = True) -> _Done:
        """Reject the message (``Basic.Nack``); see :meth:`ack`.

        :param bool multiple: reject the earlier deliveries too
        :param bool requeue: requeue instead of dropping / dead-lettering
        :raises ValueError: if the message is already settled
        """
        self._require_unsettled()
        self._impl.basic_nack(self.delivery_tag, multiple, requeue)
        self._mark_settled(multiple)
        return DONE

    def reject(self, requeue: bool = True) -> _Done:
        """Reject the message (``Basic.Reject``); see :meth:`ack`.

        :param bool requeue: requeue instead of dropping / dead-lettering
        :raises ValueError: if the message is already settled
        """
        self._require_unsettled()
        self._impl.basic_reject(self.delivery_tag, requeue)
        self._mark_settled(False)
        return DONE

    def _require_unsettled(self) -> None:
        if self._settled:
            raise ValueError(
                'message delivery_tag=%s is already settled (acknowledged, '
                'rejected or auto-acked)' % (self.delivery_tag,))

    def _mark_settled(self, multiple: bool) -> None:
        self._settled = True
        unsettled = self._unsettled
        if unsettled is None:
            return
        tag = self.delivery_tag
        if not multiple:
            unsettled.pop(tag, None)
            return
        # Delivery tags grow, and the dict keeps arrival order.
        while unsettled:
            first = next(iter(unsettled))
            if first > tag:
                break
            unsettled.pop(first)._settled = True
