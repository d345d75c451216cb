"""The verdicts of benchmarks/aio_vs_aiopika.py from made-up measurements
(no broker, no aio-pika): ratios against aio-pika and the callback adapter,
the pipelined-confirm ratio, errors, and both renderings of the table."""

import importlib.util
import os

BENCH_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', 'benchmarks'))


def _load(name):
    module_spec = importlib.util.spec_from_file_location(
        'pika_bench_' + name, os.path.join(BENCH_DIR, name + '.py'))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


bench = _load('aio_vs_aiopika')


def _runs(*rates, cpu=1.0):
    return [{'value': rate, 'extra': {'cpu_us': cpu}} for rate in rates]


def _results(publish=(90.0, 10.0, 100.0), consume=(50.0, 10.0, 100.0)):
    results = {}
    for row, rates in (('publish', publish), ('consume', consume)):
        for client, rate in zip(bench.CLIENTS, rates):
            results[row, client] = _runs(rate, rate * 2, rate / 2)
    results['confirm', 'aio'] = _runs(1000.0)
    results['confirm_serial', 'aio'] = _runs(99.0)
    return results


def _by_row(table):
    return {line['row']: line for line in table}


def test_targets_pass_and_fail_on_the_ratios():
    table = _by_row(
        bench.summarise(_results(),
                        ['publish', 'confirm', 'confirm_serial', 'consume']))
    publish, consume = table['publish'], table['consume']
    assert publish['aio'] == 90.0  # the median of the three runs
    assert round(publish['vs_aiopika'], 2) == 9.0
    assert round(publish['vs_callback'], 2) == 0.9
    assert publish['verdict'] == 'PASS'
    # 5x aio-pika but only half the callback adapter's rate
    assert consume['verdict'] == 'FAIL'
    confirm = table['confirm']
    assert round(confirm['vs_serial'], 1) == 10.1
    assert confirm['verdict'] == 'PASS'
    assert table['confirm_serial']['verdict'] == ''


def test_pipelined_confirm_below_ten_times_serial_fails():
    results = _results()
    results['confirm_serial', 'aio'] = _runs(101.0)
    table = _by_row(bench.summarise(results, ['confirm', 'confirm_serial']))
    assert table['confirm']['verdict'] == 'FAIL'


def test_failed_runs_show_as_error_with_the_reason():
    results = _results()
    results['publish', 'aio'] = [{'error': 'connection refused'}]
    table = _by_row(bench.summarise(results, ['publish']))
    assert table['publish']['verdict'] == 'ERROR'
    assert table['publish']['notes'] == ['pika.aio: connection refused']


def test_text_and_rst_tables_list_every_row():
    table = bench.summarise(_results(),
                            ['publish', 'confirm', 'confirm_serial', 'consume'])
    text = bench.render(table)
    rst = bench.render(table, rst=True)
    for label, _full, _quick in bench.ROWS.values():
        assert label in text and label in rst
    assert '10.1x serial' in text
    rule = rst.splitlines()[0]
    assert set(rule) == {'=', ' '} and rst.splitlines()[-1] == rule
