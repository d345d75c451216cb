"""``python -m pika``: the command-line tool (see :mod:`pika.cli`)."""

import sys

from pika.cli import main

if __name__ == '__main__':
    sys.exit(main())
