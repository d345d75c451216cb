"""Asynchronous adapters behave as pika 1.4.4 does.

Every expectation here was first observed on pika 1.4.4 against the same
broker (black-box differential runs), then asserted as plain values. Each
scenario is a generator driven by a small runner: it ``yield``s to wait for
the next callback it registered with :meth:`_Run.resume`, and receives
``(name, args)``; callbacks registered with :meth:`_Run.record` only log.
Scenarios run on every adapter of ``async_harness.ADAPTER_RUNNERS`` (the
``adapter`` fixture of conftest.py).
"""

import os
import uuid
from typing import Any, Callable, Generator, List, Optional, Tuple

import pytest

import pika
from pika import exceptions, spec
from pika.adapters import select_connection
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.adapters.utils import connection_workflow

from async_harness import AdapterRunner

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))

Event = Tuple[str, tuple]


def _params(**kwargs: Any) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(HOST, PORT, **kwargs)


def _name(prefix: str = 'accept') -> str:
    return '%s-%s' % (prefix, uuid.uuid4().hex)


class _Run:
    """Drive one connection through a generator scenario."""

    def __init__(self,
                 adapter: AdapterRunner,
                 scenario: Callable[['_Run'], Generator],
                 params: Optional[pika.ConnectionParameters] = None,
                 timeout: float = 10.0) -> None:
        self.log: List[Event] = []
        self.failure: Optional[BaseException] = None
        self.finished = False
        self.completed = False
        self.timed_out = False
        self.adapter = adapter
        self.conn = adapter.connect(params or _params(),
                                    on_open=self.resume('on_open'),
                                    on_open_error=self.resume('on_open_error'),
                                    on_close=self.resume('on_close'))
        self.loop = self.conn.ioloop
        assert self.loop is adapter.loop
        guard = adapter.call_later(timeout, self._on_timeout)
        self.gen = scenario(self)
        self._step(None, first=True)
        try:
            if not self.finished:
                adapter._run_loop()
        finally:
            guard.cancel()
        if self.failure is not None:
            raise self.failure
        assert not self.timed_out, 'scenario timed out; log=%r' % (self.log,)
        assert self.completed, 'loop stopped before the scenario ended; ' \
            'log=%r' % (self.log,)

    def _on_timeout(self) -> None:
        if not self.finished:
            self.timed_out = True
            self._stop()

    def _stop(self) -> None:
        self.finished = True
        self.adapter.stop()

    def _step(self, value: Any, first: bool = False) -> None:
        if self.finished:
            return
        try:
            if first:
                next(self.gen)
            else:
                self.gen.send(value)
        except StopIteration:
            self.completed = True
            self._stop()
        except BaseException as error:  # pylint: disable=broad-except
            self.failure = error
            self._stop()

    def resume(self, name: str) -> Callable[..., None]:
        """A callback that logs its call and resumes the scenario."""

        def _callback(*args: Any) -> None:
            self.log.append((name, args))
            self._step((name, args))

        return _callback

    def record(self, name: str) -> Callable[..., None]:
        """A callback that only logs its call."""

        def _callback(*args: Any) -> None:
            self.log.append((name, args))

        return _callback

    def wake_in(self, delay: float) -> None:
        """Resume the scenario with ('timer', ()) after ``delay``."""
        self.adapter.call_later(delay, lambda: self._step(('timer', ())))

    def names(self) -> List[str]:
        return [name for name, _ in self.log]


def _until(run: _Run, name: str) -> Generator:
    """Wait (inside a scenario) until event ``name``; return its args."""
    while True:
        event = yield
        if event[0] == name:
            return event[1]


def _open_channel(run: _Run) -> Generator:
    channel = run.conn.channel(on_open_callback=run.resume('channel_open'))
    args = yield from _until(run, 'channel_open')
    assert args == (channel,)
    return channel


def _close_connection(run: _Run) -> Generator:
    run.conn.close()
    args = yield from _until(run, 'on_close')
    return args


def test_open_and_close_callbacks_states_and_errors(
        adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        conn = run.conn
        assert (conn.is_open, conn.is_closed, conn.is_closing) == (False, False,
                                                                   False)
        args = yield from _until(run, 'on_open')
        assert args == (conn,)
        assert (conn.is_open, conn.is_closed, conn.is_closing) == (True, False,
                                                                   False)
        assert sorted(conn.server_properties) == [
            'capabilities', 'cluster_name', 'copyright', 'information',
            'platform', 'product', 'version'
        ]
        assert conn.basic_nack and conn.consumer_cancel_notify
        assert conn.exchange_exchange_bindings and conn.publisher_confirms
        assert (conn.params.heartbeat, conn.params.channel_max,
                conn.params.frame_max) == (60, 2047, 131072)
        conn.close()
        assert conn.is_closing and not conn.is_closed
        args = yield from _until(run, 'on_close')
        assert args[0] is conn
        reason = args[1]
        assert type(reason) is exceptions.ConnectionClosedByClient
        assert reason.args == (200, 'Normal shutdown')
        assert (reason.reply_code, reason.reply_text) == (200,
                                                          'Normal shutdown')
        assert (conn.is_open, conn.is_closed, conn.is_closing) == (False, True,
                                                                   False)
        assert conn._transport is None
        with pytest.raises(exceptions.ConnectionWrongStateError) as info:
            conn.close()
        assert str(info.value).startswith(
            "Illegal close(200, 'Normal shutdown') request on <")
        assert str(info.value).endswith(
            'because it was called while connection state=CLOSED.')
        with pytest.raises(exceptions.ConnectionWrongStateError) as info:
            conn.channel()
        assert str(info.value).startswith(
            'Channel allocation requires an open connection: <')

    _Run(adapter, scenario)


def test_channel_rpc_reply_frames(adapter: AdapterRunner) -> None:
    queue, exchange, exchange2 = _name('q'), _name('ex'), _name('ex')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        assert channel.channel_number == 1 and channel.is_open

        def call(method: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> Generator:
            assert method(*args, callback=run.resume('reply'), **kwargs) is None
            (frame,) = yield from _until(run, 'reply')
            assert isinstance(frame, pika.frame.Method)
            assert frame.channel_number == 1
            return frame.method

        method = yield from call(channel.exchange_declare, exchange, 'direct')
        assert isinstance(method, spec.Exchange.DeclareOk)
        method = yield from call(channel.exchange_declare,
                                 exchange,
                                 passive=True)
        assert isinstance(method, spec.Exchange.DeclareOk)
        method = yield from call(channel.queue_declare, queue)
        assert isinstance(method, spec.Queue.DeclareOk)
        assert (method.queue, method.message_count,
                method.consumer_count) == (queue, 0, 0)
        method = yield from call(channel.queue_declare, '', exclusive=True)
        assert method.queue.startswith('amq.gen-')
        method = yield from call(channel.queue_bind, queue, exchange, 'rk')
        assert isinstance(method, spec.Queue.BindOk)
        method = yield from call(channel.basic_qos, prefetch_count=10)
        assert isinstance(method, spec.Basic.QosOk)
        method = yield from call(channel.basic_recover, requeue=True)
        assert isinstance(method, spec.Basic.RecoverOk)
        method = yield from call(channel.exchange_declare,
                                 exchange2,
                                 exchange_type='fanout',
                                 auto_delete=True)
        method = yield from call(channel.exchange_bind, exchange2, exchange,
                                 'x')
        assert isinstance(method, spec.Exchange.BindOk)
        method = yield from call(channel.exchange_unbind, exchange2, exchange,
                                 'x')
        assert isinstance(method, spec.Exchange.UnbindOk)
        method = yield from call(channel.exchange_delete, exchange2)
        assert isinstance(method, spec.Exchange.DeleteOk)
        method = yield from call(channel.queue_unbind, queue, exchange, 'rk')
        assert isinstance(method, spec.Queue.UnbindOk)
        method = yield from call(channel.tx_select)
        assert isinstance(method, spec.Tx.SelectOk)
        method = yield from call(channel.tx_commit)
        assert isinstance(method, spec.Tx.CommitOk)
        method = yield from call(channel.tx_rollback)
        assert isinstance(method, spec.Tx.RollbackOk)
        channel.flow(True, callback=run.resume('flow'))
        args = yield from _until(run, 'flow')
        assert args == (True,)
        method = yield from call(channel.queue_purge, queue)
        assert isinstance(method, spec.Queue.PurgeOk)
        assert method.message_count == 0
        method = yield from call(channel.queue_delete, queue)
        assert isinstance(method, spec.Queue.DeleteOk)
        assert method.message_count == 0
        method = yield from call(channel.exchange_delete, exchange)
        yield from _close_connection(run)

    _Run(adapter, scenario)


def test_get_consume_cancel_and_delivery_arguments(
        adapter: AdapterRunner) -> None:
    queue = _name('q')
    props = pika.BasicProperties(content_type='text/plain',
                                 headers={
                                     'a': 1,
                                     'b': 'x',
                                     'c': [1, 2],
                                     'd': {
                                         'e': True
                                     }
                                 },
                                 delivery_mode=2,
                                 priority=3,
                                 correlation_id='c',
                                 reply_to='r',
                                 expiration='60000',
                                 message_id='m',
                                 timestamp=1234,
                                 type='t',
                                 user_id='guest',
                                 app_id='app')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=run.resume('declared'))
        yield from _until(run, 'declared')
        assert channel.basic_publish('', queue, b'hello', props) is None
        channel.basic_publish('', queue, 'strbody')
        channel.basic_get(queue, run.resume('get'))
        args = yield from _until(run, 'get')
        assert args[0] is channel
        assert isinstance(args[1], spec.Basic.GetOk)
        assert (args[1].delivery_tag, args[1].exchange, args[1].routing_key,
                args[1].redelivered) == (1, '', queue, False)
        assert isinstance(args[2], spec.BasicProperties)
        assert args[2].headers == {
            'a': 1,
            'b': 'x',
            'c': [1, 2],
            'd': {
                'e': True
            }
        }
        assert (args[2].content_type, args[2].delivery_mode, args[2].priority,
                args[2].timestamp, args[2].user_id) == ('text/plain', 2, 3,
                                                        1234, 'guest')
        assert args[3] == b'hello' and type(args[3]) is bytes
        channel.basic_ack(args[1].delivery_tag)
        channel.basic_get(queue, run.resume('get'), auto_ack=True)
        args = yield from _until(run, 'get')
        assert args[3] == b'strbody' and args[1].message_count == 0
        # Basic.GetEmpty: the callback is not called.
        channel.basic_get(queue, run.resume('get'))
        run.wake_in(0.3)
        event = yield
        assert event == ('timer', ())

        tag = channel.basic_consume(queue,
                                    run.resume('deliver'),
                                    callback=run.resume('consume_ok'))
        assert tag.startswith('ctag1.') and len(tag) == len('ctag1.') + 32
        assert channel.consumer_tags == [tag]
        (frame,) = yield from _until(run, 'consume_ok')
        assert isinstance(frame.method, spec.Basic.ConsumeOk)
        assert frame.method.consumer_tag == tag
        channel.basic_publish('', queue, b'c1')
        args = yield from _until(run, 'deliver')
        assert args[0] is channel
        assert isinstance(args[1], spec.Basic.Deliver)
        assert (args[1].consumer_tag, args[1].redelivered) == (tag, False)
        assert args[3] == b'c1'
        channel.basic_reject(args[1].delivery_tag, requeue=True)
        args = yield from _until(run, 'deliver')
        assert args[1].redelivered is True
        channel.basic_nack(args[1].delivery_tag, requeue=False)
        with pytest.raises(exceptions.DuplicateConsumerTag) as info:
            channel.basic_consume(queue, run.record('x'), consumer_tag=tag)
        assert info.value.args == (tag,)
        channel.basic_cancel(tag, callback=run.resume('cancel_ok'))
        (frame,) = yield from _until(run, 'cancel_ok')
        assert isinstance(frame.method, spec.Basic.CancelOk)
        assert frame.method.consumer_tag == tag
        # (still inside the CancelOk callback) the consumer is still listed
        assert channel.consumer_tags == [tag] and tag in channel._consumers
        run.wake_in(0.05)
        yield from _until(run, 'timer')
        assert channel.consumer_tags == []
        yield from _close_connection(run)

    _Run(adapter, scenario)


def test_channel_close_twice_and_calls_while_closing(
        adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.resume('channel_closed'))
        channel.close()
        assert (channel.is_closing, channel.is_closed) == (True, False)
        for call in (channel.close, lambda: channel.basic_publish('', 'x', b''),
                     lambda: channel.queue_declare('x')):
            with pytest.raises(exceptions.ChannelWrongStateError) as info:
                call()
            assert info.value.args == ('Channel is closing.',)
        args = yield from _until(run, 'channel_closed')
        assert args[0] is channel
        assert type(args[1]) is exceptions.ChannelClosedByClient
        assert args[1].args == (0, 'Normal shutdown')
        assert channel.is_closed
        with pytest.raises(exceptions.ChannelWrongStateError) as info:
            channel.basic_publish('', 'x', b'')
        assert info.value.args == ('Channel is closed.',)
        # a channel closed while still opening
        other = run.conn.channel(on_open_callback=run.record('never'))
        other.add_on_close_callback(run.resume('other_closed'))
        assert (other.is_opening, other.is_open) == (True, False)
        other.close()
        assert (other.is_opening, other.is_closing) == (False, True)
        args = yield from _until(run, 'other_closed')
        assert args[1].args == (0, 'Normal shutdown')
        assert 'never' not in run.names()
        yield from _close_connection(run)

    _Run(adapter, scenario)


def test_broker_channel_errors(adapter: AdapterRunner) -> None:
    queue = _name('q')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.resume('channel_closed'))
        channel.queue_declare(queue, passive=True, callback=run.record('no'))
        args = yield from _until(run, 'channel_closed')
        assert type(args[1]) is exceptions.ChannelClosedByBroker
        assert args[1].args == (404, "NOT_FOUND - no queue '%s' in vhost '/'" %
                                (queue,))
        assert 'no' not in run.names()
        # (inside the close callback) the channel is closed, not the connection
        assert args[0] is channel and channel.is_closed and run.conn.is_open
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.resume('channel_closed'))
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=run.resume('declared'))
        yield from _until(run, 'declared')
        channel.queue_declare(queue, durable=True)
        args = yield from _until(run, 'channel_closed')
        assert args[1].reply_code == 406
        assert args[1].reply_text.startswith(
            "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s'" %
            (queue,))
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.resume('channel_closed'))
        channel.tx_select(callback=run.resume('tx'))
        yield from _until(run, 'tx')
        channel.confirm_delivery(run.record('acks'))
        args = yield from _until(run, 'channel_closed')
        assert args[1].args == (
            406, 'PRECONDITION_FAILED - cannot switch from tx to confirm mode')
        yield from _close_connection(run)

    _Run(adapter, scenario)


def test_confirms_and_returns(adapter: AdapterRunner) -> None:
    queue = _name('q')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_return_callback(run.record('returned'))
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=run.resume('declared'))
        yield from _until(run, 'declared')
        for bad in (None, 'x'):
            with pytest.raises(ValueError) as info:
                channel.confirm_delivery(bad)
            assert info.value.args == (
                'confirm_delivery requires a callback to receieve '
                'Basic.Ack/Basic.Nack notifications',)
        acks = run.record('ack')
        assert channel.confirm_delivery(
            acks, callback=run.resume('select_ok')) is None
        (frame,) = yield from _until(run, 'select_ok')
        assert isinstance(frame.method, spec.Confirm.SelectOk)
        channel.basic_publish('', queue, b'1')
        channel.basic_publish('', 'nonexistent-' + queue, b'2', mandatory=True)
        run.wake_in(0.5)
        yield from _until(run, 'timer')
        returned = [args for name, args in run.log if name == 'returned']
        assert len(returned) == 1
        ret_channel, method, properties, body = returned[0]
        assert ret_channel is channel
        assert isinstance(method, spec.Basic.Return)
        assert (method.reply_code, method.reply_text, method.exchange,
                method.routing_key) == (312, 'NO_ROUTE', '',
                                        'nonexistent-' + queue)
        assert isinstance(properties, spec.BasicProperties) and body == b'2'
        acked = [args[0] for name, args in run.log if name == 'ack']
        assert all(isinstance(frame, pika.frame.Method) for frame in acked)
        assert all(isinstance(frame.method, spec.Basic.Ack) for frame in acked)
        assert max(frame.method.delivery_tag for frame in acked) == 2
        # return is delivered before the ack of the returned message
        names = run.names()
        assert names.index('returned') < len(names) - 1
        yield from _close_connection(run)

    _Run(adapter, scenario)


def test_consumer_cancelled_by_broker(adapter: AdapterRunner) -> None:
    queue = _name('q')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_cancel_callback(run.resume('cancelled'))
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=run.resume('declared'))
        yield from _until(run, 'declared')
        tag = channel.basic_consume(queue,
                                    run.record('msg'),
                                    callback=run.resume('consume_ok'))
        yield from _until(run, 'consume_ok')
        other = run.conn.channel(on_open_callback=run.resume('other_open'))
        yield from _until(run, 'other_open')
        assert other.channel_number == 2
        other.queue_delete(queue)
        (frame,) = yield from _until(run, 'cancelled')
        assert isinstance(frame, pika.frame.Method)
        assert isinstance(frame.method, spec.Basic.Cancel)
        assert frame.method.consumer_tag == tag
        assert channel.consumer_tags == [] and channel.is_open
        # cancelling an already cancelled consumer is a no-op
        assert channel.basic_cancel(tag, callback=run.record('cok')) is None
        yield from _close_connection(run)
        assert 'cok' not in run.names()

    _Run(adapter, scenario)


def test_connection_close_reason_reaches_channels(
        adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.record('ch1_closed'))
        other = run.conn.channel(on_open_callback=run.record('ch2_open'))
        other.add_on_close_callback(run.record('ch2_closed'))
        run.conn.close(reply_code=321, reply_text='bye')
        assert (channel.is_closing, other.is_closing,
                run.conn.is_closing) == (True, True, True)
        args = yield from _until(run, 'on_close')
        assert args[1].args == (321, 'bye')
        assert type(args[1]) is exceptions.ConnectionClosedByClient
        closes = {
            name: args
            for name, args in run.log
            if name in ('ch1_closed', 'ch2_closed')
        }
        for name in ('ch1_closed', 'ch2_closed'):
            assert type(closes[name][1]) is exceptions.ChannelClosedByClient
            assert closes[name][1].args == (321, 'bye')
        assert channel.is_closed and other.is_closed

    _Run(adapter, scenario)


def test_connection_closed_by_broker(adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.record('channel_closed'))
        run.conn.add_on_close_callback(run.record('extra_on_close'))
        # a second Channel.Open on an open channel is a connection error
        run.conn._send_method(1, spec.Channel.Open())
        args = yield from _until(run, 'on_close')
        expected = (504, "CHANNEL_ERROR - second 'channel.open' seen")
        assert type(args[1]) is exceptions.ConnectionClosedByBroker
        assert args[1].args == expected
        closed = [a for n, a in run.log if n == 'channel_closed'][0]
        assert type(closed[1]) is exceptions.ConnectionClosedByBroker
        assert closed[1].args == expected
        assert run.names().index('channel_closed') < run.names().index(
            'on_close')
        assert channel.is_closed and run.conn.is_closed
        run.wake_in(0.01)
        yield from _until(run, 'timer')
        extra = [a for n, a in run.log if n == 'extra_on_close']
        assert len(extra) == 1 and extra[0][1].args == expected

    _Run(adapter, scenario)


def _open_error(adapter: AdapterRunner,
                params: pika.ConnectionParameters,
                close_at_once: bool = False) -> Any:
    result = []

    def scenario(run: _Run) -> Generator:
        if close_at_once:
            assert run.conn.close() is None
            assert (run.conn.is_closing, run.conn.is_closed) == (True, False)
        args = yield from _until(run, 'on_open_error')
        assert args[0] is run.conn
        assert (run.conn.is_open, run.conn.is_closed) == (False, True)
        # the open error is the only connection callback made
        assert run.names() == ['on_open_error']
        result.append(args[1])

    _Run(adapter, scenario, params=params, timeout=20)
    return result[0]


def test_open_errors(adapter: AdapterRunner) -> None:
    error = _open_error(
        adapter, _params(credentials=pika.PlainCredentials('guest', 'nope')))
    assert type(error) is exceptions.ProbableAuthenticationError
    assert error.args == (
        "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused "
        "using authentication mechanism PLAIN. For details see the broker "
        "logfile.'",)
    error = _open_error(adapter, _params(virtual_host='no-such-vhost'))
    assert type(error) is exceptions.ProbableAccessDeniedError
    assert error.args == ("ConnectionClosedByBroker: (530) 'NOT_ALLOWED - "
                          "vhost no-such-vhost not found'",)
    error = _open_error(adapter, _params(), close_at_once=True)
    assert type(error) is exceptions.ConnectionOpenAborted
    assert error.args == (
        'Connection.close() called before connection finished opening: '
        "prev_state=INIT (200): 'Normal shutdown'",)
    error = _open_error(
        adapter,
        pika.ConnectionParameters(HOST,
                                  55672,
                                  connection_attempts=2,
                                  retry_delay=0.1))
    assert type(error) is exceptions.AMQPConnectionError
    (inner,) = error.args
    assert isinstance(inner, connection_workflow.AMQPConnectionWorkflowFailed)
    assert len(inner.exceptions) == 2
    assert isinstance(inner.exceptions[-1],
                      connection_workflow.AMQPConnectorSocketConnectError)
    assert repr(inner).startswith('AMQPConnectionWorkflowFailed: 2 exceptions '
                                  'in all; last exception - '
                                  'AMQPConnectorSocketConnectError: '
                                  'ConnectionRefusedError(111')
    error = _open_error(adapter,
                        pika.ConnectionParameters('no-such-host.invalid', PORT))
    assert type(error) is connection_workflow.AMQPConnectionWorkflowFailed


def test_heartbeat_callback_and_channel_max(adapter: AdapterRunner) -> None:
    seen = []

    def choose(conn: Any, value: int) -> int:
        seen.append((conn, value))
        return 7

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        assert seen == [(run.conn, 60)]
        assert run.conn.params.heartbeat == 7
        assert run.conn.params.channel_max == 3
        numbers = [run.conn.channel().channel_number for _ in range(3)]
        assert numbers == [1, 2, 3]
        with pytest.raises(exceptions.NoFreeChannels):
            run.conn.channel()
        with pytest.raises(exceptions.NoFreeChannels):
            run.conn.channel(channel_number=0)
        yield from _close_connection(run)

    _Run(adapter, scenario, params=_params(heartbeat=choose, channel_max=3))


def test_blocked_connection_timeout(adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        conn = run.conn
        conn.add_on_connection_blocked_callback(run.record('blocked'))
        conn.add_on_connection_unblocked_callback(run.record('unblocked'))
        conn._process_frame(pika.frame.Method(0, spec.Connection.Blocked('a')))
        run.wake_in(0.3)
        yield from _until(run, 'timer')
        conn._process_frame(pika.frame.Method(0, spec.Connection.Unblocked()))
        run.wake_in(1.0)
        yield from _until(run, 'timer')
        assert conn.is_open
        blocked = [a for n, a in run.log if n == 'blocked']
        assert len(blocked) == 1 and blocked[0][0] is conn
        assert isinstance(blocked[0][1].method, spec.Connection.Blocked)
        assert blocked[0][1].method.reason == 'a'
        unblocked = [a for n, a in run.log if n == 'unblocked']
        assert isinstance(unblocked[0][1].method, spec.Connection.Unblocked)
        conn._process_frame(pika.frame.Method(0, spec.Connection.Blocked('b')))
        args = yield from _until(run, 'on_close')
        assert type(args[1]) is exceptions.ConnectionBlockedTimeout
        assert args[1].args == ('Blocked connection timeout expired.',)

    _Run(adapter, scenario, params=_params(blocked_connection_timeout=0.5))


def test_unencodable_rpc_leaves_channel_usable(adapter: AdapterRunner) -> None:
    queue = _name('q')

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_on_close_callback(run.resume('channel_closed'))
        channel.queue_declare(queue,
                              auto_delete=True,
                              callback=run.resume('declared'))
        yield from _until(run, 'declared')
        with pytest.raises(exceptions.ShortStringTooLong):
            channel.basic_consume(queue,
                                  run.record('msg'),
                                  consumer_tag='t' * 300)
        # as in pika, the tag stays registered
        assert 't' * 300 in channel._consumers
        with pytest.raises(exceptions.ShortStringTooLong):
            channel.queue_declare('q' * 300, callback=run.record('never'))
        with pytest.raises(exceptions.ShortStringTooLong):
            channel.basic_publish('', 'r' * 300, b'x')
        channel.queue_declare(queue,
                              passive=True,
                              callback=run.resume('declared'))
        (frame,) = yield from _until(run, 'declared')
        assert frame.method.queue == queue
        channel.basic_get('no-such-queue-' + queue, run.record('never'))
        args = yield from _until(run, 'channel_closed')
        assert args[1].reply_code == 404
        run.conn.close()
        yield from _until(run, 'on_close')

    _Run(adapter, scenario)


def test_asyncio_connection_without_loop_gets_a_loop_of_its_own() -> None:
    """pika 1.4: outside a running loop each AsyncioConnection makes a new
    event loop, so closing one connection's loop does not break the next.
    """
    loops = []
    for _ in range(2):
        results: List[str] = []

        def on_open(conn: Any, results: List[str] = results) -> None:
            results.append('open')
            conn.close()

        def on_close(conn: Any,
                     reason: Any,
                     results: List[str] = results) -> None:
            results.append(type(reason).__name__)
            conn.ioloop.stop()

        conn = AsyncioConnection(_params(),
                                 on_open_callback=on_open,
                                 on_close_callback=on_close)
        loops.append(conn.ioloop)
        conn.ioloop.call_later(10, conn.ioloop.stop)
        conn.ioloop.run_forever()
        conn.ioloop.close()
        assert results == ['open', 'ConnectionClosedByClient']
    assert loops[0] is not loops[1]


def test_name_resolution_failure_ends_the_workflow(
        adapter: AdapterRunner) -> None:
    """pika 1.4: a host that does not resolve ends the whole multi-host
    workflow at once; the later hosts are not tried.
    """
    import socket
    outcome: List[Any] = []
    configs = [
        pika.ConnectionParameters('no-such-host.invalid', PORT),
        _params(),
    ]

    def done(result: Any) -> None:
        outcome.append(result)
        adapter.stop()

    adapter.create_connection(configs, done)
    adapter.run(10)
    (result,) = outcome
    assert isinstance(result, connection_workflow.AMQPConnectionWorkflowFailed)
    assert len(result.exceptions) == 1
    assert isinstance(result.exceptions[0], socket.gaierror)


def test_ioloop_call_later_argument_checks() -> None:
    loop = select_connection.IOLoop()
    try:
        with pytest.raises(ValueError) as negative:
            loop.call_later(-1, None)
        assert negative.value.args == (
            'call_later: delay must be non-negative, but got -1',)
        with pytest.raises(TypeError) as not_callable:
            loop.call_later(0.1, None)
        assert not_callable.value.args == (
            'callback must be a callable, but got None',)
        with pytest.raises(TypeError) as threadsafe:
            loop.add_callback_threadsafe(None)
        assert threadsafe.value.args == (
            'callback must be a callable, but got None',)
    finally:
        loop.close()
    conn = pika.BlockingConnection(_params())
    try:
        with pytest.raises(ValueError) as info:
            conn.call_later(-1, lambda: None)
        assert info.value.args == (
            'call_later: delay must be non-negative, but got -1',)
        # pika 1.4.4's text, then the argument named (issue: the message
        # must say which argument is wrong).
        with pytest.raises(ValueError) as info:
            conn.process_data_events(-1)
        assert info.value.args == (
            'call_later: delay must be non-negative, but got -1 '
            '(time_limit must be a number >= 0)',)
    finally:
        conn.close()


def test_blocked_hooks_called_directly_only_drive_the_timer(
        adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        conn = run.conn
        conn.add_on_connection_blocked_callback(run.record('blocked'))
        conn.add_on_connection_unblocked_callback(run.record('unblocked'))
        frame = pika.frame.Method(0, spec.Connection.Blocked('direct'))
        conn._on_connection_blocked(conn, frame)
        run.wake_in(0.2)
        yield from _until(run, 'timer')
        conn._on_connection_unblocked(
            conn, pika.frame.Method(0, spec.Connection.Unblocked()))
        run.wake_in(0.6)
        yield from _until(run, 'timer')
        assert conn.is_open
        assert 'blocked' not in run.names()
        assert 'unblocked' not in run.names()
        conn._on_connection_blocked(conn, frame)
        args = yield from _until(run, 'on_close')
        assert type(args[1]) is exceptions.ConnectionBlockedTimeout
        assert 'blocked' not in run.names()

    _Run(adapter, scenario, params=_params(blocked_connection_timeout=0.4))


def test_add_callback_runs_in_registration_order(
        adapter: AdapterRunner) -> None:

    def scenario(run: _Run) -> Generator:
        yield from _until(run, 'on_open')
        channel = yield from _open_channel(run)
        channel.add_callback(run.record('added'), [spec.Basic.QosOk])
        channel.add_callback(run.record('added_multi'), [spec.Basic.QosOk],
                             one_shot=False)
        channel.basic_qos(prefetch_count=1, callback=run.resume('qos'))
        yield from _until(run, 'qos')
        assert run.names()[-3:] == ['added', 'added_multi', 'qos']
        channel.basic_qos(prefetch_count=2, callback=run.resume('qos'))
        yield from _until(run, 'qos')
        assert run.names()[-2:] == ['added_multi', 'qos']
        assert run.names().count('added') == 1
        yield from _close_connection(run)

    _Run(adapter, scenario)
