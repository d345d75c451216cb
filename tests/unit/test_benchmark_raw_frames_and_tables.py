"""Unit tests for the benchmark harness (benchmarks/run.py, _rawamqp.py).

No broker needed: the raw client's frames are checked against this package's
codec, and the table logic against made-up measurements.
"""

import importlib.util
import os

import pytest

from pika import frame, spec

BENCH_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', 'benchmarks'))


def _load(name):
    """Import benchmarks/<name>.py under a name no other test can clash with."""
    module_spec = importlib.util.spec_from_file_location(
        'pika_bench_' + name, os.path.join(BENCH_DIR, name + '.py'))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


_rawamqp = _load('_rawamqp')
run = _load('run')


@pytest.mark.parametrize('size', [0, 1, 64, 131064, 131065, 300000])
def test_raw_publish_frames_match_codec(size):
    body = bytes(range(256)) * (size // 256) + b'x' * (size % 256)
    raw = _rawamqp.publish_frames(3, 'amq.direct', 'rk', body, 131072)
    ours = frame.marshal_content(
        3, spec.Basic.Publish(exchange='amq.direct', routing_key='rk'),
        spec.BasicProperties(), body, 131072)
    # pika sends no body frame for an empty body; the raw helper always
    # sends what it is given, so compare only non-empty bodies in full.
    if size:
        assert raw == ours
    else:
        assert raw.startswith(ours)


def test_raw_frames_decode_with_codec():
    raw = _rawamqp.publish_frames(1, '', 'queue-name', b'b' * 64)
    frames, offset = frame.decode_frames(raw, 0, 131072)
    assert offset == len(raw)
    assert [f.frame_type for f in frames] == [1, 2, 3]
    assert frames[0].method.routing_key == 'queue-name'
    assert frames[1].body_size == 64
    assert frames[2].fragment == b'b' * 64


def test_table_encoding_decodes_as_amqp_table():
    from pika import data
    encoded = _rawamqp._table({'x-expires': 600000, 'x-max-length': 10})
    table, offset = data.decode_table(encoded, 0)
    assert table == {'x-expires': 600000, 'x-max-length': 10}
    assert offset == len(encoded)


def _runs(*values, error=None, cpu=1.0):
    out = [{
        'value': v,
        'unit': 'msg/s',
        'extra': {
            'cpu_us': cpu
        }
    } for v in values]
    if error:
        out.append({'error': error})
    return out


def test_summarise_verdicts_ratios_and_ceiling():
    results = {
        'blocking_publish': {
            'ours': _runs(30000, 40000, 50000, cpu=5.0),
            'pika': _runs(10000, 12000, 30000, cpu=50.0)
        },
        'select_publish': {
            'ours': _runs(60000),
            'pika': _runs(50000)
        },
        'raw_publish': {
            'raw': _runs(60000, 80000, 100000)
        },
    }
    rows = {
        r['name']: r for r in run.summarise(
            results, ['blocking_publish', 'select_publish', 'raw_publish'])
    }
    blocking = rows['blocking_publish']
    assert blocking['ours'] == 40000 and blocking['pika'] == 12000
    assert blocking['verdict'] == 'PASS'
    assert blocking['cpu'] == (5.0, 50.0)
    # the ceiling row is the best raw run; shares pair runs by round
    assert rows['raw_publish']['ours'] == 100000
    assert blocking['raw_frac'] == (0.5, pytest.approx(10000 / 60000))
    # one run against three raw runs cannot be paired: no share, and
    # 1.2x < 1.5x fails anyway
    assert rows['select_publish']['raw_frac'] == (None, None)
    assert rows['select_publish']['verdict'] == 'FAIL'


def test_1mib_publish_share_of_its_own_raw_ceiling():
    results = {
        'publish_1mib': {
            'ours': _runs(1200.0, 1000.0),
            'pika': _runs(800.0, 900.0)
        },
        'raw_publish_1mib': {
            'raw': _runs(1500.0, 1000.0)
        },
        'raw_publish': {
            'raw': _runs(90000, 90000)
        },
        'consume_1mib': {
            'ours': _runs(900.0, 900.0),
            'pika': _runs(400.0, 400.0)
        },
    }
    rows = {
        r['name']: r for r in run.summarise(
            results,
            ['publish_1mib', 'consume_1mib', 'raw_publish', 'raw_publish_1mib'])
    }
    one = rows['publish_1mib']
    # paired with the 1 MiB raw run of the same round, not the 64 B one
    assert one['raw_frac'] == (pytest.approx(
        (0.8 + 1.0) / 2), pytest.approx((800 / 1500 + 0.9) / 2))
    assert rows['raw_publish_1mib']['ours'] == 1500.0
    assert one['verdict'] == 'FAIL'  # 1100 / 850 < 1.5
    # no raw 1 MiB consume ceiling: no share on that row
    assert 'raw_frac' not in rows['consume_1mib']
    assert rows['consume_1mib']['verdict'] == 'PASS'


def test_summarise_error_rows_keep_the_reason():
    results = {
        'basic_get': {
            'ours': [{
                'error': "AttributeError: no 'BlockingConnection'"
            }],
            'pika': _runs(3000)
        },
        'rss_publish': {
            'ours': _runs(25.0),
            'pika': _runs(25.5)
        },
    }
    rows = {
        r['name']: r
        for r in run.summarise(results, ['basic_get', 'rss_publish'])
    }
    assert rows['basic_get']['verdict'] == 'ERROR'
    assert 'BlockingConnection' in rows['basic_get']['note']
    assert rows['rss_publish']['verdict'] == 'PASS'
    text = run.render_text(list(rows.values()))
    assert 'ERROR' in text and 'PASS' in text
    rst = run.render_rst(list(rows.values()))
    assert rst.splitlines()[0].startswith('====')


def test_reason_picks_the_exception_line():
    stderr = ('Traceback (most recent call last):\n'
              '  File "x.py", line 1, in <module>\n'
              '    import pika\n'
              'ModuleNotFoundError: No module named pika.foo\n')
    assert run._reason(
        stderr) == 'ModuleNotFoundError: No module named pika.foo'
    assert run._reason('') == 'failed without a message'


def test_codec_floor_decoder_builds_the_same_frames():
    floor = _load('codec_floor')
    wire = frame.marshal_content(
        1, spec.Basic.Publish(exchange='ex', routing_key='rk'),
        spec.BasicProperties(content_type='text/plain',
                             delivery_mode=2,
                             message_id='m',
                             timestamp=5,
                             headers=floor.HEADERS), b'b' * 100, 131072)
    lean, consumed = floor.lean_decode(wire)
    ours, offset = frame.decode_frames(wire, 0, 131072)
    assert consumed == offset == len(wire)
    assert lean == ours
    assert lean[0].method == ours[0].method
    assert lean[1].properties == ours[1].properties
    assert lean[1].properties.headers == floor.HEADERS
    assert lean[2].fragment == b'b' * 100
