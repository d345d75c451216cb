"""``pika declare``: declare an exchange, a queue or a binding.

``declare exchange NAME``, ``declare queue [NAME]`` (no name: the broker
names it) and ``declare binding SOURCE DESTINATION`` (a queue; with
``--to-exchange`` an exchange). ``--passive`` only checks that the exchange or
queue exists (exit 5 when it does not). ``--argument KEY=VALUE`` adds
optional arguments such as ``x-queue-type=quorum`` or ``x-max-length=1000``
(JSON values are decoded: numbers become integers).
"""

import argparse
from typing import Any

from pika.cli._runtime import (add_command, EXIT_CODES_HELP, EXIT_OK, Output,
                               connect, parse_table)

NAME = 'declare'

EXCHANGE_TYPES = ('direct', 'fanout', 'topic', 'headers')


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``declare`` command and its ``exchange``/``queue``/``binding``.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_command(subparsers, NAME,
                         'declare an exchange, a queue or a binding', __doc__)
    kinds = parser.add_subparsers(dest='kind', metavar='KIND', title='kinds')
    kinds.required = True

    def add_kind(name: str, help_text: str) -> argparse.ArgumentParser:
        kind: argparse.ArgumentParser = kinds.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        kind.add_argument('-a',
                          '--argument',
                          action='append',
                          metavar='KEY=VALUE',
                          help='optional argument (repeatable)')
        return kind

    exchange = add_kind('exchange', 'declare an exchange')
    exchange.add_argument('name', help='exchange name')
    exchange.add_argument('-t',
                          '--type',
                          default='direct',
                          help='exchange type: %s or a plugin type '
                          '(default direct)' % ', '.join(EXCHANGE_TYPES))
    exchange.add_argument('--durable',
                          action='store_true',
                          help='survive a broker restart')
    exchange.add_argument('--auto-delete',
                          action='store_true',
                          help='delete when the last binding is removed')
    exchange.add_argument('--internal',
                          action='store_true',
                          help='cannot be published to directly')
    exchange.add_argument('--passive',
                          action='store_true',
                          help='only check that it exists')
    exchange.set_defaults(handler=run_exchange)

    queue = add_kind('queue', 'declare a queue')
    queue.add_argument('name',
                       nargs='?',
                       default='',
                       help='queue name (default: a name the broker chooses)')
    queue.add_argument('--durable',
                       action='store_true',
                       help='survive a broker restart')
    queue.add_argument('--auto-delete',
                       action='store_true',
                       help='delete when its last consumer is gone')
    queue.add_argument('--exclusive',
                       action='store_true',
                       help='only for this connection (deleted when the '
                       'command ends)')
    queue.add_argument('--passive',
                       action='store_true',
                       help='only check that it exists (and count its '
                       'messages)')
    queue.set_defaults(handler=run_queue)

    binding = add_kind('binding', 'bind a queue (or exchange) to an exchange')
    binding.add_argument('source', help='exchange the messages come from')
    binding.add_argument('destination', help='queue (or exchange) bound')
    binding.add_argument('-r',
                         '--routing-key',
                         default='',
                         help='binding key (default empty)')
    binding.add_argument('--to-exchange',
                         action='store_true',
                         help='DESTINATION is an exchange (exchange-to-'
                         'exchange binding)')
    binding.set_defaults(handler=run_binding)


def run_exchange(args: Any, output: Output) -> int:
    """Declare an exchange.

    :param args: the parsed command line
    :param Output output: where results go
    :returns: the exit code
    """
    connection = connect(args, NAME)
    try:
        connection.channel().exchange_declare(
            args.name,
            exchange_type=args.type,
            passive=args.passive,
            durable=args.durable,
            auto_delete=args.auto_delete,
            internal=args.internal,
            arguments=parse_table(args.argument, '--argument') or None)
    finally:
        if connection.is_open:
            connection.close()
    output.result(
        {
            'exchange': args.name,
            'type': args.type,
            'passive': args.passive
        }, '%s exchange %r (%s)' %
        ('exchange exists:' if args.passive else 'declared', args.name,
         args.type))
    return EXIT_OK


def run_queue(args: Any, output: Output) -> int:
    """Declare a queue.

    :param args: the parsed command line
    :param Output output: where results go
    :returns: the exit code
    """
    connection = connect(args, NAME)
    try:
        frame = connection.channel().queue_declare(
            args.name,
            passive=args.passive,
            durable=args.durable,
            exclusive=args.exclusive,
            auto_delete=args.auto_delete,
            arguments=parse_table(args.argument, '--argument') or None)
    finally:
        if connection.is_open:
            connection.close()
    method = frame.method
    output.result(
        {
            'queue': method.queue,
            'message_count': method.message_count,
            'consumer_count': method.consumer_count,
            'passive': args.passive,
        }, '%s queue %r: %d message%s, %d consumer%s' %
        ('queue exists:' if args.passive else 'declared', method.queue,
         method.message_count, '' if method.message_count == 1 else 's',
         method.consumer_count, '' if method.consumer_count == 1 else 's'))
    return EXIT_OK


def run_binding(args: Any, output: Output) -> int:
    """Bind a queue or an exchange to an exchange.

    :param args: the parsed command line
    :param Output output: where results go
    :returns: the exit code
    """
    arguments = parse_table(args.argument, '--argument') or None
    connection = connect(args, NAME)
    try:
        channel = connection.channel()
        if args.to_exchange:
            channel.exchange_bind(args.destination,
                                  args.source,
                                  routing_key=args.routing_key,
                                  arguments=arguments)
        else:
            channel.queue_bind(args.destination,
                               args.source,
                               routing_key=args.routing_key,
                               arguments=arguments)
    finally:
        if connection.is_open:
            connection.close()
    kind = 'exchange' if args.to_exchange else 'queue'
    output.result(
        {
            'source': args.source,
            'destination': args.destination,
            'destination_type': kind,
            'routing_key': args.routing_key,
        }, 'bound %s %r to exchange %r with routing key %r' %
        (kind, args.destination, args.source, args.routing_key))
    return EXIT_OK
