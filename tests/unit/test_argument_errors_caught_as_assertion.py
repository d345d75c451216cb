"""Where pika 1.4.4 signals a wrong argument with a failed ``assert``, the
error is caught both by ``except AssertionError`` (code written against
pika) and by ``except TypeError``/``ValueError`` (our rule), and names the
argument. The cases and their pika 1.4.4 outcome were checked black-box
against pika 1.4.4 (each raised AssertionError there).
"""

import pytest

from pika import exceptions, spec
from pika.adapters.blocking_connection import BlockingConnection
from pika.connection import ConnectionParameters

from blocking_fake import FakeImpl
from engine_fake import open_channel, open_connection


def _check(call, base, argument):
    with pytest.raises(AssertionError) as as_assertion:
        call()
    with pytest.raises(base) as as_base:
        call()
    assert type(as_assertion.value) is type(as_base.value)
    assert argument in str(as_base.value)


def test_error_classes():
    assert issubclass(exceptions._ArgumentTypeError, TypeError)
    assert issubclass(exceptions._ArgumentTypeError, AssertionError)
    assert issubclass(exceptions._ArgumentValueError, ValueError)
    assert issubclass(exceptions._ArgumentValueError, AssertionError)
    # pika's public exception classes are unchanged.
    assert not issubclass(exceptions.AMQPError, AssertionError)


@pytest.mark.parametrize('make, argument', [
    (lambda: spec.Queue.Declare(queue=1), 'queue'),
    (lambda: spec.Basic.Publish(exchange=1), 'exchange'),
    (lambda: spec.Connection.UpdateSecret(1, 'r'), 'new_secret'),
    (lambda: spec.BasicProperties(content_type=1), 'content_type'),
    (lambda: spec.BasicProperties(app_id=1), 'app_id'),
])
def test_spec_encode_of_non_string(make, argument):
    _check(lambda: make().encode(), TypeError, argument)


@pytest.mark.parametrize('call, argument', [
    (lambda ch: ch.basic_publish('', 1, b'x'), 'routing_key'),
    (lambda ch: ch.basic_publish(1, 'q', b'x'), 'exchange'),
    (lambda ch: ch.basic_publish(
        '', 'q', b'x', spec.BasicProperties(expiration=1)), 'expiration'),
    (lambda ch: ch.exchange_declare('x', exchange_type=1), 'exchange_type'),
    (lambda ch: ch.exchange_bind('d', 's', routing_key=1), 'routing_key'),
    (lambda ch: ch.exchange_unbind('d', 's', routing_key=1), 'routing_key'),
    (lambda ch: ch.queue_bind('q', 'x', routing_key=1), 'routing_key'),
    (lambda ch: ch.queue_unbind('q', 'x', routing_key=1), 'routing_key'),
    (lambda ch: ch.basic_consume('q', lambda *a: None, consumer_tag=1),
     'consumer_tag'),
    (lambda ch: ch.close(200, 1), 'reply_text'),
])
def test_channel_methods(call, argument):
    conn = open_connection()
    chan = open_channel(conn)
    _check(lambda: call(chan), TypeError, argument)
    assert chan.is_open  # nothing was sent


@pytest.mark.parametrize('call, argument', [
    (lambda c: c.update_secret(1, 'r'), 'new_secret'),
    (lambda c: c.update_secret('s', 1), 'reason'),
    (lambda c: c.close(200, 1), 'reply_text'),
])
def test_connection_methods(call, argument):
    conn = open_connection()
    _check(lambda: call(conn), TypeError, argument)
    assert conn.is_open


def test_blocking_connection_sleep_and_close():
    conn = BlockingConnection(ConnectionParameters(), _impl_class=FakeImpl)
    try:
        _check(lambda: conn.sleep(-1), ValueError, 'duration')
        _check(lambda: conn.close(200, 1), TypeError, 'reply_text')
        assert conn.is_open
    finally:
        conn.close()


def test_other_argument_errors_stay_plain():
    # Where pika 1.4.4 raises TypeError itself (its validators), no
    # AssertionError is added.
    conn = open_connection()
    chan = open_channel(conn)
    with pytest.raises(TypeError) as info:
        chan.queue_declare(1)
    assert not isinstance(info.value, AssertionError)
    with pytest.raises(TypeError) as info:
        chan.exchange_declare(1)
    assert not isinstance(info.value, AssertionError)
