"""Benchmark of list exports: the customer list of a million customers to CSV (and XLSX).

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/exports-bench python -m bench.exports

    # PostgreSQL (database vefa_bench_exports, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_exports python -m bench.exports

The script migrates an empty database and writes ``--customers`` customers (names in
Turkish, Serbian, Persian and English, an owner and a team each, a tenth with a value that
starts a formula): the first 100,000 with ``bulk_create``, the rest as copies the database
makes (``INSERT … SELECT``) with e-mail addresses of their own. Measured, each through the
export service the pages and the background job use (``export_create(background=False)``:
the list's filter form, the access restriction, the rows read in chunks, formula-safe CSV
with a BOM written to a file in the private storage):

- CSV of the whole customer list as an administrator (sorted by name, as the list);
- CSV of the list filtered by city, as the administrator;
- CSV of one team's customers as a sales rep (the access scope applied);
- XLSX (openpyxl write-only) of ``--xlsx-rows`` customers (a city filter).

Rows per second of wall time; the machine's load is printed and written with the figures to
``bench/results/exports.md`` (the section of the database in use is replaced). Target:
≥ 100,000 rows/s for the CSV of a million rows. ``--reuse`` keeps an existing database.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "exports.md"
PG_NAME = "vefa_bench_exports"
TARGET = 100_000.0
BASE = 100_000

FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John", "İlkay", "Đorđe"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk", "Şahin"]
CITIES = ["İstanbul", "Ankara", "Beograd", "Тehran", "London", "İzmir", "Niš", "Shiraz"]
STAGES = ["lead", "prospect", "customer", "customer", "customer", "inactive"]


def build(customers: int, rng: random.Random) -> dict[str, Any]:
    import datetime

    from django.utils import timezone

    from vefa.accounts.choices import Role
    from vefa.accounts.models import Team, User
    from vefa.common.text import fold
    from vefa.customers.models import Customer

    teams = [Team.objects.create(name=f"Team {i}") for i in range(10)]
    admin = User.objects.create_user(
        email="bench-admin@bench.example", full_name="Bench Admin", role=Role.ADMIN
    )
    reps = [
        User.objects.create_user(
            email=f"rep{i}@bench.example",
            full_name=f"Rep {i}",
            role=Role.SALES_REP,
            team=teams[i % len(teams)],
        )
        for i in range(40)
    ]
    now = timezone.now()
    chunk = 10_000
    # Up to BASE customers are made one by one; the rest are copies made by the database
    # (INSERT … SELECT), with e-mail addresses of their own: a million in minutes.
    for start in range(0, min(customers, BASE), chunk):
        rows = []
        for n in range(start, min(start + chunk, customers)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if n % 10 == 0:
                first = "=HYPERLINK(" + first + ")"
            owner = reps[n % len(reps)]
            rows.append(
                Customer(
                    kind="person",
                    first_name=first,
                    last_name=last,
                    display_name=f"{first} {last}",
                    name_key=fold(f"{first} {last}"),
                    primary_email=f"customer{n}@mail.example",
                    primary_phone=f"+90532{n:07d}",
                    city=rng.choice(CITIES),
                    country="TR",
                    lifecycle_stage=rng.choice(STAGES),
                    owner=owner,
                    team_id=owner.team_id,
                    last_interaction_at=(
                        now - datetime.timedelta(minutes=rng.randrange(1, 500_000))
                        if n % 3
                        else None
                    ),
                )
            )
        Customer.objects.bulk_create(rows, batch_size=2000)
    _grow(customers)
    return {"admin": admin, "rep": reps[0]}


def _grow(customers: int) -> None:
    """Copy customers in the database until there are ``customers``."""
    from django.db import connection, transaction

    from vefa.customers.models import Customer

    meta = Customer._meta
    columns = [f.column for f in meta.concrete_fields if not f.primary_key]
    quoted = [connection.ops.quote_name(c) for c in columns]
    source = [
        ("'copy' || id || '-' || " + q) if c == "primary_email" else q
        for c, q in zip(columns, quoted, strict=True)
    ]
    table = connection.ops.quote_name(meta.db_table)
    while True:
        have = Customer.objects.count()
        missing = customers - have
        if missing <= 0:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quoted)}) "
                f"SELECT {', '.join(source)} FROM {table} ORDER BY id LIMIT %s",
                [min(missing, have)],
            )
        print(f"… {min(customers, have * 2):,} customers", flush=True)


def measure(actor: Any, fmt: str, filters: dict[str, str]) -> tuple[int, float, float, int]:
    from vefa.exports.services import export_create

    started = time.perf_counter()
    cpu = time.process_time()
    export = export_create(
        actor=actor, entity="customers", format=fmt, filters=filters, background=False
    )
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert export.status == "done", export.message
    return export.rows, elapsed, cpu, export.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="about this many (city)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    args = parser.parse_args()

    bench_setup(PG_NAME, fresh=not args.reuse)
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

    database = "PostgreSQL" if is_pg() else "SQLite"
    if args.reuse and Customer.objects.exists():
        users = {
            "admin": User.objects.get(email="bench-admin@bench.example"),
            "rep": User.objects.get(email="rep0@bench.example"),
        }
        customers = Customer.objects.count()
        build_seconds = 0.0
    else:
        started = time.perf_counter()
        users = build(args.customers, random.Random(args.seed))
        build_seconds = time.perf_counter() - started
        customers = args.customers
        print(f"built {customers} customers in {build_seconds:.1f} s", flush=True)
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    load_before = os.getloadavg()
    results = []
    scenarios = [
        ("CSV, all customers (administrator)", users["admin"], "csv", {}),
        ("CSV, one city (administrator)", users["admin"], "csv", {"city": "Ankara"}),
        ("CSV, one team (sales rep)", users["rep"], "csv", {}),
    ]
    for name, actor, fmt, filters in scenarios:
        rows, seconds, cpu, size = measure(actor, fmt, filters)
        rate = rows / seconds if seconds else 0.0
        results.append((name, rows, seconds, rate, cpu, size))
        print(f"{name}: {rows} rows in {seconds:.2f} s = {rate:,.0f} rows/s", flush=True)
    # XLSX on a subset of about --xlsx-rows (one city is 1/8 of the customers).
    xlsx_filter = {"city": "Ankara"} if customers // 8 <= args.xlsx_rows * 1.5 else {}
    if customers <= args.xlsx_rows * 1.5:
        xlsx_filter = {}
    rows, seconds, cpu, size = measure(users["admin"], "xlsx", xlsx_filter)
    rate = rows / seconds if seconds else 0.0
    label = "XLSX, " + ("one city" if xlsx_filter else "all customers") + " (administrator)"
    results.append((label, rows, seconds, rate, cpu, size))
    print(f"{label}: {rows} rows in {seconds:.2f} s = {rate:,.0f} rows/s", flush=True)
    load_after = os.getloadavg()

    lines = [
        f"## {database}",
        "",
        f"Command: `{' '.join(['python -m bench.exports', *sys.argv[1:]])}`"
        + (" with `DATABASE_URL=…/vefa_bench_exports`" if is_pg() else ""),
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average before "
        f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, after "
        f"{load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}.",
        f"Data: {customers:,} customers"
        + (f" (written in {build_seconds:.0f} s)" if build_seconds else "")
        + ".",
        "",
        "| export | rows | seconds (wall) | rows/s (wall) | CPU seconds | rows/CPU s | file |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows, seconds, rate, cpu, size in results:
        per_cpu = rows / cpu if cpu else 0.0
        lines.append(
            f"| {name} | {rows:,} | {seconds:.2f} | {rate:,.0f} | {cpu:.2f} | {per_cpu:,.0f} "
            f"| {size / 1e6:.1f} MB |"
        )
    full = results[0]
    verdict = "reached" if full[3] >= TARGET else "missed"
    lines += [
        "",
        f"Target ≥ {TARGET:,.0f} rows/s for the CSV of the whole list: **{verdict}** "
        f"({full[3]:,.0f} rows/s of wall time over {full[1]:,} rows; "
        f"{full[1] / full[4] if full[4] else 0:,.0f} rows per CPU second of this process).",
    ]
    section = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    head = "# Exports benchmark\n\nWritten by `bench/exports.py`; see its docstring.\n\n"
    text = RESULTS.read_text() if RESULTS.exists() else head
    marker = f"## {database}"
    if marker in text:
        before, _, rest = text.partition(marker)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")
    print(section)


if __name__ == "__main__":
    main()
