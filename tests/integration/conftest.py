"""Fixtures of the asynchronous adapter scenarios.

The ``adapter`` fixture yields one :class:`async_harness.AdapterRunner` per
class in :data:`async_harness.ADAPTER_RUNNERS`, so every scenario taking it
(directly or through ``flow``) runs on every registered adapter. To add an
adapter, write its runner class in async_harness.py (or import it there) and
list it in ``ADAPTER_RUNNERS``. See async_harness.py for the runner and
:class:`async_harness.Flow` API.
"""

from typing import Any

import pytest

from async_harness import ADAPTER_RUNNERS, AdapterRunner, Flow


@pytest.fixture(params=ADAPTER_RUNNERS, ids=lambda cls: cls.name)
def adapter(request: Any) -> Any:
    """An :class:`AdapterRunner` per registered adapter."""
    runner = request.param()
    yield runner
    runner.close()


@pytest.fixture
def flow(adapter: AdapterRunner) -> Flow:
    """A :class:`Flow` on the parametrised adapter."""
    return Flow(adapter)
