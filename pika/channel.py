"""AMQP channel: the per-channel half of the sans-IO protocol engine.

Theory of operation
-------------------
A :class:`Channel` receives its frames from the connection
(``_handle_frame``) and sends through the connection's ``_send_method`` /
``_send_message``. It never imports :mod:`pika.connection`.

* Synchronous RPCs are serialised: while one waits for its reply
  (``_blocking``), later RPCs wait in ``_blocked`` and go out in order once
  the reply arrives. Asynchronous methods (publish, ack, ...) go out at once.
* Content (``Basic.Deliver``, ``Basic.GetOk``, ``Basic.Return``) reaches
  ``_handle_content`` whole: from the connection directly when its method,
  header and body frames came in one read, else from the channel's one
  :class:`ContentFrameAssembler`, fed frame by frame (``_handle_frame``) or
  with views of a large body frame (``_handle_body_views``); the body is
  joined once and the consumer callback found by a single dict lookup.
* State changes happen before user callbacks run. Frames that break the
  protocol are reported to the connection, which closes with the matching
  :mod:`pika.exceptions` class.

The RPC-style methods (exchange_*, queue_*, basic_consume, basic_cancel,
basic_get, basic_qos, basic_recover, confirm_delivery, flow, tx_*) follow the
per-message ones; their argument checks are plain functions in
:mod:`pika._channel_rpc`.
"""

import collections
import logging
import struct
from typing import (Any, Callable, Deque, Dict, FrozenSet, Iterable, List,
                    Optional, Set, Tuple, Type, Union, cast)

from pika import _trace
from pika import amqp_object, exceptions, frame, spec
from pika._interfaces import ChannelConnection
from pika._channel_callbacks import (OnChannelClose, OnChannelOpen, OnConfirm,
                                     OnGetOk, OnMessage, OnReply, OnReturn,
                                     OptionalOnReply)
from pika._channel_rpc import (_arguments, _Callback, _replies,
                               _require_at_most, _require_name,
                               _require_routing_key, _require_string,
                               rpc_callback_arg)
from pika.validators import zero_or_greater
from pika.validators import require_callback
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import validators  # noqa: F401
from pika.compat import as_bytes  # noqa: F401
from pika.exchange_type import ExchangeType  # noqa: F401

LOGGER = logging.getLogger(__name__)

# Engine handlers and user callbacks called with a reply's method frame.
_OnAnyReply = Callable[['frame.Method[Any]'], object]
# The method classes an RPC waits for (empty: no reply expected).
_ReplyClasses = Tuple[Type[amqp_object.Method], ...]

MAX_CHANNELS = 65535

_FRAME_METHOD = spec.FRAME_METHOD
_FRAME_HEADER = spec.FRAME_HEADER
_FRAME_BODY = spec.FRAME_BODY

_DELIVER_INDEX = spec.Basic.Deliver.INDEX
_GETOK_INDEX = spec.Basic.GetOk.INDEX
_RETURN_INDEX = spec.Basic.Return.INDEX
_CONTENT_INDEXES = frozenset((_DELIVER_INDEX, _GETOK_INDEX, _RETURN_INDEX))


class Channel:
    """A channel on an AMQP connection.

    Create channels with :meth:`pika.connection.Connection.channel`.

    :param pika.connection.Connection connection: the owning connection
    :param int channel_number: the channel number
    :param callable on_open_callback: ``on_open_callback(channel)`` once the
        broker confirmed ``Channel.OpenOk``
    """

    CLOSED = 0
    OPENING = 1
    OPEN = 2
    CLOSING = 3

    _STATE_NAMES = {
        CLOSED: 'CLOSED',
        OPENING: 'OPENING',
        OPEN: 'OPEN',
        CLOSING: 'CLOSING',
    }

    def __init__(self, connection: ChannelConnection, channel_number: int,
                 on_open_callback: Optional[OnChannelOpen]) -> None:
        """Create the channel; see the class docstring for the arguments."""
        if (isinstance(channel_number, bool) or
                not isinstance(channel_number, int)):
            raise exceptions._with_hint(
                exceptions.InvalidChannelNumber(channel_number),
                'channel_number must be an int from 1 to 65535')
        if on_open_callback is not None:
            require_callback(on_open_callback)
        self.connection: ChannelConnection = connection
        self.channel_number = channel_number
        self._on_openok_callback = on_open_callback
        self._state = self.CLOSED

        # consumer_tag -> on_message_callback(channel, method, props, body)
        self._consumers: Dict[str, OnMessage] = {}
        self._cancelled: Set[str] = set()
        # consumers started with auto_ack: their deliveries after a cancel
        # are dropped, not rejected (the broker has forgotten their tags)
        self._consumers_with_noack: Set[str] = set()
        self._on_getok_callback: Optional[OnGetOk] = None
        # (queue, no_ack, marshalled Basic.Get frame) of the last basic_get
        self._get_frame_cache: Optional[Tuple[str, bool, bytes]] = None
        self._on_close_callbacks: List[OnChannelClose] = []
        self._on_cancel_callbacks: List[OnReply[spec.Basic.Cancel]] = []
        self._on_flow_callbacks: List[OnReply[spec.Channel.Flow]] = []
        self._on_return_callbacks: List[OnReturn] = []
        self._on_confirm_callbacks: List[OnConfirm] = []
        self._on_flowok_callback: Optional[Callable[[bool], object]] = None
        #: False after the broker confirmed Channel.Flow(active=False)
        self.flow_active = True
        # method INDEX -> [[callback, one_shot, seq], ...] (add_callback);
        # seq orders them against the RPC callbacks, as pika's registry does
        self._reply_callbacks: Dict[int, List[List[Any]]] = {}
        self._callback_seq = 0
        self._rpc_seq = 0

        # RPC serialisation
        self._blocking: Optional[str] = None
        self._blocked: Deque[
            Tuple[amqp_object.Method, Optional[_OnAnyReply], _ReplyClasses,
                  Optional[_OnAnyReply]]] = collections.deque()
        self._rpc_replies: Optional[FrozenSet[Optional[int]]] = None
        self._rpc_internal: Optional[_OnAnyReply] = None
        self._rpc_callback: Optional[_OnAnyReply] = None

        self._closing_reason: Optional[exceptions.ChannelClosedByClient] = None
        self._close_deferred = False

        # method, header and body frames of a content arriving frame by frame
        self._assembler = ContentFrameAssembler()

    def __int__(self) -> int:
        """The channel number.

        :rtype: int
        """
        return self.channel_number

    def __repr__(self) -> str:
        return '<%s number=%s %s conn=%r>' % (
            self.__class__.__name__, self.channel_number,
            self._STATE_NAMES[self._state], self.connection)

    # ------------------------------------------------------------------
    # State

    @property
    def is_closed(self) -> bool:
        """True when the channel is closed.

        :rtype: bool
        """
        return self._state == self.CLOSED

    @property
    def is_closing(self) -> bool:
        """True while the channel is closing.

        :rtype: bool
        """
        return self._state == self.CLOSING

    @property
    def is_open(self) -> bool:
        """True when the channel is open.

        :rtype: bool
        """
        return self._state == self.OPEN

    @property
    def is_opening(self) -> bool:
        """True while the channel is opening.

        :rtype: bool
        """
        return self._state == self.OPENING

    @property
    def consumer_tags(self) -> List[str]:
        """The consumer tags of the active consumers.

        :rtype: list
        """
        return list(self._consumers)

    def _set_state(self, state: int) -> None:
        _trace.channel_state_changed(self, self._state, state)
        self._state = state

    def _raise_if_not_open(self) -> None:
        state = self._state
        if state == self.OPEN:
            return
        if state == self.OPENING:
            raise exceptions.ChannelWrongStateError(
                'Channel is opening, but is not usable yet.')
        if state == self.CLOSING:
            raise exceptions.ChannelWrongStateError('Channel is closing.')
        raise exceptions.ChannelWrongStateError('Channel is closed.')

    # ------------------------------------------------------------------
    # Callback registration

    def add_callback(self,
                     callback: _OnAnyReply,
                     replies: Iterable[object],
                     one_shot: bool = True) -> None:
        """Call ``callback(method_frame)`` when one of ``replies`` arrives.

        :param callable callback: ``callback(method_frame)``
        :param list replies: method classes (e.g. ``spec.Basic.GetEmpty``)
        :param bool one_shot: remove the callback after its first call
        """
        require_callback(callback)
        try:
            replies = list(replies)
        except TypeError:
            raise TypeError('replies must be a list of method classes, but '
                            'got %r' % (replies,))
        for reply in replies:
            if isinstance(reply, tuple):
                reply = reply[0]
            index = getattr(reply, 'INDEX', None)
            if index is None:
                raise TypeError('replies must be a list of method classes, '
                                'but got %r' % (reply,))
            self._reply_callbacks.setdefault(index, []).append(
                [callback, one_shot, self._callback_seq + 1])
        self._callback_seq += 1

    def add_on_cancel_callback(self,
                               callback: OnReply[spec.Basic.Cancel]) -> None:
        """Call ``callback(method_frame)`` when the broker cancels a consumer
        (``Basic.Cancel``).

        :param callable callback: ``callback(method_frame)``
        """
        require_callback(callback)
        self._on_cancel_callbacks.append(callback)

    def add_on_close_callback(self, callback: OnChannelClose) -> None:
        """Call ``callback(channel, exception)`` when the channel closes.

        The exception is :class:`pika.exceptions.ChannelClosedByClient`,
        :class:`pika.exceptions.ChannelClosedByBroker` or the connection's
        reason when the connection went away.

        :param callable callback: ``callback(channel, exception)``
        """
        require_callback(callback)
        self._on_close_callbacks.append(callback)

    def add_on_flow_callback(self,
                             callback: OnReply[spec.Channel.Flow]) -> None:
        """Call ``callback(method_frame)`` on ``Channel.Flow`` from the broker.

        :param callable callback: ``callback(method_frame)``
        """
        require_callback(callback)
        self._on_flow_callbacks.append(callback)

    def add_on_return_callback(self, callback: OnReturn) -> None:
        """Call ``callback(channel, method, properties, body)`` for each
        message the broker returns (``Basic.Return``).

        :param callable callback: ``callback(channel, method, properties,
            body)``
        """
        require_callback(callback)
        self._on_return_callbacks.append(callback)

    # ------------------------------------------------------------------
    # Automatic recovery (connections created with recovery=; the driver is
    # pika._recovery_async)

    def _require_recovery(self) -> Any:
        recovery = getattr(self.connection, '_recovery', None)
        if recovery is None:
            raise ValueError('automatic recovery is not enabled on this '
                             'channel\'s connection (see the recovery= '
                             'argument)')
        return recovery

    def add_on_recovery_started_callback(
            self, callback: Callable[[Any, BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` when the connection is lost and
        recovery starts (this channel's close callbacks are not called).

        :raises ValueError: without ``recovery=`` on the connection
        """
        self._require_recovery().add_channel_listener('started', self, callback)

    def add_on_recovery_succeeded_callback(
            self, callback: Callable[[Any, List[Any]], Any]) -> None:
        """Call ``callback(channel, skipped)`` once recovery restored this
        channel; ``skipped``: its :class:`pika.recovery.
        TopologyRecoveryEntity` objects that could not be restored.

        :raises ValueError: without ``recovery=`` on the connection
        """
        self._require_recovery().add_channel_listener('succeeded', self,
                                                      callback)

    def add_on_recovery_failed_callback(
            self, callback: Callable[[Any, BaseException], Any]) -> None:
        """Call ``callback(channel, error)`` when recovery gives up (before
        the close callbacks).

        :raises ValueError: without ``recovery=`` on the connection
        """
        self._require_recovery().add_channel_listener('failed', self, callback)

    def add_on_confirmation_lost_callback(
            self, callback: Callable[[Any, List[Any]], Any]) -> None:
        """In confirm mode with automatic recovery: call
        ``callback(channel, messages)`` with the publishes that were sent but
        neither acked nor nacked when the connection was lost (their fate is
        unknown; this is not a broker nack). ``messages`` is a list of
        :class:`pika.recovery.UnconfirmedMessage`, whose ``delivery_tag`` is
        the publish's sequence number on this channel. Not called for
        messages that ``republish_unconfirmed`` publishes again (unless
        recovery fails).

        :raises ValueError: without ``recovery=`` on the connection
        """
        self._require_recovery()
        if not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))
        hooks: Any = self.__dict__.get('_recovery_hooks')
        hooks.lost_callbacks.append(callback)

    # ------------------------------------------------------------------
    # Open / close

    def open(self) -> None:
        """Send ``Channel.Open`` (the connection does this for you)."""
        self._set_state(self.OPENING)
        self._rpc(spec.Channel.Open(), self._on_openok, (spec.Channel.OpenOk,),
                  None)

    def close(self,
              reply_code: int = 0,
              reply_text: str = 'Normal shutdown') -> None:
        """Close the channel: cancel consumers, then ``Channel.Close``.

        Completion is reported to the on-close callbacks with
        :class:`pika.exceptions.ChannelClosedByClient`.

        :param int reply_code: the code reported to the broker
        :param str reply_text: the text reported to the broker
        :raises pika.exceptions.ChannelWrongStateError: if already closing
            or closed
        """
        if self._state == self.CLOSING:
            raise exceptions.ChannelWrongStateError('Channel is closing.')
        if self._state == self.CLOSED:
            raise exceptions.ChannelWrongStateError('Channel is closed.')
        reply_code = int(reply_code)
        if not isinstance(reply_text, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'reply_text must be a str, but got %r' % (reply_text,))
        LOGGER.info('Closing channel (%s): %r on %s', reply_code, reply_text,
                    self)
        was_opening = self._state == self.OPENING
        self._set_state(self.CLOSING)
        self._closing_reason = exceptions.ChannelClosedByClient(
            reply_code, reply_text)
        if was_opening:
            # Finish opening first; the broker would reject Close otherwise.
            self._close_deferred = True
            return
        self._send_close_sequence()

    def _send_close_sequence(self) -> None:
        for consumer_tag in list(self._consumers):
            if consumer_tag not in self._cancelled:
                self._cancelled.add(consumer_tag)
                self._rpc(
                    spec.Basic.Cancel(consumer_tag=consumer_tag, nowait=True))
        self._consumers.clear()
        reason = self._closing_reason
        assert reason is not None  # set by close() before this is called
        self._rpc(
            spec.Channel.Close(reason.reply_code, reason.reply_text, 0, 0),
            self._on_closeok, (spec.Channel.CloseOk,), None)

    def _on_openok(self,
                   method_frame: 'frame.Method[spec.Channel.OpenOk]') -> None:
        if self._close_deferred:
            self._close_deferred = False
            self._send_close_sequence()
            return
        self._set_state(self.OPEN)
        if self._on_openok_callback is not None:
            self._on_openok_callback(self)

    def _on_closeok(self,
                    method_frame: 'frame.Method[spec.Channel.CloseOk]') -> None:
        LOGGER.info('Received %r on %s', method_frame.method, self)
        reason = self._closing_reason
        assert reason is not None  # CloseOk answers our close()
        self._finish_close(reason)

    def _on_close_from_broker(
            self, method_frame: 'frame.Method[spec.Channel.Close]') -> None:
        method = method_frame.method
        LOGGER.warning('Received remote Channel.Close (%s): %r on %s',
                       method.reply_code, method.reply_text, self)
        if self.connection.is_open or self.connection.is_closing:
            self.connection._send_method(self.channel_number,
                                         spec.Channel.CloseOk())
        self._finish_close(
            exceptions.ChannelClosedByBroker(method.reply_code,
                                             method.reply_text))

    def _on_close_meta(self, reason: BaseException) -> None:
        """The connection is gone: close without talking to the broker.

        :param Exception reason: the connection's reason
        """
        if self._state == self.CLOSED:
            return
        self._finish_close(reason, notify_connection=False)

    def _finish_close(self,
                      reason: BaseException,
                      notify_connection: bool = True) -> None:
        self._set_state(self.CLOSED)
        self._cleanup()
        callbacks = self._on_close_callbacks
        self._on_close_callbacks = []
        # Every reason is an Exception; the adapter seam types them wider.
        callback_reason = cast(Exception, reason)
        try:
            for callback in callbacks:
                callback(self, callback_reason)
        finally:
            # pika keeps the number taken while the close callbacks run.
            if notify_connection:
                self.connection._on_channel_cleanup(self)

    def _cleanup(self) -> None:
        self._consumers = {}
        self._cancelled = set()
        self._consumers_with_noack = set()
        self._on_getok_callback = None
        self._on_flowok_callback = None
        self._blocking = None
        self._blocked.clear()
        self._rpc_replies = None
        self._rpc_internal = None
        self._rpc_callback = None
        self._reply_callbacks = {}
        self._assembler._reset()

    # ------------------------------------------------------------------
    # RPC machinery

    def _rpc(self,
             method: amqp_object.Method,
             internal: Optional[_OnAnyReply] = None,
             replies: _ReplyClasses = (),
             callback: Optional[_OnAnyReply] = None) -> None:
        """Send ``method``; when ``replies`` is non-empty, wait for one of
        them before sending further RPCs.

        :param method: the method to send
        :param internal: engine handler called with the reply frame first
        :param replies: acceptable reply classes (empty: no reply expected)
        :param callback: user callback called with the reply frame
        """
        if self._blocking is not None:
            self._blocked.append((method, internal, replies, callback))
            return
        # Send first: a method that cannot be marshalled (e.g.
        # ShortStringTooLong) raises here and must not leave the channel
        # waiting for a reply that will never come (pika keeps going too).
        self.connection._send_method(self.channel_number, method)
        if replies:
            self._blocking = method.NAME
            self._rpc_replies = frozenset(reply.INDEX for reply in replies)
            self._rpc_internal = internal
            self._rpc_callback = callback
            self._callback_seq += 1
            self._rpc_seq = self._callback_seq

    def _on_synchronous_complete(self) -> None:
        self._blocking = None
        self._rpc_replies = None
        self._rpc_internal = None
        self._rpc_callback = None
        blocked = self._blocked
        while blocked and self._blocking is None:
            self._rpc(*blocked.popleft())

    # ------------------------------------------------------------------
    # Frame dispatch (hot path)

    def _handle_frame(self, value: Any) -> None:
        """Handle one frame for this channel.

        A method that carries no content goes to :meth:`_dispatch_method`;
        the frames of a content go to the channel's
        :class:`ContentFrameAssembler`, and the whole content, once
        assembled, to :meth:`_handle_content`.

        :param pika.frame.Frame value: the frame
        """
        assembler = self._assembler
        # (the assembler is this module's: its state is read here directly)
        if (value.frame_type == _FRAME_METHOD and
                assembler._method_frame is None and
                value.method.INDEX not in _CONTENT_INDEXES):
            self._dispatch_method(value)
            return
        try:
            content = assembler._feed(value)
        except (exceptions.UnexpectedFrameError,
                exceptions.BodyTooLongError) as error:
            self._protocol_error(error)
            return
        if content is not None:
            self._handle_content(*content)

    def _handle_body_views(self, payload_size: int,
                           pieces: List[memoryview]) -> None:
        """Handle one body frame whose payload arrived over several reads,
        as views of those reads; the assembler keeps the views and joins the
        body once (no joined copy of the frame first).

        :param int payload_size: the body frame's payload size
        :param list pieces: views of the payload, in order
        """
        try:
            content = self._assembler._feed_views(self.channel_number,
                                                  payload_size, pieces)
        except (exceptions.UnexpectedFrameError,
                exceptions.BodyTooLongError) as error:
            self._protocol_error(error)
            return
        if content is not None:
            self._handle_content(*content)

    def _handle_content(self, method_frame: 'frame.Method[Any]',
                        header_frame: frame.Header, body: bytes) -> None:
        """Handle a whole content: a delivery, a Basic.GetOk or a returned
        message, with its header and body.

        The connection calls this directly for a content whose three frames
        came in one read (the common case); the assembler for one that came
        frame by frame.

        :param pika.frame.Method method_frame: Deliver, GetOk or Return
        :param pika.frame.Header header_frame: its content header
        :param bytes body: the whole body
        """
        if self._assembler._method_frame is not None:
            # A content in progress: this method frame is out of order.
            self._handle_frame(method_frame)
            return
        index = method_frame.method.INDEX
        if index == _DELIVER_INDEX:
            self._on_deliver(method_frame, header_frame, body)
        elif index == _GETOK_INDEX:
            self._on_getok(method_frame, header_frame, body)
        else:
            self._on_return(method_frame, header_frame, body)

    def _protocol_error(self, error: BaseException) -> None:
        self._assembler._reset()
        self.connection._on_protocol_error(error)

    def _dispatch_method(self, method_frame: 'frame.Method[Any]') -> None:
        index = method_frame.method.INDEX
        state = self._state
        if state == self.CLOSED:
            LOGGER.debug('Dropping %r on closed %s', method_frame, self)
            return
        replies = self._rpc_replies
        rpc_seq = 0
        if replies is not None and index in replies:
            internal = self._rpc_internal
            callback = self._rpc_callback
            rpc_seq = self._rpc_seq
            self._on_synchronous_complete()
            registered = self._reply_callbacks.get(index)
            if registered:
                # add_callback() callbacks registered before this RPC was
                # sent run first (pika calls them in registration order)
                for entry in [e for e in registered if e[2] < rpc_seq]:
                    if entry[1]:
                        registered.remove(entry)
                    entry[0](method_frame)
            if internal is not None:
                internal(method_frame)
            if callback is not None:
                callback(method_frame)
        else:
            handler_name = _ASYNC_HANDLERS.get(index)
            if handler_name is not None:
                getattr(self, handler_name)(method_frame)
            elif index not in self._reply_callbacks:
                LOGGER.debug('Unexpected %r on %s', method_frame, self)
        registered = self._reply_callbacks.get(index)
        if registered:
            for entry in list(registered):
                if entry[2] < rpc_seq:
                    continue  # already called before the RPC callback
                if entry[1]:
                    registered.remove(entry)
                entry[0](method_frame)

    # ------------------------------------------------------------------
    # Handlers for broker-initiated methods (names kept from pika)

    def _on_deliver(self, method_frame: 'frame.Method[spec.Basic.Deliver]',
                    header_frame: frame.Header, body: bytes) -> None:
        method = method_frame.method
        consumer_tag = method.consumer_tag
        if self._cancelled and consumer_tag in self._cancelled:
            # Cancelled by us: give the message back (pika's behaviour),
            # unless it was auto-acked (rejecting an unknown delivery tag
            # would make the broker close the channel).
            if (self._state == self.OPEN and
                    consumer_tag not in self._consumers_with_noack):
                self.basic_reject(method.delivery_tag, requeue=True)
            return
        callback = self._consumers.get(consumer_tag)
        if callback is None:
            LOGGER.error('Unexpected delivery for consumer %r on %s',
                         consumer_tag, self)
            return
        callback(self, method, header_frame.properties, body)

    def _on_getok(self, method_frame: 'frame.Method[spec.Basic.GetOk]',
                  header_frame: frame.Header, body: bytes) -> None:
        callback = self._on_getok_callback
        self._on_getok_callback = None
        if callback is None:
            LOGGER.error('Basic.GetOk received with no active get: %r',
                         method_frame)
            return
        callback(self, method_frame.method, header_frame.properties, body)

    def _on_getempty(self,
                     method_frame: 'frame.Method[spec.Basic.GetEmpty]') -> None:
        LOGGER.debug('Received Basic.GetEmpty: %r', method_frame)
        self._on_getok_callback = None

    def _on_return(self, method_frame: 'frame.Method[spec.Basic.Return]',
                   header_frame: frame.Header, body: bytes) -> None:
        if not self._on_return_callbacks:
            LOGGER.warning('Basic.Return received from server (%r, %r)',
                           method_frame.method, header_frame.properties)
            return
        for callback in list(self._on_return_callbacks):
            callback(self, method_frame.method, header_frame.properties, body)

    def _on_consumer_cancelled_by_broker(
            self, method_frame: 'frame.Method[spec.Basic.Cancel]') -> None:
        consumer_tag = method_frame.method.consumer_tag
        LOGGER.warning('Consumer %r cancelled by broker on %s', consumer_tag,
                       self)
        if consumer_tag not in self._cancelled:
            # (a cancel of ours waiting for its CancelOk forgets it then)
            self._forget_consumer(consumer_tag)
        for callback in list(self._on_cancel_callbacks):
            callback(method_frame)

    def _on_cancelok(self,
                     method_frame: 'frame.Method[spec.Basic.CancelOk]') -> None:
        self._forget_consumer(method_frame.method.consumer_tag)

    def _forget_consumer(self, consumer_tag: str) -> None:
        self._consumers.pop(consumer_tag, None)
        self._cancelled.discard(consumer_tag)
        self._consumers_with_noack.discard(consumer_tag)

    def _on_delivery_confirmation(
        self,
        method_frame: 'frame.Method[Union[spec.Basic.Ack, spec.Basic.Nack]]'
    ) -> None:
        for callback in list(self._on_confirm_callbacks):
            callback(method_frame)

    def _on_flow(self, method_frame: 'frame.Method[spec.Channel.Flow]') -> None:
        for callback in list(self._on_flow_callbacks):
            callback(method_frame)

    def _on_flowok(self,
                   method_frame: 'frame.Method[spec.Channel.FlowOk]') -> None:
        self.flow_active = method_frame.method.active
        callback = self._on_flowok_callback
        self._on_flowok_callback = None
        if callback is not None:
            callback(method_frame.method.active)

    # ------------------------------------------------------------------
    # Consumers, get, publish, confirms, acks (no RPC wait or hot path)

    def basic_publish(self,
                      exchange: str,
                      routing_key: str,
                      body: Union[bytes, str],
                      properties: Optional[spec.BasicProperties] = None,
                      mandatory: bool = False) -> None:
        """Publish a message.

        :param str exchange: the exchange ('' for the default exchange)
        :param str routing_key: the routing key
        :param bytes body: the body; a str is encoded as UTF-8
        :param pika.spec.BasicProperties properties: message properties
        :param bool mandatory: ask the broker to return unroutable messages
        """
        if self._state != self.OPEN:
            self._raise_if_not_open()
        if body.__class__ is not bytes:
            if isinstance(body, str):
                body = body.encode('utf-8')
            elif isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            elif not isinstance(body, bytes):
                raise TypeError('body must be a str or bytes, but got %r' %
                                (type(body).__name__,))
        # As pika 1.4, exchange and routing key may also be bytes (sent as
        # they are).
        if (exchange.__class__ is not str and
                not isinstance(exchange, (str, bytes))):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'exchange must be a str or bytes, but got %r' % (exchange,))
        if (routing_key.__class__ is not str and
                not isinstance(routing_key, (str, bytes))):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'routing_key must be a str or bytes, but got %r' %
                (routing_key,))
        if properties is None:
            properties = _EMPTY_PROPERTIES
        elif not isinstance(properties, _BasicProperties):
            raise TypeError('properties must be a pika.spec.BasicProperties '
                            'or None, but got %r' % (properties,))
        # positional: ticket, exchange, routing_key, mandatory
        self.connection._send_message(
            self.channel_number,
            _Publish(0, exchange, routing_key, mandatory is True or
                     bool(mandatory)), properties, body)

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        """Acknowledge one message, or all up to ``delivery_tag``.

        :param int delivery_tag: the delivery tag (0 with multiple: all)
        :param bool multiple: acknowledge everything up to the tag
        """
        if self._state != self.OPEN:
            self._raise_if_not_open()
        if (delivery_tag.__class__ is not int or
                not 0 <= delivery_tag <= _MAX_DELIVERY_TAG):
            _require_delivery_tag(delivery_tag)
        self.connection._emit_bytes(
            _pack_ack_frame(_FRAME_METHOD, self.channel_number,
                            _ACK_PAYLOAD_SIZE, _ACK_INDEX, delivery_tag,
                            1 if multiple else 0, _FRAME_END), 1)

    def basic_nack(self,
                   delivery_tag: int = 0,
                   multiple: bool = False,
                   requeue: bool = True) -> None:
        """Reject one or several messages (RabbitMQ extension).

        :param int delivery_tag: the delivery tag
        :param bool multiple: reject everything up to the tag
        :param bool requeue: requeue instead of dropping/dead-lettering
        """
        if self._state != self.OPEN:
            self._raise_if_not_open()
        if (delivery_tag.__class__ is not int or
                not 0 <= delivery_tag <= _MAX_DELIVERY_TAG):
            _require_delivery_tag(delivery_tag)
        bits = (1 if multiple else 0) | (2 if requeue else 0)
        self.connection._emit_bytes(
            _pack_ack_frame(_FRAME_METHOD, self.channel_number,
                            _ACK_PAYLOAD_SIZE, _NACK_INDEX, delivery_tag, bits,
                            _FRAME_END), 1)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> None:
        """Reject one message.

        :param int delivery_tag: the delivery tag
        :param bool requeue: requeue instead of dropping/dead-lettering
        """
        if self._state != self.OPEN:
            self._raise_if_not_open()
        if (delivery_tag.__class__ is not int or
                not 0 <= delivery_tag <= _MAX_DELIVERY_TAG):
            if isinstance(delivery_tag,
                          bool) or not isinstance(delivery_tag, int):
                raise TypeError('delivery_tag must be an integer')
            _require_delivery_tag(delivery_tag)
        self.connection._emit_bytes(
            _pack_ack_frame(_FRAME_METHOD, self.channel_number,
                            _ACK_PAYLOAD_SIZE, _REJECT_INDEX, delivery_tag,
                            1 if requeue else 0, _FRAME_END), 1)

    # ------------------------------------------------------------------
    # RPC-style methods (argument checks: pika/_channel_rpc.py)

    def exchange_declare(
            self,
            exchange: str,
            exchange_type: Union[ExchangeType, str] = ExchangeType.direct,
            passive: bool = False,
            durable: bool = False,
            auto_delete: bool = False,
            internal: bool = False,
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Exchange.DeclareOk] = None) -> None:
        """Declare an exchange (``Exchange.Declare``).

        :param str exchange: the exchange name
        :param exchange_type: the exchange type (str or
            :class:`pika.exchange_type.ExchangeType`)
        :param bool passive: only check that the exchange exists
        :param bool durable: survive broker restarts
        :param bool auto_delete: delete when no queue is bound any more
        :param bool internal: cannot be published to directly
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Exchange.DeclareOk``; without it ``nowait`` is used
        """
        _require_string(exchange, 'exchange')
        nowait = rpc_callback_arg(callback)
        if isinstance(exchange_type, ExchangeType):
            exchange_type = exchange_type.value
        if not isinstance(exchange_type, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'exchange_type must be a str or unicode str, but got %r' %
                (exchange_type,))
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        self._rpc(
            spec.Exchange.Declare(exchange=exchange,
                                  type=exchange_type,
                                  passive=bool(passive),
                                  durable=bool(durable),
                                  auto_delete=bool(auto_delete),
                                  internal=bool(internal),
                                  nowait=nowait,
                                  arguments=arguments), None,
            _replies(nowait, spec.Exchange.DeclareOk), callback)

    def exchange_delete(
            self,
            exchange: Optional[str] = None,
            if_unused: bool = False,
            callback: OptionalOnReply[spec.Exchange.DeleteOk] = None) -> None:
        """Delete an exchange (``Exchange.Delete``).

        :param str exchange: the exchange name
        :param bool if_unused: only delete if it has no bindings
        :param callable callback: ``callback(method_frame)`` on
            ``Exchange.DeleteOk``; without it ``nowait`` is used
        """
        _require_name(exchange, 'exchange')
        nowait = rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(
            spec.Exchange.Delete(exchange=cast(str, exchange),
                                 if_unused=bool(if_unused),
                                 nowait=nowait), None,
            _replies(nowait, spec.Exchange.DeleteOk), callback)

    def exchange_bind(
            self,
            destination: str,
            source: str,
            routing_key: str = '',
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Exchange.BindOk] = None) -> None:
        """Bind an exchange to another (``Exchange.Bind``).

        :param str destination: the destination exchange
        :param str source: the source exchange
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Exchange.BindOk``; without it ``nowait`` is used
        """
        self._exchange_binding(spec.Exchange.Bind, spec.Exchange.BindOk,
                               destination, source, routing_key, arguments,
                               callback)

    def exchange_unbind(
            self,
            destination: Optional[str] = None,
            source: Optional[str] = None,
            routing_key: str = '',
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Exchange.UnbindOk] = None) -> None:
        """Remove an exchange-to-exchange binding (``Exchange.Unbind``).

        :param str destination: the destination exchange
        :param str source: the source exchange
        :param str routing_key: the binding key
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Exchange.UnbindOk``; without it ``nowait`` is used
        """
        self._exchange_binding(spec.Exchange.Unbind, spec.Exchange.UnbindOk,
                               destination, source, routing_key, arguments,
                               callback)

    def _exchange_binding(self, method_class: Type[Union[spec.Exchange.Bind,
                                                         spec.Exchange.Unbind]],
                          ok_class: Type[Union[spec.Exchange.BindOk,
                                               spec.Exchange.UnbindOk]],
                          destination: Optional[str], source: Optional[str],
                          routing_key: str, arguments: Optional[Dict[str, Any]],
                          callback: _Callback) -> None:
        """Check the arguments of, and send, ``Exchange.Bind`` / ``Unbind``."""
        # As pika 1.4: Bind checks its names, Unbind leaves it to the method
        # class's assert.
        check = (_require_string
                 if method_class is spec.Exchange.Bind else _require_name)
        check(destination, 'destination')
        check(source, 'source')
        _require_routing_key(routing_key)
        nowait = rpc_callback_arg(callback)
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        self._rpc(
            # checked above (Unbind also lets bytes through, as pika 1.4)
            method_class(destination=cast(str, destination),
                         source=cast(str, source),
                         routing_key=routing_key,
                         nowait=nowait,
                         arguments=arguments),
            None,
            _replies(nowait, ok_class),
            callback)

    def queue_declare(
            self,
            queue: str,
            passive: bool = False,
            durable: bool = False,
            exclusive: bool = False,
            auto_delete: bool = False,
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Queue.DeclareOk] = None) -> None:
        """Declare a queue (``Queue.Declare``); '' lets the broker name it.

        :param str queue: the queue name
        :param bool passive: only check that the queue exists
        :param bool durable: survive broker restarts
        :param bool exclusive: only this connection may use it
        :param bool auto_delete: delete when the last consumer goes
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Queue.DeclareOk``; without it ``nowait`` is used
        """
        _require_string(queue, 'queue')
        nowait = rpc_callback_arg(callback)
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        self._rpc(
            spec.Queue.Declare(queue=queue,
                               passive=bool(passive),
                               durable=bool(durable),
                               exclusive=bool(exclusive),
                               auto_delete=bool(auto_delete),
                               nowait=nowait,
                               arguments=arguments), None,
            _replies(nowait, spec.Queue.DeclareOk), callback)

    def queue_bind(self,
                   queue: str,
                   exchange: str,
                   routing_key: Optional[str] = None,
                   arguments: Optional[Dict[str, Any]] = None,
                   callback: OptionalOnReply[spec.Queue.BindOk] = None) -> None:
        """Bind a queue to an exchange (``Queue.Bind``).

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key (default: the queue name)
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Queue.BindOk``; without it ``nowait`` is used
        """
        _require_string(queue, 'queue')
        _require_string(exchange, 'exchange')
        nowait = rpc_callback_arg(callback)
        if routing_key is None:
            routing_key = queue
        _require_routing_key(routing_key)
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        self._rpc(
            spec.Queue.Bind(queue=queue,
                            exchange=exchange,
                            routing_key=routing_key,
                            nowait=nowait,
                            arguments=arguments), None,
            _replies(nowait, spec.Queue.BindOk), callback)

    def queue_unbind(
            self,
            queue: str,
            exchange: Optional[str] = None,
            routing_key: Optional[str] = None,
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Queue.UnbindOk] = None) -> None:
        """Remove a queue binding (``Queue.Unbind``; always waits for UnbindOk).

        :param str queue: the queue
        :param str exchange: the exchange
        :param str routing_key: the binding key (default: the queue name)
        :param dict arguments: custom arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Queue.UnbindOk``
        """
        _require_string(queue, 'queue')
        _require_name(exchange, 'exchange')  # pika 1.4: an assert
        rpc_callback_arg(callback)
        if routing_key is None:
            routing_key = queue
        _require_routing_key(routing_key)
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        self._rpc(
            spec.Queue.Unbind(queue=queue,
                              exchange=cast(str, exchange),
                              routing_key=routing_key,
                              arguments=arguments), None,
            (spec.Queue.UnbindOk,), callback)

    def queue_purge(
            self,
            queue: str,
            callback: OptionalOnReply[spec.Queue.PurgeOk] = None) -> None:
        """Remove all ready messages from a queue (``Queue.Purge``).

        :param str queue: the queue
        :param callable callback: ``callback(method_frame)`` on
            ``Queue.PurgeOk``; without it ``nowait`` is used
        """
        _require_string(queue, 'queue')
        nowait = rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(spec.Queue.Purge(queue=queue, nowait=nowait), None,
                  _replies(nowait, spec.Queue.PurgeOk), callback)

    def queue_delete(
            self,
            queue: str,
            if_unused: bool = False,
            if_empty: bool = False,
            callback: OptionalOnReply[spec.Queue.DeleteOk] = None) -> None:
        """Delete a queue (``Queue.Delete``).

        :param str queue: the queue
        :param bool if_unused: only if it has no consumers
        :param bool if_empty: only if it has no messages
        :param callable callback: ``callback(method_frame)`` on
            ``Queue.DeleteOk``; without it ``nowait`` is used
        """
        _require_string(queue, 'queue')
        nowait = rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(
            spec.Queue.Delete(queue=queue,
                              if_unused=bool(if_unused),
                              if_empty=bool(if_empty),
                              nowait=nowait), None,
            _replies(nowait, spec.Queue.DeleteOk), callback)

    def basic_qos(self,
                  prefetch_size: int = 0,
                  prefetch_count: int = 0,
                  global_qos: bool = False,
                  callback: OptionalOnReply[spec.Basic.QosOk] = None) -> None:
        """Set the prefetch window (``Basic.Qos``).

        :param int prefetch_size: window in octets (0: no limit)
        :param int prefetch_count: window in messages (0: no limit)
        :param bool global_qos: apply to the whole channel (RabbitMQ: all
            consumers on the channel) rather than per consumer
        :param callable callback: ``callback(method_frame)`` on ``Basic.QosOk``
        """
        zero_or_greater('prefetch_size', prefetch_size)
        zero_or_greater('prefetch_count', prefetch_count)
        _require_at_most('prefetch_size', prefetch_size, 0xFFFFFFFF)
        _require_at_most('prefetch_count', prefetch_count, 0xFFFF)
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(
            spec.Basic.Qos(int(prefetch_size), int(prefetch_count),
                           bool(global_qos)), None, (spec.Basic.QosOk,),
            callback)

    def basic_recover(
            self,
            requeue: bool = False,
            callback: OptionalOnReply[spec.Basic.RecoverOk] = None) -> None:
        """Redeliver unacknowledged messages (``Basic.Recover``).

        :param bool requeue: requeue instead of redelivering to this consumer
        :param callable callback: ``callback(method_frame)`` on
            ``Basic.RecoverOk``
        """
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(spec.Basic.Recover(bool(requeue)), None,
                  (spec.Basic.RecoverOk,), callback)

    def tx_select(self,
                  callback: OptionalOnReply[spec.Tx.SelectOk] = None) -> None:
        """Enter transaction mode (``Tx.Select``).

        :param callable callback: ``callback(method_frame)`` on ``Tx.SelectOk``
        """
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(spec.Tx.Select(), None, (spec.Tx.SelectOk,), callback)

    def tx_commit(self,
                  callback: OptionalOnReply[spec.Tx.CommitOk] = None) -> None:
        """Commit the current transaction (``Tx.Commit``).

        :param callable callback: ``callback(method_frame)`` on ``Tx.CommitOk``
        """
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(spec.Tx.Commit(), None, (spec.Tx.CommitOk,), callback)

    def tx_rollback(self,
                    callback: OptionalOnReply[spec.Tx.RollbackOk] = None
                   ) -> None:
        """Abandon the current transaction (``Tx.Rollback``).

        :param callable callback: ``callback(method_frame)`` on
            ``Tx.RollbackOk``
        """
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._rpc(spec.Tx.Rollback(), None, (spec.Tx.RollbackOk,), callback)

    def basic_consume(
            self,
            queue: str,
            on_message_callback: OnMessage,
            auto_ack: bool = False,
            exclusive: bool = False,
            consumer_tag: Optional[str] = None,
            arguments: Optional[Dict[str, Any]] = None,
            callback: OptionalOnReply[spec.Basic.ConsumeOk] = None) -> str:
        """Start a consumer; messages go to ``on_message_callback``.

        :param str queue: the queue to consume from
        :param callable on_message_callback: ``on_message_callback(channel,
            method, properties, body)`` with ``spec.Basic.Deliver``,
            ``spec.BasicProperties`` and ``bytes``
        :param bool auto_ack: let the broker consider messages acknowledged
            once delivered
        :param bool exclusive: request exclusive access to the queue
        :param str consumer_tag: the consumer tag; generated when None
        :param dict arguments: custom consume arguments
        :param callable callback: ``callback(method_frame)`` on
            ``Basic.ConsumeOk``
        :returns: the consumer tag
        :rtype: str
        :raises pika.exceptions.DuplicateConsumerTag: if the tag is in use
        """
        _require_string(queue, 'queue')
        require_callback(on_message_callback)
        rpc_callback_arg(callback)
        if consumer_tag is not None and not isinstance(consumer_tag, str):
            raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
                'consumer_tag must be a str or None, but got %r' %
                (consumer_tag,))
        arguments = _arguments(arguments)
        self._raise_if_not_open()
        if not consumer_tag:
            # Imported here: uuid costs ~250 KiB of RSS at import time, and only
            # consumers need it.
            import uuid  # pylint: disable=import-outside-toplevel
            consumer_tag = 'ctag%i.%s' % (self.channel_number, uuid.uuid4().hex)
        if consumer_tag in self._consumers or consumer_tag in self._cancelled:
            raise exceptions.DuplicateConsumerTag(consumer_tag)
        self._consumers[consumer_tag] = on_message_callback
        if auto_ack:
            self._consumers_with_noack.add(consumer_tag)
        self._rpc(
            spec.Basic.Consume(queue=queue,
                               consumer_tag=consumer_tag,
                               no_ack=bool(auto_ack),
                               exclusive=bool(exclusive),
                               arguments=arguments), None,
            (spec.Basic.ConsumeOk,), callback)
        return consumer_tag

    def basic_cancel(
            self,
            consumer_tag: str = '',
            callback: OptionalOnReply[spec.Basic.CancelOk] = None) -> None:
        """Cancel a consumer.

        :param str consumer_tag: the consumer to cancel
        :param callable callback: ``callback(method_frame)`` on
            ``Basic.CancelOk``; without it ``Basic.Cancel`` is sent with
            ``nowait`` and the consumer is removed at once
        """
        _require_string(consumer_tag, 'consumer_tag')
        nowait = rpc_callback_arg(callback)
        self._raise_if_not_open()
        # Cancelling first: a nowait cancel has already removed the consumer.
        if consumer_tag in self._cancelled:
            LOGGER.warning('basic_cancel - consumer is already cancelling: %s',
                           consumer_tag)
            return
        if consumer_tag not in self._consumers:
            LOGGER.warning('basic_cancel - consumer not found: %s',
                           consumer_tag)
            return
        self._cancelled.add(consumer_tag)
        if nowait:
            del self._consumers[consumer_tag]
            self._rpc(spec.Basic.Cancel(consumer_tag=consumer_tag, nowait=True))
        else:
            on_cancelok = self._on_cancelok
            user_callback: Callable[
                [frame.Method[spec.Basic.CancelOk]],
                object] = callback  # type: ignore[assignment]

            def on_reply(
                    method_frame: 'frame.Method[spec.Basic.CancelOk]') -> None:
                # As pika: the user's callback runs first, while the consumer is
                # still registered; then it is forgotten.
                try:
                    user_callback(method_frame)
                finally:
                    on_cancelok(method_frame)

            self._rpc(
                spec.Basic.Cancel(consumer_tag=consumer_tag, nowait=False),
                None, (spec.Basic.CancelOk,), on_reply)

    def basic_get(self,
                  queue: str,
                  callback: OnGetOk,
                  auto_ack: bool = False) -> None:
        """Get one message (``Basic.Get``).

        ``callback(channel, method, properties, body)`` receives it; on
        ``Basic.GetEmpty`` it is not called (use :meth:`add_callback` with
        ``spec.Basic.GetEmpty``).

        :param str queue: the queue
        :param callable callback: ``callback(channel, method, properties,
            body)`` with ``spec.Basic.GetOk``
        :param bool auto_ack: no acknowledgement expected
        :raises pika.exceptions.DuplicateGetOkCallback: if a get is pending
        """
        if queue.__class__ is not str:
            _require_string(queue, 'queue')
        if not callable(callback):
            require_callback(callback)
        if self._on_getok_callback is not None:
            raise exceptions.DuplicateGetOkCallback()
        if self._state != self.OPEN:
            self._raise_if_not_open()
        self._on_getok_callback = callback
        no_ack = bool(auto_ack)
        # As in pika 1.4, Basic.Get is sent at once, even while a synchronous
        # RPC waits for its reply (the broker answers in order).
        # Polling the same queue is the common case: its marshalled frame is
        # kept and sent again as it is (no reply is registered for Basic.Get:
        # the channel routes GetOk/GetEmpty itself).
        cached = self._get_frame_cache
        if (cached is None or cached[1] is not no_ack or cached[0] != queue or
                queue.__class__ is not str):
            data = frame.Method(self.channel_number,
                                spec.Basic.Get(queue=queue,
                                               no_ack=no_ack)).marshal()
            cached = self._get_frame_cache = (queue, no_ack, data)
        self.connection._emit_bytes(cached[2], 1)

    def confirm_delivery(
            self,
            ack_nack_callback: OnConfirm,
            callback: OptionalOnReply[spec.Confirm.SelectOk] = None) -> None:
        """Turn on publisher confirms (``Confirm.Select``).

        :param callable ack_nack_callback: ``ack_nack_callback(method_frame)``
            for each ``Basic.Ack`` / ``Basic.Nack`` from the broker
        :param callable callback: ``callback(method_frame)`` on
            ``Confirm.SelectOk``; without it ``nowait`` is used
        :raises pika.exceptions.MethodNotImplemented: if the broker does not
            support confirms
        """
        if not callable(ack_nack_callback):
            raise ValueError('confirm_delivery requires a callback to '
                             'receieve Basic.Ack/Basic.Nack notifications')
        nowait = rpc_callback_arg(callback)
        self._raise_if_not_open()
        if not (self.connection.publisher_confirms and
                self.connection.basic_nack):
            raise exceptions.MethodNotImplemented(
                'Confirm.Select not Supported by Server')
        self._on_confirm_callbacks.append(ack_nack_callback)
        self._rpc(spec.Confirm.Select(nowait=nowait), None, () if nowait else
                  (spec.Confirm.SelectOk,), callback)

    def flow(self,
             active: bool,
             callback: Optional[Callable[[bool], object]] = None) -> None:
        """Ask the broker to pause or resume deliveries (``Channel.Flow``).

        :param bool active: True to resume, False to pause
        :param callable callback: ``callback(active)`` with the broker's
            answer (a bool)
        """
        rpc_callback_arg(callback)
        self._raise_if_not_open()
        self._on_flowok_callback = callback
        self._rpc(spec.Channel.Flow(bool(active)), self._on_flowok,
                  (spec.Channel.FlowOk,), None)


_BasicProperties = spec.BasicProperties
_Publish = spec.Basic.Publish
_EMPTY_PROPERTIES = spec.BasicProperties()

# Basic.Ack / Basic.Nack / Basic.Reject frames have one fixed layout (method
# index, 64-bit delivery tag, one octet of bits): one pack per call.
_pack_ack_frame = struct.Struct('>BHIIQBB').pack
_ACK_PAYLOAD_SIZE = 13
_MAX_DELIVERY_TAG = 0xFFFFFFFFFFFFFFFF
_ACK_INDEX = spec.Basic.Ack.INDEX
_NACK_INDEX = spec.Basic.Nack.INDEX
_REJECT_INDEX = spec.Basic.Reject.INDEX
_FRAME_END = spec.FRAME_END


def _require_delivery_tag(delivery_tag: object) -> None:
    if isinstance(delivery_tag, bool) or not isinstance(delivery_tag, int):
        raise TypeError('delivery_tag must be an integer, but got %r' %
                        (delivery_tag,))
    if not 0 <= delivery_tag <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError('delivery_tag must be between 0 and 2**64-1, but '
                         'got %r' % (delivery_tag,))


# Broker-initiated methods -> the name of the handling method, looked up on
# the channel when the frame arrives, so an override (in a subclass made by
# Connection._create_channel, or set on the instance) is the one called.
_ASYNC_HANDLERS: Dict[int, str] = {
    spec.Channel.Close.INDEX: '_on_close_from_broker',
    spec.Channel.Flow.INDEX: '_on_flow',
    spec.Basic.Cancel.INDEX: '_on_consumer_cancelled_by_broker',
    spec.Basic.GetEmpty.INDEX: '_on_getempty',
    spec.Basic.Ack.INDEX: '_on_delivery_confirmation',
    spec.Basic.Nack.INDEX: '_on_delivery_confirmation',
}


class ContentFrameAssembler:
    """Assembles a content-bearing method, its header and its body frames.

    ``process(frame)`` returns None until the content is complete, then
    ``(method_frame, header_frame, body)``. Each :class:`Channel` assembles
    the contents that reach it frame by frame with one of these.
    """

    def __init__(self) -> None:
        """Create an empty assembler."""
        self._method_frame: Optional[Any] = None
        self._header_frame: Optional[Any] = None
        self._seen_so_far = 0
        self._body_fragments: List[Any] = []

    def process(self, frame_value: Any) -> Optional[Tuple[Any, Any, bytes]]:
        """Feed one frame.

        :param pika.frame.Frame frame_value: a Method, Header or Body frame
        :returns: None, or ``(method_frame, header_frame, body)`` once
            complete
        :raises pika.exceptions.UnexpectedFrameError: on a method that carries
            no content, or a body frame before any content header
        :raises pika.exceptions.BodyTooLongError: if the body exceeds its size
        """
        frame_type = getattr(frame_value, 'frame_type', None)
        if frame_type == _FRAME_METHOD:
            # As in pika 1.4: a content-bearing method (re)starts a content,
            # any other method is not for the assembler.
            if not spec.has_content(frame_value.method.INDEX):
                raise exceptions.UnexpectedFrameError(frame_value)
            self._method_frame = frame_value
            return None
        if frame_type == _FRAME_HEADER:
            self._header_frame = frame_value
            if frame_value.body_size == 0:
                return self._finish()
            return None
        try:
            return self._feed(frame_value)
        except exceptions.UnexpectedFrameError:
            # pika's assembler names the frame itself
            raise exceptions.UnexpectedFrameError(frame_value) from None

    def _feed(self, frame_value: Any) -> Optional[Tuple[Any, Any, bytes]]:
        """:meth:`process`, with errors that say what was out of order."""
        frame_type = getattr(frame_value, 'frame_type', None)
        if frame_type == _FRAME_BODY:
            header_frame = self._header_frame
            if header_frame is None:
                raise exceptions.UnexpectedFrameError(
                    'Body frame without a content header on channel %s' %
                    frame_value.channel_number)
            fragment = frame_value.fragment
            seen = self._seen_so_far + len(fragment)
            body_size = header_frame.body_size
            if seen < body_size:
                self._body_fragments.append(fragment)
                self._seen_so_far = seen
                return None
            if seen > body_size:
                raise exceptions.BodyTooLongError(seen, body_size)
            if self._body_fragments:
                self._body_fragments.append(fragment)
                return self._finish()
            # The whole body in one frame: no join.
            if fragment.__class__ is not bytes:
                fragment = bytes(fragment)
            result = (self._method_frame, header_frame, fragment)
            self._method_frame = None
            self._header_frame = None
            self._seen_so_far = 0
            return result
        if frame_type == _FRAME_METHOD:
            if self._method_frame is not None:
                raise exceptions.UnexpectedFrameError(
                    'Method frame %r while content for %r was incomplete' %
                    (frame_value.method, self._method_frame.method))
            self._method_frame = frame_value
            return None
        if frame_type == _FRAME_HEADER:
            if self._method_frame is None or self._header_frame is not None:
                raise exceptions.UnexpectedFrameError(
                    'Content header frame without a content method on '
                    'channel %s' % frame_value.channel_number)
            self._header_frame = frame_value
            if frame_value.body_size == 0:
                return self._finish()
            return None
        raise exceptions.UnexpectedFrameError(frame_value)

    def _feed_views(
            self, channel_number: int, payload_size: int,
            pieces: List[memoryview]) -> Optional[Tuple[Any, Any, bytes]]:
        """Feed one body frame given as views of its payload's pieces."""
        header_frame = self._header_frame
        if header_frame is None:
            raise exceptions.UnexpectedFrameError(
                'Body frame without a content header on channel %s' %
                channel_number)
        seen = self._seen_so_far + payload_size
        if seen > header_frame.body_size:
            raise exceptions.BodyTooLongError(seen, header_frame.body_size)
        self._body_fragments.extend(pieces)
        self._seen_so_far = seen
        if seen == header_frame.body_size:
            return self._finish()
        return None

    def _finish(self) -> Tuple[Any, Any, bytes]:
        result = (self._method_frame, self._header_frame,
                  b''.join(self._body_fragments))
        self._reset()
        return result

    def _reset(self) -> None:
        self._method_frame = None
        self._header_frame = None
        self._seen_so_far = 0
        self._body_fragments = []
