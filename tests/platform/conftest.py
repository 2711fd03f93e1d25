"""Fixtures of the platform tests."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی در تهران",
    "\u202egnp.exe",
    "x" * 10_000,
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the after-commit work (domain events, queued tasks) of the block at its end."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def service_agent(team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def rep_no_team(db):
    return UserFactory(role=Role.SALES_REP, team=None)
