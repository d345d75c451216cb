"""The broker sees which library connected: ``rabbitmqctl list_connections``.

The client properties have the keys pika 1.4.4 sends, in its order, and
values naming this library and its own version (observed for pika 1.4.4 on
the same broker: ``product`` "Pika Python Client Library", ``version``
"1.4.4").
"""

import re
import shutil
import subprocess
import time
import uuid

import pika
from blocking_support import connect

KEYS_AS_PIKA_SENDS_THEM = [
    'product', 'platform', 'capabilities', 'information', 'version',
    'connection_name'
]


def _client_properties(connection_name: str) -> str:
    ctl = shutil.which('rabbitmqctl') or '/usr/sbin/rabbitmqctl'
    for _ in range(50):
        listing = subprocess.run(
            [ctl, '-q', 'list_connections', 'client_properties'],
            capture_output=True,
            text=True,
            timeout=30,
            check=True).stdout
        for line in listing.splitlines():
            if '"%s"' % connection_name in line:
                return line
        time.sleep(0.2)
    raise AssertionError('connection %r not listed by the broker' %
                         connection_name)


def test_broker_lists_product_and_version_of_this_library() -> None:
    name = 'identity-test-%s' % uuid.uuid4().hex
    conn = connect(client_properties={'connection_name': name})
    try:
        listed = _client_properties(name)
    finally:
        conn.close()
    keys = re.findall(r'\{"([a-z_]+)",', listed)
    top_level = [key for key in keys if key in KEYS_AS_PIKA_SENDS_THEM]
    assert top_level == KEYS_AS_PIKA_SENDS_THEM
    assert ('{"product","pika drop-in: pure-Python AMQP 0-9-1 client '
            '(pika 1.4 compatible)"}') in listed
    assert '{"version","%s"}' % pika.__version__ in listed
    assert 'Pika Python Client Library' not in listed
    assert '{"publisher_confirms",true}' in listed
