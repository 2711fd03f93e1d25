"""Fixtures of the journeys, loyalty and referral tests: a marketer, customers, a programme."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.marketing.models import EarningRule, LoyaltyProgram
from vefa.sales.models import Order
from vefa.sales.services.orders import order_create

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE marketing_pointsentry; --",
]


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team, full_name="Deniz Marketer")


@pytest.fixture
def customer(rep, team):
    return make_customer(
        owner=rep,
        team=team,
        first_name="Ayşe",
        last_name="Yılmaz",
        primary_email="ayse@example.com",
    )


@pytest.fixture
def other_customer(rep_other_team, other_team):
    return make_customer(
        owner=rep_other_team, team=other_team, first_name="Jovana", last_name="Petrović"
    )


@pytest.fixture
def program(db) -> LoyaltyProgram:
    program = LoyaltyProgram.objects.create(
        name="Vefa Club", currency="TRY", point_value=Decimal("0.10"), min_redeem=10
    )
    EarningRule.objects.create(program=program, kind="spend", points=1, per_amount=Decimal("10"))
    return program


def make_order(customer: Any, *, amount: str = "100", currency: str = "TRY") -> Order:
    """A draft order (tax free) of ``amount`` for ``customer``."""
    clerk = UserFactory(role=Role.ADMIN, is_superuser=True)
    return order_create(
        actor=clerk,
        customer=customer.pk,
        lines=[{"description": "Çay", "quantity": "1", "unit_price": amount, "tax_rate": "0"}],
        currency=currency,
        ordered_at=datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC),
    )


def write_message(step: Any) -> None:
    """Give a sending step's campaign a message (a template with one language) to send."""
    from vefa.marketing.models import CampaignVariant, MessageTemplate, TemplateVersion

    if step.campaign_id is None:
        return
    template = MessageTemplate.objects.create(name="Mesaj", channel=step.campaign.channel)
    TemplateVersion.objects.create(
        template=template, language="tr", subject="Merhaba", body_text="Merhaba {{ first_name }}"
    )
    CampaignVariant.objects.create(campaign=step.campaign, template=template)


def add_step(**kwargs: Any) -> Any:
    """``step_add`` whose sending steps also get their message."""
    from vefa.marketing.services.journeys import step_add

    step = step_add(**kwargs)
    write_message(step)
    return step
