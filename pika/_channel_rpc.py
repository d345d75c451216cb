"""Argument checks of :class:`pika.channel.Channel`'s RPC-style methods.

Plain functions of the values given (names, routing keys, arguments tables,
completion callbacks), raising ``TypeError``/``ValueError`` naming the
argument before anything is sent.

pika's rule, applied by the channel's methods: methods with a ``nowait`` flag
send ``nowait=True`` when no completion callback is given (nothing waits for
a reply); when a callback is given they wait for the reply and call
``callback(method_frame)`` (:func:`rpc_callback_arg` decides).
"""

from typing import Any, Callable, Dict, Optional, Tuple, Type

from pika import amqp_object, exceptions
from pika.validators import rpc_completion_callback

_Callback = Optional[Callable[..., Any]]


def rpc_callback_arg(callback: _Callback) -> bool:
    """Check a completion callback; True means "no callback" (nowait).

    :raises TypeError: if callback is neither None nor callable
    """
    return rpc_completion_callback(callback)


def _require_string(value: object, name: str) -> str:
    """``value``, once checked to be a short string (returned typed)."""
    if not isinstance(value, str):
        raise TypeError('%s must be a str or unicode str, but got %r' %
                        (name, value))
    # 63 characters never exceed 255 UTF-8 bytes: only longer ones are
    # measured.
    if len(value) > 63:
        _require_short_length(value, name)
    return value


def _require_name(value: Any, name: str) -> None:
    """A name pika 1.4 does not check itself: its method class asserts
    ``str`` or ``bytes``, so the error is also an ``AssertionError``."""
    if isinstance(value, str):
        if len(value) > 63:
            _require_short_length(value, name)
    elif not isinstance(value, bytes):
        raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
            '%s must be a str or unicode str, but got %r' % (name, value))


def _require_at_most(name: str, value: Any, maximum: int) -> None:
    # pika 1.4 validates with int() but packs the value itself, which fails
    # for anything that is not an int.
    if not isinstance(value, int):
        raise exceptions._FieldTypeError('%s must be an int, but got %r' %
                                         (name, value))
    if value > maximum:
        raise exceptions._FieldRangeError(
            '%s must be from 0 to %d, but got %r' % (name, maximum, value))


def _require_short_length(value: str, name: str) -> None:
    encoded = value.encode('utf-8')
    if len(encoded) > 255:
        raise exceptions._with_hint(
            exceptions.ShortStringTooLong(encoded),
            '%s must be at most 255 bytes UTF-8 encoded, but is %d bytes' %
            (name, len(encoded)))


def _require_routing_key(value: Any) -> None:
    # As pika 1.4, binding keys may also be given as bytes (sent as they are).
    if not isinstance(value, (str, bytes)):
        raise exceptions._ArgumentTypeError(  # pika 1.4: an assert
            'routing_key must be a str or unicode str, but got %r' % (value,))


def _arguments(arguments: Any) -> Dict[str, Any]:
    if arguments is None:
        return {}
    if not isinstance(arguments, dict):
        raise TypeError('arguments must be a dict or None, but got %r' %
                        (arguments,))
    return arguments


def _replies(
        nowait: bool, reply: Type[amqp_object.Method]
) -> Tuple[Type[amqp_object.Method], ...]:
    return () if nowait else (reply,)
