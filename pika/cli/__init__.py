"""The ``pika`` command-line tool (``python -m pika`` or the ``pika`` script).

Talk to a RabbitMQ broker from a shell, with nothing but this package::

    pika publish --routing-key tasks --body 'hello'
    pika publish --routing-key tasks --body x --count 1000000   # live rate
    pika consume tasks --count 10 --json
    pika get tasks
    pika declare queue tasks --durable
    pika declare exchange logs --type fanout
    pika declare binding logs tasks --routing-key '#'
    pika purge tasks
    pika diagnose amqps://user:secret@broker.example:5671/prod

Every command takes ``--url`` (default: the ``PIKA_URL`` environment
variable, else ``amqp://guest:guest@localhost:5672/%2F``), ``--json`` (machine
readable output on stdout) and ``--help``. Progress and rates are written to
stderr only when it is a terminal; errors always go to stderr, and with
``--json`` also to stdout as ``{"error": {...}}``.

Exit codes (the same for every command):

* 0: success.
* 1: unexpected error (a bug: please report it with the traceback).
* 2: bad command line (unknown option, invalid URL or value).
* 3: the broker could not be reached: name resolution failed, TCP connection
  refused or timed out, TLS handshake failed, or the peer does not speak
  AMQP 0-9-1.
* 4: the broker refused access: authentication failed (wrong user name or
  password, ``ACCESS_REFUSED``) or the virtual host does not exist or the user
  may not use it (``NOT_ALLOWED``).
* 5: the broker refused the operation and closed the channel (for example
  ``NOT_FOUND``: no such queue; ``PRECONDITION_FAILED``: declared with other
  options; ``ACCESS_REFUSED``: no permission on the resource).
* 6: no message: ``get`` found the queue empty, or ``consume --count N``
  stopped (``--idle-timeout``) before N messages arrived.
* 7: a published message was not confirmed: the broker nacked it or returned
  it as unroutable (``publish --confirm`` / ``--mandatory``).
* 130: interrupted (Ctrl-C).

The tool uses only the public API of the library (``pika.BlockingConnection``
for the commands, ``pika.SelectConnection`` for ``diagnose``).
"""

from typing import List, Optional

from pika.cli._runtime import (EXIT_ACCESS, EXIT_EMPTY, EXIT_ERROR,
                               EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED,
                               EXIT_UNCONFIRMED, EXIT_UNREACHABLE, EXIT_USAGE)

__all__ = [
    'main',
    'EXIT_OK',
    'EXIT_ERROR',
    'EXIT_USAGE',
    'EXIT_UNREACHABLE',
    'EXIT_ACCESS',
    'EXIT_REFUSED',
    'EXIT_EMPTY',
    'EXIT_UNCONFIRMED',
    'EXIT_INTERRUPTED',
]


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``).

    :param argv: the arguments after the program name
    :returns: the exit code (see the module documentation)
    """
    from pika.cli._parser import run
    return run(argv)
