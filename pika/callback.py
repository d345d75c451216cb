"""A string-keyed callback registry with pika 1.4's semantics.

Callbacks are filed under a *prefix* (usually a channel number) and a *key*
(usually a method class such as ``spec.Basic.GetOk``); both are normalised to
strings by :func:`name_or_value`. Each registration is a dict with the keys
``callback``, ``one_shot``, ``only``, ``arguments`` and, for one-shot
callbacks, ``calls`` (how many more times it may fire).

Rules (as pika 1.4 behaves):

- Adding a callback that equals an existing entry's callback, ``only`` and
  ``arguments`` does not add a new entry: a one-shot entry gets one more use,
  a persistent entry logs a duplicate warning.
- :meth:`CallbackManager.process` fires, in registration order, every entry
  whose ``only`` (if set) equals the caller and whose ``arguments`` (if set)
  match the first positional argument (a dict, or an object / frame whose
  ``method`` attributes are compared). One-shot uses are consumed before any
  callback runs. It returns True when the prefix and key were registered.
- An exception raised by a callback is logged and propagated; callbacks after
  it in the same batch do not run.

Two deliberate differences from pika 1.4: when a one-shot entry is used up
only that entry is dropped (pika also drops other entries with the same
callback), and ``remove(prefix, key)`` without a callback removes every entry
as its documentation says (pika removes none).

This registry is for rare events (opening, closing, RPC replies); the
per-message path never goes through it.
"""

import functools
import logging
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple, Type,
                    TypeVar, Union, cast)

from pika import amqp_object
# Names pika 1.4.4 has in this module, kept for ``from ... import *``.
from pika import frame  # noqa: F401

LOGGER = logging.getLogger(__name__)

#: What a prefix or key may be given as: an AMQP class or method (or its
#: class), whose ``NAME`` is used, or a channel number or plain string.
AMQPValue = Union[Type[amqp_object.AMQPObject], amqp_object.AMQPObject, int,
                  str]

_F = TypeVar('_F', bound=Callable[..., Any])


def name_or_value(value: Any) -> str:
    """Return the registry name for a prefix or key.

    AMQP objects and classes (methods, properties, frames) give their
    ``NAME``, a method frame the ``NAME`` of the method it carries, anything
    else ``str(value)``.

    :param pika.amqp_object.AMQPObject|pika.frame.Frame|int|str value: The
        value to sanitize
    :rtype: str

    """
    # A method frame: name it after the method it carries.
    method = getattr(value, 'method', None)
    if method is not None:
        name = _amqp_name(method)
        if name is not None:
            return name
    name = _amqp_name(value)
    if name is not None:
        return name
    return str(value)


def _amqp_name(value: Any) -> Optional[str]:
    """Return ``NAME`` of an AMQP object or class (spec, frame), else None."""
    cls = value if isinstance(value, type) else type(value)
    for base in cls.__mro__:
        if base.__name__ in ('AMQPObject', 'Frame') and base.__module__ in (
                'pika.amqp_object', 'pika.frame'):
            name = getattr(value, 'NAME', None)
            if isinstance(name, str):
                return name
            return None
    return None


def sanitize_prefix(function: _F) -> _F:
    """Decorator: normalise the ``prefix`` argument with name_or_value."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        if 'prefix' in kwargs:
            kwargs['prefix'] = name_or_value(kwargs['prefix'])
        elif len(args_list) > 1:
            args_list[1] = name_or_value(args_list[1])
        return function(*args_list, **kwargs)

    return cast(_F, wrapper)


def check_for_prefix_and_key(function: _F) -> _F:
    """Decorator: return False without calling the method when the
    (normalised) prefix and key are not registered.

    The wrapped method receives its arguments unchanged.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        offset = 1
        # Sanitize the prefix
        if 'prefix' in kwargs:
            prefix = name_or_value(kwargs['prefix'])
        else:
            prefix = name_or_value(args[offset])
            offset += 1

        # Make sure to sanitize the key as well
        if 'key' in kwargs:
            key = name_or_value(kwargs['key'])
        else:
            key = name_or_value(args[offset])

        # Make sure prefix and key are in the stack
        stack = args[0]._stack
        if prefix not in stack or key not in stack[prefix]:
            return False

        # Execute the method
        return function(*args, **kwargs)

    return cast(_F, wrapper)


class CallbackManager:
    """Registry of callbacks filed by prefix and key (see module docs).

    Connections and channels each keep one for their rare events.
    """
    CALLS: str = 'calls'
    ARGUMENTS: str = 'arguments'
    DUPLICATE_WARNING: str = 'Duplicate callback found for "%s:%s"'
    CALLBACK: str = 'callback'
    ONE_SHOT: str = 'one_shot'
    ONLY_CALLER: str = 'only'

    def __init__(self) -> None:
        """Start with an empty registry."""
        self._stack: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}

    @sanitize_prefix
    def add(self,
            prefix: Any,
            key: Any,
            callback: Optional[Callable[..., Any]],
            one_shot: bool = True,
            only_caller: Optional[Any] = None,
            arguments: Optional[Dict[str, Any]] = None) -> Tuple[str, str]:
        """Register callback under prefix and key.

        A one-shot callback is dropped once it has fired; registering an
        equal one-shot callback again lets it fire once more.

        :param prefix: category, usually a channel number (any value; it is
            normalised with :func:`name_or_value`)
        :param key: event key, e.g. a method class (normalised likewise)
        :param callable callback: what to call; as in pika 1.4, None is
            accepted (it counts in :meth:`pending`, and
            :meth:`process` fails with TypeError on it)
        :param bool one_shot: drop the callback after it has fired
        :param object only_caller: when set, only a :meth:`process` call whose
            caller equals this value fires the callback
        :param dict arguments: when set, the callback fires only if the first
            argument given to :meth:`process` carries these values
        :returns: the normalised (prefix, key)
        :rtype: tuple
        :raises TypeError: if callback is neither callable nor None

        """
        if callback is not None and not callable(callback):
            raise TypeError('callback must be callable, but got %r' %
                            (callback,))
        key = name_or_value(key)
        entries = self._stack.setdefault(prefix, {}).setdefault(key, [])
        for entry in entries:
            if (entry[self.CALLBACK] == callback and
                    entry[self.ONLY_CALLER] == only_caller and
                    entry[self.ARGUMENTS] == arguments):
                # Same registration again: a one-shot may fire once more, a
                # persistent one would only fire twice per event.
                if entry[self.ONE_SHOT]:
                    entry[self.CALLS] += 1
                    LOGGER.debug('Incremented callback reference counter: %r',
                                 entry)
                else:
                    LOGGER.warning(self.DUPLICATE_WARNING, prefix, key)
                return prefix, key

        entry = self._callback_dict(callback, one_shot, only_caller, arguments)
        entries.append(entry)
        LOGGER.debug('Added: %r', entry)
        return prefix, key

    def clear(self) -> None:
        """Forget every registered callback."""
        self._stack = {}
        LOGGER.debug('Callbacks cleared')

    @sanitize_prefix
    def cleanup(self, prefix: Any) -> bool:
        """Drop every callback filed under prefix.

        :param prefix: the category to drop
        :returns: True if anything was registered under prefix
        :rtype: bool

        """
        LOGGER.debug('Clearing out %r from the stack', prefix)
        return self._stack.pop(prefix, None) is not None

    @sanitize_prefix
    def pending(self, prefix: Any, key: Any) -> Optional[int]:
        """Number of callbacks registered under prefix and key.

        :param prefix: the category
        :param key: the event key
        :returns: the count, or None when nothing is registered there
        :rtype: None or int

        """
        entries = self._stack.get(prefix, {}).get(name_or_value(key))
        return None if entries is None else len(entries)

    @sanitize_prefix
    @check_for_prefix_and_key
    def process(self, prefix: Any, key: Any, caller: Any, *args: Any,
                **keywords: Any) -> bool:
        """Fire the callbacks registered under prefix and key.

        :param prefix: the category
        :param key: the event key
        :param object caller: who fires the event (checked against
            ``only_caller``)
        :param args: positional arguments for the callbacks; the first one is
            checked against ``arguments``
        :param keywords: keyword arguments for the callbacks
        :returns: True when the prefix and key were registered (even if no
            callback matched), else False
        :rtype: bool

        """
        key = name_or_value(key)
        LOGGER.debug('Processing %s:%s', prefix, key)
        entries = self._stack[prefix][key]
        to_call = []
        # Consume one-shot uses before running anything, so a callback that
        # re-registers itself or fires the same event starts from a clean
        # registry.
        for entry in list(entries):
            if not self._should_process_callback(entry, caller, args):
                continue
            to_call.append(entry[self.CALLBACK])
            if entry[self.ONE_SHOT]:
                entry[self.CALLS] -= 1
                if entry[self.CALLS] <= 0:
                    self._discard_entry(prefix, key, entry)
        self._cleanup_callback_dict(prefix, key)

        for callback in to_call:
            LOGGER.debug('Calling %s for "%s:%s"', callback, prefix, key)
            try:
                callback(*args, **keywords)
            except BaseException:
                LOGGER.exception('Calling %s for "%s:%s" failed', callback,
                                 prefix, key)
                raise
        return True

    @sanitize_prefix
    @check_for_prefix_and_key
    def remove(self,
               prefix: Any,
               key: Any,
               callback_value: Optional[Callable[..., Any]] = None,
               arguments: Optional[Any] = None) -> bool:
        """Unregister callbacks under prefix and key.

        With callback_value, only entries whose callback equals it are
        removed, further narrowed by arguments when given (an entry registered
        without arguments matches any; one with arguments must find them in
        the given dict or object). Without callback_value every entry under
        prefix and key is removed.

        :param prefix: the category
        :param key: the event key
        :param callable callback_value: the callback to remove
        :param arguments: dict or object to match the entries' arguments
        :returns: True when the prefix and key were registered, else False
        :rtype: bool

        """
        key = name_or_value(key)
        entries = self._stack[prefix][key]
        if callback_value is None:
            LOGGER.debug('Removing all callbacks for %s:%s', prefix, key)
            del entries[:]
        else:
            for entry in list(entries):
                if (entry[self.CALLBACK] == callback_value and
                        self._arguments_match(entry, (arguments,))):
                    LOGGER.debug('Removing callback %r', entry)
                    self._discard_entry(prefix, key, entry)
        self._cleanup_callback_dict(prefix, key)
        return True

    @sanitize_prefix
    @check_for_prefix_and_key
    def remove_all(self, prefix: Any, key: Any) -> None:
        """Unregister every callback under prefix and key.

        :param prefix: the category
        :param key: the event key
        :returns: None, or False when the prefix and key were not registered

        """
        del self._stack[prefix][name_or_value(key)]
        self._cleanup_callback_dict(prefix)

    def _discard_entry(self, prefix: str, key: str, entry: Dict[str,
                                                                Any]) -> None:
        """Remove exactly this registration (by identity)."""
        entries = self._stack[prefix][key]
        for index, candidate in enumerate(entries):
            if candidate is entry:
                del entries[index]
                return

    def _arguments_match(self, callback_dict: Dict[str, Any],
                         args: Sequence[Any]) -> bool:
        """Whether the first of args satisfies the entry's ``arguments``.

        An entry without ``arguments`` matches anything; otherwise the first
        argument must be a dict holding the expected items, or an object
        (a method frame's ``method`` is used) with equal attributes.

        :param dict callback_dict: the registration
        :param args: the arguments of the event
        :rtype: bool

        """
        expectation = callback_dict[self.ARGUMENTS]
        if expectation is None:
            return True
        if not args:
            return False
        value = args[0]
        if isinstance(value, dict):
            return self._dict_arguments_match(value, expectation)
        return self._obj_arguments_match(getattr(value, 'method', value),
                                         expectation)

    def _callback_dict(self, callback: Optional[Callable[..., Any]],
                       one_shot: bool, only_caller: Any,
                       arguments: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """Build a registration entry.

        :param callable callback: what to call
        :param bool one_shot: drop it after it fired
        :param object only_caller: the only caller allowed to fire it
        :param dict arguments: values the event's first argument must carry
        :rtype: dict

        """
        value: Dict[str, Any] = {
            self.CALLBACK: callback,
            self.ONE_SHOT: one_shot,
            self.ONLY_CALLER: only_caller,
            self.ARGUMENTS: arguments
        }
        if one_shot:
            value[self.CALLS] = 1
        return value

    def _cleanup_callback_dict(self,
                               prefix: str,
                               key: Optional[str] = None) -> None:
        """Drop the key and then the prefix if they hold nothing any more.

        :param str prefix: the category
        :param str key: the event key

        """
        keys = self._stack.get(prefix)
        if keys is None:
            return
        if key is not None and key in keys and not keys[key]:
            del keys[key]
        if not keys:
            del self._stack[prefix]

    @staticmethod
    def _dict_arguments_match(value: Dict[str, Any],
                              expectation: Dict[str, Any]) -> bool:
        """Whether dict value holds every item of expectation.

        :param dict value: the dict to check
        :param dict expectation: the expected items
        :rtype: bool

        """
        for name, expected in expectation.items():
            if value.get(name) != expected:
                LOGGER.debug('Values in dict do not match for %s', name)
                return False
        return True

    @staticmethod
    def _obj_arguments_match(value: Any, expectation: Dict[str, Any]) -> bool:
        """Whether object value has every attribute of expectation with an
        equal value.

        :param object value: the object to check
        :param dict expectation: attribute names and expected values
        :rtype: bool

        """
        for name, expected in expectation.items():
            if not hasattr(value, name):
                LOGGER.debug('%r does not have required attribute: %s',
                             type(value), name)
                return False
            if getattr(value, name) != expected:
                LOGGER.debug('Values in %s do not match for %s', type(value),
                             name)
                return False
        return True

    def _should_process_callback(self, callback_dict: Dict[str, Any],
                                 caller: Any, args: Sequence[Any]) -> bool:
        """Whether the entry fires for this caller and these arguments.

        :param dict callback_dict: the registration
        :param object caller: who fires the event
        :param args: the arguments of the event
        :rtype: bool

        """
        if not self._arguments_match(callback_dict, args):
            LOGGER.debug('Arguments do not match for %r, %r', callback_dict,
                         args)
            return False
        only = callback_dict[self.ONLY_CALLER]
        return only is None or only == caller
