"""A TCP loss during the handshake names the step it happened in.

A subclass overrides ``_on_connection_start`` / ``_on_connection_tune``,
calls up, and then has the loopback proxy cut the connection: lost while the
credentials are checked (after Connection.Start) is
``ProbableAuthenticationError``; lost while the vhost is opened (after
Connection.Tune) is ``ProbableAccessDeniedError`` (as pika 1.4.4), through
``SelectConnection`` and through ``BlockingConnection``.
"""

import pytest

from pika import exceptions
from pika.adapters.blocking_connection import BlockingConnection
from pika.adapters.select_connection import IOLoop, SelectConnection
from blocking_support import FaultProxy

STEPS = [
    ('start', exceptions.ProbableAuthenticationError),
    ('tune', exceptions.ProbableAccessDeniedError),
]


def _cutting_class(proxy, step):

    class Cutting(SelectConnection):
        hooks = []

        def _on_connection_start(self, method_frame):
            self.hooks.append('start')
            super()._on_connection_start(method_frame)
            if step == 'start':
                proxy.kill()

        def _on_connection_tune(self, method_frame):
            self.hooks.append('tune')
            super()._on_connection_tune(method_frame)
            if step == 'tune':
                proxy.kill()

    return Cutting


@pytest.mark.parametrize('step,expected', STEPS)
def test_select_connection(step, expected):
    proxy = FaultProxy()
    try:
        cls = _cutting_class(proxy, step)
        loop = IOLoop()
        outcome = []

        def on_open(conn):
            outcome.append(conn)
            loop.stop()

        def on_open_error(conn, error):
            outcome.append(error)
            loop.stop()

        cls(proxy.params(),
            on_open_callback=on_open,
            on_open_error_callback=on_open_error,
            custom_ioloop=loop)
        timer = loop.call_later(20, loop.stop)
        loop.start()
        loop.remove_timeout(timer)
        loop.close()
        assert len(outcome) == 1, 'no outcome within 20 s'
        assert type(outcome[0]) is expected, repr(outcome[0])
        assert cls.hooks == (['start']
                             if step == 'start' else ['start', 'tune'])
    finally:
        proxy.close()


@pytest.mark.parametrize('step,expected', STEPS)
def test_blocking_connection(step, expected):
    proxy = FaultProxy()
    try:
        cls = _cutting_class(proxy, step)
        with pytest.raises(expected):
            BlockingConnection(proxy.params(connection_attempts=1),
                               _impl_class=cls)
        assert cls.hooks == (['start']
                             if step == 'start' else ['start', 'tune'])
    finally:
        proxy.close()
