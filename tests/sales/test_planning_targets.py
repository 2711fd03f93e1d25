"""Targets: who sets and sees them, periods, bad input, attainment with conversion and
missing exchange rates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import ExchangeRate, Opportunity, SalesTarget
from vefa.sales.selectors.planning import TargetFilters, attainments, target_page
from vefa.sales.services.planning import period_bounds, target_create, target_delete, target_update

pytestmark = pytest.mark.django_db

D = datetime.timedelta(days=1)


def month_start() -> datetime.date:
    return timezone.localdate().replace(day=1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def won(customer, stages, owner, amount, currency, closed_at, team=None):
    return Opportunity.objects.create(
        name="Won",
        customer=customer,
        pipeline=stages[0].pipeline,
        stage=stages[4],
        status="won",
        amount=Decimal(amount),
        currency=currency,
        owner=owner,
        team=team if team is not None else owner.team,
        closed_at=closed_at,
    )


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("month", (2026, 2, 14), (2026, 2, 1), (2026, 2, 28)),
        ("month", (2028, 2, 29), (2028, 2, 1), (2028, 2, 29)),
        ("quarter", (2026, 11, 24), (2026, 10, 1), (2026, 12, 31)),
        ("quarter", (2026, 1, 1), (2026, 1, 1), (2026, 3, 31)),
        ("year", (2026, 7, 7), (2026, 1, 1), (2026, 12, 31)),
    ],
)
def test_period_bounds(kind, day, start, end):
    assert period_bounds(kind, datetime.date(*day)) == (datetime.date(*start), datetime.date(*end))


def test_manager_sets_targets_for_team_and_members(manager, rep, team):
    t1 = target_create(
        actor=manager, user_id=rep.pk, period_start="2026-05-17", amount="50000", currency="try"
    )
    assert (t1.period_start, t1.period_end, t1.currency) == (
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 31),
        "TRY",
    )
    t2 = target_create(
        actor=manager,
        team_id=team.pk,
        period_kind="quarter",
        period_start="2026-05-01",
        metric="count",
        amount="12",
    )
    assert t2.amount == Decimal(12) and t2.currency == ""
    assert ChangeLogEntry.objects.filter(model="sales.salestarget").count() == 2


def test_manager_cannot_set_targets_outside_the_team(manager, rep_other_team, other_team):
    with pytest.raises(ValidationFailed) as exc:
        target_create(
            actor=manager,
            user_id=rep_other_team.pk,
            period_start="2026-05-01",
            amount="1",
            currency="TRY",
        )
    assert "user_id" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        target_create(
            actor=manager,
            team_id=other_team.pk,
            period_start="2026-05-01",
            amount="1",
            currency="TRY",
        )
    assert "team_id" in exc.value.fields


def test_rep_and_others_cannot_set_targets(rep, db):
    for user in (rep, UserFactory(role="marketer"), UserFactory(role="service_agent")):
        with pytest.raises(PermissionDenied):
            target_create(
                actor=user, user_id=user.pk, period_start="2026-05-01", amount="1", currency="TRY"
            )
    assert not SalesTarget.objects.exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"amount": "-10"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "9" * 30}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"period_start": "2026-13-01"}, "period_start"),
        ({"period_start": "9999-12-31", "period_kind": "year"}, "period_start"),
        ({"period_kind": "week"}, "period_kind"),
        ({"metric": "margin"}, "metric"),
        ({"metric": "count", "amount": "2.5", "currency": ""}, "amount"),
        ({"metric": "count", "amount": "3", "currency": "TRY"}, "currency"),
        ({"user_id": None}, "user_id"),
    ],
)
def test_bad_target_input(manager, rep, over, field):
    values = {"user_id": rep.pk, "period_start": "2026-05-01", "amount": "100", "currency": "TRY"}
    values.update(over)
    with pytest.raises(ValidationFailed) as exc:
        target_create(actor=manager, **values)
    assert field in exc.value.fields
    assert not SalesTarget.objects.exists()


def test_duplicate_target_is_refused(manager, rep):
    target_create(
        actor=manager, user_id=rep.pk, period_start="2026-05-01", amount="1", currency="TRY"
    )
    with pytest.raises(ValidationFailed) as exc:
        target_create(
            actor=manager, user_id=rep.pk, period_start="2026-05-20", amount="2", currency="TRY"
        )
    assert "period_start" in exc.value.fields


def test_update_and_delete_with_versions(manager, rep):
    target = target_create(
        actor=manager, user_id=rep.pk, period_start="2026-05-01", amount="1", currency="TRY"
    )
    updated = target_update(
        actor=manager, target_id=target.pk, data={"amount": "250"}, expected_version=1
    )
    assert updated.amount == Decimal(250) and updated.version == 2
    with pytest.raises(Conflict):
        target_update(actor=manager, target_id=target.pk, data={"amount": "3"}, expected_version=1)
    with pytest.raises(ValidationFailed):
        target_update(actor=manager, target_id=target.pk, data={"user_id": 1})
    with pytest.raises(NotFound):
        target_delete(actor=UserFactory(role="sales_manager"), target_id=target.pk)
    with pytest.raises(PermissionDenied):
        target_delete(actor=rep, target_id=target.pk)
    target_delete(actor=manager, target_id=target.pk)
    assert not SalesTarget.objects.exists()


def test_who_sees_which_targets(
    manager, rep, rep_same_team, rep_other_team, team, other_team, admin_user
):
    mine = target_create(
        actor=manager, user_id=rep.pk, period_start="2026-05-01", amount="1", currency="TRY"
    )
    colleague = target_create(
        actor=manager,
        user_id=rep_same_team.pk,
        period_start="2026-05-01",
        amount="1",
        currency="TRY",
    )
    team_target = target_create(
        actor=manager, team_id=team.pk, period_start="2026-05-01", amount="1", currency="TRY"
    )
    other = target_create(
        actor=admin_user,
        user_id=rep_other_team.pk,
        period_start="2026-05-01",
        amount="1",
        currency="TRY",
    )
    other_team_target = target_create(
        actor=admin_user,
        team_id=other_team.pk,
        period_start="2026-05-01",
        amount="1",
        currency="TRY",
    )

    def seen(user, **filters):
        return {t.pk for t in target_page(actor=user, filters=TargetFilters(**filters)).items}

    assert seen(rep) == {mine.pk}
    assert seen(manager) == {mine.pk, colleague.pk, team_target.pk}
    assert seen(admin_user) == {
        mine.pk,
        colleague.pk,
        team_target.pk,
        other.pk,
        other_team_target.pk,
    }
    assert seen(manager, scope="mine") == set()
    assert seen(UserFactory(role="marketer")) == set()
    assert seen(UserFactory(role="service_agent")) == set()


def test_attainment_converts_by_close_day_and_lists_missing_rates(
    manager, rep, rep_same_team, own_customer, stages
):
    first = month_start()
    ExchangeRate.objects.create(
        day=first - 10 * D, currency="EUR", quote_currency="TRY", rate=Decimal("30")
    )
    ExchangeRate.objects.create(
        day=first + D, currency="EUR", quote_currency="TRY", rate=Decimal("35")
    )
    won(own_customer, stages, rep, "1000.00", "TRY", at(first))
    won(own_customer, stages, rep, "100", "EUR", at(first))  # rate 30 → 3000
    won(own_customer, stages, rep, "100", "EUR", at(first + 2 * D))  # rate 35 → 3500
    won(own_customer, stages, rep, "50", "USD", at(first + 2 * D))  # no rate: listed
    won(own_customer, stages, rep, "777", "TRY", at(first - D))  # last month: not counted
    won(own_customer, stages, rep_same_team, "888", "TRY", at(first))  # someone else's
    Opportunity.objects.create(
        name="Open",
        customer=own_customer,
        pipeline=stages[0].pipeline,
        stage=stages[0],
        amount=Decimal("999"),
        owner=rep,
        team=rep.team,
    )
    revenue = target_create(
        actor=manager, user_id=rep.pk, period_start=first, amount="10000", currency="TRY"
    )
    count = target_create(
        actor=manager, user_id=rep.pk, period_start=first, metric="count", amount="5"
    )
    team_revenue = target_create(
        actor=manager, team_id=rep.team_id, period_start=first, amount="20000", currency="TRY"
    )
    result = {a.target.pk: a for a in attainments([revenue, count, team_revenue])}
    assert result[revenue.pk].achieved == Decimal("7500.00")
    assert result[revenue.pk].percent == Decimal("75.0")
    assert result[revenue.pk].missing == ["USD"]
    assert result[count.pk].achieved == 4
    assert result[count.pk].percent == Decimal("80.0")
    assert result[count.pk].missing == []
    assert result[team_revenue.pk].achieved == Decimal("8388.00")
    assert result[team_revenue.pk].bar_percent == 41


def test_attainment_in_a_reporting_currency_uses_inverse_rates(manager, rep, own_customer, stages):
    first = month_start()
    ExchangeRate.objects.create(
        day=first - 10 * D, currency="EUR", quote_currency="TRY", rate=Decimal("40")
    )
    won(own_customer, stages, rep, "4000", "TRY", at(first))
    won(own_customer, stages, rep, "10", "EUR", at(first))
    target = target_create(
        actor=manager, user_id=rep.pk, period_start=first, amount="1000", currency="EUR"
    )
    (result,) = attainments([target])
    assert result.achieved == Decimal("110.00")
    assert result.missing == []
