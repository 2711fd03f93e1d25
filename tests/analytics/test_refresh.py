"""The refresh end to end: orders entered through the sales services → extract → metrics →
results and snapshot → customer scores; incremental runs; a run killed half way."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from vefa.analytics import refresh as refresh_module
from vefa.analytics import services
from vefa.analytics.models import CustomerScore, Refresh
from vefa.sales.models import Product, ProductCategory
from vefa.sales.services.orders import order_create

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
AS_OF = datetime.date(2026, 11, 1)
SCORE_FIELDS = ["customer_id", "last_purchase_on", *services.SCORE_COLUMNS[1:]]


@pytest.fixture(autouse=True)
def _store(settings, tmp_path):
    settings.ANALYTICS_DIR = tmp_path / "analytics"
    settings.VEFA_ANALYTICS_OVERLAP_SECONDS = 0


@pytest.fixture
def products(db) -> list[Product]:
    category = ProductCategory.objects.create(name="Kahve")
    return [
        Product.objects.create(
            sku=f"P-{n}",
            name=f"Ürün {n}",
            category=category,
            list_price=Decimal(100 * (n + 1)),
            unit_cost=Decimal(60 * (n + 1)),
            currency="TRY",
            tax_rate=Decimal("20"),
        )
        for n in range(3)
    ]


def _when(days_before: int) -> datetime.datetime:
    day = AS_OF - datetime.timedelta(days=days_before)
    return datetime.datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def _buy(actor, customer, product, days_before, quantity="1", extra=None):
    lines = [{"product": product.pk, "quantity": quantity}]
    if extra is not None:
        lines.append({"product": extra.pk, "quantity": "1"})
    return order_create(
        actor=actor,
        customer=customer,
        lines=lines,
        currency="TRY",
        status="confirmed",
        ordered_at=_when(days_before),
    )


@pytest.fixture
def shop(admin_user, team, products):
    """Twelve customers with histories a person can reason about."""
    p0, p1, p2 = products
    people: dict[str, Any] = {}
    # A loyal big spender: an order every 3 weeks for two years, both products together.
    people["loyal"] = make_customer(owner=admin_user, team=team, first_name="Sadık")
    for n in range(35):
        _buy(admin_user, people["loyal"], p2, 5 + 21 * n, quantity="3", extra=p0)
    # A one-time buyer, long ago.
    people["once"] = make_customer(owner=admin_user, team=team, first_name="Bir")
    _buy(admin_user, people["once"], p0, 300)
    # A customer who bought monthly last year and twice this year: declining.
    people["fading"] = make_customer(owner=admin_user, team=team, first_name="Azalan")
    for n in range(12):
        _buy(admin_user, people["fading"], p1, 400 + 28 * n, quantity="2", extra=p0)
    _buy(admin_user, people["fading"], p1, 200)
    _buy(admin_user, people["fading"], p1, 150)
    # Regular buyers every two months.
    for index in range(6):
        person = make_customer(owner=admin_user, team=team, first_name=f"Düzenli{index}")
        people[f"regular{index}"] = person
        for n in range(6):
            _buy(admin_user, person, p0, 10 + index + 60 * n, extra=p2 if n % 2 else None)
    # Occasional buyers.
    for index in range(3):
        person = make_customer(owner=admin_user, team=team, first_name=f"Arada{index}")
        people[f"occasional{index}"] = person
        _buy(admin_user, person, p1, 40 + index)
        _buy(admin_user, person, p0, 120 + index)
    # A customer without orders has no score.
    people["none"] = make_customer(owner=admin_user, team=team, first_name="Hiç")
    return people


def _run(full: bool = False) -> Refresh:
    row = Refresh.objects.create(as_of=AS_OF, full=full)
    refresh_module.run(row)
    row.refresh_from_db()
    return row


def _scores() -> dict[int, dict[str, Any]]:
    return {
        row["customer_id"]: row
        for row in CustomerScore.objects.order_by("customer_id").values(*SCORE_FIELDS)
    }


def test_refresh_scores_every_buyer_and_writes_results(shop):
    run = _run()
    assert run.status == Refresh.Status.DONE, run.error
    assert run.figures["customers_scored"] == 12
    assert {"extract", "rfm", "clv", "write_back", "total"} <= set(run.figures["seconds"])
    scores = _scores()
    assert shop["none"].pk not in scores
    loyal = scores[shop["loyal"].pk]
    assert loyal["ladder_step"] == "loyal"
    assert loyal["value_class"] == "A"
    assert loyal["rfm_segment"] == "champions"
    assert loyal["last_purchase_on"] == AS_OF - datetime.timedelta(days=5)
    assert loyal["churn_risk"] == "low"
    assert loyal["p_alive"] is not None and loyal["p_alive"] > 0.9
    # Twelve customers with near-constant spends give the spend model no spread between
    # customers: either it cannot be fitted (the refresh says so and values each customer at
    # their own average purchase) or it degenerates to the same thing (p without bound), as
    # the last bits of floating-point arithmetic decide.
    spend_model = run.figures.get("clv_model", {}).get("gamma_gamma")
    if spend_model is None:
        assert "Gamma-Gamma" in run.figures["clv_spend_model_skipped"]
    else:
        assert spend_model["p"] > 1e4
    assert loyal["clv"] is not None and loyal["clv"] > scores[shop["once"].pk]["clv"] >= 0
    once = scores[shop["once"].pk]
    assert once["ladder_step"] == "one_time"
    assert once["value_class"] == "C"
    fading = scores[shop["fading"].pk]
    assert fading["declining"] is True
    assert fading["reasons"]["orders_last_12m"] == 2
    assert fading["reasons"]["orders_prev_12m"] == 12
    # All products are in one category: one of one bought.
    assert (fading["reasons"]["categories_bought"], fading["reasons"]["categories_total"]) == (1, 1)
    assert fading["churn_risk"] in ("medium", "high")
    for index in range(3):
        assert scores[shop[f"occasional{index}"].pk]["ladder_step"] == "occasional"
    # The product bought with p2 every time is the loyal customer's... nothing new to offer;
    # a regular buyer who has only ever bought p0 and p2 is offered nothing they own.
    for row in scores.values():
        assert len(row["next_best"]) == len(set(row["next_best"]))

    folder = refresh_module.latest_results()
    assert folder is not None and folder.name == str(run.pk)
    for name in (
        "scores",
        "rfm_grid",
        "ladder_transitions",
        "pareto",
        "pareto_summary",
        "cohorts",
        "basket_rules",
        "kpis",
        "profitability_by_segment",
        "clv_distribution",
    ):
        assert (folder / f"{name}.parquet").exists(), name
    grid = pq.read_table(folder / "rfm_grid.parquet").to_pylist()
    assert sum(cell["customers"] for cell in grid) == 12
    snapshots = list((refresh_module.store_dir() / "snapshots").glob("*.parquet"))
    assert len(snapshots) == 1
    assert pq.read_table(snapshots[0]).num_rows == 12


def test_a_second_refresh_writes_only_what_changed(shop, admin_user, products):
    first = _run()
    assert first.figures["scores_changed"] == 12
    again = _run()
    assert again.status == Refresh.Status.DONE
    assert again.figures["scores_changed"] == 0
    # One new order of one customer: that customer's row changes (with so few customers the
    # refitted models move everyone's P(alive) too).
    _buy(admin_user, shop["once"], products[1], 2)
    third = _run()
    assert third.figures["scores_changed"] >= 1
    assert _scores()[shop["once"].pk]["ladder_step"] == "occasional"


def test_a_refresh_killed_half_way_and_run_again_ends_as_an_uninterrupted_one(
    shop, monkeypatch, settings, tmp_path
):
    clean = _run()
    assert clean.status == Refresh.Status.DONE
    expected = _scores()

    # Start again from nothing, in a new store, and die in the middle of the write-back.
    CustomerScore.objects.all().delete()
    settings.ANALYTICS_DIR = tmp_path / "second-store"
    monkeypatch.setattr(services, "WRITE_BATCH", 4)
    real = services.scores_write
    calls = {"n": 0}

    def dying_upsert(changed, **kwargs):
        def rows():
            for row in changed.to_pylist():
                calls["n"] += 1
                if calls["n"] == 6:
                    raise KeyboardInterrupt("killed")
                yield row

        return real(rows(), **kwargs)

    monkeypatch.setattr(services, "scores_write", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        _run()
    assert 0 < CustomerScore.objects.count() < 12
    monkeypatch.setattr(services, "scores_write", real)

    resumed = _run()
    assert resumed.status == Refresh.Status.DONE, resumed.error
    assert _scores() == expected


def test_a_failed_step_marks_the_refresh_failed_and_keeps_the_previous_results(shop, monkeypatch):
    good = _run()

    def broken(*args, **kwargs):
        raise RuntimeError("metric exploded")

    monkeypatch.setattr(refresh_module, "_combine", broken)
    with pytest.raises(RuntimeError):
        _run()
    failed = Refresh.objects.order_by("-id").first()
    assert failed.status == Refresh.Status.FAILED
    assert "metric exploded" in failed.error
    folder = refresh_module.latest_results()
    assert folder is not None and folder.name == str(good.pk)
    assert CustomerScore.objects.count() == 12


def test_refresh_on_demand_runs_as_a_job(shop, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = services.refresh_request(actor=admin_user, as_of=AS_OF)
    row.refresh_from_db()
    assert row.status == Refresh.Status.DONE, row.error
    row.job.refresh_from_db()
    assert row.job.status == "succeeded"
    assert row.job.result["refresh_id"] == row.pk
    assert CustomerScore.objects.count() == 12


def test_refresh_of_an_empty_database_finishes_with_no_scores(db):
    run = _run()
    assert run.status == Refresh.Status.DONE, run.error
    assert run.figures["customers_scored"] == 0
    assert CustomerScore.objects.count() == 0


def test_results_are_json_safe_for_the_page(shop):
    run = _run()
    json.dumps(run.figures)
    assert run.finished_at is not None and run.finished_at <= timezone.now()
