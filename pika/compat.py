"""Platform facts and small helpers shared across pika.

pika 1.4 still exposes this module; its names are kept for code that imports
them (``ON_WINDOWS``, ``SOCKET_ERROR``, ``time_now``, ``as_bytes`` ...).
"""

import abc
import os
import platform
import re
import socket
import sys
import time
from typing import Tuple, Union

_LOCALHOST = '127.0.0.1'
_LOCALHOST_V6 = '::1'

ON_LINUX = sys.platform.startswith('linux')
ON_OSX = sys.platform == 'darwin'
ON_WINDOWS = sys.platform.startswith('win')

HAVE_SIGNAL = os.name == 'posix'

SOCKET_ERROR = OSError

SOL_TCP = getattr(socket, 'SOL_TCP', socket.IPPROTO_TCP)

str_or_bytes = (str, bytes)

RE_NUM = re.compile(r'(\d+).+')


class AbstractBase(metaclass=abc.ABCMeta):
    """Base class for pika's abstract classes (``abc.ABCMeta`` metaclass)."""


class long(int):  # noqa: N801 - pika's name
    """A long integer; only its ``repr`` differs from ``int`` (``5L``).

    Used to force a value to be encoded as an AMQP long long (``'l'``).
    """

    def __str__(self) -> str:
        return int.__repr__(self)

    def __repr__(self) -> str:
        return int.__repr__(self) + 'L'


def time_now() -> float:
    """Returns monotonic time

    :rtype: float
    """
    return time.monotonic()


def as_bytes(value: Union[str, bytes]) -> bytes:
    """Returns value as bytes (``str`` is UTF-8 encoded).

    :param value: the value to convert
    :rtype: bytes
    """
    if not isinstance(value, bytes):
        return value.encode('UTF-8')
    return value


def byte(*args: int) -> bytes:
    """Returns the `bytes` made of the given int arguments, e.g.
    ``byte(65) == b'A'``.

    :rtype: bytes
    """
    return bytes(args)


def to_digit(value: str) -> int:
    """Returns the leading number of value as an integer (0 if none).

    :param str value: e.g. ``'12'`` or ``'12a'``
    :rtype: int
    """
    if value.isdigit():
        return int(value)
    match = RE_NUM.match(value)
    return int(match.groups()[0]) if match else 0


def get_linux_version(release_str: str) -> Tuple[int, ...]:
    """Gets linux version as a tuple of up to three numbers.

    :param str release_str: kernel release, e.g. ``'5.10.0-1234-generic'``
    :rtype: tuple
    """
    ver_str = release_str.split('-')[0]
    return tuple(to_digit(part) for part in ver_str.split('.')[:3])


LINUX_VERSION = get_linux_version(platform.release()) if ON_LINUX else None


def nonblocking_socketpair(
        family: int = socket.AF_INET,
        socket_type: int = socket.SOCK_STREAM,
        proto: int = 0) -> Tuple[socket.socket, socket.socket]:
    """Returns a pair of connected sockets in the manner of socketpair with the
    additional feature that they will be non-blocking.

    A listening socket on the loopback address is used (not
    ``socket.socketpair``) so the pair works for ``AF_INET``/``AF_INET6`` on
    every platform, as pika's does.

    :param int family: ``socket.AF_INET`` or ``socket.AF_INET6``
    :param int socket_type: socket type, normally ``socket.SOCK_STREAM``
    :param int proto: protocol number
    :rtype: tuple(socket.socket, socket.socket)
    """
    if family == socket.AF_INET:
        host = _LOCALHOST
    elif family == socket.AF_INET6:
        host = _LOCALHOST_V6
    else:
        raise ValueError('Only AF_INET and AF_INET6 socket address families '
                         'are supported')
    if socket_type != socket.SOCK_STREAM:
        raise ValueError('Only SOCK_STREAM socket socket_type is supported')
    if proto != 0:
        raise ValueError('Only protocol zero is supported')

    lsock = socket.socket(family, socket_type, proto)
    try:
        lsock.bind((host, 0))
        lsock.listen(min(socket.SOMAXCONN, 128))
        addr, port = lsock.getsockname()[:2]
        csock = socket.socket(family, socket_type, proto)
        try:
            csock.connect((addr, port))
            ssock, _ = lsock.accept()
        except Exception:
            csock.close()
            raise
    finally:
        lsock.close()

    # Make sockets non-blocking to prevent deadlocks
    csock.setblocking(False)
    ssock.setblocking(False)

    return ssock, csock
