#!/usr/bin/env python3
"""Codec benchmark: this repository's pika against pika 1.4.4.

Measures the per-message codec work of a publish: marshalling Basic.Publish +
content header (properties with a headers table) + body into bytes, and
decoding those bytes back into frames. Each implementation runs in its own
subprocess (ours with the repository on ``PYTHONPATH``, pika 1.4.4 from
``benchmarks/.venv-pika144``, made by ``_pika_venv.py``); rounds alternate
between them and the medians are compared.

Usage::

    python3 benchmarks/bench_codec.py [--rounds 7] [--number 20000]

How each side marshals and decodes is what its library does on the publish
and deliver paths, and nothing more:

* marshal -- pika 1.4.4: ``frame.Method(1, method).marshal()``,
  ``frame.Header(1, len(body), properties).marshal()`` and
  ``frame.Body(1, body).marshal()`` (the frames its channel/connection
  marshal for a publish whose body fits one frame), joined into one
  ``bytes``. Ours: ``frame.marshal_content(1, method, properties, body,
  frame_max)``, which its connection calls for every publish and which
  returns the same bytes.
* decode -- pika 1.4.4: its connection's receive loop over one buffer
  holding the three frames: ``frame.decode_frame(buffer)`` then
  ``buffer = buffer[consumed:]`` until the buffer is empty. Ours:
  ``frame.decode_frames(buffer, 0, frame_max)``, which its connection calls
  once per received chunk.
* marshal+decode -- both of the above, one after the other.

The message: Basic.Publish (exchange and routing key set), BasicProperties
with content_type, delivery_mode, message_id, timestamp and a 4-entry
headers table (str, int, bool, str), and a 1 KiB body. Every operation works
on the same objects each time (no per-call input generation on either side).

Timing: ``timeit`` with ``time.process_time``, best of 5 repeats per child
process, median over the rounds. The verdict is on marshal+decode, the
figure the performance target (>= 3.0x) is defined on; the other two are
printed alongside.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from typing import Any, Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FRAME_MAX = 131072
BODY = b'x' * 1024
HEADERS = {
    'x-trace-id': 'c0ffee00-1234-5678-9abc-def012345678',
    'x-retries': 3,
    'x-flag': True,
    'x-source': 'bench',
}


def build_workloads() -> Dict[str, Callable[[], Any]]:
    """Return name -> zero-argument callable, for whatever pika imports."""
    from pika import frame, spec

    method = spec.Basic.Publish(exchange='bench-exchange',
                                routing_key='bench.routing.key')
    properties = spec.BasicProperties(content_type='application/json',
                                      delivery_mode=2,
                                      message_id='msg-0001',
                                      timestamp=1700000000,
                                      headers=HEADERS)
    ours = hasattr(frame, 'marshal_content')

    if ours:
        marshal_content = frame.marshal_content

        def marshal() -> bytes:
            return marshal_content(1, method, properties, BODY, FRAME_MAX)
    else:
        method_frame, header_frame = frame.Method, frame.Header
        body_frame = frame.Body

        def marshal() -> bytes:
            return b''.join((method_frame(1, method).marshal(),
                             header_frame(1, len(BODY), properties).marshal(),
                             body_frame(1, BODY).marshal()))

    wire = marshal()

    if ours:
        decode_frames = frame.decode_frames

        def decode() -> List[Any]:
            frames, offset = decode_frames(wire, 0, FRAME_MAX)
            assert offset == len(wire) and len(frames) == 3
            return frames
    else:
        decode_frame = frame.decode_frame

        def decode() -> List[Any]:
            frames = []
            buffer = wire
            while buffer:
                consumed, decoded = decode_frame(buffer)
                if not consumed:
                    break
                frames.append(decoded)
                buffer = buffer[consumed:]
            assert len(frames) == 3
            return frames

    def roundtrip() -> List[Any]:
        marshal()
        return decode()

    return {'marshal': marshal, 'decode': decode, 'marshal+decode': roundtrip}


def run_child(number: int) -> None:
    """Time every workload (best of 5 repeats, process CPU time, so other
    processes on a shared machine disturb the figures less); print JSON."""
    import pika
    results: Dict[str, Any] = {
        'pika_version': pika.__version__,
        'pika_file': pika.__file__
    }
    for name, func in build_workloads().items():
        func()  # warm up
        best = min(
            timeit.repeat(func,
                          number=number,
                          repeat=5,
                          timer=time.process_time))
        results[name] = best / number * 1e6  # microseconds per op
    print(json.dumps(results))


def run_side(python: str, ours: bool, number: int) -> Dict[str, Any]:
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    if ours:
        env['PYTHONPATH'] = ROOT
    output = subprocess.run(
        [python,
         os.path.abspath(__file__), '--child', '--number',
         str(number)],
        cwd=ROOT if ours else HERE,
        env=env,
        check=True,
        capture_output=True,
        text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--number', type=int, default=20000)
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--pika-python', help='python of a pika 1.4.4 venv')
    args = parser.parse_args()
    if args.child:
        run_child(args.number)
        return 0
    sys.path.insert(0, HERE)
    if args.pika_python:
        pika_python = args.pika_python
    else:
        from _pika_venv import ensure_venv
        pika_python = ensure_venv()
    samples: Dict[str, Dict[str, List[float]]] = {'ours': {}, 'pika': {}}
    for round_number in range(args.rounds):
        order = [('ours', True), ('pika', False)]
        if round_number % 2:
            order.reverse()
        for side, ours in order:
            python = sys.executable if ours else pika_python
            result = run_side(python, ours, args.number)
            if ours and not result['pika_file'].startswith(ROOT):
                raise SystemExit('ours imported %s' % result['pika_file'])
            if not ours and result['pika_version'] != '1.4.4':
                raise SystemExit('reference is pika %s' %
                                 result['pika_version'])
            for name, value in result.items():
                if isinstance(value, float):
                    samples[side].setdefault(name, []).append(value)
    print('codec benchmark: medians of %d rounds, %d ops each '
          '(microseconds per op, lower is better)' % (args.rounds, args.number))
    print('%-16s %10s %12s %8s' % ('workload', 'ours', 'pika 1.4.4', 'speedup'))
    worst = float('inf')
    target = 0.0
    for name in samples['ours']:
        ours_median = statistics.median(samples['ours'][name])
        pika_median = statistics.median(samples['pika'][name])
        ratio = pika_median / ours_median
        worst = min(worst, ratio)
        if name == 'marshal+decode':
            target = ratio
        print('%-16s %10.2f %12.2f %7.2fx' %
              (name, ours_median, pika_median, ratio))
    print('target: marshal+decode >= 3.00x faster: %.2fx -> %s '
          '(lowest of the three: %.2fx)' %
          (target, 'PASS' if target >= 3.0 else 'FAIL', worst))
    return 0


if __name__ == '__main__':
    sys.exit(main())
