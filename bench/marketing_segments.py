"""Benchmark of segment counts at a million customers (the rule builder's live count).

    # the customers: a database filled by `vefa bench-data` (see bench/README.md)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_seg_bench \
        vefa bench-data --customers 1000000 --interactions-per-customer 0

    # analytic scores for every customer, a catalogue and orders for 15 % of them
    DATABASE_URL=… python -m bench.marketing_segments prepare [--seed 1]
    # the counts
    DATABASE_URL=… python -m bench.marketing_segments run [--rounds 7] [--explain]

``prepare`` fills ``analytics_customerscore`` as ``bench.analytics_filters scores`` does
(RFM segments, value classes … with realistic shares), then writes 20 product categories,
200 products and orders for 15 % of the customers (1–3 orders each over two years, 1–2
lines each, 3 % cancelled), and gathers the planner's statistics.

``run`` counts the customers of these segments, once to warm up and then ``--rounds``
times, as an administrator (every customer) and as a sales rep (one team's customers):

1. all of: RFM segment "at risk", the most common city, bought in a category;
2. all of: value class A, lifecycle stage customer, no purchase for 90 days;
3. any of: churn risk high, bought a product, declining;
4. a saved segment using segment 1 and "has an open complaint = no" (system count, as a
   campaign's audience).

Each count is the exact ``COUNT(*)`` the page shows (``count_rules`` / ``segment_customers``).
The target is a p95 of 500 ms. Figures go to ``bench/results/marketing-segments.md`` (the
section of the database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "marketing-segments.md"
TARGET_MS = 500.0
BUYER_SHARE = 0.15
BATCH = 5000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()


# --- data -------------------------------------------------------------------------------------


def make_orders(seed: int) -> dict[str, float]:
    """A catalogue and orders for ``BUYER_SHARE`` of the customers (replaces earlier ones)."""
    from django.db import connection, transaction

    from vefa.customers.models import Customer
    from vefa.sales.choices import OrderStatus
    from vefa.sales.models import Order, OrderLine, Product, ProductCategory

    rng = random.Random(seed)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic():
        OrderLine.objects.filter(order__number__startswith="BSEG").delete()
        Order.objects.filter(number__startswith="BSEG").delete()
        Product.objects.filter(sku__startswith="BSEG-").delete()
        ProductCategory.objects.filter(name__startswith="Bench segment ").delete()
        categories = ProductCategory.objects.bulk_create(
            [ProductCategory(name=f"Bench segment {n:02d}") for n in range(20)]
        )
        products = Product.objects.bulk_create(
            [
                Product(
                    sku=f"BSEG-{n:04d}",
                    name=f"Bench product {n:04d}",
                    category=categories[n % len(categories)],
                    list_price=100 + n,
                )
                for n in range(200)
            ]
        )
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    buyers = rng.sample(ids, int(len(ids) * BUYER_SHARE))
    figures["buyers"] = float(len(buyers))
    now = datetime.datetime.now(datetime.UTC)
    number = 0
    orders: list[Order] = []
    line_specs: list[list[int]] = []

    def flush() -> None:
        with transaction.atomic():
            saved = Order.objects.bulk_create(orders)
            lines = []
            for order, product_indexes in zip(saved, line_specs, strict=True):
                for position, index in enumerate(product_indexes, start=1):
                    product = products[index]
                    lines.append(
                        OrderLine(
                            order=order,
                            position=position,
                            product=product,
                            sku=product.sku,
                            description=product.name,
                            quantity=1,
                            unit_price=product.list_price,
                            gross=product.list_price,
                            net=product.list_price,
                            total=product.list_price,
                        )
                    )
            OrderLine.objects.bulk_create(lines)
        orders.clear()
        line_specs.clear()

    for customer_id in buyers:
        for _order in range(rng.randint(1, 3)):
            number += 1
            cancelled = rng.random() < 0.03
            orders.append(
                Order(
                    number=f"BSEG{number:09d}",
                    customer_id=customer_id,
                    status=OrderStatus.CANCELLED if cancelled else OrderStatus.PAID,
                    ordered_at=now - datetime.timedelta(minutes=rng.randint(0, 730 * 24 * 60)),
                )
            )
            line_specs.append([rng.randrange(len(products)) for _ in range(rng.randint(1, 2))])
            if len(orders) >= BATCH:
                flush()
    if orders:
        flush()
    figures["orders"] = float(number)
    figures["write"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures["statistics"] = time.perf_counter() - started
    return figures


# --- measurements -----------------------------------------------------------------------------


def _users() -> tuple[Any, Any]:
    from vefa.accounts.choices import Role
    from vefa.accounts.models import User

    admin = (
        User.objects.filter(role=Role.ADMIN, is_active=True).first()
        or User.objects.filter(is_superuser=True).first()
    )
    rep = User.objects.filter(role=Role.SALES_REP, is_active=True, team__isnull=False).first()
    if admin is None or rep is None:
        raise SystemExit("the bench data has no administrator or sales rep")
    return admin, rep


def _cases() -> list[tuple[str, str, list[dict[str, str]]]]:
    from django.db.models import Count

    from vefa.customers.models import Customer
    from vefa.sales.models import Product, ProductCategory

    city = (
        Customer.objects.exclude(city="")
        .values("city")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("city", flat=True)
        .first()
    )
    category = ProductCategory.objects.filter(name="Bench segment 03").values_list("pk", flat=True)
    product = Product.objects.filter(sku="BSEG-0042").values_list("pk", flat=True)
    if not category or not product or not city:
        raise SystemExit("no bench orders: run `python -m bench.marketing_segments prepare`")
    return [
        (
            "at risk + city + bought in a category",
            "all",
            [
                {"param": "rfm_segment", "value": "at_risk"},
                {"param": "city", "value": str(city)},
                {"param": "bought_category", "value": str(category[0])},
            ],
        ),
        (
            "value class A + stage customer + no purchase for 90 days",
            "all",
            [
                {"param": "value_class", "value": "A"},
                {"param": "stage", "value": "customer"},
                {"param": "no_purchase_days", "value": "90"},
            ],
        ),
        (
            "any: churn risk high, bought a product, declining",
            "any",
            [
                {"param": "churn_risk", "value": "high"},
                {"param": "bought_product", "value": str(product[0])},
                {"param": "declining", "value": "true"},
            ],
        ),
    ]


def _time(fn: Any, rounds: int) -> tuple[list[float], int]:
    value = fn()  # warm-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, int(value)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _explain(queryset: Any) -> str:
    from django.db import connection

    options = {"analyze": True} if connection.vendor == "postgresql" else {}
    return str(queryset.explain(**options))


def measure(rounds: int, explain: bool) -> list[tuple[str, str, int, list[float]]]:
    from vefa.accounts.access import restrict
    from vefa.customers.selectors import customer_queryset
    from vefa.marketing.models import Segment
    from vefa.marketing.segment_rules import apply_rules
    from vefa.marketing.selectors.segments import count_rules, segment_customers

    admin, rep = _users()
    rows: list[tuple[str, str, int, list[float]]] = []
    cases = _cases()
    for label, match, rules in cases:
        for user, who in ((admin, "administrator"), (rep, "sales rep")):
            times, count = _time(
                lambda u=user, r=rules, m=match: count_rules(actor=u, rules=r, match=m), rounds
            )
            rows.append((label, who, count, times))
            print(f"{label} / {who}: {count:,} customers, p95 {_pct(times, 0.95):.0f} ms")
            if explain and _pct(times, 0.95) > TARGET_MS:
                base = restrict(customer_queryset(), user, "view")
                print(_explain(apply_rules(base, rules, match, actor=user)))
    # A saved segment that uses the first one, counted for the system (a campaign audience).
    Segment.objects.filter(name__startswith="Bench segment ").delete()
    first = Segment.objects.create(
        name="Bench segment 1", kind="dynamic", match=cases[0][1], rules=cases[0][2], owner=admin
    )
    nested = Segment.objects.create(
        name="Bench segment nested",
        kind="dynamic",
        match="all",
        rules=[
            {"param": "segment", "value": str(first.pk)},
            {"param": "open_complaint", "value": "false"},
        ],
        owner=admin,
    )
    times, count = _time(lambda: segment_customers(nested).count(), rounds)
    rows.append(("segment 1 + no open complaint (nested, system)", "system", count, times))
    print(f"nested / system: {count:,} customers, p95 {_pct(times, 0.95):.0f} ms")
    Segment.objects.filter(pk__in=[first.pk, nested.pk]).delete()
    return rows


def _report(
    vendor: str,
    customers: int,
    orders: int,
    rows: list[tuple[str, str, int, list[float]]],
    rounds: int,
) -> str:
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "?"
    env = (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_seg_bench "
        if vendor == "postgresql"
        else "VEFA_DATA_DIR=/tmp/vefa-seg-bench/sqlite "
    )
    lines = [
        f"## {vendor} ({datetime.date.today().isoformat()})",
        "",
        f"`{env}python -m bench.marketing_segments run --rounds {rounds}` on "
        f"{customers:,} customers and {orders:,} orders; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average after the run `{load}`.",
        "",
        "| segment | counted for | customers | p50 ms | p95 ms | max ms | target 500 ms |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label, who, count, times in rows:
        p95 = _pct(times, 0.95)
        lines.append(
            f"| {label} | {who} | {count:,} | {statistics.median(times):.0f} | {p95:.0f} | "
            f"{max(times):.0f} | {'met' if p95 <= TARGET_MS else 'missed'} |"
        )
    return "\n".join(lines) + "\n"


def _write_section(vendor: str, section: str) -> None:
    """Replace this database's section of the results file, keeping the other's."""
    title = "# Benchmark: segment counts at a million customers\n\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else title
    parts = text.split("\n## ")
    head, sections = parts[0], [f"## {p}" for p in parts[1:]]
    sections = [s for s in sections if not s.startswith(f"## {vendor} ")] + [section]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        head.rstrip("\n") + "\n\n" + "\n".join(s.rstrip("\n") + "\n" for s in sections),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.marketing_segments")
    parser.add_argument("command", choices=["prepare", "run"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="plans of slow counts")
    options = parser.parse_args(argv)
    _setup()
    from django.db import connection

    from vefa.customers.models import Customer
    from vefa.sales.models import Order

    if options.command == "prepare":
        from bench.analytics_filters import make_scores

        scores = make_scores(options.seed)
        print(f"{connection.vendor}: {int(scores['customers']):,} scores ({scores['write']:.0f} s)")
        figures = make_orders(options.seed)
        print(
            f"{connection.vendor}: {int(figures['orders']):,} orders for "
            f"{int(figures['buyers']):,} customers ({figures['write']:.0f} s)"
        )
        return 0
    customers = Customer.objects.count()
    orders = Order.objects.count()
    print(f"{connection.vendor}: {customers:,} customers, {orders:,} orders")
    rows = measure(options.rounds, options.explain)
    _write_section(
        connection.vendor, _report(connection.vendor, customers, orders, rows, options.rounds)
    )
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
