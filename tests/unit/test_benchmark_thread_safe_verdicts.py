"""The verdicts of benchmarks/thread_safe.py from made-up measurements (no
broker, no pika 1.4.4): one-thread publish against our BlockingConnection,
8-thread confirmed publish against pika 1.4.4's one-thread confirmed
publish, missing figures, and both renderings of the table."""

import importlib.util
import os
import sys

BENCH_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', 'benchmarks'))


def _load(name):
    sys.path.insert(0, BENCH_DIR)
    try:
        module_spec = importlib.util.spec_from_file_location(
            'pika_bench_' + name, os.path.join(BENCH_DIR, name + '.py'))
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(BENCH_DIR)
    return module


bench = _load('thread_safe')
ALL_ROWS = list(bench.ROWS)


def _runs(*rates, cpu=2.0):
    return [{'value': rate, 'extra': {'cpu_us': cpu}} for rate in rates]


def _results(publish1=(80.0, 100.0), confirm8=31.0, pika_confirm1=10.0):
    """publish1: (thread-safe, Blocking) medians; the rest fixed."""
    results = {}
    for row in ALL_ROWS:
        for client in bench.CLIENTS:
            if bench.runs_row(client, row):
                results[row, client] = _runs(50.0)
    ts_rate, blocking_rate = publish1
    # three runs each: the median is the middle one
    results['publish1', 'ts'] = _runs(ts_rate, ts_rate * 2, ts_rate / 2)
    results['publish1', 'blocking'] = _runs(blocking_rate)
    results['confirm8', 'ts'] = _runs(confirm8, cpu=5.0)
    results['confirm1', 'pika'] = _runs(pika_confirm1)
    return results


def _by_row(table):
    return {line['row']: line for line in table}


def test_both_targets_pass():
    table = _by_row(bench.summarise(_results(), ALL_ROWS))
    publish = table['publish1']
    assert publish['ts'] == 80.0
    assert round(publish['vs_blocking'], 2) == 0.8
    assert publish['verdict'] == 'PASS'
    confirm = table['confirm8']
    assert round(confirm['vs_pika_confirm1'], 1) == 3.1
    assert confirm['ts_cpu'] == 5.0
    assert confirm['verdict'] == 'PASS'
    # rows without a target carry no verdict
    assert table['consume']['verdict'] == ''
    assert table['publish8']['blocking'] is None


def test_slow_one_thread_publish_fails():
    table = _by_row(
        bench.summarise(_results(publish1=(74.0, 100.0)), ['publish1']))
    assert table['publish1']['verdict'] == 'FAIL'


def test_confirm8_under_three_times_pika_fails_even_when_confirm1_not_shown():
    table = _by_row(
        bench.summarise(_results(confirm8=29.0, pika_confirm1=10.0),
                        ['confirm8']))
    assert round(table['confirm8']['vs_pika_confirm1'], 1) == 2.9
    assert table['confirm8']['verdict'] == 'FAIL'


def test_missing_baseline_is_an_error_with_the_reason():
    results = _results()
    results['confirm1', 'pika'] = [{'error': 'connection refused'}]
    table = _by_row(bench.summarise(results, ['confirm1', 'confirm8']))
    assert table['confirm8']['verdict'] == 'ERROR'
    assert table['confirm1']['notes'] == [
        'pika 1.4.4 Blocking: connection refused'
    ]


def test_blocking_clients_skip_the_eight_thread_rows():
    assert not bench.runs_row('blocking', 'confirm8')
    assert not bench.runs_row('pika', 'publish8')
    assert bench.runs_row('handoff', 'confirm8')
    assert bench.runs_row('ts', 'publish8')


def test_text_and_rst_tables_list_every_row():
    table = bench.summarise(_results(), ALL_ROWS)
    text = bench.render(table)
    rst = bench.render(table, rst=True)
    for label, _full, _quick in bench.ROWS.values():
        assert label in text and label in rst
    assert '3.1x pika confirm 1 thread' in text
    lines = rst.splitlines()
    assert set(lines[0]) == {'=', ' '} and lines[-1] == lines[0]
    assert len(lines) == len(ALL_ROWS) + 4
