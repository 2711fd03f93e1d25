"""RFM, ladder, value classes, Pareto, decline, overdue and cohorts: DuckDB and PySpark agree.

One seeded random data set of a few thousand transactions, with the awkward cases mixed in
(ties in every measure, refunds, several orders on one day, customers who stopped buying),
through every function of those modules on both engines; the rows must be identical.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from vefa.analytics.metrics import cohorts, decline, ladder, rfm, value
from vefa.analytics.metrics.params import DeclineParams, LadderParams, ValueParams

AS_OF_DAY = 20_454  # 2026-01-01


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    rng = np.random.default_rng(20260101)
    size = 4000
    customer_id = rng.integers(1, 600, size)  # some customers once, some often
    day = (AS_OF_DAY - rng.integers(-5, 3 * 365, size)).astype(np.int32)  # a few on/after
    day[:300] = day[300:600]  # several orders on one day
    customer_id[:300] = customer_id[300:600]
    dates = day.astype("datetime64[D]")
    month = (
        (dates.astype("datetime64[Y]").astype(np.int64) + 1970) * 12
        + dates.astype("datetime64[M]").astype(np.int64) % 12
    ).astype(np.int32)
    revenue = rng.choice([0, 500, 1000, 2500, 10_000], size) + rng.integers(0, 3, size) * 100
    revenue[rng.random(size) < 0.04] *= -1  # refunds
    cost = (revenue * rng.choice([0.0, 0.5, 0.9, 1.2], size)).astype(np.int64)
    transactions = pa.table(
        {
            "customer_id": pa.array(customer_id, pa.int64()),
            "order_id": pa.array(np.arange(1, size + 1), pa.int64()),
            "day": pa.array(day, pa.int32()),
            "month": pa.array(month, pa.int32()),
            "revenue": pa.array(revenue, pa.int64()),
            "cost": pa.array(cost, pa.int64()),
        }
    )
    return {"transactions": transactions}


def test_rfm_and_grid(parity, tables):
    result = parity(rfm.rfm, tables, sort=["customer_id"], as_of_day=AS_OF_DAY)
    assert tuple(result.column_names) == rfm.COLUMNS
    assert result.num_rows > 400
    assert set(result.column("rfm_segment").to_pylist()) == set(rfm.LABELS)

    def grid(transactions):
        return rfm.grid(rfm.rfm(transactions, as_of_day=AS_OF_DAY, window_days=180))

    cells = parity(grid, tables, sort=["r_score", "f_score"])
    assert sum(cells.column("customers").to_pylist()) > 0


def test_ladder_and_transitions(parity, tables):
    params = LadderParams(occasional_orders=2, regular_orders=5, loyal_orders=8)
    result = parity(ladder.ladder, tables, sort=["customer_id"], as_of_day=AS_OF_DAY,
                    params=params)  # fmt: skip
    assert set(result.column("ladder_step").to_pylist()) == set(ladder.STEPS)

    def moves(transactions):
        return ladder.transitions(
            ladder.ladder(transactions, as_of_day=AS_OF_DAY - 365, params=params),
            ladder.ladder(transactions, as_of_day=AS_OF_DAY, params=params),
        )

    result = parity(moves, tables, sort=["from_step", "to_step"])
    assert "none" in result.column("from_step").to_pylist()


@pytest.mark.parametrize("basis", ["revenue", "margin"])
def test_value_classes_and_pareto(parity, tables, basis):
    params = ValueParams(basis=basis)
    result = parity(value.value_classes, tables, sort=["customer_id"], as_of_day=AS_OF_DAY,
                    params=params)  # fmt: skip
    assert set(result.column("value_class").to_pylist()) == {"A", "B", "C"}

    def curve(transactions):
        return value.pareto(value.value_classes(transactions, as_of_day=AS_OF_DAY, params=params))

    assert parity(curve, tables, sort=["customer_share"]).num_rows == 100

    def summary(transactions):
        return value.pareto_summary(
            value.value_classes(transactions, as_of_day=AS_OF_DAY, params=params)
        )

    assert parity(summary, tables, sort=["customers"]).num_rows == 1


def test_decline_and_overdue(parity, tables):
    result = parity(decline.decline, tables, sort=["customer_id"], as_of_day=AS_OF_DAY)
    assert True in result.column("declining").to_pylist()
    params = DeclineParams(overdue_factor=1.2)
    result = parity(decline.overdue, tables, sort=["customer_id"], as_of_day=AS_OF_DAY,
                    params=params)  # fmt: skip
    assert True in result.column("overdue").to_pylist()


def test_cohorts(parity, tables):
    result = parity(
        cohorts.cohorts, tables, sort=["cohort_month", "months_since"], as_of_day=AS_OF_DAY
    )
    assert 0 in result.column("customers").to_pylist()  # the triangle's empty cells
