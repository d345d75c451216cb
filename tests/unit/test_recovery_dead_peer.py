"""With recovery on, a silent broker is detected within 2 x heartbeat + 1 s,
and a loop that was busy is not taken for a dead peer (scripted clock and
timers, no sockets)."""

from pika import exceptions, recovery


class _FakeConnection:

    def __init__(self):
        self.timers = []
        self.frames_received = 0
        self.is_open = True
        self.terminated = []

    def _adapter_call_later(self, delay, callback):
        self.timers.append([delay, callback])
        return self.timers[-1]

    def _adapter_remove_timeout(self, handle):
        self.timers.remove(handle)

    def _terminate_stream(self, error):
        self.terminated.append(error)
        self.is_open = False


def _run(monkeypatch, heartbeat, steps):
    """Advance the clock timer by timer; ``steps(now, connection)`` is called
    before each timer fires. Returns the detection time or None."""
    clock = [0.0]
    monkeypatch.setattr(recovery, '_monotonic', lambda: clock[0])
    connection = _FakeConnection()
    watch = recovery.DeadPeerWatch(connection, heartbeat)
    for _ in range(1000):
        if connection.terminated or not connection.timers:
            break
        delay, callback = connection.timers.pop(0)
        clock[0] += delay + steps(clock[0], connection)
        callback()
    watch.stop()
    return clock[0] if connection.terminated else None, connection


def test_silence_is_detected_within_two_heartbeats_plus_one_second(monkeypatch):
    silent_from = 3.0

    def steps(now, connection):
        if now < silent_from:
            connection.frames_received += 1
        return 0.0

    for heartbeat in (1, 2, 5, 60):
        detected, connection = _run(monkeypatch, heartbeat, steps)
        assert detected is not None
        assert isinstance(connection.terminated[0],
                          exceptions.AMQPHeartbeatTimeout)
        assert detected - silent_from <= 2 * heartbeat + 1


def test_traffic_keeps_the_connection_alive(monkeypatch):

    def steps(_now, connection):
        connection.frames_received += 1
        return 0.0

    clock = [0.0]
    monkeypatch.setattr(recovery, '_monotonic', lambda: clock[0])
    connection = _FakeConnection()
    recovery.DeadPeerWatch(connection, 2)
    for _ in range(500):
        delay, callback = connection.timers.pop(0)
        clock[0] += delay + steps(clock[0], connection)
        callback()
    assert connection.terminated == []


def test_a_busy_loop_is_not_a_dead_peer(monkeypatch):
    # Every check runs 5 s late (the loop was busy); frames that arrived
    # meanwhile are not read yet when the timer fires.
    detected, _connection = _run(monkeypatch, 2, lambda now, c: 5.0)
    assert detected is None
