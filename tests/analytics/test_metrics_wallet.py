"""Share of wallet and category breadth on small cases worked out by hand."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tests.analytics.conftest import as_rows
from vefa.analytics.engine import Engine
from vefa.analytics.metrics import wallet
from vefa.analytics.metrics.params_b import BreadthParams, WalletParams

TRANSACTION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("order_id", pa.int64()),
        ("day", pa.int32()),
        ("month", pa.int32()),
        ("revenue", pa.int64()),
        ("cost", pa.int64()),
    ]
)
CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("kind", pa.string()),
        ("created_day", pa.int32()),
        ("industry", pa.string()),
        ("size_band", pa.string()),
        ("owner_id", pa.int64()),
        ("team_id", pa.int64()),
        ("declared_wallet", pa.int64()),
    ]
)
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
AS_OF = 1000  # the window of 365 days is days 635 ..< 1000


def transactions(rows: list[tuple[int, int, int]]) -> pa.Table:
    """(customer_id, day, revenue) rows."""
    return pa.Table.from_pylist(
        [
            {"customer_id": c, "order_id": n, "day": d, "month": 0, "revenue": r, "cost": 0}
            for n, (c, d, r) in enumerate(rows, start=1)
        ],
        schema=TRANSACTION_SCHEMA,
    )


def customers(rows: list[tuple[int, str | None, str, int | None]]) -> pa.Table:
    """(customer_id, industry, size_band, declared_wallet) rows."""
    return pa.Table.from_pylist(
        [
            {"customer_id": c, "kind": "organization", "created_day": 0, "industry": i,
             "size_band": s, "owner_id": None, "team_id": None, "declared_wallet": w}
            for c, i, s, w in rows
        ],
        schema=CUSTOMER_SCHEMA,
    )  # fmt: skip


@pytest.fixture
def duck():
    engine = Engine("duckdb")
    yield engine
    engine.close()


def shares(engine: Engine, tx: pa.Table, people: pa.Table, **kwargs: Any) -> list[dict]:
    frame = wallet.share_of_wallet(engine.frame(tx), engine.frame(people), **kwargs)
    return as_rows(engine.collect(frame, sort=["customer_id"]))


def row(customer: int, spend: int, wallet_: int | None, source: str | None,
        share: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "customer_id": customer,
        "spend": spend,
        "wallet": wallet_,
        "wallet_source": source,
        "share": share,
    }


PEOPLE = customers([
    (1, "C", "small", None),
    (2, "C", "small", None),
    (3, "C", "small", 1000),  # declared
    (4, "C", "small", None),
    (5, "C", "small", None),
    (6, "C", "small", None),  # bought nothing
    (7, "G", "medium", None),  # the only buyer of its group
    (8, "", "small", None),  # industry unknown: no peers
    (9, "C", "small", 0),  # a declared 0 is no declaration
    (10, None, "small", None),  # industry null: unknown too
])  # fmt: skip
SPEND = transactions([
    (1, 900, 100), (1, 500, 50),  # day 500 is before the window
    (2, 635, 200),  # the window's first day counts
    (3, 700, 300),
    (4, 999, 400), (4, 1000, 9999),  # day 1000 is as_of_day: not counted
    (5, 800, 500),
    (7, 800, 700),
    (8, 800, 100),
    (10, 800, 100),
    (99, 800, 5000),  # not in the customers dimension
])  # fmt: skip


def test_share_of_wallet_declared_or_peers(duck):
    # Buyers of C/small: 1 (100), 2 (200), 3 (300), 4 (400), 5 (500): five peers.
    # The 90th percentile is the value at rank ceil(0.9 * 5) = 5: 500.
    assert shares(duck, SPEND, PEOPLE, as_of_day=AS_OF) == [
        row(1, 100, 500, "peers", 0.2),
        row(2, 200, 500, "peers", 0.4),
        row(3, 300, 1000, "declared", 0.3),
        row(4, 400, 500, "peers", 0.8),
        row(5, 500, 500, "peers", 1.0),
        row(6, 0, 500, "peers", 0.0),
        row(7, 700, None, None, None),
        row(8, 100, None, None, None),
        row(9, 0, 500, "peers", 0.0),
        row(10, 100, None, None, None),
    ]


def test_peer_wallet_is_never_below_own_spend(duck):
    # Rank ceil(0.7 * 5) = 4: 400, so the customer spending 500 has a wallet of 500.
    rows = shares(duck, SPEND, PEOPLE, as_of_day=AS_OF, params=WalletParams(peer_percentile=0.7))
    assert rows[0] == row(1, 100, 400, "peers", 0.25)
    assert rows[4] == row(5, 500, 500, "peers", 1.0)


def test_percentile_rank_is_exact_integer_arithmetic(duck):
    # 0.56 * 25 is 14.000000000000002 in floats; a float ceil would take rank 15 (1500).
    people = customers([(n, "F", "large", None) for n in range(1, 26)])
    tx = transactions([(n, 900, n * 100) for n in range(1, 26)])
    rows = shares(duck, tx, people, as_of_day=AS_OF, params=WalletParams(peer_percentile=0.56))
    assert rows[0] == row(1, 100, 1400, "peers", round(100 / 1400, 9))


def test_too_few_peers_means_no_peer_wallet(duck):
    rows = shares(duck, SPEND, PEOPLE, as_of_day=AS_OF, params=WalletParams(min_peers=6))
    assert [r["wallet_source"] for r in rows] == [None, None, "declared"] + [None] * 7


def test_a_declared_wallet_below_spend_gives_a_share_above_one(duck):
    people = customers([(1, "C", "small", 50)])
    assert shares(duck, transactions([(1, 900, 100)]), people, as_of_day=AS_OF) == [
        row(1, 100, 50, "declared", 2.0)
    ]


def test_no_transactions(duck):
    rows = shares(duck, TRANSACTION_SCHEMA.empty_table(), PEOPLE, as_of_day=AS_OF)
    assert rows[2] == row(3, 0, 1000, "declared", 0.0)
    assert all(r["wallet"] is None for r in rows if r["customer_id"] != 3)
    empty = shares(duck, SPEND, CUSTOMER_SCHEMA.empty_table(), as_of_day=AS_OF)
    assert empty == []


def test_huge_spend_sums_exactly(duck):
    big = 10**15  # ten trillion currency units, in cents
    tx = transactions([(1, 900, big), (1, 901, big + 1)])
    people = customers([(1, "C", "small", 4 * big)])
    assert shares(duck, tx, people, as_of_day=AS_OF) == [
        row(1, 2 * big + 1, 4 * big, "declared", round((2 * big + 1) / (4 * big), 9))
    ]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"peer_percentile": 0}, ValueError),
        ({"peer_percentile": 1.01}, ValueError),
        ({"peer_percentile": "0.9"}, TypeError),
        ({"min_peers": 0}, ValueError),
        ({"min_peers": 2.0}, TypeError),
        ({"window_days": 0}, ValueError),
        ({"window_days": 10**9}, ValueError),
    ],
)
def test_wallet_params_are_checked(kwargs, error):
    with pytest.raises(error):
        WalletParams(**kwargs)


@pytest.mark.parametrize(("as_of_day", "error"), [("1000", TypeError), (2**40, ValueError)])
def test_as_of_day_is_checked(duck, as_of_day, error):
    with pytest.raises(error):
        wallet.share_of_wallet(duck.frame(SPEND), duck.frame(PEOPLE), as_of_day=as_of_day)


def lines(rows: list[tuple[int, int | None, int]]) -> pa.Table:
    """(customer_id, category_id, day) rows."""
    return pa.Table.from_pylist(
        [
            {"line_id": n, "order_id": n, "customer_id": c, "product_id": n,
             "category_id": k, "day": d, "month": 0, "quantity": 1.0, "revenue": 1, "cost": 0}
            for n, (c, k, d) in enumerate(rows, start=1)
        ],
        schema=LINE_SCHEMA,
    )  # fmt: skip


BOUGHT = lines([
    (1, 1, 900), (1, 1, 901), (1, 2, 902),  # two categories (1 twice)
    (1, 5, 10),  # before the window
    (2, None, 900),  # only uncategorised lines
    (3, 3, 900), (3, 4, 900), (3, 2, 999),
    (4, 1, 1000),  # as_of_day: not counted, so customer 4 is not listed
])  # fmt: skip


def breadth(engine: Engine, table: pa.Table, **kwargs: Any) -> list[dict]:
    if "categories" in kwargs:
        kwargs["categories"] = engine.frame(kwargs["categories"])
    frame = wallet.category_breadth(engine.frame(table), as_of_day=AS_OF, **kwargs)
    return as_rows(engine.collect(frame, sort=["customer_id"]))


def brow(customer: int, bought: int, total: int, share: float | None, few: bool) -> dict:
    return {
        "customer_id": customer,
        "categories_bought": bought,
        "categories_total": total,
        "breadth": share,
        "few_categories": few,
    }


def test_category_breadth_against_categories_sold(duck):
    # Sold in the window: categories 1, 2, 3, 4.
    assert breadth(duck, BOUGHT) == [
        brow(1, 2, 4, 0.5, True),
        brow(2, 0, 4, 0.0, True),
        brow(3, 3, 4, 0.75, False),
    ]


def test_few_categories_thresholds(duck):
    by_share = breadth(duck, BOUGHT, params=BreadthParams(few_max_categories=None,
                                                          few_max_share=0.4))  # fmt: skip
    assert [r["few_categories"] for r in by_share] == [False, True, False]
    either = breadth(duck, BOUGHT, params=BreadthParams(few_max_categories=0,
                                                        few_max_share=0.5))  # fmt: skip
    assert [r["few_categories"] for r in either] == [True, True, False]
    off = BreadthParams(few_max_categories=None, few_max_share=None)
    assert [r["few_categories"] for r in breadth(duck, BOUGHT, params=off)] == [False] * 3


def test_category_breadth_against_given_categories(duck):
    # Active categories 1, 2, 3, 9: category 4 (bought by customer 3) is not one of them.
    active = pa.table({"category_id": pa.array([1, 2, 3, 9, 9, None], pa.int64())})
    assert breadth(duck, BOUGHT, categories=active) == [
        brow(1, 2, 4, 0.5, True),
        brow(2, 0, 4, 0.0, True),
        brow(3, 2, 4, 0.5, True),
    ]
    nothing = pa.table({"category_id": pa.array([], pa.int64())})
    assert breadth(duck, BOUGHT, categories=nothing) == [
        brow(1, 0, 0, None, True),
        brow(2, 0, 0, None, True),
        brow(3, 0, 0, None, True),
    ]


def test_category_breadth_of_nothing_is_empty(duck):
    assert breadth(duck, LINE_SCHEMA.empty_table()) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"few_max_categories": -1}, ValueError),
        ({"few_max_categories": "2"}, TypeError),
        ({"few_max_share": 2.0}, ValueError),
        ({"window_days": -5}, ValueError),
    ],
)
def test_breadth_params_are_checked(kwargs, error):
    with pytest.raises(error):
        BreadthParams(**kwargs)


def test_missing_columns_and_wrong_frames_are_named(duck):
    with pytest.raises(ValueError, match="customers lacks the column"):
        wallet.share_of_wallet(
            duck.frame(SPEND), duck.frame(PEOPLE.drop(["declared_wallet"])), as_of_day=AS_OF
        )
    with pytest.raises(TypeError, match="LazyFrame"):
        wallet.share_of_wallet(SPEND, duck.frame(PEOPLE), as_of_day=AS_OF)
    with pytest.raises(ValueError, match="categories lacks the column"):
        wallet.category_breadth(
            duck.frame(BOUGHT), as_of_day=AS_OF, categories=duck.frame({"id": [1]})
        )
