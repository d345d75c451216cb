"""A Twisted service that publishes and consumes through RabbitMQ.

:class:`PikaService` is a ``twisted.application.service.Service``: started
under ``twistd`` or, as here, by ``task.react``, it connects with
:class:`~pika.adapters.twisted_connection.TwistedProtocolConnection`, declares
a queue, publishes ``count`` messages with publisher confirms (each
``basic_publish`` returns a Deferred fired by the broker's ack) and consumes
them back from the :class:`ClosableDeferredQueue` that ``basic_consume``
gives, acknowledging each one. Every step is a Deferred, so the whole flow
reads top to bottom with ``inlineCallbacks``.

Usage::

    python examples/twisted_service.py \\
        [amqp://guest:guest@localhost:5672/%2F] [--count N] [--queue NAME]

The broker address defaults to ``PIKA_TEST_HOST``/``PIKA_TEST_PORT`` (or
localhost:5672) and the count to ``PIKA_EXAMPLE_MESSAGES`` (or 10).
"""

import argparse
import logging
import os
import uuid

from twisted.application import service
from twisted.internet import defer, protocol, task

import pika
from pika.adapters.twisted_connection import TwistedProtocolConnection

LOGGER = logging.getLogger(__name__)


class PikaService(service.Service):
    """Publishes ``count`` messages to ``queue`` and consumes them back."""

    name = 'pika-example'

    def __init__(self, reactor, parameters, queue, count):
        self._reactor = reactor
        self._parameters = parameters
        self._queue = queue
        self._count = count
        self._connection = None
        #: fires with the received bodies once the round trip is done
        self.finished = defer.Deferred()

    def startService(self):  # noqa: N802 - Twisted's name
        service.Service.startService(self)
        self._run().chainDeferred(self.finished)

    @defer.inlineCallbacks
    def stopService(self):  # noqa: N802 - Twisted's name
        service.Service.stopService(self)
        if self._connection is not None and self._connection.is_open:
            yield self._connection.close()

    @defer.inlineCallbacks
    def _run(self):
        creator = protocol.ClientCreator(self._reactor,
                                         TwistedProtocolConnection,
                                         self._parameters)
        self._connection = yield creator.connectTCP(self._parameters.host,
                                                    self._parameters.port)
        yield self._connection.ready
        LOGGER.info('Connected to %s:%s', self._parameters.host,
                    self._parameters.port)
        channel = yield self._connection.channel()
        yield channel.queue_declare(self._queue, auto_delete=True)
        yield channel.basic_qos(prefetch_count=self._count)
        queue, consumer_tag = yield channel.basic_consume(self._queue)

        yield channel.confirm_delivery()
        acks = [
            channel.basic_publish(
                '',
                self._queue,
                b'message %d' % number,
                properties=pika.BasicProperties(content_type='text/plain'))
            for number in range(self._count)
        ]
        yield defer.gatherResults(acks, consumeErrors=True)
        LOGGER.info('%d messages confirmed by the broker', len(acks))

        bodies = []
        while len(bodies) < self._count:
            message = yield queue.get()
            bodies.append(message.body)
            channel.basic_ack(message.method.delivery_tag)
        yield channel.basic_cancel(consumer_tag)
        reason = yield self._connection.close()
        LOGGER.info('Connection closed: %r', reason)
        return bodies


def _parameters(url):
    if url:
        return pika.URLParameters(url)
    return pika.ConnectionParameters(
        host=os.environ.get('PIKA_TEST_HOST', 'localhost'),
        port=int(os.environ.get('PIKA_TEST_PORT', '5672')))


@defer.inlineCallbacks
def main(reactor, args):
    pika_service = PikaService(reactor, _parameters(args.url), args.queue,
                               args.count)
    pika_service.startService()
    try:
        bodies = yield pika_service.finished
    finally:
        yield pika_service.stopService()
    print('received %d messages' % len(bodies))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url', nargs='?', help='AMQP URL of the broker')
    parser.add_argument('--count',
                        type=int,
                        default=int(
                            os.environ.get('PIKA_EXAMPLE_MESSAGES', '10')))
    parser.add_argument('--queue',
                        default='twisted-example-%s' % uuid.uuid4().hex)
    return parser.parse_args()


if __name__ == '__main__':
    logging.basicConfig(level=logging.INFO)
    task.react(main, [parse_args()])
