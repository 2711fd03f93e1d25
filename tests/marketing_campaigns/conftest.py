"""Fixtures of the campaign, template and report tests: marketers in two teams, segments,
a template, customers and a helper that writes a campaign's recipients by hand."""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.marketing.choices import CampaignStatus, RecipientStatus, SegmentKind
from vefa.marketing.models import (
    Campaign,
    CampaignRecipient,
    MessageTemplate,
    Segment,
    SegmentMember,
    TemplateVersion,
)

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE marketing_campaign; --",
]


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team, full_name="Deniz Marketer")


@pytest.fixture
def marketer_other_team(db, other_team):
    return UserFactory(role=Role.MARKETER, team=other_team, full_name="Jelena Marketer")


@pytest.fixture
def customer(marketer, team):
    return make_customer(
        owner=marketer,
        team=team,
        first_name="Ayşe",
        last_name="Yılmaz",
        primary_email="ayse@example.com",
    )


@pytest.fixture
def segment(marketer, team, customer) -> Segment:
    segment = Segment.objects.create(
        name="Champions", kind=SegmentKind.STATIC, owner=marketer, team=team
    )
    SegmentMember.objects.create(segment=segment, customer=customer)
    return segment


@pytest.fixture
def other_segment(marketer, team) -> Segment:
    return Segment.objects.create(
        name="At risk — win back", kind=SegmentKind.STATIC, owner=marketer, team=team
    )


@pytest.fixture
def template(marketer, team) -> MessageTemplate:
    template = MessageTemplate.objects.create(
        name="Welcome back", owner=marketer, team=team, default_language="en"
    )
    TemplateVersion.objects.create(
        template=template,
        language="en",
        subject="Hello {{ first_name }}",
        body_html="<p>Hello {{ first_name }}</p>",
        body_text="Hello {{ first_name }}",
    )
    return template


def make_campaign(owner: Any, **fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Spring win-back",
        "objective": "win_back",
        "owner": owner,
        "team_id": owner.team_id,
        "currency": "TRY",
    }
    values.update(fields)
    return Campaign.objects.create(**values)


def add_recipient(
    campaign: Campaign,
    customer: Any,
    *,
    status: str = RecipientStatus.SENT,
    sent_at: datetime.datetime | None = None,
    **fields: Any,
) -> CampaignRecipient:
    if status == RecipientStatus.SENT and sent_at is None:
        sent_at = timezone.now()
    return CampaignRecipient.objects.create(
        campaign=campaign,
        customer=customer,
        status=status,
        sent_at=sent_at,
        token=secrets.token_hex(16),
        **fields,
    )


@pytest.fixture
def sent_campaign(marketer):
    started = timezone.now() - datetime.timedelta(days=3)
    return make_campaign(
        marketer,
        status=CampaignStatus.COMPLETED,
        started_at=started,
        audience_drawn_at=started,
        budget=Decimal("1000"),
    )
