"""Fixtures of the interactions tests: customers owned by someone in each position."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, UserFactory
from vefa.accounts.choices import Role

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "سلام، این یک تماس تلفنی با مشتری است",
    "\u202egnp.exe",
]

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads of each test go to a private directory (outside any web root)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files", "base_url": None},
        },
    }
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def own_customer(rep, team):
    """A customer owned by ``rep`` in ``rep``'s team."""
    return CustomerFactory(owner=rep, team=team)


@pytest.fixture
def team_customer(rep_same_team, team):
    """A customer of a colleague in ``rep``'s team."""
    return CustomerFactory(owner=rep_same_team, team=team)


@pytest.fixture
def other_customer(rep_other_team, other_team):
    """A customer of another team, hidden from ``rep``."""
    return CustomerFactory(owner=rep_other_team, team=other_team)


@pytest.fixture
def service_agent(team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def marketer(team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def soon():
    """A fixed future moment, rounded to the minute."""
    now = timezone.now().replace(second=0, microsecond=0)
    return now + datetime.timedelta(days=3)


def pdf_file(name: str = "offer.pdf", content: bytes = PDF_BYTES) -> io.BytesIO:
    stream = io.BytesIO(content)
    stream.name = name
    return stream
