"""Service and marketing signals, worked out by hand, and their empty frames without data."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tests.analytics.conftest import as_rows
from vefa.analytics.engine import Engine
from vefa.analytics.metrics import signals

AS_OF = 100


def table(schema: dict[str, pa.DataType], rows: list[tuple]) -> pa.Table:
    names = list(schema)
    return pa.Table.from_pylist(
        [dict(zip(names, values, strict=True)) for values in rows], schema=pa.schema(schema)
    )


TICKET_SCHEMA = {
    "ticket_id": pa.int64(),
    "customer_id": pa.int64(),
    "day": pa.int32(),
    "resolved_day": pa.int32(),
    "type": pa.string(),
    "category": pa.string(),
}
RETURN_SCHEMA = {
    "return_id": pa.int64(),
    "customer_id": pa.int64(),
    "order_id": pa.int64(),
    "product_id": pa.int64(),
    "day": pa.int32(),
    "quantity": pa.float64(),
    "reason": pa.string(),
}
LINE_SCHEMA = {
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
}
SEND_SCHEMA = {
    "campaign_id": pa.int64(),
    "customer_id": pa.int64(),
    "day": pa.int32(),
    "cost": pa.int64(),
    "converted_revenue": pa.int64(),
}


def tickets(rows: list[tuple[int, int | None, str, str]]) -> pa.Table:
    """(day, resolved_day, type, category); ids in order."""
    return table(TICKET_SCHEMA, [(n, 1, *values) for n, values in enumerate(rows, start=1)])


TICKETS = tickets([
    (10, 11, "complaint", "delivery"),  # 1 day
    (10, 13, "complaint", "delivery"),  # 3 days
    (11, None, "complaint", "billing"),  # open
    (12, 100, "question", "billing"),  # resolved on as_of_day: still open for this run
    (40, 30, "question", "billing"),  # resolved "before" opening: counts as 0 days
    (50, 60, "complaint", "billing"),  # 10 days
    (5, 6, "complaint", "delivery"),  # before the window (10 ..< 100)
    (100, 101, "complaint", "delivery"),  # as_of_day: not counted
])  # fmt: skip


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def collect(engine: Engine, frame: Any, sort: list[str] | None = None) -> list[dict]:
    return as_rows(engine.collect(frame, sort=sort))


def test_complaints_per_day(duck):
    frame = signals.complaints_per_day(duck.frame(TICKETS), as_of_day=AS_OF, window_days=90)
    assert collect(duck, frame, ["day"]) == [
        {"day": 10, "complaints": 2},
        {"day": 11, "complaints": 1},
        {"day": 50, "complaints": 1},
    ]
    questions = signals.complaints_per_day(
        duck.frame(TICKETS), as_of_day=AS_OF, window_days=90, types=["question"]
    )
    assert collect(duck, questions, ["day"]) == [
        {"day": 12, "complaints": 1},
        {"day": 40, "complaints": 1},
    ]


def test_resolution_overall(duck):
    frame = signals.resolution(duck.frame(TICKETS), as_of_day=AS_OF, window_days=90)
    # Six tickets opened in the window; resolved: 1, 3, 0 and 10 days.
    # Mean 14 / 4; median of 0 1 3 10 = (1 + 3) / 2.
    assert collect(duck, frame) == [
        {"tickets": 6, "resolved": 4, "share_resolved": round(4 / 6, 9),
         "mean_days_to_resolve": 3.5, "median_days_to_resolve": 2.0},
    ]  # fmt: skip


def test_resolution_by_type_and_category(duck):
    frame = signals.resolution(
        duck.frame(TICKETS), as_of_day=AS_OF, window_days=90, by=("type", "category")
    )
    assert collect(duck, frame, ["type", "category"]) == [
        # open, then 10 days: odd count of one resolved
        {"type": "complaint", "category": "billing", "tickets": 2, "resolved": 1,
         "share_resolved": 0.5, "mean_days_to_resolve": 10.0, "median_days_to_resolve": 10.0},
        {"type": "complaint", "category": "delivery", "tickets": 2, "resolved": 2,
         "share_resolved": 1.0, "mean_days_to_resolve": 2.0, "median_days_to_resolve": 2.0},
        # resolved on as_of_day (open) and the 0-day one
        {"type": "question", "category": "billing", "tickets": 2, "resolved": 1,
         "share_resolved": 0.5, "mean_days_to_resolve": 0.0, "median_days_to_resolve": 0.0},
    ]  # fmt: skip


def test_median_of_an_odd_count_is_the_middle_value(duck):
    odd = tickets([(1, 2, "x", "c"), (1, 9, "x", "c"), (1, 5, "x", "c"), (1, 5, "x", "c"),
                   (1, 31, "x", "c")])  # fmt: skip
    frame = signals.resolution(duck.frame(odd), as_of_day=AS_OF, window_days=99)
    # days 1 8 4 4 30 -> 1 4 4 8 30: the third
    assert collect(duck, frame)[0]["median_days_to_resolve"] == 4.0
    assert collect(duck, frame)[0]["mean_days_to_resolve"] == 9.4


def test_resolution_without_resolved_or_any_tickets(duck):
    open_only = tickets([(10, None, "complaint", "billing")])
    frame = signals.resolution(duck.frame(open_only), as_of_day=AS_OF)
    assert collect(duck, frame) == [
        {"tickets": 1, "resolved": 0, "share_resolved": 0.0, "mean_days_to_resolve": None,
         "median_days_to_resolve": None},
    ]  # fmt: skip
    none = signals.resolution(duck.frame(tickets([])), as_of_day=AS_OF)
    assert collect(duck, none) == [
        {"tickets": 0, "resolved": 0, "share_resolved": None, "mean_days_to_resolve": None,
         "median_days_to_resolve": None},
    ]  # fmt: skip
    grouped = signals.resolution(duck.frame(tickets([])), as_of_day=AS_OF, by=["type"])
    assert collect(duck, grouped) == []


@pytest.mark.parametrize(
    ("by", "error"),
    [
        ("type", TypeError),  # a string, not a sequence of names
        (["type", "type"], ValueError),
        (["customer_id"], ValueError),
        (["type; DROP TABLE tickets"], ValueError),
        (None, TypeError),
    ],
)
def test_resolution_refuses_bad_groups(duck, by, error):
    with pytest.raises(error):
        signals.resolution(duck.frame(TICKETS), as_of_day=AS_OF, by=by)


SOLD = table(LINE_SCHEMA, [
    (1, 1, 1, 10, 1, 50, 0, 4.0, 1, 0),
    (2, 1, 1, 11, 1, 50, 0, 2.0, 1, 0),
    (3, 2, 2, 10, 1, 60, 0, 6.0, 1, 0),
    (4, 2, 2, None, None, 60, 0, 3.0, 1, 0),  # free text
    (5, 3, 2, 10, 1, 100, 0, 50.0, 1, 0),  # as_of_day: not counted
])  # fmt: skip
RETURNED = table(RETURN_SCHEMA, [
    (1, 1, 1, 10, 70, 1.0, "broken"),
    (2, 1, 1, 10, 71, 2.0, "late"),
    (3, 2, 2, None, 72, 1.0, "late"),  # free text
    (4, 2, 2, 12, 73, 1.0, "broken"),  # product 12 was not sold in the window
    (5, 2, 2, 11, 100, 9.0, "broken"),  # as_of_day: not counted
])  # fmt: skip


def rates(engine: Engine, by: tuple[str, ...], returns: pa.Table | None = RETURNED) -> list:
    frame = signals.return_rates(
        None if returns is None else engine.frame(returns),
        engine.frame(SOLD),
        as_of_day=AS_OF,
        window_days=90,
        by=by,
    )
    return collect(engine, frame, list(by) or None)


def test_return_rate_per_product(duck):
    # product 10: sold 4 + 6, returned 1 + 2; product 12: returned 1, never sold
    assert rates(duck, ("product_id",)) == [
        {"product_id": 10, "returned_quantity": 3.0, "sold_quantity": 10.0, "return_rate": 0.3},
        {"product_id": 12, "returned_quantity": 1.0, "sold_quantity": 0.0, "return_rate": None},
    ]


def test_return_rate_per_product_and_reason(duck):
    assert rates(duck, ("product_id", "reason")) == [
        {"product_id": 10, "reason": "broken", "returned_quantity": 1.0,
         "sold_quantity": 10.0, "return_rate": 0.1},
        {"product_id": 10, "reason": "late", "returned_quantity": 2.0,
         "sold_quantity": 10.0, "return_rate": 0.2},
        {"product_id": 12, "reason": "broken", "returned_quantity": 1.0,
         "sold_quantity": 0.0, "return_rate": None},
    ]  # fmt: skip


def test_return_rate_per_reason_and_overall(duck):
    # Everything sold in the window: 4 + 2 + 6 + 3 = 15; free-text returns count too.
    assert rates(duck, ("reason",)) == [
        {"reason": "broken", "returned_quantity": 2.0, "sold_quantity": 15.0,
         "return_rate": round(2 / 15, 9)},
        {"reason": "late", "returned_quantity": 3.0, "sold_quantity": 15.0, "return_rate": 0.2},
    ]  # fmt: skip
    assert rates(duck, ()) == [
        {"returned_quantity": 5.0, "sold_quantity": 15.0, "return_rate": round(5 / 15, 9)}
    ]


def test_return_rates_without_returns(duck):
    assert rates(duck, ("product_id", "reason"), returns=None) == []
    frame = signals.return_rates(None, duck.frame(SOLD), as_of_day=AS_OF, by=("reason",))
    assert duck.collect(frame).column_names == [
        "reason",
        "returned_quantity",
        "sold_quantity",
        "return_rate",
    ]
    no_rows = table(RETURN_SCHEMA, [])
    assert rates(duck, ("product_id",), returns=no_rows) == []
    with pytest.raises(ValueError):
        signals.return_rates(None, duck.frame(SOLD), as_of_day=AS_OF, by=("category_id",))


SENDS = table(SEND_SCHEMA, [
    (1, 1, 10, 10, 0),
    (1, 1, 20, None, 100),  # cost unknown: send_cost
    (1, 2, 30, 10, None),
    (2, 3, 40, 5, 0),
    (2, 4, 100, 5, 1000),  # as_of_day: not counted
])  # fmt: skip


def test_campaigns(duck):
    frame = signals.campaigns(duck.frame(SENDS), as_of_day=AS_OF, send_cost=7)
    assert collect(duck, frame, ["campaign_id"]) == [
        # cost 10 + 7 + 10; revenue 100 on 27: roi 73 / 27
        {"campaign_id": 1, "sends": 3, "customers": 2, "cost": 27, "revenue": 100,
         "conversions": 1, "conversion_rate": round(1 / 3, 9), "roi": round(73 / 27, 9)},
        {"campaign_id": 2, "sends": 1, "customers": 1, "cost": 5, "revenue": 0,
         "conversions": 0, "conversion_rate": 0.0, "roi": -1.0},
    ]  # fmt: skip
    windowed = signals.campaigns(duck.frame(SENDS), as_of_day=AS_OF, window_days=75)
    # days 25 ..< 100: one send of campaign 1 (day 30) and campaign 2's
    assert [
        (r["campaign_id"], r["sends"], r["roi"]) for r in collect(duck, windowed, ["campaign_id"])
    ] == [
        (1, 1, -1.0),
        (2, 1, -1.0),
    ]


def test_campaigns_free_of_cost_have_no_roi(duck):
    free = table(SEND_SCHEMA, [(3, 1, 10, None, 500)])
    assert collect(duck, signals.campaigns(duck.frame(free), as_of_day=AS_OF))[0]["roi"] is None


@pytest.mark.parametrize(("cost", "error"), [(-1, ValueError), (1.5, TypeError)])
def test_campaigns_refuse_a_bad_send_cost(duck, cost, error):
    with pytest.raises(error):
        signals.campaigns(duck.frame(SENDS), as_of_day=AS_OF, send_cost=cost)


def test_missing_frames_give_empty_frames_with_columns(duck):
    cases = {
        ("day", "complaints"): signals.complaints_per_day(None, as_of_day=AS_OF),
        ("tickets", "resolved", "share_resolved", "mean_days_to_resolve",
         "median_days_to_resolve"): signals.resolution(None, as_of_day=AS_OF),
        ("campaign_id", "sends", "customers", "cost", "revenue", "conversions",
         "conversion_rate", "roi"): signals.campaigns(None, as_of_day=AS_OF),
    }  # fmt: skip
    for columns, frame in cases.items():
        result = duck.collect(frame)
        assert tuple(result.column_names) == columns
        assert result.num_rows == 0
    # Arguments are still checked without a frame.
    with pytest.raises(TypeError):
        signals.complaints_per_day(None, as_of_day="100")


def test_missing_columns_and_wrong_frames_are_named(duck):
    with pytest.raises(ValueError, match="tickets lacks the column"):
        signals.resolution(duck.frame(TICKETS.drop(["resolved_day"])), as_of_day=AS_OF)
    with pytest.raises(ValueError, match="returns lacks the column"):
        signals.return_rates(
            duck.frame(RETURNED.drop(["reason"])),
            duck.frame(SOLD),
            as_of_day=AS_OF,
            by=("reason",),
        )
    with pytest.raises(TypeError, match="LazyFrame"):
        signals.campaigns(SENDS, as_of_day=AS_OF)
