"""Loyalty ladder and its transitions against numbers worked out by hand (DuckDB)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from vefa.analytics.engine import Engine
from vefa.analytics.metrics import ladder
from vefa.analytics.metrics.params import LadderParams


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def transactions(rows: list[tuple[int, int]]) -> pa.Table:
    """(customer_id, day) rows as the contract's transactions table."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "order_id": pa.array(range(1, len(rows) + 1), pa.int64()),
            "day": pa.array([r[1] for r in rows], pa.int32()),
            "month": pa.array([r[1] // 30 for r in rows], pa.int32()),
            "revenue": pa.array([100] * len(rows), pa.int64()),
            "cost": pa.array([0] * len(rows), pa.int64()),
        }
    )


def run(duck, rows, **kwargs):
    frame = ladder.ladder(duck.frame(transactions(rows)), **kwargs)
    return [
        (row["customer_id"], row["orders"], row["ladder_step"])
        for row in duck.collect(frame, sort=["customer_id"]).to_pylist()
    ]


def orders(customer: int, count: int, first_day: int = 100) -> list[tuple[int, int]]:
    return [(customer, first_day + i) for i in range(count)]


# as_of_day 400 and the default year: days 35 … 399 count.
HAND_ROWS = [
    (1, 35),  # first day of the window: counted
    *orders(2, 2),
    *orders(3, 3),
    *orders(4, 4),
    *orders(5, 9),
    *orders(6, 10),
    (7, 34),  # before the window
    (7, 400),  # as_of_day itself
    (8, 200),  # three orders on one day are three orders
    (8, 200),
    (8, 200),
]


def test_hand_computed_steps(duck):
    assert run(duck, HAND_ROWS, as_of_day=400) == [
        (1, 1, "one_time"),
        (2, 2, "occasional"),
        (3, 3, "occasional"),
        (4, 4, "regular"),
        (5, 9, "regular"),
        (6, 10, "loyal"),
        (8, 3, "occasional"),
    ]


def test_columns_and_types(duck):
    table = duck.collect(ladder.ladder(duck.frame(transactions(HAND_ROWS)), as_of_day=400))
    assert tuple(table.column_names) == ladder.COLUMNS
    assert table.schema.field("orders").type == pa.int64()


def test_custom_thresholds_and_window(duck):
    params = LadderParams(window_days=30, occasional_orders=3, regular_orders=5, loyal_orders=6)
    rows = [*orders(1, 2, 380), *orders(2, 3, 380), *orders(3, 5, 380), *orders(4, 6, 380),
            *orders(5, 6, 300)]  # fmt: skip
    # Window: days 370 … 399; customer 5's orders are older.
    assert run(duck, rows, as_of_day=400, params=params) == [
        (1, 2, "one_time"),
        (2, 3, "occasional"),
        (3, 5, "regular"),
        (4, 6, "loyal"),
    ]


def test_empty_and_single(duck):
    assert run(duck, [], as_of_day=400) == []
    assert run(duck, [(9, 399)], as_of_day=400) == [(9, 1, "one_time")]


def _steps(duck, pairs):
    return duck.frame(
        {"customer_id": pa.array([p[0] for p in pairs], pa.int64()),
         "ladder_step": pa.array([p[1] for p in pairs], pa.string())}
    )  # fmt: skip


def test_transitions_count_moves_and_none(duck):
    previous = _steps(duck, [(1, "one_time"), (2, "occasional"), (3, "loyal"), (5, "occasional")])
    current = _steps(duck, [(2, "regular"), (3, "loyal"), (4, "one_time"), (5, "regular")])
    result = duck.collect(ladder.transitions(previous, current), sort=["from_step", "to_step"])
    assert tuple(result.column_names) == ladder.TRANSITION_COLUMNS
    assert result.to_pylist() == [
        {"from_step": "loyal", "to_step": "loyal", "customers": 1},
        {"from_step": "none", "to_step": "one_time", "customers": 1},
        {"from_step": "occasional", "to_step": "regular", "customers": 2},
        {"from_step": "one_time", "to_step": "none", "customers": 1},
    ]


def test_transitions_of_two_ladders(duck):
    rows = [*orders(1, 4, 10), (1, 390), *orders(2, 2, 390), (3, 20)]
    frame = duck.frame(transactions(rows))
    # A year before day 400 (days 35 … 399 vs. -330 … 34): 1 regular -> one_time,
    # 2 none -> occasional, 3 one_time -> none.
    before = ladder.ladder(frame, as_of_day=35)
    now = ladder.ladder(frame, as_of_day=400)
    result = duck.collect(ladder.transitions(before, now), sort=["from_step", "to_step"])
    assert result.to_pylist() == [
        {"from_step": "none", "to_step": "occasional", "customers": 1},
        {"from_step": "one_time", "to_step": "none", "customers": 1},
        {"from_step": "regular", "to_step": "one_time", "customers": 1},
    ]


def test_transitions_of_nothing(duck):
    empty = _steps(duck, [])
    assert duck.collect(ladder.transitions(empty, empty)).num_rows == 0


def test_labels_cover_every_step():
    assert set(ladder.LABELS) == {*ladder.STEPS, ladder.NONE} == set(ladder.DESCRIPTIONS)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"occasional_orders": 1}, "occasional_orders must be at least 2"),
        ({"regular_orders": 2}, "must rise"),
        ({"regular_orders": 10, "loyal_orders": 10}, "must rise"),
        ({"loyal_orders": 3}, "must rise"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": -365}, "window_days"),
    ],
)
def test_params_refuse_nonsense(settings, message):
    with pytest.raises(ValueError, match=message):
        LadderParams(**settings)


@pytest.mark.parametrize("value", [2.5, "2", True, None])
def test_params_refuse_non_integers(value):
    with pytest.raises(TypeError, match="occasional_orders"):
        LadderParams(occasional_orders=value)


def test_bad_frames_and_days(duck):
    with pytest.raises(TypeError, match="as_of_day"):
        ladder.ladder(duck.frame(transactions(HAND_ROWS)), as_of_day="400")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks the column.*day"):
        ladder.ladder(duck.frame({"customer_id": [1]}), as_of_day=400)
    with pytest.raises(ValueError, match=r"current lacks the column.*ladder_step"):
        ladder.transitions(_steps(duck, [(1, "loyal")]), duck.frame({"customer_id": [1]}))
