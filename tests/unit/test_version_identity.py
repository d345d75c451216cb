"""The distribution's own version and the identity it announces."""

import pathlib
import re

import pika
from pika import _connection_handshake, _version, connection

PYPROJECT = pathlib.Path(__file__).resolve().parents[2] / 'pyproject.toml'

# PEP 440 public version (no local part).
PEP440 = re.compile(r'^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$')


def test_version_is_its_own_pep440_release_not_a_pika_post_release() -> None:
    version = pika.__version__
    assert version == _version.__version__
    assert PEP440.match(version)
    assert not version.startswith('1.4.4')
    assert '.post' not in version
    major = int(version.split('.')[0])
    assert major >= 2  # sorts above every pika 1.x


def test_packaging_reads_the_version_from_the_same_place() -> None:
    text = PYPROJECT.read_text()
    assert 'version = { attr = "pika._version.__version__" }' in text
    assert 'license = "BSD-3-Clause"' in text
    for minor in range(8, 14):
        assert '"Programming Language :: Python :: 3.%d"' % minor in text
    assert 'pika = "pika.cli:main"' in text


def test_pika_constant_is_kept_but_the_broker_is_told_this_library() -> None:
    # pika.connection.PRODUCT is part of pika 1.4.4's API: unchanged
    assert connection.PRODUCT == 'Pika Python Client Library'

    class Params:
        client_properties = {'product': 'override'}

    assert _connection_handshake.client_properties(
        Params())['product'] == 'override'
    Params.client_properties = None  # type: ignore[assignment]
    properties = _connection_handshake.client_properties(Params())
    assert properties['product'] == _version.PRODUCT
    assert 'pika 1.4' in properties['product']
    assert properties['product'] != connection.PRODUCT
    assert properties['version'] == pika.__version__
    assert list(properties) == [
        'product', 'platform', 'capabilities', 'information', 'version'
    ]
