"""The blocking and the Twisted channels forward each RPC method's
arguments, by parameter name, to the asynchronous channel's method of the
same name, and hand back the reply that method's callback receives.
"""

import inspect
from typing import Any, Callable, Dict, List, Tuple

import pytest

from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.twisted_connection import TwistedChannel

RPC_METHODS = [
    'basic_qos', 'basic_recover', 'exchange_declare', 'exchange_delete',
    'exchange_bind', 'exchange_unbind', 'queue_declare', 'queue_delete',
    'queue_purge', 'queue_bind', 'queue_unbind', 'tx_select', 'tx_commit',
    'tx_rollback', 'flow'
]
# The blocking basic_qos/basic_recover return None, as pika 1.4's do.
RETURNS_NONE = {'basic_qos', 'basic_recover'}


class _ReplyFrame:

    def __init__(self, name: str) -> None:
        self.name = name


class _RecordingChannel:
    """Answers each RPC at once with a reply frame naming the method."""

    channel_number = 1
    is_open = True
    is_closed = False
    is_closing = False

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []

    def add_on_close_callback(self, _callback: Callable[..., Any]) -> None:
        pass

    def add_on_cancel_callback(self, _callback: Callable[..., Any]) -> None:
        pass

    def add_on_return_callback(self, _callback: Callable[..., Any]) -> None:
        pass

    def add_callback(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in RPC_METHODS:
            raise AttributeError(name)

        def rpc(callback: Callable[[Any], None], **kwargs: Any) -> None:
            self.calls.append((name, kwargs))
            # Channel.flow's callback gets the broker's flow state.
            callback(True if name == 'flow' else _ReplyFrame(name))

        return rpc


class _PumplessConnection:
    """The BlockingConnection side: the replies are there already."""

    _event_dispatch_suspend_depth = 0

    def _channel_dispatch_requester(self) -> Callable[[Any], None]:
        return lambda _channel: None

    def _wait_until(self, done: Callable[[], Any]) -> None:
        assert done()


def _distinct_arguments(method: Callable[..., Any]) -> Dict[str, Any]:
    names = list(inspect.signature(method).parameters)
    return {name: ('value of', name) for name in names}


@pytest.mark.parametrize('name', RPC_METHODS)
def test_blocking_rpc_passes_each_argument_by_name(name):
    impl = _RecordingChannel()
    channel = BlockingChannel(impl, _PumplessConnection())
    method = getattr(channel, name)
    arguments = _distinct_arguments(method)
    result = method(*arguments.values())
    assert impl.calls == [(name, arguments)]
    if name in RETURNS_NONE:
        assert result is None
    elif name == 'flow':
        assert result is True
    else:
        assert isinstance(result, _ReplyFrame) and result.name == name


@pytest.mark.parametrize('name', RPC_METHODS)
def test_twisted_rpc_passes_each_argument_by_name(name):
    impl = _RecordingChannel()
    channel = TwistedChannel(impl)
    method = getattr(channel, name)
    arguments = _distinct_arguments(method)
    fired = []
    method(*arguments.values()).addCallback(fired.append)
    assert impl.calls == [(name, arguments)]
    assert len(fired) == 1
    if name == 'flow':
        assert fired[0] is True
    else:
        assert isinstance(fired[0], _ReplyFrame) and fired[0].name == name


def test_blocking_rpc_keeps_defaults_of_the_signature():
    impl = _RecordingChannel()
    channel = BlockingChannel(impl, _PumplessConnection())
    channel.queue_declare('q')
    assert impl.calls == [('queue_declare', {
        'queue': 'q',
        'passive': False,
        'durable': False,
        'exclusive': False,
        'auto_delete': False,
        'arguments': None
    })]
