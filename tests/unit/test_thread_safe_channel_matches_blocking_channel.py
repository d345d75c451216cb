"""The thread-safe Channel offers BlockingChannel's methods with the same
parameters (names, kinds, defaults), so code written for one runs on the
other."""

import inspect

import pytest

from pika.adapters import thread_safe_connection
from pika.adapters.blocking_connection import BlockingChannel

# Automatic recovery (recovery=) is not offered by the thread-safe
# connection yet: BlockingChannel's recovery callbacks have no counterpart.
NOT_OFFERED = {
    'add_on_recovery_started_callback', 'add_on_recovery_succeeded_callback',
    'add_on_recovery_failed_callback'
}

PUBLIC_METHODS = sorted(name for name, value in vars(BlockingChannel).items()
                        if not name.startswith('_') and
                        inspect.isfunction(value) and name not in NOT_OFFERED)

PUBLIC_PROPERTIES = sorted(
    name for name, value in vars(BlockingChannel).items()
    if not name.startswith('_') and isinstance(value, property))


def _parameters(function):
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()]


def test_the_method_list_is_not_empty():
    assert {'basic_publish', 'consume', 'cancel',
            'tx_select'} <= set(PUBLIC_METHODS)


@pytest.mark.parametrize('name', PUBLIC_METHODS)
def test_each_method_has_blocking_channels_parameters(name):
    ours = getattr(thread_safe_connection.Channel, name)
    assert _parameters(ours) == _parameters(getattr(BlockingChannel, name))


@pytest.mark.parametrize('name', PUBLIC_PROPERTIES)
def test_each_property_exists(name):
    assert isinstance(getattr(thread_safe_connection.Channel, name), property)
