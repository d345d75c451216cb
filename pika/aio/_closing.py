"""What a pika.aio connection and channel do alike once they are closed."""

import asyncio
import logging
from typing import Any, Callable, List


def settle_closed(owner: Any, closed: 'asyncio.Future[BaseException]',
                  callbacks: List[Callable[[Any, BaseException], Any]],
                  reason: BaseException, logger: logging.Logger) -> None:
    """Resolve ``closed`` with ``reason`` and call each close callback with
    ``(owner, reason)``, once; a callback that raises is logged, and the
    others still run.

    :param owner: the connection or channel that closed
    :param closed: its future of the close reason
    :param callbacks: its close callbacks
    :param reason: why it closed
    :param logger: where a failing callback is logged
    """
    if closed.done():
        return
    closed.set_result(reason)
    for callback in list(callbacks):
        try:
            callback(owner, reason)
        except Exception:  # noqa: BLE001 - user code must not break us
            logger.exception('Close callback %r failed', callback)
