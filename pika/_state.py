"""The connection's state machine: its states and its transition table.

Theory of operation
-------------------
A :class:`pika.connection.Connection` is in exactly one
:class:`ConnectionState` at a time (``Connection.connection_state``). The
states follow the AMQP opening and closing handshakes::

    INIT -(stream up, protocol header sent)-> PROTOCOL
    PROTOCOL -(Connection.Start, StartOk sent)-> START
    START -(Connection.Tune, TuneOk + Open sent)-> TUNE
    TUNE -(Connection.OpenOk)-> OPEN
    OPEN -(close(), or the stream is being dropped)-> CLOSING
    CLOSING -(Connection.CloseOk, or the stream is gone)-> CLOSED

Rules:

* The numbers are pika's ``Connection.CONNECTION_*`` constants (public API,
  compared as ints by users), and ``connection_state`` holds them as plain
  ints, as in pika.
* :data:`TRANSITIONS` lists, for every state, the states it may move to;
  any state may end in ``CLOSED`` (the stream can drop at any moment) and
  every state before ``OPEN`` may go to ``CLOSING`` (``close()`` aborts the
  opening). ``CLOSED`` is final: a new connection object starts again.
* :data:`METHOD_HANDLERS` says which connection-level method (channel 0) is
  accepted in which state, and names the ``Connection`` method that handles
  it. The name is looked up on the connection when the frame arrives, so a
  subclass's override (``_on_connection_start``, ``_on_connection_tune``...)
  is the one called. A method not listed for the current state is a
  protocol error (``UnexpectedFrameError``), except while ``CLOSING``, where
  it is ignored.
* State changes happen before user callbacks run.

This module knows no I/O and no other engine module; everything else imports
the states from here.
"""

import enum
from typing import Dict, FrozenSet, Tuple

from pika import spec


class ConnectionState(enum.IntEnum):
    """The states of an AMQP connection (values: pika's
    ``Connection.CONNECTION_*``)."""
    CLOSED = 0
    INIT = 1
    PROTOCOL = 2
    START = 3
    TUNE = 4
    OPEN = 5
    CLOSING = 6


# The states as plain ints, the values ``connection_state`` holds: the engine
# compares states on its hot path, where a module global is cheaper to load
# than an enum member.
CLOSED: int = ConnectionState.CLOSED.value
INIT: int = ConnectionState.INIT.value
PROTOCOL: int = ConnectionState.PROTOCOL.value
START: int = ConnectionState.START.value
TUNE: int = ConnectionState.TUNE.value
OPEN: int = ConnectionState.OPEN.value
CLOSING: int = ConnectionState.CLOSING.value

#: state number -> name (for log messages and reprs)
STATE_NAMES: Dict[int, str] = {
    int(state): state.name for state in ConnectionState
}

#: state -> the states it may move to
TRANSITIONS: Dict[int, FrozenSet[int]] = {
    INIT: frozenset((PROTOCOL, CLOSING, CLOSED)),
    PROTOCOL: frozenset((START, CLOSING, CLOSED)),
    START: frozenset((TUNE, CLOSING, CLOSED)),
    TUNE: frozenset((OPEN, CLOSING, CLOSED)),
    OPEN: frozenset((CLOSING, CLOSED)),
    CLOSING: frozenset((CLOSED,)),
    CLOSED: frozenset(),
}


def may_move(current: int, new: int) -> bool:
    """True if the table allows the move from ``current`` to ``new``.

    :param int current: the current state
    :param int new: the proposed state
    :rtype: bool
    """
    return new in TRANSITIONS[current]


_M = spec.Connection

#: (state, connection method INDEX) -> name of the Connection method handling
#: it. These frames arrive a few times per connection, never per message.
METHOD_HANDLERS: Dict[Tuple[int, int], str] = {
    (PROTOCOL, _M.Start.INDEX): '_on_connection_start',
    (START, _M.Tune.INDEX): '_on_connection_tune',
    (START, _M.Close.INDEX): '_on_connection_close_from_broker',
    (TUNE, _M.OpenOk.INDEX): '_on_connection_open_ok',
    (TUNE, _M.Close.INDEX): '_on_connection_close_from_broker',
    (OPEN, _M.Close.INDEX): '_on_connection_close_from_broker',
    (OPEN, _M.Blocked.INDEX): '_dispatch_blocked',
    (OPEN, _M.Unblocked.INDEX): '_dispatch_unblocked',
    (OPEN, _M.UpdateSecretOk.INDEX): '_on_update_secret_ok',
    (CLOSING, _M.Close.INDEX): '_on_connection_close_from_broker',
    (CLOSING, _M.CloseOk.INDEX): '_on_connection_close_ok',
    (CLOSING, _M.Blocked.INDEX): '_dispatch_blocked',
    (CLOSING, _M.Unblocked.INDEX): '_dispatch_unblocked',
}
del _M
