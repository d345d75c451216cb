"""A frame the client cannot decode (injected by a loopback proxy between
client and broker): the client sends ``Connection.Close`` 501 to the broker
before closing the socket, and the user sees ``StreamLostError``."""

import struct
import time

import pytest

from pika import exceptions
from blocking_support import FaultProxy, connect

UNKNOWN_FRAME_TYPE = b'\x09\x00\x00\x00\x00\x00\x00\xce'
REPLY_TEXT = ("InvalidFrameError: Invalid frame received: "
              "'Unknown frame type: 9'")


def _close_frame(reply_code: int, reply_text: str) -> bytes:
    text = reply_text.encode()
    payload = (struct.pack('>HHH', 10, 50, reply_code) + bytes([len(text)]) +
               text + struct.pack('>HH', 0, 0))
    return struct.pack('>BHI', 1, 0, len(payload)) + payload + b'\xce'


def test_bad_frame_from_the_broker_side_sends_connection_close():
    proxy = FaultProxy()
    try:
        conn = connect(port=proxy.port)
        channel = conn.channel()
        assert channel.is_open
        proxy.inject(UNKNOWN_FRAME_TYPE)
        with pytest.raises(exceptions.StreamLostError) as caught:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                conn.process_data_events(0.1)
        assert REPLY_TEXT in caught.value.args[0]
        assert conn.is_closed
        expected = _close_frame(501, REPLY_TEXT)
        deadline = time.monotonic() + 5
        while (not bytes(proxy.upstream_bytes).endswith(expected) and
               time.monotonic() < deadline):
            time.sleep(0.05)
        assert bytes(proxy.upstream_bytes).endswith(expected)
        # (Let the broker read it before the proxy drops its side.)
        time.sleep(0.5)
    finally:
        proxy.close()
