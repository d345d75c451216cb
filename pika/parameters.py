"""Connection parameters: :class:`Parameters`, :class:`ConnectionParameters`,
:class:`URLParameters` and :class:`SSLOptions`.

They are importable from ``pika.connection`` (their public home, as in pika
1.4) and from ``pika``. Every property setter checks its value and raises
``TypeError`` or ``ValueError`` naming the parameter. Neither ``repr`` nor
any error message shows credentials.

URL form accepted by :class:`URLParameters`::

    amqp[s]://[username[:password]@]host[:port][/virtual_host][?option=value&...]

Username, password and virtual host are percent-decoded (``%2F`` is ``/``);
an empty path means the default virtual host ``/``. ``amqps`` defaults the
port to 5671 and, without an ``ssl_options`` query option, uses
``ssl.create_default_context()``. Query options: see :class:`URLParameters`.
"""

import ast
import copy
import logging
import math
import numbers
import ssl
import urllib.parse
from typing import (Any, Callable, Dict, List, NoReturn, Optional, Tuple, Union)

from pika import credentials as pika_credentials
from pika import spec

LOGGER = logging.getLogger('pika.connection')

# Highest channel number AMQP 0-9-1 allows (a short-uint channel field).
_CHANNEL_MAX = 65535

__all__ = ['Parameters', 'ConnectionParameters', 'URLParameters', 'SSLOptions']

_Credentials = Union[pika_credentials.PlainCredentials,
                     pika_credentials.ExternalCredentials]

_Heartbeat = Union[int, Callable[[Any, int], int], None]


class SSLOptions:
    """TLS settings for a connection: the ``ssl.SSLContext`` to wrap the
    socket with and, optionally, the server name to send and verify
    (defaults to the host being connected to).

    :param ssl.SSLContext context: the client-side TLS context
    :param str|None server_hostname: server name for SNI and certificate
        verification; None to use the connection's host
    :raises TypeError: on a context that is not an ``ssl.SSLContext`` or a
        server_hostname that is not a str or None
    """
    __module__ = 'pika.connection'
    __slots__ = ('context', 'server_hostname')

    def __init__(self,
                 context: ssl.SSLContext,
                 server_hostname: Optional[str] = None) -> None:
        """
        :param ssl.SSLContext context: the client-side TLS context
        :param str|None server_hostname: server name for SNI and certificate
            verification; None to use the connection's host
        """
        if not isinstance(context, ssl.SSLContext):
            raise TypeError('context must be of ssl.SSLContext type, but got '
                            '{!r}'.format(context))
        if server_hostname is not None and not isinstance(server_hostname, str):
            raise TypeError('server_hostname must be a str or None, but got '
                            '{!r}'.format(server_hostname))
        self.context = context
        self.server_hostname = server_hostname

    def __repr__(self) -> str:
        return '<SSLOptions context={!r} server_hostname={!r}>'.format(
            self.context, self.server_hostname)


class Parameters:
    """Base connection parameters, every value at its class default.

    Use :class:`ConnectionParameters` or :class:`URLParameters` to build one;
    the ``DEFAULT_*`` class attributes give the defaults (a subclass may
    override them). Two parameter objects are equal when host, port and
    whether TLS is used are equal, as in pika.
    """
    __module__ = 'pika.connection'

    __slots__ = ('_blocked_connection_timeout', '_channel_max',
                 '_client_properties', '_connection_attempts', '_credentials',
                 '_frame_max', '_heartbeat', '_host', '_locale', '_port',
                 '_retry_delay', '_socket_timeout', '_stack_timeout',
                 '_ssl_options', '_virtual_host', '_tcp_options')

    DEFAULT_USERNAME = 'guest'
    DEFAULT_PASSWORD = 'guest'

    DEFAULT_BLOCKED_CONNECTION_TIMEOUT = None
    DEFAULT_CHANNEL_MAX = 65535  # highest channel number AMQP allows
    DEFAULT_CLIENT_PROPERTIES = None
    DEFAULT_CREDENTIALS = pika_credentials.PlainCredentials(
        DEFAULT_USERNAME, DEFAULT_PASSWORD)
    DEFAULT_CONNECTION_ATTEMPTS = 1
    DEFAULT_FRAME_MAX = spec.FRAME_MAX_SIZE
    DEFAULT_HEARTBEAT_TIMEOUT = None  # None: accept the broker's proposal
    DEFAULT_HOST = 'localhost'
    DEFAULT_LOCALE = 'en_US'
    DEFAULT_PORT = 5672
    DEFAULT_RETRY_DELAY = 2.0
    DEFAULT_SOCKET_TIMEOUT = 10.0  # seconds
    DEFAULT_STACK_TIMEOUT = 15.0  # seconds
    DEFAULT_SSL = False
    DEFAULT_SSL_OPTIONS = None
    DEFAULT_SSL_PORT = 5671
    DEFAULT_VIRTUAL_HOST = '/'
    DEFAULT_TCP_OPTIONS = None

    def __init__(self) -> None:
        """Set every parameter to its class default."""
        self._blocked_connection_timeout: Optional[float] = None
        self.blocked_connection_timeout = (
            self.DEFAULT_BLOCKED_CONNECTION_TIMEOUT)

        self._channel_max: int = 0
        self.channel_max = self.DEFAULT_CHANNEL_MAX

        self._client_properties: Optional[Dict[str, Any]] = None
        self.client_properties = self.DEFAULT_CLIENT_PROPERTIES

        self._connection_attempts: int = 0
        self.connection_attempts = self.DEFAULT_CONNECTION_ATTEMPTS

        self._credentials: _Credentials = self.DEFAULT_CREDENTIALS
        self.credentials = self.DEFAULT_CREDENTIALS

        self._frame_max: int = 0
        self.frame_max = self.DEFAULT_FRAME_MAX

        self._heartbeat: _Heartbeat = None
        self.heartbeat = self.DEFAULT_HEARTBEAT_TIMEOUT

        self._host: str = ''
        self.host = self.DEFAULT_HOST

        self._locale: str = ''
        self.locale = self.DEFAULT_LOCALE

        self._port: int = 0
        self.port = self.DEFAULT_PORT

        self._retry_delay: float = 0.0
        self.retry_delay = self.DEFAULT_RETRY_DELAY

        self._socket_timeout: Optional[float] = None
        self.socket_timeout = self.DEFAULT_SOCKET_TIMEOUT

        self._stack_timeout: Optional[float] = None
        self.stack_timeout = self.DEFAULT_STACK_TIMEOUT

        self._ssl_options: Optional[SSLOptions] = None
        self.ssl_options = self.DEFAULT_SSL_OPTIONS

        self._virtual_host: str = ''
        self.virtual_host = self.DEFAULT_VIRTUAL_HOST

        self._tcp_options: Optional[Dict[str, Any]] = None
        self.tcp_options = self.DEFAULT_TCP_OPTIONS

    def __repr__(self) -> str:
        # Credentials deliberately left out.
        return '<%s host=%s port=%s virtual_host=%s ssl=%s>' % (
            self.__class__.__name__, self.host, self.port, self.virtual_host,
            bool(self.ssl_options))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Parameters):
            return (self._host == other._host and self._port == other._port and
                    (self._ssl_options is None) == (other._ssl_options is None))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        if result is NotImplemented:
            return NotImplemented
        return not result

    __hash__ = None  # type: ignore[assignment]

    @property
    def blocked_connection_timeout(self) -> Optional[float]:
        """Seconds the connection may stay blocked by the broker
        (Connection.Blocked) before it is torn down with
        ``ConnectionBlockedTimeout``; None (the default) waits forever.

        :rtype: float|None
        """
        return self._blocked_connection_timeout

    @blocked_connection_timeout.setter
    def blocked_connection_timeout(self, value: Optional[float]) -> None:
        """
        :param float|None value: non-negative number of seconds, or None
        """
        if value is not None:
            if not isinstance(value, numbers.Real):
                raise TypeError('blocked_connection_timeout must be a Real '
                                'number, but got %r' % (value,))
            if value < 0 or math.isnan(value):
                raise ValueError('blocked_connection_timeout must be >= 0, but '
                                 'got %r' % (value,))
        self._blocked_connection_timeout = value

    @property
    def channel_max(self) -> int:
        """Highest channel number to ask for in connection tuning
        (1..65535; default 65535).

        :rtype: int
        """
        return self._channel_max

    @channel_max.setter
    def channel_max(self, value: int) -> None:
        """
        :param int value: 1..65535
        """
        if not isinstance(value, numbers.Integral):
            raise TypeError('channel_max must be an int, but got %r' % (value,))
        if value < 1 or value > _CHANNEL_MAX:
            raise ValueError('channel_max must be <= %i and > 0, but got %r' %
                             (_CHANNEL_MAX, value))
        self._channel_max = value

    @property
    def client_properties(self) -> Optional[Dict[str, Any]]:
        """Entries that override the default client properties reported to
        the broker in Connection.StartOk (e.g. ``connection_name``), or None.

        :rtype: dict|None
        """
        return self._client_properties

    @client_properties.setter
    def client_properties(self, value: Optional[Dict[str, Any]]) -> None:
        """
        :param dict|None value: a dict (deep-copied) or None
        """
        if value is not None and not isinstance(value, dict):
            raise TypeError('client_properties must be dict or None, but got '
                            '%r' % (value,))
        # Copied so that later changes to the caller's dict have no effect.
        self._client_properties = copy.deepcopy(value)

    @property
    def connection_attempts(self) -> int:
        """How many times to try to connect (default 1).

        :rtype: int
        """
        return self._connection_attempts

    @connection_attempts.setter
    def connection_attempts(self, value: int) -> None:
        """
        :param int value: 1 or more
        """
        if not isinstance(value, numbers.Integral):
            raise TypeError('connection_attempts must be an int, but got %r' %
                            (value,))
        if value <= 0:
            raise ValueError('connection_attempts must be > 0, but got %r' %
                             (value,))
        self._connection_attempts = value

    @property
    def credentials(self) -> _Credentials:
        """Authentication credentials (default: guest/guest PLAIN).

        :rtype: pika.credentials.PlainCredentials|
            pika.credentials.ExternalCredentials
        """
        return self._credentials

    @credentials.setter
    def credentials(self, value: _Credentials) -> None:
        """
        :param value: a credentials object of a type in
            ``pika.credentials.VALID_TYPES`` (deep-copied)
        """
        if not isinstance(value, tuple(pika_credentials.VALID_TYPES)):
            raise TypeError(
                'credentials must be an object of type: %r, but '
                'got %s' %
                (pika_credentials.VALID_TYPES, _describe_type(value)))
        # Copied so that erasing them after connecting (erase_on_connect)
        # cannot affect the caller's object or the class default.
        self._credentials = copy.deepcopy(value)

    @property
    def frame_max(self) -> int:
        """Largest frame size, in bytes, to ask for in connection tuning
        (4096..131072; default 131072).

        :rtype: int
        """
        return self._frame_max

    @frame_max.setter
    def frame_max(self, value: int) -> None:
        """
        :param int value: spec.FRAME_MIN_SIZE..spec.FRAME_MAX_SIZE
        """
        if not isinstance(value, numbers.Integral):
            raise TypeError('frame_max must be an int, but got %r' % (value,))
        if value < spec.FRAME_MIN_SIZE:
            raise ValueError('Min AMQP 0.9.1 Frame Size is %i, but got %r '
                             '(frame_max must be from %i to %i)' %
                             (spec.FRAME_MIN_SIZE, value, spec.FRAME_MIN_SIZE,
                              spec.FRAME_MAX_SIZE))
        if value > spec.FRAME_MAX_SIZE:
            raise ValueError('Max AMQP 0.9.1 Frame Size is %i, but got %r '
                             '(frame_max must be from %i to %i)' %
                             (spec.FRAME_MAX_SIZE, value, spec.FRAME_MIN_SIZE,
                              spec.FRAME_MAX_SIZE))
        self._frame_max = value

    @property
    def heartbeat(self) -> _Heartbeat:
        """Heartbeat timeout negotiation: None (the default) accepts the
        broker's proposal, 0 turns heartbeats off, a positive int overrides
        the proposal, and a callable ``f(connection, broker_proposal)``
        returns the value to use.

        :rtype: int|callable|None
        """
        return self._heartbeat

    @heartbeat.setter
    def heartbeat(self, value: _Heartbeat) -> None:
        """
        :param int|callable|None value: see the getter
        """
        if value is not None:
            if not isinstance(value, numbers.Integral) and not callable(value):
                raise TypeError('heartbeat must be an int or a callable '
                                'function, but got %r' % (value,))
            if not callable(value) and value < 0:
                raise ValueError('heartbeat must >= 0, but got %r' % (value,))
        self._heartbeat = value

    @property
    def host(self) -> str:
        """Host name or IP address of the broker (default ``localhost``).

        :rtype: str
        """
        return self._host

    @host.setter
    def host(self, value: str) -> None:
        """
        :param str value: host name or IP address
        """
        _require_str(value, 'host')
        self._host = value

    @property
    def locale(self) -> str:
        """Locale requested in Connection.StartOk (default ``en_US``).

        :rtype: str
        """
        return self._locale

    @locale.setter
    def locale(self, value: str) -> None:
        """
        :param str value: the locale
        """
        _require_str(value, 'locale')
        self._locale = value

    @property
    def port(self) -> int:
        """TCP port of the broker (default 5672, 5671 with TLS).

        :rtype: int
        """
        return self._port

    @port.setter
    def port(self, value: int) -> None:
        """
        :param int value: 0..65535; anything ``int()`` takes is converted
        """
        try:
            port = int(value)
        except (TypeError, ValueError):
            raise TypeError('port must be an int, but got %r' % (value,))
        if port < 0 or port > 65535:
            raise ValueError('port must be >= 0 and <= 65535, but got %r' %
                             (value,))
        self._port = port

    @property
    def retry_delay(self) -> float:
        """Seconds to wait between connection attempts (default 2.0).

        :rtype: float
        """
        return self._retry_delay

    @retry_delay.setter
    def retry_delay(self, value: float) -> None:
        """
        :param int|float value: non-negative number of seconds
        """
        if not isinstance(value, numbers.Real):
            raise TypeError('retry_delay must be a float or int, but got %r' %
                            (value,))
        if value < 0 or math.isnan(value):
            raise ValueError('retry_delay must be >= 0, but got %r' % (value,))
        self._retry_delay = value

    @property
    def socket_timeout(self) -> Optional[float]:
        """Seconds allowed for the TCP connect (default 10.0); None for the
        operating system's limit.

        :rtype: float|None
        """
        return self._socket_timeout

    @socket_timeout.setter
    def socket_timeout(self, value: Optional[float]) -> None:
        """
        :param int|float|None value: positive number of seconds, or None
        """
        self._socket_timeout = _positive_timeout(value, 'socket_timeout')

    @property
    def stack_timeout(self) -> Optional[float]:
        """Seconds allowed for bringing up the whole stack (TCP, TLS, AMQP
        handshake) per attempt (default 15.0); None for no limit.

        :rtype: float|None
        """
        return self._stack_timeout

    @stack_timeout.setter
    def stack_timeout(self, value: Optional[float]) -> None:
        """
        :param int|float|None value: positive number of seconds, or None
        """
        self._stack_timeout = _positive_timeout(value, 'stack_timeout')

    @property
    def ssl_options(self) -> Optional[SSLOptions]:
        """TLS settings, or None (the default) for plain TCP.

        :rtype: pika.SSLOptions|None
        """
        return self._ssl_options

    @ssl_options.setter
    def ssl_options(self, value: Optional[SSLOptions]) -> None:
        """
        :param pika.SSLOptions|None value: TLS settings or None
        """
        if not isinstance(value, (SSLOptions, type(None))):
            raise TypeError('ssl_options must be None or SSLOptions but got '
                            '%r' % (value,))
        self._ssl_options = value

    @property
    def virtual_host(self) -> str:
        """RabbitMQ virtual host to open (default ``/``).

        :rtype: str
        """
        return self._virtual_host

    @virtual_host.setter
    def virtual_host(self, value: str) -> None:
        """
        :param str value: the virtual host
        """
        _require_str(value, 'virtual_host')
        self._virtual_host = value

    @property
    def tcp_options(self) -> Optional[Dict[str, Any]]:
        """TCP socket options, e.g. ``{'TCP_KEEPIDLE': 60}`` (see
        :mod:`pika.tcp_socket_opts`), or None (the default).

        :rtype: dict|None
        """
        return self._tcp_options

    @tcp_options.setter
    def tcp_options(self, value: Optional[Dict[str, Any]]) -> None:
        """
        :param dict|None value: option name to value, or None
        """
        if not isinstance(value, (dict, type(None))):
            raise TypeError('tcp_options must be a dict or None, but got %r' %
                            (value,))
        self._tcp_options = value


def _require_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError('%s must be a str or unicode str, but got %r' %
                        (name, value))


def _describe_type(value: Any) -> str:
    """Name what was given without showing it (it may hold secrets)."""
    if value is None or isinstance(value, (bool, numbers.Number)):
        return repr(value)
    return 'an object of type %s' % type(value).__name__


def _positive_timeout(value: Any, name: str) -> Optional[float]:
    """Validate a timeout that must be a positive number or None."""
    if value is None:
        return None
    if not isinstance(value, numbers.Real):
        raise TypeError('%s must be a float or int, but got %r' % (name, value))
    if not float(value) > 0:
        raise ValueError('%s must be > 0, but got %r' % (name, value))
    return float(value)


class ConnectionParameters(Parameters):
    """Connection parameters given as arguments.

    Every argument left out takes the class default (``DEFAULT_*``); see
    the properties of :class:`Parameters` for what each one means and
    accepts. When ssl_options is given and port is not, the port defaults to
    ``DEFAULT_SSL_PORT`` (5671).
    """
    __module__ = 'pika.connection'
    __slots__ = ()

    class _DEFAULT:
        """Designates default parameter value; internal use"""

    # Typed as what each argument accepts; the default is the sentinel,
    # which only this signature may pass (``_D`` is deleted below).
    _D: Any = _DEFAULT

    def __init__(self,
                 host: str = _D,
                 port: int = _D,
                 virtual_host: str = _D,
                 credentials: Union[pika_credentials.PlainCredentials,
                                    pika_credentials.ExternalCredentials] = _D,
                 channel_max: int = _D,
                 frame_max: int = _D,
                 heartbeat: Union[int, None, Callable[[Any, int], int]] = _D,
                 ssl_options: Optional[SSLOptions] = _D,
                 connection_attempts: int = _D,
                 retry_delay: float = _D,
                 socket_timeout: Optional[float] = _D,
                 stack_timeout: Optional[float] = _D,
                 locale: str = _D,
                 blocked_connection_timeout: Optional[float] = _D,
                 client_properties: Optional[Dict[str, Any]] = _D,
                 tcp_options: Optional[Dict[str, Any]] = _D,
                 **kwargs: NoReturn) -> None:
        """Create connection parameters; see :class:`Parameters` for
        defaults.

        :param str host: host name or IP address of the broker
        :param int port: TCP port of the broker
        :param str virtual_host: RabbitMQ virtual host to open
        :param credentials: ``pika.credentials.PlainCredentials`` or
            ``pika.credentials.ExternalCredentials``
        :param int channel_max: highest channel number to allow (1..65535)
        :param int frame_max: largest frame size in bytes (4096..131072)
        :param int|None|callable heartbeat: None accepts the broker's
            heartbeat timeout proposal, 0 disables heartbeats, a positive
            int overrides the proposal; a callable is called with the
            connection and the broker's proposal and returns the
            non-negative int to use
        :param pika.SSLOptions|None ssl_options: None for plain TCP, or TLS
            settings
        :param int connection_attempts: how many times to try (1 or more)
        :param int|float retry_delay: seconds to wait between attempts
        :param int|float|None socket_timeout: positive TCP connect timeout
            in seconds
        :param int|float|None stack_timeout: positive timeout in seconds for
            bringing up TCP, TLS and the AMQP handshake; best set above
            socket_timeout
        :param str locale: the locale to request
        :param int|float|None blocked_connection_timeout: if not None, the
            non-negative number of seconds the connection may stay blocked
            by the broker (Connection.Blocked) before it is torn down with
            ``ConnectionBlockedTimeout`` (passed to on_close_callback by
            the asynchronous adapters, raised by ``BlockingConnection``)
        :param dict|None client_properties: entries overriding the default
            client properties sent in Connection.StartOk
        :param dict|None tcp_options: TCP socket options to set
        :raises TypeError: on an unexpected keyword argument or a value of
            the wrong type
        :raises ValueError: on a value out of range
        """
        super().__init__()

        # Through the property setters (which validate), in pika's order;
        # ssl_options before the port, whose default depends on it.
        default: object = self._DEFAULT
        given: Tuple[Tuple[str, object], ...] = (
            ('blocked_connection_timeout', blocked_connection_timeout),
            ('channel_max', channel_max),
            ('client_properties', client_properties),
            ('connection_attempts', connection_attempts),
            ('credentials', credentials),
            ('frame_max', frame_max),
            ('heartbeat', heartbeat),
            ('host', host),
            ('locale', locale),
            ('retry_delay', retry_delay),
            ('socket_timeout', socket_timeout),
            ('stack_timeout', stack_timeout),
            ('ssl_options', ssl_options),
        )
        for name, value in given:
            if value is not default:
                setattr(self, name, value)

        # The TLS port is the default only if TLS was asked for here.
        if port is not default:
            self.port = port
        elif self.ssl_options is not None:
            self.port = self.DEFAULT_SSL_PORT

        if virtual_host is not default:
            self.virtual_host = virtual_host
        if tcp_options is not default:
            self.tcp_options = tcp_options

        if kwargs:
            raise TypeError('unexpected kwargs: %r' % (sorted(kwargs),))

    del _D


# Conversions of URL query values: option name -> str -> value for the
# property of the same name.
def _url_int(value: str) -> int:
    return int(value)


def _url_float(value: str) -> float:
    return float(value)


def _url_str(value: str) -> str:
    return value


def _url_literal(value: str) -> Any:
    return ast.literal_eval(value)


_URL_CONVERTERS: Dict[str, Callable[[str], Any]] = {
    'blocked_connection_timeout': _url_float,
    'channel_max': _url_int,
    'client_properties': _url_literal,
    'connection_attempts': _url_int,
    'frame_max': _url_int,
    'heartbeat': _url_int,
    'locale': _url_str,
    'retry_delay': _url_float,
    'socket_timeout': _url_float,
    'stack_timeout': _url_float,
    'ssl_options': _url_literal,
    'tcp_options': _url_literal,
}

# URL schemes and the scheme each stands for.
_URL_SCHEME_ALIASES = {
    'amqp': 'amqp',
    'amqps': 'amqps',
    'http': 'amqp',
    'https': 'amqps',
    '': 'amqp',
}

# Keys of the ssl_options URL query option.
_SSL_CA_KEYS = ('ca_certs', 'cafile', 'capath', 'ca_path', 'cadata', 'ca_data')
_SSL_OPTION_KEYS = frozenset(_SSL_CA_KEYS +
                             ('protocol', 'ssl_version', 'certfile', 'keyfile',
                              'password', 'ciphers', 'server_hostname',
                              'check_hostname', 'verify_mode', 'cert_reqs'))


def _ssl_options_from_dict(opts: Any) -> SSLOptions:
    """Build SSLOptions from the ``ssl_options`` URL query dict.

    Keys: ``protocol`` (or ``ssl_version``; default
    ``ssl.PROTOCOL_TLS_CLIENT``), ``ca_certs``
    (or ``cafile``), ``capath``, ``cadata`` (without any of these the system's
    default CA certificates are used), ``certfile``, ``keyfile``,
    ``password``, ``ciphers``, ``server_hostname``, ``check_hostname`` and
    ``verify_mode`` (or ``cert_reqs``).
    """
    if not isinstance(opts, dict):
        raise ValueError('ssl_options must be a dict literal, but got a %s' %
                         type(opts).__name__)
    unknown = sorted(str(key) for key in opts if key not in _SSL_OPTION_KEYS)
    if unknown:
        # pika 1.4 ignores the keys it does not use (e.g. the
        # ssl.wrap_socket arguments of older pika versions)
        LOGGER.warning('Ignoring unsupported ssl_options key(s): %s',
                       ', '.join(unknown))
    try:
        protocol = opts.get('protocol', opts.get('ssl_version'))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if protocol is
                                 None else protocol)
        cafile = opts.get('ca_certs', opts.get('cafile'))
        capath = opts.get('capath', opts.get('ca_path'))
        cadata = opts.get('cadata', opts.get('ca_data'))
        if cafile is not None or capath is not None or cadata is not None:
            context.load_verify_locations(cafile, capath, cadata)
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if opts.get('certfile') is not None:
            context.load_cert_chain(opts['certfile'], opts.get('keyfile'),
                                    opts.get('password'))
        if opts.get('ciphers') is not None:
            context.set_ciphers(opts['ciphers'])
        # check_hostname first: CERT_NONE is refused while it is on.
        if 'check_hostname' in opts:
            context.check_hostname = bool(opts['check_hostname'])
        verify_mode = opts.get('verify_mode', opts.get('cert_reqs'))
        if verify_mode is not None:
            verify_mode = ssl.VerifyMode(verify_mode)
            if (verify_mode == ssl.CERT_NONE and 'check_hostname' not in opts):
                # Not verifying the certificate means no host name check.
                context.check_hostname = False
            context.verify_mode = verify_mode
        return SSLOptions(context, opts.get('server_hostname'))
    except (OSError, TypeError, ValueError, ssl.SSLError) as error:
        # The message names the failure, never the (possibly secret) values.
        raise ValueError('Invalid ssl_options: %s: %s' %
                         (type(error).__name__, error)) from error


class URLParameters(Parameters):
    """Connection parameters given as an AMQP URL::

        amqp[s]://[username[:password]@]host[:port][/virtual_host][?query]

    Username, password and virtual host are percent-decoded (use ``%2F`` for
    a ``/`` in the virtual host, which is the path's first segment: later
    segments are ignored); a missing path means ``/``, a username without a
    password gets the default password. Omitted parts
    take the class defaults; ``amqps`` selects TLS, port 5671 by default, and
    ``ssl.create_default_context()`` unless ``ssl_options`` is given. As in
    pika, ``http``/``https`` stand for ``amqp``/``amqps`` and a URL without a
    scheme (``//host/vhost``) is ``amqp``.

    Query options (each at most once; an empty value is ignored):

    - ``blocked_connection_timeout``, ``retry_delay``, ``socket_timeout``,
      ``stack_timeout``: float seconds;
    - ``channel_max``, ``connection_attempts``, ``frame_max``, ``heartbeat``:
      int;
    - ``locale``: str;
    - ``client_properties``, ``tcp_options``: Python dict literal (or
      ``None``), e.g. ``client_properties={'connection_name':'app'}``;
    - ``ssl_options``: ``None`` (no TLS; an error on an ``amqps`` URL) or a
      Python dict literal with keys ``protocol`` (or
      ``ssl_version``), ``ca_certs``/``cafile``, ``capath``/``ca_path``,
      ``cadata``/``ca_data``,
      ``certfile``, ``keyfile``, ``password``, ``ciphers``, ``server_hostname``,
      ``check_hostname``, ``verify_mode``/``cert_reqs`` (``CERT_NONE``
      also turns ``check_hostname`` off unless it is given; other keys are
      ignored with a warning, as pika ignores them); it enables TLS also on an
      ``amqp`` URL.

    Any other option, or a value that does not convert, raises
    ``ValueError`` naming the option.
    """
    __module__ = 'pika.connection'
    # As pika 1.4: the URL's query, parsed (``{name: [value, ...]}``, empty
    # values left out), kept after the options are applied.
    __slots__ = ('_all_url_query_values',)

    def __init__(self, url: str) -> None:
        """Create parameters from an AMQP URL.

        :param str url: the URL, e.g. ``amqp://guest:guest@localhost:5672/%2F``
        :raises TypeError: if url is not a str
        :raises ValueError: on a malformed URL, an unsupported scheme, an
            unknown query option or a bad value
        """
        super().__init__()
        if not isinstance(url, str):
            raise TypeError('url must be a str, but got %s' %
                            (_describe_type(url),))
        self._all_url_query_values: Dict[str, List[str]] = {}
        if not url:
            return  # pika takes an empty URL to mean all defaults

        parts = urllib.parse.urlsplit(url)
        # As in pika 1.4: http/https are taken as amqp/amqps, and a URL
        # without a scheme (``//host/vhost``) as amqp.
        scheme = _URL_SCHEME_ALIASES.get(parts.scheme.lower())
        if scheme is None:
            raise ValueError('Unexpected URL scheme %r; supported scheme '
                             'values: amqp, amqps' % (parts.scheme,))

        if parts.hostname:
            self.host = parts.hostname

        try:
            port = parts.port
        except ValueError as error:
            raise ValueError('Invalid port in URL: %s' % (error,)) from None
        if scheme == 'amqps':
            self.ssl_options = SSLOptions(ssl.create_default_context())
            self.port = self.DEFAULT_SSL_PORT
        if port is not None:
            self.port = port

        if parts.username is not None or parts.password is not None:
            username = urllib.parse.unquote(parts.username or '')
            if parts.password is None:
                password = self.DEFAULT_PASSWORD
            else:
                password = urllib.parse.unquote(parts.password)
            if username or parts.password is not None:
                self.credentials = pika_credentials.PlainCredentials(
                    username, password)

        path = parts.path
        if len(path) > 1:
            # As in pika 1.4, the virtual host is the path's first segment;
            # any later segment is ignored.
            segments = path.split('/')
            if len(segments) < 2:
                raise ValueError('The URL path %r does not start with "/"' %
                                 (path,))
            self.virtual_host = urllib.parse.unquote(segments[1])

        if parts.query:
            self._apply_query(parts.query)

    def _apply_query(self, query: str) -> None:
        """Set the properties named in the URL query."""
        self._all_url_query_values = urllib.parse.parse_qs(query)
        values: Dict[str,
                     List[str]] = urllib.parse.parse_qs(query,
                                                        keep_blank_values=True)
        unknown = sorted(name for name in values if name not in _URL_CONVERTERS)
        if unknown:
            raise ValueError('Unknown URL parameter: %s; supported: %s' %
                             (', '.join(repr(name) for name in unknown),
                              ', '.join(sorted(_URL_CONVERTERS))))
        for name, value_list in values.items():
            if len(value_list) != 1:
                raise ValueError('Expected exactly one value for URL parameter '
                                 '%s, but got %i values' %
                                 (name, len(value_list)))
            raw = value_list[0]
            if not raw:
                continue  # as in pika, an empty value leaves the default
            try:
                value = _URL_CONVERTERS[name](raw)
            except (ValueError, SyntaxError, TypeError, MemoryError,
                    RecursionError) as error:
                if name == 'ssl_options':
                    # The dict may hold a key password: don't echo it.
                    raise ValueError('Invalid ssl_options value: %s' %
                                     (type(error).__name__,)) from None
                raise ValueError('Invalid %s value %r: %r' %
                                 (name, raw, error)) from None
            if name == 'ssl_options':
                if value is None:
                    # As in pika 1.4: no TLS, which an amqps URL contradicts
                    if self.ssl_options is not None:
                        raise ValueError(
                            'Specified ssl_options=None URI arg is '
                            'inconsistent with the specified amqps URI '
                            'scheme.')
                    continue
                self.ssl_options = _ssl_options_from_dict(value)
                continue
            try:
                setattr(self, name, value)
            except TypeError as error:
                # In a URL every value is text: a literal of the wrong type
                # is a bad value.
                raise ValueError('Invalid %s value %r: %s' %
                                 (name, raw, error)) from error
