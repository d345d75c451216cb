"""Hook methods that pika users override are the ones the engine calls.

pika 1.4.4 reaches the handshake handlers and the broker-initiated channel
handlers through the instance, so a subclass (or, for channels, an attribute
set on the instance) that overrides one of them sees the frame and can call
up to the base implementation. These tests drive the engine with scripted
broker bytes (no sockets).
"""

from typing import Any, List

import pytest

from pika import channel, exceptions, spec
from engine_fake import (OPEN_OK, FakeConnection, Recorder, content_bytes,
                         method_bytes, open_channel, start_bytes, tune_bytes)


class HookedConnection(FakeConnection):
    """Records each overridden hook, then calls up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.hooks: List[Any] = []
        super().__init__(*args, **kwargs)

    def _on_connection_start(self, method_frame: Any) -> None:
        self.hooks.append(('start', type(method_frame.method)))
        super()._on_connection_start(method_frame)

    def _on_connection_tune(self, method_frame: Any) -> None:
        self.hooks.append(('tune', method_frame.method.frame_max))
        super()._on_connection_tune(method_frame)

    def _create_channel(self, channel_number: int,
                        on_open_callback: Any) -> Any:
        return HookedChannel(self, channel_number, on_open_callback)


class HookedChannel(channel.Channel):
    """A channel subclass made by the connection's _create_channel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.hooks: List[Any] = []
        super().__init__(*args, **kwargs)

    def _on_getempty(self, method_frame: Any) -> None:
        self.hooks.append('getempty')
        super()._on_getempty(method_frame)

    def _on_getok(self, method_frame: Any, header_frame: Any,
                  body: bytes) -> None:
        self.hooks.append(('getok', body))
        super()._on_getok(method_frame, header_frame, body)

    def _on_consumer_cancelled_by_broker(self, method_frame: Any) -> None:
        self.hooks.append(('cancelled', method_frame.method.consumer_tag))
        super()._on_consumer_cancelled_by_broker(method_frame)

    def _on_delivery_confirmation(self, method_frame: Any) -> None:
        self.hooks.append(('confirm', method_frame.method.delivery_tag))
        super()._on_delivery_confirmation(method_frame)


def _hooked(rec: Recorder) -> HookedConnection:
    from pika import connection
    return HookedConnection(connection.ConnectionParameters(),
                            on_open_callback=rec('open'),
                            on_open_error_callback=rec('open_error'),
                            on_close_callback=rec('close'))


def test_overridden_handshake_hooks_are_called_and_call_up() -> None:
    rec = Recorder()
    conn = _hooked(rec)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    assert conn.hooks == [('start', spec.Connection.Start)]
    (start_ok,) = conn.sent_methods()
    assert isinstance(start_ok, spec.Connection.StartOk)
    conn.feed(tune_bytes(frame_max=65536))
    assert conn.hooks[1] == ('tune', 65536)
    conn.feed(OPEN_OK)
    assert conn.is_open
    assert rec.names() == ['open']


def test_start_hook_that_does_not_call_up_stops_the_handshake() -> None:

    class Silent(HookedConnection):

        def _on_connection_start(self, method_frame: Any) -> None:
            self.hooks.append('swallowed')

    conn = Silent(on_open_callback=Recorder()('open'))
    conn._on_stream_connected()
    conn.written = []
    conn.feed(start_bytes())
    assert conn.hooks == ['swallowed']
    assert conn.written == []


class Cutting(HookedConnection):
    """Loses the stream from inside the hook named by ``cut_in``."""

    cut_in = ''

    def _on_connection_start(self, method_frame: Any) -> None:
        super()._on_connection_start(method_frame)
        if self.cut_in == 'start':
            self._on_stream_terminated(
                exceptions.StreamLostError('cut in start'))

    def _on_connection_tune(self, method_frame: Any) -> None:
        super()._on_connection_tune(method_frame)
        if self.cut_in == 'tune':
            self._on_stream_terminated(
                exceptions.StreamLostError('cut in tune'))


@pytest.mark.parametrize('step,expected', [
    ('start', exceptions.ProbableAuthenticationError),
    ('tune', exceptions.ProbableAccessDeniedError),
])
def test_stream_lost_inside_overridden_hooks_names_the_step(
        step: str, expected: type) -> None:
    rec = Recorder()
    conn = Cutting(on_open_error_callback=rec('open_error'))
    conn.cut_in = step
    conn._on_stream_connected()
    conn.feed(start_bytes())
    if step == 'tune':
        conn.feed(tune_bytes())
    ((_, error),) = rec.only('open_error')
    assert type(error) is expected, (step, error)
    assert 'cut in ' + step in error.args[0]
    assert conn.is_closed


def _open_hooked() -> Any:
    rec = Recorder()
    conn = _hooked(rec)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune_bytes())
    conn.feed(OPEN_OK)
    conn.sent()
    chan = open_channel(conn, rec)
    assert isinstance(chan, HookedChannel)
    return conn, chan, rec


def test_overridden_channel_get_hooks_are_called() -> None:
    conn, chan, rec = _open_hooked()
    chan.basic_get('q', rec('get'))
    conn.feed(method_bytes(chan.channel_number, spec.Basic.GetEmpty()))
    assert chan.hooks == ['getempty']
    chan.basic_get('q', rec('get'))
    conn.feed(
        content_bytes(
            chan.channel_number,
            spec.Basic.GetOk(delivery_tag=1,
                             exchange='',
                             routing_key='q',
                             message_count=0), b'body'))
    assert chan.hooks == ['getempty', ('getok', b'body')]
    ((_, method, _props, body),) = rec.only('get')
    assert (method.delivery_tag, body) == (1, b'body')


def test_overridden_cancel_and_confirm_hooks_are_called() -> None:
    conn, chan, rec = _open_hooked()
    chan.confirm_delivery(rec('confirm'))
    conn.feed(method_bytes(chan.channel_number, spec.Confirm.SelectOk()))
    chan.basic_publish('', 'q', b'x')
    conn.feed(method_bytes(chan.channel_number, spec.Basic.Ack(delivery_tag=1)))
    assert ('confirm', 1) in chan.hooks
    assert len(rec.only('confirm')) == 1
    chan.basic_consume('q', rec('deliver'), consumer_tag='ctag')
    conn.feed(
        method_bytes(chan.channel_number,
                     spec.Basic.ConsumeOk(consumer_tag='ctag')))
    conn.feed(
        method_bytes(chan.channel_number,
                     spec.Basic.Cancel(consumer_tag='ctag', nowait=True)))
    assert ('cancelled', 'ctag') in chan.hooks
    assert 'ctag' not in chan._consumers


def test_instance_attribute_override_of_a_channel_hook_is_called() -> None:
    conn, chan, rec = _open_hooked()
    seen: List[Any] = []
    chan._on_getempty = seen.append
    chan.basic_get('q', rec('get'))
    conn.feed(method_bytes(chan.channel_number, spec.Basic.GetEmpty()))
    assert len(seen) == 1
    assert isinstance(seen[0].method, spec.Basic.GetEmpty)
