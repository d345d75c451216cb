"""``pika consume``: receive messages from a queue and print them.

Each message's body is written to stdout on a line of its own (``--json``:
one JSON object per message with routing key, properties and body) and then
acknowledged (``--no-ack``: the broker forgets it on delivery). Stops after
``--count`` messages, after ``--idle-timeout`` seconds without a message, or
on Ctrl-C (the messages already printed are acknowledged first; exit 130).
With ``--discard`` nothing is printed per message; on a terminal a live
count and rate is shown on stderr instead.
"""

import argparse
import time
from typing import Any

from pika.cli._runtime import (EXIT_INTERRUPTED, EXIT_USAGE, CommandError,
                               Interrupt, add_queue_reader, whole_number,
                               EXIT_EMPTY, EXIT_OK, Output, connect, isatty,
                               message_record)

NAME = 'consume'

# Longest wait for a message before checking Ctrl-C and the idle timeout.
TICK = 0.25


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``consume`` command.

    :param subparsers: the main parser's subparsers
    :param common: the parent parser with the common options
    """
    parser = add_queue_reader(
        subparsers, NAME, 'consume messages from a queue', __doc__, common, 0,
        'stop after N messages (default 0: no limit); exit 6 if '
        '--idle-timeout ends the run first')
    parser.add_argument('-t',
                        '--idle-timeout',
                        type=float,
                        default=None,
                        metavar='SECONDS',
                        help='stop after SECONDS without a message')
    parser.add_argument('--no-ack',
                        action='store_true',
                        help='automatic acknowledgement (auto_ack)')
    parser.add_argument('--prefetch',
                        type=whole_number(0),
                        default=100,
                        help='prefetch count (default 100; 0: no limit)')
    parser.add_argument('--discard',
                        action='store_true',
                        help='do not print the messages, only count them')
    parser.set_defaults(handler=run)


def run(args: Any, output: Output) -> int:
    """Consume as the command line says.

    :param args: the parsed ``consume`` command line
    :param Output output: where results go
    :returns: the exit code
    """
    if args.idle_timeout is not None and args.idle_timeout <= 0:
        raise CommandError(
            '--idle-timeout must be more than 0, got %g' % args.idle_timeout,
            EXIT_USAGE, 'usage')
    connection = connect(args, NAME)
    try:
        channel = connection.channel()
        if not args.no_ack and args.prefetch:
            channel.basic_qos(prefetch_count=args.prefetch)
        progress = output.progress('consumed', args.count or None)
        if not args.discard and not output.as_json:
            # bodies on the terminal would be overdrawn by the progress line
            progress.enabled = progress.enabled and not isatty(output.stdout)
        timed_out = False
        # One ack (multiple=True) per half prefetch window: the broker keeps
        # sending while the earlier half is being acknowledged.
        ack_every = max(args.prefetch // 2, 1) if args.prefetch else 1
        unacked = 0
        last_tag = 0
        interrupted = False
        # The generator wakes at least every TICK seconds, so that Ctrl-C
        # (a flag, see Interrupt) and the idle timeout are seen while no
        # message comes.
        tick = min(args.idle_timeout or TICK, TICK)
        last_message = time.monotonic()
        with Interrupt() as interrupt:
            try:
                for method, properties, body in channel.consume(
                        args.queue, auto_ack=args.no_ack,
                        inactivity_timeout=tick):
                    if method is None:
                        if interrupt.requested:
                            interrupted = True
                            break
                        if (args.idle_timeout is not None and
                                time.monotonic() - last_message
                                >= args.idle_timeout):
                            timed_out = True
                            break
                        continue
                    last_message = time.monotonic()
                    assert properties is not None and body is not None
                    if not args.discard:
                        record, text = message_record(method, properties, body,
                                                      args.queue)
                        output.data(record, text)
                    progress.add()
                    if not args.no_ack:
                        unacked += 1
                        last_tag = method.delivery_tag
                        if unacked >= ack_every:
                            channel.basic_ack(last_tag, multiple=True)
                            unacked = 0
                    if args.count and progress.count >= args.count:
                        break
                    if interrupt.requested:
                        # Ctrl-C ends a consume as --count does: what was
                        # printed is acknowledged, the summary written.
                        interrupted = True
                        break
            finally:
                progress.finish()
        if unacked and channel.is_open:
            channel.basic_ack(last_tag, multiple=True)
        if channel.is_open:
            channel.cancel()
        count = progress.count
        record = {
            'consumed': count,
            'queue': args.queue,
            'seconds': round(progress.elapsed(), 6),
            'rate': round(progress.rate(), 1),
        }
        text = 'consumed %d message%s from %r in %.3f s (%.0f msg/s)' % (
            count, '' if count == 1 else 's', args.queue, progress.elapsed(),
            progress.rate())
        if args.discard:
            output.result(record, text)
        elif not output.as_json and not output.quiet and isatty(output.stderr):
            # stdout holds the bodies: the summary goes beside the progress
            output.stderr.write(text + '\n')
    finally:
        if connection.is_open:
            connection.close()
    if interrupted:
        output.stderr.write('pika: interrupted\n')
        return EXIT_INTERRUPTED
    if timed_out and args.count and count < args.count:
        output.stderr.write('pika: %d of %d messages before the %g s idle '
                            'timeout\n' %
                            (count, args.count, args.idle_timeout))
        return EXIT_EMPTY
    return EXIT_OK
