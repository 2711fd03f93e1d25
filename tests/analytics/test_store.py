"""The analytical store: columns, values, incremental runs, deletes, crashes, compaction.

Orders are entered through the sales services (so lines, totals, the purchase interaction
and the change log are what production writes); customers and products straight to their
tables, as the sales tests do. Every test has its own store in ``tmp_path`` and reads with
``overlap=0`` so that an incremental run reads exactly the rows changed since the last one.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from vefa.analytics import extract
from vefa.analytics.engine import Engine, day_number, month_number
from vefa.analytics.store import (
    FULL_REASONS,
    TABLES,
    NotExtracted,
    Store,
    StoreBusy,
)
from vefa.interactions.services.activities import activity_create, activity_delete
from vefa.interactions.services.interactions import interaction_create, interaction_delete
from vefa.sales.models import ExchangeRate, Product, ProductCategory
from vefa.sales.money import RateTable
from vefa.sales.services.orders import order_cancel, order_create, order_set_status, order_update

UTC = datetime.UTC

CONTRACT: dict[str, dict[str, pa.DataType]] = {
    "transactions": {
        "customer_id": pa.int64(),
        "order_id": pa.int64(),
        "day": pa.int32(),
        "month": pa.int32(),
        "revenue": pa.int64(),
        "cost": pa.int64(),
    },
    "lines": {
        "line_id": pa.int64(),
        "order_id": pa.int64(),
        "customer_id": pa.int64(),
        "product_id": pa.int64(),
        "category_id": pa.int64(),
        "day": pa.int32(),
        "month": pa.int32(),
        "quantity": pa.float64(),
        "revenue": pa.int64(),
        "cost": pa.int64(),
    },
    "customers": {
        "customer_id": pa.int64(),
        "kind": pa.string(),
        "created_day": pa.int32(),
        "industry": pa.string(),
        "size_band": pa.string(),
        "owner_id": pa.int64(),
        "team_id": pa.int64(),
        "declared_wallet": pa.int64(),
    },
    "activities": {
        "activity_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "kind": pa.string(),
        "status": pa.string(),
    },
    "interactions": {
        "interaction_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "kind": pa.string(),
        "channel": pa.string(),
        "direction": pa.string(),
    },
    "products": {
        "product_id": pa.int64(),
        "category_id": pa.int64(),
        "unit_cost": pa.int64(),
    },
}


@pytest.fixture(autouse=True)
def _business_settings(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    settings.VEFA_ANALYTICS_CURRENCY = "TRY"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "analytics", overlap=0)


@pytest.fixture
def coffee(db) -> Product:
    category = ProductCategory.objects.create(name="Kahve")
    return Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi 250 g",
        category=category,
        list_price=Decimal("120.00"),
        unit_cost=Decimal("70.00"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )


@pytest.fixture
def customer(admin_user, team):
    return make_customer(owner=admin_user, team=team, first_name="Ayşe", last_name="Yılmaz")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def buy(actor, customer, *lines: dict[str, Any], status="confirmed", when=None, currency="TRY"):
    return order_create(
        actor=actor,
        customer=customer,
        lines=list(lines),
        currency=currency,
        status=status,
        ordered_at=when or at("2026-03-10 09:00"),
    )


def rows(store: Store, table: str, sort: str | None = None) -> list[dict[str, Any]]:
    data = pq.read_table(store.path(table)).to_pylist()
    return sorted(data, key=lambda r: r[sort]) if sort else data


# --- columns and values ---------------------------------------------------------------------------


def test_current_tables_have_the_contract_columns_and_types(store, admin_user, customer, coffee):
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "2"})
    interaction_create(actor=admin_user, customer_id=customer.pk, kind="call", subject="Hello")
    activity_create(
        actor=admin_user,
        kind="task",
        subject="Call back",
        customer_id=customer.pk,
        due_at=at("2026-03-12 10:00"),
    )
    store.extract()
    for table, columns in CONTRACT.items():
        schema = pq.read_schema(store.path(table))
        found = {name: schema.field(name).type for name in columns}
        assert found == columns, table
        assert len(pq.read_table(store.path(table))) >= 1, table
    assert set(TABLES) <= {p.stem for p in (store.root / "current").glob("*.parquet")}


def test_values_cents_conversion_and_business_days(store, admin_user, team, coffee):
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="EUR", quote_currency="TRY", rate="35.1234"
    )
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 20), currency="EUR", quote_currency="TRY", rate="40"
    )
    firm = make_customer(
        kind="organisation",
        trade_name="Acme Kahve A.Ş.",
        nace_code="47.11",
        employee_count=30,
        custom_fields={"declared_wallet": "250000.50"},
        owner=admin_user,
        team=team,
    )
    # 21:30 UTC on 31 March is 00:30 on 1 April in Istanbul: the next day and month.
    midnight = buy(
        admin_user,
        firm,
        {"product": coffee.pk, "quantity": "2"},
        {"description": "Kurulum", "quantity": "1", "unit_price": "99.995", "tax_rate": "20"},
        when=at("2026-03-31 21:30"),
    )
    before_midnight = buy(
        admin_user, firm, {"product": coffee.pk, "quantity": "1"}, when=at("2026-03-31 20:59")
    )
    euro = buy(
        admin_user,
        firm,
        {"product": coffee.pk, "quantity": "3", "unit_price": "100"},
        currency="EUR",
        when=at("2026-03-10 09:00"),
    )
    draft = buy(admin_user, firm, {"product": coffee.pk, "quantity": "1"}, status="draft")
    result = store.extract()
    assert result.full and result.reason == "first_run"
    assert result.missing_currencies == ()

    by_order = {r["order_id"]: r for r in rows(store, "transactions")}
    assert set(by_order) == {midnight.pk, before_midnight.pk, euro.pk}
    april_first = datetime.date(2026, 4, 1)
    assert by_order[midnight.pk] == {
        "customer_id": firm.pk,
        "order_id": midnight.pk,
        "day": day_number(april_first),
        "month": month_number(april_first),
        "revenue": 24000 + 10000,  # 2 × 120.00 and 99.995 rounded half up to 100.00
        "cost": 14000,  # 2 × 70.00; the free-text line has no cost
    }
    march_31 = datetime.date(2026, 3, 31)
    assert by_order[before_midnight.pk]["day"] == day_number(march_31)
    assert by_order[before_midnight.pk]["month"] == month_number(march_31)
    # 300 EUR at the rate of 1 March (the latest on or before 10 March).
    expected = RateTable.load("TRY").convert(Decimal("300"), "EUR", datetime.date(2026, 3, 10))
    assert expected == Decimal("10537.02")
    assert by_order[euro.pk]["revenue"] == 1053702
    # The product's unit cost is in TRY, not the order's EUR: taken as 3 × 70.00 TRY.
    assert by_order[euro.pk]["cost"] == 21000
    assert by_order[euro.pk]["day"] == day_number(datetime.date(2026, 3, 10))

    orders = {r["order_id"]: r for r in rows(store, "orders")}
    assert orders[draft.pk]["status"] == "draft"
    assert orders[euro.pk]["currency"] == "EUR"
    assert Decimal(orders[euro.pk]["net"]) == Decimal("300")
    assert {r["status"] for r in orders.values()} == {"confirmed", "draft"}

    lines = rows(store, "lines", sort="line_id")
    assert {r["order_id"] for r in lines} == {midnight.pk, before_midnight.pk, euro.pk}
    first, free = [r for r in lines if r["order_id"] == midnight.pk]
    assert first["product_id"] == coffee.pk and first["category_id"] == coffee.category_id
    assert (first["quantity"], first["revenue"], first["cost"]) == (2.0, 24000, 14000)
    assert free["product_id"] is None and free["category_id"] is None
    assert (free["revenue"], free["cost"]) == (10000, 0)
    assert all(r["customer_id"] == firm.pk for r in lines)
    assert {r["day"] for r in lines if r["order_id"] == midnight.pk} == {day_number(april_first)}

    (customer,) = rows(store, "customers")
    assert customer["kind"] == "organization"
    assert customer["industry"] == "G"
    assert customer["size_band"] == "small"
    assert customer["declared_wallet"] == 25000050
    assert customer["owner_id"] == admin_user.pk and customer["team_id"] == team.pk
    assert customer["customer_name"] == "Acme Kahve A.Ş."

    (product,) = rows(store, "products")
    assert product["unit_cost"] == 7000 and product["category_name"] == "Kahve"

    interactions = rows(store, "interactions")
    assert {r["kind"] for r in interactions} == {"purchase"}
    assert {r["direction"] for r in interactions} == {"in"}
    dates = rows(store, "dates")
    days = [r["day"] for r in dates]
    assert days == list(range(days[0], days[-1] + 1))
    assert days[0] == day_number(datetime.date(2026, 3, 10))
    april = next(r for r in dates if r["day"] == day_number(april_first))
    assert april["date"] == april_first and april["month"] == month_number(april_first)
    assert (april["quarter"], april["weekday"]) == (2, april_first.isoweekday())


def test_interaction_directions_and_activity_days(store, admin_user, customer):
    for direction in ("inbound", "outbound", "internal"):
        interaction_create(
            actor=admin_user,
            customer_id=customer.pk,
            kind="call",
            subject=direction,
            direction=direction,
            channel="phone",
            occurred_at=at("2026-05-01 21:15"),
        )
    activity_create(
        actor=admin_user,
        kind="task",
        subject="Offer",
        customer_id=customer.pk,
        due_at=at("2026-05-02 22:30"),
    )
    activity_create(actor=admin_user, kind="task", subject="No customer", due_at=at("2026-05-02"))
    store.extract()
    interactions = rows(store, "interactions")
    assert sorted(r["direction"] for r in interactions) == ["", "in", "out"]
    assert {r["day"] for r in interactions} == {day_number(datetime.date(2026, 5, 2))}
    assert {r["channel"] for r in interactions} == {"phone"}
    (activity,) = rows(store, "activities")  # the one without a customer is left out
    assert activity["day"] == day_number(datetime.date(2026, 5, 3))
    assert (activity["kind"], activity["status"]) == ("task", "planned")


def test_an_order_in_a_currency_without_rates_is_left_out_and_reported(
    store, admin_user, customer, coffee
):
    usd = buy(
        admin_user,
        customer,
        {"description": "Import", "quantity": "1", "unit_price": "10"},
        currency="USD",
    )
    kept = buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    result = store.extract()
    assert result.missing_currencies == ("USD",)
    assert store.manifest["missing_currencies"] == ["USD"]
    assert [r["order_id"] for r in rows(store, "transactions")] == [kept.pk]
    orders = {r["order_id"]: r for r in rows(store, "orders")}
    assert orders[usd.pk]["revenue"] is None
    assert {r["order_id"] for r in rows(store, "lines")} == {kept.pk}
    # Still missing in the next run, though that run read no dollar amount.
    assert store.extract().missing_currencies == ("USD",)
    # The first dollar rate serves every earlier day: everything is read again.
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="USD", quote_currency="TRY", rate="32.5"
    )
    result = store.extract()
    assert result.full and result.missing_currencies == ()
    assert {r["order_id"]: r["revenue"] for r in rows(store, "transactions")}[usd.pk] == 32500


def test_large_amounts_stay_exact(store, admin_user, customer):
    big = buy(
        admin_user,
        customer,
        {"description": "Tersane", "quantity": "1000", "unit_price": "9999999999.99"},
    )
    store.extract()
    (row,) = rows(store, "transactions")
    assert row["order_id"] == big.pk
    assert row["revenue"] == 999_999_999_999_000  # 9,999,999,999,990.00 TRY in cents


# --- incremental runs -----------------------------------------------------------------------------


def part_count(store: Store) -> int:
    tables = store.manifest["tables"].values()
    return sum(len(t["parts"]) + len(t["deletes"]) for t in tables)


def test_an_incremental_run_reads_only_what_changed(store, admin_user, customer, coffee):
    first = buy(
        admin_user,
        customer,
        {"product": coffee.pk, "quantity": "1"},
        {"product": coffee.pk, "quantity": "2"},
    )
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "5"})
    result = store.extract()
    assert result.counts == {
        "categories": 1,
        "products": 1,
        "customers": 1,
        "orders": 2,
        "lines": 3,
        "interactions": 2,
        "activities": 0,
        "tickets": 0,
        "returns": 0,
        "return_lines": 0,
        "survey_answers": 0,
    }
    files = part_count(store)

    again = store.extract()
    assert not again.full
    assert set(again.counts.values()) == {0} and set(again.deleted.values()) == {0}
    assert part_count(store) == files  # nothing changed: no new part
    assert again.rows == result.rows

    order_update(actor=admin_user, order_id=first.pk, data={"notes": "Kapıda ödeme"})
    interaction_create(actor=admin_user, customer_id=customer.pk, kind="email", subject="Fatura")
    third = store.extract()
    assert third.counts["orders"] == 1
    assert third.counts["lines"] == 2  # every line of the changed order, nothing else
    assert third.counts["interactions"] == 1
    assert third.counts["customers"] == third.counts["products"] == 0
    assert third.rows["transactions"] == 2 and third.rows["interactions"] == 3
    assert third.run == 3


def test_a_changed_row_replaces_its_earlier_version(store, admin_user, customer, coffee):
    from vefa.customers.services.customers import customer_update

    order = buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    store.extract()
    customer_update(actor=admin_user, customer_id=customer.pk, data={"first_name": "Fatma"})
    Product.objects.filter(pk=coffee.pk).update(unit_cost="80.00", updated_at=timezone.now())
    order_update(actor=admin_user, order_id=order.pk, data={"ordered_at": at("2026-06-01 10:00")})
    store.extract()
    (row,) = rows(store, "customers")
    assert row["customer_name"] == "Fatma Yılmaz"
    (product,) = rows(store, "products")
    assert product["unit_cost"] == 8000
    (tx,) = rows(store, "transactions")
    assert tx["day"] == day_number(datetime.date(2026, 6, 1))
    (line,) = rows(store, "lines")
    assert line["day"] == tx["day"]
    # The line keeps the unit cost the order was entered with (70.00).
    assert tx["cost"] == line["cost"] == 7000


def test_cancelled_and_deleted_records_disappear(store, admin_user, team, customer, coffee):
    order = buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    kept = buy(admin_user, customer, {"product": coffee.pk, "quantity": "2"})
    call = interaction_create(actor=admin_user, customer_id=customer.pk, kind="call", subject="A")
    task = activity_create(
        actor=admin_user, kind="task", subject="B", customer_id=customer.pk, due_at=at("2026-05-01")
    )
    leaving = make_customer(owner=admin_user, team=team, first_name="Giden", last_name="Müşteri")
    interaction_create(actor=admin_user, customer_id=leaving.pk, kind="call", subject="C")
    activity_create(
        actor=admin_user, kind="call", subject="D", customer_id=leaving.pk, due_at=at("2026-05-02")
    )
    store.extract()
    assert len(rows(store, "interactions")) == 4
    assert len(rows(store, "activities")) == 2

    from vefa.customers.services.customers import customer_delete

    order_cancel(actor=admin_user, order_id=order.pk)  # also removes its purchase interaction
    interaction_delete(actor=admin_user, interaction_id=call.pk)
    activity_delete(actor=admin_user, activity_id=task.pk)
    customer_delete(actor=admin_user, customer_id=leaving.pk)  # cascades to its history
    result = store.extract()
    assert result.deleted["interactions"] == 3  # purchase, call, and the customer's rows
    assert result.deleted["customers"] == 1
    assert [r["order_id"] for r in rows(store, "transactions")] == [kept.pk]
    assert {r["order_id"] for r in rows(store, "lines")} == {kept.pk}
    assert {r["order_id"]: r["status"] for r in rows(store, "orders")}[order.pk] == "cancelled"
    assert [r["customer_id"] for r in rows(store, "customers")] == [customer.pk]
    interactions = rows(store, "interactions")
    assert [r["kind"] for r in interactions] == ["purchase"]
    assert rows(store, "activities") == []


def test_an_order_read_again_replaces_all_its_lines(store, admin_user, customer, coffee):
    order = buy(
        admin_user,
        customer,
        {"product": coffee.pk, "quantity": "1"},
        {"product": coffee.pk, "quantity": "2"},
        status="draft",
    )
    store.extract()
    assert {r["order_id"]: r["cost"] for r in rows(store, "orders")}[order.pk] == 21000
    order_update(
        actor=admin_user,
        order_id=order.pk,
        data={},
        lines=[{"product": coffee.pk, "quantity": "4"}],
    )
    result = store.extract()
    assert result.counts["lines"] == 1
    # The two old lines are gone: the order's cost is the new line's alone.
    assert {r["order_id"]: r["cost"] for r in rows(store, "orders")}[order.pk] == 28000
    order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    store.extract()
    (line,) = rows(store, "lines")
    assert (line["quantity"], line["revenue"], line["cost"]) == (4.0, 48000, 28000)


def test_overlap_reads_recent_rows_again_without_duplicates(tmp_path, admin_user, customer, coffee):
    store = Store(tmp_path / "overlap", overlap=300)
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    store.extract()
    again = store.extract()
    assert again.counts["orders"] == 1  # changed within the last 5 minutes: read again
    assert len(rows(store, "transactions")) == 1
    assert len(rows(store, "lines")) == 1


def test_rows_read_again_unchanged_leave_the_current_files_alone(
    tmp_path, admin_user, customer, coffee
):
    store = Store(tmp_path / "overlap", overlap=300)
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    store.extract()
    written = {name: store.path(name).stat().st_mtime_ns for name in ("transactions", "lines")}
    again = store.extract()
    assert not again.full
    assert again.counts["orders"] == 1  # read again within the overlap …
    # … found identical, so the current files were not rewritten.
    assert {name: store.path(name).stat().st_mtime_ns for name in written} == written
    assert len(rows(store, "transactions")) == 1


def test_a_rate_read_again_within_the_overlap_is_not_a_change(tmp_path, admin_user, customer):
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="EUR", quote_currency="TRY", rate="30"
    )
    buy(
        admin_user,
        customer,
        {"description": "Makine", "quantity": "1", "unit_price": "100"},
        currency="EUR",
        when=at("2026-03-10 09:00"),
    )
    store = Store(tmp_path / "rates", overlap=300)
    assert store.extract().full
    # The rate was saved moments ago, inside the overlap: seen already, so no full run.
    result = store.extract()
    assert not result.full and result.reason == ""


def test_a_new_exchange_rate_converts_affected_orders_again(store, admin_user, customer):
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="EUR", quote_currency="TRY", rate="30"
    )
    euro = buy(
        admin_user,
        customer,
        {"description": "Makine", "quantity": "1", "unit_price": "100"},
        currency="EUR",
        when=at("2026-03-10 09:00"),
    )
    store.extract()
    assert rows(store, "transactions")[0]["revenue"] == 300000
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 9), currency="EUR", quote_currency="TRY", rate="31"
    )
    result = store.extract()
    assert not result.full and result.counts["orders"] == 1
    assert rows(store, "transactions")[0]["revenue"] == 310000
    # A rate before every other one also serves the days before it: everything again.
    ExchangeRate.objects.create(
        day=datetime.date(2026, 1, 1), currency="EUR", quote_currency="TRY", rate="29"
    )
    result = store.extract()
    assert result.full and result.reason == "rates"
    assert euro.pk == rows(store, "transactions")[0]["order_id"]


def test_a_deleted_exchange_rate_reads_everything_again(store, admin_user, customer):
    from vefa.sales.services.catalogue_prices import exchange_rate_delete

    unrelated = ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="EUR", quote_currency="USD", rate="1.1"
    )
    used = ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 1), currency="EUR", quote_currency="TRY", rate="30"
    )
    ExchangeRate.objects.create(
        day=datetime.date(2026, 3, 2), currency="EUR", quote_currency="TRY", rate="31"
    )
    buy(
        admin_user,
        customer,
        {"description": "Makine", "quantity": "1", "unit_price": "100"},
        currency="EUR",
        when=at("2026-03-10 09:00"),
    )
    store.extract()
    exchange_rate_delete(actor=admin_user, rate_id=unrelated.pk)  # EUR→USD: not ours
    assert not store.extract().full
    exchange_rate_delete(actor=admin_user, rate_id=used.pk)
    result = store.extract()
    assert result.full and result.reason == "rates"
    assert rows(store, "transactions")[0]["revenue"] == 310000


def test_a_changed_setting_reads_everything_again(store, settings, admin_user, customer, coffee):
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    store.extract()
    settings.TIME_ZONE = "Asia/Tehran"
    result = store.extract()
    assert result.full and result.reason == "time_zone"
    assert result.counts["orders"] == 1
    assert store.extract(full=True).reason == "asked"
    assert str(FULL_REASONS["time_zone"]) == "The time zone changed."


# --- crashes, compaction -------------------------------------------------------------------------


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    keys = {
        "transactions": "order_id",
        "orders": "order_id",
        "lines": "line_id",
        "customers": "customer_id",
        "products": "product_id",
        "interactions": "interaction_id",
        "activities": "activity_id",
        "dates": "day",
    }
    return {table: rows(store, table, sort=key) for table, key in keys.items()}


def make_history(admin_user, customer, coffee) -> dict[str, Any]:
    order = buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    other = buy(admin_user, customer, {"product": coffee.pk, "quantity": "3"}, status="draft")
    call = interaction_create(actor=admin_user, customer_id=customer.pk, kind="call", subject="X")
    return {"order": order, "other": other, "call": call}


def change_history(admin_user, customer, coffee, made: dict[str, Any]) -> None:
    order_update(
        actor=admin_user,
        order_id=made["other"].pk,
        data={},
        lines=[{"product": coffee.pk, "quantity": "9"}],
    )
    order_set_status(actor=admin_user, order_id=made["other"].pk, status="confirmed")
    interaction_delete(actor=admin_user, interaction_id=made["call"].pk)
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "7"})


@pytest.mark.parametrize("where", ["after the first part", "inside a table", "before the manifest"])
def test_a_run_that_dies_is_redone_cleanly(
    where, store, tmp_path, monkeypatch, admin_user, customer, coffee
):
    from vefa.analytics import store as store_module

    made = make_history(admin_user, customer, coffee)
    store.extract()
    before = snapshot(store)
    manifest = store.manifest
    change_history(admin_user, customer, coffee, made)

    class Killed(Exception):
        pass

    calls = {"n": 0}
    if where == "after the first part":
        real = store_module._publish

        def publish(temporary, final):
            real(temporary, final)
            raise Killed

        monkeypatch.setattr(store_module, "_publish", publish)
    elif where == "inside a table":
        real_advance = extract.advance

        def advance(source, marks, raw):
            calls["n"] += 1
            if source.name == "lines":
                raise Killed
            return real_advance(source, marks, raw)

        monkeypatch.setattr(extract, "advance", advance)
    else:
        real_write = store_module._write_json

        def write_json(path, data):
            if path.name == "manifest.json":
                raise Killed
            real_write(path, data)

        monkeypatch.setattr(store_module, "_write_json", write_json)
    with pytest.raises(Killed):
        store.extract()
    monkeypatch.undo()

    # The dead run changed nothing readers see.
    assert store.manifest == manifest
    assert snapshot(store) == before
    result = store.extract()
    assert result.run == 2 and not result.full
    listed = {name for t in store.manifest["tables"].values() for name in t["parts"] + t["deletes"]}
    on_disk = {p.name for p in (store.root / "parts").rglob("*") if p.is_file()}
    assert on_disk == listed  # the dead run's files were removed
    fresh = Store(tmp_path / "fresh", overlap=0)
    fresh.extract()
    assert snapshot(store) == snapshot(fresh)


def test_compaction_rewrites_a_table_as_one_part(tmp_path, admin_user, customer, coffee):
    store = Store(tmp_path / "compact", overlap=0, compact_after=3)
    made = make_history(admin_user, customer, coffee)
    store.extract()
    change_history(admin_user, customer, coffee, made)
    store.extract()
    compacted: dict[int, tuple[str, ...]] = {}
    for quantity in ("2", "4"):
        buy(admin_user, customer, {"product": coffee.pk, "quantity": quantity})
        result = store.extract()
        compacted[result.run] = result.compacted
    # Interactions: parts of runs 1, 2 and 3 and the deletes of run 2 (4 files > 3).
    assert compacted == {3: ("interactions",), 4: ("orders", "lines")}
    tables = store.manifest["tables"]
    assert tables["orders"]["parts"] == ["part-000004-compact.parquet"]
    assert tables["interactions"] == {
        **tables["interactions"],
        "parts": ["part-000003-compact.parquet", "part-000004.parquet"],
        "deletes": [],
    }
    on_disk = {p.name for p in (store.root / "parts" / "orders").iterdir()}
    assert on_disk == {"part-000004-compact.parquet"}
    fresh = Store(tmp_path / "fresh", overlap=0)
    fresh.extract()
    assert snapshot(store) == snapshot(fresh)
    # Later runs add parts after the compacted one and still read right.
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "6"})
    store.extract()
    fresh.extract()
    assert snapshot(store) == snapshot(fresh)
    assert store.compact(force=True)
    assert all(len(t["parts"]) <= 1 for t in store.manifest["tables"].values())
    assert snapshot(store) == snapshot(fresh)


def test_a_small_memory_limit_spills_and_gives_the_same_store(
    tmp_path, settings, admin_user, customer, coffee
):
    for quantity in range(1, 4):
        buy(admin_user, customer, {"product": coffee.pk, "quantity": str(quantity)})
    whole = Store(tmp_path / "whole", overlap=0)
    whole.extract()
    settings.VEFA_ANALYTICS_MEMORY_LIMIT = "64MB"
    small = Store(tmp_path / "small", overlap=0)
    small.extract()
    assert snapshot(small) == snapshot(whole)
    settings.VEFA_ANALYTICS_MEMORY_LIMIT = "lots"
    with pytest.raises(duckdb.Error):
        small.extract()
    assert small.manifest["run"] == 1  # refused before reading anything


def test_small_batches_give_the_same_store(tmp_path, admin_user, customer, coffee):
    for quantity in range(1, 6):
        buy(admin_user, customer, {"product": coffee.pk, "quantity": str(quantity)})
    whole = Store(tmp_path / "whole", overlap=0)
    whole.extract()
    small = Store(tmp_path / "small", overlap=0, batch_rows=2)
    steps: list[tuple[str, int]] = []
    small.extract(progress=lambda step, count: steps.append((step, count)))
    assert ("orders", 2) in steps and ("orders", 4) in steps and ("orders", 5) in steps
    assert snapshot(small) == snapshot(whole)
    marks = small.manifest["tables"]["orders"]["marks"]["row"]
    assert marks["id"] == max(r["order_id"] for r in rows(small, "orders"))


# --- edges ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_database_gives_empty_tables_with_the_columns(store):
    result = store.extract()
    assert set(result.counts.values()) == {0}
    for table, columns in CONTRACT.items():
        data = pq.read_table(store.path(table))
        assert data.num_rows == 0
        assert {name: data.schema.field(name).type for name in columns} == columns
    engine = Engine("duckdb")
    try:
        frame = store.frame("transactions", engine)
        assert engine.collect(frame).num_rows == 0
    finally:
        engine.close()
    assert rows(store, "dates") == []
    assert store.extract().run == 2


def test_hostile_text_round_trips(store, admin_user, team):
    category = ProductCategory.objects.create(name=HOSTILE[3])
    for i, text in enumerate(HOSTILE):
        make_customer(owner=admin_user, team=team, first_name=text, last_name="", city=text)
        Product.objects.create(
            sku=f"{text[:50]}{i}", name=text, category=category, list_price=1, currency="TRY"
        )
    quoted = make_customer(
        owner=admin_user, team=team, first_name='a,"b"\nc\r\n', last_name="", city=""
    )
    store.extract()
    customers = rows(store, "customers", sort="customer_id")
    assert [r["customer_name"] for r in customers] == [*HOSTILE, 'a,"b"\nc\r\n']
    assert [r["city"] for r in customers] == [*HOSTILE, ""]
    assert customers[-1]["customer_id"] == quoted.pk
    products = rows(store, "products", sort="product_id")
    assert [r["product_name"] for r in products] == HOSTILE
    assert {r["category_name"] for r in products} == {HOSTILE[3]}


def test_custom_field_wallet_that_is_not_a_number_is_left_empty(store, admin_user, team):
    make_customer(owner=admin_user, team=team, custom_fields={"declared_wallet": "çok"})
    make_customer(owner=admin_user, team=team, custom_fields={"declared_wallet": 1200})
    make_customer(owner=admin_user, team=team, custom_fields={"declared_wallet": "1e400"})
    make_customer(owner=admin_user, team=team)
    store.extract()
    assert [r["declared_wallet"] for r in rows(store, "customers", sort="customer_id")] == [
        None,
        120000,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("code", "section"),
    [("47.11", "G"), ("C10.1", "C"), ("01", "A"), ("99.00", "U"), ("", ""), ("4", ""),
     ("04.1", ""), ("Z12", ""), ("ab", ""), ("G10.1", ""), (" 86.10 ", "Q"), ("4711", "")],
)  # fmt: skip
def test_nace_section(code, section):
    assert extract.nace_section(code) == section


@pytest.mark.parametrize(
    ("employees", "band"),
    [(None, ""), (0, "micro"), (9, "micro"), (10, "small"), (49, "small"), (50, "medium"),
     (249, "medium"), (250, "large"), (10**9, "large")],
)  # fmt: skip
def test_size_band(employees, band):
    assert extract.size_band(employees) == band


@pytest.mark.parametrize("target", ["TRY", "IRR", "KWD"])
def test_column_rounding_agrees_with_the_rate_table(target):
    """The whole-column path and ``RateTable.convert`` give the same cents."""
    rates = RateTable(target, {"EUR": [(datetime.date(2026, 1, 1), Decimal("35.123456789"))]})
    context = extract.Context(target=target, rates=rates, zone="UTC")
    values = [
        "0.005", "-0.005", "0.0049", "2.345", "-2.345", "0.5", "1.4999", "-1.5", "123.4567",
        "9999999999999999.9999", "0", None,
    ]  # fmt: skip
    texts = pa.array(values, pa.string())
    days = pa.array([day_number(datetime.date(2026, 2, 1))] * len(values), pa.int32())
    for currency in (target, "EUR"):
        currencies = pa.array([currency] * len(values), pa.string())
        cents = extract.to_cents(extract.decimals(texts), currencies, days, context).to_pylist()
        for text, got in zip(values, cents, strict=True):
            if text is None:
                assert got is None
                continue
            converted = rates.convert(Decimal(text), currency, datetime.date(2026, 2, 1))
            assert converted is not None
            expected = int((converted * 100).to_integral_value(rounding="ROUND_HALF_UP"))
            if abs(converted) > 9 * 10**16:
                assert got is None  # beyond int64 cents: unknown, never a wrapped number
            else:
                assert got == expected, (currency, text)


def test_unparseable_amounts_and_times_are_handled():
    odd = pa.array(["12.34567", "abc", None, "1e3"], pa.string())
    assert extract.decimals(odd).to_pylist() == [Decimal("12.3457"), None, None, Decimal("1000")]
    # SQLite keeps decimals as REAL or INTEGER: rounding the double recovers the stored value.
    stored = pa.array([12.5, 120, None, 0.1 + 0.2, -2.3456, 1e30], pa.float64())
    assert extract.decimals(stored).to_pylist() == [
        Decimal("12.5"),
        Decimal("120"),
        None,
        Decimal("0.3"),
        Decimal("-2.3456"),
        None,  # wider than the column: unknown, not a wrapped number
    ]
    assert extract._number_array([1, 2.5, "3.25", "x", None]).to_pylist() == [
        1.0,
        2.5,
        3.25,
        None,
        None,
    ]
    times = pa.array(["2026-03-01T10:00:00+03:00", "2026-03-01 07:00:00"], pa.string())
    parsed = extract.utc_times(times).to_pylist()
    assert parsed[0] == parsed[1] == at("2026-03-01 07:00")
    with pytest.raises(ValueError, match="not a date"):
        extract.utc_times(pa.array(["yesterday"], pa.string()))


def test_store_arguments_and_errors(tmp_path, settings):
    with pytest.raises(ValueError, match="overlap"):
        Store(tmp_path, overlap=-1)
    with pytest.raises(ValueError, match="compact_after"):
        Store(tmp_path, compact_after=0)
    with pytest.raises(ValueError, match="batch_rows"):
        Store(tmp_path, batch_rows=0)
    store = Store(tmp_path / "empty")
    with pytest.raises(ValueError, match="unknown analytics table"):
        store.path("../../etc/passwd")
    with pytest.raises(NotExtracted):
        store.path("transactions")
    assert store.manifest == {}
    assert store.compact() == []
    settings.VEFA_ANALYTICS_DIR = str(tmp_path / "configured")
    assert Store().root == tmp_path / "configured"
    settings.VEFA_ANALYTICS_WALLET_FIELD = "x'; DROP TABLE"
    with pytest.raises(ValueError, match="custom field key"):
        extract.wallet_field()


def test_one_extract_at_a_time(store, db):
    with store._lock(), pytest.raises(StoreBusy):
        Store(store.root).extract()


def test_reset_forgets_everything(store, admin_user, customer, coffee):
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "1"})
    store.extract()
    (store.root / "results").mkdir()
    store.reset()
    assert store.manifest == {}
    assert (store.root / "results").exists()  # other files of the directory stay
    with pytest.raises(NotExtracted):
        store.path("transactions")
    result = store.extract()
    assert result.full and result.run == 1 and result.rows["transactions"] == 1


def test_frames_on_each_engine(engine, store, admin_user, customer, coffee):
    buy(admin_user, customer, {"product": coffee.pk, "quantity": "2"})
    store.extract()
    table = engine.collect(store.frame("transactions", engine), sort=["order_id"])
    assert table.column_names == list(CONTRACT["transactions"])
    assert table.column("revenue").to_pylist() == [24000]


def test_copy_and_cursor_reading_agree_on_postgresql(tmp_path, admin_user, team, coffee):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    for i, text in enumerate(HOSTILE):
        someone = make_customer(owner=admin_user, team=team, first_name=text, last_name=str(i))
        buy(
            admin_user,
            someone,
            {"product": coffee.pk, "quantity": "1.5"},
            {"description": text, "quantity": "2", "unit_price": "0.01"},
        )
    copied = Store(tmp_path / "copy", overlap=0, use_copy=True)
    fetched = Store(tmp_path / "cursor", overlap=0, use_copy=False, batch_rows=3)
    copied.extract()
    fetched.extract()
    assert snapshot(copied) == snapshot(fetched)
    assert (
        copied.manifest["tables"]["orders"]["marks"]
        == (fetched.manifest["tables"]["orders"]["marks"])
    )
