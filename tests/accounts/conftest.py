"""Fixtures of the accounts tests: records of every kind owned by someone, logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.customers.models import Address, Lead
from vefa.interactions.models import Activity, Interaction

PASSWORD = "correct-horse-battery"  # the password tests/factories.py gives every user

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — مشتری «ویژه»",
    "\"'><img src=x onerror=alert(2)>",
]


def make_record(policy: str, *, owner, team):
    """A record under ``policy`` whose owner is ``owner`` and whose team is ``team``."""
    if policy == "customers.customer":
        return CustomerFactory(owner=owner, team=team)
    if policy == "customers.lead":
        return Lead.objects.create(first_name="Lale", last_name="Demir", owner=owner, team=team)
    if policy == "interactions.interaction":
        # An interaction is owned by whoever recorded it; its team is its customer's.
        customer = CustomerFactory(owner=None, team=team)
        return Interaction.objects.create(
            customer=customer, kind="call", subject="Call", user=owner
        )
    if policy == "interactions.activity":
        return Activity.objects.create(kind="task", subject="Follow up", owner=owner, team=team)
    raise AssertionError(policy)


def make_address(*, owner, team) -> Address:
    customer = CustomerFactory(owner=owner, team=team)
    return Address.objects.create(
        customer=customer, kind="home", line1="Bağdat Cd. 1", city="İstanbul", country="TR"
    )


@pytest.fixture
def stranger(db, other_team):
    """Someone in another team who owns the "other" records."""
    return UserFactory(role=Role.SALES_REP, team=other_team, full_name="Zoran Stranger")


@pytest.fixture
def teammate(db, team):
    return UserFactory(role=Role.SALES_REP, team=team, full_name="Tülay Teammate")


@pytest.fixture
def loner(db):
    return UserFactory(role=Role.SALES_REP, team=None, full_name="Lone Rep")


@pytest.fixture
def third_team(db):
    return TeamFactory(name="West")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_(admin_user) -> Client:
    return login(admin_user)


@pytest.fixture
def rep_client(rep) -> Client:
    return login(rep)
