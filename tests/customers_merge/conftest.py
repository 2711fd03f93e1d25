"""Fixtures of the merge tests: a sales rep's customers and the builders' shared rows."""

from __future__ import annotations

import pytest

from tests.customers_merge import builders


@pytest.fixture(autouse=True)
def _fresh_shared_rows():
    """Shared rows belong to one test's database state."""
    builders._shared.clear()
    yield
    builders._shared.clear()
