"""How the blocking and the Twisted surfaces forward to the asynchronous
objects they wrap.

Both repeat the asynchronous :class:`pika.channel.Channel`'s RPC methods
under pika 1.4's names, signatures and defaults; they differ only in how they
wait for the reply (pump the loop, or return a Deferred). So each of their
RPC methods is its signature, its docstring, its argument checks and one
call, ``return self._rpc('<channel method name>', locals())``: the method's
parameters are the keyword arguments of the channel method of that name, and
the surface's ``_rpc`` adds the completion callback and waits its own way.
Calling ``locals()`` first thing in the method body makes it hold exactly the
parameters (and ``self``, dropped by :func:`rpc_arguments`).

Their read-only state (``is_open``, the broker's capabilities...) is the
wrapped object's: :func:`forwarded_property` makes such a property from the
attribute path and the docstring.
"""

import operator
from typing import Any, Dict, Mapping, Type, TypeVar, cast

__all__ = ['rpc_arguments', 'forwarded_property']

_ValueT = TypeVar('_ValueT')


def rpc_arguments(method_locals: Mapping[str, Any]) -> Dict[str, Any]:
    """The keyword arguments a forwarding method passes on.

    :param method_locals: the forwarding method's ``locals()``, taken before
        it binds any other name
    :returns: a new dict of its parameters, without ``self``
    """
    return {
        name: value for name, value in method_locals.items() if name != 'self'
    }


def forwarded_property(path: str, doc: str,
                       value_type: Type[_ValueT]) -> _ValueT:
    """A read-only property whose value is ``self.<path>``.

    :param str path: dotted attribute path from the instance, e.g.
        ``'_impl.is_open'``
    :param str doc: the property's docstring
    :param type value_type: the type of the value (for type checkers: the
        class attribute reads as that type)
    :returns: the property
    """
    del value_type  # only for the static type
    return cast(_ValueT, property(operator.attrgetter(path), doc=doc))
