"""pika.credentials: PLAIN and EXTERNAL SASL responses."""

import copy
import logging

import pytest

from pika import credentials, spec


def start(mechanisms):
    return spec.Connection.Start(mechanisms=mechanisms)


def test_valid_types():
    assert credentials.VALID_TYPES == [
        credentials.PlainCredentials, credentials.ExternalCredentials
    ]
    assert credentials.PlainCredentials.TYPE == 'PLAIN'
    assert credentials.ExternalCredentials.TYPE == 'EXTERNAL'


@pytest.mark.parametrize('mechanisms',
                         [b'PLAIN AMQPLAIN', 'AMQPLAIN PLAIN', b'PLAIN'])
def test_plain_response(mechanisms):
    creds = credentials.PlainCredentials('user', 'pass')
    assert creds.response_for(start(mechanisms)) == ('PLAIN', b'\0user\0pass')


@pytest.mark.parametrize('mechanisms',
                         [b'AMQPLAIN EXTERNAL', b'plain', b'XPLAIN', b''])
def test_plain_not_offered(mechanisms):
    creds = credentials.PlainCredentials('user', 'pass')
    assert creds.response_for(start(mechanisms)) == (None, None)


def test_plain_response_utf8_and_bytes():
    creds = credentials.PlainCredentials('usér', 'päss')
    assert creds.response_for(
        start(b'PLAIN')) == ('PLAIN', b'\0us\xc3\xa9r\0p\xc3\xa4ss')
    creds = credentials.PlainCredentials(b'u', b'p')
    assert creds.response_for(start(b'PLAIN')) == ('PLAIN', b'\0u\0p')


def test_plain_rejects_bad_types():
    with pytest.raises(TypeError, match='username'):
        credentials.PlainCredentials(1, 'p')
    with pytest.raises(TypeError, match='password'):
        credentials.PlainCredentials('u', 2)


def test_erase_credentials(caplog):
    keep = credentials.PlainCredentials('user', 'pass')
    keep.erase_credentials()
    assert (keep.username, keep.password) == ('user', 'pass')

    erase = credentials.PlainCredentials('user', 'pass', erase_on_connect=True)
    with caplog.at_level(logging.DEBUG, logger='pika.credentials'):
        erase.erase_credentials()
    assert erase.username is None
    assert erase.password is None
    assert 'pass' not in caplog.text


def test_plain_equality():
    creds = credentials.PlainCredentials('user', 'pass')
    assert creds == credentials.PlainCredentials('user', 'pass')
    assert not creds != credentials.PlainCredentials('user', 'pass')
    assert creds != credentials.PlainCredentials('user', 'other')
    assert creds != credentials.PlainCredentials('other', 'pass')
    assert creds != credentials.PlainCredentials('user', 'pass', True)
    assert creds != 'user'
    assert creds.__eq__('user') is NotImplemented
    assert creds != credentials.ExternalCredentials()
    with pytest.raises(TypeError):
        hash(creds)


def test_plain_repr_hides_secrets():
    creds = credentials.PlainCredentials('secret-user', 'secret-pass')
    for text in (repr(creds), str(creds)):
        assert 'secret' not in text
        assert 'PlainCredentials' in text


def test_plain_deepcopy():
    creds = credentials.PlainCredentials('user', 'pass', True)
    clone = copy.deepcopy(creds)
    assert clone == creds and clone is not creds


def test_external():
    creds = credentials.ExternalCredentials()
    assert creds.erase_on_connect is False
    assert creds.response_for(start(b'PLAIN EXTERNAL')) == ('EXTERNAL', b'')
    assert creds.response_for(start(b'PLAIN')) == (None, None)
    assert creds.erase_credentials() is None
    assert creds == credentials.ExternalCredentials()
    assert creds != credentials.PlainCredentials('u', 'p')
    assert 'ExternalCredentials' in repr(creds)
