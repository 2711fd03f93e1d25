"""Acquisition cohorts against numbers worked out by hand (DuckDB)."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from vefa.analytics.engine import Engine, day_number, month_number
from vefa.analytics.metrics import cohorts


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def transactions(rows: list[tuple[int, datetime.date, int]]) -> pa.Table:
    """(customer_id, date, revenue) rows as the contract's transactions table."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "order_id": pa.array(range(1, len(rows) + 1), pa.int64()),
            "day": pa.array([day_number(r[1]) for r in rows], pa.int32()),
            "month": pa.array([month_number(r[1]) for r in rows], pa.int32()),
            "revenue": pa.array([r[2] for r in rows], pa.int64()),
            "cost": pa.array([0] * len(rows), pa.int64()),
        }
    )


def d(month: int, day: int = 15) -> datetime.date:
    return datetime.date(2025, month, day)


JAN, FEB, MAR, APR = (month_number(d(m)) for m in (1, 2, 3, 4))

ROWS = [
    (1, d(1), 100), (1, d(2), 50), (1, d(4, 1), 30),
    (2, d(1, 3), 200), (2, d(1, 3), 100),  # two orders on one day
    (3, d(2), 80), (3, d(3), 40),
    (4, d(3), -20),  # a customer whose first month is a refund
]  # fmt: skip


def run(duck, rows, **kwargs):
    frame = cohorts.cohorts(duck.frame(transactions(rows)), **kwargs)
    return [
        tuple(row.values())
        for row in duck.collect(frame, sort=["cohort_month", "months_since"]).to_pylist()
    ]


def test_hand_computed_cohorts(duck):
    assert run(duck, ROWS) == [
        # cohort, months since, customers, revenue, cohort size, month-0 revenue,
        # retained share, revenue share
        (JAN, 0, 2, 400, 2, 400, 1.0, 1.0),
        (JAN, 1, 1, 50, 2, 400, 0.5, 0.125),
        (JAN, 2, 0, 0, 2, 400, 0.0, 0.0),  # nobody of January bought in March
        (JAN, 3, 1, 30, 2, 400, 0.5, 0.075),
        (FEB, 0, 1, 80, 1, 80, 1.0, 1.0),
        (FEB, 1, 1, 40, 1, 80, 1.0, 0.5),
        (FEB, 2, 0, 0, 1, 80, 0.0, 0.0),
        (MAR, 0, 1, -20, 1, -20, 1.0, None),  # no positive first-month revenue
        (MAR, 1, 0, 0, 1, -20, 0.0, None),
    ]


def test_as_of_day_excludes_its_own_day(duck):
    # April 1st is the first day not counted: customer 1's order of that day is left out.
    assert run(duck, ROWS, as_of_day=day_number(d(4, 1))) == [
        (JAN, 0, 2, 400, 2, 400, 1.0, 1.0),
        (JAN, 1, 1, 50, 2, 400, 0.5, 0.125),
        (JAN, 2, 0, 0, 2, 400, 0.0, 0.0),
        (FEB, 0, 1, 80, 1, 80, 1.0, 1.0),
        (FEB, 1, 1, 40, 1, 80, 1.0, 0.5),
        (MAR, 0, 1, -20, 1, -20, 1.0, None),
    ]
    # The day after: April counts again.
    assert len(run(duck, ROWS, as_of_day=day_number(d(4, 2)))) == 9


def test_columns_and_types(duck):
    table = duck.collect(cohorts.cohorts(duck.frame(transactions(ROWS))))
    assert tuple(table.column_names) == cohorts.COLUMNS
    assert table.schema.field("cohort_month").type == pa.int32()
    assert table.schema.field("months_since").type == pa.int32()
    assert table.schema.field("customers").type == pa.int64()
    assert table.schema.field("revenue").type == pa.int64()
    assert table.schema.field("retained_share").type == pa.float64()


def test_one_customer_one_day(duck):
    assert run(duck, [(5, d(6), 70), (5, d(6), 30)]) == [
        (month_number(d(6)), 0, 1, 100, 1, 100, 1.0, 1.0)
    ]


def test_a_cohort_across_the_new_year(duck):
    rows = [(1, datetime.date(2024, 12, 31), 10), (1, datetime.date(2025, 1, 1), 20)]
    december = month_number(datetime.date(2024, 12, 1))
    assert run(duck, rows) == [
        (december, 0, 1, 10, 1, 10, 1.0, 1.0),
        (december, 1, 1, 20, 1, 10, 1.0, 2.0),
    ]


def test_empty(duck):
    assert run(duck, []) == []
    assert run(duck, ROWS, as_of_day=day_number(d(1, 1))) == []


def test_labels():
    assert set(cohorts.LABELS) == {"retained_share", "revenue_share"} == set(cohorts.DESCRIPTIONS)


def test_bad_input(duck):
    frame = duck.frame(transactions(ROWS))
    with pytest.raises(TypeError, match="as_of_day"):
        cohorts.cohorts(frame, as_of_day=d(4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks the column.*month"):
        cohorts.cohorts(frame.drop("month"))
