"""BlockingConnection/BlockingChannel logic over a scripted asynchronous
connection (tests/unit/blocking_fake.py): open-error translation, dispatch
order and rules, consumer bookkeeping, channel errors. No broker."""

import threading
import time

import pytest

from pika import exceptions, spec
from pika.adapters import _blocking_events as events
from pika.adapters.blocking_connection import (BlockingChannel,
                                               BlockingConnection,
                                               ReturnedMessage)
from pika.adapters.utils import connection_workflow
from pika.connection import ConnectionParameters

from blocking_fake import FakeImpl


@pytest.fixture
def conn():
    connection = BlockingConnection(ConnectionParameters(),
                                    _impl_class=FakeImpl)
    yield connection
    if connection.is_open:
        connection.close()


@pytest.fixture
def channel(conn):
    return conn.channel()


def _pump(conn):
    """Run the fake's queued completions without dispatching."""
    conn._impl.ioloop.add_callback_threadsafe(lambda: None)
    conn._impl.ioloop.poll()
    conn._impl.ioloop.process_timeouts()


# -- events -----------------------------------------------------------------


def test_callback_result():
    result = events._CallbackResult()
    assert not result.is_ready() and result.value is None
    result.set_value_once(1, 2)
    result.set_value_once(3)
    assert result.is_ready() and result.value == (1, 2)
    result.reset()
    assert not result.is_ready()
    result.append_element('a')
    result.append_element('b', 'c')
    assert result.elements == [('a',), ('b', 'c')]
    result.reset()
    result.signal_once('ignored')
    assert result.is_ready() and result.value is None


def test_event_reprs_and_timer_dispatch_once():
    calls = []
    timer = events._TimerEvt(callback=lambda: calls.append(1))
    timer.timer_id = 'tid'
    assert repr(timer).startswith('<_TimerEvt timer_id=tid callback=')
    timer.dispatch()
    timer.dispatch()
    assert calls == [1]
    method = spec.Basic.Deliver('tag', 1, False, '', 'q')
    delivery = events._ConsumerDeliveryEvt(method, spec.BasicProperties(),
                                           b'x' * 1000)
    text = repr(delivery)
    assert text.startswith('<_ConsumerDeliveryEvt method=<Basic.Deliver')
    assert '(1000 bytes)' in text and len(text) < 600
    returned = ReturnedMessage(spec.Basic.Return(312, 'NO_ROUTE', '', 'k'),
                               spec.BasicProperties(), b'b')
    assert "body=b'b'" in repr(returned)
    assert ReturnedMessage.__module__ == 'pika.adapters.blocking_connection'
    assert BlockingChannel.__module__ == 'pika.adapters.blocking_connection'


# -- opening ----------------------------------------------------------------


def test_open_passes_parameters_and_a_private_ioloop():
    configs = [ConnectionParameters(port=1), ConnectionParameters(port=2)]
    conn = BlockingConnection(configs, _impl_class=FakeImpl)
    assert conn._impl.params is configs[0]
    assert conn.is_open and repr(conn).startswith('<BlockingConnection impl=')
    conn.close()
    assert conn.is_closed


def test_open_error_translation():
    refused = connection_workflow.AMQPConnectorSocketConnectError(
        ConnectionRefusedError(111, 'Connection refused'))
    FakeImpl.open_error = connection_workflow.AMQPConnectionWorkflowFailed(
        [refused])
    with pytest.raises(exceptions.AMQPConnectionError) as info:
        BlockingConnection(_impl_class=FakeImpl)
    assert type(info.value) is exceptions.AMQPConnectionError
    assert info.value.args == (refused,)

    auth = exceptions.ProbableAuthenticationError('ACCESS_REFUSED')
    FakeImpl.open_error = connection_workflow.AMQPConnectionWorkflowFailed(
        [refused,
         connection_workflow.AMQPConnectorAMQPHandshakeError(auth)])
    with pytest.raises(exceptions.ProbableAuthenticationError) as info:
        BlockingConnection(_impl_class=FakeImpl)
    assert info.value is auth


def test_parameter_checks():
    with pytest.raises(TypeError):
        BlockingConnection('amqp://localhost', _impl_class=FakeImpl)
    with pytest.raises(TypeError):
        BlockingConnection([ConnectionParameters(), 'x'], _impl_class=FakeImpl)
    with pytest.raises(ValueError):
        BlockingConnection([], _impl_class=FakeImpl)


# -- connection events ------------------------------------------------------


def test_int_of_channel_is_its_number(conn):
    # As pika 1.4.4's BlockingChannel.__int__.
    first = conn.channel()
    fifth = conn.channel(5)
    assert int(first) == first.channel_number == 1
    assert int(fifth) == 5
    assert isinstance(int(fifth), int)


def test_connection_events_before_channel_events(conn, channel):
    log = []
    tag = channel.basic_consume('q', lambda *args: log.append('delivery'))
    conn.call_later(0, lambda: log.append('timer'))
    _pump(conn)
    channel._impl.deliver(tag, b'x')
    assert log == []
    conn.process_data_events()
    assert log == ['timer', 'delivery']


def test_channels_dispatched_by_number(conn):
    first = conn.channel()
    second = conn.channel()
    log = []
    tag2 = second.basic_consume('q', lambda ch, *a: log.append(ch))
    tag1 = first.basic_consume('q', lambda ch, *a: log.append(ch))
    second._impl.deliver(tag2, b'2')
    first._impl.deliver(tag1, b'1')
    conn.process_data_events()
    assert log == [first, second]


def test_blocked_notice_dispatched_with_blocking_connection(conn):
    log = []
    conn.add_on_connection_blocked_callback(lambda c, f: log.append((c, f)))
    conn._impl.blocked('memory')
    assert log == []
    assert type(conn._ready_events[0]).__name__ == '_ConnectionBlockedEvt'
    conn.process_data_events()
    assert log[0][0] is conn and log[0][1].method.reason == 'memory'


def test_remove_fired_timer(conn):
    log = []
    timer_id = conn.call_later(0, lambda: log.append(1))
    _pump(conn)
    assert len(conn._ready_events) == 1
    conn.remove_timeout(timer_id)
    conn.process_data_events()
    assert log == []


def test_callbacks_scheduling_callbacks_do_not_loop_forever(conn):
    count = []

    def again():
        count.append(1)
        conn.call_later(0, again)

    conn.call_later(0, again)
    conn.process_data_events()
    assert len(count) == 1


def test_threadsafe_callback_from_thread(conn):
    ran_on = []
    thread = threading.Thread(target=lambda: conn.add_callback_threadsafe(
        lambda: ran_on.append(threading.get_ident())))
    thread.start()
    thread.join()
    conn.process_data_events(1)
    assert ran_on == [threading.get_ident()]


def test_argument_checks(conn):
    with pytest.raises(TypeError):
        conn.call_later(1, None)
    with pytest.raises(TypeError):
        conn.call_later('1', print)
    with pytest.raises(ValueError):
        conn.sleep(-0.1)
    with pytest.raises(TypeError):
        conn.process_data_events(True)
    with pytest.raises(TypeError):
        conn.add_callback_threadsafe(5)
    with pytest.raises(TypeError):
        conn.close('200')


def test_connection_lost_raises_in_waiting_call(conn, channel):
    error = exceptions.StreamLostError('Transport indicated EOF')
    conn._impl.later(conn._impl.terminate, error)
    with pytest.raises(exceptions.StreamLostError) as info:
        conn.process_data_events(1)
    assert info.value is error
    assert channel.is_closed and conn._channels == {}
    with pytest.raises(ValueError):
        conn.process_data_events()
    with pytest.raises(exceptions.ConnectionWrongStateError):
        conn.close()


def test_update_secret(conn):
    assert conn.update_secret('token', 'refresh') is None


def test_capabilities(conn):
    assert conn.basic_nack_supported and conn.publisher_confirms_supported
    assert conn.consumer_cancel_notify_supported
    assert conn.exchange_exchange_bindings_supported


# -- channels ---------------------------------------------------------------


def test_consumer_dispatch_order_with_returns_and_cancel(conn, channel):
    log = []
    channel.add_on_return_callback(lambda ch, m, p, b: log.append(('ret', b)))
    channel.add_on_cancel_callback(lambda f: log.append(('cancel', f.method)))
    tag = channel.basic_consume('q', lambda ch, m, p, b: log.append(b))
    impl = channel._impl
    impl.deliver(tag, b'1')
    impl.broker_return(b'r')
    impl.deliver(tag, b'2')
    impl.broker_cancel(tag)
    assert [type(e).__name__ for e in channel._pending_events] == [
        '_ConsumerDeliveryEvt', '_ReturnedMessageEvt', '_ConsumerDeliveryEvt',
        '_ConsumerCancellationEvt'
    ]
    assert channel.consumer_tags == [tag]
    channel.start_consuming()
    assert log[:3] == [b'1', ('ret', b'r'), b'2']
    assert log[3][0] == 'cancel' and log[3][1].consumer_tag == tag
    assert channel.consumer_tags == []


def test_basic_cancel_rejects_or_returns_undispatched(conn, channel):
    impl = channel._impl
    manual = channel.basic_consume('q', print)
    auto = channel.basic_consume('q', print, auto_ack=True)
    tags = [
        impl.deliver(manual, b'm1'),
        impl.deliver(auto, b'a1'),
        impl.deliver(manual, b'm2')
    ]
    assert channel.basic_cancel(manual) == []
    assert ('basic_reject', tags[0], True) in impl.sent
    assert ('basic_reject', tags[2], True) in impl.sent
    returned = channel.basic_cancel(auto)
    assert [body for _, _, body in returned] == [b'a1']
    assert len(channel._pending_events) == 0
    assert channel.basic_cancel('unknown') == []


def test_stop_consuming_inside_callback_drops_the_rest(conn, channel):
    seen = []
    impl = channel._impl

    def on_message(ch, method, properties, body):
        seen.append(body)
        ch.stop_consuming()

    tag = channel.basic_consume('q', on_message)
    impl.deliver(tag, b'1')
    impl.deliver(tag, b'2')
    channel.start_consuming()
    assert seen == [b'1']
    assert ('basic_reject', 2, True) in impl.sent


def test_reentrancy(conn, channel):
    errors = []

    def on_message(ch, method, properties, body):
        try:
            ch.start_consuming()
        except exceptions.ReentrancyError as error:
            errors.append(error)
        ch.stop_consuming()

    tag = channel.basic_consume('q', on_message)
    channel._impl.deliver(tag, b'x')
    channel.start_consuming()
    assert len(errors) == 1
    assert conn._event_dispatch_suspend_depth == 0


def test_exception_in_callback_keeps_state(conn, channel):
    impl = channel._impl
    seen = []

    def on_message(ch, method, properties, body):
        seen.append(body)
        if body == b'bad':
            raise RuntimeError('boom')
        ch.stop_consuming()

    tag = channel.basic_consume('q', on_message)
    impl.deliver(tag, b'bad')
    impl.deliver(tag, b'good')
    with pytest.raises(RuntimeError):
        channel.start_consuming()
    assert conn._event_dispatch_suspend_depth == 0
    assert channel in conn._channels_pending_dispatch
    channel.start_consuming()
    assert seen == [b'bad', b'good']


def test_consume_generator(conn, channel):
    impl = channel._impl
    generator = channel.consume('q', inactivity_timeout=0.05)
    assert next(generator) == (None, None, None)
    info = channel._queue_consumer_generator
    impl.deliver(info.consumer_tag, b'1')
    impl.deliver(info.consumer_tag, b'2')
    assert channel.get_waiting_message_count() == 2
    assert next(generator)[2] == b'1'
    assert channel.get_waiting_message_count() == 1
    assert channel.cancel() == 1  # the waiting message, requeued
    assert ('basic_reject', 2, True) in impl.sent
    assert channel._queue_consumer_generator is None
    with pytest.raises(StopIteration):
        next(generator)


def test_consume_generator_ends_on_broker_cancel(conn, channel):
    generator = channel.consume('q', inactivity_timeout=0.01)
    assert next(generator) == (None, None, None)
    tag = channel._queue_consumer_generator.consumer_tag
    channel._impl.broker_cancel(tag)
    start = time.monotonic()
    with pytest.raises(StopIteration):
        next(generator)
    assert time.monotonic() - start < 0.5
    assert channel.consumer_tags == []


def test_consume_argument_checks(channel):
    with pytest.raises(TypeError):
        next(channel.consume(1))
    with pytest.raises(ValueError):
        next(channel.consume('q', inactivity_timeout=-1))
    assert channel._queue_consumer_generator is None


def test_channel_closed_by_broker_raises_once(conn, channel):
    channel._impl.fail_next_rpc = (404, 'NOT_FOUND - no queue')
    with pytest.raises(exceptions.ChannelClosedByBroker) as info:
        channel.queue_declare('q', passive=True)
    assert info.value.reply_code == 404
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.queue_declare('q')
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.start_consuming()
    assert channel not in conn._channels.values()


def test_channel_closed_by_broker_during_start_consuming(conn, channel):
    channel.basic_consume('q', print)
    channel._impl.connection.later(channel._impl.broker_close, 406, 'bad ack')
    with pytest.raises(exceptions.ChannelClosedByBroker):
        channel.start_consuming()
    assert channel._consumer_infos == {}


def test_close_channel(conn, channel):
    with channel:
        pass
    assert channel.is_closed
    with pytest.raises(exceptions.ChannelWrongStateError):
        channel.close()


def test_close_connection_closes_channels(conn):
    channels = [conn.channel() for _ in range(2)]
    conn.close()
    assert all(ch.is_closed for ch in channels)
    assert not conn._ready_events and not conn._channels


def test_exception_in_one_channel_keeps_others_pending(conn):
    first = conn.channel()
    second = conn.channel()
    seen = []

    def bad(ch, method, properties, body):
        raise RuntimeError('boom')

    tag1 = first.basic_consume('q', bad)
    tag2 = second.basic_consume('q', lambda ch, m, p, b: seen.append(b))
    first._impl.deliver(tag1, b'1')
    second._impl.deliver(tag2, b'2')
    with pytest.raises(RuntimeError):
        conn.process_data_events()
    assert seen == []
    conn.process_data_events()
    assert seen == [b'2']


def test_confirmed_publish_ignores_stale_confirmation(conn, channel):
    channel.confirm_delivery()
    assert channel.basic_publish('', 'q', b'1') is None
    # the broker (re)sends a confirmation for message 1 before the nack of
    # message 2: message 2's publish must report the nack
    channel._impl.confirm_script = lambda tag: [
        spec.Basic.Ack(tag - 1), spec.Basic.Nack(tag)
    ]
    with pytest.raises(exceptions.NackError):
        channel.basic_publish('', 'q', b'2')
    channel._impl.confirm_script = lambda tag: [spec.Basic.Ack(tag)]
    assert channel.basic_publish('', 'q', b'3') is None
    channel._impl.confirm_script = lambda tag: (channel._impl.broker_return(
        b'4') or [spec.Basic.Ack(tag)])
    with pytest.raises(exceptions.UnroutableError) as info:
        channel.basic_publish('', 'q', b'4', mandatory=True)
    assert info.value.messages[0].body == b'4'
