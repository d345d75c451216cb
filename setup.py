"""Thin setuptools shim for tools that still call ``setup.py``.

All project metadata lives in ``pyproject.toml``.
"""

from setuptools import setup

setup()
