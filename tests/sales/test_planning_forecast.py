"""The forecast on small known data: weighted, commit, best case, closed won, targets,
conversion and missing rates, the history-based check; exact Decimals."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from vefa.sales.models import ExchangeRate, Opportunity, SalesTarget
from vefa.sales.selectors.planning_forecast import ForecastFilters, forecast, month_add

pytestmark = pytest.mark.django_db

D = datetime.timedelta(days=1)


def opp(customer, stage, **fields):
    fields.setdefault("name", "Deal")
    fields.setdefault("probability", stage.probability)
    fields.setdefault("owner", customer.owner)
    fields.setdefault("team", customer.team)
    return Opportunity.objects.create(
        customer=customer, pipeline=stage.pipeline, stage=stage, **fields
    )


@pytest.fixture
def known(own_customer, stages, team):
    today = timezone.localdate()
    start = today.replace(day=1)
    nxt = month_add(start, 1)
    ExchangeRate.objects.create(
        day=today - 500 * D, currency="EUR", quote_currency="TRY", rate=Decimal("35")
    )
    s0, s1, s2, s3, won, _lost = stages
    opp(
        own_customer,
        s2,
        amount=Decimal("1000.00"),
        currency="TRY",
        probability=50,
        expected_close_date=start,
        forecast_category="commit",
    )
    opp(
        own_customer,
        s1,
        amount=Decimal("200"),
        currency="EUR",
        probability=25,
        expected_close_date=nxt,
        forecast_category="best_case",
    )
    opp(
        own_customer,
        s0,
        amount=Decimal("333.33"),
        currency="TRY",
        probability=10,
        expected_close_date=nxt,
    )
    opp(
        own_customer,
        s3,
        amount=Decimal("5000"),
        currency="TRY",
        probability=75,
        expected_close_date=start,
        forecast_category="omitted",
    )
    opp(
        own_customer,
        s2,
        amount=Decimal("100"),
        currency="USD",
        probability=50,
        expected_close_date=start,
    )
    opp(
        own_customer,
        won,
        amount=Decimal("400"),
        currency="TRY",
        status="won",
        closed_at=timezone.now(),
    )
    opp(own_customer, s0, amount=Decimal("999"), currency="TRY")  # no expected close date
    quarter_start = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    SalesTarget.objects.create(
        team=team,
        period_kind="quarter",
        period_start=quarter_start,
        period_end=month_add(quarter_start, 3) - D,
        metric="revenue",
        amount=Decimal("9000"),
        currency="TRY",
    )
    return start, nxt, quarter_start


def test_forecast_arithmetic_on_known_data(manager, known):
    start, _nxt, quarter_start = known
    result = forecast(actor=manager, filters=ForecastFilters(currency="TRY"))
    assert result.currency == "TRY"
    assert [m.month for m in result.months] == [month_add(start, i) for i in range(12)]
    first, second = result.months[0], result.months[1]
    assert first.weighted == Decimal("500.00")
    assert first.commit == Decimal("1000.00")
    assert first.best_case == Decimal("1000.00")
    assert first.closed_won == Decimal("400.00")
    assert first.forecast == Decimal("900.00")
    assert first.target == Decimal("3000.00")
    assert first.gap == Decimal("-2100.00")
    assert first.percent_of_target == Decimal("30.0")
    assert first.open_deals == 2  # the commit deal and the USD one; "omitted" is left out
    assert second.weighted == Decimal("1783.33")  # 200 EUR × 25 % × 35 + 333.33 × 10 %
    assert second.commit == Decimal("0.00")
    assert second.best_case == Decimal("7000.00")
    assert second.closed_won == Decimal("0.00")
    quarter_months = {month_add(quarter_start, i) for i in range(3)}
    for month in result.months:
        if month.month in quarter_months:
            assert month.target == Decimal("3000.00")
        else:
            assert month.target is None
    assert result.missing == ["USD"]
    assert result.undated_open == 1
    assert result.totals.weighted == Decimal("2283.33")
    assert result.totals.closed_won == Decimal("400.00")


def test_forecast_in_another_currency_converts_and_lists_missing(manager, known):
    ExchangeRate.objects.create(
        day=timezone.localdate() - 500 * D,
        currency="EUR",
        quote_currency="USD",
        rate=Decimal("1.25"),
    )
    result = forecast(actor=manager, filters=ForecastFilters(currency="usd"))
    assert result.currency == "USD"
    # TRY has no rate to USD at all: it is not guessed, only EUR and USD deals count
    assert result.missing == ["TRY"]
    first, second = result.months[0], result.months[1]
    assert first.weighted == Decimal("50.00")  # the 100 USD deal at 50 %
    assert first.commit == Decimal("0.00")  # the commit deal is in TRY
    assert first.closed_won == Decimal("0.00")
    assert second.weighted == Decimal("62.50")  # 200 EUR × 25 % × 1.25
    assert second.best_case == Decimal("250.00")


def test_forecast_scope_follows_access(rep_other_team, manager, known):
    # another team's rep sees none of these deals and no target
    result = forecast(actor=rep_other_team)
    assert result.totals.weighted == Decimal("0.00")
    assert result.totals.target is None
    # a manager filtering on a user of another team sees nothing either
    result = forecast(actor=manager, filters=ForecastFilters(owner=rep_other_team.pk))
    assert result.totals.weighted == Decimal("0.00")


def test_marketer_sees_an_empty_forecast(db, known):
    from tests.factories import UserFactory

    marketer = UserFactory(role="marketer")
    result = forecast(actor=marketer)
    assert result.totals.weighted == Decimal("0.00") and result.totals.closed_won == Decimal("0.00")


def test_history_check_on_known_data(rep, own_customer, stages):
    now = timezone.now()
    today = timezone.localdate()
    s0, s1, s2, s3, won, lost = stages
    for i in range(4):
        o = opp(own_customer, won, amount=Decimal("10"), status="won", closed_at=now - (i + 1) * D)
        Opportunity.objects.filter(pk=o.pk).update(created_at=now - (i + 31) * D)
    for i in range(6):
        opp(own_customer, lost, amount=Decimal("10"), status="lost", closed_at=now - (i + 1) * D)
    x = opp(own_customer, s1, amount=Decimal("1000"), currency="TRY")
    y = opp(own_customer, s2, amount=Decimal("500"), currency="TRY")
    z = opp(own_customer, s3, amount=Decimal("200"), currency="TRY")
    Opportunity.objects.filter(pk=x.pk).update(
        created_at=now - 14 * D, stage_changed_at=now - 4 * D
    )
    Opportunity.objects.filter(pk=y.pk).update(
        created_at=now - 30 * D, stage_changed_at=now - 10 * D
    )
    Opportunity.objects.filter(pk=z.pk).update(
        created_at=now - 40 * D, stage_changed_at=now - 15 * D
    )

    result = forecast(actor=rep, filters=ForecastFilters(currency="TRY"), today=today)
    (history,) = [p for p in result.pipelines if p.pipeline_id == s0.pipeline_id]
    assert (history.won, history.lost) == (4, 6)
    assert history.win_rate == Decimal("40.0")
    assert history.cycle_days == Decimal(30)
    days = {s.stage_id: s.days for s in result.stages}
    assert days == {
        s0.pk: Decimal("10.0"),
        s1.pk: Decimal("10.0"),
        s2.pk: Decimal("5.0"),
        s3.pk: Decimal("5.0"),
    }
    expected: dict[datetime.date, Decimal] = {}
    for offset, value in ((16, "400"), (5, "200"), (0, "80")):
        month = (today + offset * D).replace(day=1)
        expected[month] = expected.get(month, Decimal(0)) + Decimal(value)
    got = {m.month: m.history for m in result.months if m.history}
    assert got == expected


def test_history_falls_back_to_probability_without_enough_history(rep, own_customer, stages):
    today = timezone.localdate()
    opp(own_customer, stages[1], amount=Decimal("1000"), probability=25, expected_close_date=today)
    opp(own_customer, stages[1], amount=Decimal("500"), probability=25)  # undated: left out
    result = forecast(actor=rep, today=today)
    assert result.months[0].history == Decimal("250.00")
    assert sum((m.history for m in result.months), Decimal(0)) == Decimal("250.00")
