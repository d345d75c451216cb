"""``pika purge``: remove every ready message from a queue.

Messages delivered and not yet acknowledged are not affected. Prints how many
messages were removed.
"""

import argparse
from typing import Any

from pika.cli._runtime import EXIT_OK, Output, add_command, connect

NAME = 'purge'


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``purge`` command.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_command(subparsers,
                         NAME,
                         'remove all ready messages from a queue',
                         __doc__,
                         parents=[common])
    parser.add_argument('queue', help='queue to purge')
    parser.set_defaults(handler=run)


def run(args: Any, output: Output) -> int:
    """Purge as the command line says.

    :param args: the parsed ``purge`` command line
    :param Output output: where results go
    :returns: the exit code
    """
    connection = connect(args, NAME)
    try:
        channel = connection.channel()
        frame = channel.queue_purge(args.queue)
        count = frame.method.message_count
    finally:
        if connection.is_open:
            connection.close()
    output.result({
        'purged': count,
        'queue': args.queue
    }, 'purged %d message%s from %r' %
                  (count, '' if count == 1 else 's', args.queue))
    return EXIT_OK
