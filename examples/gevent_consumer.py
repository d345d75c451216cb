"""A gevent consumer whose messages are processed by several greenlets.

One :class:`~pika.adapters.gevent_connection.GeventConnection` runs on the
gevent hub: its callbacks run in the hub greenlet and must not block, so the
delivery callback only hands each message to a ``gevent.queue.Queue``.
``--workers`` worker greenlets take messages from that queue, "process" them
(a cooperative ``gevent.sleep``), and acknowledge them on the shared channel
(greenlets switch only when they wait, so they never interleave inside a
pika call). A publisher greenlet feeds the queue over a second channel.

Works as is or with ``--monkey-patch`` (``gevent.monkey.patch_all()`` before
anything else is imported).

Usage::

    python examples/gevent_consumer.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--workers W] \\
        [--queue NAME] [--monkey-patch]
"""

import sys

if __name__ == '__main__' and '--monkey-patch' in sys.argv:
    from gevent import monkey
    monkey.patch_all()

# pylint: disable=wrong-import-position
import argparse  # noqa: E402
import collections  # noqa: E402
import logging  # noqa: E402
import uuid  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.queue  # noqa: E402

import pika  # noqa: E402
from pika.adapters.gevent_connection import GeventConnection  # noqa: E402

LOGGER = logging.getLogger(__name__)


class GreenletConsumer:
    """Consumes ``count`` messages with ``workers`` greenlets, then closes."""

    def __init__(self, parameters, queue, count, workers):
        self._parameters = parameters
        self._queue = queue
        self._count = count
        self._workers = workers
        self._work = gevent.queue.Queue()
        self._opened = gevent.event.AsyncResult()
        self._closed = gevent.event.AsyncResult()
        self._done = gevent.event.Event()
        self._connection = None
        self._channel = None
        #: worker number -> bodies it processed
        self.processed = collections.defaultdict(list)

    def run(self, timeout=60):
        """Connect, consume, close; return ``processed``."""
        self._connection = GeventConnection(
            self._parameters,
            on_open_callback=self._opened.set,
            on_open_error_callback=lambda _c, error: self._opened.set_exception(
                error),
            on_close_callback=lambda _c, reason: self._closed.set(reason))
        self._opened.get(timeout=timeout)
        self._channel = self._open_channel()
        declared = gevent.event.AsyncResult()
        self._channel.queue_declare(self._queue,
                                    auto_delete=True,
                                    callback=declared.set)
        declared.get(timeout=timeout)
        self._channel.basic_qos(prefetch_count=self._workers * 2)
        self._channel.basic_consume(self._queue, self._on_message)

        workers = [
            gevent.spawn(self._worker, number)
            for number in range(self._workers)
        ]
        publisher = gevent.spawn(self._publish)
        finished = self._done.wait(timeout)
        gevent.killall(workers)
        publisher.join(timeout)
        self._connection.close()
        reason = self._closed.get(timeout=timeout)
        LOGGER.info('Connection closed: %r', reason)
        if not finished:
            raise RuntimeError('timed out after %d messages' %
                               sum(map(len, self.processed.values())))
        return self.processed

    def _open_channel(self):
        opened = gevent.event.AsyncResult()
        self._connection.channel(on_open_callback=opened.set)
        return opened.get(timeout=30)

    def _on_message(self, _channel, method, _properties, body):
        # Runs in the hub: hand over, never block here.
        self._work.put((method.delivery_tag, body))

    def _worker(self, number):
        while True:
            delivery_tag, body = self._work.get()
            gevent.sleep(0.001)  # the "work": any cooperative wait
            self._channel.basic_ack(delivery_tag)
            self.processed[number].append(body)
            if sum(map(len, self.processed.values())) >= self._count:
                self._done.set()

    def _publish(self):
        channel = self._open_channel()
        for index in range(self._count):
            channel.basic_publish('', self._queue, b'message %d' % index)
            if index % 10 == 9:
                gevent.sleep(0)  # let the workers run meanwhile
        channel.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url',
                        nargs='?',
                        default='amqp://guest:guest@localhost:5672/%2F')
    parser.add_argument('--count', type=int, default=30)
    parser.add_argument('--workers', type=int, default=3)
    parser.add_argument('--queue',
                        default='gevent-example-%s' % uuid.uuid4().hex)
    parser.add_argument('--monkey-patch',
                        action='store_true',
                        help='gevent.monkey.patch_all() first')
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    processed = GreenletConsumer(pika.URLParameters(args.url), args.queue,
                                 args.count, args.workers).run()
    total = sum(map(len, processed.values()))
    print(
        'consumed %d messages with %d greenlets: %s (monkey-patched: %s)' %
        (total, len(processed),
         dict(
             sorted(
                 (number, len(bodies))
                 for number, bodies in processed.items())), args.monkey_patch))


if __name__ == '__main__':
    main()
