"""The test broker is set up as the integration tests expect.

These talk raw AMQP (protocol header in, ``Connection.Start`` out) so they
check the environment that utils/broker.sh provides independently of the
library: plain listener, TLS listener with the generated certificates, and
EXTERNAL authentication offered to clients that present a certificate.
"""

import socket
import ssl
import struct
from typing import Dict, List, Optional, Tuple

import pytest

PROTOCOL_HEADER = b'AMQP\x00\x00\x09\x01'
FRAME_HEADER = struct.Struct('>BHI')
FRAME_END = 0xCE


def _read_connection_start(sock: socket.socket) -> bytes:
    """Send the protocol header and return the Connection.Start payload."""
    sock.sendall(PROTOCOL_HEADER)
    data = b''
    while True:
        if len(data) >= FRAME_HEADER.size:
            frame_type, channel, size = FRAME_HEADER.unpack_from(data)
            end = FRAME_HEADER.size + size
            if len(data) > end:
                assert (frame_type, channel) == (1, 0)
                assert data[end] == FRAME_END
                return data[FRAME_HEADER.size:end]
        chunk = sock.recv(65536)
        assert chunk, 'broker closed the connection before Connection.Start'
        data += chunk


def _parse_start(payload: bytes) -> Tuple[Tuple[int, int], List[str]]:
    """Return ((major, minor), mechanisms) from a Connection.Start payload."""
    class_id, method_id, major, minor = struct.unpack_from('>HHBB', payload)
    assert (class_id, method_id) == (10, 10)
    offset = 6
    (table_size,) = struct.unpack_from('>I', payload, offset)
    offset += 4 + table_size
    (mechanisms_size,) = struct.unpack_from('>I', payload, offset)
    offset += 4
    mechanisms = payload[offset:offset + mechanisms_size].decode().split()
    return (major, minor), mechanisms


def _tls_context(certs: Dict[str, str], client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs['ca'])
    if client_cert:
        context.load_cert_chain(certs['client_cert'], certs['client_key'])
    return context


def _tls_start(host: str, port: int, context: ssl.SSLContext,
               server_hostname: Optional[str]) -> List[str]:
    with socket.create_connection((host, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as sock:
            version, mechanisms = _parse_start(_read_connection_start(sock))
    assert version == (0, 9)
    return mechanisms


def test_plain_listener_offers_plain(broker_host: str,
                                     broker_port: int) -> None:
    with socket.create_connection((broker_host, broker_port),
                                  timeout=10) as sock:
        version, mechanisms = _parse_start(_read_connection_start(sock))
    assert version == (0, 9)
    assert 'PLAIN' in mechanisms
    assert 'AMQPLAIN' in mechanisms
    assert 'EXTERNAL' not in mechanisms


@pytest.mark.tls
def test_tls_listener_offers_external_with_client_cert(
        broker_host: str, broker_tls_port: int,
        broker_certs: Dict[str, str]) -> None:
    mechanisms = _tls_start(broker_host, broker_tls_port,
                            _tls_context(broker_certs, client_cert=True),
                            'localhost')
    assert 'EXTERNAL' in mechanisms
    assert 'PLAIN' in mechanisms


@pytest.mark.tls
def test_tls_listener_accepts_clients_without_cert(
        broker_host: str, broker_tls_port: int,
        broker_certs: Dict[str, str]) -> None:
    mechanisms = _tls_start(broker_host, broker_tls_port,
                            _tls_context(broker_certs, client_cert=False),
                            'localhost')
    assert 'PLAIN' in mechanisms


@pytest.mark.tls
def test_tls_server_cert_matches_loopback_address(
        broker_host: str, broker_tls_port: int,
        broker_certs: Dict[str, str]) -> None:
    mechanisms = _tls_start(broker_host, broker_tls_port,
                            _tls_context(broker_certs, client_cert=True),
                            '127.0.0.1')
    assert 'EXTERNAL' in mechanisms


@pytest.mark.tls
def test_tls_server_cert_rejected_without_test_ca(broker_host: str,
                                                  broker_tls_port: int) -> None:
    context = ssl.create_default_context()
    with socket.create_connection((broker_host, broker_tls_port),
                                  timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname='localhost')
