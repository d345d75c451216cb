"""URL forms pika 1.4 accepts: http/https and scheme-less URLs, a virtual
host taken from the path's first segment, ``ssl_options=None`` and the
ssl_options keys pika reads or ignores."""

import logging
import ssl
import subprocess
import urllib.parse

import pytest

from pika import URLParameters


@pytest.mark.parametrize('url, port, tls', [
    ('http://h', 5672, False),
    ('HTTP://h', 5672, False),
    ('https://h', 5671, True),
    ('https://h:1234', 1234, True),
    ('//h', 5672, False),
])
def test_http_https_and_no_scheme_stand_for_amqp_and_amqps(url, port, tls):
    params = URLParameters(url)
    assert (params.host, params.port) == ('h', port)
    assert (params.ssl_options is not None) is tls
    if tls:
        assert isinstance(params.ssl_options.context, ssl.SSLContext)


def test_scheme_less_url_keeps_defaults():
    params = URLParameters('//')
    assert (params.host, params.port, params.virtual_host,
            params.ssl_options) == ('localhost', 5672, '/', None)


@pytest.mark.parametrize('url, vhost', [
    ('amqp://h/%2F/', '/'),
    ('amqp://h/%2f/', '/'),
    ('amqp://h/vh/extra/parts', 'vh'),
    ('amqp://h/vh/', 'vh'),
    ('amqp://h//', ''),
])
def test_later_path_segments_are_ignored(url, vhost):
    assert URLParameters(url).virtual_host == vhost


def test_ssl_options_none_on_amqp_means_no_tls():
    params = URLParameters('amqp://h/?ssl_options=None')
    assert params.ssl_options is None
    assert params.port == 5672


def test_ssl_options_none_on_amqps_is_inconsistent():
    with pytest.raises(ValueError, match='inconsistent'):
        URLParameters('amqps://h/?ssl_options=None')


def _ssl_url(options):
    return 'amqps://h/?ssl_options=' + urllib.parse.quote(repr(options))


@pytest.fixture(name='ca_file', scope='module')
def ca_file_fixture(tmp_path_factory):
    """A throw-away self-signed certificate to use as the CA."""
    folder = tmp_path_factory.mktemp('ca')
    cert = folder / 'ca.pem'
    subprocess.run([
        'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
        'ec_paramgen_curve:prime256v1', '-nodes', '-keyout',
        str(folder / 'key.pem'), '-out',
        str(cert), '-days', '1', '-subj', '/CN=pika-forms-ca'
    ],
                   check=True,
                   capture_output=True)
    return cert


def _ca_subjects(params):
    return [c['subject'] for c in params.ssl_options.context.get_ca_certs()]


def test_unused_ssl_options_keys_are_ignored(ca_file, caplog):
    with caplog.at_level(logging.WARNING, logger='pika.connection'):
        params = URLParameters(
            _ssl_url({
                'ca_certs': str(ca_file),
                'server_side': False,
                'do_handshake_on_connect': True,
                'server_hostname': 'broker'
            }))
    assert params.ssl_options.server_hostname == 'broker'
    assert _ca_subjects(params) == [((('commonName', 'pika-forms-ca'),),)]


def test_ca_data_alias(ca_file):
    params = URLParameters(_ssl_url({'ca_data': ca_file.read_text()}))
    assert _ca_subjects(params) == [((('commonName', 'pika-forms-ca'),),)]


def test_ca_path_alias(tmp_path):
    # an existing (empty) directory is a valid CA path
    params = URLParameters(_ssl_url({'ca_path': str(tmp_path)}))
    assert params.ssl_options.context.verify_mode == ssl.CERT_REQUIRED


def test_unused_ssl_options_keys_are_named_in_a_warning(ca_file, caplog):
    with caplog.at_level(logging.WARNING, logger='pika.connection'):
        URLParameters(
            _ssl_url({
                'cafile': str(ca_file),
                'suppress_ragged_eofs': True,
                'server_side': False
            }))
    assert 'server_side, suppress_ragged_eofs' in caplog.text
