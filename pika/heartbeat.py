"""AMQP heartbeat checker.

Sends heartbeat frames every ``timeout / 2`` seconds and, every
``timeout + 5`` seconds, checks that whole frames arrived from the broker since
the previous check (as pika 1.4, which counts the bytes of decoded frames: the
bytes of a frame still incomplete are no sign of life, e.g. a peer whose
heartbeats are swallowed into a frame announcing more bytes than it sends).
A check that finds the connection idle aborts it with
:class:`pika.exceptions.AMQPHeartbeatTimeout`.

The engine counts frames per decoded batch (``Connection.frames_received``),
so the check costs nothing per message.

The checker owns no clock and no thread: it schedules its timers through the
connection's ``_adapter_call_later`` / ``_adapter_remove_timeout``.
"""

import logging
from typing import Any, Optional

from pika import exceptions, frame
from pika._interfaces import HeartbeatConnection

LOGGER = logging.getLogger(__name__)

# Slack added to the negotiated timeout before the connection counts as idle,
# so that a broker heartbeat landing right at the edge is not missed.
_CHECK_INTERVAL_SLACK = 5

_HEARTBEAT_FRAME_BYTES = frame.Heartbeat().marshal()


class HeartbeatChecker:
    """Sends heartbeats and detects a silent broker.

    :param pika.connection.Connection connection: the connection to watch
    :param int timeout: the negotiated heartbeat timeout in seconds
    """

    def __init__(self, connection: HeartbeatConnection, timeout: int) -> None:
        """Create the checker and start its timers.

        :param pika.connection.Connection connection: connection to watch
        :param int timeout: negotiated heartbeat timeout in seconds (>= 1)
        :raises ValueError: if timeout is smaller than 1
        """
        if timeout < 1:
            raise ValueError('timeout must >= 0, but got %r' % (timeout,))
        self._connection = connection
        self._timeout = timeout
        self._send_interval = float(timeout) / 2
        self._check_interval = timeout + _CHECK_INTERVAL_SLACK
        self._heartbeat_frames_sent = 0
        self._heartbeat_frames_received = 0
        self._idle_byte_intervals = 0
        self._bytes_received = connection.bytes_received
        self._frames_received = connection.frames_received
        self._send_timer: Optional[Any] = None
        self._check_timer: Optional[Any] = None
        self._stopped = False
        LOGGER.debug(
            'Heartbeat timeout %s s: sending every %s s, checking for '
            'frames from the broker every %s s', timeout, self._send_interval,
            self._check_interval)
        self._start_send_timer()
        self._start_check_timer()

    @property
    def bytes_received_on_connection(self) -> int:
        """Total number of bytes received on the connection so far.

        :rtype: int
        """
        return self._connection.bytes_received

    @property
    def connection_is_idle(self) -> bool:
        """True when no frame arrived since the previous check.

        :rtype: bool
        """
        return self._idle_byte_intervals > 0

    def received(self) -> None:
        """Note that a heartbeat frame arrived from the broker."""
        self._heartbeat_frames_received += 1
        LOGGER.debug('Heartbeat frame received from the broker')

    def stop(self) -> None:
        """Cancel both timers; the checker does nothing afterwards."""
        if not self._stopped:
            LOGGER.debug('Heartbeat timers stopped')
        self._stopped = True
        if self._send_timer is not None:
            self._connection._adapter_remove_timeout(self._send_timer)
            self._send_timer = None
        if self._check_timer is not None:
            self._connection._adapter_remove_timeout(self._check_timer)
            self._check_timer = None

    def _start_send_timer(self) -> None:
        self._send_timer = self._connection._adapter_call_later(
            self._send_interval, self._send_heartbeat)

    def _start_check_timer(self) -> None:
        self._check_timer = self._connection._adapter_call_later(
            self._check_interval, self._check_heartbeat)

    def _send_heartbeat(self) -> None:
        self._send_timer = None
        if self._stopped:
            return
        LOGGER.debug('Sending heartbeat frame')
        self._connection._emit_bytes(_HEARTBEAT_FRAME_BYTES, 1)
        self._heartbeat_frames_sent += 1
        self._start_send_timer()

    def _check_heartbeat(self) -> None:
        self._check_timer = None
        if self._stopped:
            return
        frames = self._connection.frames_received
        if frames == self._frames_received:
            self._idle_byte_intervals += 1
        else:
            self._idle_byte_intervals = 0
        LOGGER.debug('Heartbeat check: %d frame(s) received since the last one',
                     frames - self._frames_received)
        self._frames_received = frames
        self._bytes_received = self.bytes_received_on_connection
        if self.connection_is_idle:
            text = ('No activity or too many missed heartbeats in the last '
                    '%i seconds' % self._timeout)
            LOGGER.warning(text)
            self.stop()
            self._connection._terminate_stream(
                exceptions.AMQPHeartbeatTimeout(text))
            return
        self._start_check_timer()
