"""``import pika`` makes the same submodules reachable as pika 1.4.4 does.

pika 1.4.4's ``import pika`` loads these modules as a side effect, so
programs written for it use them as attributes (``pika.callback``,
``pika.adapters.asyncio_connection.AsyncioConnection``) without importing
them. The list is what ``sys.modules`` holds after ``import pika`` with
pika 1.4.4 installed.
"""

import subprocess
import sys

PIKA_144_MODULES_AFTER_IMPORT = [
    'pika.adapters', 'pika.adapters.asyncio_connection',
    'pika.adapters.base_connection', 'pika.adapters.blocking_connection',
    'pika.adapters.select_connection', 'pika.adapters.utils',
    'pika.adapters.utils.connection_workflow',
    'pika.adapters.utils.io_services_utils',
    'pika.adapters.utils.nbio_interface',
    'pika.adapters.utils.selector_ioloop_adapter', 'pika.amqp_object',
    'pika.callback', 'pika.channel', 'pika.compat', 'pika.connection',
    'pika.credentials', 'pika.data', 'pika.delivery_mode',
    'pika.diagnostic_utils', 'pika.exceptions', 'pika.exchange_type',
    'pika.frame', 'pika.heartbeat', 'pika.spec', 'pika.tcp_socket_opts',
    'pika.validators'
]


def test_every_submodule_pika_loads_is_an_attribute_after_import_pika():
    # A fresh interpreter: this test process has imported more already.
    script = ('import functools, pika\n'
              'for name in %r:\n'
              '    functools.reduce(getattr, name.split(".")[1:], pika)\n'
              'print("ok")\n' % (PIKA_144_MODULES_AFTER_IMPORT,))
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True,
                            text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'ok\n'
