"""Fixtures of the sending tests: a marketer, consenting customers on a static list, an
e-mail template with two languages and a campaign to the list."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.customers.choices import ConsentStatus
from vefa.customers.models import Consent
from vefa.marketing.choices import CampaignStatus
from vefa.marketing.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    MarketingSettings,
    MessageTemplate,
    Segment,
    SegmentMember,
    TemplateVersion,
)
from vefa.marketing.services.sending import new_token

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "'; DROP TABLE marketing_campaign; --",
    "{{ unsubscribe_url }}{% if 1 %}x{% endif %}",
]


@pytest.fixture
def marketer(db, team):
    return UserFactory(role=Role.MARKETER, team=team, full_name="Deniz Marketer")


@pytest.fixture(autouse=True)
def _run_jobs_on_commit(request):
    """Jobs are queued after commit; a test's transaction never commits, so run them when
    the callbacks are registered."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        yield
        return
    from unittest import mock

    from django.db import transaction

    with mock.patch.object(transaction, "on_commit", lambda func, using=None, robust=False: func()):
        yield


@pytest.fixture
def rules(db) -> MarketingSettings:
    """Quiet hours that never apply (00:00–00:00) unless a test sets them."""
    return MarketingSettings.objects.create(
        pk=1,
        quiet_hours_start=datetime.time(0, 0),
        quiet_hours_end=datetime.time(0, 0),
        from_email="news@vefa.example",
        from_name="Vefa Shop",
        send_rate=10_000,
    )


def grant(customer, channel="email", purpose="marketing", status=ConsentStatus.GRANTED, at=None):
    return Consent.objects.create(
        customer=customer,
        channel=channel,
        purpose=purpose,
        status=status,
        source="test",
        text_version="1",
        recorded_at=at or timezone.now(),
    )


def customer_with_consent(n: int, **fields):
    fields.setdefault("first_name", f"Ayşe{n}")
    fields.setdefault("last_name", "Yılmaz")
    fields.setdefault("primary_email", f"c{n}@example.com")
    customer = make_customer(**fields)
    grant(customer)
    return customer


def sending_campaign(owner, template, customers, name: str = "Spring sale") -> Campaign:
    """A campaign being sent, one variant, every customer a pending recipient."""
    campaign = Campaign.objects.create(
        name=name,
        objective="retention",
        channel="email",
        owner=owner,
        status=CampaignStatus.SENDING,
        control_percent=0,
    )
    variant = CampaignVariant.objects.create(campaign=campaign, code="A", template=template)
    CampaignRecipient.objects.bulk_create(
        [
            CampaignRecipient(campaign=campaign, customer=c, variant=variant, token=new_token())
            for c in customers
        ]
    )
    return campaign


@pytest.fixture
def template(db, marketer) -> MessageTemplate:
    template = MessageTemplate.objects.create(
        name="Spring", channel="email", default_language="tr", owner=marketer
    )
    TemplateVersion.objects.create(
        template=template,
        language="tr",
        subject="Merhaba {{ first_name }}",
        body_html='<p>Merhaba {{ first_name }} from {{ city|default:"?" }}</p>'
        '<a href="https://shop.example/spring?x=1">Shop</a>'
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
    )
    TemplateVersion.objects.create(
        template=template,
        language="en",
        subject="Hello {{ first_name }}",
        body_html='<p>Hello {{ first_name }}</p><a href="https://shop.example/spring">Shop</a>',
        body_text="Hello {{ first_name }}\nhttps://shop.example/spring",
    )
    return template


def make_campaign(owner, template, customers, **fields) -> Campaign:
    segment = Segment.objects.create(name="List", kind="static", owner=owner)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, customer=c) for c in customers]
    )
    fields.setdefault("control_percent", 0)
    campaign = Campaign.objects.create(
        name="Spring sale", objective="retention", channel=template.channel, owner=owner, **fields
    )
    campaign.segments.add(segment)
    CampaignVariant.objects.create(campaign=campaign, code="A", template=template, weight=50)
    return campaign
