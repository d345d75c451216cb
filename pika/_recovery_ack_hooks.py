"""The acknowledgement hooks both recovery drivers install on their
channels (:mod:`pika._recovery_blocking_hooks`,
:mod:`pika._recovery_async_hooks`): ``basic_ack``/``basic_nack``/
``basic_reject`` take the delivery-tag generation off the application's tag
(:class:`pika.recovery.DeliveryTagGenerations`) and drop a tag from before a
loss, which the new channel would answer with 406 PRECONDITION_FAILED.
"""

from typing import Any


class AckHooks:
    """Mixin of a channel-hooks class that has ``_recovery`` (with
    ``live_tag(channel, tag, multiple)``) and ``_channel``; each hook gets
    the channel's ``original`` method first."""

    _recovery: Any
    _channel: Any

    def basic_ack(self,
                  original: Any,
                  delivery_tag: int = 0,
                  multiple: bool = False) -> None:
        """``basic_ack`` with the broker's tag, or nothing for a stale tag."""
        tag = self._recovery.live_tag(self._channel, delivery_tag, multiple)
        if tag is not None:
            original(tag, multiple)

    def basic_nack(self,
                   original: Any,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """``basic_nack`` with the broker's tag, or nothing for a stale
        tag."""
        tag = self._recovery.live_tag(self._channel, delivery_tag, multiple)
        if tag is not None:
            original(tag, multiple, requeue)

    def basic_reject(self,
                     original: Any,
                     delivery_tag: int = 0,
                     requeue: bool = True) -> None:
        """``basic_reject`` with the broker's tag, or nothing for a stale
        tag."""
        tag = self._recovery.live_tag(self._channel, delivery_tag, False)
        if tag is not None:
            original(tag, requeue)
