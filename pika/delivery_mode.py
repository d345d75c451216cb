"""AMQP ``delivery_mode`` values of ``BasicProperties``."""

from enum import Enum


class DeliveryMode(Enum):
    """Whether the broker keeps a message on disk.

    Pass ``DeliveryMode.Persistent.value`` (or the member itself, which
    ``BasicProperties`` accepts) as ``delivery_mode``.
    """
    Transient = 1
    Persistent = 2
