"""pika.parameters: Parameters, ConnectionParameters and SSLOptions."""

import copy
import pickle
import ssl

import pytest

from pika import credentials, parameters, spec
from pika.parameters import (ConnectionParameters, Parameters, SSLOptions,
                             URLParameters)

DEFAULTS = {
    'blocked_connection_timeout': None,
    'channel_max': 65535,
    'client_properties': None,
    'connection_attempts': 1,
    'frame_max': spec.FRAME_MAX_SIZE,
    'heartbeat': None,
    'host': 'localhost',
    'locale': 'en_US',
    'port': 5672,
    'retry_delay': 2.0,
    'socket_timeout': 10.0,
    'stack_timeout': 15.0,
    'ssl_options': None,
    'virtual_host': '/',
    'tcp_options': None,
}


@pytest.fixture(name='context', scope='module')
def context_fixture():
    return ssl.create_default_context()


def test_public_module_is_pika_connection():
    for cls in (Parameters, ConnectionParameters, URLParameters, SSLOptions):
        assert cls.__module__ == 'pika.connection'


def test_class_defaults():
    assert Parameters.DEFAULT_USERNAME == 'guest'
    assert Parameters.DEFAULT_PASSWORD == 'guest'
    assert Parameters.DEFAULT_SSL is False
    assert Parameters.DEFAULT_SSL_PORT == 5671
    assert Parameters.DEFAULT_HEARTBEAT_TIMEOUT is None
    assert Parameters.DEFAULT_CREDENTIALS == credentials.PlainCredentials(
        'guest', 'guest')


@pytest.mark.parametrize('cls', [Parameters, ConnectionParameters])
def test_instance_defaults(cls):
    params = cls()
    for name, value in DEFAULTS.items():
        assert getattr(params, name) == value, name
    assert params.credentials == Parameters.DEFAULT_CREDENTIALS
    # A copy: erasing it must not touch the class default.
    assert params.credentials is not Parameters.DEFAULT_CREDENTIALS


def test_slots_refuse_unknown_attributes():
    params = ConnectionParameters()
    with pytest.raises(AttributeError):
        params.hostname = 'x'  # type: ignore[attr-defined]


def test_all_arguments_positionally(context):
    creds = credentials.PlainCredentials('u', 'p')
    ssl_options = SSLOptions(context)
    params = ConnectionParameters('h', 1234, 'vh', creds, 10, 8192, 30,
                                  ssl_options, 3, 1.5, 4, 5, 'fr', 6,
                                  {'connection_name': 'x'},
                                  {'TCP_KEEPIDLE': 60})
    assert params.host == 'h'
    assert params.port == 1234
    assert params.virtual_host == 'vh'
    assert params.credentials == creds
    assert params.channel_max == 10
    assert params.frame_max == 8192
    assert params.heartbeat == 30
    assert params.ssl_options is ssl_options
    assert params.connection_attempts == 3
    assert params.retry_delay == 1.5
    assert params.socket_timeout == 4.0
    assert isinstance(params.socket_timeout, float)
    assert params.stack_timeout == 5.0
    assert params.locale == 'fr'
    assert params.blocked_connection_timeout == 6
    assert params.client_properties == {'connection_name': 'x'}
    assert params.tcp_options == {'TCP_KEEPIDLE': 60}


def test_unexpected_keyword_rejected():
    with pytest.raises(TypeError, match='unexpected kwargs'):
        ConnectionParameters(backpressure_detection=True)


def test_ssl_options_default_port(context):
    assert ConnectionParameters(ssl_options=SSLOptions(context)).port == 5671
    assert ConnectionParameters(ssl_options=SSLOptions(context),
                                port=1).port == 1
    assert ConnectionParameters(ssl_options=None).port == 5672
    params = ConnectionParameters()
    params.ssl_options = SSLOptions(context)
    assert params.port == 5672  # the setter never changes the port


def test_subclass_defaults_apply():

    class MyParameters(ConnectionParameters):
        DEFAULT_HOST = 'rabbit.example'
        DEFAULT_PORT = 5673

    params = MyParameters()
    assert (params.host, params.port) == ('rabbit.example', 5673)


def test_credentials_and_client_properties_are_copied():
    creds = credentials.PlainCredentials('u', 'p', erase_on_connect=True)
    props = {'capabilities': {'x': True}}
    params = ConnectionParameters(credentials=creds, client_properties=props)
    params.credentials.erase_credentials()
    assert creds.username == 'u'
    props['capabilities']['x'] = False
    assert params.client_properties == {'capabilities': {'x': True}}


def test_heartbeat_accepts_callable():

    def choose(connection, proposal):
        return proposal

    assert ConnectionParameters(heartbeat=choose).heartbeat is choose
    assert ConnectionParameters(heartbeat=0).heartbeat == 0


GOOD_VALUES = [
    ('host', ''),
    ('port', '5672'),
    ('port', 0),
    ('port', 65535),
    ('virtual_host', ''),
    ('credentials', credentials.ExternalCredentials()),
    ('channel_max', 1),
    ('frame_max', spec.FRAME_MIN_SIZE),
    ('frame_max', spec.FRAME_MAX_SIZE),
    ('heartbeat', None),
    ('connection_attempts', 5),
    ('retry_delay', 0),
    ('socket_timeout', None),
    ('socket_timeout', 0.5),
    ('stack_timeout', None),
    ('locale', 'de_DE'),
    ('blocked_connection_timeout', 0),
    ('client_properties', {}),
    ('tcp_options', {}),
]


@pytest.mark.parametrize('name, value', GOOD_VALUES)
def test_good_values(name, value):
    params = ConnectionParameters(**{name: value})
    expected = int(value) if name == 'port' else value
    assert getattr(params, name) == expected
    setter_params = ConnectionParameters()
    setattr(setter_params, name, value)
    assert getattr(setter_params, name) == expected


BAD_VALUES = [
    ('host', None, TypeError),
    ('host', b'h', TypeError),
    ('port', None, TypeError),
    ('port', 'abc', TypeError),
    ('port', -1, ValueError),
    ('port', 65536, ValueError),
    ('virtual_host', 5, TypeError),
    ('credentials', None, TypeError),
    ('credentials', ('user', 'pass'), TypeError),
    ('channel_max', 0, ValueError),
    ('channel_max', 65536, ValueError),
    ('channel_max', '5', TypeError),
    ('channel_max', 5.0, TypeError),
    ('frame_max', spec.FRAME_MIN_SIZE - 1, ValueError),
    ('frame_max', spec.FRAME_MAX_SIZE + 1, ValueError),
    ('frame_max', '5000', TypeError),
    ('heartbeat', -1, ValueError),
    ('heartbeat', '60', TypeError),
    ('heartbeat', 1.5, TypeError),
    ('ssl_options', 'x', TypeError),
    ('ssl_options', {}, TypeError),
    ('ssl_options', ssl.create_default_context(), TypeError),
    ('connection_attempts', 0, ValueError),
    ('connection_attempts', '3', TypeError),
    ('connection_attempts', 2.5, TypeError),
    ('retry_delay', '2', TypeError),
    ('retry_delay', None, TypeError),
    ('retry_delay', -1, ValueError),
    ('socket_timeout', 0, ValueError),
    ('socket_timeout', -1, ValueError),
    ('socket_timeout', '2', TypeError),
    ('stack_timeout', 0, ValueError),
    ('stack_timeout', float('nan'), ValueError),
    ('stack_timeout', '2', TypeError),
    ('locale', None, TypeError),
    ('blocked_connection_timeout', -1, ValueError),
    ('blocked_connection_timeout', '5', TypeError),
    ('client_properties', [], TypeError),
    ('tcp_options', 'x', TypeError),
]


@pytest.mark.parametrize('name, value, error', BAD_VALUES)
def test_bad_values_name_the_argument(name, value, error):
    message_name = 'Frame Size' if name == 'frame_max' and (
        error is ValueError) else name
    with pytest.raises(error, match=message_name):
        ConnectionParameters(**{name: value})
    params = ConnectionParameters()
    with pytest.raises(error, match=message_name):
        setattr(params, name, value)
    assert getattr(params, name) == getattr(ConnectionParameters(), name)


def test_credentials_error_hides_secret_values():
    with pytest.raises(TypeError) as info:
        ConnectionParameters(credentials=('user', 'secret-pass'))
    assert 'secret-pass' not in str(info.value)


def test_equality(context):
    base = ConnectionParameters()
    # Equal when host, port and TLS use are equal (as in pika).
    assert base == ConnectionParameters(virtual_host='other', heartbeat=5)
    assert base == URLParameters('amqp://localhost')
    assert base != ConnectionParameters(host='other')
    assert base != ConnectionParameters(port=1)
    assert base != ConnectionParameters(port=5672,
                                        ssl_options=SSLOptions(context))
    assert ConnectionParameters(
        ssl_options=SSLOptions(context)) == (ConnectionParameters(
            ssl_options=SSLOptions(ssl.create_default_context(), 'x')))
    assert base.__eq__('x') is NotImplemented
    assert base != 'x'
    with pytest.raises(TypeError):
        hash(base)


def test_repr_without_credentials(context):
    params = ConnectionParameters(host='h',
                                  port=1,
                                  virtual_host='vh',
                                  credentials=credentials.PlainCredentials(
                                      'secret-user', 'secret-pw'),
                                  ssl_options=SSLOptions(context))
    text = repr(params)
    assert text == ('<ConnectionParameters host=h port=1 virtual_host=vh '
                    'ssl=True>')
    assert 'secret' not in text
    assert repr(Parameters()) == (
        '<Parameters host=localhost port=5672 virtual_host=/ ssl=False>')


def test_copy_and_pickle():
    params = ConnectionParameters(host='h',
                                  heartbeat=7,
                                  client_properties={'a': 1})
    for clone in (copy.deepcopy(params), pickle.loads(pickle.dumps(params))):
        assert clone == params
        assert clone.heartbeat == 7
        assert clone.client_properties == {'a': 1}


def test_ssl_options(context):
    options = SSLOptions(context)
    assert options.context is context
    assert options.server_hostname is None
    assert SSLOptions(context, 'srv').server_hostname == 'srv'
    assert SSLOptions(context=context,
                      server_hostname='s').server_hostname == 's'
    assert 'srv' in repr(SSLOptions(context, 'srv'))
    with pytest.raises(TypeError, match='context must be of ssl.SSLContext'):
        SSLOptions(None)
    with pytest.raises(TypeError, match='server_hostname'):
        SSLOptions(context, 5)
    with pytest.raises(AttributeError):
        options.other = 1  # type: ignore[attr-defined]


def test_reexported_by_pika_connection():
    from pika import connection  # pylint: disable=import-outside-toplevel
    assert connection.Parameters is Parameters
    assert connection.ConnectionParameters is ConnectionParameters
    assert connection.URLParameters is URLParameters
    assert connection.SSLOptions is SSLOptions


def test_module_exports():
    assert set(parameters.__all__) == {
        'Parameters', 'ConnectionParameters', 'URLParameters', 'SSLOptions'
    }
