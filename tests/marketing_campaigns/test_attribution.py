"""Conversions: an order within the window after a message converts the last message's
recipient once; control-group members convert the same way after the campaign's start;
cancelled orders give their conversion back; the hourly catch-up finds imported orders."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.marketing_campaigns.conftest import add_recipient, make_campaign
from vefa.marketing.choices import CampaignStatus, MessageEventKind, RecipientStatus
from vefa.marketing.models import CampaignCost, MarketingSettings, MessageEvent
from vefa.marketing.selectors.reports import campaign_report
from vefa.marketing.services.reports import attribute_order, attribute_recent_orders
from vefa.sales.models import ExchangeRate, Product
from vefa.sales.services.orders import order_cancel, order_create

NOW = timezone.now()


@pytest.fixture
def product(db):
    return Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi",
        list_price=Decimal("100.00"),
        currency="TRY",
        tax_rate=Decimal("0"),
    )


def buy(actor, customer, product, when, *, quantity="2", currency="TRY"):
    return order_create(
        actor=actor,
        customer=customer,
        currency=currency,
        ordered_at=when,
        lines=[{"product": product.pk, "quantity": quantity, "unit_price": "100.00"}],
    )


def test_order_within_window_converts_the_recipient(
    admin_user, marketer, customer, product, sent_campaign
):
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    assert attribute_order(order.pk) == [recipient.pk]
    recipient.refresh_from_db()
    assert recipient.conversion_order_id == order.pk
    assert recipient.converted_at == order.ordered_at
    assert recipient.revenue == Decimal("200.00")
    assert (
        MessageEvent.objects.filter(recipient=recipient, kind=MessageEventKind.CONVERTED).count()
        == 1
    )
    # Idempotent: attributing again changes nothing and writes no second event.
    assert attribute_order(order.pk) == []
    assert MessageEvent.objects.filter(recipient=recipient).count() == 1


def test_order_before_the_message_or_after_the_window_does_not_convert(
    admin_user, marketer, customer, product, sent_campaign
):
    sent_campaign.attribution_days = 7
    sent_campaign.save()
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=20))
    before = buy(admin_user, customer, product, NOW - datetime.timedelta(days=21))
    late = buy(admin_user, customer, product, NOW - datetime.timedelta(days=12))
    assert attribute_order(before.pk) == []
    assert attribute_order(late.pk) == []
    recipient.refresh_from_db()
    assert recipient.converted_at is None


def test_settings_window_applies_without_campaign_window(
    admin_user, marketer, customer, product, sent_campaign
):
    MarketingSettings.objects.create(pk=1, attribution_days=3)
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=5))
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    assert attribute_order(order.pk) == []
    recipient.refresh_from_db()
    assert recipient.converted_at is None


def test_last_touch_wins(admin_user, marketer, customer, product):
    first = make_campaign(
        marketer,
        name="First",
        status=CampaignStatus.COMPLETED,
        started_at=NOW - datetime.timedelta(days=10),
    )
    second = make_campaign(
        marketer,
        name="Second",
        status=CampaignStatus.COMPLETED,
        started_at=NOW - datetime.timedelta(days=3),
    )
    early = add_recipient(first, customer, sent_at=NOW - datetime.timedelta(days=10))
    late = add_recipient(second, customer, sent_at=NOW - datetime.timedelta(days=3))
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    assert attribute_order(order.pk) == [late.pk]
    early.refresh_from_db()
    assert early.converted_at is None


def test_control_group_converts_after_the_campaign_start(
    admin_user, marketer, customer, product, sent_campaign
):
    other = make_customer(owner=marketer, team_id=marketer.team_id, first_name="Milan")
    held_out = add_recipient(sent_campaign, other, status=RecipientStatus.CONTROL, sent_at=None)
    order = buy(admin_user, other, product, NOW - datetime.timedelta(days=1))
    assert attribute_order(order.pk) == [held_out.pk]
    held_out.refresh_from_db()
    assert held_out.converted_at is not None
    # Before the campaign started: no conversion.
    sent_campaign.started_at = NOW
    sent_campaign.save()
    order2 = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    add_recipient(sent_campaign, customer, status=RecipientStatus.CONTROL, sent_at=None)
    assert attribute_order(order2.pk) == []


def test_not_sent_recipients_never_convert(admin_user, marketer, customer, product, sent_campaign):
    add_recipient(sent_campaign, customer, status=RecipientStatus.NO_CONSENT, sent_at=None)
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    assert attribute_order(order.pk) == []


def test_cancelled_order_gives_the_conversion_to_the_next_order(
    admin_user, marketer, customer, product, sent_campaign
):
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    first = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1), quantity="1")
    second = buy(admin_user, customer, product, NOW - datetime.timedelta(hours=5), quantity="3")
    attribute_order(first.pk)
    attribute_order(second.pk)
    recipient.refresh_from_db()
    assert recipient.conversion_order_id == first.pk
    order_cancel(actor=admin_user, order_id=first.pk)
    attribute_order(first.pk)
    recipient.refresh_from_db()
    assert recipient.conversion_order_id == second.pk
    assert recipient.revenue == Decimal("300.00")
    assert (
        MessageEvent.objects.filter(recipient=recipient, kind=MessageEventKind.CONVERTED).count()
        == 1
    )


def test_the_order_event_attributes_after_commit(
    admin_user, marketer, customer, product, sent_campaign, django_capture_on_commit_callbacks
):
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    recipient.refresh_from_db()
    assert recipient.conversion_order_id == order.pk
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=admin_user, order_id=order.pk)
    recipient.refresh_from_db()
    assert recipient.conversion_order_id is None


def test_catch_up_finds_orders_without_events(
    admin_user, marketer, customer, product, sent_campaign
):
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    assert attribute_recent_orders() == 1
    assert attribute_recent_orders() == 0
    recipient.refresh_from_db()
    assert recipient.converted_at is not None


def test_revenue_in_the_campaign_currency(admin_user, marketer, customer, product, sent_campaign):
    ExchangeRate.objects.create(
        currency="EUR",
        quote_currency="TRY",
        day=(NOW - datetime.timedelta(days=30)).date(),
        rate=Decimal("40"),
    )
    recipient = add_recipient(sent_campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1), currency="EUR")
    attribute_order(order.pk)
    recipient.refresh_from_db()
    assert recipient.revenue == Decimal("8000.00")  # 200 EUR × 40


def test_report_end_to_end(admin_user, marketer, customer, product, sent_campaign):
    """10 sent (2 buy), 5 held out (1 buys), costs 300 TRY + 10 EUR at 40 = 700 TRY."""
    ExchangeRate.objects.create(
        currency="EUR",
        quote_currency="TRY",
        day=(NOW - datetime.timedelta(days=30)).date(),
        rate=Decimal("40"),
    )
    people = [
        make_customer(owner=marketer, team_id=marketer.team_id, first_name=f"C{i}")
        for i in range(15)
    ]
    sent = [
        add_recipient(sent_campaign, c, sent_at=NOW - datetime.timedelta(days=2), delivered_at=NOW)
        for c in people[:10]
    ]
    for c in people[10:]:
        add_recipient(sent_campaign, c, status=RecipientStatus.CONTROL, sent_at=None)
    sent[0].clicked_at = NOW
    sent[0].save()
    for c in (people[0], people[1], people[10]):
        attribute_order(buy(admin_user, c, product, NOW - datetime.timedelta(days=1)).pk)
    CampaignCost.objects.create(
        campaign=sent_campaign,
        incurred_on=NOW.date(),
        description="SMS",
        amount=Decimal("300"),
        currency="TRY",
    )
    CampaignCost.objects.create(
        campaign=sent_campaign,
        incurred_on=NOW.date(),
        description="Agency",
        amount=Decimal("10"),
        currency="EUR",
    )
    report = campaign_report(actor=marketer, campaign=sent_campaign)
    total = report.total
    assert total.counts.recipients == 10
    assert total.counts.sent == 10
    assert total.counts.delivered == 10
    assert total.counts.converted == 2
    assert total.counts.responded == 2  # one clicked and converted, one converted
    assert total.counts.control == 5
    assert total.counts.control_converted == 1
    assert total.counts.revenue == Decimal("400.00")
    assert total.cost == Decimal("700.00")
    assert total.roi == (Decimal("400") - Decimal("700")) / Decimal("700")
    assert total.cost_per_acquisition == Decimal("350")
    assert total.uplift.absolute == Decimal("0.2") - Decimal("0.2")
    assert report.unconverted == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_attribution_marks_once(team):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    from tests.factories import UserFactory
    from vefa.accounts.choices import Role

    marketer = UserFactory(role=Role.MARKETER, team=team)
    admin_user = UserFactory(role=Role.ADMIN, team=team)
    customer = make_customer(owner=marketer, team=team, first_name="Eda")
    product = Product.objects.create(
        sku="X1", name="X", list_price=Decimal("10"), currency="TRY", tax_rate=Decimal("0")
    )
    campaign = make_campaign(
        marketer, status=CampaignStatus.COMPLETED, started_at=NOW - datetime.timedelta(days=3)
    )
    # The order exists first (its own event credits nothing yet), then the recipient.
    order = buy(admin_user, customer, product, NOW - datetime.timedelta(days=1))
    recipient = add_recipient(campaign, customer, sent_at=NOW - datetime.timedelta(days=2))
    results: list[list[int]] = []

    def run():
        try:
            results.append(attribute_order(order.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert MessageEvent.objects.filter(recipient=recipient).count() == 1
