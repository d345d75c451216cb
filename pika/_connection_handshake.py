"""What the opening handshake of :class:`pika.connection.Connection`
decides, as plain functions of their inputs.

``Connection._on_connection_start`` answers ``Connection.Start`` with
``StartOk`` carrying :func:`client_properties`;
``Connection._on_connection_tune`` answers ``Connection.Tune`` with
``TuneOk`` + ``Open`` carrying the limits :func:`negotiate_integer_value`
decides and the heartbeat timeout the connection proposes
(``Connection._tuned_heartbeat``: the parameters may hold a callable that is
given the connection). Those hooks are the connection's methods: subclasses
override them. :func:`opening_error` translates a
failure while opening into pika's exception classes.
"""

import platform
from typing import Any, Dict

from pika import _state, exceptions

from pika._version import INFORMATION as CLIENT_INFORMATION
from pika._version import PRODUCT as CLIENT_PRODUCT
from pika._version import __version__ as CLIENT_VERSION

# pika 1.4.4's constant (``pika.connection.PRODUCT``), kept for code that
# reads it; the broker is told CLIENT_PRODUCT, which names this library.
PRODUCT = 'Pika Python Client Library'

_PROTOCOL = _state.PROTOCOL
_START = _state.START
_TUNE = _state.TUNE


def client_properties(params: Any) -> Dict[str, Any]:
    """The ``client-properties`` table sent in ``Connection.StartOk``.

    :param pika.connection.Parameters params: the connection parameters
    :rtype: dict
    """
    properties: Dict[str, Any] = {
        'product': CLIENT_PRODUCT,
        'platform': 'Python %s' % platform.python_version(),
        'capabilities': {
            'authentication_failure_close': True,
            'basic.nack': True,
            'connection.blocked': True,
            'consumer_cancel_notify': True,
            'exchange_exchange_bindings': True,
            'publisher_confirms': True,
        },
        'information': CLIENT_INFORMATION,
        'version': CLIENT_VERSION,
    }
    if params.client_properties:
        properties.update(params.client_properties)
    return properties


def negotiate_integer_value(client_value: int, server_value: int) -> int:
    """The smaller non-zero of the two (0 means "no limit").

    :rtype: int
    """
    if client_value == 0 or server_value == 0:
        return client_value or server_value
    return min(client_value, server_value)


def opening_error(prev_state: int, error: BaseException) -> BaseException:
    """Translate the end of the stream while opening into pika's exception.

    The stage decides: protocol header sent -> IncompatibleProtocolError,
    StartOk sent -> ProbableAuthenticationError, Open sent ->
    ProbableAccessDeniedError; each wraps ``repr(error)``. Errors the engine
    raised itself (protocol, authentication, abort) pass through.

    :param int prev_state: the connection state when the stream ended
    :param Exception error: why the stream ended
    :rtype: Exception
    """
    if not isinstance(
            error,
        (exceptions.StreamLostError, exceptions.ConnectionClosedByBroker)):
        return error
    if prev_state == _PROTOCOL:
        return exceptions.IncompatibleProtocolError(repr(error))
    if prev_state == _START:
        return exceptions.ProbableAuthenticationError(repr(error))
    if prev_state == _TUNE:
        return exceptions.ProbableAccessDeniedError(repr(error))
    return error
