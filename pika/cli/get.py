"""``pika get``: fetch messages from a queue one at a time (``Basic.Get``).

Prints each message as ``consume`` does and acknowledges it (``--requeue``:
gives it back to the queue instead; ``--no-ack``: the broker forgets it on
delivery). Exits 6 when the queue had fewer messages than ``--count``
(default 1), 0 otherwise.
"""

import argparse
from typing import Any

from pika.cli._runtime import (add_queue_reader, EXIT_EMPTY, EXIT_OK,
                               CommandError, EXIT_USAGE, Output, connect,
                               message_record)

NAME = 'get'


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``get`` command.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_queue_reader(subparsers, NAME,
                              'get messages from a queue (Basic.Get)', __doc__,
                              common, 1, 'get up to N messages (default 1)')
    parser.add_argument('--no-ack',
                        action='store_true',
                        help='automatic acknowledgement (auto_ack)')
    parser.add_argument('--requeue',
                        action='store_true',
                        help='give the messages back to the queue (nack '
                        'with requeue) after printing them')
    parser.set_defaults(handler=run)


def run(args: Any, output: Output) -> int:
    """Get as the command line says.

    :param args: the parsed ``get`` command line
    :param Output output: where results go
    :returns: the exit code
    """
    if args.requeue and args.no_ack:
        raise CommandError('--requeue and --no-ack cannot be combined',
                           EXIT_USAGE, 'usage')
    connection = connect(args, NAME)
    got = 0
    try:
        channel = connection.channel()
        tags = []
        for _ in range(args.count):
            method, properties, body = channel.basic_get(args.queue,
                                                         auto_ack=args.no_ack)
            if method is None:
                break
            assert properties is not None and body is not None
            record, text = message_record(method, properties, body, args.queue)
            record['message_count'] = method.message_count
            output.data(record, text)
            got += 1
            tags.append(method.delivery_tag)
        if tags and not args.no_ack:
            if args.requeue:
                channel.basic_nack(tags[-1], multiple=True, requeue=True)
            else:
                channel.basic_ack(tags[-1], multiple=True)
    finally:
        if connection.is_open:
            connection.close()
    if got < args.count:
        if got == 0 and output.as_json:
            output.result({'empty': True, 'queue': args.queue}, '')
        output.stderr.write('pika: queue %r is empty%s\n' %
                            (args.queue, ' (got %d of %d)' %
                             (got, args.count) if got else ''))
        return EXIT_EMPTY
    return EXIT_OK
