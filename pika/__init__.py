"""pika: a pure-Python AMQP 0-9-1 client library (pika 1.4 drop-in).

The names below are re-exported for convenience, as pika 1.4 does.
"""

import logging

from pika.connection import ConnectionParameters, SSLOptions, URLParameters
from pika.credentials import PlainCredentials
from pika.delivery_mode import DeliveryMode
from pika.spec import BasicProperties

from pika import adapters
from pika.adapters import BaseConnection, BlockingConnection, SelectConnection
from pika.adapters.utils.connection_workflow import AMQPConnectionWorkflow
# pika 2's thread-safe connection; not in __all__ (pika 1.4's star-import).
from pika.adapters.thread_safe_connection import Connection as Connection

from pika._version import __version__ as __version__

# pika 1.4's ``import pika`` loads these modules as a side effect, so code
# written for it reaches them as attributes (``pika.callback.CallbackManager``)
# without importing them; the engine here does not need them.
from pika import callback as callback  # noqa: E402
from pika import diagnostic_utils as diagnostic_utils  # noqa: E402

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    'adapters',
    'AMQPConnectionWorkflow',
    'BaseConnection',
    'BasicProperties',
    'BlockingConnection',
    'ConnectionParameters',
    'DeliveryMode',
    'PlainCredentials',
    'SSLOptions',
    'SelectConnection',
    'URLParameters',
]
