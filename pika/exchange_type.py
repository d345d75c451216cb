"""The exchange types every AMQP 0-9-1 broker provides."""

from enum import Enum


class ExchangeType(str, Enum):
    """Exchange type names; members compare equal to their string values."""
    direct = 'direct'
    fanout = 'fanout'
    headers = 'headers'
    topic = 'topic'
