"""Connection adapters: one per event loop, plus the blocking API.

Tornado, Twisted and gevent adapters are imported from their own modules
(``pika.adapters.tornado_connection`` etc.) so that the core needs none of
those packages.
"""

from pika.adapters.base_connection import BaseConnection
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.adapters.select_connection import IOLoop, SelectConnection
from pika.adapters.blocking_connection import BlockingConnection

__all__ = [
    'AsyncioConnection',
    'BaseConnection',
    'BlockingConnection',
    'IOLoop',
    'SelectConnection',
]
