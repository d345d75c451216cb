"""The connection state machine: the enum, its transition table, and every
move the engine makes staying inside that table."""

from typing import Any, List, Tuple

import pytest

from pika import _state, connection, spec
from engine_fake import (OPEN_OK, FakeConnection, Recorder, method_bytes,
                         start_bytes, tune_bytes)


class TracingConnection(FakeConnection):
    """Records every state change and checks it against the table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.moves: List[Tuple[int, int]] = []
        super().__init__(*args, **kwargs)

    def _set_connection_state(self, state: int) -> None:
        self.moves.append((self.connection_state, state))
        super()._set_connection_state(state)


def make() -> TracingConnection:
    rec = Recorder()
    return TracingConnection(connection.ConnectionParameters(),
                             on_open_callback=rec('open'),
                             on_open_error_callback=rec('open_error'),
                             on_close_callback=rec('close'))


def assert_moves_allowed(conn: TracingConnection) -> None:
    for current, new in conn.moves:
        assert current == new or _state.may_move(current, new), (current, new)


def test_public_constants_are_the_enum_values_as_ints():
    for state in _state.ConnectionState:
        value = getattr(connection.Connection, 'CONNECTION_' + state.name)
        assert value == state.value
        assert type(value) is int
    assert connection.Connection.CONNECTION_OPEN == 5
    assert connection.Connection.CONNECTION_CLOSED == 0


def test_state_names_cover_every_state():
    assert _state.STATE_NAMES == {
        0: 'CLOSED',
        1: 'INIT',
        2: 'PROTOCOL',
        3: 'START',
        4: 'TUNE',
        5: 'OPEN',
        6: 'CLOSING',
    }


def test_table_rules():
    every = set(_state.ConnectionState)
    assert set(_state.TRANSITIONS) == every
    assert _state.TRANSITIONS[_state.CLOSED] == frozenset()
    for state in every - {_state.ConnectionState.CLOSED}:
        assert _state.may_move(state, _state.CLOSED)
    for state in (_state.INIT, _state.PROTOCOL, _state.START, _state.TUNE):
        assert _state.may_move(state, _state.CLOSING)
    assert not _state.may_move(_state.OPEN, _state.INIT)
    assert not _state.may_move(_state.CLOSING, _state.OPEN)


def test_method_handlers_name_connection_methods():
    for (state, index), name in _state.METHOD_HANDLERS.items():
        assert state in _state.TRANSITIONS
        assert spec.methods[index].NAME.startswith('Connection.')
        assert callable(getattr(connection.Connection, name))


def test_open_then_client_close_moves_through_the_table():
    conn = make()
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    assert conn.is_open
    conn.close()
    conn.feed(method_bytes(0, spec.Connection.CloseOk()))
    conn.terminated()
    assert conn.is_closed
    assert [new for _, new in conn.moves] == [
        _state.PROTOCOL, _state.START, _state.TUNE, _state.OPEN, _state.CLOSING,
        _state.CLOSED
    ]
    assert_moves_allowed(conn)


@pytest.mark.parametrize('steps', [0, 1, 2, 3])
def test_abort_while_opening_moves_through_the_table(steps):
    conn = make()
    script = [start_bytes(), tune_bytes()]
    if steps:
        conn._on_stream_connected()
    for data in script[:max(steps - 1, 0)]:
        conn.feed(data)
    conn.close()
    conn.terminated()
    assert conn.is_closed
    assert_moves_allowed(conn)


def test_broker_close_while_open_moves_through_the_table():
    conn = make()
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    conn.feed(method_bytes(0, spec.Connection.Close(320, 'forced', 0, 0)))
    conn.terminated()
    assert conn.is_closed
    assert_moves_allowed(conn)
