"""pika: a pure-Python AMQP 0-9-1 client library, drop-in compatible with pika 1.4."""

__version__ = '1.4.4.post1'
