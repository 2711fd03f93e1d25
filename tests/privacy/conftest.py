"""Fixtures of the privacy tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _clean_data_dir():
    """Each test starts and ends with an empty file store (files are scanned for traces)."""
    for sub in ("files", "analytics"):
        shutil.rmtree(Path(settings.DATA_DIR) / sub, ignore_errors=True)
    yield
    for sub in ("files", "analytics"):
        shutil.rmtree(Path(settings.DATA_DIR) / sub, ignore_errors=True)


@pytest.fixture
def world(admin_user):
    from tests.privacy.world import build_world

    return build_world(admin_user)
