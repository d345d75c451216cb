"""This library's own identity: its version, and what it tells the broker.

The import name is ``pika`` (a drop-in for pika 1.4.4), but the code is not
pika's, so it has a version of its own: ``2.0.0b1``, a PEP 440 pre-release of
a new major version (beta: pika 1.4.4's API is complete, the implementation
is new). It sorts above every pika 1.x (so ``pip install -U``
does not replace it with pika 1.4.4, and requirements such as ``pika>=1.0``
are met) and, being a pre-release and not ``1.4.4.postN``, does not claim to
be a packaging fix of pika 1.4.4. ``pika.__version__`` is this string.

The broker sees the same identity in the ``client-properties`` of
``Connection.StartOk``: the keys are the ones pika 1.4.4 sends (``product``,
``platform``, ``capabilities``, ``information``, ``version``), the values say
which library this is (``rabbitmqctl list_connections client_properties``,
or the management UI's connection page, shows them).

A layer-0 module (no imports), read by the handshake and by the packaging
(``pyproject.toml`` takes the version from here without importing ``pika``).
"""

__version__ = '2.0.0b1'

PRODUCT = 'pika drop-in: pure-Python AMQP 0-9-1 client (pika 1.4 compatible)'

INFORMATION = ('A drop-in replacement for pika 1.4.4, not pika itself; '
               "pika 1.4's documentation applies: https://pika.readthedocs.io")
