"""The core never needs Tornado, Twisted or gevent: only their own adapter
modules import them. Checked in a subprocess where importing those packages
fails, as on an installation without them.
"""

import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import importlib, importlib.abc, sys

    BLOCKED = ('tornado', 'twisted', 'gevent', 'zope')

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in BLOCKED:
                raise ModuleNotFoundError('No module named %r' % name)
            return None

    # A namespace package's .pth file (zope, with Twisted installed) may load
    # it at interpreter start-up, before pika: only pika's imports count.
    preloaded = set(sys.modules)
    sys.meta_path.insert(0, Block())
    core = ['pika', 'pika.adapters', 'pika.connection', 'pika.channel',
            'pika.adapters.base_connection', 'pika.adapters.select_connection',
            'pika.adapters.asyncio_connection',
            'pika.adapters.blocking_connection',
            'pika.adapters.utils.connection_workflow',
            'pika.adapters.utils.selector_ioloop_adapter']
    for name in core:
        importlib.import_module(name)
    loaded = sorted(m for m in sys.modules
                    if m.split('.')[0] in BLOCKED and m not in preloaded)
    assert not loaded, loaded
    for name in ('tornado', 'twisted', 'gevent'):
        try:
            importlib.import_module('pika.adapters.%s_connection' % name)
        except ImportError as error:
            assert name in str(error), error
        else:
            raise AssertionError(name + ' adapter imported without ' + name)
    print('OK')
''')


def test_core_imports_without_optional_event_loops():
    proc = subprocess.run([sys.executable, '-c', SCRIPT],
                          capture_output=True,
                          text=True,
                          timeout=30,
                          cwd=str(ROOT),
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'OK'
