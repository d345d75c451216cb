"""SASL credentials offered to the broker in Connection.StartOk.

Two mechanisms are supported, as in pika 1.4:

- :class:`PlainCredentials` - ``PLAIN``: username and password;
- :class:`ExternalCredentials` - ``EXTERNAL``: identity established outside
  AMQP, typically by a TLS client certificate.

A credentials object answers :meth:`response_for` with the mechanism name and
the response bytes, or ``(None, None)`` when the broker does not offer its
mechanism. Neither the ``repr`` nor any exception text of these classes
contains the username or password.
"""

import logging
from typing import Any, List, Optional, Tuple, Union

# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika.compat import as_bytes  # noqa: F401

LOGGER = logging.getLogger(__name__)

_Secret = Union[str, bytes, None]


def _secret_bytes(value: _Secret) -> bytes:
    """UTF-8 bytes of a username or password (None counts as empty)."""
    if value is None:
        return b''
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8')


def _offered_mechanisms(start: Any) -> List[bytes]:
    """The mechanism names a Connection.Start method offers, as bytes."""
    mechanisms = getattr(start, 'mechanisms', None)
    if mechanisms is None:
        return []
    if isinstance(mechanisms, str):
        mechanisms = mechanisms.encode('utf-8')
    return bytes(mechanisms).split()


class PlainCredentials:
    """Username and password for the SASL ``PLAIN`` mechanism.

    With erase_on_connect the username and password are dropped from memory
    once the connection has sent them (:meth:`erase_credentials`).

    :param str username: the user to authenticate as
    :param str password: the user's password
    :param bool erase_on_connect: forget the credentials after connecting
    :raises TypeError: if username or password is not a str (or bytes)
    """
    TYPE = 'PLAIN'

    def __init__(self,
                 username: _Secret,
                 password: _Secret,
                 erase_on_connect: bool = False) -> None:
        """
        :param str username: the user to authenticate as
        :param str password: the user's password
        :param bool erase_on_connect: forget the credentials after connecting
        """
        for name, value in (('username', username), ('password', password)):
            if value is not None and not isinstance(value, (str, bytes)):
                raise TypeError('%s must be a str, but got %s' %
                                (name, type(value).__name__))
        self.username = username
        self.password = password
        self.erase_on_connect = erase_on_connect

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PlainCredentials):
            return (self.username == other.username and
                    self.password == other.password and
                    self.erase_on_connect == other.erase_on_connect)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        if result is NotImplemented:
            return NotImplemented
        return not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # Never show the username or password.
        return '<%s erase_on_connect=%r>' % (self.__class__.__name__,
                                             self.erase_on_connect)

    def response_for(self, start: Any) -> Tuple[Optional[str], Optional[bytes]]:
        """Answer to the broker's Connection.Start.

        :param pika.spec.Connection.Start start: the broker's Connection.Start
            (only ``mechanisms``, a space-separated list, is read)
        :returns: ``('PLAIN', b'\\0username\\0password')``, or
            ``(None, None)`` when the broker does not offer ``PLAIN``
        :rtype: tuple

        """
        if self.TYPE.encode('ascii') not in _offered_mechanisms(start):
            return None, None
        return (self.TYPE, b'\0' + _secret_bytes(self.username) + b'\0' +
                _secret_bytes(self.password))

    def erase_credentials(self) -> None:
        """Forget username and password if erase_on_connect is set."""
        if self.erase_on_connect:
            LOGGER.info('Erasing stored credential values')
            self.username = None
            self.password = None


class ExternalCredentials:
    """The SASL ``EXTERNAL`` mechanism: the broker identifies the client by
    other means, usually its TLS client certificate.
    """
    TYPE = 'EXTERNAL'

    def __init__(self) -> None:
        """Nothing to configure; ``erase_on_connect`` is always False."""
        self.erase_on_connect = False

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ExternalCredentials):
            return self.erase_on_connect == other.erase_on_connect
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        if result is NotImplemented:
            return NotImplemented
        return not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return '<%s>' % self.__class__.__name__

    def response_for(self, start: Any) -> Tuple[Optional[str], Optional[bytes]]:
        """Answer to the broker's Connection.Start.

        :param pika.spec.Connection.Start start: the broker's Connection.Start
        :returns: ``('EXTERNAL', b'')``, or ``(None, None)`` when the broker
            does not offer ``EXTERNAL``
        :rtype: tuple

        """
        if self.TYPE.encode('ascii') not in _offered_mechanisms(start):
            return None, None
        return self.TYPE, b''

    def erase_credentials(self) -> None:
        """Nothing to erase (kept for interface parity)."""
        LOGGER.debug('Not supported by this Credentials type')


# Credential types that Parameters.credentials accepts.
VALID_TYPES = [PlainCredentials, ExternalCredentials]
