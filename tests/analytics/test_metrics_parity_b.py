"""Every basket, wallet, profitability, KPI and signal metric gives the same rows on DuckDB
and on PySpark, on one seeded random data set with the awkward cases mixed in (duplicate
items in a basket, null products and categories, unknown industries, open tickets, null
costs)."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pyarrow as pa
import pytest

from vefa.analytics.engine import day_number, month_number
from vefa.analytics.metrics import basket, kpis, profitability, signals, wallet
from vefa.analytics.metrics.params_b import BreadthParams, CostParams, WalletParams

AS_OF = day_number(datetime.date(2026, 3, 15))
FIRST = AS_OF - 3 * 365


def _table(schema: dict[str, pa.DataType], rows: list[tuple]) -> pa.Table:
    names = list(schema)
    return pa.Table.from_pylist(
        [dict(zip(names, values, strict=True)) for values in rows], schema=pa.schema(schema)
    )


def _month(day: int) -> int:
    return month_number(datetime.date(1970, 1, 1) + datetime.timedelta(days=day))


def build(seed: int = 20260315) -> dict[str, pa.Table]:
    """A small CRM: 80 customers, ~400 orders over three years, and their service data."""
    rng = random.Random(seed)
    customer_ids = list(range(1, 81))
    products = list(range(1, 26))
    weights = [1 / (n + 2) for n in range(len(products))]  # a few popular products
    category = {p: (None if p % 11 == 0 else p % 6 + 100) for p in products}
    customers = [
        (
            c,
            rng.choice(["person", "organization"]),
            FIRST + rng.randrange(0, 3 * 365),
            rng.choice(["C", "C", "G", "", "F"]),
            rng.choice(["small", "small", "medium", ""]),
            None,
            None,
            rng.choice([None, None, None, 0, rng.randrange(1_000, 500_000)]),
        )
        for c in customer_ids
    ]
    transactions, lines = [], []
    line_id = 0
    for order_id in range(1, 401):
        customer = rng.choice(customer_ids[:70])  # ten customers never buy
        day = FIRST + rng.randrange(0, 3 * 365 + 30)  # some after as_of_day
        revenue = cost = 0
        for _ in range(rng.randrange(1, 5)):
            line_id += 1
            product = rng.choices(products, weights)[0] if rng.random() > 0.05 else None
            quantity = float(rng.randrange(1, 4))
            line_revenue = int(quantity) * rng.randrange(500, 5_000)
            line_cost = line_revenue * rng.randrange(30, 90) // 100
            revenue, cost = revenue + line_revenue, cost + line_cost
            lines.append(
                (
                    line_id,
                    order_id,
                    customer,
                    product,
                    None if product is None else category[product],
                    day,
                    _month(day),
                    quantity,
                    line_revenue,
                    line_cost,
                )
            )
        transactions.append((customer, order_id, day, _month(day), revenue, cost))
    kinds = ["call", "meeting", "visit", "task", "appointment", "email"]
    activities = [
        (
            n,
            rng.choice(customer_ids),
            AS_OF - rng.randrange(-10, 500),
            rng.choice(kinds),
            rng.choice(["done", "done", "planned", "cancelled"]),
        )
        for n in range(1, 301)
    ]
    interactions = [
        (
            n,
            rng.choice(customer_ids),
            AS_OF - rng.randrange(-10, 500),
            rng.choice(["complaint", "call", "email"]),
            "phone",
            rng.choice(["in", "out", ""]),
        )
        for n in range(1, 201)
    ]
    tickets = []
    for n in range(1, 151):
        day = AS_OF - rng.randrange(-5, 200)
        resolved = None if rng.random() < 0.25 else day + rng.randrange(-1, 30)
        tickets.append(
            (
                n,
                rng.choice(customer_ids),
                day,
                resolved,
                rng.choice(["complaint", "question", "request"]),
                rng.choice(["billing", "delivery", "product"]),
            )
        )
    returns = [
        (
            n,
            line[2],
            line[1],
            line[3],
            line[5] + rng.randrange(0, 40),
            float(rng.randrange(1, 3)),
            rng.choice(["broken", "late", "wrong", None]),
        )
        for n, line in enumerate(rng.sample(lines, 80), start=1)
    ]
    sends = [
        (
            rng.randrange(1, 6),
            rng.choice(customer_ids),
            AS_OF - rng.randrange(-5, 400),
            rng.choice([None, 10, 25, 40]),
            rng.choice([0, 0, 0, None, rng.randrange(100, 9_000)]),
        )
        for _ in range(250)
    ]
    surveys = [
        (rng.choice(customer_ids), AS_OF - rng.randrange(0, 400), float(rng.randrange(1, 6)))
        for _ in range(120)
    ]
    i64, i32, f64, s = pa.int64(), pa.int32(), pa.float64(), pa.string()
    return {
        "customers": _table(
            {
                "customer_id": i64,
                "kind": s,
                "created_day": i32,
                "industry": s,
                "size_band": s,
                "owner_id": i64,
                "team_id": i64,
                "declared_wallet": i64,
            },
            customers,
        ),
        "transactions": _table(
            {
                "customer_id": i64,
                "order_id": i64,
                "day": i32,
                "month": i32,
                "revenue": i64,
                "cost": i64,
            },
            transactions,
        ),
        "lines": _table(
            {
                "line_id": i64,
                "order_id": i64,
                "customer_id": i64,
                "product_id": i64,
                "category_id": i64,
                "day": i32,
                "month": i32,
                "quantity": f64,
                "revenue": i64,
                "cost": i64,
            },
            lines,
        ),
        "activities": _table(
            {"activity_id": i64, "customer_id": i64, "day": i32, "kind": s, "status": s},
            activities,
        ),
        "interactions": _table(
            {
                "interaction_id": i64,
                "customer_id": i64,
                "day": i32,
                "kind": s,
                "channel": s,
                "direction": s,
            },
            interactions,
        ),
        "tickets": _table(
            {
                "ticket_id": i64,
                "customer_id": i64,
                "day": i32,
                "resolved_day": i32,
                "type": s,
                "category": s,
            },
            tickets,
        ),
        "returns": _table(
            {
                "return_id": i64,
                "customer_id": i64,
                "order_id": i64,
                "product_id": i64,
                "day": i32,
                "quantity": f64,
                "reason": s,
            },
            returns,
        ),
        "campaign_sends": _table(
            {
                "campaign_id": i64,
                "customer_id": i64,
                "day": i32,
                "cost": i64,
                "converted_revenue": i64,
            },
            sends,
        ),
        "surveys": _table({"customer_id": i64, "day": i32, "score": f64}, surveys),
    }


DATA = build()
COSTS = CostParams(
    ticket_cost=1_500,
    return_cost=2_500,
    complaint_cost=800,
    send_cost=15,
    call_cost=500,
    meeting_cost=4_000,
    appointment_cost=3_000,
    visit_cost=8_000,
    task_cost=300,
)


def pick(*names: str) -> dict[str, pa.Table]:
    return {name: DATA[name] for name in names}


@pytest.mark.parametrize(
    ("level", "kwargs"),
    [
        ("product", {"min_support": 0.01, "min_confidence": 0.05, "max_rules": 40}),
        ("category", {"min_support": 0.02, "min_confidence": 0.0}),
    ],
)
def test_rules_and_next_best(parity, level, kwargs):
    rules = parity(
        basket.rules, pick("lines"), sort=["antecedent", "consequent"], level=level, **kwargs
    )
    assert rules.num_rows > 5
    offers = parity(
        basket.next_best,
        {"lines": DATA["lines"], "rules": rules},
        sort=["customer_id", "rank"],
        level=level,
        k=3,
    )
    assert offers.num_rows > 10


def test_share_of_wallet(parity):
    result = parity(
        wallet.share_of_wallet,
        pick("transactions", "customers"),
        sort=["customer_id"],
        as_of_day=AS_OF,
        params=WalletParams(min_peers=3, peer_percentile=0.8),
    )
    sources = set(result.column("wallet_source").to_pylist())
    assert sources == {"declared", "peers", None}


def test_category_breadth(parity):
    result = parity(
        wallet.category_breadth,
        pick("lines"),
        sort=["customer_id"],
        as_of_day=AS_OF,
        params=BreadthParams(few_max_share=0.5),
    )
    assert result.num_rows > 20


def test_profitability_and_segments(parity):
    frames = pick(
        "transactions", "activities", "interactions", "tickets", "returns", "campaign_sends"
    )
    profit = parity(
        profitability.profitability,
        frames,
        sort=["customer_id"],
        as_of_day=AS_OF,
        window_days=365,
        params=COSTS,
    )
    assert 0 < sum(profit.column("unprofitable").to_pylist()) < profit.num_rows
    codes = pa.table(
        {
            "customer_id": pa.array(range(1, 61), pa.int64()),
            "value_class": pa.array([("A", "B", "C")[n % 3] for n in range(60)]),
        }
    )
    parity(
        profitability.by_segment,
        {"profit": profit, "segments": codes},
        sort=["segment"],
        key="value_class",
    )


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_kpis(parity, period):
    result = parity(
        kpis.kpis,
        pick("transactions", "customers", "surveys", "campaign_sends"),
        sort=["kpi"],
        period=period,
        as_of_day=AS_OF,
    )
    assert result.num_rows == 6


def test_signals(parity):
    parity(signals.complaints_per_day, pick("tickets"), sort=["day"], as_of_day=AS_OF)
    for by in [(), ("type", "category")]:
        parity(
            signals.resolution,
            pick("tickets"),
            sort=[*by, "tickets"],
            as_of_day=AS_OF,
            window_days=180,
            by=by,
        )
    for by in [("product_id", "reason"), ("reason",)]:
        parity(
            signals.return_rates,
            pick("returns", "lines"),
            sort=[*by, "returned_quantity"],
            as_of_day=AS_OF,
            window_days=3 * 365,
            by=by,
        )
    parity(
        signals.campaigns,
        pick("campaign_sends"),
        sort=["campaign_id"],
        as_of_day=AS_OF,
        send_cost=12,
    )


def test_signals_without_frames(parity):
    def empty(**_: Any) -> Any:
        return signals.resolution(None, as_of_day=AS_OF, by=("category",))

    assert parity(empty, {}, sort=["category"]).num_rows == 0
