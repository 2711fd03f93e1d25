"""Association rules and next-best offers, on baskets small enough to count by hand."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tests.analytics.conftest import as_rows
from vefa.analytics.engine import Engine
from vefa.analytics.metrics import basket

LINE_SCHEMA = pa.schema(
    [
        ("line_id", pa.int64()),
        ("order_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("product_id", pa.int64()),
        ("category_id", pa.int64()),
        ("day", pa.int32()),
        ("month", pa.int32()),
        ("quantity", pa.float64()),
        ("revenue", pa.int64()),
        ("cost", pa.int64()),
    ]
)
RULE_SCHEMA = pa.schema(
    [
        ("antecedent", pa.int64()),
        ("consequent", pa.int64()),
        ("baskets", pa.int64()),
        ("support", pa.float64()),
        ("confidence", pa.float64()),
        ("lift", pa.float64()),
    ]
)
A, B, C, D = 1, 2, 3, 4
CATEGORY = {A: 10, B: 10, C: 20, D: 30}


def lines_table(rows: list[tuple[int, int, int | None]], *, day: int = 100) -> pa.Table:
    """(order_id, customer_id, product_id) rows; the category follows the product."""
    columns: dict[str, list[Any]] = {name: [] for name in LINE_SCHEMA.names}
    for number, (order, customer, product) in enumerate(rows, start=1):
        columns["line_id"].append(number)
        columns["order_id"].append(order)
        columns["customer_id"].append(customer)
        columns["product_id"].append(product)
        columns["category_id"].append(CATEGORY.get(product) if product is not None else None)
        columns["day"].append(day)
        columns["month"].append(0)
        columns["quantity"].append(1.0)
        columns["revenue"].append(100)
        columns["cost"].append(60)
    return pa.table(columns, schema=LINE_SCHEMA)


# Five baskets (order 6 has only a free-text line, so it is no basket):
#   1: A B   2: A B C   3: A C   4: B   5: A A (one item, counted once)
# A is in 4 baskets, B in 3, C in 2; A+B in 2, A+C in 2, B+C in 1.
BASKETS = [
    (1, 1, A), (1, 1, B),
    (2, 2, A), (2, 2, B), (2, 2, C),
    (3, 3, A), (3, 3, C),
    (4, 1, B),
    (5, 2, A), (5, 2, A),
    (6, 3, None),
]  # fmt: skip


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def run_rules(engine: Engine, table: pa.Table, **kwargs: Any) -> list[dict[str, Any]]:
    frame = basket.rules(engine.frame(table), **kwargs)
    return as_rows(engine.collect(frame))


def rule(antecedent: int, consequent: int, baskets: int, support: float, confidence: float,
         lift: float) -> dict[str, Any]:  # fmt: skip
    return {
        "antecedent": antecedent,
        "consequent": consequent,
        "baskets": baskets,
        "support": round(support, 9),
        "confidence": round(confidence, 9),
        "lift": round(lift, 9),
    }


# support 2/5; confidence 2/2, 2/4, 2/3, 2/4; lift = baskets * 5 / (n_a * n_c)
C_A = rule(C, A, 2, 0.4, 1.0, 1.25)
A_C = rule(A, C, 2, 0.4, 0.5, 1.25)
B_A = rule(B, A, 2, 0.4, 2 / 3, 5 / 6)
A_B = rule(A, B, 2, 0.4, 0.5, 5 / 6)


def test_rules_counted_by_hand_best_lift_first(duck):
    rows = run_rules(duck, lines_table(BASKETS), min_support=0.3, min_confidence=0.0)
    # B+C (1 basket of 5 = 0.2) is below the support; equal lifts go by confidence.
    assert rows == [C_A, A_C, B_A, A_B]


def test_min_confidence_and_max_rules(duck):
    table = lines_table(BASKETS)
    assert run_rules(duck, table, min_support=0.3, min_confidence=0.6) == [C_A, B_A]
    assert run_rules(duck, table, min_support=0.3, min_confidence=0.0, max_rules=1) == [C_A]
    assert run_rules(duck, table, min_support=0.3, min_confidence=0.0, max_rules=3) == [
        C_A,
        A_C,
        B_A,
    ]


def test_low_support_keeps_the_rare_pair(duck):
    rows = run_rules(duck, lines_table(BASKETS), min_support=0.2, min_confidence=0.0)
    pairs = {(row["antecedent"], row["consequent"]) for row in rows}
    assert pairs == {(A, B), (B, A), (A, C), (C, A), (B, C), (C, B)}
    b_c = next(row for row in rows if (row["antecedent"], row["consequent"]) == (B, C))
    # 1 basket of 5; P(C | B) = 1/3; lift = 1 * 5 / (3 * 2)
    assert b_c == rule(B, C, 1, 0.2, 1 / 3, 5 / 6)


def test_category_level(duck):
    # Categories: A and B are 10, C is 20. Baskets {10}, {10,20}, {10,20}, {10}, {10}.
    rows = run_rules(duck, lines_table(BASKETS), level="category", min_support=0.1,
                     min_confidence=0.0)  # fmt: skip
    assert rows == [rule(20, 10, 2, 0.4, 1.0, 1.0), rule(10, 20, 2, 0.4, 0.4, 1.0)]


def test_window_counts_only_days_before_as_of_day(duck):
    old = lines_table([(7, 1, B), (7, 1, C), (8, 1, B), (8, 1, C)], day=10)
    table = pa.concat_tables([lines_table(BASKETS), old])
    everything = run_rules(duck, table, min_support=0.3, min_confidence=0.0)
    assert (B, C) in {(row["antecedent"], row["consequent"]) for row in everything}
    recent = run_rules(duck, table, min_support=0.3, min_confidence=0.0, as_of_day=101,
                       window_days=50)  # fmt: skip
    assert recent == [C_A, A_C, B_A, A_B]
    # Day 100 itself is not counted: only the two old baskets (B C, B C) remain.
    old_only = run_rules(duck, table, min_support=0.3, min_confidence=0.0, as_of_day=100)
    assert old_only == [rule(B, C, 2, 1.0, 1.0, 1.0), rule(C, B, 2, 1.0, 1.0, 1.0)]


def test_single_item_baskets_and_empty_input_give_no_rules(duck):
    single = lines_table([(1, 1, A), (2, 1, B), (3, 2, A), (4, 2, A), (4, 2, A)])
    assert run_rules(duck, single, min_support=0.01, min_confidence=0.0) == []
    empty = LINE_SCHEMA.empty_table()
    result = duck.collect(basket.rules(duck.frame(empty), min_support=0.01))
    assert result.num_rows == 0
    assert result.column_names == RULE_SCHEMA.names
    only_free_text = lines_table([(1, 1, None), (1, 1, None)])
    assert run_rules(duck, only_free_text, min_support=0.01) == []


def test_huge_ids_survive(duck):
    big = 2**62
    table = lines_table([(1, 1, big), (1, 1, big + 1), (2, 1, big), (2, 1, big + 1)])
    rows = run_rules(duck, table, min_support=0.5, min_confidence=0.0)
    assert [(row["antecedent"], row["consequent"]) for row in rows] == [
        (big, big + 1),
        (big + 1, big),
    ]
    assert rows[0]["lift"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"level": "sku"}, ValueError),
        ({"level": "product'; DROP TABLE lines; --"}, ValueError),
        ({"level": None}, ValueError),
        ({"min_support": 0}, ValueError),
        ({"min_support": 1.5}, ValueError),
        ({"min_support": float("nan")}, ValueError),
        ({"min_support": "0.1"}, TypeError),
        ({"min_confidence": -0.1}, ValueError),
        ({"min_confidence": True}, TypeError),
        ({"max_rules": 0}, ValueError),
        ({"max_rules": 2.5}, TypeError),
        ({"max_rules": 10**12}, ValueError),
        ({"window_days": 30}, ValueError),  # a window needs as_of_day
        ({"as_of_day": "2026-01-01"}, TypeError),
        ({"as_of_day": 100, "window_days": 0}, ValueError),
    ],
)
def test_invalid_settings_are_refused(duck, kwargs, error):
    frame = duck.frame(lines_table(BASKETS))
    with pytest.raises(error):
        basket.rules(frame, **kwargs)


def next_best_rows(engine: Engine, lines: pa.Table, rules: pa.Table, **kwargs: Any) -> list:
    frame = basket.next_best(engine.frame(lines), engine.frame(rules), **kwargs)
    return as_rows(engine.collect(frame, sort=["customer_id", "rank"]))


def rules_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=RULE_SCHEMA)


def test_next_best_scores_by_confidence_then_lift_and_skips_what_was_bought(duck):
    rules = rules_table([C_A, A_C, B_A, A_B])
    lines = lines_table([
        (1, 1, A),  # A => C (0.5, lift 1.25) and A => B (0.5, lift 0.83): C first
        (2, 2, B), (2, 2, C),  # B => A (0.67) and C => A (1.0): A scores 1.0
        (3, 3, A), (3, 3, B), (3, 3, C),  # bought everything: nothing to offer
        (4, 4, D),  # no rule starts from D
        (5, 5, None),  # free text only
    ])  # fmt: skip
    assert next_best_rows(duck, lines, rules) == [
        {"customer_id": 1, "product_id": C, "rank": 1, "score": 0.5},
        {"customer_id": 1, "product_id": B, "rank": 2, "score": 0.5},
        {"customer_id": 2, "product_id": A, "rank": 1, "score": 1.0},
    ]
    assert next_best_rows(duck, lines, rules, k=1) == [
        {"customer_id": 1, "product_id": C, "rank": 1, "score": 0.5},
        {"customer_id": 2, "product_id": A, "rank": 1, "score": 1.0},
    ]


def test_next_best_full_ties_go_to_the_smaller_id(duck):
    rules = rules_table([rule(A, 9, 1, 0.1, 0.5, 2.0), rule(A, 7, 1, 0.1, 0.5, 2.0),
                         rule(A, 8, 1, 0.1, 0.5, 2.0)])  # fmt: skip
    rows = next_best_rows(duck, lines_table([(1, 1, A)]), rules, k=2)
    assert [(row["product_id"], row["rank"]) for row in rows] == [(7, 1), (8, 2)]


def test_next_best_category_level_names_the_column(duck):
    rules = rules_table([rule(10, 20, 2, 0.4, 0.4, 1.0), rule(20, 10, 2, 0.4, 1.0, 1.0)])
    lines = lines_table([(1, 1, A), (2, 2, C), (3, 3, B), (3, 3, C)])
    assert next_best_rows(duck, lines, rules, level="category") == [
        {"customer_id": 1, "category_id": 20, "rank": 1, "score": 0.4},
        {"customer_id": 2, "category_id": 10, "rank": 1, "score": 1.0},
    ]


def test_next_best_without_rules_or_lines_is_empty(duck):
    empty_rules = RULE_SCHEMA.empty_table()
    assert next_best_rows(duck, lines_table(BASKETS), empty_rules) == []
    result = duck.collect(
        basket.next_best(duck.frame(LINE_SCHEMA.empty_table()), duck.frame(rules_table([C_A])))
    )
    assert result.column_names == ["customer_id", "product_id", "rank", "score"]
    assert result.num_rows == 0


@pytest.mark.parametrize(("k", "error"), [(0, ValueError), ("3", TypeError), (None, TypeError)])
def test_next_best_refuses_a_bad_k(duck, k, error):
    with pytest.raises(error):
        basket.next_best(duck.frame(lines_table(BASKETS)), duck.frame(rules_table([C_A])), k=k)


def test_rules_feed_next_best_end_to_end(duck):
    lines = duck.frame(lines_table(BASKETS))
    rules = basket.rules(lines, min_support=0.3, min_confidence=0.0)
    rows = as_rows(duck.collect(basket.next_best(lines, rules), sort=["customer_id", "rank"]))
    # Customer 1 bought A and B (orders 1, 4): C via A => C. Customer 2 bought A, B, C.
    # Customer 3 bought A and C (order 3): B via A => B.
    assert rows == [
        {"customer_id": 1, "product_id": C, "rank": 1, "score": 0.5},
        {"customer_id": 3, "product_id": B, "rank": 1, "score": 0.5},
    ]


def test_missing_columns_and_wrong_frames_are_named(duck):
    with pytest.raises(ValueError, match="lines lacks the column"):
        basket.rules(duck.frame({"order_id": [1]}))
    with pytest.raises(ValueError, match="category_id"):
        basket.rules(duck.frame({"order_id": [1], "product_id": [1]}), level="category")
    with pytest.raises(TypeError, match="LazyFrame"):
        basket.rules(lines_table(BASKETS))  # an Arrow table, not a lazy frame
    no_lift = pa.table({"antecedent": [1], "consequent": [2], "confidence": [0.5]})
    with pytest.raises(ValueError, match="rules lacks the column"):
        basket.next_best(duck.frame(lines_table(BASKETS)), duck.frame(no_lift))
