"""Launching and sending: consent, caps, suppression, quiet hours, headers, history."""

from __future__ import annotations

import datetime
import email

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.marketing_sending.conftest import customer_with_consent, grant, make_campaign
from vefa.common.errors import ValidationFailed
from vefa.customers.choices import ConsentStatus
from vefa.interactions.models import Interaction
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import CampaignRecipient, Suppression
from vefa.marketing.selectors.sending import quiet_until
from vefa.marketing.services.sending import (
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    send_batch,
    send_to_customers,
)

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@override_settings(EMAIL_BACKEND=LOCMEM, VEFA_BASE_URL="https://crm.example")
def test_launch_sends_once_to_each_consenting_customer(marketer, template, rules):
    good = [customer_with_consent(i) for i in range(3)]
    no_consent = make_customer(first_name="Nope", primary_email="nope@example.com")
    withdrawn = customer_with_consent(9)
    grant(withdrawn, status=ConsentStatus.WITHDRAWN)
    no_address = customer_with_consent(10, primary_email="")
    suppressed = customer_with_consent(11)
    Suppression.objects.create(channel="email", address="c11@example.com", reason="manual")
    campaign = make_campaign(
        marketer, template, [*good, no_consent, withdrawn, no_address, suppressed]
    )
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.audience_drawn_at is not None
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=campaign).values_list("customer_id", "status")
    )
    assert [statuses[c.pk] for c in good] == [RecipientStatus.SENT] * 3
    assert statuses[no_consent.pk] == RecipientStatus.NO_CONSENT
    assert statuses[withdrawn.pk] == RecipientStatus.NO_CONSENT
    assert statuses[no_address.pk] == RecipientStatus.NO_ADDRESS
    assert statuses[suppressed.pk] == RecipientStatus.SUPPRESSED
    assert sorted(m.to[0] for m in mail.outbox) == [
        "c0@example.com",
        "c1@example.com",
        "c2@example.com",
    ]
    raw = email.message_from_bytes(mail.outbox[0].message().as_bytes())
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://crm.example/marketing/u/" in raw["List-Unsubscribe"]
    assert raw["Message-ID"].startswith("<") and raw["Message-ID"].endswith("@vefa.example>")
    types = [part.get_content_type() for part in raw.walk()]
    assert "text/plain" in types and "text/html" in types
    history = Interaction.objects.filter(related_model="marketing.campaign", related_id=campaign.pk)
    assert sorted(history.values_list("customer_id", flat=True)) == sorted(c.pk for c in good)
    # Running the sender again sends nothing more.
    CampaignRecipient.objects.filter(campaign=campaign).count()
    send_batch(campaign.pk)
    assert len(mail.outbox) == 3


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_launch_refuses_incomplete_campaigns_and_other_people(marketer, template, rules, db):
    from tests.factories import UserFactory
    from vefa.accounts.choices import Role
    from vefa.marketing.models import Campaign

    empty = Campaign.objects.create(name="x", objective="retention", owner=marketer)
    with pytest.raises(ValidationFailed) as caught:
        campaign_launch(actor=marketer, campaign_id=empty.pk)
    assert {"segments", "variants"} <= set(caught.value.fields)
    campaign = make_campaign(marketer, template, [customer_with_consent(1)])
    rep = UserFactory(role=Role.SALES_REP)
    from vefa.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        campaign_launch(actor=rep, campaign_id=campaign.pk)
    from vefa.common.errors import NotFound

    with pytest.raises(NotFound):
        campaign_launch(actor=marketer, campaign_id="1; DROP TABLE x")
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    with pytest.raises(ValidationFailed):
        campaign_launch(actor=marketer, campaign_id=campaign.pk)


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_control_group_gets_nothing(marketer, template, rules):
    customers = [customer_with_consent(i) for i in range(20)]
    campaign = make_campaign(marketer, template, customers, control_percent=50)
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert rows.filter(status=RecipientStatus.CONTROL).count() == 10
    assert rows.filter(status=RecipientStatus.SENT).count() == 10
    assert len(mail.outbox) == 10
    control = set(
        rows.filter(status=RecipientStatus.CONTROL).values_list(
            "customer__primary_email", flat=True
        )
    )
    assert not control & {m.to[0] for m in mail.outbox}


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_global_cap_and_own_frequency(marketer, template, rules):
    rules.cap_messages = 1
    rules.save()
    capped = customer_with_consent(1)
    frequent = customer_with_consent(2, contact_frequency_days=30)
    fresh = customer_with_consent(3)
    first = make_campaign(marketer, template, [capped, frequent])
    campaign_launch(actor=marketer, campaign_id=first.pk)
    rules.cap_messages = 5
    rules.save()
    CampaignRecipient.objects.filter(customer=capped).update(
        sent_at=timezone.now() - datetime.timedelta(days=1)
    )
    rules.cap_messages = 1
    rules.save()
    second = make_campaign(marketer, template, [capped, frequent, fresh])
    campaign_launch(actor=marketer, campaign_id=second.pk)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=second).values_list("customer_id", "status")
    )
    assert statuses[capped.pk] == RecipientStatus.CAPPED
    assert statuses[frequent.pk] == RecipientStatus.CAPPED
    assert statuses[fresh.pk] == RecipientStatus.SENT


def test_quiet_hours_wait_until_they_end():
    start, end = datetime.time(21, 0), datetime.time(9, 0)
    night = datetime.datetime(2026, 3, 2, 20, 30, tzinfo=datetime.UTC)  # 23:30 in Istanbul
    until = quiet_until(night, zone="Europe/Istanbul", start=start, end=end)
    assert until == datetime.datetime(2026, 3, 3, 6, 0, tzinfo=datetime.UTC)
    morning = datetime.datetime(2026, 3, 3, 4, 0, tzinfo=datetime.UTC)  # 07:00
    assert quiet_until(morning, zone="Europe/Istanbul", start=start, end=end) == until
    day = datetime.datetime(2026, 3, 3, 9, 0, tzinfo=datetime.UTC)
    assert quiet_until(day, zone="Europe/Istanbul", start=start, end=end) is None


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_recipient_in_quiet_hours_waits_not_dropped(marketer, template, rules):
    now = timezone.now()
    local = now.astimezone(datetime.UTC)
    rules.time_zone = "UTC"
    rules.quiet_hours_start = (local - datetime.timedelta(hours=1)).time().replace(microsecond=0)
    rules.quiet_hours_end = (local + datetime.timedelta(hours=1)).time().replace(microsecond=0)
    rules.save()
    customer = customer_with_consent(1)
    campaign = make_campaign(marketer, template, [customer])
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    row = CampaignRecipient.objects.get(campaign=campaign)
    assert row.status == RecipientStatus.PENDING
    assert row.not_before is not None and row.not_before > now
    assert mail.outbox == []
    later = send_batch(campaign.pk, now=row.not_before + datetime.timedelta(seconds=1))
    assert later.sent == 1
    assert len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_send_to_customers_is_idempotent_per_occasion(marketer, template, rules):
    customers = [customer_with_consent(i) for i in range(3)]
    campaign = make_campaign(marketer, template, [])
    ids = [c.pk for c in customers]
    assert send_to_customers(campaign_id=campaign.pk, customer_ids=ids, occasion="2026") == 3
    assert send_to_customers(campaign_id=campaign.pk, customer_ids=ids, occasion="2026") == 0
    assert len(mail.outbox) == 3
    assert send_to_customers(campaign_id=campaign.pk, customer_ids=ids[:1], occasion="2027") == 1
    assert len(mail.outbox) == 4
    assert not CampaignRecipient.objects.filter(status=RecipientStatus.CONTROL).exists()


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_pause_and_cancel(marketer, template, rules):
    campaign = make_campaign(
        marketer,
        template,
        [customer_with_consent(1)],
        starts_at=timezone.now() + datetime.timedelta(days=1),
    )
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign_pause(actor=marketer, campaign_id=campaign.pk).status == CampaignStatus.PAUSED
    assert send_batch(campaign.pk).sent == 0
    assert campaign_cancel(actor=marketer, campaign_id=campaign.pk).status == "cancelled"
    with pytest.raises(ValidationFailed):
        campaign_pause(actor=marketer, campaign_id=campaign.pk)
    assert mail.outbox == []


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_cap_holds_when_another_campaign_claims_between_judging_and_sending(
    marketer, template, rules, monkeypatch
):
    """Two campaigns sending at once: the second judged its batch before the first claimed
    its message for the same customer; the claim counts again and the cap holds."""
    from vefa.marketing.services import sending

    rules.cap_messages = 1
    rules.save()
    shared = customer_with_consent(1)
    other = customer_with_consent(2)
    first = make_campaign(marketer, template, [shared])
    second = make_campaign(marketer, template, [shared, other])
    campaign_launch(actor=marketer, campaign_id=second.pk)  # draws the audience, sends
    CampaignRecipient.objects.filter(campaign=second).update(
        status=RecipientStatus.PENDING, claimed_at=None, sent_at=None
    )
    type(second).objects.filter(pk=second.pk).update(status=CampaignStatus.SENDING)
    mail.outbox.clear()
    real_judge = sending.judge

    def judge_then_the_other_campaign_claims(rows, **kwargs):
        verdicts = real_judge(rows, **kwargs)
        CampaignRecipient.objects.create(
            campaign=first,
            customer=shared,
            token="f" * 32,
            status=RecipientStatus.PENDING,
            address="c1@example.com",
            claimed_at=timezone.now(),
        )
        return verdicts

    monkeypatch.setattr(sending, "judge", judge_then_the_other_campaign_claims)
    send_batch(campaign_id=second.pk)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=second).values_list("customer_id", "status")
    )
    assert statuses[shared.pk] == RecipientStatus.CAPPED
    assert statuses[other.pk] == RecipientStatus.SENT
    assert [m.to[0] for m in mail.outbox] == ["c2@example.com"]
    capped = CampaignRecipient.objects.get(campaign=second, customer=shared)
    assert capped.claimed_at is None and "1" in capped.reason


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_an_erased_persons_address_is_never_mailed_again(marketer, template, rules):
    """Erasure keeps only a keyed hash of a suppressed address; the same address brought
    back (a new customer, an import) is still suppressed."""
    from vefa.marketing.selectors.sending import erased_form

    Suppression.objects.create(
        channel="email", address=erased_form("c1@example.com"), reason="unsubscribed"
    )
    back = customer_with_consent(1)
    other = customer_with_consent(2)
    campaign = make_campaign(marketer, template, [back, other])
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=campaign).values_list("customer_id", "status")
    )
    assert statuses[back.pk] == RecipientStatus.SUPPRESSED
    assert statuses[other.pk] == RecipientStatus.SENT
    assert [m.to[0] for m in mail.outbox] == ["c2@example.com"]
    assert "c1@example.com" not in erased_form("c1@example.com")
