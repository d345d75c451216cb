"""TornadoConnection and GeventConnection without a broker, as pika 1.4.4's
own adapter tests check them: the arguments they hand ``BaseConnection`` (over
mocks) and the fd-handler registration rules of ``_GeventSelectorIOLoop``.
"""

from typing import Any, List, Tuple

import pytest

GUARD_SECONDS = 8


def run_loop(loop: Any, seconds: float = GUARD_SECONDS) -> List[str]:
    """Run ``loop`` until stopped; the guard stops it and reports."""
    timed_out: List[str] = []
    guard = loop.call_later(seconds, lambda:
                            (timed_out.append('TIMEOUT'), loop.stop()))
    loop.start()
    loop.remove_timeout(guard)
    return timed_out


def test_base_connection_init_arguments_over_mocks():
    """As pika 1.4.4's own adapter tests check it: BaseConnection.__init__
    gets (parameters, callbacks..., nbio, internal_connection_workflow=)."""
    from unittest import mock
    import gevent
    from tornado import ioloop
    from pika.adapters import gevent_connection, tornado_connection
    from pika.adapters.utils import selector_ioloop_adapter

    real_services = selector_ioloop_adapter.SelectorIOServicesAdapter
    made: List[Any] = []

    def construct(loop: Any) -> Any:
        services = real_services(loop)
        made.append(services)
        return services

    with mock.patch('pika.adapters.base_connection.BaseConnection.__init__',
                    return_value=None) as init:
        with mock.patch(
                'pika.adapters.utils.selector_ioloop_adapter.'
                'SelectorIOServicesAdapter',
                side_effect=construct):
            tornado_connection.TornadoConnection()
        init.assert_called_once_with(None,
                                     None,
                                     None,
                                     None,
                                     made[0],
                                     internal_connection_workflow=True)
        assert made[0].get_native_ioloop() is ioloop.IOLoop.current()
        init.reset_mock()
        gevent_connection.GeventConnection()
        args, kwargs = init.call_args
        assert args[:4] == (None, None, None, None)
        assert kwargs == {'internal_connection_workflow': True}
        services = args[4]
        assert type(services).__name__ == '_GeventSelectorIOServicesAdapter'
        native = services.get_native_ioloop()
        assert isinstance(native, gevent_connection._GeventSelectorIOLoop)
        assert native._hub is gevent.get_hub()


def test_gevent_selector_loop_handler_registration():
    import socket
    import gevent
    from pika.adapters.gevent_connection import _GeventSelectorIOLoop

    loop = _GeventSelectorIOLoop(gevent.get_hub())
    assert (loop.READ, loop.WRITE, loop.ERROR) == (1, 2, 0)
    left, right = socket.socketpair()
    try:
        seen: List[Tuple[int, int]] = []

        def on_events(fd: int, events: int) -> None:
            seen.append((fd, events))
            loop.stop()

        loop.add_handler(left.fileno(), on_events, loop.READ)
        loop.add_handler(left.fileno(), on_events, loop.READ)  # no error
        with pytest.raises(KeyError):
            loop.update_handler(9999, loop.READ)
        right.send(b'x')
        assert run_loop(loop, 3) == []
        assert seen[0] == (left.fileno(), loop.READ)
        loop.remove_handler(left.fileno())
        with pytest.raises(KeyError):
            loop.remove_handler(left.fileno())
    finally:
        left.close()
        right.close()
