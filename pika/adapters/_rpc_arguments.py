"""How the blocking and the Twisted channels forward an RPC.

Both surfaces repeat the asynchronous :class:`pika.channel.Channel`'s RPC
methods under pika 1.4's names, signatures and defaults; they differ only in
how they wait for the reply (pump the loop, or return a Deferred). So each of
their RPC methods is its signature, its docstring, its argument checks and one
call, ``return self._rpc('<channel method name>', locals())``: the method's
parameters are the keyword arguments of the channel method of that name, and
the surface's ``_rpc`` adds the completion callback and waits its own way.
Calling ``locals()`` first thing in the method body makes it hold exactly the
parameters (and ``self``, dropped here).
"""

from typing import Any, Dict, Mapping

__all__ = ['rpc_arguments']


def rpc_arguments(method_locals: Mapping[str, Any]) -> Dict[str, Any]:
    """The keyword arguments a forwarding method passes on.

    :param method_locals: the forwarding method's ``locals()``, taken before
        it binds any other name
    :returns: a new dict of its parameters, without ``self``
    """
    return {
        name: value for name, value in method_locals.items() if name != 'self'
    }
