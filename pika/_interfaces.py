"""The typed seams between the engine's objects (``typing.Protocol``s).

* :class:`AdapterHooks`: what the engine asks of the I/O adapter that
  subclasses it (``BaseConnection`` implements them over the I/O services).
* :class:`ChannelConnection`: what a :class:`pika.channel.Channel` needs from
  its connection (``channel.py`` never imports ``connection.py``).
* :class:`HeartbeatConnection`: what :class:`pika.heartbeat.HeartbeatChecker`
  needs from the connection it watches.

:class:`pika.connection.Connection` satisfies all three structurally; mypy
checks it where the connection hands itself to a channel or a checker.
"""

from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from pika import amqp_object, spec

if TYPE_CHECKING:
    from pika.channel import Channel


class AdapterHooks(Protocol):
    """The ``_adapter_*`` methods an I/O adapter implements."""

    def _adapter_connect_stream(self) -> None:
        """Start connecting the transport (internal workflow)."""

    def _adapter_disconnect_stream(self) -> None:
        """Abort the transport; then ``_on_stream_terminated`` follows."""

    def _adapter_call_later(self, delay: float, callback: Callable[[],
                                                                   Any]) -> Any:
        """Schedule ``callback()`` after ``delay`` seconds; a handle."""

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer created by ``_adapter_call_later``."""

    def _adapter_add_callback_threadsafe(self, callback: Callable[[],
                                                                  Any]) -> None:
        """Run ``callback()`` on the connection's loop (any thread)."""

    def _adapter_emit_data(self, data: bytes) -> None:
        """Queue bytes for the transport."""

    def _adapter_get_write_buffer_size(self) -> int:
        """Bytes waiting in the transport's write buffer."""
        ...


class ChannelConnection(Protocol):
    """What a channel needs from its connection."""

    @property
    def is_open(self) -> bool:
        """True when the connection is open."""
        ...

    @property
    def is_closing(self) -> bool:
        """True while the connection is closing."""
        ...

    @property
    def basic_nack(self) -> bool:
        """True if the broker supports ``Basic.Nack``."""
        ...

    @property
    def publisher_confirms(self) -> bool:
        """True if the broker supports publisher confirms."""
        ...

    def _emit_bytes(self, data: bytes, frame_count: int) -> None:
        """Send already marshalled frames."""

    def _send_method(self, channel_number: int,
                     method: amqp_object.Method) -> None:
        """Send a method frame."""

    def _send_message(self, channel_number: int, method: amqp_object.Method,
                      properties: spec.BasicProperties, body: bytes) -> None:
        """Send a content-bearing method (method, header, body frames)."""

    def _on_channel_cleanup(self, chan: 'Channel') -> None:
        """The channel is closed for good: release its number."""

    def _on_protocol_error(self, error: BaseException) -> None:
        """The peer broke the protocol on the channel: abort."""

    def _adapter_get_write_buffer_size(self) -> int:
        """Bytes waiting in the transport's write buffer."""
        ...


class HeartbeatConnection(Protocol):
    """What the heartbeat checker needs from the connection it watches."""

    bytes_received: int
    frames_received: int

    def _adapter_call_later(self, delay: float, callback: Callable[[],
                                                                   Any]) -> Any:
        """Schedule ``callback()`` after ``delay`` seconds; a handle."""

    def _adapter_remove_timeout(self, timeout_id: Any) -> None:
        """Cancel a timer created by ``_adapter_call_later``."""

    def _emit_bytes(self, data: bytes, frame_count: int) -> None:
        """Send already marshalled frames."""

    def _terminate_stream(self, error: Optional[BaseException]) -> None:
        """Drop the transport, reporting ``error``."""
