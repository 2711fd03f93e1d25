"""RFM: scores and segments against numbers worked out by hand (DuckDB)."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from vefa.analytics.engine import Engine
from vefa.analytics.metrics import rfm
from vefa.analytics.metrics.params import (
    DEFAULT_SEGMENTS,
    SEGMENT_CODES,
    RfmParams,
    SegmentRule,
)


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


def run(duck, rows, **kwargs):
    frame = rfm.rfm(duck.frame(transactions(rows)), **kwargs)
    return duck.collect(frame, sort=["customer_id"]).to_pylist()


# as_of_day 100 and a 30-day window: days 70 … 99 count.
HAND_ROWS = [
    (1, 99, 500),
    (1, 90, 300),
    (2, 70, 100),  # first day of the window: counted
    (3, 69, 999),  # the day before the window: not counted
    (3, 100, 50),  # as_of_day itself: not counted, so customer 3 is absent
    (4, 80, 100),
    (4, 85, 100),
    (4, 95, -50),  # a refund
    (5, 95, 1000),  # two orders on one day
    (5, 95, 1000),
]


def test_hand_computed_scores_and_segments(duck):
    rows = run(duck, HAND_ROWS, as_of_day=100, window_days=30)
    # n = 4. R order (last day, id): 2 (70), 4 (95), 5 (95), 1 (99) -> ceil(5r/4) = 2, 3, 4, 5.
    # F order: 2 (1), 1 (2), 5 (2), 4 (3) -> 2, 3, 4, 5. M order: 2 (100), 4 (150), 1 (800),
    # 5 (2000) -> 2, 3, 4, 5.
    assert rows == [
        {"customer_id": 1, "recency_days": 1, "frequency": 2, "monetary": 800,
         "r_score": 5, "f_score": 3, "m_score": 4, "rfm_score": 534,
         "rfm_segment": "potential_loyalists"},
        {"customer_id": 2, "recency_days": 30, "frequency": 1, "monetary": 100,
         "r_score": 2, "f_score": 2, "m_score": 2, "rfm_score": 222,
         "rfm_segment": "hibernating"},
        {"customer_id": 4, "recency_days": 5, "frequency": 3, "monetary": 150,
         "r_score": 3, "f_score": 5, "m_score": 3, "rfm_score": 353,
         "rfm_segment": "loyal"},
        {"customer_id": 5, "recency_days": 5, "frequency": 2, "monetary": 2000,
         "r_score": 4, "f_score": 4, "m_score": 5, "rfm_score": 445,
         "rfm_segment": "loyal"},
    ]  # fmt: skip


def test_output_columns_and_types(duck):
    frame = rfm.rfm(duck.frame(transactions(HAND_ROWS)), as_of_day=100, window_days=30)
    table = duck.collect(frame)
    assert tuple(table.column_names) == rfm.COLUMNS
    assert table.schema.field("monetary").type == pa.int64()
    assert table.schema.field("frequency").type == pa.int64()
    assert table.schema.field("r_score").type == pa.int32()
    assert table.schema.field("rfm_segment").type == pa.string()


def test_window_comes_from_params_unless_given(duck):
    frame = duck.frame(transactions(HAND_ROWS))
    from_params = rfm.rfm(frame, as_of_day=100, params=RfmParams(window_days=30))
    assert duck.collect(from_params, sort=["customer_id"]).column("customer_id").to_pylist() == [
        1, 2, 4, 5
    ]  # fmt: skip
    # The default year takes customer 3's order of day 69 too.
    default = rfm.rfm(frame, as_of_day=100)
    assert duck.collect(default, sort=["customer_id"]).column("customer_id").to_pylist() == [
        1, 2, 3, 4, 5
    ]  # fmt: skip
    # An explicit window_days wins over the params.
    explicit = rfm.rfm(frame, as_of_day=100, window_days=10, params=RfmParams(window_days=30))
    assert duck.collect(explicit, sort=["customer_id"]).column("customer_id").to_pylist() == [
        1, 4, 5
    ]  # fmt: skip


def test_ties_are_broken_by_customer_id(duck):
    # Five customers alike in every way: the scores follow customer_id, whatever the row order.
    rows = [(30, 50, 100), (10, 50, 100), (50, 50, 100), (20, 50, 100), (40, 50, 100)]
    result = run(duck, rows, as_of_day=100, window_days=100)
    assert [(r["customer_id"], r["rfm_score"], r["rfm_segment"]) for r in result] == [
        (10, 111, "lost"),
        (20, 222, "hibernating"),
        (30, 333, "need_attention"),
        (40, 444, "loyal"),
        (50, 555, "champions"),
    ]


def test_quintile_sizes_for_seven_customers(duck):
    # ceil(5r/7) for r = 1 … 7: 1, 2, 3, 3, 4, 5, 5.
    rows = [(customer, 50, customer * 10) for customer in range(1, 8)]
    result = run(duck, rows, as_of_day=100, window_days=100)
    assert [r["m_score"] for r in result] == [1, 2, 3, 3, 4, 5, 5]


def test_ten_customers_make_five_equal_quintiles(duck):
    rows = [(customer, customer, 1) for customer in range(1, 11)]  # later id, later day
    result = run(duck, rows, as_of_day=100, window_days=100)
    assert [r["r_score"] for r in result] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [r["recency_days"] for r in result] == [99, 98, 97, 96, 95, 94, 93, 92, 91, 90]


def test_zero_and_negative_monetary_rank_lowest(duck):
    rows = [(1, 50, -200), (2, 50, 0), (3, 50, 100)]
    result = run(duck, rows, as_of_day=100, window_days=100)
    # n = 3: ceil(5/3) = 2, ceil(10/3) = 4, 5.
    assert [(r["monetary"], r["m_score"]) for r in result] == [(-200, 2), (0, 4), (100, 5)]


def test_one_customer_is_best_of_one(duck):
    result = run(duck, [(7, 99, 100), (7, 99, 100)], as_of_day=100)
    assert result == [
        {"customer_id": 7, "recency_days": 1, "frequency": 2, "monetary": 200,
         "r_score": 5, "f_score": 5, "m_score": 5, "rfm_score": 555,
         "rfm_segment": "champions"},
    ]  # fmt: skip


def test_empty_input_and_empty_window(duck):
    assert run(duck, [], as_of_day=100) == []
    assert run(duck, [(1, 10, 100)], as_of_day=100, window_days=5) == []


def test_huge_amounts_are_summed_exactly(duck):
    rows = [(1, 99, 10**15 + 1), (1, 98, 10**15 + 2), (1, 97, 10**15 + 3)]
    assert run(duck, rows, as_of_day=100)[0]["monetary"] == 3 * 10**15 + 6


def test_grid_counts_customers_and_money_per_cell(duck):
    frame = duck.frame(
        {
            "customer_id": [1, 2, 3],
            "r_score": pa.array([5, 5, 1], pa.int32()),
            "f_score": pa.array([5, 5, 2], pa.int32()),
            "monetary": pa.array([100, 250, -30], pa.int64()),
        }
    )
    assert duck.collect(rfm.grid(frame), sort=["r_score", "f_score"]).to_pylist() == [
        {"r_score": 1, "f_score": 2, "customers": 1, "monetary": -30},
        {"r_score": 5, "f_score": 5, "customers": 2, "monetary": 350},
    ]


def test_grid_of_a_run(duck):
    result = rfm.rfm(duck.frame(transactions(HAND_ROWS)), as_of_day=100, window_days=30)
    assert duck.collect(rfm.grid(result), sort=["r_score", "f_score"]).to_pylist() == [
        {"r_score": 2, "f_score": 2, "customers": 1, "monetary": 100},
        {"r_score": 3, "f_score": 5, "customers": 1, "monetary": 150},
        {"r_score": 4, "f_score": 4, "customers": 1, "monetary": 2000},
        {"r_score": 5, "f_score": 3, "customers": 1, "monetary": 800},
    ]


# --- the segment map -------------------------------------------------------------------------

# Rows R 5 … 1, columns F 1 … 5, written out from the table in docs/analytics.md.
EXPECTED_MAP = {
    5: ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    4: ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
    1: ["lost", "lost", "at_risk", "at_risk", "cannot_lose"],
}


def test_every_cell_has_exactly_one_default_segment():
    owners: dict[tuple[int, int], list[str]] = {}
    for rule in DEFAULT_SEGMENTS:
        for cell in rule.cells():
            owners.setdefault(cell, []).append(rule.code)
    assert sorted(owners) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert all(len(codes) == 1 for codes in owners.values())
    assert {codes[0] for codes in owners.values()} == set(SEGMENT_CODES)
    assert len(SEGMENT_CODES) == 11


def test_segment_map_in_python_and_in_the_engine_agree_with_the_table(duck):
    params = RfmParams()
    cells = [(r, f) for r in range(1, 6) for f in range(1, 6)]
    for r, f in cells:
        assert params.segment_of(r, f) == EXPECTED_MAP[r][f - 1]
    frame = duck.frame(
        {
            "r_score": pa.array([r for r, _ in cells], pa.int32()),
            "f_score": pa.array([f for _, f in cells], pa.int32()),
        }
    )
    result = duck.collect(
        frame.with_columns(rfm.segment_expr(params).alias("segment")), sort=["r_score", "f_score"]
    ).to_pylist()
    assert [(row["r_score"], row["f_score"], row["segment"]) for row in result] == [
        (r, f, EXPECTED_MAP[r][f - 1]) for r, f in cells
    ]


def test_labels_and_descriptions_cover_every_segment():
    assert set(rfm.LABELS) == set(SEGMENT_CODES) == set(rfm.DESCRIPTIONS)
    assert all(str(label) for label in rfm.LABELS.values())
    assert all(code.isascii() and code == code.lower() for code in SEGMENT_CODES)


def test_custom_segment_rules(duck):
    params = RfmParams(
        segments=(
            SegmentRule("champions", r_min=1, r_max=5, f_min=3, f_max=5),
            SegmentRule("lost", r_min=1, r_max=5, f_min=1, f_max=2),
        )
    )
    rows = [(customer, 50, 100) for customer in range(1, 6)]  # F = 1 … 5 by id
    result = run(duck, rows, as_of_day=100, params=params)
    assert [r["rfm_segment"] for r in result] == ["lost", "lost", "champions", "champions",
                                                 "champions"]  # fmt: skip


# --- invalid settings and input --------------------------------------------------------------


def test_segment_rules_must_cover_every_cell_once():
    with pytest.raises(ValueError, match="R1F1"):
        RfmParams(segments=DEFAULT_SEGMENTS[:-1])  # without "lost": R1F1 and R1F2 uncovered
    overlap = (*DEFAULT_SEGMENTS, SegmentRule("champions", r_min=4, r_max=4, f_min=4, f_max=4))
    with pytest.raises(ValueError, match=r"R4F4 \(loyal/champions\)"):
        RfmParams(segments=overlap)
    with pytest.raises(TypeError):
        RfmParams(segments=list(DEFAULT_SEGMENTS))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("best", 1, 5, 1, 5), "unknown RFM segment"),
        (("'; DROP TABLE customers; --", 1, 5, 1, 5), "unknown RFM segment"),
        (("lost", 0, 5, 1, 5), "r_min must be a score"),
        (("lost", 1, 6, 1, 5), "r_max must be a score"),
        (("lost", 3, 2, 1, 5), "above its maximum"),
    ],
)
def test_segment_rule_refuses_nonsense(arguments, message):
    with pytest.raises(ValueError, match=message):
        SegmentRule(*arguments)


@pytest.mark.parametrize("window", [0, -30])
def test_window_must_be_positive(duck, window):
    with pytest.raises(ValueError, match="window_days"):
        RfmParams(window_days=window)
    with pytest.raises(ValueError, match="window_days"):
        rfm.rfm(duck.frame(transactions(HAND_ROWS)), as_of_day=100, window_days=window)


@pytest.mark.parametrize("window", [30.0, True, "30", None])
def test_window_must_be_an_integer(window):
    with pytest.raises(TypeError, match="window_days"):
        RfmParams(window_days=window)


@pytest.mark.parametrize("day", [datetime.date(2026, 1, 1), "20454", 100.0, True])
def test_as_of_day_must_be_a_day_number(duck, day):
    with pytest.raises(TypeError, match="as_of_day"):
        rfm.rfm(duck.frame(transactions(HAND_ROWS)), as_of_day=day)


def test_as_of_day_out_of_range(duck):
    with pytest.raises(ValueError, match="as_of_day"):
        rfm.rfm(duck.frame(transactions(HAND_ROWS)), as_of_day=2**40)


def test_missing_column_is_named(duck):
    frame = duck.frame({"customer_id": [1], "day": pa.array([5], pa.int32())})
    with pytest.raises(ValueError, match=r"transactions lacks the column.*revenue"):
        rfm.rfm(frame, as_of_day=100)
    with pytest.raises(ValueError, match=r"rfm_frame lacks the column.*monetary"):
        rfm.grid(duck.frame({"r_score": [1], "f_score": [1]}))


def test_an_arrow_table_is_not_a_frame():
    with pytest.raises(TypeError, match="LazyFrame"):
        rfm.rfm(transactions(HAND_ROWS), as_of_day=100)
