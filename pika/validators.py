"""Argument checks shared by the public API.

Each check raises ``TypeError`` or ``ValueError`` naming the offending
argument, before anything is sent to the broker.
"""

from typing import Any, Callable, Optional


def require_string(value: Any, value_name: str) -> None:
    """Require that value is a string.

    :param value: the value to check
    :param str value_name: the argument's name, used in the error message
    :raises TypeError: if value is not a ``str``

    """
    if not isinstance(value, str):
        raise TypeError('%s must be a str or unicode str, but got %r' %
                        (value_name, value))


def require_callback(callback: Any, callback_name: str = 'callback') -> None:
    """Require that callback is callable.

    :param callback: the value to check
    :param str callback_name: the argument's name, used in the error message
    :raises TypeError: if callback is not callable

    """
    if not callable(callback):
        raise TypeError('callback %s must be callable, but got %r' %
                        (callback_name, callback))


def rpc_completion_callback(callback: Optional[Callable[..., Any]]) -> bool:
    """Check an optional completion callback of an RPC-style method.

    :param callback: None or a callable
    :returns: True if callback is None (the call is to be treated as
        synchronous / fire-and-forget), False if it is a callable
    :rtype: bool
    :raises TypeError: if callback is neither None nor callable

    """
    if callback is None:
        return True
    if callable(callback):
        return False
    raise TypeError('completion callback must be callable if not None')


def zero_or_greater(name: str, value: Any) -> None:
    """Require that value, taken as an integer, is not negative.

    As in pika, anything ``int()`` accepts is accepted (``'5'``, ``1.5``).

    :param str name: the argument's name, used in the error message
    :param value: the value to check
    :raises TypeError: if value cannot be taken as an integer
    :raises ValueError: if value is negative or not a number

    """
    try:
        number = int(value)
    except TypeError:
        raise TypeError('%s must be an int, but got %r' % (name, value))
    except ValueError:
        raise ValueError('%s must be an int, but got %r' % (name, value))
    if number < 0:
        raise ValueError('%s must be >= 0, but got %r' % (name, value))
