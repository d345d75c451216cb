"""pika.parameters.URLParameters: parsing, query options, TLS."""

import ssl
import subprocess
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pika import credentials
from pika.parameters import ConnectionParameters, SSLOptions, URLParameters


def test_defaults_for_bare_url():
    params = URLParameters('amqp://')
    assert params == ConnectionParameters()
    assert params.virtual_host == '/'
    assert params.credentials == credentials.PlainCredentials('guest', 'guest')
    assert params.ssl_options is None
    # pika takes an empty URL to mean all defaults.
    assert URLParameters('').host == 'localhost'


def test_full_url():
    params = URLParameters('amqp://user:pass@rabbit.example:1234/vhost')
    assert params.host == 'rabbit.example'
    assert params.port == 1234
    assert params.virtual_host == 'vhost'
    assert params.credentials == credentials.PlainCredentials('user', 'pass')


@pytest.mark.parametrize('url, vhost', [
    ('amqp://h', '/'),
    ('amqp://h/', '/'),
    ('amqp://h/%2f', '/'),
    ('amqp://h/%2F', '/'),
    ('amqp://h/a%2Fb', 'a/b'),
    ('amqp://h/%2Fv%2F', '/v/'),
    ('amqp://h/v+x', 'v+x'),
    ('amqp://h/%20', ' '),
    ('amqp://h/v?', 'v'),
    ('amqp:///vh', 'vh'),
])
def test_virtual_host(url, vhost):
    assert URLParameters(url).virtual_host == vhost


@pytest.mark.parametrize('url, vhost', [('amqp://h//', ''),
                                        ('amqp://h/a/b', 'a'),
                                        ('amqp://h/%2F/', '/')])
def test_vhost_is_the_first_path_segment(url, vhost):
    assert URLParameters(url).virtual_host == vhost


@pytest.mark.parametrize('url, username, password', [
    ('amqp://us%40er:p%3Ass%2F@h', 'us@er', 'p:ss/'),
    ('amqp://u%3Ax:p@h', 'u:x', 'p'),
    ('amqp://us+er:pa+ss@h', 'us+er', 'pa+ss'),
    ('amqp://:pass@h', '', 'pass'),
    ('amqp://user:@h', 'user', ''),
    ('amqp://user@h', 'user', 'guest'),
    ('amqp://@h', 'guest', 'guest'),
])
def test_credentials(url, username, password):
    creds = URLParameters(url).credentials
    assert (creds.username, creds.password) == (username, password)


def test_host_and_port_forms():
    assert URLParameters('amqp://HOST/').host == 'host'
    params = URLParameters('amqp://[::1]:5673/')
    assert (params.host, params.port) == ('::1', 5673)
    params = URLParameters('amqp://:5673')
    assert (params.host, params.port) == ('localhost', 5673)
    assert URLParameters('amqp://h:/').port == 5672
    assert URLParameters('AMQP://h').port == 5672


@pytest.mark.parametrize('url, match', [
    ('amqp://h:abc/', 'port'),
    ('amqp://h:99999', 'port'),
    ('ftp://h', 'scheme'),
    ('hostname', 'path'),
])
def test_malformed_urls(url, match):
    with pytest.raises(ValueError, match=match):
        URLParameters(url)


def test_url_must_be_str():
    with pytest.raises(TypeError, match='url'):
        URLParameters(b'amqp://h')  # type: ignore[arg-type]
    with pytest.raises(TypeError, match='url'):
        URLParameters(None)  # type: ignore[arg-type]


def test_repr_hides_credentials():
    params = URLParameters('amqp://secret-user:secret-pw@h/v')
    assert repr(
        params) == '<URLParameters host=h port=5672 virtual_host=v ssl=False>'


def test_all_query_options():
    params = URLParameters(
        'amqp://h/?blocked_connection_timeout=3.5&channel_max=7'
        '&client_properties=%7B%27connection_name%27%3A+%27my+app%27%7D'
        '&connection_attempts=3&frame_max=8192&heartbeat=0&locale=fr'
        '&retry_delay=1.5&socket_timeout=3&stack_timeout=4'
        "&tcp_options={'TCP_KEEPIDLE':60}")
    assert params.blocked_connection_timeout == 3.5
    assert params.channel_max == 7
    assert params.client_properties == {'connection_name': 'my app'}
    assert params.connection_attempts == 3
    assert params.frame_max == 8192
    assert params.heartbeat == 0
    assert params.locale == 'fr'
    assert params.retry_delay == 1.5
    assert params.socket_timeout == 3.0
    assert params.stack_timeout == 4.0
    assert params.tcp_options == {'TCP_KEEPIDLE': 60}


def test_empty_query_values_keep_defaults():
    params = URLParameters('amqp://h?heartbeat=&locale=')
    assert params.heartbeat is None
    assert params.locale == 'en_US'


def test_literal_none_for_dict_options():
    params = URLParameters('amqp://h?client_properties=None&tcp_options=None')
    assert params.client_properties is None
    assert params.tcp_options is None


@pytest.mark.parametrize('query, error, match', [
    ('foo=bar', ValueError, "Unknown URL parameter: 'foo'"),
    ('backpressure_detection=t', ValueError, 'backpressure_detection'),
    ('heartbeat_interval=5', ValueError, 'heartbeat_interval'),
    ('foo', ValueError, "'foo'"),
    ('heartbeat=5&heartbeat=6', ValueError, 'exactly one value'),
    ('heartbeat=x', ValueError, 'Invalid heartbeat value'),
    ('heartbeat=5.5', ValueError, 'heartbeat'),
    ('heartbeat=-1', ValueError, 'heartbeat'),
    ('channel_max=0', ValueError, 'channel_max'),
    ('channel_max=x', ValueError, 'channel_max'),
    ('frame_max=1', ValueError, 'Frame Size'),
    ('connection_attempts=0', ValueError, 'connection_attempts'),
    ('connection_attempts=2.5', ValueError, 'connection_attempts'),
    ('retry_delay=x', ValueError, 'retry_delay'),
    ('retry_delay=-1', ValueError, 'retry_delay'),
    ('socket_timeout=0', ValueError, 'socket_timeout'),
    ('socket_timeout=None', ValueError, 'socket_timeout'),
    ('stack_timeout=x', ValueError, 'stack_timeout'),
    ('blocked_connection_timeout=-1', ValueError, 'blocked_connection_timeout'),
    ('client_properties=notaliteral', ValueError, 'client_properties'),
    ('client_properties=5', ValueError, 'client_properties'),
    ('tcp_options=[1]', ValueError, 'tcp_options'),
    ('tcp_options=%7B', ValueError, 'tcp_options'),
])
def test_bad_query_options(query, error, match):
    with pytest.raises(error, match=match):
        URLParameters('amqp://h?' + query)


def test_amqps_defaults():
    params = URLParameters('amqps://h')
    assert params.port == 5671
    assert isinstance(params.ssl_options, SSLOptions)
    context = params.ssl_options.context
    # ssl.create_default_context()'s, as pika 1.4 (PROTOCOL_TLS_CLIENT from
    # Python 3.10 on, PROTOCOL_TLS before, with the same checks)
    assert context.protocol == ssl.create_default_context().protocol
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert params.ssl_options.server_hostname is None
    assert URLParameters('amqps://h:1234').port == 1234
    assert URLParameters('amqps://h?ssl_options=').ssl_options is not None


@pytest.fixture(name='cert_files', scope='module')
def cert_files_fixture(tmp_path_factory):
    """A throw-away self-signed certificate, its key, and an encrypted key."""
    folder = tmp_path_factory.mktemp('certs')
    cert, key = folder / 'cert.pem', folder / 'key.pem'
    subprocess.run([
        'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
        'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
        str(key), '-out',
        str(cert), '-days', '1', '-subj', '/CN=pika-test'
    ],
                   check=True,
                   capture_output=True)
    encrypted = folder / 'encrypted_key.pem'
    subprocess.run([
        'openssl', 'pkey', '-in',
        str(key), '-out',
        str(encrypted), '-aes256', '-passout', 'pass:right-secret'
    ],
                   check=True,
                   capture_output=True)
    return {'cert': str(cert), 'key': str(key), 'encrypted': str(encrypted)}


def ssl_url(options, scheme='amqps'):
    return '%s://h?ssl_options=%s' % (scheme, urllib.parse.quote(repr(options)))


def test_ssl_options_full(cert_files):
    params = URLParameters(
        ssl_url({
            'ca_certs': cert_files['cert'],
            'certfile': cert_files['cert'],
            'keyfile': cert_files['key'],
            'ciphers': 'HIGH',
            'server_hostname': 'srv',
        }))
    assert params.port == 5671
    assert params.ssl_options.server_hostname == 'srv'
    context = params.ssl_options.context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [c['subject'] for c in context.get_ca_certs()
           ] == [((('commonName', 'pika-test'),),)]


def test_ssl_options_on_amqp_scheme(cert_files):
    params = URLParameters(ssl_url({'cafile': cert_files['cert']}, 'amqp'))
    assert params.ssl_options is not None
    assert params.port == 5672


def test_ssl_options_encrypted_key(cert_files):
    options = {
        'certfile': cert_files['cert'],
        'keyfile': cert_files['encrypted'],
    }
    URLParameters(ssl_url(dict(options, password='right-secret')))
    with pytest.raises(ValueError, match='Invalid ssl_options') as info:
        URLParameters(ssl_url(dict(options, password='wrong-secret')))
    assert 'secret' not in str(info.value)


def test_ssl_options_verification_off():
    for key in ('cert_reqs', 'verify_mode'):
        context = URLParameters(ssl_url({key: int(ssl.CERT_NONE)
                                        })).ssl_options.context
        assert context.verify_mode == ssl.CERT_NONE
        assert context.check_hostname is False
    context = URLParameters(ssl_url({'check_hostname': False
                                    })).ssl_options.context
    assert context.check_hostname is False
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_ssl_options_protocol():
    context = URLParameters(ssl_url({'protocol': int(ssl.PROTOCOL_TLS)
                                    })).ssl_options.context
    assert context.protocol == ssl.PROTOCOL_TLS
    context = URLParameters(ssl_url({'ssl_version': int(ssl.PROTOCOL_TLS)
                                    })).ssl_options.context
    assert context.protocol == ssl.PROTOCOL_TLS


@pytest.mark.parametrize('options, match', [
    ({
        'ca_certs': '/nonexistent/ca.pem'
    }, 'Invalid ssl_options'),
    ({
        'certfile': '/nonexistent/cert.pem'
    }, 'Invalid ssl_options'),
    ({
        'cadata': 'not a certificate'
    }, 'Invalid ssl_options'),
    ({
        'ciphers': 'NO-SUCH-CIPHER'
    }, 'Invalid ssl_options'),
    ({
        'verify_mode': 99
    }, 'Invalid ssl_options'),
    ('not a dict', 'dict'),
    ([1], 'dict'),
])
def test_bad_ssl_options(options, match):
    with pytest.raises(ValueError, match=match):
        URLParameters(ssl_url(options))


def test_bad_ssl_options_literal_hides_text():
    with pytest.raises(ValueError, match='ssl_options') as info:
        URLParameters("amqps://h?ssl_options={'password':'topsecret'")
    assert 'topsecret' not in str(info.value)


# Any text except surrogates, which cannot be UTF-8 encoded.
_TEXT = st.text(st.characters(blacklist_categories=('Cs',)), max_size=20)


@settings(max_examples=60, deadline=None)
@given(username=_TEXT.filter(bool), password=_TEXT, vhost=_TEXT.filter(bool))
def test_round_trip_percent_encoded(username, password, vhost):
    url = 'amqp://%s:%s@host:5673/%s' % (urllib.parse.quote(
        username, safe=''), urllib.parse.quote(
            password, safe=''), urllib.parse.quote(vhost, safe=''))
    params = URLParameters(url)
    assert params.credentials.username == username
    assert params.credentials.password == password
    assert params.virtual_host == vhost
    assert (params.host, params.port) == ('host', 5673)


_HOST = st.from_regex(r'\A[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}\Z')


@settings(max_examples=50, deadline=None)
@given(host=_HOST,
       port=st.integers(1, 65535),
       heartbeat=st.integers(0, 3600),
       channel_max=st.integers(1, 65535),
       retry_delay=st.floats(0, 1000, allow_nan=False))
def test_round_trip_query_options(host, port, heartbeat, channel_max,
                                  retry_delay):
    query = urllib.parse.urlencode({
        'heartbeat': heartbeat,
        'channel_max': channel_max,
        'retry_delay': repr(retry_delay),
    })
    params = URLParameters('amqp://%s:%i/?%s' % (host, port, query))
    assert params.host == host
    assert params.port == port
    assert params.heartbeat == heartbeat
    assert params.channel_max == channel_max
    assert params.retry_delay == retry_delay
    assert params.ssl_options is None
    assert params == ConnectionParameters(host=host, port=port)


def test_all_url_query_values_keeps_the_parsed_query():
    # As pika 1.4.4 (a slot of URLParameters): the parsed query, blank
    # values left out; {} without a query or for an empty URL; copied and
    # pickled with the parameters.
    import copy
    import pickle

    assert '_all_url_query_values' in URLParameters.__slots__
    params = URLParameters('amqp://h/?heartbeat=5&channel_max=&locale=en_US')
    expected = {'heartbeat': ['5'], 'locale': ['en_US']}
    assert params._all_url_query_values == expected
    assert URLParameters('amqp://h/')._all_url_query_values == {}
    assert URLParameters('')._all_url_query_values == {}
    assert copy.deepcopy(params)._all_url_query_values == expected
    assert pickle.loads(pickle.dumps(params))._all_url_query_values == expected
