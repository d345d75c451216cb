"""Typical pika programs that ``mypy --strict`` accepts without a report.

Never run: ``tests/unit/test_typing_catches_user_mistakes.py`` type-checks
it (with ``user_mistakes.py``) and expects no error in this file.
"""

import asyncio
import json
import uuid
from typing import Dict, List, Optional, Union, reveal_type

import pika
import pika.channel
import pika.exceptions
import pika.frame
from pika import spec
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.adapters.blocking_connection import BlockingChannel, ReturnedMessage
from pika.adapters.select_connection import SelectConnection
from pika.adapters.utils.connection_workflow import AMQPConnectorException
from pika.delivery_mode import DeliveryMode
from pika.exchange_type import ExchangeType


def parameters() -> pika.ConnectionParameters:
    credentials = pika.PlainCredentials('guest', 'guest')
    return pika.ConnectionParameters(host='127.0.0.1',
                                     port=5672,
                                     virtual_host='/',
                                     credentials=credentials,
                                     heartbeat=30,
                                     blocked_connection_timeout=60.0,
                                     client_properties={'app': 'typed'})


def publish(connection: pika.BlockingConnection) -> None:
    channel = connection.channel()
    reveal_type(channel)  # T: pika.adapters.blocking_connection.BlockingChannel
    channel.confirm_delivery()
    channel.exchange_declare('logs', exchange_type=ExchangeType.fanout)
    channel.exchange_declare('events', exchange_type='topic', durable=True)
    declared = channel.queue_declare('', exclusive=True)
    reveal_type(declared)  # T: pika.frame.Method[pika.spec.Queue.DeclareOk]
    queue_name: str = declared.method.queue
    count: int = declared.method.message_count
    channel.queue_bind(queue_name, 'logs', routing_key=None)
    properties = pika.BasicProperties(content_type='application/json',
                                      delivery_mode=DeliveryMode.Persistent,
                                      headers={'attempt': 1},
                                      priority=count)
    channel.basic_publish('logs', '', json.dumps({'n': 1}), properties)
    channel.basic_publish('',
                          queue_name,
                          b'raw',
                          pika.BasicProperties(delivery_mode=2),
                          mandatory=True)
    channel.basic_qos(prefetch_count=10)
    channel.queue_purge(queue_name)
    channel.queue_delete(queue_name)


def on_message(channel: BlockingChannel, method: spec.Basic.Deliver,
               properties: spec.BasicProperties, body: bytes) -> None:
    print(body.decode(), properties.content_type, method.routing_key)
    if properties.headers is not None:
        print(properties.headers.get('attempt'))
    channel.basic_ack(delivery_tag=method.delivery_tag)


def consume(connection: pika.BlockingConnection, queue: str) -> None:
    channel = connection.channel()
    tag: str = channel.basic_consume(queue, on_message, auto_ack=False)
    connection.call_later(5, channel.stop_consuming)
    channel.start_consuming()
    channel.basic_cancel(tag)
    for method, properties, body in channel.consume(queue,
                                                    inactivity_timeout=1.0):
        if method is None:
            break
        assert properties is not None and body is not None
        print(method.delivery_tag, properties.message_id, body.decode())
        channel.basic_ack(method.delivery_tag)
    channel.cancel()
    for delivered, props, data in channel.consume(queue):
        channel.basic_nack(delivered.delivery_tag, requeue=False)
        reveal_type(delivered)  # T: pika.spec.Basic.Deliver
        print(props.app_id, len(data))
        break


def publish_mandatory(channel: BlockingChannel) -> None:
    try:
        channel.basic_publish('', 'nowhere', b'x', mandatory=True)
    except pika.exceptions.UnroutableError as error:
        returned: List[ReturnedMessage] = list(error.messages)
        print(len(returned))


def get(channel: BlockingChannel, queue: str) -> Optional[bytes]:
    method, properties, body = channel.basic_get(queue, auto_ack=True)
    reveal_type(method)  # T: pika.spec.Basic.GetOk | None
    if method is None:
        return None
    assert properties is not None and body is not None
    remaining: int = method.message_count
    print(remaining, properties.correlation_id, method.redelivered)
    return body


class RpcClient:
    """A request/reply client over an exclusive reply queue."""

    def __init__(self, connection: pika.BlockingConnection) -> None:
        self.connection = connection
        self.channel = connection.channel()
        result = self.channel.queue_declare(queue='', exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(queue=self.callback_queue,
                                   on_message_callback=self.on_response,
                                   auto_ack=True)
        self.responses: Dict[str, bytes] = {}

    def on_response(self, channel: BlockingChannel, method: spec.Basic.Deliver,
                    properties: spec.BasicProperties, body: bytes) -> None:
        if properties.correlation_id is not None:
            self.responses[properties.correlation_id] = body

    def call(self, n: int) -> int:
        correlation_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange='',
                                   routing_key='rpc_queue',
                                   properties=pika.BasicProperties(
                                       reply_to=self.callback_queue,
                                       correlation_id=correlation_id),
                                   body=str(n))
        while correlation_id not in self.responses:
            self.connection.process_data_events(time_limit=None)
        return int(self.responses.pop(correlation_id))


class AsyncConsumer:
    """The SelectConnection callback chain of a typical consumer."""

    def __init__(self) -> None:
        self.connection: Optional[SelectConnection] = None
        self.channel: Optional[pika.channel.Channel] = None
        self.received: List[bytes] = []

    def run(self) -> None:
        self.connection = SelectConnection(
            parameters(),
            on_open_callback=self.on_connection_open,
            on_open_error_callback=self.on_open_error,
            on_close_callback=self.on_connection_closed)
        self.connection.ioloop.start()

    def on_connection_open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self.on_channel_open)

    def on_open_error(self, connection: SelectConnection,
                      error: BaseException) -> None:
        connection.ioloop.stop()

    def on_connection_closed(self, connection: SelectConnection,
                             reason: BaseException) -> None:
        connection.ioloop.stop()

    def on_channel_open(self, channel: pika.channel.Channel) -> None:
        self.channel = channel
        channel.add_on_close_callback(self.on_channel_closed)
        channel.add_on_cancel_callback(self.on_cancelled)
        channel.basic_qos(prefetch_count=5, callback=self.on_qos)
        channel.queue_declare('work', durable=True, callback=self.on_declared)

    def on_channel_closed(self, channel: pika.channel.Channel,
                          reason: Exception) -> None:
        print(channel.channel_number, reason)

    def on_cancelled(self, frame: pika.frame.Method[spec.Basic.Cancel]) -> None:
        print(frame.method.consumer_tag)

    def on_qos(self, frame: pika.frame.Method[spec.Basic.QosOk]) -> None:
        print(frame.channel_number)

    def on_declared(self,
                    frame: pika.frame.Method[spec.Queue.DeclareOk]) -> None:
        assert self.channel is not None
        print(frame.method.queue, frame.method.message_count)
        self.channel.basic_consume(frame.method.queue, self.on_message)

    def on_message(self, channel: pika.channel.Channel,
                   method: spec.Basic.Deliver, properties: spec.BasicProperties,
                   body: bytes) -> None:
        self.received.append(body)
        channel.basic_ack(method.delivery_tag)


def asyncio_publisher(loop: asyncio.AbstractEventLoop) -> AsyncioConnection:

    def on_channel(channel: pika.channel.Channel) -> None:
        channel.basic_publish('', 'work', 'hello',
                              pika.BasicProperties(expiration='60000'))

    def on_open(connection: AsyncioConnection) -> None:
        connection.channel(on_open_callback=on_channel)

    def on_closed(connection: AsyncioConnection, reason: BaseException) -> None:
        loop.stop()

    return AsyncioConnection(parameters(),
                             on_open_callback=on_open,
                             on_close_callback=on_closed,
                             custom_ioloop=loop)


def connect_with_fallback() -> None:

    def on_done(
            result: Union[SelectConnection, AMQPConnectorException]) -> None:
        if isinstance(result, SelectConnection):
            result.add_on_connection_blocked_callback(on_blocked)
            result.close()

    def on_blocked(connection: SelectConnection,
                   frame: pika.frame.Method[spec.Connection.Blocked]) -> None:
        print(connection, frame.method.reason)

    workflow = SelectConnection.create_connection(
        [parameters(),
         pika.URLParameters('amqp://127.0.0.1:5673/')], on_done)
    # yapf: disable
    reveal_type(workflow)  # T: pika.adapters.utils.connection_workflow.AbstractAMQPConnectionWorkflow  # noqa: E501
    # yapf: enable
    workflow.abort()


def main() -> None:
    connection = pika.BlockingConnection(parameters())
    publish(connection)
    consume(connection, 'work')
    print(get(connection.channel(), 'work'))
    print(RpcClient(connection).call(30))
    connection.close()
    url = pika.URLParameters('amqp://guest:guest@127.0.0.1:5672/%2F')
    with pika.BlockingConnection([url, parameters()]) as other:
        other.channel().close()
    AsyncConsumer().run()
    loop = asyncio.new_event_loop()
    asyncio_publisher(loop)
    loop.run_forever()
