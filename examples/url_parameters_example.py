"""Connecting with URLParameters (plain or amqps) on a SelectConnection.

The URL carries everything: credentials, host, port, virtual host (``%2F``
for ``/``) and query options such as ``heartbeat``, ``connection_attempts``,
``retry_delay``, ``socket_timeout``, ``stack_timeout``, ``blocked_connection_
timeout`` and, for ``amqps://``, ``ssl_options`` (a Python dict literal, URL
quoted, e.g. ``{'ca_certs': '/path/ca.pem', 'server_hostname': 'localhost'}``).

Usage::

    python examples/url_parameters_example.py \\
        'amqp://guest:guest@localhost:5672/%2F?heartbeat=30&connection_attempts=3&retry_delay=1'
"""

import argparse
import logging

import pika
from pika.adapters.select_connection import SelectConnection


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'url',
        nargs='?',
        default=('amqp://guest:guest@localhost:5672/%2F?heartbeat=30&'
                 'connection_attempts=3&retry_delay=1&socket_timeout=5'))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    params = pika.URLParameters(args.url)
    print('parameters:', params)
    print('heartbeat=%s connection_attempts=%s retry_delay=%s '
          'socket_timeout=%s ssl=%s' %
          (params.heartbeat, params.connection_attempts, params.retry_delay,
           params.socket_timeout, params.ssl_options is not None))
    outcome = {}

    def on_open(connection):
        props = connection.server_properties or {}
        outcome['server'] = '%s %s' % (props.get(
            'product', b'?'), props.get('version', b'?'))
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        channel.queue_declare(
            '',
            exclusive=True,
            callback=lambda frame: on_declared(channel, frame))

    def on_declared(channel, frame):
        outcome['queue'] = frame.method.queue
        channel.connection.close()

    def on_open_error(connection, error):
        outcome['error'] = error
        connection.ioloop.stop()

    def on_close(connection, reason):
        outcome['closed'] = reason
        connection.ioloop.stop()

    connection = SelectConnection(params,
                                  on_open_callback=on_open,
                                  on_open_error_callback=on_open_error,
                                  on_close_callback=on_close)
    connection.ioloop.start()
    if 'error' in outcome:
        raise SystemExit('connection failed: %r' % (outcome['error'],))
    print('connected to', outcome['server'])
    print('declared server-named queue', outcome['queue'])
    print('closed:', outcome['closed'])


if __name__ == '__main__':
    main()
