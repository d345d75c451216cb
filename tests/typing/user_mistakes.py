"""Typical mistakes in pika programs, each reported by ``mypy --strict``.

Never run: ``tests/unit/test_typing_catches_user_mistakes.py`` type-checks
it and expects, on each line marked with an "E" comment, exactly the error
code named there, and no error anywhere else.
"""

import asyncio
import ssl
from typing import Union

import pika
import pika.channel
import pika.credentials
import pika.exceptions
import pika.frame
from pika import spec
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.select_connection import SelectConnection
from pika.exchange_type import ExchangeType


def on_message_three(channel: BlockingChannel, method: spec.Basic.Deliver,
                     body: bytes) -> None:
    print(channel, method, body)


def on_message_async(channel: pika.channel.Channel, method: spec.Basic.Deliver,
                     properties: spec.BasicProperties, body: bytes) -> None:
    print(channel, method, properties, body)


def on_message(channel: BlockingChannel, method: spec.Basic.Deliver,
               properties: spec.BasicProperties, body: bytes) -> None:
    print(channel, method, properties, body)


def on_connection_closed(connection: SelectConnection) -> None:
    print(connection)


def on_channel_closed(channel: pika.channel.Channel) -> None:
    print(channel)


def on_get(channel: pika.channel.Channel, method: spec.Basic.GetOk,
           properties: spec.BasicProperties, body: bytes) -> None:
    print(channel, method, properties, body)


def on_declared(frame: pika.frame.Method[spec.Exchange.DeclareOk]) -> None:
    print(frame)


def print_connection(connection: pika.BlockingConnection) -> None:
    print(connection)


def on_done(result: Union[SelectConnection, BaseException]) -> None:
    print(result)


def on_open(connection: SelectConnection, extra: int) -> None:
    print(connection, extra)


def blocking_mistakes() -> None:
    pika.ConnectionParameters(host='localhost', port='5672')  # E: arg-type
    pika.ConnectionParameters(heartbeat='x')  # E: arg-type
    pika.ConnectionParameters(credentials=('guest', 'guest'))  # E: arg-type
    pika.ConnectionParameters(hostname='localhost')  # E: arg-type
    pika.ConnectionParameters(blocked_connection_timeout='30')  # E: arg-type
    pika.PlainCredentials('guest', 42)  # E: arg-type
    connection = pika.BlockingConnection('amqp://localhost')  # E: arg-type
    channel = connection.channel()
    channel.queue_declare(queue=42)  # E: arg-type
    channel.queue_declare('q', durable='yes')  # E: arg-type
    channel.exchange_declare('x', exchange_type=ExchangeType)  # E: arg-type
    channel.queue_bind('q', 'x', routing_key=7)  # E: arg-type
    channel.basic_publish('', 'q', body=42)  # E: arg-type
    channel.basic_publish('', 'q', b'x', {'delivery_mode': 2})  # E: arg-type
    channel.basic_publish('', 'q', b'x', mandatory='true')  # E: arg-type
    pika.BasicProperties(delivery_mode=3)  # E: arg-type
    pika.BasicProperties(headers='x-retry=1')  # E: arg-type
    pika.BasicProperties(expiration=60000)  # E: arg-type
    properties = pika.BasicProperties(content_type='text/plain')
    properties.delivery_mode = 5  # E: assignment
    print(properties.headers['retry'])  # E: index
    channel.basic_consume('q', on_message_three)  # E: arg-type
    channel.basic_consume('q', on_message_async)  # E: arg-type
    channel.basic_consume('q', on_message, auto_ack='yes')  # E: arg-type
    tag: int = channel.basic_consume('q', on_message)  # E: assignment
    channel.basic_qos(prefetch_count='10')  # E: arg-type
    channel.add_on_cancel_callback(on_message)  # E: arg-type
    declared = channel.queue_declare('', exclusive=True)
    name: bytes = declared.method.queue  # E: assignment
    print(declared.method.delivery_tag)  # E: attr-defined
    method, props, body = channel.basic_get('q')
    print(body.decode())  # E: union-attr
    channel.basic_ack(method.delivery_tag)  # E: union-attr
    print(props.content_type)  # E: union-attr
    for delivered, _props, _body in channel.consume('q', inactivity_timeout=1):
        channel.basic_ack(delivered.delivery_tag)  # E: union-attr
    for delivered, _props, data in channel.consume('q'):
        data.encode()  # E: attr-defined
        print(delivered.message_count)  # E: attr-defined
    connection.process_data_events(time_limit='1')  # E: arg-type
    connection.add_on_connection_blocked_callback(
        print_connection)  # E: arg-type
    connection.call_later(1, on_message)  # E: arg-type
    pika.URLParameters(42)  # E: arg-type
    pika.ConnectionParameters(
        ssl_options=ssl.create_default_context())  # E: arg-type
    pika.SSLOptions('/etc/ssl/ca.pem')  # E: arg-type
    pika.credentials.ExternalCredentials('user')  # E: call-arg
    channel.queue_declare('q', arguments={1: 'x'})  # E: dict-item
    channel.exchange_declare('x', arguments=['x-delayed'])  # E: arg-type
    pika.BasicProperties(priority='high')  # E: arg-type
    properties.headers = 'x-retry'  # E: assignment
    channel.basic_cancel(consumer_tag=1)  # E: arg-type
    channel.basic_ack(delivery_tag='1')  # E: arg-type
    connection.add_callback_threadsafe(on_message)  # E: arg-type
    connection.sleep('1')  # E: arg-type
    try:
        channel.basic_get('q')
    except pika.exceptions.ChannelClosedByBroker as error:
        error.reply_code.upper()  # E: attr-defined
    print(tag, name)


def async_mistakes(loop: asyncio.AbstractEventLoop) -> None:
    connection = SelectConnection(
        pika.ConnectionParameters(),
        on_open_callback=on_open,  # E: arg-type
        on_close_callback=on_connection_closed)  # E: arg-type
    connection.channel(on_open_callback=on_message_async)  # E: arg-type
    channel = connection.channel()
    channel.add_on_close_callback(on_channel_closed)  # E: arg-type
    channel.exchange_declare('x', 'fanout', callback=on_declared)
    channel.exchange_delete('x', callback=on_declared)  # E: arg-type
    channel.queue_declare('q', callback=on_declared)  # E: arg-type
    channel.basic_consume('q', on_message_three)  # E: arg-type
    channel.basic_get('q', on_message_async)  # E: arg-type
    channel.basic_get('q', on_get, auto_ack=1)  # E: arg-type
    channel.confirm_delivery()  # E: call-arg
    connection.ioloop.call_later('5', connection.close)  # E: arg-type
    AsyncioConnection(pika.ConnectionParameters(),
                      on_open_callback=on_open)  # E: arg-type
    SelectConnection.create_connection(
        pika.ConnectionParameters(),  # E: arg-type
        on_done)
    SelectConnection.create_connection([pika.ConnectionParameters()],
                                       on_open)  # E: arg-type
    AsyncioConnection(pika.ConnectionParameters(),
                      custom_ioloop='loop')  # E: arg-type
    print(loop)
