"""Benchmark of the analytics refresh: a full run, then incremental runs, on a large database.

The data is the sales analysis benchmark's (``python -m bench.sales_analysis generate
--orders 5000000 --customers 1000000`` in the published run): orders with lines, customers,
interactions, activities, daily exchange rates. The store is the configured one
(``<VEFA_DATA_DIR>/analytics`` unless ``VEFA_ANALYTICS_DIR`` says otherwise)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_sales_analysis \\
        VEFA_DATA_DIR=/tmp/vefa-bench-pg python -m bench.analytics_refresh measure \\
        --as-of 2026-11-24
    DATABASE_URL=… VEFA_DATA_DIR=… python -m bench.analytics_refresh incremental \\
        --as-of 2026-11-25

``measure`` runs a full refresh (``refresh.run_now(full=True)``): extract, every metric, the
results files and the write-back of the scores; it prints the seconds of each step and the
extract's own seconds per stored table and phase.

``incremental`` adds ``--share`` (default 1 %) new orders of about three lines each, dated
in the last ``--days`` days, with one bulk ``COPY`` (or ``executemany`` on SQLite) the way
the generator loads them — not through the services — then runs a normal (incremental)
refresh, and a second one with nothing new. The new orders carry the current time as their
creation and update time, so the extract's watermarks find them; ``--as-of`` should be the
day after the newest order day so they count (``day < as_of``).

Figures are printed and appended to ``bench/results/analytics-refresh.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "analytics-refresh.md"


def _setup() -> None:
    from bench.sales_analysis import setup

    setup()


def _refresh(*, full: bool, as_of: datetime.date) -> tuple[Any, float]:
    """Run one refresh here and now; its row and the wall-clock seconds."""
    from vefa.analytics.refresh import run_now

    started = time.perf_counter()
    row = run_now(full=full, as_of=as_of)
    seconds = time.perf_counter() - started
    if row.status != "done":
        raise SystemExit(f"refresh {row.pk} ended {row.status}: {row.error}")
    return row, seconds


def _report(title: str, row: Any, wall: float) -> str:
    """A refresh's figures as Markdown: the steps, the extract's steps, what it read."""
    figures = row.figures
    seconds: dict[str, float] = figures.get("seconds", {})
    extract = figures.get("extract", {})
    steps = "\n".join(
        f"| {name} | {value:.2f} |" for name, value in seconds.items() if name != "total"
    )
    inner = "\n".join(
        f"| {name} | {extract.get('counts', {}).get(name, '')!s} | {value:.2f} |"
        for name, value in (extract.get("steps") or {}).items()
    )
    return (
        f"### {title}: {seconds.get('total', wall):.1f} s\n\n"
        f"Refresh {row.pk}, as of {row.as_of}, wall clock {wall:.1f} s; "
        f"{figures.get('customers_scored', 0):,} customers scored, "
        f"{figures.get('scores_changed', 0):,} written back, "
        f"{figures.get('basket_rules', 0):,} basket rules"
        + (f"; CLV skipped: {figures['clv_skipped']}" if figures.get("clv_skipped") else "")
        + ".\n\n| step | seconds |\n|---|---:|\n"
        + steps
        + "\n\nExtract (full: "
        + f"{extract.get('full')}):\n\n| extract step | rows read | seconds |\n|---|---:|---:|\n"
        + inner
        + "\n"
    )


def _add_orders(count: int, days: int, seed: int) -> tuple[int, int]:
    """Insert ``count`` purchase orders of one to five lines, dated in the last ``days`` days.

    One bulk write per table (``Writer`` of the generator), no services: this measures the
    refresh, not the order entry. Returns the orders and lines written.
    """
    from django.db import connection
    from django.utils import timezone

    from bench.sales_analysis import CURRENCIES, STATUSES, Writer, _dt, _money, _reset_sequences
    from vefa.sales.models import Order, OrderLine

    rng = random.Random(seed)
    pg = connection.vendor == "postgresql"
    dt, stored = _dt(pg), _money(pg)

    def money(value: int) -> Any:
        return stored(Decimal(value))

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {Order._meta.db_table}")
        first_order = int(cursor.fetchone()[0] or 0) + 1
        cursor.execute(f"SELECT MAX(id) FROM {OrderLine._meta.db_table}")
        first_line = int(cursor.fetchone()[0] or 0) + 1
        cursor.execute(
            "SELECT id, owner_id, team_id FROM customers_customer ORDER BY id LIMIT 200000"
        )
        customers = cursor.fetchall()
        cursor.execute("SELECT id, list_price FROM sales_product")
        products = [(pk, int(price)) for pk, price in cursor.fetchall()]
    now = timezone.now().replace(microsecond=0)
    stamp = dt(now)
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    line_id = first_line
    for i in range(count):
        pk = first_order + i
        customer, owner, team = customers[rng.randrange(len(customers))]
        when = now - datetime.timedelta(seconds=rng.randrange(days * 86400))
        subtotal = discount = 0
        for position in range(rng.choice((1, 2, 3, 3, 4, 5))):
            product, price = products[rng.randrange(len(products))]
            qty = rng.randint(1, 5)
            gross = price * qty
            off = gross // 10 if rng.random() < 0.2 else 0
            net = gross - off
            tax = net // 5
            subtotal += gross
            discount += off
            lines.append((line_id, pk, position, product, "Ürün", qty, money(price),
                          money(gross), money(off), money(net), money(tax), money(net + tax),
                          20, stamp, stamp))  # fmt: skip
            line_id += 1
        tax_total = (subtotal - discount) // 5
        # Only purchases: drafts and cancelled orders would not change any figure.
        status = STATUSES[rng.randrange(94)]
        orders.append((pk, f"N-{pk:09d}", customer, owner, team, status, dt(when),
                       CURRENCIES[rng.randrange(100)], money(subtotal), money(discount),
                       money(tax_total), money(subtotal - discount + tax_total), stamp, stamp,
                       "{}"))  # fmt: skip
    order_writer = Writer(Order, ["id", "number", "customer_id", "owner_id", "team_id",
                                  "status", "ordered_at", "currency", "subtotal",
                                  "discount_total", "tax_total", "total", "created_at",
                                  "updated_at", "custom_fields"])  # fmt: skip
    line_writer = Writer(OrderLine, ["id", "order_id", "position", "product_id", "description",
                                     "quantity", "unit_price", "gross", "discount", "net", "tax",
                                     "total", "tax_rate", "created_at",
                                     "updated_at"])  # fmt: skip
    written = order_writer.write(orders)
    written_lines = line_writer.write(lines)
    _reset_sequences([Order, OrderLine])
    return written, written_lines


def measure(options: argparse.Namespace) -> None:
    from django.db import connection

    from vefa.sales.models import Order

    as_of = datetime.date.fromisoformat(options.as_of)
    print(f"{connection.vendor}: {Order.objects.count():,} orders; {_load()}", flush=True)
    row, wall = _refresh(full=True, as_of=as_of)
    text = _report("Full refresh", row, wall) + _footer()
    print(text, flush=True)
    _append(text)


def incremental(options: argparse.Namespace) -> None:
    from vefa.sales.models import Order

    as_of = datetime.date.fromisoformat(options.as_of)
    existing = Order.objects.count()
    count = options.orders or max(1, round(existing * options.share))
    print(f"{existing:,} orders; adding {count:,}; {_load()}", flush=True)
    started = time.perf_counter()
    added, added_lines = _add_orders(count, options.days, options.seed)
    inserted = time.perf_counter() - started
    print(f"inserted {added:,} orders, {added_lines:,} lines in {inserted:.1f} s", flush=True)
    row, wall = _refresh(full=False, as_of=as_of)
    text = f"Added {added:,} orders ({added_lines:,} lines) in {inserted:.1f} s.\n\n" + _report(
        f"Incremental refresh after {added:,} new orders", row, wall
    )
    print(text, flush=True)
    again, wall_again = _refresh(full=False, as_of=as_of)
    text_again = _report("Incremental refresh, nothing new", again, wall_again)
    print(text_again, flush=True)
    _append(text + "\n" + text_again + _footer())


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _footer() -> str:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f"\nPeak memory {peak:,.0f} MB; {_load()}; {_machine()}; `{_command()}`\n"


def _command() -> str:
    env = []
    if os.environ.get("DATABASE_URL"):
        env.append(f"DATABASE_URL={os.environ['DATABASE_URL']}")
    if os.environ.get("VEFA_DATA_DIR"):
        env.append(f"VEFA_DATA_DIR={os.environ['VEFA_DATA_DIR']}")
    return " ".join([*env, "python -m bench.analytics_refresh", *sys.argv[1:]])


def _machine() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,
    ).stdout.strip()
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs shared, Python "
        f"{sys.version.split()[0]}, commit {commit or '?'}"
    )


def _append(text: str) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        title = "# Analytics refresh — benchmark\n\n"
        RESULTS.write_text(
            title + "Produced by `bench/analytics_refresh.py`; newest runs last.\n\n"
        )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as handle:
        handle.write(f"\n## {stamp}\n\n{text}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_refresh")
    sub = parser.add_subparsers(dest="command", required=True)
    full = sub.add_parser("measure", help="a full refresh")
    full.add_argument("--as-of", required=True, help="the refresh day (YYYY-MM-DD)")
    inc = sub.add_parser("incremental", help="new orders, then two incremental refreshes")
    inc.add_argument("--as-of", required=True, help="the refresh day (YYYY-MM-DD)")
    inc.add_argument("--share", type=float, default=0.01, help="new orders as a share")
    inc.add_argument("--orders", type=int, default=0, help="new orders (overrides --share)")
    inc.add_argument("--days", type=int, default=3, help="new orders dated in the last days")
    inc.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    _setup()
    if options.command == "measure":
        measure(options)
    else:
        incremental(options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
