"""Exceptions raised by pika.

The hierarchy, constructor signatures and ``repr`` texts match pika 1.4 so
that code catching or logging these exceptions keeps working unchanged.

Root classes:

- :class:`AMQPError` - anything that went wrong on the AMQP level;
  :class:`AMQPConnectionError` and :class:`AMQPChannelError` narrow it down to
  the connection or a channel; :class:`ProtocolSyntaxError` covers peer bytes
  that break the protocol.
- :class:`ChannelError` and :class:`ReentrancyError` derive from
  :class:`Exception` directly, as in pika.

Unlike pika, the ``repr`` of an exception constructed without the arguments
its message needs never raises; it falls back to the generic form.
"""

import re as _re
import struct as _struct
from typing import TYPE_CHECKING, Any, Callable, Sequence, Type, TypeVar


def _cls_name(exc: BaseException) -> str:
    return exc.__class__.__name__


_ExceptionClass = TypeVar('_ExceptionClass', bound=Type[BaseException])


def _with_reply(
        close_method: str) -> Callable[[_ExceptionClass], _ExceptionClass]:
    """Class decorator: pika's ``(reply_code, reply_text)`` interface of
    :class:`ConnectionClosed` and :class:`ChannelClosed` (``args`` is the
    pair; ``reply_code``/``reply_text`` properties; the repr shows both).
    pika 1.4 gives the two classes no common base, so neither can we.

    :param str close_method: the AMQP method that carries the reply
    """

    def install(cls: _ExceptionClass) -> _ExceptionClass:

        base: Any = cls.__bases__[0]
        base_init = base.__init__

        def __init__(self: BaseException, reply_code: int,
                     reply_text: str) -> None:
            base_init(self, int(reply_code), str(reply_text))

        __init__.__doc__ = (
            '\n:param int reply_code: the reply code of the `%s` that the '
            'client or the broker sent\n:param str reply_text: its '
            'human-readable reply text\n' % close_method)

        def __repr__(self: BaseException) -> str:
            return '{}: ({}) {!r}'.format(_cls_name(self), self.args[0],
                                          self.args[1])

        def reply_code(self: BaseException) -> int:
            code: int = self.args[0]
            return code

        def reply_text(self: BaseException) -> str:
            text: str = self.args[1]
            return text

        cls.__init__ = __init__  # type: ignore[method-assign,assignment]
        cls.__repr__ = __repr__  # type: ignore[method-assign]
        cls.reply_code = property(  # type: ignore[attr-defined]
            reply_code,
            doc='The AMQP reply code.\n\n:rtype: int')
        cls.reply_text = property(  # type: ignore[attr-defined]
            reply_text,
            doc='The reply text.\n\n:rtype: str')
        return cls

    return install


def _hint_suffix(error: BaseException) -> str:
    """`` (hint)`` when the raiser named the argument and its allowed range.

    The hint is an attribute, not part of ``args``, so that ``args`` and the
    start of ``repr`` stay as pika 1.4 has them.
    """
    hint = getattr(error, 'hint', None)
    return ' (%s)' % hint if hint else ''


def _with_hint(error: BaseException, hint: str) -> BaseException:
    """Attach ``hint`` (which argument, what range) to ``error``; return it."""
    setattr(error, "hint", hint)  # noqa: B010 - BaseException has no hint
    return error


def _message(error: BaseException) -> str:
    """``str(error)``: pika's text, or, where that is empty, what happened.

    pika 1.4 builds ``str()`` from ``args`` alone, which leaves it empty for
    errors raised without arguments (``NoFreeChannels()``) or wrapping an error
    whose own text is empty.  Then the message is the class's description
    (the text its ``repr`` gives, else the first docstring line) and what to
    check (``_WHAT_TO_CHECK``).  ``args`` and ``repr`` stay as pika has them.
    """
    text = Exception.__str__(error)
    if text.strip():
        # pika's text names what happened; a class whose text never says
        # what to check (the broker's reply text, a count) adds it.
        always = type(error).__dict__.get('_ALWAYS_CHECK', '')
        return '%s; %s' % (text, always) if always else text
    described = repr(error)
    prefix = _cls_name(error) + ': '
    if described.startswith(prefix):
        described = described[len(prefix):]
    generic = (described.startswith('An unspecified') and
               not (type(error).__doc__ or '').startswith('Base class'))
    if not described or described.endswith('()') or generic:
        # No arguments for the class's own text: its docstring says more
        # than a base class's generic words.
        described = _first_sentence(type(error))
    described = described.rstrip('.')
    # Only the class's own advice: a parent's would often mislead.
    check = type(error).__dict__.get('_WHAT_TO_CHECK', '')
    return '%s; %s' % (described, check) if check else described


def _first_sentence(cls: type) -> str:
    """The first sentence of ``cls``'s docstring, on one line."""
    doc = ' '.join((cls.__doc__ or cls.__name__).split())
    if doc.startswith('Base class for '):
        return 'A%s %s' % ('n' if doc[15:16] in 'aeiouAEIOU' else '',
                           doc[15:].split('.')[0].rstrip('s') + ' occurred')
    end = doc.find('. ')
    sentence = doc if end < 0 else doc[:end]
    # "(first argument)" says where the value goes; there is none here.
    return _re.sub(r' \((first|first two) arguments?\)', '', sentence)


class AMQPError(Exception):
    """Base class for AMQP-level errors."""

    _WHAT_TO_CHECK = ''

    def __str__(self) -> str:
        return _message(self)

    def __repr__(self) -> str:
        return '%s: An unspecified AMQP error has occurred; %s' % (
            _cls_name(self), self.args)


class AMQPConnectionError(AMQPError):
    """Base class for connection-level errors."""

    _WHAT_TO_CHECK = (
        'check that RabbitMQ is running and reachable at the host and '
        'port of the connection parameters')

    def __repr__(self) -> str:
        if len(self.args) == 2:
            return '{}: ({}) {}'.format(_cls_name(self), self.args[0],
                                        self.args[1])
        return '{}: {}'.format(_cls_name(self), self.args)


class ConnectionOpenAborted(AMQPConnectionError):
    """The client closed the connection before it finished opening."""


class StreamLostError(AMQPConnectionError):
    """The transport (TCP or TLS stream) went away unexpectedly."""

    _WHAT_TO_CHECK = ('check the network path to the broker and the broker log')
    _ALWAYS_CHECK = _WHAT_TO_CHECK


class IncompatibleProtocolError(AMQPConnectionError):
    """The broker answered with a protocol header we do not speak."""

    def __repr__(self) -> str:
        return ('%s: The protocol returned by the server is not supported: %s' %
                (_cls_name(self), self.args))


class AuthenticationError(AMQPConnectionError):
    """Client and broker share no usable authentication mechanism.

    The first argument is the mechanism name.
    """

    def __repr__(self) -> str:
        if not self.args:
            return AMQPConnectionError.__repr__(self)
        return ('%s: Server and client could not negotiate use of the %s '
                'authentication mechanism' % (_cls_name(self), self.args[0]))


class ProbableAuthenticationError(AMQPConnectionError):
    """The broker dropped the connection where bad credentials would."""

    _WHAT_TO_CHECK = ('check the username and password')
    _ALWAYS_CHECK = ('check the user name and password (and that the user '
                     'exists on this broker)')

    def __repr__(self) -> str:
        return ('%s: Client was disconnected at a connection stage indicating '
                'a probable authentication error: %s' %
                (_cls_name(self), self.args))


class ProbableAccessDeniedError(AMQPConnectionError):
    """The broker dropped the connection where a vhost denial would."""

    _WHAT_TO_CHECK = ('check that the virtual host exists and that the '
                      'user may access it')
    _ALWAYS_CHECK = ('check that the virtual host exists and that the user '
                     'has permissions on it')

    def __repr__(self) -> str:
        return (
            '%s: Client was disconnected at a connection stage indicating '
            'a probable denial of access to the specified virtual host: %s' %
            (_cls_name(self), self.args))


class NoFreeChannels(AMQPConnectionError):
    """Every channel number allowed by channel_max is in use."""

    _WHAT_TO_CHECK = ('close channels that are no longer used or negotiate a '
                      'larger channel_max')

    def __repr__(self) -> str:
        return '%s: The connection has run out of free channels' % (
            _cls_name(self))


class ConnectionWrongStateError(AMQPConnectionError):
    """The operation is not allowed in the connection's current state."""

    _WHAT_TO_CHECK = ('check the connection is open (is_open) before using it')

    def __repr__(self) -> str:
        if self.args:
            return super().__repr__()
        return ('%s: The connection is in wrong state for the requested '
                'operation.' % _cls_name(self))


class WorkQueueFullError(AMQPConnectionError):
    """A thread-safe connection's consumer work queue stayed full for longer
    than its ``work_queue_put_timeout``; the connection was closed rather
    than drop a delivery."""

    _WHAT_TO_CHECK = ('make consumer callbacks faster, lower prefetch_count '
                      'or raise work_queue_maxsize / work_queue_put_timeout')


@_with_reply('Connection.Close')
class ConnectionClosed(AMQPConnectionError):
    """The connection was closed by the client or by the broker.

    ``args`` is ``(reply_code, reply_text)``.
    """

    if TYPE_CHECKING:  # what _with_reply gives the class, as checkers see it

        def __init__(self, reply_code: int, reply_text: str) -> None:
            """
            :param int reply_code: the reply code of the `Connection.Close` that
                the client or the broker sent
            :param str reply_text: its human-readable reply text
            """

        reply_code: int
        reply_text: str


class ConnectionClosedByBroker(ConnectionClosed):
    """The broker closed the connection (Connection.Close from the broker)."""


class ConnectionClosedByClient(ConnectionClosed):
    """The connection was closed because the application asked for it."""


class ConnectionBlockedTimeout(AMQPConnectionError):
    """The broker kept the connection blocked (Connection.Blocked) longer
    than blocked_connection_timeout allows."""

    _WHAT_TO_CHECK = ('check the broker for memory or disk alarms')
    _ALWAYS_CHECK = ('the broker blocks publishers while a memory or disk '
                     'alarm lasts: check its alarms (rabbitmq-diagnostics '
                     'alarms), or raise blocked_connection_timeout')


class AMQPHeartbeatTimeout(AMQPConnectionError):
    """The connection was dropped because the peer's heartbeats stopped."""

    _WHAT_TO_CHECK = ('the broker stopped sending; check the network and the '
                      'broker, or use a longer heartbeat')
    _ALWAYS_CHECK = ('nothing came from the broker for too long: check the '
                     'network and the broker, or use a longer heartbeat')


class ConnectionRecovering(AMQPConnectionError):
    """Automatic recovery (``recovery=`` on the connection) is reconnecting:
    the call was not sent. Retry once recovery has succeeded (see the
    connection's ``recovery_state`` and ``add_on_recovery_succeeded_callback``),
    or set ``RecoveryConfig(wait_timeout=...)`` to wait instead.
    """


class AMQPChannelError(AMQPError):
    """Base class for channel-level errors."""

    def __repr__(self) -> str:
        return '{}: {!r}'.format(_cls_name(self), self.args)


class ChannelWrongStateError(AMQPChannelError):
    """The operation is not allowed in the channel's current state."""

    _WHAT_TO_CHECK = ('check the channel is open (is_open) before using it')


@_with_reply('Channel.Close')
class ChannelClosed(AMQPChannelError):
    """The channel was closed, by the client or by the broker.

    ``args`` is ``(reply_code, reply_text)``.
    """

    if TYPE_CHECKING:  # what _with_reply gives the class, as checkers see it

        def __init__(self, reply_code: int, reply_text: str) -> None:
            """
            :param int reply_code: the reply code of the `Channel.Close`
                that the client or the broker sent (an AMQP channel error
                code)
            :param str reply_text: its human-readable reply text
            """

        reply_code: int
        reply_text: str


class ChannelClosedByBroker(ChannelClosed):
    """The broker closed the channel (`Channel.Close` from the broker).

    Given to the channel's on-close callback by the asynchronous adapters
    and raised by `BlockingConnection`.
    """


class ChannelClosedByClient(ChannelClosed):
    """The application closed the channel (reported once `Channel.CloseOk`
    arrives).

    Given to the channel's on-close callback by the asynchronous adapters;
    `BlockingConnection` does not raise it.
    """


class DuplicateConsumerTag(AMQPChannelError):
    """The consumer tag (first argument) already exists on the channel."""

    def __repr__(self) -> str:
        if not self.args:
            return AMQPChannelError.__repr__(self)
        return ('%s: The consumer tag specified already exists for this '
                'channel: %s' % (_cls_name(self), self.args[0]))


class ConsumerCancelled(AMQPChannelError):
    """The broker cancelled a consumer (Basic.Cancel from the broker)."""

    def __repr__(self) -> str:
        return '%s: Server cancelled consumer' % _cls_name(self)


class UnroutableError(AMQPChannelError):
    """The broker returned one or more published messages as unroutable
    (Basic.Return); ``messages`` holds them.

    Raised by BlockingChannel; with publisher confirms, when the Basic.Ack of
    a publish arrives after a Basic.Return for it.
    """

    _ALWAYS_CHECK = ('the broker found no queue bound to the exchange for '
                     "the message's routing key (mandatory=True); check the "
                     'exchange name, the routing key and the bindings')

    def __init__(self, messages: Sequence[Any]) -> None:
        """
        :param messages: the returned messages
            (``blocking_connection.ReturnedMessage``)
        """
        super().__init__('%s unroutable message(s) returned' % (len(messages)))

        self.messages = messages

    def __repr__(self) -> str:
        return '%s: %i unroutable messages returned by broker' % (
            _cls_name(self), len(self.messages))


class NackError(AMQPChannelError):
    """The broker rejected (Basic.Nack) messages published with publisher
    confirms; ``messages`` holds them.

    Raised by BlockingChannel.
    """

    _ALWAYS_CHECK = ('the broker refused to take the published message(s) '
                     '(Basic.Nack), e.g. a queue at its x-max-length with '
                     'x-overflow=reject-publish, or a broker-side failure; '
                     'they were not delivered: check the queue limits and the '
                     'broker log, then publish again')

    def __init__(self, messages: Sequence[Any]) -> None:
        """
        :param messages: the rejected messages
        """
        super().__init__('%s message(s) NACKed' % (len(messages)))

        self.messages = messages

    def __repr__(self) -> str:
        # pika 1.4 uses this very wording for NackError too.
        return '%s: %i unroutable messages returned by broker' % (
            _cls_name(self), len(self.messages))


class ConfirmationLost(AMQPError):
    """Messages were published in confirm mode, but the connection was lost
    before the broker confirmed or rejected them: their fate is unknown (the
    broker may or may not have them). ``messages`` holds them
    (:class:`pika.recovery.UnconfirmedMessage`).

    Not a :class:`NackError` (the broker did not refuse them) and not an
    :class:`AMQPChannelError` (the channel did nothing wrong), and not an
    :class:`AMQPConnectionError` either: with automatic recovery the
    connection is usable again, so handlers that tear down on connection
    errors must not treat this as one.
    """

    _ALWAYS_CHECK = ('the connection was lost before the broker confirmed '
                     'or rejected them, so the broker may or may not have '
                     'them; publish them again if a duplicate is acceptable '
                     '(the exception\'s messages attribute holds them)')

    def __init__(self, messages: Sequence[Any] = ()) -> None:
        """
        :param messages: the publishes whose confirmation was lost
        """
        super().__init__('%s message(s) with lost confirmation' %
                         (len(messages),))
        self.messages = messages

    def __repr__(self) -> str:
        return '%s: %i message(s) sent but neither confirmed nor rejected ' \
            'before the connection was lost' % (_cls_name(self),
                                                len(self.messages))


class InvalidChannelNumber(AMQPError):
    """The channel number (first argument) is out of range or unknown."""

    def __repr__(self) -> str:
        if not self.args:
            return AMQPError.__repr__(self)
        return '%s: An invalid channel number has been specified: %s%s' % (
            _cls_name(self), self.args[0], _hint_suffix(self))


# What to check when the peer's bytes break the protocol.
_PEER_BROKE_PROTOCOL = ('the peer sent bytes that break AMQP 0-9-1: check '
                        'that the host and port are a RabbitMQ AMQP listener '
                        '(amqps:// for a TLS port) and the broker log')


class ProtocolSyntaxError(AMQPError):
    """Base class for peer data that breaks the AMQP syntax."""

    def __repr__(self) -> str:
        return '%s: An unspecified protocol syntax error occurred' % (
            _cls_name(self))


class UnexpectedFrameError(ProtocolSyntaxError):
    """A frame (first argument) arrived out of sequence."""

    _WHAT_TO_CHECK = _PEER_BROKE_PROTOCOL

    def __repr__(self) -> str:
        if not self.args:
            return ProtocolSyntaxError.__repr__(self)
        return '%s: Received a frame out of sequence: %r' % (_cls_name(self),
                                                             self.args[0])


class ProtocolVersionMismatch(ProtocolSyntaxError):
    """Protocol versions (first two arguments) did not match."""

    _WHAT_TO_CHECK = _PEER_BROKE_PROTOCOL

    def __repr__(self) -> str:
        if len(self.args) < 2:
            return ProtocolSyntaxError.__repr__(self)
        return '%s: Protocol versions did not match: %r vs %r' % (
            _cls_name(self), self.args[0], self.args[1])


class BodyTooLongError(ProtocolSyntaxError):
    """More body bytes arrived than the content header announced.

    Arguments: ``(received, expected)``.
    """

    _WHAT_TO_CHECK = _PEER_BROKE_PROTOCOL

    def __repr__(self) -> str:
        try:
            return ('%s: Received too many bytes for a message delivery: '
                    'Received %i, expected %i' %
                    (_cls_name(self), self.args[0], self.args[1]))
        except (IndexError, TypeError):
            return ProtocolSyntaxError.__repr__(self)


class InvalidFrameError(ProtocolSyntaxError):
    """A frame could not be decoded (bad frame end, type or size)."""

    _WHAT_TO_CHECK = _PEER_BROKE_PROTOCOL

    def __repr__(self) -> str:
        if not self.args:
            return ProtocolSyntaxError.__repr__(self)
        return '%s: Invalid frame received: %r' % (_cls_name(self),
                                                   self.args[0])


class InvalidFieldTypeException(ProtocolSyntaxError):
    """A field table holds a type marker (first argument) we don't know."""

    _WHAT_TO_CHECK = _PEER_BROKE_PROTOCOL

    def __repr__(self) -> str:
        if not self.args:
            return ProtocolSyntaxError.__repr__(self)
        return '%s: Unsupported field kind %s' % (_cls_name(self), self.args[0])


class UnsupportedAMQPFieldException(ProtocolSyntaxError):
    """A value cannot be encoded into a field table.

    Arguments: ``(pieces, value)``; the ``repr`` names the value's type.
    """

    _WHAT_TO_CHECK = ('field tables (headers, arguments) take str, bytes, '
                      'bytearray, memoryview, bool, int, float, '
                      'decimal.Decimal, datetime.datetime, dict, list, tuple '
                      'and None values')

    def __repr__(self) -> str:
        if len(self.args) < 2:
            return ProtocolSyntaxError.__repr__(self)
        return '%s: Unsupported field kind %s' % (_cls_name(self),
                                                  type(self.args[1]))


class MethodNotImplemented(AMQPError):
    """The requested AMQP method is not implemented."""


class ChannelError(Exception):
    """Base class for channel usage errors outside the AMQP hierarchy."""

    _WHAT_TO_CHECK = ''

    def __str__(self) -> str:
        return _message(self)

    def __repr__(self) -> str:
        return '%s: An unspecified error occurred with the Channel' % (
            _cls_name(self))


class ReentrancyError(Exception):
    """The call would re-enter code that does not support it.

    For example a BlockingConnection method called from one of its own
    callbacks in a way it cannot handle.
    """

    _WHAT_TO_CHECK = ''

    def __str__(self) -> str:
        return _message(self)


class ShortStringTooLong(AMQPError):
    """A short string (first argument) is longer than 255 bytes."""

    def __repr__(self) -> str:
        if not self.args:
            return AMQPError.__repr__(self)
        # the value is cut at 300 characters, as pika 1.4 does
        return ('%s: AMQP Short String can contain up to 255 bytes: '
                '%.300s%s' %
                (_cls_name(self), self.args[0], _hint_suffix(self)))


class _ArgumentTypeError(TypeError, AssertionError):
    """A wrong argument type where pika 1.4 fails an ``assert``: caught by
    ``except TypeError`` and by ``except AssertionError`` alike.
    """


class _ArgumentValueError(ValueError, AssertionError):
    """A wrong argument value where pika 1.4 fails an ``assert``: caught by
    ``except ValueError`` and by ``except AssertionError`` alike.
    """


class _FieldRangeError(ValueError, _struct.error):
    """An argument too large for its AMQP field: ``ValueError`` by our rule,
    and ``struct.error`` as pika 1.4 raises it when it packs the field.
    """


class _FieldTypeError(TypeError, _struct.error):
    """A number of the wrong type for its AMQP field (``'5'``, ``1.5``):
    ``TypeError`` by our rule, and ``struct.error`` as pika 1.4 raises it
    when it packs the field.
    """


class _TableTypeError(AttributeError, TypeError):
    """A field table that is not a dict: ``AttributeError`` as pika 1.4
    raises it, and ``TypeError`` by our rule.
    """


class DuplicateGetOkCallback(ChannelError):
    """basic_get was called again before the previous one completed."""

    def __repr__(self) -> str:
        return ('%s: basic_get can only be called again after the callback '
                'for the previous basic_get is executed' % _cls_name(self))
