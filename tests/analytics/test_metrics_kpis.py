"""Period-over-period KPIs: period boundaries and figures worked out by hand."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest

from tests.analytics.conftest import as_rows
from vefa.analytics.engine import Engine, day_number
from vefa.analytics.metrics import kpis


def d(year: int, month: int, day: int) -> int:
    return day_number(datetime.date(year, month, day))


def table(schema: dict[str, pa.DataType], rows: list[tuple]) -> pa.Table:
    names = list(schema)
    return pa.Table.from_pylist(
        [dict(zip(names, values, strict=True)) for values in rows], schema=pa.schema(schema)
    )


def transactions(rows: list[tuple[int, int, int]]) -> pa.Table:
    """(customer_id, day, revenue)."""
    schema = {
        "customer_id": pa.int64(),
        "order_id": pa.int64(),
        "day": pa.int32(),
        "month": pa.int32(),
        "revenue": pa.int64(),
        "cost": pa.int64(),
    }
    return table(schema, [(c, n, day, 0, r, 0) for n, (c, day, r) in enumerate(rows)])


def customers(rows: list[tuple[int, int]]) -> pa.Table:
    """(customer_id, created_day)."""
    schema = {
        "customer_id": pa.int64(),
        "kind": pa.string(),
        "created_day": pa.int32(),
        "industry": pa.string(),
        "size_band": pa.string(),
        "owner_id": pa.int64(),
        "team_id": pa.int64(),
        "declared_wallet": pa.int64(),
    }
    return table(schema, [(c, "person", day, "", "", None, None, None) for c, day in rows])


def surveys(rows: list[tuple[int, int, float]]) -> pa.Table:
    return table({"customer_id": pa.int64(), "day": pa.int32(), "score": pa.float64()}, rows)


def sends(rows: list[tuple[int, int | None]]) -> pa.Table:
    """(day, cost)."""
    schema = {
        "campaign_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "cost": pa.int64(),
        "converted_revenue": pa.int64(),
    }
    return table(schema, [(1, 1, day, cost, 0) for day, cost in rows])


@pytest.mark.parametrize(
    ("period", "as_of", "back", "expected"),
    [
        ("month", (2026, 3, 15), 0, ((2026, 2, 1), (2026, 3, 1))),
        ("month", (2026, 3, 1), 0, ((2026, 2, 1), (2026, 3, 1))),  # 1 March is not counted
        ("month", (2026, 3, 2), 1, ((2026, 1, 1), (2026, 2, 1))),
        ("month", (2026, 1, 10), 0, ((2025, 12, 1), (2026, 1, 1))),
        ("quarter", (2026, 4, 1), 0, ((2026, 1, 1), (2026, 4, 1))),
        ("quarter", (2026, 3, 31), 0, ((2025, 10, 1), (2026, 1, 1))),
        ("quarter", (2026, 3, 31), 1, ((2025, 7, 1), (2025, 10, 1))),
        ("year", (2026, 6, 30), 0, ((2025, 1, 1), (2026, 1, 1))),
        ("year", (2026, 1, 1), 2, ((2023, 1, 1), (2024, 1, 1))),
    ],
)
def test_period_bounds(period, as_of, back, expected):
    start, end = expected
    assert kpis.period_bounds(period, d(*as_of), back=back) == (d(*start), d(*end))


@pytest.mark.parametrize(
    ("period", "as_of_day", "error"),
    [
        ("week", 20_000, ValueError),
        ("Month", 20_000, ValueError),
        (None, 20_000, ValueError),
        ("month", 20_000.5, TypeError),
        ("month", "20000", TypeError),
        ("month", 2**35, ValueError),
    ],
)
def test_bad_period_or_day_is_refused(period, as_of_day, error):
    with pytest.raises(error):
        kpis.period_bounds(period, as_of_day)


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def run(engine: Engine, tables: dict[str, pa.Table], **kwargs: Any) -> dict[str, dict]:
    frames = {name: engine.frame(value) for name, value in tables.items()}
    rows = as_rows(engine.collect(kpis.kpis(**frames, **kwargs), sort=["kpi"]))
    return {row.pop("kpi"): row for row in rows}


def kpi(current: float | None, previous: float | None, change: float | None) -> dict:
    return {
        "current": current,
        "previous": previous,
        "change": None if change is None else round(change, 9),
    }


SALES = transactions([
    (1, d(2026, 1, 5), 100), (1, d(2026, 2, 3), 200),
    (2, d(2026, 2, 20), 300),
    (3, d(2026, 1, 9), 500), (3, d(2026, 2, 21), 400),
    (4, d(2025, 12, 1), 600),
    (5, d(2026, 3, 1), 700),  # as_of_day: not counted
])  # fmt: skip
PEOPLE = customers([(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, d(2026, 2, 10))])


def test_monthly_kpis_worked_out_by_hand(duck):
    tables = {
        "transactions": SALES,
        "customers": PEOPLE,
        "surveys": surveys([(1, d(2026, 2, 1), 4.0), (2, d(2026, 2, 28), 5.0),
                            (2, d(2026, 1, 1), 3.0), (3, d(2026, 3, 1), 1.0)]),
        "campaign_sends": sends([(d(2026, 2, 2), 300), (d(2026, 2, 3), None),
                                 (d(2026, 1, 2), 200)]),
    }  # fmt: skip
    assert run(duck, tables, period="month", as_of_day=d(2026, 3, 1)) == {
        # February 200 + 300 + 400 against January 100 + 500
        "sales_growth": kpi(900.0, 600.0, 0.5),
        # first purchases: 2 in February; 1 and 3 in January (4 in December)
        "new_customer_growth": kpi(1.0, 2.0, -0.5),
        # January's buyers 1 and 3 both bought in February; December's (4) did not in January
        "retention_rate": kpi(1.0, 0.0, None),
        # February: 3 buyers of 6 on record; January: 2 of the 5 created before February
        "active_share": kpi(0.5, 0.4, (0.5 - 0.4) / 0.4),
        "satisfaction_change": kpi(4.5, 3.0, 0.5),
        "marketing_cost_change": kpi(300.0, 200.0, 0.5),
    }


def test_quarterly_and_yearly(duck):
    tables = {"transactions": SALES}
    quarter = run(duck, tables, period="quarter", as_of_day=d(2026, 4, 1))
    # Q1 2026: 2200 by 1, 2, 3 and 5 (1 March counts now), all first purchases;
    # Q4 2025: 600 by 4, whom Q1 did not see again.
    assert quarter == {
        "sales_growth": kpi(2200.0, 600.0, 1600 / 600),
        "new_customer_growth": kpi(4.0, 1.0, 3.0),
        "retention_rate": kpi(0.0, None, None),
    }
    year = run(duck, tables, period="year", as_of_day=d(2026, 12, 31))
    assert year["sales_growth"] == kpi(600.0, 0.0, None)


def test_optional_kpis_only_with_their_frames(duck):
    rows = run(duck, {"transactions": SALES}, as_of_day=d(2026, 3, 1))
    assert sorted(rows) == ["new_customer_growth", "retention_rate", "sales_growth"]
    empty_surveys = surveys([])
    with_empty = run(duck, {"transactions": SALES, "surveys": empty_surveys},
                     as_of_day=d(2026, 3, 1))  # fmt: skip
    assert with_empty["satisfaction_change"] == kpi(None, None, None)


def test_no_transactions(duck):
    rows = run(duck, {"transactions": transactions([]), "customers": customers([])},
               as_of_day=d(2026, 3, 1))  # fmt: skip
    assert rows == {
        "sales_growth": kpi(0.0, 0.0, None),
        "new_customer_growth": kpi(0.0, 0.0, None),
        "retention_rate": kpi(None, None, None),
        "active_share": kpi(None, None, None),
    }


def test_huge_revenue(duck):
    big = 10**15
    tx = transactions([(1, d(2026, 2, 1), big), (1, d(2026, 2, 2), big), (2, d(2026, 1, 2), big)])
    rows = run(duck, {"transactions": tx}, as_of_day=d(2026, 3, 1))
    assert rows["sales_growth"] == kpi(2.0 * big, 1.0 * big, 1.0)


def test_missing_columns_and_wrong_frames_are_named(duck):
    sales = duck.frame(SALES)
    with pytest.raises(ValueError, match="surveys lacks the column"):
        kpis.kpis(sales, surveys=duck.frame({"day": [1]}), as_of_day=d(2026, 3, 1))
    with pytest.raises(ValueError, match="transactions lacks the column"):
        kpis.kpis(duck.frame(SALES.drop(["revenue"])), as_of_day=d(2026, 3, 1))
    with pytest.raises(TypeError, match="LazyFrame"):
        kpis.kpis(SALES, as_of_day=d(2026, 3, 1))
