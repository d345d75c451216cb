"""The Twisted adapter behaves as pika 1.4.4 does.

The scenario runs in a child interpreter (the global reactor cannot be
restarted, and other test modules may own it); it prints one JSON object of
observations that were first recorded on pika 1.4.4 against the same broker.
"""

import json
import os
import subprocess
import sys
import textwrap

HOST = os.environ.get('PIKA_TEST_HOST', '127.0.0.1')
PORT = int(os.environ.get('PIKA_TEST_PORT', '5672'))

SCRIPT = textwrap.dedent('''
    import json, sys, uuid
    import pika
    from pika import exceptions, spec
    from pika.adapters.twisted_connection import (TwistedChannel,
                                                  TwistedProtocolConnection)
    from twisted.internet import defer, protocol, reactor, task

    HOST, PORT = sys.argv[1], int(sys.argv[2])
    seen = {}

    @defer.inlineCallbacks
    def main():
        params = pika.ConnectionParameters(HOST, PORT)
        creator = protocol.ClientCreator(reactor, TwistedProtocolConnection,
                                         params)
        proto = yield creator.connectTCP(HOST, PORT)
        ready = yield proto.ready
        seen['ready_is_proto'] = ready is proto
        ch = yield proto.channel()
        seen['channel'] = [type(ch).__name__, ch.channel_number, ch.is_open]
        queue = 'accept-tw-' + uuid.uuid4().hex
        frame = yield ch.queue_declare(queue,
                                       arguments={'x-expires': 30000})
        seen['declare'] = [type(frame).__name__, type(frame.method).__name__,
                           frame.method.queue == queue]
        frame = yield ch.basic_qos(prefetch_count=2)
        seen['qos'] = type(frame.method).__name__
        deferred = ch.basic_publish('', queue, b'hello',
                                    pika.BasicProperties(content_type='t'))
        seen['publish_type'] = type(deferred).__name__
        seen['publish_result'] = repr((yield deferred))
        result = yield ch.basic_get(queue, auto_ack=False)
        seen['get'] = [result[0] is ch, type(result[1]).__name__,
                       result[1].delivery_tag, result[2].content_type,
                       result[3].decode()]
        seen['get_empty'] = repr((yield ch.basic_get(queue)))
        queue_object, tag = yield ch.basic_consume(queue, auto_ack=False)
        seen['consume'] = [type(queue_object).__name__,
                           tag.startswith('ctag1.')]
        ch.basic_publish('', queue, b'c1')
        item = yield queue_object.get()
        seen['item'] = [item[0] is ch, type(item[1]).__name__,
                        item[1].consumer_tag == tag, item[3].decode()]
        seen['ack'] = repr(ch.basic_ack(item[1].delivery_tag))
        frame = yield ch.basic_cancel(tag)
        seen['cancel'] = type(frame.method).__name__
        try:
            yield queue_object.get()
        except Exception as error:
            seen['get_after_cancel'] = type(error).__name__
        frame = yield ch.confirm_delivery()
        seen['confirm'] = type(frame.method).__name__
        result = yield ch.basic_publish('', queue, b'confirmed')
        seen['confirmed'] = [type(result).__name__, result.delivery_tag]
        try:
            yield ch.basic_publish('', 'nonexistent-' + queue, b'x',
                                   mandatory=True)
        except exceptions.UnroutableError as error:
            seen['unroutable'] = [list(error.args),
                                  [type(m).__name__ for m in error.messages]]
        try:
            yield ch.queue_declare('nonexistent-' + queue, passive=True)
        except Exception as error:
            seen['passive_404'] = [type(error).__name__, list(error.args)]
        seen['closed_state'] = [ch.is_open, ch.is_closed]
        try:
            yield ch.queue_declare('x')
        except Exception as error:
            seen['after_close'] = [type(error).__name__, error.args[0]]
        ch2 = yield proto.channel()
        returned = []
        ch2.add_on_return_callback(lambda *args: returned.append(args))
        yield ch2.basic_publish('', 'nonexistent-' + queue, b'r',
                                mandatory=True)
        yield task.deferLater(reactor, 0.3, lambda: None)
        (message,) = returned[0]
        seen['returned'] = [len(returned), type(message).__name__,
                            message[0] is ch2, type(message[1]).__name__,
                            message[1].reply_code, message[3].decode()]
        seen['ch2_close'] = repr((yield ch2.close()))
        ch3 = yield proto.channel()
        queue3, _ = yield ch3.basic_consume(queue, auto_ack=True)
        pending = queue3.get()
        ch3.close()
        try:
            yield pending
        except Exception as error:
            seen['pending_get'] = [type(error).__name__, list(error.args)]
        ch4 = yield proto.channel()
        seen['ch4_number'] = ch4.channel_number
        frame = yield ch4.tx_select()
        seen['tx'] = type(frame.method).__name__
        seen['flow'] = repr((yield ch4.flow(True)))
        yield ch4.queue_delete(queue)
        proto.close()
        reason = yield proto.closed
        seen['closed'] = type(reason).__name__
        seen['ch4_closed'] = ch4.is_closed

    def run():
        deferred = main()
        deferred.addErrback(lambda failure: seen.setdefault(
            'error', repr(failure.value)))
        deferred.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.callLater(20, reactor.stop)
    reactor.run()
    print(json.dumps(seen))
''')


def test_twisted_adapter_flow() -> None:
    result = subprocess.run(
        [sys.executable, '-c', SCRIPT, HOST,
         str(PORT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([
                os.path.dirname(
                    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            ] + [p for p in sys.path if p])))
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert 'error' not in seen, seen['error']
    assert seen['ready_is_proto'] is True
    assert seen['channel'] == ['TwistedChannel', 1, True]
    assert seen['declare'] == ['Method', 'DeclareOk', True]
    assert seen['qos'] == 'QosOk'
    assert seen['publish_type'] == 'Deferred'
    assert seen['publish_result'] == 'None'
    assert seen['get'] == [True, 'GetOk', 1, 't', 'hello']
    assert seen['get_empty'] == 'None'
    assert seen['consume'] == ['ClosableDeferredQueue', True]
    assert seen['item'] == [True, 'Deliver', True, 'c1']
    assert seen['ack'] == 'None'
    assert seen['cancel'] == 'CancelOk'
    assert seen['get_after_cancel'] == 'ConsumerCancelled'
    assert seen['confirm'] == 'SelectOk'
    assert seen['confirmed'] == ['Ack', 1]
    assert seen['unroutable'] == [['1 unroutable message(s) returned'],
                                  ['ReceivedMessage']]
    assert seen['passive_404'][0] == 'ChannelClosedByBroker'
    assert seen['passive_404'][1][0] == 404
    assert seen['closed_state'] == [False, True]
    assert seen['after_close'] == ['ChannelClosedByBroker', 404]
    assert seen['returned'] == [1, 'ReceivedMessage', True, 'Return', 312, 'r']
    assert seen['ch2_close'] == 'None'
    assert seen['pending_get'] == [
        'ChannelClosedByClient', [0, 'Normal shutdown']
    ]
    assert seen['ch4_number'] == 2
    assert seen['tx'] == 'SelectOk'
    assert seen['flow'] == 'True'
    assert seen['closed'] == 'ConnectionDone'
    assert seen['ch4_closed'] is True
