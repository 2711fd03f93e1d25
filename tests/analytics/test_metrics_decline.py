"""Declining and overdue customers against numbers worked out by hand (DuckDB)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from vefa.analytics.engine import Engine
from vefa.analytics.metrics import decline
from vefa.analytics.metrics.params import DeclineParams


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def transactions(rows: list[tuple[int, int, int]]) -> pa.Table:
    """(customer_id, day, revenue) rows as the contract's transactions table."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "order_id": pa.array(range(1, len(rows) + 1), pa.int64()),
            "day": pa.array([r[1] for r in rows], pa.int32()),
            "month": pa.array([r[1] // 30 for r in rows], pa.int32()),
            "revenue": pa.array([r[2] for r in rows], pa.int64()),
            "cost": pa.array([0] * len(rows), pa.int64()),
        }
    )


def orders(customer: int, count: int, first_day: int, revenue: int = 100):
    return [(customer, first_day + i, revenue) for i in range(count)]


# as_of_day 1000: last period days 635 … 999, previous period 270 … 634.
DECLINE_ROWS = [
    (1, 300, 100), (1, 400, 100), (1, 500, 100), (1, 634, 100),  # 4 before (634 is the last)
    (1, 635, 100), (1, 900, 100),  # 2 now (635 is the first day of the last period)
    *orders(2, 10, 300), *orders(2, 7, 700),  # exactly -30 %
    *orders(3, 10, 300), *orders(3, 8, 700, revenue=50),  # orders -20 %, revenue -60 %
    (4, 300, 100),  # one order before, none now: -100 % but too few to call a trend
    *orders(5, 3, 700),  # new: nothing before
    (6, 300, 100), (6, 301, -100), *orders(6, 2, 700, revenue=50),  # refund: revenue base 0
    (7, 269, 100), (7, 1000, 100),  # outside both periods: absent
    *orders(8, 2, 300),  # stopped buying
]  # fmt: skip


def test_hand_computed_decline(duck):
    frame = decline.decline(duck.frame(transactions(DECLINE_ROWS)), as_of_day=1000)
    result = duck.collect(frame, sort=["customer_id"])
    assert tuple(result.column_names) == decline.COLUMNS
    assert [tuple(row.values()) for row in result.to_pylist()] == [
        # id, orders now, before, revenue now, before, order change, revenue change, declining
        (1, 2, 4, 200, 400, -0.5, -0.5, True),
        (2, 7, 10, 700, 1000, -0.3, -0.3, True),
        (3, 8, 10, 400, 1000, -0.2, -0.6, True),
        (4, 0, 1, 0, 100, -1.0, -1.0, False),
        (5, 3, 0, 300, 0, None, None, False),
        (6, 2, 2, 100, 0, 0.0, None, False),
        (8, 0, 2, 0, 200, -1.0, -1.0, True),
    ]
    assert result.schema.field("revenue_last_12m").type == pa.int64()
    assert result.schema.field("declining").type == pa.bool_()


def test_decline_settings(duck):
    frame = duck.frame(transactions(DECLINE_ROWS))
    stricter = DeclineParams(drop_share=0.5, min_prior_orders=1)
    result = duck.collect(
        decline.decline(frame, as_of_day=1000, params=stricter), sort=["customer_id"]
    )
    # -50 % or worse, one previous order enough: 1 (-50 %), 3 (revenue -60 %), 4, 8.
    assert [r["customer_id"] for r in result.to_pylist() if r["declining"]] == [1, 3, 4, 8]
    # A 100-day period: last 900 … 999, previous 800 … 899.
    short = decline.decline(frame, as_of_day=1000, params=DeclineParams(period_days=100))
    assert duck.collect(short, sort=["customer_id"]).to_pylist() == [
        {"customer_id": 1, "orders_last_12m": 1, "orders_prev_12m": 0, "revenue_last_12m": 100,
         "revenue_prev_12m": 0, "order_change": None, "revenue_change": None,
         "declining": False},
    ]  # fmt: skip


def test_decline_of_nothing_and_of_one(duck):
    assert duck.collect(
        decline.decline(duck.frame(transactions([])), as_of_day=1000)
    ).num_rows == 0  # fmt: skip
    one = decline.decline(duck.frame(transactions([(1, 999, 5)])), as_of_day=1000)
    assert duck.collect(one).to_pylist()[0]["orders_last_12m"] == 1


# as_of_day 1000, history 730 days: 270 … 999.
OVERDUE_ROWS = [
    (1, 700, 1), (1, 800, 1), (1, 900, 1),  # gap 100, 100 days since: ratio 1
    (2, 600, 1), (2, 700, 1), (2, 800, 1),  # gap 100, 200 days since: ratio 2
    (3, 650, 1), (3, 750, 1), (3, 850, 1),  # gap 100, 150 days since: exactly 1.5
    (4, 900, 1), (4, 900, 1), (4, 900, 1),  # every order on one day: no gap
    (5, 800, 1), (5, 900, 1),  # two purchase days: too few
    (6, 100, 1), (6, 500, 1), (6, 600, 1), (6, 700, 1),  # day 100 is beyond the history
    (7, 600, 1), (7, 600, 1), (7, 700, 1), (7, 800, 1),  # two orders on day 600: one purchase
    (8, 800, 1), (8, 810, 1), (8, 901, 1),  # gap 50.5, 99 days since: 198 / 101
    (9, 1000, 1),  # as_of_day itself: absent
]  # fmt: skip


def test_hand_computed_overdue(duck):
    frame = decline.overdue(duck.frame(transactions(OVERDUE_ROWS)), as_of_day=1000)
    result = duck.collect(frame, sort=["customer_id"])
    assert tuple(result.column_names) == decline.OVERDUE_COLUMNS
    assert [tuple(row.values()) for row in result.to_pylist()] == [
        # id, mean gap, days since the last purchase, ratio, overdue
        (1, 100.0, 100, 1.0, False),
        (2, 100.0, 200, 2.0, True),
        (3, 100.0, 150, 1.5, True),
        (4, None, 100, None, False),
        (5, None, 100, None, False),
        (6, 100.0, 300, 3.0, True),
        (7, 100.0, 200, 2.0, True),
        (8, 50.5, 99, pytest.approx(1.96039604), True),
    ]


def test_overdue_settings(duck):
    frame = duck.frame(transactions(OVERDUE_ROWS))
    params = DeclineParams(overdue_factor=2.0, overdue_min_orders=2, overdue_history_days=300)
    result = duck.collect(
        decline.overdue(frame, as_of_day=1000, params=params), sort=["customer_id"]
    ).to_pylist()
    # History 700 … 999: customer 2 keeps 700 and 800 (gap 100, 200 days: ratio 2),
    # 3 keeps 750 and 850 (1.5), 5 counts with two days (ratio 1), 6 keeps only 700.
    assert [(r["customer_id"], r["overdue_ratio"], r["overdue"]) for r in result] == [
        (1, 1.0, False),
        (2, 2.0, True),
        (3, 1.5, False),
        (4, None, False),
        (5, 1.0, False),
        (6, None, False),
        (7, 2.0, True),
        (8, pytest.approx(1.96039604), False),
    ]


def test_overdue_of_nothing(duck):
    assert duck.collect(
        decline.overdue(duck.frame(transactions([])), as_of_day=1000)
    ).num_rows == 0  # fmt: skip


def test_labels():
    assert set(decline.LABELS) == {"declining", "overdue"} == set(decline.DESCRIPTIONS)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"drop_share": 0}, "drop_share"),
        ({"drop_share": 1.2}, "drop_share"),
        ({"drop_share": math.nan}, "drop_share"),
        ({"period_days": 0}, "period_days"),
        ({"min_prior_orders": 0}, "min_prior_orders"),
        ({"overdue_factor": 0}, "overdue_factor"),
        ({"overdue_factor": -1.5}, "overdue_factor"),
        ({"overdue_factor": math.inf}, "overdue_factor"),
        ({"overdue_min_orders": 1}, "overdue_min_orders"),
        ({"overdue_history_days": -1}, "overdue_history_days"),
    ],
)
def test_params_refuse_nonsense(settings, message):
    with pytest.raises(ValueError, match=message):
        DeclineParams(**settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"drop_share": "30%"}, "drop_share"),
        ({"overdue_factor": "1.5"}, "overdue_factor"),
        ({"overdue_factor": True}, "overdue_factor"),
        ({"period_days": 365.0}, "period_days"),
    ],
)
def test_params_refuse_wrong_types(settings, message):
    with pytest.raises(TypeError, match=message):
        DeclineParams(**settings)


def test_bad_input(duck):
    with pytest.raises(TypeError, match="as_of_day"):
        decline.decline(duck.frame(transactions(DECLINE_ROWS)), as_of_day=1000.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks the column.*revenue"):
        decline.decline(duck.frame({"customer_id": [1], "day": [3]}), as_of_day=1000)
    with pytest.raises(ValueError, match=r"lacks the column.*day"):
        decline.overdue(duck.frame({"customer_id": [1]}), as_of_day=1000)
