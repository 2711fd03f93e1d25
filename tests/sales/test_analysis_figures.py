"""The sales analysis on a small data set whose every figure is known."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from vefa.common.errors import NotFound
from vefa.interactions.models import Activity, Interaction
from vefa.platform.records import record_create, record_update
from vefa.sales.models import (
    Competitor,
    ExchangeRate,
    Opportunity,
    OpportunityCompetitor,
    Order,
    OrderLine,
    Product,
    ProductCategory,
)
from vefa.sales.selectors.analysis import sales_analysis

UTC = datetime.UTC
START = datetime.date(2026, 1, 1)
END = datetime.date(2026, 3, 31)


def at(day: str, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def make_order(owner, customer, day, currency, subtotal, discount="0", status="confirmed",
               lines=()):  # fmt: skip
    order = Order.objects.create(
        number=f"O-{Order.objects.count() + 1}",
        customer=customer,
        owner=owner,
        team=owner.team,
        status=status,
        ordered_at=at(day),
        currency=currency,
        subtotal=Decimal(subtotal),
        discount_total=Decimal(discount),
        total=Decimal(subtotal) - Decimal(discount),
    )
    for i, (product, net) in enumerate(lines):
        OrderLine.objects.create(
            order=order,
            position=i,
            product=product,
            description=product.name,
            quantity=1,
            unit_price=Decimal(net),
            gross=Decimal(net),
            net=Decimal(net),
            total=Decimal(net),
        )
    return order


def make_opportunity(actor, customer, stages, path, *, created, closed=None, amount="1000",
                     currency="TRY", expected=None, probability=10, **extra):  # fmt: skip
    """An opportunity moved through ``path`` (stage indexes) by the record functions, so the
    change log holds its history as the services would write it."""
    first = stages[path[0]]
    opp = record_create(
        Opportunity(
            name=f"Deal {Opportunity.objects.count() + 1}",
            customer=customer,
            pipeline=first.pipeline,
            stage=first,
            owner=actor,
            team=actor.team,
            amount=Decimal(amount),
            currency=currency,
            probability=probability,
            expected_close_date=expected,
        ),
        actor=actor,
    )
    for index in path[1:]:
        stage = stages[index]
        data = {"stage": stage}
        if stage.kind != "open":
            data.update(status=stage.kind, closed_at=closed)
            data.update(extra)
        opp = record_update(opp, actor=actor, data=data)
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
    return opp


@pytest.fixture
def data(db, rep, rep_same_team, rep_other_team, manager, stages, category):
    cache.clear()
    ExchangeRate.objects.create(
        day=datetime.date(2026, 1, 1), currency="EUR", quote_currency="TRY", rate=Decimal("35")
    )
    ExchangeRate.objects.create(
        day=datetime.date(2026, 2, 1), currency="EUR", quote_currency="TRY", rate=Decimal("36")
    )
    a = Product.objects.create(sku="A", name="Alpha", category=category, list_price=1)
    b = Product.objects.create(sku="B", name="Beta", list_price=1)
    ist = make_customer(owner=rep, team=rep.team, city="İstanbul", country="TR",
                        tags=["VIP"])  # fmt: skip
    bg = make_customer(owner=rep_other_team, team=rep_other_team.team, city="Beograd",
                       country="RS", lifecycle_stage="prospect")  # fmt: skip
    mate = make_customer(owner=rep_same_team, team=rep.team, city="Ankara", country="TR")
    make_order(rep, ist, "2026-01-10", "TRY", "1000", "100", lines=[(a, "600"), (b, "300")])
    make_order(rep_other_team, bg, "2026-01-15", "EUR", "100", lines=[(a, "100")])
    make_order(rep, ist, "2026-02-05", "EUR", "10", lines=[(b, "10")])
    make_order(rep, ist, "2026-02-06", "TRY", "999", status="draft", lines=[(a, "999")])
    make_order(rep, ist, "2026-02-07", "TRY", "999", status="cancelled", lines=[(a, "999")])
    make_order(rep, ist, "2025-12-31", "TRY", "999", lines=[(a, "999")])
    make_order(rep, ist, "2026-03-03", "USD", "50", lines=[(b, "50")])
    make_order(rep_same_team, mate, "2026-03-04", "TRY", "40", lines=[(b, "40")])

    rival = Competitor.objects.create(name="Rakip")
    won1 = make_opportunity(
        rep, ist, stages, [0, 1, 4], created=at("2026-01-01"), closed=at("2026-01-31"),
        expected=datetime.date(2026, 1, 20), probability=100,
    )  # fmt: skip
    OpportunityCompetitor.objects.create(opportunity=won1, competitor=rival)
    make_opportunity(
        rep, ist, stages, [0, 2, 5], created=at("2026-01-05"), closed=at("2026-02-10"),
        amount="500", lost_reason="price", lost_to=rival,
    )  # fmt: skip
    make_opportunity(
        rep_other_team, bg, stages, [0], created=at("2026-01-07"),
        expected=datetime.date(2026, 2, 15), probability=30,
    )  # fmt: skip
    make_opportunity(
        rep, ist, stages, [0, 1, 2, 3, 4], created=at("2026-01-01"), closed=at("2026-03-01"),
        amount="200", currency="EUR",
    )  # fmt: skip
    make_opportunity(rep, ist, stages, [0], created=at("2025-12-01"))  # outside the range

    Interaction.objects.create(customer=ist, kind="call", subject="c", user=rep,
                               occurred_at=at("2026-01-03"))  # fmt: skip
    Interaction.objects.create(customer=ist, kind="visit", subject="v", user=rep,
                               occurred_at=at("2026-01-04"))  # fmt: skip
    Interaction.objects.create(customer=bg, kind="call", subject="c", user=rep_other_team,
                               occurred_at=at("2026-01-04"))  # fmt: skip
    Activity.objects.create(kind="visit", subject="v", owner=rep, status="done",
                            completed_at=at("2026-01-04"), customer=ist)  # fmt: skip
    return {"a": a, "b": b, "rival": rival}


def report_for(user, currency="TRY"):
    return sales_analysis(actor=user, start=START, end=END, currency=currency, use_cache=False)


def by_label(rows):
    return {r["label"]: r["amount"] for r in rows}


def test_revenue_converted_per_dimension(data, admin_user, rep, rep_other_team, rep_same_team):
    report = report_for(admin_user)
    revenue = report["revenue"]
    # 900 TRY + 100 EUR × 35 + 10 EUR × 36 + 40 TRY; the USD order has no rate.
    assert revenue["total"] == Decimal("4800.00")
    assert revenue["orders"] == 5
    assert report["missing_currencies"] == ["USD"]
    assert by_label(revenue["by_rep"]) == {
        str(rep_other_team): Decimal("3500.00"),
        str(rep): Decimal("1260.00"),
        str(rep_same_team): Decimal("40.00"),
    }
    assert by_label(revenue["by_team"]) == {
        "South": Decimal("3500.00"),
        "North": Decimal("1300.00"),
    }
    assert by_label(revenue["by_product"]) == {
        "A · Alpha": Decimal("4100.00"),
        "B · Beta": Decimal("700.00"),
    }
    assert by_label(revenue["by_category"]) == {"Kahve": Decimal("4100.00"), "": Decimal("700.00")}
    assert by_label(revenue["by_country"]) == {"RS": Decimal("3500.00"), "TR": Decimal("1300.00")}
    assert by_label(revenue["by_city"]) == {
        "Beograd, RS": Decimal("3500.00"),
        "İstanbul, TR": Decimal("1260.00"),
        "Ankara, TR": Decimal("40.00"),
    }
    assert by_label(revenue["by_lifecycle"]) == {
        "Prospect": Decimal("3500.00"),
        "Customer": Decimal("1300.00"),
    }
    assert by_label(revenue["by_tag"]) == {"VIP": Decimal("1260.00")}


def test_other_reporting_currency(data, admin_user):
    ExchangeRate.objects.create(
        day=datetime.date(2026, 1, 1), currency="USD", quote_currency="EUR", rate=Decimal("0.5")
    )
    report = report_for(admin_user, "EUR")
    # TRY converts through the inverted EUR rate of its day: 900 / 35 = 25.714… and
    # 40 / 36 = 1.111…; then 110 EUR and 50 USD × 0.5; rounded once: 161.8254 → 161.83.
    assert report["missing_currencies"] == []
    assert report["revenue"]["total"] == Decimal("161.83")


def test_win_rate_cycle_lost_reasons_competitors(data, admin_user):
    closed = report_for(admin_user)["closed"]
    assert (closed["won"], closed["lost"]) == (2, 1)
    assert closed["win_rate"] == Decimal("66.7")
    # 30 days and 59 days from creation to close.
    assert closed["cycle_days"] == Decimal("44.5")
    # 1000 TRY + 200 EUR at the 1 March rate of 36.
    assert closed["won_amount"] == Decimal("8200.00")
    assert [(r["key"], r["count"], r["amount"]) for r in closed["lost_reasons"]] == [
        ("price", 1, Decimal("500.00"))
    ]
    assert closed["competitors"] == [
        {"key": data["rival"].pk, "label": "Rakip", "won": 1, "lost": 1, "rate": Decimal("50.0")}
    ]


def test_funnel_from_the_change_log(data, admin_user, stages):
    funnel = report_for(admin_user)["funnel"]
    assert funnel["cohort"] == 4
    counts = [(row["label"], row["count"]) for row in funnel["stages"]]
    names = [s.name for s in stages if s.kind != "lost"]
    # All four started; three passed stage 2 (one skipped it); the 4th stage and won: two.
    assert counts == list(zip(names, [4, 3, 3, 2, 2], strict=True))
    assert funnel["stages"][1]["share"] == Decimal("75.0")


def test_forecast_against_actual(data, admin_user):
    months = {r["month"]: r for r in report_for(admin_user)["forecast"]}
    assert list(months) == [datetime.date(2026, m, 1) for m in (1, 2, 3)]
    assert months[datetime.date(2026, 1, 1)]["forecast"] == Decimal("1000.00")
    assert months[datetime.date(2026, 2, 1)]["forecast"] == Decimal("300.00")
    assert months[datetime.date(2026, 1, 1)]["actual"] == Decimal("1000.00")
    assert months[datetime.date(2026, 3, 1)]["actual"] == Decimal("7200.00")


def test_activities_per_rep(data, admin_user, rep, rep_other_team):
    rows = {r["key"]: r for r in report_for(admin_user)["activities"]}
    assert rows[rep.pk]["interactions"] == {"call": 1, "visit": 1}
    assert rows[rep.pk]["completed"] == {"visit": 1}
    assert rows[rep.pk]["total"] == 3
    assert rows[rep_other_team.pk]["interactions"] == {"call": 1}


def test_rep_sees_only_own_figures(data, rep, rep_other_team):
    report = report_for(rep)
    assert report["revenue"]["total"] == Decimal("1260.00")
    assert {r["label"] for r in report["revenue"]["by_rep"]} == {str(rep)}
    assert report["funnel"]["cohort"] == 3
    assert [r["key"] for r in report["activities"]] == [rep.pk]


def test_manager_sees_the_team(data, manager, rep, rep_same_team):
    report = report_for(manager)
    assert report["revenue"]["total"] == Decimal("1300.00")
    assert {r["label"] for r in report["revenue"]["by_rep"]} == {str(rep), str(rep_same_team)}
    assert report["closed"]["won"] == 2


def test_read_only_sees_everything(data, read_only):
    assert report_for(read_only)["revenue"]["total"] == Decimal("4800.00")


def test_roles_without_opportunities_get_not_found(data):
    from tests.factories import UserFactory

    for role in ("marketer", "service_agent"):
        with pytest.raises(NotFound):
            report_for(UserFactory(role=role))


def test_cached_per_scope(data, rep, admin_user):
    cache.clear()
    first = sales_analysis(actor=rep, start=START, end=END, currency="TRY")
    again = sales_analysis(actor=rep, start=START, end=END, currency="TRY")
    other = sales_analysis(actor=admin_user, start=START, end=END, currency="TRY")
    assert (first["cached"], again["cached"], other["cached"]) == (False, True, False)
    assert again["revenue"]["total"] == first["revenue"]["total"] != other["revenue"]["total"]


def test_hostile_names_survive_as_data(data, admin_user, rep):
    for i, name in enumerate(HOSTILE):
        product = Product.objects.create(sku=f"H{i}", name=name, list_price=1)
        customer = make_customer(owner=rep, team=rep.team)
        make_order(rep, customer, "2026-01-20", "TRY", "1", lines=[(product, "1")])
    labels = {r["label"] for r in report_for(admin_user)["revenue"]["by_product"]}
    assert {f"H{i} · {name}" for i, name in enumerate(HOSTILE)} <= labels
    ProductCategory.objects.create(name="unused")
