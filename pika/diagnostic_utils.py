"""Diagnostic helpers."""

import functools
import logging
import traceback
from typing import Any, Callable, TypeVar, cast

_F = TypeVar('_F', bound=Callable[..., Any])


def create_log_exception_decorator(
        logger: logging.Logger) -> Callable[[_F], _F]:
    """Make a decorator that logs, with the caller's stack and the traceback,
    any exception escaping the decorated function, then re-raises it.

    Usage::

        log_exception = create_log_exception_decorator(LOGGER)

        @log_exception
        def my_func():
            ...

    :param logging.Logger logger: where to log
    :returns: the decorator
    :rtype: callable

    """

    def log_exception(func: _F) -> _F:
        """The decorator created by create_log_exception_decorator."""

        @functools.wraps(func)
        def log_exception_func_wrap(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except BaseException:
                logger.exception(
                    "Wrapped func exited with exception. Caller's stack:\n%s",
                    ''.join(traceback.format_stack()[:-1]))
                raise

        return cast(_F, log_exception_func_wrap)

    return log_exception
