"""Consent: grants and withdrawals per channel and purpose, an append-only history."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Consent
from vefa.customers.selectors import consent_current, consent_history
from vefa.customers.services import consent_grant, consent_withdraw
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


def test_grant_records_source_text_version_who_and_when(rep, own_customer):
    consent = consent_grant(
        actor=rep,
        customer_id=own_customer.pk,
        channel="email",
        purpose="marketing",
        source="web form",
        text_version="2024-03",
    )
    assert consent.status == "granted"
    assert consent.source == "web form"
    assert consent.text_version == "2024-03"
    assert consent.created_by_id == rep.pk
    assert abs((consent.recorded_at - timezone.now()).total_seconds()) < 5
    assert ChangeLogEntry.objects.get(model="customers.consent").customer_id == own_customer.pk


def test_withdrawal_is_one_call_and_becomes_the_current_state(rep, own_customer):
    consent_grant(
        actor=rep,
        customer_id=own_customer.pk,
        channel="sms",
        purpose="newsletter",
        text_version="v3",
    )
    withdrawn = consent_withdraw(
        actor=rep, customer_id=own_customer.pk, channel="sms", purpose="newsletter"
    )
    current = consent_current(own_customer)
    assert current[("sms", "newsletter")].pk == withdrawn.pk
    assert withdrawn.status == "withdrawn"
    # the withdrawal refers to the wording that was agreed to
    assert withdrawn.text_version == "v3"
    # the history keeps both rows
    assert [c.status for c in consent_history(own_customer)] == ["withdrawn", "granted"]


def test_current_state_is_per_channel_and_purpose(rep, own_customer):
    consent_grant(actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing")
    consent_grant(actor=rep, customer_id=own_customer.pk, channel="phone", purpose="service")
    consent_withdraw(actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing")
    current = consent_current(own_customer)
    assert {k: v.status for k, v in current.items()} == {
        ("email", "marketing"): "withdrawn",
        ("phone", "service"): "granted",
    }


def test_repeating_the_same_state_writes_nothing(rep, own_customer):
    first = consent_grant(
        actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing"
    )
    again = consent_grant(
        actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing"
    )
    assert again.pk == first.pk
    consent_withdraw(actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing")
    consent_withdraw(actor=rep, customer_id=own_customer.pk, channel="email", purpose="marketing")
    assert Consent.objects.count() == 2


def test_a_new_text_version_is_a_new_grant(rep, own_customer):
    consent_grant(
        actor=rep,
        customer_id=own_customer.pk,
        channel="email",
        purpose="marketing",
        text_version="1",
    )
    consent_grant(
        actor=rep,
        customer_id=own_customer.pk,
        channel="email",
        purpose="marketing",
        text_version="2",
    )
    assert Consent.objects.count() == 2
    assert consent_current(own_customer)[("email", "marketing")].text_version == "2"


def test_a_backdated_paper_consent_takes_its_place_in_history(rep, own_customer):
    consent_withdraw(actor=rep, customer_id=own_customer.pk, channel="post", purpose="marketing")
    last_month = timezone.now() - datetime.timedelta(days=30)
    consent_grant(
        actor=rep,
        customer_id=own_customer.pk,
        channel="post",
        purpose="marketing",
        source="paper form",
        recorded_at=last_month,
    )
    # the later withdrawal still decides
    assert consent_current(own_customer)[("post", "marketing")].status == "withdrawn"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "pigeon", "purpose": "marketing"}, "channel"),
        ({"channel": "email", "purpose": "spam"}, "purpose"),
        ({"channel": "email", "purpose": "marketing", "source": "x" * 101}, "source"),
        ({"channel": "email", "purpose": "marketing", "source": 5}, "source"),
        ({"channel": "email", "purpose": "marketing", "text_version": "v" * 51}, "text_version"),
        (
            {
                "channel": "email",
                "purpose": "marketing",
                "recorded_at": timezone.now() + datetime.timedelta(days=2),
            },
            "recorded_at",
        ),
    ],
)
def test_invalid_consent_is_refused(rep, own_customer, kwargs, field):
    with pytest.raises(ValidationFailed) as exc:
        consent_grant(actor=rep, customer_id=own_customer.pk, **kwargs)
    assert field in exc.value.fields
    assert Consent.objects.count() == 0


def test_hidden_customer_is_not_found(rep, other_customer):
    with pytest.raises(NotFound):
        consent_withdraw(
            actor=rep, customer_id=other_customer.pk, channel="email", purpose="marketing"
        )
    assert Consent.objects.count() == 0


def test_read_only_user_cannot_record_consent(read_only, own_customer):
    with pytest.raises(PermissionDenied):
        consent_grant(
            actor=read_only, customer_id=own_customer.pk, channel="email", purpose="marketing"
        )
    assert Consent.objects.count() == 0
    assert ChangeLogEntry.objects.count() == 0
