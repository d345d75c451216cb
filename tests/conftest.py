"""Project-wide pytest configuration: broker location and markers.

Tests under ``tests/integration`` need a real RabbitMQ (``utils/broker.sh
start`` provides one). They are marked ``integration`` automatically, and
before the first of them runs the broker is probed once: when it does not
answer, every integration test errors with a message saying how to start it.
They are never skipped.

Environment:

* ``PIKA_TEST_HOST`` (``127.0.0.1``), ``PIKA_TEST_PORT`` (``5672``),
  ``PIKA_TEST_TLS_PORT`` (``5671``): where the broker listens.
* ``PIKA_TEST_CERTS_DIR`` (``/tmp/pika-test-broker/certs``): the CA, client
  certificate and key that ``utils/broker.sh`` generates. Exported here so
  that code run by the tests sees the same value.

The integration scenario harness lives in ``tests/integration/conftest.py``.
"""

import os
import pathlib
import socket
import struct
from typing import Dict, List, Optional

import pytest

DEFAULT_CERTS_DIR = '/tmp/pika-test-broker/certs'

BROKER_HOST = os.environ.setdefault('PIKA_TEST_HOST', '127.0.0.1')
BROKER_PORT = int(os.environ.setdefault('PIKA_TEST_PORT', '5672'))
BROKER_TLS_PORT = int(os.environ.setdefault('PIKA_TEST_TLS_PORT', '5671'))
CERTS_DIR = os.environ.setdefault('PIKA_TEST_CERTS_DIR', DEFAULT_CERTS_DIR)

INTEGRATION_DIR = pathlib.Path(__file__).parent / 'integration'

_START_HINT = ('Start one with `utils/broker.sh start` (or run the whole '
               'suite with `utils/test.sh`), or point PIKA_TEST_HOST / '
               'PIKA_TEST_PORT at a running RabbitMQ.')

_FRAME_HEADER = struct.Struct('>BHI')


def probe_broker(host: str, port: int, timeout: float = 5.0) -> Optional[str]:
    """Check that an AMQP 0-9-1 broker answers at ``host:port``.

    Sends the protocol header and expects a ``Connection.Start`` method
    frame back.

    :param host: broker address
    :param port: broker AMQP port
    :param timeout: seconds allowed for connecting and for the answer
    :returns: None when the broker answered, else why it did not
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b'AMQP\x00\x00\x09\x01')
            data = b''
            while len(data) < _FRAME_HEADER.size + 4:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        return 'cannot connect to %s:%d: %s' % (host, port, exc)
    if len(data) < _FRAME_HEADER.size + 4:
        return '%s:%d closed the connection without answering' % (host, port)
    frame_type, _channel, _size = _FRAME_HEADER.unpack_from(data)
    method = struct.unpack_from('>HH', data, _FRAME_HEADER.size)
    if frame_type != 1 or method != (10, 10):
        return '%s:%d did not answer with AMQP Connection.Start (%r)' % (
            host, port, data[:16])
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', 'integration: needs the RabbitMQ broker (tests/integration '
        'are marked automatically); fails, never skips, when it is absent')
    config.addinivalue_line(
        'markers', 'tls: needs the broker TLS listener and test certs')
    config.addinivalue_line('markers', 'slow: takes more than a second')


def pytest_collection_modifyitems(config: pytest.Config,
                                  items: List[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in pathlib.Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


_broker_problem: Dict[str, Optional[str]] = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker('integration') is None:
        return
    if 'plain' not in _broker_problem:
        _broker_problem['plain'] = probe_broker(BROKER_HOST, BROKER_PORT)
    problem = _broker_problem['plain']
    if problem is not None:
        pytest.fail(
            'RabbitMQ broker needed by integration tests is not available: '
            '%s. %s' % (problem, _START_HINT),
            pytrace=False)
    if item.get_closest_marker('tls') is not None:
        if 'tls' not in _broker_problem:
            _broker_problem['tls'] = _probe_tcp(BROKER_HOST, BROKER_TLS_PORT)
        if _broker_problem['tls'] is not None:
            pytest.fail(
                'RabbitMQ TLS listener needed by this test is not available: '
                '%s. `utils/broker.sh restart` configures it.' %
                _broker_problem['tls'],
                pytrace=False)


def _probe_tcp(host: str, port: int) -> Optional[str]:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        return 'cannot connect to %s:%d: %s' % (host, port, exc)
    return None


@pytest.fixture(scope='session')
def broker_host() -> str:
    """Host name or address of the test broker (``PIKA_TEST_HOST``)."""
    return BROKER_HOST


@pytest.fixture(scope='session')
def broker_port() -> int:
    """AMQP port of the test broker (``PIKA_TEST_PORT``)."""
    return BROKER_PORT


@pytest.fixture(scope='session')
def broker_tls_port() -> int:
    """AMQPS (TLS) port of the test broker (``PIKA_TEST_TLS_PORT``)."""
    return BROKER_TLS_PORT


@pytest.fixture(scope='session')
def broker_certs() -> Dict[str, str]:
    """Paths of the test CA and client certificate made by utils/broker.sh.

    Keys: ``dir``, ``ca`` (CA certificate), ``client_cert``, ``client_key``
    and ``client_cn`` (the client certificate's common name, which is also
    the broker user for EXTERNAL authentication). Fails when the files are
    missing.
    """
    certs_dir = pathlib.Path(CERTS_DIR)
    paths = {
        'dir': str(certs_dir),
        'ca': str(certs_dir / 'ca_certificate.pem'),
        'client_cert': str(certs_dir / 'client_certificate.pem'),
        'client_key': str(certs_dir / 'client_key.pem'),
    }
    missing = [
        path for key, path in paths.items()
        if key != 'dir' and not os.path.isfile(path)
    ]
    if missing:
        pytest.fail('test certificates missing (%s); `utils/broker.sh restart` '
                    'generates them and enables the TLS listener' %
                    ', '.join(missing),
                    pytrace=False)
    paths['client_cn'] = os.environ.get('PIKA_TEST_CLIENT_CN',
                                        'pika-test-client')
    return paths
