"""pika.compat: platform facts and helpers."""

import abc
import platform
import socket
import sys
import time

import pytest

from pika import compat


def test_platform_flags():
    assert compat.ON_LINUX == sys.platform.startswith('linux')
    assert compat.ON_OSX == (sys.platform == 'darwin')
    assert compat.ON_WINDOWS == sys.platform.startswith('win')
    assert compat.SOCKET_ERROR is OSError
    assert compat.SOL_TCP == socket.IPPROTO_TCP
    assert compat._LOCALHOST == '127.0.0.1'
    assert compat._LOCALHOST_V6 == '::1'
    assert compat.str_or_bytes == (str, bytes)
    if compat.ON_LINUX:
        assert compat.LINUX_VERSION == compat.get_linux_version(
            platform.release())


def test_abstract_base_is_abc():
    assert isinstance(compat.AbstractBase, abc.ABCMeta)

    class Base(compat.AbstractBase):

        @abc.abstractmethod
        def run(self):
            """Abstract."""

    with pytest.raises(TypeError):
        Base()  # pylint: disable=abstract-class-instantiated

    class Impl(Base):

        def run(self):
            return 1

    assert Impl().run() == 1


def test_time_now_is_monotonic():
    before = time.monotonic()
    now = compat.time_now()
    assert before <= now <= time.monotonic()


def test_as_bytes():
    assert compat.as_bytes('é') == b'\xc3\xa9'
    data = b'\x00\xff'
    assert compat.as_bytes(data) is data
    with pytest.raises(AttributeError):
        compat.as_bytes(5)  # type: ignore[arg-type]


def test_byte():
    assert compat.byte(65) == b'A'
    assert compat.byte(1, 2) == b'\x01\x02'
    assert compat.byte() == b''
    with pytest.raises(ValueError):
        compat.byte(256)


@pytest.mark.parametrize('value, expected', [('12', 12), ('12a', 12), ('a', 0),
                                             ('', 0), ('1a2', 1)])
def test_to_digit(value, expected):
    assert compat.to_digit(value) == expected


@pytest.mark.parametrize('release, expected', [
    ('5.10.0-1234-generic', (5, 10, 0)),
    ('4.19.0-rc1', (4, 19, 0)),
    ('5.15.90.1-microsoft-standard-WSL2', (5, 15, 90)),
    ('10', (10,)),
    ('4.', (4, 0)),
    ('x.5', (0, 5)),
    ('', (0,)),
])
def test_get_linux_version(release, expected):
    assert compat.get_linux_version(release) == expected


def test_long_repr():
    value = compat.long(5)
    assert value == 5
    assert isinstance(value, int)
    assert repr(value) == '5L'
    assert str(value) == '5'
    assert '%d' % value == '5'


@pytest.mark.parametrize('family', [socket.AF_INET, socket.AF_INET6])
def test_nonblocking_socketpair(family):
    try:
        first, second = compat.nonblocking_socketpair(family)
    except OSError as error:  # pragma: no cover - host without IPv6
        pytest.fail('socketpair failed: %r' % (error,))
    try:
        assert first.gettimeout() == 0.0
        assert second.gettimeout() == 0.0
        assert first.family == family
        # The first socket is the accepted one (listening port as local).
        assert first.getsockname()[1] == second.getpeername()[1]
        second.send(b'ping')
        deadline = time.monotonic() + 2
        data = b''
        while not data and time.monotonic() < deadline:
            try:
                data = first.recv(10)
            except BlockingIOError:
                time.sleep(0.001)
        assert data == b'ping'
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize('kwargs, message', [
    ({
        'family': socket.AF_UNIX
    }, 'Only AF_INET and AF_INET6'),
    ({
        'socket_type': socket.SOCK_DGRAM
    }, 'Only SOCK_STREAM'),
    ({
        'proto': 6
    }, 'Only protocol zero'),
])
def test_nonblocking_socketpair_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compat.nonblocking_socketpair(**kwargs)
