"""Fixtures of the customers tests: customers in each position relative to ``rep``."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer, make_lead
from tests.factories import UserFactory
from vefa.accounts.choices import Role

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی",
    "\u202egnp.exe",
]


@pytest.fixture
def own_customer(rep, team):
    """A person owned by ``rep`` in ``rep``'s team."""
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")


@pytest.fixture
def team_customer(rep_same_team, team):
    """A person owned by a colleague in ``rep``'s team."""
    return make_customer(owner=rep_same_team, team=team, first_name="Mehmet", last_name="Kaya")


@pytest.fixture
def other_customer(rep_other_team, other_team):
    """A person of another team, hidden from ``rep``."""
    return make_customer(
        owner=rep_other_team, team=other_team, first_name="Jovana", last_name="Petrović"
    )


@pytest.fixture
def organisation(rep, team):
    return make_customer(owner=rep, team=team, kind="organisation", trade_name="Acme Ltd")


@pytest.fixture
def service_agent(team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def marketer(team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def own_lead(rep, team):
    return make_lead(owner=rep, team=team, first_name="Deniz", last_name="Arslan")


@pytest.fixture
def other_lead(rep_other_team, other_team):
    return make_lead(owner=rep_other_team, team=other_team, first_name="Marko", last_name="Ilić")
