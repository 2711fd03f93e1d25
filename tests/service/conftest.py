"""Fixtures of the service tests: agents in two teams, a queue per team, customers."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.service.models import BusinessCalendar, Queue

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE service_ticket; --",
]


@pytest.fixture
def agent(db, team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team, full_name="Zeynep Agent")


@pytest.fixture
def agent_same_team(db, team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team, full_name="Emre Agent")


@pytest.fixture
def agent_other_team(db, other_team):
    return UserFactory(role=Role.SERVICE_AGENT, team=other_team, full_name="Milica Agent")


@pytest.fixture
def calendar(db) -> BusinessCalendar:
    """Istanbul office hours, Monday to Friday 09:00–18:00."""
    day = [["09:00", "18:00"]]
    return BusinessCalendar.objects.create(
        name="Istanbul office",
        time_zone="Europe/Istanbul",
        hours={str(d): day for d in range(1, 6)},
    )


@pytest.fixture
def queue(db, team, calendar) -> Queue:
    return Queue.objects.create(
        name="Support",
        team=team,
        calendar=calendar,
        email_address="support@vefa.example",
        is_default=True,
    )


@pytest.fixture
def other_queue(db, other_team, calendar) -> Queue:
    return Queue.objects.create(name="Belgrade support", team=other_team, calendar=calendar)


@pytest.fixture
def customer(agent, team):
    return make_customer(
        owner=agent,
        team=team,
        first_name="Ayşe",
        last_name="Yılmaz",
        primary_email="ayse@example.com",
    )


@pytest.fixture
def other_customer(agent_other_team, other_team):
    return make_customer(
        owner=agent_other_team, team=other_team, first_name="Jovana", last_name="Petrović"
    )
