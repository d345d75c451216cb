"""Property: how received bytes are chunked never changes what the engine does.

A scripted broker stream (handshake, channel open, consumer, deliveries of
random sizes across frame boundaries, a broker cancel, a return) is fed whole
and in random pieces; callbacks and client bytes must be identical.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from pika import connection, spec
from engine_fake import (OPEN_OK, Recorder, content_bytes, make_connection,
                         method_bytes, start_bytes, tune_bytes)

FRAME_MAX = 4096
TAG = 'ctag-fixed'


def broker_stream(bodies):
    parts = [
        start_bytes(),
        tune_bytes(0, FRAME_MAX, 0), OPEN_OK,
        method_bytes(1, spec.Channel.OpenOk()),
        method_bytes(1, spec.Basic.ConsumeOk(TAG))
    ]
    for number, body in enumerate(bodies, 1):
        props = spec.BasicProperties(message_id=str(number),
                                     headers={'n': number})
        parts.append(
            content_bytes(1, spec.Basic.Deliver(TAG, number, False, 'x', 'q'),
                          body, props, FRAME_MAX))
    parts.append(
        content_bytes(1, spec.Basic.Return(312, 'NO_ROUTE', 'x', 'q'), b'r',
                      None, FRAME_MAX))
    parts.append(method_bytes(1, spec.Basic.Cancel(TAG, nowait=True)))
    return b''.join(parts)


def run(stream, cuts):
    rec = Recorder()
    conn = make_connection(connection.ConnectionParameters(), recorder=rec)
    deliveries = []

    def on_open(conn_):
        chan = conn_.channel()
        chan.add_on_return_callback(lambda ch, method, props, body: deliveries.
                                    append(('return', method.reply_code, body)))
        chan.add_on_cancel_callback(lambda method_frame: deliveries.append(
            ('cancel', method_frame.method.consumer_tag)))

        def on_channel_open(ch):
            ch.basic_consume('q',
                             lambda ch_, method, props, body: deliveries.append(
                                 (method.delivery_tag, props.message_id, props.
                                  headers, body)),
                             consumer_tag=TAG)

        chan._on_openok_callback = on_channel_open

    conn.add_on_open_callback(on_open)
    conn._on_stream_connected()
    start = 0
    for cut in sorted(cuts) + [len(stream)]:
        conn.feed(stream[start:cut])
        start = cut
    return deliveries, b''.join(conn.written), conn.is_open


@settings(max_examples=60, deadline=None)
@given(bodies=st.lists(st.binary(max_size=3 * FRAME_MAX), max_size=6),
       data=st.data())
def test_chunking_does_not_change_behaviour(bodies, data):
    stream = broker_stream(bodies)
    cuts = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=40))
    whole = run(stream, [])
    pieces = run(stream, cuts)
    assert pieces == whole
    deliveries = whole[0]
    assert [d[3] for d in deliveries[:len(bodies)]] == bodies
    assert deliveries[len(bodies):] == [('return', 312, b'r'), ('cancel', TAG)]
    assert whole[2] is True
