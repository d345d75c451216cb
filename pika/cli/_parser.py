"""The argument parser of the tool and the dispatch to its commands."""

import argparse
import sys
from typing import List, Optional

from pika.cli import (_runtime, consume, declare, diagnose, get, publish, purge)
from pika.cli._runtime import (EXIT_CODES_HELP, EXIT_ERROR, EXIT_INTERRUPTED,
                               EXIT_OK, EXIT_USAGE, CommandError, Output)

COMMANDS = (publish, consume, get, declare, purge, diagnose)

DESCRIPTION = ('Talk to a RabbitMQ (AMQP 0-9-1) broker: publish, consume and '
               'get messages, declare exchanges, queues and bindings, purge '
               'queues, and diagnose a connection step by step.')


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not a number' % text)
    if value <= 0:
        raise argparse.ArgumentTypeError('must be more than 0, got %s' % text)
    return value


def common_options() -> argparse.ArgumentParser:
    """The options every command takes (a parent parser).

    :rtype: argparse.ArgumentParser
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group('connection and output')
    group.add_argument(
        '--url',
        default=None,
        # argparse %-formats help texts: the default URL's "%2F" is doubled.
        help='broker URL, amqp:// or amqps:// (default: $%s, else %s)' %
        (_runtime.URL_ENVIRONMENT_VARIABLE,
         _runtime.DEFAULT_URL.replace('%', '%%')))
    group.add_argument('--timeout',
                       type=_positive_float,
                       default=None,
                       metavar='SECONDS',
                       help='connect (and blocked-connection) timeout')
    group.add_argument('--cacert',
                       metavar='FILE',
                       help='CA certificates to verify the broker with '
                       '(amqps://)')
    group.add_argument('--cert',
                       metavar='FILE',
                       help='client certificate (PEM) for TLS')
    group.add_argument('--key',
                       metavar='FILE',
                       help='private key of --cert, if not in the same file')
    group.add_argument('--insecure',
                       action='store_true',
                       help='do not verify the broker certificate')
    group.add_argument('--json',
                       action='store_true',
                       help='write results as JSON (one object per line)')
    group.add_argument('-q',
                       '--quiet',
                       action='store_true',
                       help='no progress line and no text summary')
    return common


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line.

    :rtype: argparse.ArgumentParser
    """
    import pika
    parser = argparse.ArgumentParser(
        prog='pika',
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--version',
                        action='version',
                        version='pika %s' % pika.__version__)
    subparsers = parser.add_subparsers(dest='command',
                                       metavar='COMMAND',
                                       title='commands')
    common = common_options()
    for module in COMMANDS:
        module.add_parser(subparsers, common)
    return parser


def run(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code.

    :param argv: the arguments (default ``sys.argv[1:]``)
    :rtype: int
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.url is None:
        args.url = _runtime.default_url()
    output = Output(args.json, args.quiet)
    try:
        return int(args.handler(args, output))
    except KeyboardInterrupt:
        output.stderr.write('\npika: interrupted\n')
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (``pika consume q | head``): not an error
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - reported in plain words
        problem = _runtime.describe_error(error)
        output.error(problem)
        if problem.exit_code == EXIT_ERROR:
            import traceback
            traceback.print_exc()
        return problem.exit_code


def _silence_stdout() -> None:
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


__all__ = ['build_parser', 'run', 'common_options', 'CommandError']
