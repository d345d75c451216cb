"""Sphinx configuration of the user guide and API reference.

Build (what ``utils/test.sh`` and Read the Docs run)::

    pip install -e '.[dev]'
    sphinx-build -W -n -b html docs build/docs

The build needs no network: intersphinx reads the Python standard library's
inventory from ``docs/_inventories/`` (see the README there), and the pages
link to docs.python.org.
"""

import os
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(DOCS, '_ext'))

import pika  # noqa: E402

project = 'pika'
author = 'the pika drop-in project contributors'
copyright = '2026, ' + author  # noqa: A001
release = pika.__version__
version = '.'.join(release.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.intersphinx',
    'sphinx.ext.viewcode',
    'pika_docs',
]

intersphinx_mapping = {
    'python': ('https://docs.python.org/3',
               os.path.join(DOCS, '_inventories', 'python-3.11.inv')),
}
# The inventory above is a local file, so nothing is fetched; should a
# remote one ever be added, an offline build must not hang on it.
intersphinx_timeout = 5

autodoc_member_order = 'bysource'
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
}
autodoc_typehints = 'description'
# The optional event loops need not be installed to build the docs.
autodoc_mock_imports = ['tornado', 'twisted', 'gevent', 'zope']

nitpicky = True
nitpick_ignore = [
    # pika 1.4's wording of decode_frame's return value, ":rtype:
    # tuple(bytes consumed, frame)": a description, not a type.
    ('py:class', 'bytes consumed'),
    # Annotations name the loop class where asyncio defines it; Python's
    # inventory lists it only as asyncio.AbstractEventLoop.
    ('py:class', 'asyncio.events.AbstractEventLoop'),
]
nitpick_ignore_regex = [
    # Twisted, Tornado and gevent publish inventories, but only online; the
    # build must work offline (CI, Read the Docs without network access), so
    # their names are shown as written, without a link.
    (r'py:.*', r'(twisted|tornado|gevent|zope)(\..*)?'),
    # Private names (a component starting with "_": TypeVars in annotations
    # such as pika.callback._F, pika.frame._MethodT; private helpers named in
    # the reference sections) are deliberately not documented, so they have
    # no target.
    (r'py:.*', r'(.*\.)?_[A-Za-z]\w*(\..*)?'),
]

exclude_patterns = ['_build', '_inventories', '_ext']
html_theme = 'alabaster'
html_static_path: list = []
html_theme_options = {
    'description': 'AMQP 0-9-1 client, drop-in for pika 1.4.4',
    'fixed_sidebar': True,
}
