"""The hooks automatic recovery installs on each
:class:`~pika.adapters.blocking_connection.BlockingChannel` of a connection
created with ``recovery=`` (see :mod:`pika._recovery_blocking`).

They are set on the channel instance, so channels of connections without
recovery run none of this code:

* the declaration, binding, QoS and consumer methods record what the broker
  acknowledged in the :class:`~pika.recovery.TopologyLedger` (and forget what
  is deleted, unbound or cancelled);
* deliveries get the channel's delivery-tag generation added, and
  ``basic_ack``/``nack``/``reject`` take it off again, dropping tags from
  before a loss;
* ``basic_publish`` in confirm mode turns a confirmation lost with the
  connection into :class:`pika.exceptions.ConfirmationLost`, or publishes
  the message again after recovery (``republish_unconfirmed``);
* ``close`` while recovering just drops the channel.
"""

import functools
import logging
from typing import Any, Dict, Optional

from pika import exceptions
from pika.exchange_type import ExchangeType
from pika._recovery_ack_hooks import AckHooks
from pika.recovery import UnconfirmedMessage

LOGGER = logging.getLogger('pika.recovery')


class ChannelHooks(AckHooks):
    """The per-instance hooks recovery installs on one BlockingChannel."""

    def __init__(self, recovery: Any, channel: Any) -> None:
        self._recovery = recovery
        self._ledger = recovery.ledger
        self._channel = channel

    def install(self) -> None:
        channel = self._channel
        cls = type(channel)
        for name in ('exchange_declare', 'exchange_delete', 'exchange_bind',
                     'exchange_unbind', 'queue_declare', 'queue_delete',
                     'queue_bind', 'queue_unbind', 'basic_qos',
                     '_basic_consume_impl', '_cancel_consumer', 'basic_ack',
                     'basic_nack', 'basic_reject', 'basic_publish', 'close',
                     '_on_consumer_message_delivery',
                     '_on_consumer_generator_delivery', '_on_get_reply'):
            original = getattr(cls, name).__get__(channel, cls)
            hook = getattr(self, name)
            setattr(
                channel, name,
                functools.wraps(original)(functools.partial(hook, original)))

    @property
    def _number(self) -> int:
        number: int = self._channel.channel_number
        return number

    # -- ledger recording ----------------------------------------------------

    def exchange_declare(self,
                         original: Any,
                         exchange: str,
                         exchange_type: Any = ExchangeType.direct,
                         passive: bool = False,
                         durable: bool = False,
                         auto_delete: bool = False,
                         internal: bool = False,
                         arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(exchange, exchange_type, passive, durable, auto_delete,
                         internal, arguments)
        if not passive:
            self._ledger.record_exchange(self._number, exchange, exchange_type,
                                         durable, auto_delete, internal,
                                         arguments)
        return reply

    def exchange_delete(self,
                        original: Any,
                        exchange: Optional[str] = None,
                        if_unused: bool = False) -> Any:
        reply = original(exchange, if_unused)
        self._ledger.forget_exchange(exchange or '')
        return reply

    def exchange_bind(self,
                      original: Any,
                      destination: str,
                      source: str,
                      routing_key: str = '',
                      arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(destination, source, routing_key, arguments)
        self._ledger.record_binding(self._number, 'exchange_binding',
                                    destination, source, routing_key, arguments)
        return reply

    def exchange_unbind(self,
                        original: Any,
                        destination: Optional[str] = None,
                        source: Optional[str] = None,
                        routing_key: str = '',
                        arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(destination, source, routing_key, arguments)
        self._ledger.forget_binding('exchange_binding', destination or '',
                                    source or '', routing_key, arguments)
        return reply

    def queue_declare(self,
                      original: Any,
                      queue: str,
                      passive: bool = False,
                      durable: bool = False,
                      exclusive: bool = False,
                      auto_delete: bool = False,
                      arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(queue, passive, durable, exclusive, auto_delete,
                         arguments)
        if not passive:
            self._ledger.record_queue(self._number, queue, reply.method.queue,
                                      durable, exclusive, auto_delete,
                                      arguments)
        return reply

    def queue_delete(self,
                     original: Any,
                     queue: str,
                     if_unused: bool = False,
                     if_empty: bool = False) -> Any:
        reply = original(queue, if_unused, if_empty)
        self._ledger.forget_queue(queue)
        return reply

    def queue_bind(self,
                   original: Any,
                   queue: str,
                   exchange: str,
                   routing_key: Optional[str] = None,
                   arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(queue, exchange, routing_key, arguments)
        self._ledger.record_binding(self._number, 'queue_binding', queue,
                                    exchange, routing_key, arguments)
        return reply

    def queue_unbind(self,
                     original: Any,
                     queue: str,
                     exchange: str,
                     routing_key: Optional[str] = None,
                     arguments: Optional[Dict[str, Any]] = None) -> Any:
        reply = original(queue, exchange, routing_key, arguments)
        self._ledger.forget_binding('queue_binding', queue, exchange,
                                    routing_key, arguments)
        return reply

    def basic_qos(self,
                  original: Any,
                  prefetch_size: int = 0,
                  prefetch_count: int = 0,
                  global_qos: bool = False) -> None:
        original(prefetch_size, prefetch_count, global_qos)
        self._ledger.record_qos(self._number, prefetch_size, prefetch_count,
                                global_qos)

    def _basic_consume_impl(self, original: Any, queue: str, auto_ack: bool,
                            exclusive: bool, consumer_tag: Optional[str], *args:
                            Any, **kwargs: Any) -> str:
        arguments = kwargs.get('arguments', args[0] if args else None)
        tag: str = original(queue, auto_ack, exclusive, consumer_tag, *args,
                            **kwargs)
        self._ledger.record_consumer(self._number, tag, queue, auto_ack,
                                     exclusive, arguments)
        return tag

    def _cancel_consumer(self, original: Any, consumer_tag: str) -> Any:
        try:
            return original(consumer_tag)
        finally:
            self._ledger.forget_consumer(self._number, consumer_tag)

    def close(self,
              original: Any,
              reply_code: int = 0,
              reply_text: str = 'Normal shutdown') -> None:
        channel = self._channel
        channel._recovery_user_closed = True
        if self._recovery.is_suspended(channel):
            # Nothing to tell the broker: the channel is simply not restored.
            channel._impl.close(reply_code, reply_text)
            return
        original(reply_code, reply_text)

    # -- delivery tags ------------------------------------------------------

    def _translated(self, method: Any) -> None:
        base = self._recovery._tag_base
        if base:
            method.delivery_tag += base

    def _on_consumer_message_delivery(self, original: Any, channel: Any,
                                      method: Any, properties: Any,
                                      body: Any) -> None:
        self._translated(method)
        original(channel, method, properties, body)

    def _on_consumer_generator_delivery(self, original: Any, channel: Any,
                                        method: Any, properties: Any,
                                        body: Any) -> None:
        self._translated(method)
        original(channel, method, properties, body)

    def _on_get_reply(self, original: Any, channel: Any, method: Any,
                      properties: Any, body: Any) -> None:
        self._translated(method)
        original(channel, method, properties, body)

    # -- confirms -------------------------------------------------------------

    def basic_publish(self,
                      original: Any,
                      exchange: str,
                      routing_key: str,
                      body: Any,
                      properties: Any = None,
                      mandatory: bool = False) -> None:
        recovery = self._recovery
        if recovery.coordinator.is_recovering:
            recovery.wait_or_raise()
        if not self._channel._delivery_confirmation:
            original(exchange, routing_key, body, properties, mandatory)
            return
        while True:
            try:
                original(exchange, routing_key, body, properties, mandatory)
                return
            except exceptions.ConnectionRecovering as error:
                lost = exceptions.ConfirmationLost([
                    UnconfirmedMessage(exchange, routing_key, body, properties,
                                       mandatory)
                ])
                if not recovery.config.republish_unconfirmed:
                    raise lost from error
                LOGGER.info('Publish lost its confirmation; publishing it '
                            'again after recovery')
                if not recovery.wait(None):
                    raise lost from error
