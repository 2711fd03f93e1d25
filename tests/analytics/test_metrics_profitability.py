"""The customer cost model and its sums per segment, on small cases worked out by hand."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tests.analytics.conftest import as_rows
from vefa.analytics.engine import Engine
from vefa.analytics.metrics import profitability as pr
from vefa.analytics.metrics.params_b import CostParams

AS_OF, WINDOW = 1000, 100  # days 900 ..< 1000


def table(schema: dict[str, pa.DataType], rows: list[tuple]) -> pa.Table:
    names = list(schema)
    return pa.Table.from_pylist(
        [dict(zip(names, values, strict=True)) for values in rows], schema=pa.schema(schema)
    )


def transactions(rows: list[tuple[int, int, int, int]]) -> pa.Table:
    """(customer_id, day, revenue, cost)."""
    schema = {
        "customer_id": pa.int64(),
        "order_id": pa.int64(),
        "day": pa.int32(),
        "month": pa.int32(),
        "revenue": pa.int64(),
        "cost": pa.int64(),
    }
    return table(schema, [(c, n, d, 0, r, k) for n, (c, d, r, k) in enumerate(rows)])


def activities(rows: list[tuple[int, int, str, str]]) -> pa.Table:
    """(customer_id, day, kind, status)."""
    schema = {
        "activity_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "kind": pa.string(),
        "status": pa.string(),
    }
    return table(schema, [(n, *values) for n, values in enumerate(rows)])


def interactions(rows: list[tuple[int, int, str]]) -> pa.Table:
    """(customer_id, day, kind)."""
    schema = {
        "interaction_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "kind": pa.string(),
        "channel": pa.string(),
        "direction": pa.string(),
    }
    return table(schema, [(n, c, d, k, "phone", "in") for n, (c, d, k) in enumerate(rows)])


def tickets(rows: list[tuple[int, int]]) -> pa.Table:
    """(customer_id, day)."""
    schema = {
        "ticket_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "resolved_day": pa.int32(),
        "type": pa.string(),
        "category": pa.string(),
    }
    return table(schema, [(n, c, d, None, "complaint", "") for n, (c, d) in enumerate(rows)])


def returns(rows: list[tuple[int, int]]) -> pa.Table:
    """(customer_id, day)."""
    schema = {
        "return_id": pa.int64(),
        "customer_id": pa.int64(),
        "order_id": pa.int64(),
        "product_id": pa.int64(),
        "day": pa.int32(),
        "quantity": pa.float64(),
        "reason": pa.string(),
    }
    return table(schema, [(n, c, 1, 1, d, 1.0, "broken") for n, (c, d) in enumerate(rows)])


def sends(rows: list[tuple[int, int, int | None]]) -> pa.Table:
    """(customer_id, day, cost)."""
    schema = {
        "campaign_id": pa.int64(),
        "customer_id": pa.int64(),
        "day": pa.int32(),
        "cost": pa.int64(),
        "converted_revenue": pa.int64(),
    }
    return table(schema, [(1, c, d, k, 0) for c, d, k in rows])


PARAMS = CostParams(
    ticket_cost=100,
    return_cost=250,
    complaint_cost=40,
    send_cost=20,
    call_cost=50,
    meeting_cost=400,
    appointment_cost=300,
    visit_cost=900,
    task_cost=10,
)
TABLES = {
    "transactions": transactions([
        (1, 900, 10_000, 6_000),  # the window's first day
        (1, 950, 2_000, 1_500),
        (1, 1000, 99_999, 0),  # as_of_day: not counted
        (2, 990, 1_000, 700),
        (3, 899, 5_000, 0),  # before the window
    ]),
    "activities": activities([
        (1, 910, "call", "done"), (1, 920, "visit", "done"), (1, 921, "task", "done"),
        (1, 930, "meeting", "cancelled"), (1, 931, "meeting", "planned"),
        (2, 940, "appointment", "done"), (2, 941, "email", "done"),  # a kind without cost
        (2, 850, "visit", "done"),  # before the window
    ]),
    "interactions": interactions([
        (2, 960, "complaint"), (2, 961, "call"), (4, 962, "complaint"),
    ]),
    "tickets": tickets([(1, 905), (4, 990), (4, 991), (4, 1001)]),
    "returns": returns([(2, 970)]),
    "campaign_sends": sends([(1, 910, None), (2, 911, 35), (5, 912, 0), (5, 800, 10)]),
}  # fmt: skip


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def run(engine: Engine, tables: dict[str, pa.Table], **kwargs: Any) -> list[dict[str, Any]]:
    frames = {name: engine.frame(value) for name, value in tables.items()}
    frame = pr.profitability(**frames, as_of_day=AS_OF, window_days=WINDOW, **kwargs)
    return as_rows(engine.collect(frame, sort=["customer_id"]))


def row(customer: int, revenue: int, gross: int, service: int, marketing: int, sales: int
        ) -> dict[str, Any]:  # fmt: skip
    net = gross - service - marketing - sales
    return {
        "customer_id": customer,
        "revenue": revenue,
        "gross_margin": gross,
        "service_cost": service,
        "marketing_cost": marketing,
        "sales_cost": sales,
        "net_margin": net,
        "unprofitable": net < 0,
    }


def test_profitability_worked_out_by_hand(duck):
    assert run(duck, TABLES, params=PARAMS) == [
        # 12 000 - 7 500; 1 ticket; 1 send at the default 20; call 50 + visit 900 + task 10
        row(1, 12_000, 4_500, 100, 20, 960),
        # 1 000 - 700; 1 return 250 + 1 complaint 40; a send of 35; an appointment 300
        row(2, 1_000, 300, 290, 35, 300),
        # only costs: 2 tickets in the window and 1 complaint
        row(4, 0, 0, 240, 0, 0),
        # a send that cost 0 still lists the customer
        row(5, 0, 0, 0, 0, 0),
    ]


def test_missing_frames_cost_nothing(duck):
    only = {"transactions": TABLES["transactions"]}
    assert run(duck, only, params=PARAMS) == [
        row(1, 12_000, 4_500, 0, 0, 0),
        row(2, 1_000, 300, 0, 0, 0),
    ]


def test_default_costs_are_zero(duck):
    rows = run(duck, TABLES)
    # Only what a send recorded as its own cost (35) is left.
    assert [r["net_margin"] for r in rows] == [4_500, 265, 0, 0]
    assert [r["marketing_cost"] for r in rows] == [0, 35, 0, 0]
    assert not any(r["unprofitable"] for r in rows)


def test_activity_statuses_are_configurable(duck):
    params = CostParams(meeting_cost=400, activity_statuses=("done", "planned"))
    rows = run(
        duck,
        {"transactions": TABLES["transactions"], "activities": TABLES["activities"]},
        params=params,
    )
    assert rows[0]["sales_cost"] == 400  # the planned meeting; the cancelled one is free


def test_no_data_at_all(duck):
    empty = transactions([])
    assert run(duck, {"transactions": empty}) == []
    result = duck.collect(pr.profitability(duck.frame(empty), as_of_day=AS_OF, window_days=WINDOW))
    assert result.column_names == [
        "customer_id", "revenue", "gross_margin", "service_cost", "marketing_cost",
        "sales_cost", "net_margin", "unprofitable",
    ]  # fmt: skip


def test_huge_costs_do_not_overflow(duck):
    params = CostParams(ticket_cost=10**12)
    many = tickets([(1, 950)] * 1000)
    rows = run(duck, {"transactions": transactions([]), "tickets": many}, params=params)
    assert rows == [row(1, 0, 0, 10**15, 0, 0)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"call_cost": -1}, ValueError),
        ({"call_cost": 1.5}, TypeError),
        ({"ticket_cost": 10**13}, ValueError),
        ({"send_cost": "20"}, TypeError),
        ({"activity_statuses": ["done"]}, TypeError),
        ({"activity_statuses": ("done", 1)}, TypeError),
    ],
)
def test_cost_params_are_checked(kwargs, error):
    with pytest.raises(error):
        CostParams(**kwargs)


@pytest.mark.parametrize(("window", "error"), [(0, ValueError), ("365", TypeError)])
def test_window_is_checked(duck, window, error):
    with pytest.raises(error):
        pr.profitability(duck.frame(transactions([])), as_of_day=AS_OF, window_days=window)


def segments(rows: list[tuple[int, str | None]]) -> pa.Table:
    return table({"customer_id": pa.int64(), "value_class": pa.string()}, rows)


def test_by_segment_sums_and_keeps_customers_without_a_segment(duck):
    profit = pr.profitability(
        **{name: duck.frame(value) for name, value in TABLES.items()},
        as_of_day=AS_OF,
        window_days=WINDOW,
        params=PARAMS,
    )
    codes = duck.frame(segments([(1, "A"), (2, "A"), (4, "C"), (77, "B")]))
    rows = as_rows(duck.collect(pr.by_segment(profit, codes, "value_class"), sort=["segment"]))
    assert rows == [
        # customer 5 has no segment row
        {"segment": None, "customers": 1, "revenue": 0, "gross_margin": 0, "service_cost": 0,
         "marketing_cost": 0, "sales_cost": 0, "net_margin": 0, "unprofitable_customers": 0,
         "net_margin_per_customer": 0.0},
        # customers 1 (net 3 420) and 2 (net -325)
        {"segment": "A", "customers": 2, "revenue": 13_000, "gross_margin": 4_800,
         "service_cost": 390, "marketing_cost": 55, "sales_cost": 1_260, "net_margin": 3_095,
         "unprofitable_customers": 1, "net_margin_per_customer": 1547.5},
        {"segment": "C", "customers": 1, "revenue": 0, "gross_margin": 0, "service_cost": 240,
         "marketing_cost": 0, "sales_cost": 0, "net_margin": -240, "unprofitable_customers": 1,
         "net_margin_per_customer": -240.0},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "error"),
    [("customer_id", ValueError), ("rfm_segment", ValueError),
     ("value_class; DROP TABLE x", ValueError), (None, ValueError)],
)  # fmt: skip
def test_by_segment_refuses_a_bad_key(duck, key, error):
    profit = pr.profitability(duck.frame(TABLES["transactions"]), as_of_day=AS_OF)
    with pytest.raises(error):
        pr.by_segment(profit, duck.frame(segments([(1, "A")])), key)


def test_missing_columns_and_wrong_frames_are_named(duck):
    tx = duck.frame(TABLES["transactions"])
    no_status = duck.frame(TABLES["activities"].drop(["status"]))
    with pytest.raises(ValueError, match="activities lacks the column"):
        pr.profitability(tx, activities=no_status, as_of_day=AS_OF)
    with pytest.raises(ValueError, match="transactions lacks the column"):
        pr.profitability(duck.frame(TABLES["transactions"].drop(["cost"])), as_of_day=AS_OF)
    with pytest.raises(TypeError, match="LazyFrame"):
        pr.profitability(tx, tickets=TABLES["tickets"], as_of_day=AS_OF)
