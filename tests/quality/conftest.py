"""Fixtures of the data-quality tests: customers and leads written through the services (so
the blocking keys follow the domain events), a marketer, and hostile texts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "'; DROP TABLE quality_matchkey; --",
    "\u202egnp.exe",
    "علی‌رضا «ویژه»",
]


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team)


@pytest.fixture
def service_agent(db, team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def create_customer(django_capture_on_commit_callbacks, admin_user):
    """Create a customer through the service, running the after-commit subscribers."""
    from vefa.customers.services import customer_create

    def create(actor: Any = None, *, email: str = "", phone: str = "", **data: Any) -> Any:
        data.setdefault("kind", "person")
        with django_capture_on_commit_callbacks(execute=True):
            return customer_create(actor=actor or admin_user, data=data, email=email, phone=phone)

    return create


@pytest.fixture
def create_lead(django_capture_on_commit_callbacks, admin_user):
    from vefa.customers.services.leads import lead_create

    def create(actor: Any = None, **data: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return lead_create(actor=actor or admin_user, data=data)

    return create
