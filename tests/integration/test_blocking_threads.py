"""BlockingConnection with threads: one connection per thread, many threads
at once; a consumer handing work to worker threads that acknowledge through
add_callback_threadsafe while heartbeats keep the connection alive."""

import functools
import queue as queue_module
import threading
import time

from pika import spec

from blocking_support import connect, unique


def test_one_connection_per_thread_many_threads():
    thread_count = 8
    messages = 50
    errors = []
    results = {}

    def worker(index):
        try:
            with connect() as conn:
                channel = conn.channel()
                channel.confirm_delivery()
                queue = channel.queue_declare('', exclusive=True).method.queue
                for i in range(messages):
                    channel.basic_publish('', queue, b'%d-%d' % (index, i))
                received = []
                for method, _, body in channel.consume(queue,
                                                       inactivity_timeout=5):
                    if method is None:
                        break
                    received.append(body)
                    channel.basic_ack(method.delivery_tag)
                    if len(received) == messages:
                        break
                channel.cancel()
                results[index] = received
        except Exception as error:  # reported below
            errors.append((index, error))

    threads = [
        threading.Thread(target=worker, args=(i,)) for i in range(thread_count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == list(range(thread_count))
    for index, received in results.items():
        assert received == [b'%d-%d' % (index, i) for i in range(messages)]


def test_worker_threads_ack_through_add_callback_threadsafe():
    """A 5 s job with heartbeat=2: the consumer thread keeps answering
    heartbeats while the worker runs, then the worker's ack goes through."""
    conn = connect(heartbeat=2)
    channel = conn.channel()
    channel.basic_qos(prefetch_count=2)
    queue = channel.queue_declare(unique('work'), exclusive=True).method.queue
    channel.basic_publish('', queue, b'5')
    channel.basic_publish('', queue, b'0.1')
    jobs = queue_module.Queue()
    done = []
    ack_threads = []

    def ack(delivery_tag, body):
        ack_threads.append(threading.get_ident())
        channel.basic_ack(delivery_tag)
        done.append(body)
        if len(done) == 2:
            channel.stop_consuming()

    def work():
        while True:
            job = jobs.get()
            if job is None:
                return
            delivery_tag, body = job
            time.sleep(float(body))
            conn.add_callback_threadsafe(
                functools.partial(ack, delivery_tag, body))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for thread in workers:
        thread.start()

    def on_message(ch, method, properties, body):
        assert isinstance(method, spec.Basic.Deliver)
        jobs.put((method.delivery_tag, body))

    channel.basic_consume(queue, on_message)
    start = time.monotonic()
    try:
        channel.start_consuming()
    finally:
        for _ in workers:
            jobs.put(None)
        for thread in workers:
            thread.join(10)
    elapsed = time.monotonic() - start
    assert done == [b'0.1', b'5']
    assert set(ack_threads) == {threading.get_ident()}
    assert 4.5 < elapsed < 10
    assert conn.is_open
    # both acks reached the broker: nothing left to redeliver
    assert channel.queue_declare(queue, passive=True).method.message_count == 0
    conn.close()
