"""Sphinx configuration: the documentation is built from the docstrings.

Build with ``pip install -e '.[docs]'`` then
``sphinx-build -b html docs build/docs`` from the repository root.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import pika  # noqa: E402

project = 'pika'
author = 'the pika drop-in project contributors'
copyright = '2026, ' + author  # noqa: A001
release = pika.__version__
version = '.'.join(release.split('.')[:2])

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.viewcode',
]
autodoc_member_order = 'bysource'
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
}
autodoc_typehints = 'description'
# The optional event loops need not be installed to build the docs.
autodoc_mock_imports = ['tornado', 'twisted', 'gevent', 'zope']

exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path: list = []
