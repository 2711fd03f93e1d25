"""A/B/C value classes and the Pareto view against numbers worked out by hand (DuckDB)."""

from __future__ import annotations

import math

import narwhals as nw
import pyarrow as pa
import pytest

from vefa.analytics.engine import Engine
from vefa.analytics.metrics import value
from vefa.analytics.metrics.params import ValueParams


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def transactions(rows: list[tuple[int, int, int, int]]) -> pa.Table:
    """(customer_id, day, revenue, cost) rows as the contract's transactions table."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "order_id": pa.array(range(1, len(rows) + 1), pa.int64()),
            "day": pa.array([r[1] for r in rows], pa.int32()),
            "month": pa.array([r[1] // 30 for r in rows], pa.int32()),
            "revenue": pa.array([r[2] for r in rows], pa.int64()),
            "cost": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


def classes(duck, rows, **kwargs):
    frame = value.value_classes(duck.frame(transactions(rows)), **kwargs)
    return duck.collect(frame, sort=["value_rank"]).to_pylist()


def brief(result):
    return [
        (r["customer_id"], r["value"], r["value_rank"], r["cumulative_share"], r["value_class"])
        for r in result
    ]


# Revenue 500 / 300 / 100 / 60 / 40 = 1000 in all; as_of_day 400 (days 35 … 399 count).
FIVE = [
    (1, 100, 200, 0),
    (1, 399, 300, 0),  # the day before as_of_day: counted
    (2, 35, 300, 0),  # first day of the window: counted
    (3, 200, 100, 0),
    (4, 200, 60, 0),
    (5, 200, 40, 0),
    (5, 400, 999, 0),  # as_of_day: not counted
    (6, 34, 999, 0),  # before the window: customer 6 is absent
]


def test_hand_computed_classes(duck):
    result = classes(duck, FIVE, as_of_day=400)
    # Running shares 0.5, 0.8, 0.9, 0.96, 1; the shares before each customer 0, 0.5, 0.8,
    # 0.9, 0.96: A while below 0.8, B while below 0.95.
    assert brief(result) == [
        (1, 500, 1, 0.5, "A"),
        (2, 300, 2, 0.8, "A"),
        (3, 100, 3, 0.9, "B"),
        (4, 60, 4, 0.96, "B"),
        (5, 40, 5, 1.0, "C"),
    ]
    # Five customers: nobody is in the top 5 % (0.25 of a customer); the bottom 20 % is one.
    assert [r["top_5_percent"] for r in result] == [False] * 5
    assert [r["bottom_20_percent"] for r in result] == [False, False, False, False, True]


def test_columns_and_types(duck):
    table = duck.collect(value.value_classes(duck.frame(transactions(FIVE)), as_of_day=400))
    assert tuple(table.column_names) == value.COLUMNS
    assert table.schema.field("value").type == pa.int64()
    assert table.schema.field("value_rank").type == pa.int64()
    assert table.schema.field("cumulative_share").type == pa.float64()
    assert table.schema.field("top_5_percent").type == pa.bool_()


def test_margin_with_a_loss_making_customer(duck):
    rows = [
        (1, 100, 500, 100),  # margin 400
        (2, 100, 300, 350),  # margin -50: a loss
        (3, 100, 200, 0),  # 200
        (4, 100, 100, 100),  # 0
    ]
    result = classes(duck, rows, as_of_day=400, basis="margin")
    # Positive margin 600: shares 2/3, 1, 1, 1; before 0, 2/3, 1, 1.
    assert brief(result) == [
        (1, 400, 1, pytest.approx(2 / 3), "A"),
        (3, 200, 2, 1.0, "A"),
        (4, 0, 3, 1.0, "C"),
        (2, -50, 4, 1.0, "C"),
    ]
    by_params = classes(duck, rows, as_of_day=400, params=ValueParams(basis="margin"))
    assert brief(by_params) == brief(result)


def test_ties_rank_by_customer_id(duck):
    rows = [(9, 100, 100, 0), (3, 100, 100, 0), (5, 100, 300, 0)]
    assert [r["customer_id"] for r in classes(duck, rows, as_of_day=400)] == [5, 3, 9]


def test_top_and_bottom_of_twenty(duck):
    rows = [(customer, 100, 1000 - customer, 0) for customer in range(1, 21)]
    result = classes(duck, rows, as_of_day=400)
    assert [r["customer_id"] for r in result if r["top_5_percent"]] == [1]
    assert [r["customer_id"] for r in result if r["bottom_20_percent"]] == [17, 18, 19, 20]


def test_one_customer(duck):
    assert classes(duck, [(1, 100, 100, 0)], as_of_day=400) == [
        {"customer_id": 1, "value": 100, "value_rank": 1, "cumulative_share": 1.0,
         "value_class": "A", "top_5_percent": False, "bottom_20_percent": False},
    ]  # fmt: skip


def test_no_positive_value_leaves_shares_null_and_everyone_c(duck):
    rows = [(1, 100, 0, 0), (2, 100, -100, 0)]  # nothing sold, one refund
    assert brief(classes(duck, rows, as_of_day=400)) == [
        (1, 0, 1, None, "C"),
        (2, -100, 2, None, "C"),
    ]


def test_custom_shares_and_window(duck):
    result = classes(
        duck, FIVE, as_of_day=400, params=ValueParams(a_share=0.5, b_share=0.9, window_days=300)
    )
    # Window days 100 … 399 drops customer 2's order of day 35: 500/100/60/40 = 700.
    # Shares before: 0, 5/7, 6/7, 0.9428…: A, B, B, C.
    assert [(r["customer_id"], r["value_class"]) for r in result] == [
        (1, "A"), (3, "B"), (4, "B"), (5, "C")
    ]  # fmt: skip
    assert classes(duck, FIVE, as_of_day=400, window_days=1)[0]["customer_id"] == 1


def test_empty(duck):
    assert classes(duck, [], as_of_day=400) == []
    empty = value.value_classes(duck.frame(transactions([])), as_of_day=400)
    assert duck.collect(value.pareto(empty)).num_rows == 0
    assert duck.collect(value.pareto_summary(empty)).to_pylist() == [
        {"customers": 0, "customer_share_for_80": None, "top_5_share": None,
         "bottom_20_share": None}
    ]  # fmt: skip


# --- Pareto ----------------------------------------------------------------------------------


def test_pareto_points_of_five_customers(duck):
    frame = value.value_classes(duck.frame(transactions(FIVE)), as_of_day=400)
    result = duck.collect(value.pareto(frame), sort=["customer_share"]).to_pylist()
    assert tuple(result[0]) == value.PARETO_COLUMNS
    # Fewer customers than points: one point per customer.
    assert [(r["customer_share"], r["value_share"]) for r in result] == [
        (0.2, 0.5), (0.4, 0.8), (0.6, 0.9), (0.8, 0.96), (1.0, 1.0)
    ]  # fmt: skip
    # Two points: ranks 1–2 (ceil(2r/5) = 1) and 3–5.
    two = duck.collect(value.pareto(frame, points=2), sort=["customer_share"]).to_pylist()
    assert [(r["customer_share"], r["value_share"]) for r in two] == [(0.4, 0.8), (1.0, 1.0)]


def test_pareto_has_the_points_asked_for(duck):
    rows = [(customer, 100, customer, 0) for customer in range(1, 1001)]
    frame = value.value_classes(duck.frame(transactions(rows)), as_of_day=400)
    result = duck.collect(value.pareto(frame), sort=["customer_share"]).to_pylist()
    assert len(result) == 100
    assert result[0]["customer_share"] == 0.01
    assert result[-1] == {"customer_share": 1.0, "value_share": 1.0}
    # The best 10 customers (1000 … 991) bring 9955 of 500500.
    assert result[0]["value_share"] == pytest.approx(9955 / 500500)


def test_pareto_summary_with_a_refund_customer(duck):
    rows = [
        (1, 100, 1000, 0),
        (2, 100, 500, 0),
        (3, 100, 300, 0),
        (4, 100, 200, 0),
        (5, 100, 100, 0),
        (5, 101, -600, 0),  # refunds beyond the purchases: -500
    ]
    frame = value.value_classes(duck.frame(transactions(rows)), as_of_day=400)
    # Positive value 2000: running shares 0.5, 0.75, 0.9, 1, 1; 80 % is reached at rank 3.
    assert [r["value_class"] for r in duck.collect(frame, sort=["value_rank"]).to_pylist()] == [
        "A", "A", "A", "B", "C"
    ]  # fmt: skip
    summary = duck.collect(value.pareto_summary(frame)).to_pylist()
    assert summary == [
        {"customers": 5, "customer_share_for_80": 0.6, "top_5_share": 0.0,
         "bottom_20_share": -0.25}
    ]  # fmt: skip


def test_pareto_summary_of_twenty(duck):
    rows = [(customer, 100, 1000 - customer, 0) for customer in range(1, 21)]
    frame = value.value_classes(duck.frame(transactions(rows)), as_of_day=400)
    (summary,) = duck.collect(value.pareto_summary(frame)).to_pylist()
    # Values 999 … 980, total 19790. Top 5 %: 999. Bottom 20 %: 983 + 982 + 981 + 980 = 3926.
    # Running total reaches 0.8 × 19790 = 15832 at rank 16 (999 + … + 984 = 15864).
    assert summary["customers"] == 20
    assert summary["customer_share_for_80"] == 0.8
    assert summary["top_5_share"] == pytest.approx(999 / 19790)
    assert summary["bottom_20_share"] == pytest.approx(3926 / 19790)


def test_labels_cover_every_class():
    assert set(value.LABELS) == set(value.CLASSES) == set(value.DESCRIPTIONS)


# --- invalid settings and input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"a_share": 0.96}, "must not be above b_share"),
        ({"a_share": 0.9, "b_share": 0.8}, "must not be above b_share"),
        ({"a_share": 0}, "a_share must be greater than 0"),
        ({"b_share": 1.5}, "b_share must be greater than 0 and at most 1"),
        ({"a_share": -0.1}, "a_share"),
        ({"a_share": math.nan}, "a_share"),
        ({"window_days": 0}, "window_days"),
        ({"basis": "profit"}, "basis"),
    ],
)
def test_params_refuse_nonsense(settings, message):
    with pytest.raises(ValueError, match=message):
        ValueParams(**settings)


@pytest.mark.parametrize("share", ["0.8", True, None])
def test_params_refuse_non_numbers(share):
    with pytest.raises(TypeError, match="a_share"):
        ValueParams(a_share=share)


def test_equal_shares_mean_no_b_class(duck):
    result = classes(duck, FIVE, as_of_day=400, params=ValueParams(a_share=0.8, b_share=0.8))
    assert [r["value_class"] for r in result] == ["A", "A", "C", "C", "C"]


def test_bad_input(duck):
    frame = duck.frame(transactions(FIVE))
    with pytest.raises(ValueError, match="basis"):
        value.value_classes(frame, as_of_day=400, basis="profit")  # type: ignore[arg-type]
    no_cost = duck.frame(transactions(FIVE).drop(["cost"]))
    with pytest.raises(ValueError, match=r"lacks the column.*cost"):
        value.value_classes(no_cost, as_of_day=400, basis="margin")
    with pytest.raises(TypeError, match="as_of_day"):
        value.value_classes(frame, as_of_day=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="points"):
        value.pareto(value.value_classes(frame, as_of_day=400), points=0)
    with pytest.raises(ValueError, match=r"lacks the column.*value_rank.*bottom_20_percent"):
        value.pareto_summary(frame.select("customer_id", nw.col("revenue").alias("value")))
