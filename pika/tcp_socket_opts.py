"""Applying ``Parameters.tcp_options`` to a socket.

Supported keys (when the platform has them): ``TCP_KEEPIDLE``,
``TCP_KEEPCNT``, ``TCP_KEEPINTVL`` (any of these also turns on
``SO_KEEPALIVE``) and ``TCP_USER_TIMEOUT``. Unknown keys are logged and
skipped, as in pika.
"""

import logging
import socket
import sys
from typing import Any, Dict, Mapping, Optional

LOGGER = logging.getLogger(__name__)

_KEEPALIVE_OPTIONS = ('TCP_KEEPIDLE', 'TCP_KEEPCNT', 'TCP_KEEPINTVL')


def _supported_tcp_options() -> Dict[str, int]:
    """Map option names to this platform's ``IPPROTO_TCP`` option numbers."""
    options = {}
    for name in ('TCP_USER_TIMEOUT',) + _KEEPALIVE_OPTIONS:
        number = getattr(socket, name, None)
        if number is None and name == 'TCP_KEEPIDLE' and (sys.platform
                                                          == 'darwin'):
            # macOS calls the idle time TCP_KEEPALIVE (0x10).
            number = getattr(socket, 'TCP_KEEPALIVE', 0x10)
        if number is not None:
            options[name] = number
    return options


_SUPPORTED_TCP_OPTIONS = _supported_tcp_options()

_SOL_TCP = getattr(socket, 'SOL_TCP', socket.IPPROTO_TCP)


def socket_requires_keepalive(tcp_options: Mapping[str, Any]) -> bool:
    """Whether tcp_options set a keepalive parameter, which needs
    ``SO_KEEPALIVE``.

    :param dict tcp_options: the ``tcp_options`` connection parameter
    :rtype: bool

    """
    return any(name in tcp_options for name in _KEEPALIVE_OPTIONS)


def set_sock_opts(tcp_options: Optional[Mapping[str, Any]], sock: Any) -> None:
    """Apply tcp_options to sock.

    :param dict tcp_options: the ``tcp_options`` connection parameter, or
        None for nothing to do
    :param socket.socket sock: the socket to configure

    """
    if not tcp_options:
        return

    if socket_requires_keepalive(tcp_options):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    for name, value in tcp_options.items():
        number = _SUPPORTED_TCP_OPTIONS.get(name)
        if number is not None:
            sock.setsockopt(_SOL_TCP, number, value)
        else:
            LOGGER.warning('Unsupported TCP option %s:%s', name, value)
