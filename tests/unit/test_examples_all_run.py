"""Every program under examples/ is run against the broker by some test.

The user guide shows each example as a page (docs/_ext/pika_docs.py) and
promises that they work; this keeps the promise checked: an example that
no integration test runs fails here, naming the file. A test runs an
example when it names its file (``'blocking_publish.py'``, or the stem
passed to a loader such as ``_load('asynchronous_consumer_example')``).
This reads the sources of tests/integration only; it needs no broker.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'examples'
INTEGRATION = ROOT / 'tests' / 'integration'


def _example_names():
    return sorted(path.name
                  for path in EXAMPLES.glob('*.py')
                  if not path.name.startswith('_'))


def _test_sources():
    return {
        path.name: path.read_text(encoding='utf-8')
        for path in INTEGRATION.glob('test_*.py')
    }


def _mentions(source, example):
    stem = example[:-3]
    return bool(re.search(r"""['"/]%s(\.py)?['"]""" % re.escape(stem), source))


def test_every_example_is_run_by_an_integration_test():
    sources = _test_sources()
    examples = _example_names()
    assert len(examples) >= 16, examples
    not_run = [
        example for example in examples
        if not any(_mentions(text, example) for text in sources.values())
    ]
    assert not_run == [], ('examples no integration test runs: %s' %
                           ', '.join(not_run))


def test_every_example_has_a_docstring_for_its_page():
    import ast
    missing = [
        name for name in _example_names() if not ast.get_docstring(
            ast.parse((EXAMPLES / name).read_text(encoding='utf-8')))
    ]
    assert missing == []
