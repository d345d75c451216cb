"""A scripted stand-in for SelectConnection/Channel, for BlockingConnection
unit tests (no broker, no network).

``FakeImpl`` is passed as ``_impl_class``; it runs on the real
:class:`~pika.adapters.select_connection.IOLoop` that BlockingConnection
creates, and completes every asynchronous request on the loop's next turn,
the way a broker's reply would arrive. Tests push deliveries, returns and
broker cancellations with the ``FakeChannel.deliver`` etc. helpers.
"""

from typing import Any, Callable, Dict, List, Optional

from pika import exceptions, frame, spec


class FakeChannel:
    """Records requests; answers RPCs on the next loop turn."""

    def __init__(self, connection: 'FakeImpl', channel_number: int,
                 on_open_callback: Callable[[Any], Any]) -> None:
        self.connection = connection
        self.channel_number = channel_number
        self.is_open = False
        self.is_closed = False
        self.is_closing = False
        self.close_callbacks: List[Callable[..., Any]] = []
        self.cancel_callbacks: List[Callable[..., Any]] = []
        self.return_callbacks: List[Callable[..., Any]] = []
        self.getempty_callbacks: List[Callable[..., Any]] = []
        self.consumers: Dict[str, Callable[..., Any]] = {}
        self.sent: List[Any] = []
        self.next_tag = 0
        self.delivery_tag = 0
        # set to make the next RPC close the channel (code, text)
        self.fail_next_rpc: Optional[tuple] = None
        self.confirm_callback: Optional[Callable[..., Any]] = None
        self.publish_seq = 0
        # publish_seq -> confirmation methods the broker sends for it
        self.confirm_script = self.default_confirm_script
        connection.later(self._opened, on_open_callback)

    def _opened(self, on_open_callback: Callable[[Any], Any]) -> None:
        self.is_open = True
        on_open_callback(self)

    # -- registration ---------------------------------------------------------

    def add_on_close_callback(self, callback: Callable[..., Any]) -> None:
        self.close_callbacks.append(callback)

    def add_on_cancel_callback(self, callback: Callable[..., Any]) -> None:
        self.cancel_callbacks.append(callback)

    def add_on_return_callback(self, callback: Callable[..., Any]) -> None:
        self.return_callbacks.append(callback)

    def add_callback(self, callback, replies, one_shot=True) -> None:
        assert replies == [spec.Basic.GetEmpty] and not one_shot
        self.getempty_callbacks.append(callback)

    # -- requests -------------------------------------------------------------

    def _check_open(self) -> None:
        if not self.is_open:
            raise exceptions.ChannelWrongStateError('Channel is closed.')

    def _reply(self, callback: Callable[..., Any], method: Any) -> None:
        if self.fail_next_rpc is not None:
            code, text = self.fail_next_rpc
            self.fail_next_rpc = None
            self.connection.later(self.broker_close, code, text)
            return
        self.connection.later(callback, frame.Method(self.channel_number,
                                                     method))

    def queue_declare(self, queue, callback, **_kwargs) -> None:
        self._check_open()
        self.sent.append(('queue_declare', queue))
        self._reply(callback, spec.Queue.DeclareOk(queue, 0, 0))

    def basic_consume(self, queue, on_message_callback, auto_ack, exclusive,
                      consumer_tag, arguments, callback) -> str:
        self._check_open()
        if not consumer_tag:
            self.next_tag += 1
            consumer_tag = 'ctag%d.%d' % (self.channel_number, self.next_tag)
        if consumer_tag in self.consumers:
            raise exceptions.DuplicateConsumerTag(consumer_tag)
        self.consumers[consumer_tag] = on_message_callback
        self.sent.append(('basic_consume', queue, consumer_tag, auto_ack))
        self._reply(callback, spec.Basic.ConsumeOk(consumer_tag))
        return consumer_tag

    def basic_cancel(self, consumer_tag, callback) -> None:
        self._check_open()
        self.sent.append(('basic_cancel', consumer_tag))
        self.consumers.pop(consumer_tag, None)
        self._reply(callback, spec.Basic.CancelOk(consumer_tag))

    def basic_ack(self, delivery_tag=0, multiple=False) -> None:
        self._check_open()
        self.sent.append(('basic_ack', delivery_tag, multiple))

    def basic_reject(self, delivery_tag=0, requeue=True) -> None:
        self._check_open()
        self.sent.append(('basic_reject', delivery_tag, requeue))

    def basic_publish(self, exchange, routing_key, body, properties,
                      mandatory) -> None:
        self._check_open()
        self.sent.append(('basic_publish', exchange, routing_key, body))
        if self.confirm_callback is not None:
            self.publish_seq += 1
            for method in self.confirm_script(self.publish_seq):
                self.connection.later(self.confirm_callback,
                                      frame.Method(self.channel_number, method))

    def confirm_delivery(self, ack_nack_callback, callback) -> None:
        self._check_open()
        self.confirm_callback = ack_nack_callback
        self._reply(callback, spec.Confirm.SelectOk())

    @staticmethod
    def default_confirm_script(delivery_tag: int) -> List[Any]:
        """Confirmations the broker sends for a publish: one ack."""
        return [spec.Basic.Ack(delivery_tag)]

    def close(self, reply_code=0, reply_text='Normal shutdown') -> None:
        self._check_open()
        self.is_open = False
        self.is_closing = True
        self.connection.later(
            self._closed,
            exceptions.ChannelClosedByClient(reply_code, reply_text))

    def _closed(self, reason: BaseException) -> None:
        self.is_open = False
        self.is_closing = False
        self.is_closed = True
        for callback in self.close_callbacks:
            callback(self, reason)

    # -- what the broker does -----------------------------------------------

    def deliver(self, consumer_tag: str, body: bytes) -> int:
        """Deliver a message to a consumer now; return its delivery tag."""
        self.delivery_tag += 1
        method = spec.Basic.Deliver(consumer_tag, self.delivery_tag, False, '',
                                    'q')
        self.consumers[consumer_tag](self, method, spec.BasicProperties(), body)
        return self.delivery_tag

    def broker_cancel(self, consumer_tag: str) -> None:
        """The broker cancels a consumer now."""
        self.consumers.pop(consumer_tag, None)
        method_frame = frame.Method(self.channel_number,
                                    spec.Basic.Cancel(consumer_tag))
        for callback in self.cancel_callbacks:
            callback(method_frame)

    def broker_return(self, body: bytes) -> None:
        """The broker returns a message now."""
        method = spec.Basic.Return(312, 'NO_ROUTE', '', 'nowhere')
        for callback in self.return_callbacks:
            callback(self, method, spec.BasicProperties(), body)

    def broker_close(self, code: int, text: str) -> None:
        """The broker closes the channel now."""
        self._closed(exceptions.ChannelClosedByBroker(code, text))


class FakeImpl:
    """Stands in for SelectConnection; see the module docstring."""

    # what the next create_connection reports instead of a connection
    open_error: Optional[BaseException] = None
    instances: List['FakeImpl'] = []

    def __init__(self, configs: List[Any], ioloop: Any) -> None:
        self.params = configs[0]
        self.ioloop = ioloop
        self.is_open = True
        self.is_closed = False
        self.is_closing = False
        self.basic_nack = True
        self.consumer_cancel_notify = True
        self.exchange_exchange_bindings = True
        self.publisher_confirms = True
        self.close_callbacks: List[Callable[..., Any]] = []
        self.blocked_callbacks: List[Callable[..., Any]] = []
        self.unblocked_callbacks: List[Callable[..., Any]] = []
        self.channels: Dict[int, FakeChannel] = {}
        self.write_buffer = 0
        FakeImpl.instances.append(self)

    @classmethod
    def create_connection(cls,
                          connection_configs,
                          on_done,
                          custom_ioloop=None) -> None:
        error = cls.open_error
        cls.open_error = None
        if error is not None:
            custom_ioloop.add_callback_threadsafe(lambda: on_done(error))
            return
        impl = cls(list(connection_configs), custom_ioloop)
        custom_ioloop.add_callback_threadsafe(lambda: on_done(impl))

    def later(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop's next turn."""
        self.ioloop.add_callback_threadsafe(lambda: callback(*args))

    # -- adapter methods BlockingConnection uses ------------------------------

    def _adapter_call_later(self, delay, callback):
        return self.ioloop.call_later(delay, callback)

    def _adapter_remove_timeout(self, handle) -> None:
        self.ioloop.remove_timeout(handle)

    def _adapter_add_callback_threadsafe(self, callback) -> None:
        self.ioloop.add_callback_threadsafe(callback)

    def _adapter_get_write_buffer_size(self) -> int:
        return self.write_buffer

    # -- public API -----------------------------------------------------------

    def add_on_close_callback(self, callback) -> None:
        self.close_callbacks.append(callback)

    def add_on_connection_blocked_callback(self, callback) -> None:
        self.blocked_callbacks.append(callback)

    def add_on_connection_unblocked_callback(self, callback) -> None:
        self.unblocked_callbacks.append(callback)

    def channel(self, channel_number=None, on_open_callback=None):
        if not self.is_open:
            raise exceptions.ConnectionWrongStateError(
                'Channel allocation requires an open connection')
        number = channel_number or len(self.channels) + 1
        channel = FakeChannel(self, number, on_open_callback)
        self.channels[number] = channel
        return channel

    def close(self, reply_code=200, reply_text='Normal shutdown') -> None:
        self.is_open = False
        self.is_closing = True
        self.later(self.terminate,
                   exceptions.ConnectionClosedByClient(reply_code, reply_text))

    def update_secret(self, new_secret, reason, callback) -> None:
        self.later(callback, frame.Method(0, spec.Connection.UpdateSecretOk()))

    # -- what the broker/network does ---------------------------------------

    def terminate(self, error: BaseException) -> None:
        """The connection is gone now, because of ``error``."""
        self.is_open = False
        self.is_closing = False
        self.is_closed = True
        for channel in self.channels.values():
            if not channel.is_closed:
                channel._closed(error)
        for callback in self.close_callbacks:
            callback(self, error)

    def blocked(self, reason: str) -> None:
        method_frame = frame.Method(0, spec.Connection.Blocked(reason))
        for callback in self.blocked_callbacks:
            callback(self, method_frame)
