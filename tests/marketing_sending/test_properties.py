"""Property-based: over generated populations, no message ever goes to a customer without
consent for the channel and purpose, to a suppressed address, or over the contact caps."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.customers.factories import make_customer
from tests.marketing_sending.conftest import grant
from vefa.customers.choices import ConsentStatus
from vefa.customers.models import Consent, Customer
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    Suppression,
)
from vefa.marketing.services.sending import new_token, send_batch

pytestmark = pytest.mark.django_db

_serial = itertools.count()

CONSENT = st.sampled_from(
    [
        "none",
        "granted",
        "withdrawn",
        "granted_then_withdrawn",
        "withdrawn_then_granted",
        "granted_other_purpose",
        "granted_sms_only",
    ]
)
PERSON = st.fixed_dictionaries(
    {
        "consent": CONSENT,
        "earlier": st.integers(min_value=0, max_value=4),
        "days_ago": st.integers(min_value=0, max_value=20),
        "frequency": st.sampled_from([None, 1, 5, 30]),
        "suppressed": st.booleans(),
        "email": st.booleans(),
    }
)


def _consent(customer, kind):
    now = timezone.now()
    earlier = now - datetime.timedelta(days=2)
    if kind == "granted":
        grant(customer)
    elif kind == "withdrawn":
        grant(customer, status=ConsentStatus.WITHDRAWN)
    elif kind == "granted_then_withdrawn":
        grant(customer, at=earlier)
        grant(customer, status=ConsentStatus.WITHDRAWN, at=now)
    elif kind == "withdrawn_then_granted":
        grant(customer, status=ConsentStatus.WITHDRAWN, at=earlier)
        grant(customer, at=now)
    elif kind == "granted_other_purpose":
        grant(customer, purpose="newsletter")
    elif kind == "granted_sms_only":
        grant(customer, channel="sms")


def _may_receive(customer) -> bool:
    latest = (
        Consent.objects.filter(customer=customer, channel="email", purpose="marketing")
        .order_by("-recorded_at", "-id")
        .first()
    )
    return latest is not None and latest.status == ConsentStatus.GRANTED


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(PERSON, min_size=1, max_size=12), cap=st.integers(1, 4))
def test_no_message_without_consent_or_over_the_cap(marketer, template, rules, people, cap):
    rules.cap_messages, rules.cap_days = cap, 7
    rules.save()
    mail.outbox = []
    run = next(_serial)
    earlier_campaign = Campaign.objects.create(
        name="earlier", objective="retention", owner=marketer, status=CampaignStatus.COMPLETED
    )
    campaign = Campaign.objects.create(
        name="now",
        objective="retention",
        owner=marketer,
        status=CampaignStatus.SENDING,
        control_percent=0,
    )
    variant = CampaignVariant.objects.create(campaign=campaign, code="A", template=template)
    customers = []
    now = timezone.now()
    for n, person in enumerate(people):
        address = f"p{run}-{n}@example.com"
        customer = make_customer(
            first_name=f"P{n}",
            primary_email=address if person["email"] else "",
            contact_frequency_days=person["frequency"],
        )
        _consent(customer, person["consent"])
        if person["suppressed"]:
            Suppression.objects.create(channel="email", address=address, reason="manual")
        for k in range(person["earlier"]):
            at = now - datetime.timedelta(days=person["days_ago"], hours=k)
            CampaignRecipient.objects.create(
                campaign=earlier_campaign,
                customer=customer,
                occasion=str(k),
                status=RecipientStatus.SENT,
                token=new_token(),
                sent_at=at,
                claimed_at=at,
            )
        CampaignRecipient.objects.create(
            campaign=campaign, customer=customer, variant=variant, token=new_token()
        )
        customers.append((customer, person, address))
    send_batch(campaign.pk, limit=100)
    received = {m.to[0] for m in mail.outbox}
    for customer, person, address in customers:
        row = CampaignRecipient.objects.get(campaign=campaign, customer=customer)
        got = address in received
        assert got == (row.status == RecipientStatus.SENT)
        if got:
            assert _may_receive(customer), person
            assert not person["suppressed"]
            window = now - datetime.timedelta(days=7)
            counted = CampaignRecipient.objects.filter(
                customer=customer, status=RecipientStatus.SENT, sent_at__gte=window
            ).count()
            assert counted <= cap, (person, cap)
            if person["frequency"] and person["earlier"]:
                assert person["days_ago"] >= person["frequency"]
        else:
            assert row.status != RecipientStatus.PENDING or row.not_before is not None
    Customer.objects.filter(pk__in=[c.pk for c, _p, _a in customers]).delete()
    Campaign.objects.filter(pk__in=[campaign.pk, earlier_campaign.pk]).delete()
    Suppression.objects.all().delete()
