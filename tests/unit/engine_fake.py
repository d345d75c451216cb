"""Test doubles for the sans-IO engine: a recording adapter and a manual clock.

``FakeConnection`` implements the ``_adapter_*`` methods of
:class:`pika.connection.Connection` by recording emitted bytes and keeping
timers on a manual clock; tests script the broker's bytes with ``feed``.
"""

from typing import Any, Callable, List, Optional

from pika import connection, frame, spec

SERVER_CAPABILITIES = {
    'publisher_confirms': True,
    'basic.nack': True,
    'consumer_cancel_notify': True,
    'exchange_exchange_bindings': True,
    'connection.blocked': True,
    'authentication_failure_close': True,
}


class Timer:
    """A timer on the manual clock."""

    def __init__(self, when: float, callback: Callable[[], Any]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeConnection(connection.Connection):
    """Connection engine with a recording adapter and a manual clock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.now = 0.0
        self.timers: List[Timer] = []
        self.written: List[bytes] = []
        self.events: List[Any] = []
        super().__init__(*args, **kwargs)

    # adapter interface
    def _adapter_connect_stream(self) -> None:
        self.events.append('connect_stream')

    def _adapter_disconnect_stream(self) -> None:
        self.events.append('disconnect_stream')

    def _adapter_call_later(self, delay: float,
                            callback: Callable[[], Any]) -> Timer:
        timer = Timer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        timeout_id.cancel()

    def _adapter_add_callback_threadsafe(self, callback: Callable[[],
                                                                  Any]) -> None:
        self.events.append(('threadsafe', callback))

    def _adapter_emit_data(self, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.written.append(data)

    def _adapter_get_write_buffer_size(self) -> int:
        return 0

    # test helpers
    def advance(self, seconds: float) -> None:
        """Move the clock, firing due timers in order."""
        end = self.now + seconds
        while True:
            due = [t for t in self.timers if not t.cancelled and t.when <= end]
            if not due:
                break
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = timer.when
            timer.callback()
        self.now = end

    def active_timers(self) -> List[Timer]:
        return [t for t in self.timers if not t.cancelled]

    def feed(self, data: bytes) -> None:
        self._on_data_available(data)

    def sent(self) -> List[Any]:
        """Decode and clear the frames written so far."""
        data = b''.join(self.written)
        self.written = []
        frames, offset = frame.decode_frames(data)
        assert offset == len(data), 'partial frame written'
        return frames

    def sent_methods(self) -> List[Any]:
        return [
            f.method for f in self.sent() if f.frame_type == spec.FRAME_METHOD
        ]

    def terminated(self, error: Optional[BaseException] = None) -> None:
        """Play the adapter's part after _adapter_disconnect_stream."""
        assert self.events[-1] == 'disconnect_stream', self.events
        self._on_stream_terminated(error)


def method_bytes(channel_number: int, method: Any) -> bytes:
    return frame.Method(channel_number, method).marshal()


def content_bytes(channel_number: int,
                  method: Any,
                  body: bytes,
                  properties: Optional[spec.BasicProperties] = None,
                  frame_max: int = spec.FRAME_MAX_SIZE) -> bytes:
    return frame.marshal_content(channel_number, method, properties or
                                 spec.BasicProperties(), body, frame_max)


def start_bytes(mechanisms: bytes = b'PLAIN AMQPLAIN',
                capabilities: Optional[dict] = None) -> bytes:
    props = {
        'capabilities':
            SERVER_CAPABILITIES if capabilities is None else capabilities,
        'product':
            'RabbitMQ',
    }
    return method_bytes(
        0,
        spec.Connection.Start(server_properties=props,
                              mechanisms=mechanisms,
                              locales=b'en_US'))


def tune_bytes(channel_max: int = 2047,
               frame_max: int = 131072,
               heartbeat: int = 60) -> bytes:
    return method_bytes(0,
                        spec.Connection.Tune(channel_max, frame_max, heartbeat))


OPEN_OK = method_bytes(0, spec.Connection.OpenOk())


class Recorder:
    """Collects callback invocations as (name, args) tuples."""

    def __init__(self) -> None:
        self.calls: List[Any] = []

    def __call__(self, name: str) -> Callable[..., None]:

        def callback(*args: Any) -> None:
            self.calls.append((name,) + args)

        return callback

    def names(self) -> List[str]:
        return [c[0] for c in self.calls]

    def only(self, name: str) -> List[Any]:
        return [c[1:] for c in self.calls if c[0] == name]


def make_connection(params: Any = None,
                    recorder: Optional[Recorder] = None,
                    **kwargs: Any) -> FakeConnection:
    rec = recorder if recorder is not None else Recorder()
    conn = FakeConnection(params or connection.ConnectionParameters(),
                          on_open_callback=rec('open'),
                          on_open_error_callback=rec('open_error'),
                          on_close_callback=rec('close'),
                          **kwargs)
    conn.rec = rec  # type: ignore[attr-defined]
    return conn


def open_connection(params: Any = None,
                    tune: Optional[bytes] = None,
                    **kwargs: Any) -> FakeConnection:
    conn = make_connection(params, **kwargs)
    conn._on_stream_connected()
    conn.feed(start_bytes())
    conn.feed(tune if tune is not None else tune_bytes())
    conn.feed(OPEN_OK)
    conn.sent()
    assert conn.is_open
    return conn


def open_channel(conn: FakeConnection, rec: Optional[Recorder] = None) -> Any:
    rec = rec if rec is not None else conn.rec  # type: ignore[attr-defined]
    chan = conn.channel(on_open_callback=rec('channel_open'))
    chan.add_on_close_callback(rec('channel_close'))
    conn.feed(method_bytes(chan.channel_number, spec.Channel.OpenOk()))
    conn.sent()
    assert chan.is_open
    return chan
