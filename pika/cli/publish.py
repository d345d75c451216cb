"""``pika publish``: send messages to an exchange.

The body comes from ``--body``, ``--file`` or standard input (all of it, or
one message per line with ``--lines``). ``--count N`` sends it N times and,
on a terminal, shows a live count and rate on stderr. ``--confirm`` waits for
the broker to confirm each message (exit 7 when one is nacked).
``--mandatory`` asks the broker to return messages that no queue takes; any
returned message makes the command exit 7, with or without ``--confirm``.
Without either, the broker says nothing about a message it drops: a publish
to the default exchange with a routing key that names no queue succeeds.
"""

import argparse
import sys
from typing import Any, Iterator, List

import pika
from pika.cli._runtime import (add_command, whole_number, EXIT_INTERRUPTED,
                               EXIT_OK, Interrupt, EXIT_UNCONFIRMED, EXIT_USAGE,
                               CommandError, Output, connect, parse_table)

NAME = 'publish'


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``publish`` command.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_command(subparsers,
                         NAME,
                         'publish messages',
                         __doc__,
                         parents=[common])
    parser.add_argument('-e',
                        '--exchange',
                        default='',
                        help="exchange to publish to (default: '', the "
                        'default exchange, which routes to the queue named '
                        'by the routing key)')
    parser.add_argument('-r',
                        '--routing-key',
                        default='',
                        help='routing key (a queue name on the default '
                        'exchange)')
    body = parser.add_mutually_exclusive_group()
    body.add_argument('-b', '--body', help='message body (UTF-8 text)')
    body.add_argument('-f',
                      '--file',
                      type=argparse.FileType('rb'),
                      help="read the body from FILE ('-' for stdin)")
    body.add_argument('--lines',
                      action='store_true',
                      help='one message per line of standard input')
    parser.add_argument('-n',
                        '--count',
                        type=whole_number(1),
                        default=1,
                        help='send the body N times (default 1)')
    parser.add_argument('--confirm',
                        action='store_true',
                        help='use publisher confirms: wait for the broker '
                        'to confirm each message')
    parser.add_argument('--mandatory',
                        action='store_true',
                        help='ask the broker to return messages no queue '
                        'takes, and exit 7 when it returns any')
    parser.add_argument('-p',
                        '--persistent',
                        action='store_true',
                        help='delivery mode 2 (persistent)')
    parser.add_argument('--content-type', help='content_type property')
    parser.add_argument('--correlation-id', help='correlation_id property')
    parser.add_argument('--reply-to', help='reply_to property')
    parser.add_argument('--message-id', help='message_id property')
    parser.add_argument('--expiration',
                        help='per-message TTL in milliseconds (a string)')
    parser.add_argument('--priority',
                        type=int,
                        choices=range(0, 256),
                        metavar='0-255',
                        help='priority property')
    parser.add_argument('-H',
                        '--header',
                        action='append',
                        metavar='KEY=VALUE',
                        help='a header (repeatable; JSON values are decoded)')
    parser.set_defaults(handler=run)


def properties_from(args: Any) -> pika.BasicProperties:
    """The message properties the command line asks for.

    :param args: the parsed ``publish`` command line
    :rtype: pika.BasicProperties
    """
    headers = parse_table(args.header, '--header') or None
    return pika.BasicProperties(content_type=args.content_type,
                                delivery_mode=2 if args.persistent else None,
                                correlation_id=args.correlation_id,
                                reply_to=args.reply_to,
                                message_id=args.message_id,
                                expiration=args.expiration,
                                priority=args.priority,
                                headers=headers)


def bodies(args: Any) -> Iterator[bytes]:
    """The bodies to publish, in order.

    :param args: the parsed ``publish`` command line
    :raises CommandError: when no body is given and stdin is a terminal
    """
    if args.lines:
        for line in sys.stdin.buffer:
            yield line.rstrip(b'\r\n')
        return
    if args.body is not None:
        body = args.body.encode('utf-8')
    elif args.file is not None:
        with args.file:
            body = args.file.read()
    elif sys.stdin.isatty():
        raise CommandError(
            'no body: give --body, --file, or pipe it on standard input',
            EXIT_USAGE, 'usage')
    else:
        body = sys.stdin.buffer.read()
    for _ in range(args.count):
        yield body


def run(args: Any, output: Output) -> int:
    """Publish as the command line says.

    :param args: the parsed ``publish`` command line
    :param Output output: where results go
    :returns: the exit code
    """
    if args.lines and args.count != 1:
        raise CommandError('--lines and --count cannot be combined', EXIT_USAGE,
                           'usage')
    properties = properties_from(args)
    messages = bodies(args)
    connection = connect(args, NAME)
    try:
        channel = connection.channel()
        returned: List[bytes] = []
        if args.confirm:
            channel.confirm_delivery()
        elif args.mandatory:
            channel.add_on_return_callback(lambda _channel, method, properties,
                                           body: returned.append(body))
        progress = output.progress('published',
                                   None if args.lines else args.count)
        publish = channel.basic_publish
        exchange = args.exchange
        routing_key = args.routing_key
        mandatory = args.mandatory
        with Interrupt() as interrupt:
            try:
                for body in messages:
                    publish(exchange, routing_key, body, properties, mandatory)
                    progress.add()
                    if interrupt.requested:
                        break
            finally:
                progress.finish()
        if not args.confirm:
            # A round trip: a publish the broker refused (no such exchange)
            # closes the channel before the answer, and raises here. The
            # broker sends Basic.Return before that answer, so the returned
            # messages are all in by then; process_data_events runs their
            # callbacks.
            channel.basic_qos()
            if args.mandatory:
                connection.process_data_events(0)
        if returned:
            raise CommandError(
                '%d of %d message(s) returned unroutable: no queue is bound '
                'for the routing key' % (len(returned), progress.count),
                EXIT_UNCONFIRMED, 'unroutable')
        if interrupt.requested:
            # what was published so far, then the usual exit code of Ctrl-C
            output.stderr.write('pika: interrupted after %d message(s)\n' %
                                progress.count)
            return EXIT_INTERRUPTED
        elapsed = progress.elapsed()
        count = progress.count
        output.result(
            {
                'published': count,
                'exchange': exchange,
                'routing_key': routing_key,
                'confirmed': bool(args.confirm),
                'seconds': round(elapsed, 6),
                'rate': round(progress.rate(), 1),
            }, 'published %d message%s to %s in %.3f s (%.0f msg/s)%s' %
            (count, '' if count == 1 else 's', _target(exchange,
                                                       routing_key), elapsed,
             progress.rate(), ', all confirmed' if args.confirm else ''))
    finally:
        if connection.is_open:
            connection.close()
    return EXIT_OK


def _target(exchange: str, routing_key: str) -> str:
    if exchange:
        return 'exchange %r (routing key %r)' % (exchange, routing_key)
    return 'queue %r (default exchange)' % routing_key
