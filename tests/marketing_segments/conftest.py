"""Fixtures of the segment tests: a marketer, customers in two teams, hostile texts."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE marketing_segment; --",
]


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team, full_name="Deniz Marketer")


@pytest.fixture
def other_marketer(db, other_team):
    return UserFactory(role=Role.MARKETER, team=other_team, full_name="Milan Marketer")


@pytest.fixture
def ankara(rep, team):
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz", city="Ankara")


@pytest.fixture
def izmir(rep, team):
    return make_customer(owner=rep, team=team, first_name="Mehmet", last_name="Kaya", city="İzmir")


@pytest.fixture
def hidden(rep_other_team, other_team):
    """A customer of another team: ``rep`` may not see it."""
    return make_customer(
        owner=rep_other_team,
        team=other_team,
        first_name="Jovana",
        last_name="Petrović",
        city="Ankara",
    )
