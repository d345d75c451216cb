"""pika.callback.CallbackManager: pika 1.4 registry semantics."""

import logging

import pytest

from pika import callback as cb
from pika import frame, spec


class Recorder:
    """A callable that records its calls."""

    def __init__(self, name='rec'):
        self.name = name
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))


@pytest.fixture(name='manager')
def manager_fixture():
    return cb.CallbackManager()


def test_constants():
    manager_cls = cb.CallbackManager
    assert manager_cls.CALLS == 'calls'
    assert manager_cls.ARGUMENTS == 'arguments'
    assert manager_cls.DUPLICATE_WARNING == (
        'Duplicate callback found for "%s:%s"')
    assert manager_cls.CALLBACK == 'callback'
    assert manager_cls.ONE_SHOT == 'one_shot'
    assert manager_cls.ONLY_CALLER == 'only'


@pytest.mark.parametrize('value, expected', [
    (1, '1'),
    ('1', '1'),
    (None, 'None'),
    (b'ab', "b'ab'"),
    (spec.Basic.Ack, 'Basic.Ack'),
    (spec.Basic.Ack(), 'Basic.Ack'),
    (spec.BasicProperties(), 'BasicProperties'),
    (frame.Method(1, spec.Channel.CloseOk()), 'Channel.CloseOk'),
    (frame.Heartbeat(), 'Heartbeat'),
])
def test_name_or_value(value, expected):
    assert cb.name_or_value(value) == expected


def test_name_or_value_ignores_foreign_name_attribute():

    class Foreign:
        NAME = 'foreign'

    assert cb.name_or_value(Foreign) == str(Foreign)


def test_add_returns_normalised_prefix_and_key(manager):
    rec = Recorder()
    assert manager.add(1, spec.Channel.CloseOk, rec) == ('1', 'Channel.CloseOk')
    assert manager.add(frame.Method(1, spec.Basic.Ack()), 5,
                       rec) == ('Basic.Ack', '5')
    assert manager.pending(1, spec.Channel.CloseOk) == 1
    assert manager.pending('1', 'Channel.CloseOk') == 1
    assert manager.pending(1, 'other') is None
    assert manager.pending(2, spec.Channel.CloseOk) is None


def test_add_rejects_non_callable(manager):
    with pytest.raises(TypeError, match='callback'):
        manager.add(1, 'k', 5)
    assert manager.pending(1, 'k') is None


def test_add_accepts_none_as_pika_does(manager):
    # pika 1.4 files a None callback: it counts, and processing it fails as
    # calling None does
    assert manager.add(1, 'k', None) == ('1', 'k')
    assert manager.add(1, 'k', None, only_caller='c') == ('1', 'k')
    assert manager.pending(1, 'k') == 2
    with pytest.raises(TypeError):
        manager.process(1, 'k', 'c')


def test_one_shot_fires_once(manager):
    rec = Recorder()
    manager.add(1, 'k', rec)
    assert manager.process(1, 'k', None, 'a', kw=2) is True
    assert rec.calls == [(('a',), {'kw': 2})]
    assert manager.pending(1, 'k') is None
    assert manager.process(1, 'k', None) is False
    assert len(rec.calls) == 1


def test_duplicate_one_shot_adds_a_use(manager):
    rec = Recorder()
    manager.add(1, 'k', rec)
    manager.add(1, 'k', rec)
    assert manager.pending(1, 'k') == 1
    manager.process(1, 'k', None)
    assert manager.pending(1, 'k') == 1
    manager.process(1, 'k', None)
    assert manager.pending(1, 'k') is None
    assert len(rec.calls) == 2


def test_duplicate_persistent_warns(manager, caplog):
    rec = Recorder()
    manager.add(1, 'k', rec, one_shot=False)
    with caplog.at_level(logging.WARNING, logger='pika.callback'):
        manager.add(1, 'k', rec, one_shot=False)
    assert 'Duplicate callback found for "1:k"' in caplog.text
    manager.process(1, 'k', None)
    manager.process(1, 'k', None)
    assert len(rec.calls) == 2
    assert manager.pending(1, 'k') == 1


def test_persistent_survives(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, one_shot=False)
    for _ in range(3):
        assert manager.process(1, 'k', None) is True
    assert len(rec.calls) == 3


def test_only_caller(manager):
    owner, stranger = object(), object()
    rec, other = Recorder(), Recorder()
    manager.add(1, 'k', rec, only_caller=owner)
    manager.add(1, 'k', other, one_shot=False)
    assert manager.process(1, 'k', stranger, 'x') is True
    assert rec.calls == []
    assert other.calls == [(('x',), {})]
    manager.process(1, 'k', owner, 'y')
    assert rec.calls == [(('y',), {})]
    assert manager.pending(1, 'k') == 1


def test_different_only_or_arguments_are_separate_entries(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, only_caller='a')
    manager.add(1, 'k', rec, only_caller='b')
    manager.add(1, 'k', rec, arguments={'x': 1})
    assert manager.pending(1, 'k') == 3


def test_used_up_one_shot_leaves_similar_entries(manager):
    # pika 1.4 also drops the other entries sharing the callback; we don't.
    rec = Recorder()
    manager.add(1, 'k', rec, only_caller='a')
    manager.add(1, 'k', rec, only_caller='b')
    manager.process(1, 'k', 'a')
    assert manager.pending(1, 'k') == 1
    manager.process(1, 'k', 'b')
    assert manager.pending(1, 'k') is None
    assert len(rec.calls) == 2


@pytest.mark.parametrize('argument, fires', [
    ({
        'delivery_tag': 5
    }, True),
    ({
        'delivery_tag': 5,
        'extra': 1
    }, True),
    ({
        'delivery_tag': 4
    }, False),
    ({}, False),
    (spec.Basic.Ack(delivery_tag=5), True),
    (spec.Basic.Ack(delivery_tag=4), False),
    (frame.Method(1, spec.Basic.Ack(delivery_tag=5)), True),
    (frame.Method(1, spec.Basic.Ack(delivery_tag=6)), False),
    ('no attributes', False),
])
def test_arguments_match_first_argument(manager, argument, fires):
    rec = Recorder()
    manager.add(1, 'k', rec, one_shot=False, arguments={'delivery_tag': 5})
    assert manager.process(1, 'k', None, argument) is True
    assert bool(rec.calls) is fires


def test_arguments_without_event_arguments_do_not_fire(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, one_shot=False, arguments={})
    manager.process(1, 'k', None)
    assert rec.calls == []


def test_arguments_only_first_positional_is_checked(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, one_shot=False, arguments={'a': 1})
    manager.process(1, 'k', None, {'a': 2}, {'a': 1})
    assert rec.calls == []
    manager.process(1, 'k', None, {'a': 1}, {'a': 2})
    assert len(rec.calls) == 1


def test_one_shot_consumed_before_callbacks_run(manager):
    seen = []

    def re_adder():
        seen.append(manager.pending(1, 'k'))
        manager.add(1, 'k', Recorder())

    manager.add(1, 'k', re_adder)
    manager.process(1, 'k', None)
    assert seen == [None]
    assert manager.pending(1, 'k') == 1


def test_batch_is_fixed_before_calling(manager):
    later = Recorder()

    def remover():
        manager.remove(1, 'k', later)

    manager.add(1, 'k', remover)
    manager.add(1, 'k', later)
    manager.process(1, 'k', None)
    assert len(later.calls) == 1


def test_callback_exception_is_logged_and_raised(manager, caplog):
    after = Recorder()

    def boom():
        raise RuntimeError('boom')

    manager.add(1, 'k', boom)
    manager.add(1, 'k', after)
    with caplog.at_level(logging.ERROR, logger='pika.callback'):
        with pytest.raises(RuntimeError, match='boom'):
            manager.process(1, 'k', None)
    assert 'failed' in caplog.text
    assert after.calls == []
    assert manager.pending(1, 'k') is None


def test_remove_specific_callback(manager):
    first, second = Recorder(), Recorder()
    manager.add(1, 'k', first)
    manager.add(1, 'k', second)
    assert manager.remove(1, 'k', first) is True
    assert manager.pending(1, 'k') == 1
    assert manager.remove(1, 'k', first) is True  # key still registered
    assert manager.remove(1, 'k', second) is True
    assert manager.pending(1, 'k') is None
    assert manager.remove(1, 'k', second) is False
    assert manager.remove(9, 'k', second) is False


def test_remove_with_arguments(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, arguments={'a': 1})
    manager.add(1, 'k', rec)
    # An entry registered without arguments matches any.
    manager.remove(1, 'k', rec, arguments={'a': 2})
    assert manager.pending(1, 'k') == 1
    # An entry with arguments is not removed without matching ones.
    manager.remove(1, 'k', rec)
    assert manager.pending(1, 'k') == 1
    manager.remove(1, 'k', rec, arguments={'a': 1})
    assert manager.pending(1, 'k') is None


def test_remove_with_object_arguments(manager):
    rec = Recorder()
    manager.add(1, 'k', rec, arguments={'delivery_tag': 5})
    manager.remove(1, 'k', rec, arguments=spec.Basic.Ack(delivery_tag=5))
    assert manager.pending(1, 'k') is None


def test_remove_without_callback_removes_all(manager):
    manager.add(1, 'k', Recorder())
    manager.add(1, 'k', Recorder())
    assert manager.remove(1, 'k') is True
    assert manager.pending(1, 'k') is None


def test_remove_all(manager):
    manager.add(1, 'k', Recorder())
    manager.add(1, 'k', Recorder())
    manager.add(1, 'j', Recorder())
    assert manager.remove_all(1, 'k') is None
    assert manager.pending(1, 'k') is None
    assert manager.pending(1, 'j') == 1
    assert manager.remove_all(1, 'k') is False


def test_cleanup(manager):
    manager.add(1, 'k', Recorder())
    manager.add(1, 'j', Recorder())
    manager.add(2, 'k', Recorder())
    assert manager.cleanup(1) is True
    assert manager.pending(1, 'k') is None
    assert manager.pending(1, 'j') is None
    assert manager.pending(2, 'k') == 1
    assert manager.cleanup(1) is False
    assert manager.cleanup('2') is True


def test_clear(manager):
    manager.add(1, 'k', Recorder())
    manager.add(2, 'k', Recorder())
    manager.clear()
    assert manager.pending(1, 'k') is None
    assert manager.pending(2, 'k') is None


def test_keyword_prefix_and_key(manager):
    rec = Recorder()
    manager.add(prefix=1, key='k', callback=rec)
    assert manager.pending(prefix=1, key='k') == 1
    assert manager.process(prefix=1, key='k', caller=None) is True
    assert len(rec.calls) == 1


def test_decorators():
    seen = []

    class Holder:
        _stack = {'1': {'k': []}}

        @cb.sanitize_prefix
        def sanitized(self, prefix, key=None):
            seen.append((prefix, key))

        @cb.check_for_prefix_and_key
        def checked(self, prefix, key):
            return (prefix, key)

    holder = Holder()
    holder.sanitized(spec.Basic.Ack, 'x')
    holder.sanitized(prefix=frame.Method(1, spec.Basic.Ack()))
    assert seen == [('Basic.Ack', 'x'), ('Basic.Ack', None)]
    assert holder.checked(1, 'k') == (1, 'k')  # arguments passed unchanged
    assert holder.checked(prefix='1', key='k') == ('1', 'k')
    assert holder.checked(1, 'other') is False
    assert holder.checked(2, 'k') is False
