"""The declaration and setting RPCs of BlockingChannel: exchanges, queues,
transactions, QoS, recover and flow.

Each is a plain request/reply through ``BlockingChannel._rpc`` (send through
the asynchronous channel, pump until the reply or the channel's closure) and
is bound into :class:`pika.adapters.blocking_connection.BlockingChannel`'s
class body, so it is a method of that class like the others; it lives here
only to keep the consumer and publisher machinery of ``_blocking_channel``
readable.
"""

from typing import Any, Dict, Optional

from pika.exchange_type import ExchangeType

__all__ = [
    'flow', 'basic_qos', 'basic_recover', 'exchange_declare', 'exchange_delete',
    'exchange_bind', 'exchange_unbind', 'queue_declare', 'queue_delete',
    'queue_purge', 'queue_bind', 'queue_unbind', 'tx_select', 'tx_commit',
    'tx_rollback'
]


def flow(self: Any, active: bool) -> bool:
    """Ask the broker to pause (False) or resume (True) deliveries.

    :param bool active: True to resume, False to pause
    :returns: the flow state the broker reports
    :rtype: bool
    """
    # The asynchronous channel reports the broker's flow state as a bool.
    result = self._rpc(self._impl.flow, active=active)
    if isinstance(result, bool):
        return result
    return result.method.active


def basic_qos(self: Any,
              prefetch_size: int = 0,
              prefetch_count: int = 0,
              global_qos: bool = False) -> None:
    """Set the prefetch window.

    :param int prefetch_size: window in octets (0: no limit)
    :param int prefetch_count: window in messages (0: no limit)
    :param bool global_qos: apply to the whole channel (RabbitMQ:
        shared by its consumers) instead of each new consumer
    """
    self._rpc(self._impl.basic_qos,
              prefetch_size=prefetch_size,
              prefetch_count=prefetch_count,
              global_qos=global_qos)


def basic_recover(self: Any, requeue: bool = False) -> None:
    """Ask the broker to redeliver unacknowledged messages.

    :param bool requeue: True to requeue (possibly to other consumers)
    """
    self._rpc(self._impl.basic_recover, requeue=requeue)


# -- exchanges ---------------------------------------------------------------


def exchange_declare(self: Any,
                     exchange: str,
                     exchange_type: Any = ExchangeType.direct,
                     passive: bool = False,
                     durable: bool = False,
                     auto_delete: bool = False,
                     internal: bool = False,
                     arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Declare an exchange.

    :param str exchange: the exchange name
    :param exchange_type: the type (:class:`pika.exchange_type.ExchangeType`
        or str)
    :param bool passive: only check that it exists
    :param bool durable: survive broker restarts
    :param bool auto_delete: delete when no longer bound
    :param bool internal: only other exchanges can publish to it
    :param dict arguments: custom arguments
    :returns: the ``Exchange.DeclareOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.exchange_declare,
                     exchange=exchange,
                     exchange_type=exchange_type,
                     passive=passive,
                     durable=durable,
                     auto_delete=auto_delete,
                     internal=internal,
                     arguments=arguments)


def exchange_delete(self: Any,
                    exchange: Optional[str] = None,
                    if_unused: bool = False) -> Any:
    """Delete an exchange.

    :param str exchange: the exchange name
    :param bool if_unused: only if it has no bindings
    :returns: the ``Exchange.DeleteOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.exchange_delete,
                     exchange=exchange,
                     if_unused=if_unused)


def exchange_bind(self: Any,
                  destination: str,
                  source: str,
                  routing_key: str = '',
                  arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Bind an exchange to another (RabbitMQ extension).

    :param str destination: the exchange receiving messages
    :param str source: the exchange messages come from
    :param str routing_key: the binding key
    :param dict arguments: custom arguments
    :returns: the ``Exchange.BindOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.exchange_bind,
                     destination=destination,
                     source=source,
                     routing_key=routing_key,
                     arguments=arguments)


def exchange_unbind(self: Any,
                    destination: Optional[str] = None,
                    source: Optional[str] = None,
                    routing_key: str = '',
                    arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Remove an exchange-to-exchange binding.

    :param str destination: the exchange receiving messages
    :param str source: the exchange messages come from
    :param str routing_key: the binding key
    :param dict arguments: custom arguments
    :returns: the ``Exchange.UnbindOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.exchange_unbind,
                     destination=destination,
                     source=source,
                     routing_key=routing_key,
                     arguments=arguments)


# -- queues ------------------------------------------------------------------


def queue_declare(self: Any,
                  queue: str,
                  passive: bool = False,
                  durable: bool = False,
                  exclusive: bool = False,
                  auto_delete: bool = False,
                  arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Declare a queue ('' lets the broker name it).

    :param str queue: the queue name
    :param bool passive: only check that it exists
    :param bool durable: survive broker restarts
    :param bool exclusive: only this connection; deleted with it
    :param bool auto_delete: delete after the last consumer goes
    :param dict arguments: custom arguments (``x-message-ttl`` ...)
    :returns: the ``Queue.DeclareOk`` method frame (its ``.method`` has
        ``queue``, ``message_count``, ``consumer_count``)
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.queue_declare,
                     queue=queue,
                     passive=passive,
                     durable=durable,
                     exclusive=exclusive,
                     auto_delete=auto_delete,
                     arguments=arguments)


def queue_delete(self: Any,
                 queue: str,
                 if_unused: bool = False,
                 if_empty: bool = False) -> Any:
    """Delete a queue.

    :param str queue: the queue name
    :param bool if_unused: only if it has no consumers
    :param bool if_empty: only if it has no messages
    :returns: the ``Queue.DeleteOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.queue_delete,
                     queue=queue,
                     if_unused=if_unused,
                     if_empty=if_empty)


def queue_purge(self: Any, queue: str) -> Any:
    """Remove all ready messages from a queue.

    :param str queue: the queue name
    :returns: the ``Queue.PurgeOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.queue_purge, queue=queue)


def queue_bind(self: Any,
               queue: str,
               exchange: str,
               routing_key: Optional[str] = None,
               arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Bind a queue to an exchange.

    :param str queue: the queue name
    :param str exchange: the exchange name
    :param str routing_key: the binding key (None: the queue name)
    :param dict arguments: custom arguments
    :returns: the ``Queue.BindOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.queue_bind,
                     queue=queue,
                     exchange=exchange,
                     routing_key=routing_key,
                     arguments=arguments)


def queue_unbind(self: Any,
                 queue: str,
                 exchange: str,
                 routing_key: Optional[str] = None,
                 arguments: Optional[Dict[str, Any]] = None) -> Any:
    """Remove a queue binding.

    :param str queue: the queue name
    :param str exchange: the exchange name
    :param str routing_key: the binding key (None: the queue name)
    :param dict arguments: custom arguments
    :returns: the ``Queue.UnbindOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.queue_unbind,
                     queue=queue,
                     exchange=exchange,
                     routing_key=routing_key,
                     arguments=arguments)


# -- transactions ------------------------------------------------------------


def tx_select(self: Any) -> Any:
    """Put the channel in transaction mode.

    :returns: the ``Tx.SelectOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.tx_select)


def tx_commit(self: Any) -> Any:
    """Commit the current transaction.

    :returns: the ``Tx.CommitOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.tx_commit)


def tx_rollback(self: Any) -> Any:
    """Roll back the current transaction.

    :returns: the ``Tx.RollbackOk`` method frame
    :rtype: pika.frame.Method
    """
    return self._rpc(self._impl.tx_rollback)
