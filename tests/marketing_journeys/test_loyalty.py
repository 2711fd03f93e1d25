"""Loyalty points: earning on orders, tiers, redemption, adjustment, expiry, birthdays."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.marketing_journeys.conftest import HOSTILE, make_order
from vefa.analytics.models import CustomerScore
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.marketing.models import EarningRule, LoyaltyTier, PointsEntry
from vefa.marketing.services.loyalty import (
    balance_of,
    birthday_points_award,
    customer_tier,
    points_adjust,
    points_award,
    points_expire,
    points_for_order,
    points_redeem,
    program_save,
)
from vefa.platform.models import ChangeLogEntry
from vefa.sales.services.orders import order_set_status

UTC = datetime.UTC


def deliver(order, actor, capture):
    with capture(execute=True):
        for status in ("confirmed", "shipped", "delivered"):
            order_set_status(actor=actor, order_id=order.pk, status=status)


def test_delivered_order_earns_once(
    program, customer, admin_user, django_capture_on_commit_callbacks
):
    order = make_order(customer, amount="259.90")
    deliver(order, admin_user, django_capture_on_commit_callbacks)
    assert balance_of(customer.pk, program) == 25
    entry = PointsEntry.objects.get(customer=customer)
    assert entry.key == f"order:{order.pk}"
    assert entry.order_id == order.pk
    # The same order again (event delivered twice, invoiced later): nothing more.
    points_for_order(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(actor=admin_user, order_id=order.pk, status="invoiced")
    assert balance_of(customer.pk, program) == 25
    assert PointsEntry.objects.filter(customer=customer).count() == 1


def test_draft_order_and_other_currency_earn_nothing(program, customer, admin_user):
    draft = make_order(customer, amount="500")
    assert points_for_order(order_id=draft.pk) is None
    euros = make_order(customer, amount="500", currency="EUR")
    from vefa.sales.models import Order

    Order.objects.filter(pk=euros.pk).update(status="paid")
    assert points_for_order(order_id=euros.pk) is None
    assert balance_of(customer.pk, program) == 0


def test_tier_multiplier_from_the_ladder_step(program, customer, admin_user):
    LoyaltyTier.objects.create(program=program, name="Gold", ladder_step="loyal", multiplier=2)
    LoyaltyTier.objects.create(program=program, name="Bronze", ladder_step="one_time", multiplier=1)
    assert customer_tier(customer.pk, program) is None
    CustomerScore.objects.create(
        customer=customer, computed_at=timezone.now(), currency="TRY", ladder_step="loyal"
    )
    assert customer_tier(customer.pk, program).name == "Gold"
    from vefa.sales.models import Order

    order = make_order(customer, amount="100")
    Order.objects.filter(pk=order.pk).update(status="paid")
    entry = points_for_order(order_id=order.pk)
    assert entry is not None and entry.points == 20


def test_category_rule_counts_only_its_lines(program, customer):
    from vefa.sales.models import Order, Product, ProductCategory

    tea = ProductCategory.objects.create(name="Tea")
    product = Product.objects.create(sku="T1", name="Rize", category=tea, currency="TRY")
    EarningRule.objects.filter(program=program).delete()
    EarningRule.objects.create(
        program=program, kind="spend", points=5, per_amount=Decimal("10"), category=tea
    )
    from tests.factories import UserFactory
    from vefa.accounts.choices import Role
    from vefa.sales.services.orders import order_create

    order = order_create(
        actor=UserFactory(role=Role.ADMIN, is_superuser=True),
        customer=customer.pk,
        lines=[
            {"product": product.pk, "quantity": "2", "unit_price": "10", "tax_rate": "0"},
            {"description": "Cup", "quantity": "1", "unit_price": "90", "tax_rate": "0"},
        ],
        currency="TRY",
    )
    Order.objects.filter(pk=order.pk).update(status="delivered")
    assert points_for_order(order_id=order.pk).points == 10


def test_redeem_checks_balance_minimum_and_input(program, customer, marketer, admin_user):
    points_award(customer_id=customer.pk, points=100, key="gift")
    with pytest.raises(ValidationFailed) as too_many:
        points_redeem(actor=admin_user, customer_id=customer.pk, points=101, reason="x")
    assert "points" in too_many.value.fields
    with pytest.raises(ValidationFailed):
        points_redeem(actor=admin_user, customer_id=customer.pk, points=5, reason="x")
    for bad in ("", "abc", "-5", "1e9", None, HOSTILE[4]):
        with pytest.raises(ValidationFailed):
            points_redeem(actor=admin_user, customer_id=customer.pk, points=bad, reason="x")
    with pytest.raises(ValidationFailed) as no_reason:
        points_redeem(actor=admin_user, customer_id=customer.pk, points=10, reason="  ")
    assert "reason" in no_reason.value.fields
    entry = points_redeem(actor=admin_user, customer_id=customer.pk, points=40, reason=HOSTILE[0])
    assert entry.points == -40 and entry.description == HOSTILE[0]
    assert balance_of(customer.pk, program) == 60
    assert ChangeLogEntry.objects.filter(model="marketing.pointsentry", object_id=entry.pk).exists()


def test_redeem_on_a_customer_out_of_reach_is_not_found(program, other_customer, rep):
    points_award(customer_id=other_customer.pk, points=100, key="gift")
    with pytest.raises(NotFound):
        points_redeem(actor=rep, customer_id=other_customer.pk, points=10, reason="x")
    with pytest.raises(NotFound):
        points_redeem(actor=rep, customer_id="x; DROP", points=10, reason="x")
    assert balance_of(other_customer.pk, program) == 100


def test_adjust_needs_a_reason_and_the_right(program, customer, marketer, rep):
    with pytest.raises(PermissionDenied):
        points_adjust(actor=rep, customer_id=customer.pk, points=10, reason="goodwill")
    with pytest.raises(ValidationFailed) as empty:
        points_adjust(actor=marketer, customer_id=customer.pk, points=10, reason="")
    assert "reason" in empty.value.fields
    with pytest.raises(ValidationFailed):
        points_adjust(actor=marketer, customer_id=customer.pk, points=-1, reason="minus")
    entry = points_adjust(actor=marketer, customer_id=customer.pk, points=25, reason=HOSTILE[2])
    assert entry.kind == "adjust" and entry.created_by == marketer
    log = ChangeLogEntry.objects.get(model="marketing.pointsentry", object_id=entry.pk)
    assert log.after["balance_after"] == 25
    points_adjust(actor=marketer, customer_id=customer.pk, points=-25, reason="correction")
    assert balance_of(customer.pk, program) == 0


def test_expiry_is_fifo_and_idempotent(program, customer, admin_user):
    program_save(actor=admin_user, data={"expiry_months": 12})
    program.refresh_from_db()
    t0 = datetime.datetime(2025, 1, 10, 12, tzinfo=UTC)
    t1 = datetime.datetime(2025, 6, 1, 12, tzinfo=UTC)
    points_award(customer_id=customer.pk, points=100, key="a", occurred_at=t0)
    points_award(customer_id=customer.pk, points=50, key="b", occurred_at=t1)
    PointsEntry.objects.create(
        program=program,
        customer=customer,
        kind="redeem",
        points=-30,
        key="r1",
        occurred_at=datetime.datetime(2025, 7, 1, tzinfo=UTC),
    )
    assert points_expire(now=datetime.datetime(2026, 1, 9, tzinfo=UTC)) == 0
    day = datetime.datetime(2026, 1, 11, 3, tzinfo=UTC)
    assert points_expire(now=day) == 1
    assert points_expire(now=day) == 0
    assert points_expire(now=day + datetime.timedelta(hours=5)) == 0
    expired = PointsEntry.objects.get(customer=customer, kind="expire")
    assert expired.points == -70  # the 30 spent came from the oldest points
    assert balance_of(customer.pk, program) == 50
    later = datetime.datetime(2026, 6, 2, tzinfo=UTC)
    assert points_expire(now=later) == 1
    assert balance_of(customer.pk, program) == 0
    assert points_expire(now=later + datetime.timedelta(days=1)) == 0


def test_birthday_points_once_a_year(program, rep, team):
    EarningRule.objects.create(program=program, kind="birthday", points=50)
    born = make_customer(owner=rep, team=team, birth_date=datetime.date(1990, 3, 14))
    leap = make_customer(owner=rep, team=team, birth_date=datetime.date(1996, 2, 29))
    assert birthday_points_award(today=datetime.date(2026, 3, 14)) == 1
    assert birthday_points_award(today=datetime.date(2026, 3, 14)) == 0
    assert birthday_points_award(today=datetime.date(2027, 3, 14)) == 1
    assert balance_of(born.pk, program) == 100
    assert birthday_points_award(today=datetime.date(2026, 2, 28)) == 1  # no 29th in 2026
    assert birthday_points_award(today=datetime.date(2028, 2, 28)) == 0  # 2028 has one
    assert birthday_points_award(today=datetime.date(2028, 2, 29)) == 1
    assert balance_of(leap.pk, program) == 100


def test_program_settings_need_the_right(db, rep, marketer):
    with pytest.raises(PermissionDenied):
        program_save(actor=rep, data={"name": "Mine"})
    with pytest.raises(ValidationFailed):
        program_save(actor=marketer, data={"name": ""})
    with pytest.raises(ValidationFailed):
        program_save(actor=marketer, data={"name": "Club", "secret": 1})
    created = program_save(actor=marketer, data={"name": HOSTILE[0], "min_redeem": 5})
    assert created.name == HOSTILE[0]


def test_orders_paid_without_an_event_are_caught_up_once(program, customer, admin_user):
    """Bulk intake and imports write orders without events: the hourly job awards them."""
    from vefa.marketing.services.loyalty import order_points_catch_up
    from vefa.marketing.tasks_loyalty import loyalty_daily
    from vefa.platform.models import PeriodicRun
    from vefa.sales.models import Order

    paid = make_order(customer, amount="259.90")
    small = make_order(customer, amount="5")
    draft = make_order(customer, amount="900")
    Order.objects.filter(pk__in=[paid.pk, small.pk]).update(status="paid")
    assert not PointsEntry.objects.exists()
    loyalty_daily()
    assert balance_of(customer.pk, program) == 25
    assert PointsEntry.objects.get().key == f"order:{paid.pk}"
    # Again: nothing twice; the draft and the order too small to earn stay without points.
    assert order_points_catch_up() == 1  # only the small order is looked at again
    assert balance_of(customer.pk, program) == 25
    # Orders changed before the previous run finished (less the margin) are not read again.
    now = timezone.now()
    type(program).objects.filter(pk=program.pk).update(created_at=now - datetime.timedelta(days=9))
    Order.objects.filter(pk__in=[paid.pk, small.pk, draft.pk]).update(
        created_at=now - datetime.timedelta(days=8)
    )
    PeriodicRun.objects.update_or_create(
        name="marketing.loyalty_daily", defaults={"last_finished_at": now}
    )
    Order.objects.filter(pk=draft.pk).update(
        status="delivered", updated_at=now - datetime.timedelta(hours=3)
    )
    loyalty_daily()
    assert balance_of(customer.pk, program) == 25
    assert order_points_catch_up() == 2  # the whole window: the small and the old order
    assert balance_of(customer.pk, program) == 25 + 90
