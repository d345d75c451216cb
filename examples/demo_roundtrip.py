"""Demo: send messages through the local RabbitMQ and get them back.

Run by ``utils/demo.sh`` (which starts the broker first), or directly::

    python examples/demo_roundtrip.py [--count N]

With ``pika.BlockingConnection`` available it connects to the broker
(``PIKA_TEST_HOST``/``PIKA_TEST_PORT``, default 127.0.0.1:5672, guest/guest),
declares an exclusive queue, publishes one message with properties and
``--count`` small ones, consumes them all back, checks them and prints what it
did and how fast.

While the blocking adapter is not in the library yet, it says so and proves
the parts that exist instead: the broker answers AMQP 0-9-1 (its
``Connection.Start`` is decoded with ``pika.frame``), and the codec
round-trips a published message (method, header and body frames built with
``pika.spec``/``pika.frame``, decoded back and compared field by field).

Exit status 0 when everything it tried worked.
"""

import argparse
import importlib
import os
import socket
import sys
import time
import uuid

try:
    import pika
except ImportError:  # run from a checkout without installing the project
    sys.path.insert(0,
                    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import pika

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))


def blocking_connection_class():
    """Return pika.BlockingConnection, or None with the reason printed."""
    try:
        module = importlib.import_module('pika.adapters.blocking_connection')
        return module.BlockingConnection
    except (ImportError, AttributeError) as exc:
        print('BlockingConnection is not available yet (%s: %s).' %
              (type(exc).__name__, exc))
        return None


def demo_blocking(connection_class, count):
    """Publish and consume through BlockingConnection; return exit status."""
    from pika.connection import ConnectionParameters
    from pika.spec import BasicProperties

    params = ConnectionParameters(host=HOST, port=PORT)
    connection = connection_class(params)
    print('Connected to RabbitMQ at %s:%d with pika.BlockingConnection.' %
          (HOST, PORT))
    try:
        channel = connection.channel()
        queue = channel.queue_declare(queue='demo-' + uuid.uuid4().hex,
                                      exclusive=True).method.queue
        print('Declared exclusive queue %s.' % queue)

        properties = BasicProperties(content_type='text/plain',
                                     headers={'demo': 'roundtrip'},
                                     message_id=uuid.uuid4().hex)
        body = b'hello from pika ' + pika.__version__.encode()
        channel.basic_publish('', queue, body, properties)
        method, got_properties, got_body = next(
            channel.consume(queue, auto_ack=True, inactivity_timeout=10))
        channel.cancel()
        if method is None or got_body != body or (
                got_properties.message_id != properties.message_id or
                got_properties.headers != properties.headers):
            print('FAILED: the message did not come back intact: %r %r' %
                  (got_body, got_properties))
            return 1
        print('Published %r with headers %r and consumed it back intact.' %
              (body, properties.headers))

        started = time.perf_counter()
        for number in range(count):
            channel.basic_publish('', queue, b'message %d' % number)
        published = time.perf_counter()
        received = 0
        for method, _props, got_body in channel.consume(queue,
                                                        auto_ack=True,
                                                        inactivity_timeout=10):
            if method is None:
                break
            if got_body != b'message %d' % received:
                print('FAILED: message %d came back as %r' %
                      (received, got_body))
                return 1
            received += 1
            if received == count:
                break
        channel.cancel()
        done = time.perf_counter()
        if received != count:
            print('FAILED: consumed %d of %d messages' % (received, count))
            return 1
        print('Published %d messages in %.3f s and consumed them back in '
              'order in %.3f s (%.0f msg/s round trip).' %
              (count, published - started, done - published, count /
               (done - started)))
    finally:
        connection.close()
    print('Closed the connection. Demo OK.')
    return 0


def probe_broker():
    """Decode the broker's Connection.Start; return True when it answered."""
    from pika import frame

    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(frame.ProtocolHeader().marshal())
        data = b''
        result = None
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            consumed, result = frame.decode_frame(data)
            if result is not None:
                break
    if result is None:
        print('FAILED: %s:%d closed without sending Connection.Start' %
              (HOST, PORT))
        return False
    start = result.method
    server = start.server_properties
    print('Broker at %s:%d is up: %s %s, AMQP %d-%d, mechanisms %s '
          '(Connection.Start decoded by pika.frame, %d bytes).' %
          (HOST, PORT, _text(server.get('product')), _text(
              server.get('version')), start.version_major, start.version_minor,
           _text(start.mechanisms), consumed))
    return True


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_codec():
    """Round-trip a published message through the codec; True when intact."""
    from pika import frame, spec

    method = spec.Basic.Publish(exchange='amq.direct',
                                routing_key='demo.roundtrip',
                                mandatory=True)
    properties = spec.BasicProperties(content_type='application/json',
                                      delivery_mode=2,
                                      priority=5,
                                      headers={
                                          'str': 'value',
                                          'int': 42,
                                          'nested': {
                                              'list': [1, 'two', True]
                                          }
                                      },
                                      message_id=uuid.uuid4().hex,
                                      timestamp=int(time.time()))
    body = b'{"hello": "world"}' * 20
    channel_number = 7
    wire = b''.join(
        (frame.Method(channel_number, method).marshal(),
         frame.Header(channel_number, len(body),
                      properties).marshal(), frame.Body(channel_number,
                                                        body).marshal()))

    frames = []
    offset = 0
    while offset < len(wire):
        consumed, decoded = frame.decode_frame(wire[offset:])
        if decoded is None:
            print('FAILED: incomplete frame at byte %d' % offset)
            return False
        frames.append(decoded)
        offset += consumed

    got_method = frames[0].method
    got_header = frames[1]
    got_body = b''.join(f.fragment for f in frames[2:])
    problems = []
    for name in ('exchange', 'routing_key', 'mandatory', 'immediate'):
        if getattr(got_method, name) != getattr(method, name):
            problems.append('method.%s' % name)
    for name in ('content_type', 'delivery_mode', 'priority', 'headers',
                 'message_id', 'timestamp'):
        if getattr(got_header.properties, name) != getattr(properties, name):
            problems.append('properties.%s' % name)
    if got_header.body_size != len(body) or got_body != body:
        problems.append('body')
    if any(f.channel_number != channel_number for f in frames):
        problems.append('channel number')
    if problems:
        print('FAILED: codec round trip changed %s' % ', '.join(problems))
        return False
    print('Codec round trip OK: Basic.Publish + properties (nested headers '
          'table) + %d-byte body -> %d frames, %d bytes on the wire -> '
          'decoded back identical.' % (len(body), len(frames), len(wire)))
    return True


def demo_fallback():
    """Broker probe plus codec check; return exit status."""
    try:
        ok = probe_broker() and check_codec()
    except ImportError as exc:
        print('FAILED: the codec modules are not available yet (%s).' % exc)
        return 1
    if not ok:
        return 1
    print('Demo OK (broker probe and codec round trip; the publish/consume '
          'demo runs once BlockingConnection is available).')
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count',
                        type=int,
                        default=1000,
                        help='messages to publish and consume (default 1000)')
    args = parser.parse_args(argv)
    print('pika %s from %s' %
          (pika.__version__, os.path.dirname(pika.__file__)))

    connection_class = blocking_connection_class()
    if connection_class is not None:
        try:
            return demo_blocking(connection_class, args.count)
        except NotImplementedError as exc:
            print('BlockingConnection is not complete yet (%s).' % exc)
    print('Falling back to the broker probe and codec check.')
    return demo_fallback()


if __name__ == '__main__':
    sys.exit(main())
