"""The signatures of the callbacks :class:`pika.channel.Channel` calls.

For type checkers: each callback a user hands to the asynchronous channel is
annotated with one of these, so ``mypy`` reports a callback taking the wrong
arguments where it is passed. Parameters are positional-only: the user's
functions may name them as they like. Nothing here runs per message.
"""

from typing import TYPE_CHECKING, Callable, Optional, Protocol, TypeVar, Union

from pika import amqp_object, frame, spec

if TYPE_CHECKING:
    from pika.channel import Channel

_MethodT = TypeVar('_MethodT', bound=amqp_object.Method)

#: ``callback(method_frame)``: the broker's reply to an RPC-style method,
#: e.g. ``OnReply[spec.Queue.DeclareOk]``.
OnReply = Callable[[frame.Method[_MethodT]], object]

#: An optional :data:`OnReply`; without it, methods with a ``nowait`` flag
#: do not wait for the reply.
OptionalOnReply = Optional[Callable[[frame.Method[_MethodT]], object]]

#: ``callback(method_frame)`` for each ``Basic.Ack`` / ``Basic.Nack``.
OnConfirm = Callable[[frame.Method[Union[spec.Basic.Ack, spec.Basic.Nack]]],
                     object]


class OnMessage(Protocol):
    """``on_message_callback(channel, method, properties, body)`` of
    :meth:`pika.channel.Channel.basic_consume`."""

    def __call__(self, channel: 'Channel', method: spec.Basic.Deliver,
                 properties: spec.BasicProperties, body: bytes, /) -> object:
        """Receive one delivered message."""


class OnGetOk(Protocol):
    """``callback(channel, method, properties, body)`` of
    :meth:`pika.channel.Channel.basic_get`."""

    def __call__(self, channel: 'Channel', method: spec.Basic.GetOk,
                 properties: spec.BasicProperties, body: bytes, /) -> object:
        """Receive the message ``Basic.Get`` fetched."""


class OnReturn(Protocol):
    """``callback(channel, method, properties, body)`` of
    :meth:`pika.channel.Channel.add_on_return_callback`."""

    def __call__(self, channel: 'Channel', method: spec.Basic.Return,
                 properties: spec.BasicProperties, body: bytes, /) -> object:
        """Receive a message the broker returned."""


class OnChannelOpen(Protocol):
    """``on_open_callback(channel)`` once the channel is open."""

    def __call__(self, channel: 'Channel', /) -> object:
        """The channel is open."""


class OnChannelClose(Protocol):
    """``callback(channel, reason)`` of
    :meth:`pika.channel.Channel.add_on_close_callback`."""

    def __call__(self, channel: 'Channel', reason: Exception, /) -> object:
        """The channel closed for ``reason``."""
