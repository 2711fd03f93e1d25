"""Benchmark of the analytics extract: a full run, then incremental runs, on a large database.

The data is the sales analysis benchmark's (orders with lines in TRY, EUR and USD, customers,
interactions, activities, daily exchange rates): a database made by
``python -m bench.sales_analysis generate`` (5,000,000 orders in its published run) can be
measured as it is, or ``generate`` here makes one with the same generator (its figures are
printed, not added to the sales results):

    # SQLite (a data directory of its own)
    VEFA_DATA_DIR=/tmp/vefa-bench-extract python -m bench.analytics_extract generate \\
        --orders 50000 --customers 10000 --interactions 40000
    VEFA_DATA_DIR=/tmp/vefa-bench-extract python -m bench.analytics_extract measure

    # PostgreSQL (the database is created when missing)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_analytics_extract \\
        python -m bench.analytics_extract generate --orders 50000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_analytics_extract \\
        python -m bench.analytics_extract measure --compare-cursor

``measure`` extracts into a fresh store (``--store``, default a
temporary directory) and reports:

1. **Full extract**: seconds per table (reading, converting, writing the part) and rows/s,
   then the time to write the current tables, the total, the peak memory of the process
   (``ru_maxrss``) and the size of the store.
2. **Incremental, nothing changed**: what a run costs when there is nothing to do.
3. **Incremental after changes**: ``--changes`` orders, customers and interactions get a
   new ``updated_at`` (as a service's save would), then a run; it must read exactly those
   rows (and the lines of those orders).
4. **Kill and resume**: a child process starts a full extract into a second store and is
   killed with SIGKILL part way (``--kill-after`` seconds after it wrote its first file,
   default 30 % of the full run's time);
   the next extract must clean up after it and end with current tables identical (every
   row) to the first store's.
5. **Full extract with PostgreSQL's fetchmany path** instead of COPY (PostgreSQL only), to
   show what COPY brings (``--compare-cursor``).

Figures are printed and appended to ``bench/results/analytics-extract.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "analytics-extract.md"


def _setup() -> None:
    from bench.sales_analysis import setup

    setup()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _timed_extract(store: Any, *, full: bool = False) -> tuple[Any, dict[str, float]]:
    """Run an extract; return its result and the seconds spent per step (table or current)."""
    marks: dict[str, float] = {}
    order: list[str] = []
    last = {"step": "", "at": time.perf_counter()}

    def progress(step: str, rows: int) -> None:
        now = time.perf_counter()
        if step != last["step"]:
            order.append(step)
            last["step"] = step
        marks[step] = marks.get(step, 0.0) + now - last["at"]
        last["at"] = now

    result = store.extract(full=full, progress=progress)
    marks["current"] = marks.get("current", 0.0) + time.perf_counter() - last["at"]
    return result, {step: marks[step] for step in order} | {"current": marks["current"]}


def _touch(changes: int, seed: int) -> dict[str, int]:
    """Give ``changes`` random orders, customers and interactions a new ``updated_at``."""
    from django.db import connection, transaction
    from django.utils import timezone

    from vefa.customers.models import Customer
    from vefa.interactions.models import Interaction
    from vefa.sales.models import Order

    rng = random.Random(seed)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    touched = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (Order, Customer, Interaction):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
            low, high = cursor.fetchone()
            if low is None:
                touched[model._meta.model_name] = 0
                continue
            ids = sorted({rng.randint(low, high) for _ in range(changes)})
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"UPDATE {table} SET updated_at = %s WHERE id IN ({marks})", [now, *ids])
            touched[model._meta.model_name] = cursor.rowcount
    return touched


def _lines_of_touched_orders(since: Any) -> int:
    from django.db import connection

    from vefa.sales.models import Order, OrderLine

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {OrderLine._meta.db_table} WHERE order_id IN "
            f"(SELECT id FROM {Order._meta.db_table} WHERE updated_at >= %s)",
            [connection.ops.adapt_datetimefield_value(since)],
        )
        return int(cursor.fetchone()[0])


def measure(options: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from vefa.analytics.store import Store
    from vefa.sales.models import Order

    orders = Order.objects.count()
    if not orders:
        raise SystemExit("The database has no orders; run bench.sales_analysis generate first.")
    root = Path(options.store) if options.store else Path(tempfile.mkdtemp(prefix="vefa-store-"))
    shutil.rmtree(root, ignore_errors=True)
    store = Store(root, overlap=0)
    report: list[str] = []
    print(f"{connection.vendor}: {orders:,} orders; store in {root}", flush=True)

    full, steps = _timed_extract(store)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = _size(root) / 1e6
    read_rows = sum(full.counts.values())
    read_seconds = sum(s for k, s in steps.items() if k != "current")
    table_rows = [
        f"| {name} | {full.counts[name]:,} | {steps.get(name, 0):.1f} | "
        f"{full.counts[name] / max(steps.get(name, 0), 1e-9):,.0f} |"
        for name in full.counts
    ]
    report.append(
        f"### Full extract: {full.seconds:.1f} s\n\n"
        "| table | rows read | seconds | rows/s |\n|---|---:|---:|---:|\n"
        + "\n".join(table_rows)
        + f"\n| **all tables** | {read_rows:,} | {read_seconds:.1f} | "
        f"{read_rows / max(read_seconds, 1e-9):,.0f} |\n"
        f"| current tables written | {sum(full.rows.values()):,} rows | "
        f"{steps['current']:.1f} | |\n\n"
        f"Peak memory {peak_mb:,.0f} MB; store on disk {size_mb:,.1f} MB; current rows "
        + ", ".join(f"{k} {v:,}" for k, v in full.rows.items())
        + ".\n"
    )
    print(report[-1], flush=True)

    idle, idle_steps = _timed_extract(store)
    assert set(idle.counts.values()) == {0}, idle.counts
    idle_read = sum(s for k, s in idle_steps.items() if k != "current")
    report.append(
        f"### Incremental, nothing changed: {idle.seconds:.2f} s\n\n"
        f"Reading (finding no changes): {idle_read:.2f} s; current tables: "
        f"{idle_steps['current']:.2f} s (only the calendar).\n"
    )
    print(report[-1], flush=True)

    before = timezone.now()
    touched = _touch(options.changes, options.seed)
    lines = _lines_of_touched_orders(before)
    changed, changed_steps = _timed_extract(store)
    assert changed.counts["orders"] == touched["order"], (changed.counts, touched)
    assert changed.counts["customers"] == touched["customer"], (changed.counts, touched)
    assert changed.counts["interactions"] == touched["interaction"], (changed.counts, touched)
    assert changed.counts["lines"] == lines, (changed.counts, lines)
    report.append(
        f"### Incremental after {options.changes:,} changes per table: "
        f"{changed.seconds:.1f} s\n\n"
        f"Read {changed.counts['orders']:,} orders, {changed.counts['lines']:,} lines, "
        f"{changed.counts['customers']:,} customers, {changed.counts['interactions']:,} "
        f"interactions (exactly the changed rows) in "
        f"{sum(s for k, s in changed_steps.items() if k != 'current'):.1f} s; "
        f"current tables rewritten in {changed_steps['current']:.1f} s.\n"
    )
    print(report[-1], flush=True)

    report.append(_kill_and_resume(store, options.kill_after or 0.3 * full.seconds))
    print(report[-1], flush=True)

    if options.compare_cursor and connection.vendor == "postgresql":
        other = Path(tempfile.mkdtemp(prefix="vefa-store-cursor-"))
        cursor_store = Store(other, overlap=0, use_copy=False)
        cursor_full, cursor_steps = _timed_extract(cursor_store)
        cursor_read = sum(s for k, s in cursor_steps.items() if k != "current")
        report.append(
            f"### Full extract with fetchmany instead of COPY: {cursor_full.seconds:.1f} s\n\n"
            f"Reading {sum(cursor_full.counts.values()):,} rows took {cursor_read:.1f} s "
            f"({sum(cursor_full.counts.values()) / max(cursor_read, 1e-9):,.0f} rows/s) "
            f"against {read_seconds:.1f} s with COPY.\n"
        )
        print(report[-1], flush=True)
        shutil.rmtree(other, ignore_errors=True)

    _append(
        f"## {connection.vendor}: {orders:,} orders\n\n`{_command()}` ({_machine()}).\n\n"
        + "\n".join(report)
    )
    if not options.store:
        shutil.rmtree(root, ignore_errors=True)


def _kill_and_resume(reference: Any, after: float) -> str:
    """Kill a full extract with SIGKILL after ``after`` seconds, extract again, compare."""
    import duckdb

    from vefa.analytics.store import TABLES, Store

    root = Path(tempfile.mkdtemp(prefix="vefa-store-killed-"))
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.analytics_extract", "child", "--store", str(root)]
    )
    # Kill once the child is writing (Django's start-up is not what is under test).
    deadline = time.monotonic() + 600
    while child.poll() is None and time.monotonic() < deadline:
        if any(p.is_file() for p in (root / "parts").rglob("*")):
            break
        time.sleep(0.05)
    time.sleep(after)
    if child.poll() is not None:
        raise SystemExit("the child finished before it was killed; lower --kill-after")
    child.send_signal(signal.SIGKILL)
    child.wait()
    leftovers = sum(1 for p in (root / "parts").rglob("*") if p.is_file())
    store = Store(root, overlap=0)
    started = time.perf_counter()
    result = store.extract()
    seconds = time.perf_counter() - started
    con = duckdb.connect()
    differing = {}
    for table in TABLES:
        a, b = (str(s.path(table)).replace("'", "''") for s in (reference, store))
        (count,) = con.execute(
            f"SELECT count(*) FROM ((SELECT * FROM '{a}' EXCEPT ALL SELECT * FROM '{b}') "
            f"UNION ALL (SELECT * FROM '{b}' EXCEPT ALL SELECT * FROM '{a}'))"
        ).fetchone()
        differing[table] = int(count)
    con.close()
    shutil.rmtree(root, ignore_errors=True)
    assert set(differing.values()) == {0}, differing
    return (
        f"### Kill and resume\n\nA full extract killed (SIGKILL) {after:.1f} s after its "
        "first file left "
        f"{leftovers} part files no manifest named; the next run (run {result.run}, "
        f"{'full' if result.full else 'incremental'}) removed them and took {seconds:.1f} s. "
        "Its current tables equal the uninterrupted store's, row for row.\n"
    )


def _child(store: str) -> None:
    from vefa.analytics.store import Store

    Store(store, overlap=0).extract()


def _command() -> str:
    env = []
    if os.environ.get("DATABASE_URL"):
        env.append(f"DATABASE_URL={os.environ['DATABASE_URL']}")
    elif os.environ.get("VEFA_DATA_DIR"):
        env.append(f"VEFA_DATA_DIR={os.environ['VEFA_DATA_DIR']}")
    return " ".join([*env, "python -m bench.analytics_extract", *sys.argv[1:]])


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs shared, Python {sys.version.split()[0]}"


def _append(text: str) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Analytics extract — benchmark\n\n"
            "Produced by `bench/analytics_extract.py` on the data of "
            "`bench/sales_analysis.py generate`; newest runs last.\n"
        )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as handle:
        handle.write(f"\n### {stamp}\n\n{text}\n")


def generate(argv: list[str]) -> None:
    """The sales analysis generator, its report printed instead of added to its results."""
    from bench import sales_analysis

    sales_analysis._append = lambda text: print(text)  # type: ignore[assignment]
    sales_analysis.main(["generate", *argv])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["generate"]:
        generate(args[1:])
        return 0
    if args[:1] == ["child"]:
        _setup()
        _child(args[args.index("--store") + 1])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_extract measure")
    parser.add_argument("command", choices=["measure"])
    parser.add_argument("--store", help="the store's directory (emptied first)")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-after", type=float, help="seconds before the kill")
    parser.add_argument("--compare-cursor", action="store_true")
    options = parser.parse_args(args)
    _setup()
    measure(options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
