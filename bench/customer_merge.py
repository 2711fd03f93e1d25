"""Benchmark of merging customers: a merge and its undo with a large history to move.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/customer-merge-bench python -m bench.customer_merge --rows 50000

    # PostgreSQL (database vefa_bench_customer_merge, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_customer_merge \\
        python -m bench.customer_merge --rows 50000

The script migrates an empty database and creates ``--customers`` background customers
and a group of ``--records`` duplicates (2 to 10). Each duplicate has ``--rows`` interactions
divided among them, 20 contact points (half of them equal across the duplicates, so they
collapse), 5 addresses each with one primary (the flags are cleared on the move), 20
consent rows and 3 relationships, one of them between two duplicates (removed as a self
relationship). Measured, each in its own transaction as the page runs them: the counts the
merge page shows (``related_counts``), the merge (``merge_customers``) and the undo
(``undo_merge``), with the number of queries of each. The figures go to standard output and
to ``bench/results/customer-merge.md`` (the section of the database in use is replaced).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import time
from pathlib import Path

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "customer-merge.md"
PG_NAME = "vefa_bench_customer_merge"
FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk"]


def pg_name() -> str:
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


def build(customers: int, records: int, rows: int, rng: random.Random):  # type: ignore[no-untyped-def]
    from django.db import transaction
    from django.utils import timezone

    from vefa.accounts.models import User
    from vefa.common.text import fold
    from vefa.customers.models import (
        Address,
        Consent,
        ContactPoint,
        Customer,
        CustomerRelationship,
    )
    from vefa.interactions.models import Interaction

    admin = User.objects.create_user(
        email="admin@example.com", password="bench-password", full_name="Admin", role="admin"
    )
    now = timezone.now()

    def customer(n: int) -> Customer:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last} {n}"
        return Customer(
            kind="person",
            first_name=first,
            last_name=f"{last} {n}",
            display_name=name,
            name_key=fold(name),
            owner=admin,
            lifecycle_stage="customer",
            stage_changed_at=now,
        )

    with transaction.atomic():
        Customer.objects.bulk_create([customer(n) for n in range(customers)], batch_size=2000)
        group = Customer.objects.bulk_create([customer(customers + n) for n in range(records)])
        group = list(Customer.objects.order_by("-pk")[:records])[::-1]
        others = list(Customer.objects.order_by("pk")[:3])
        per = rows // records
        batch = []
        for record in group:
            for i in range(per):
                batch.append(
                    Interaction(
                        customer=record,
                        kind="call",
                        subject=f"Call {i}",
                        occurred_at=now,
                        user=admin,
                    )
                )
                if len(batch) >= 5000:
                    Interaction.objects.bulk_create(batch)
                    batch = []
        Interaction.objects.bulk_create(batch)
        for index, record in enumerate(group):
            points = []
            for i in range(20):
                value = f"shared{i}@example.com" if i < 10 else f"own{index}-{i}@example.com"
                points.append(
                    ContactPoint(
                        customer=record,
                        kind="email",
                        value=value,
                        normalized=value,
                        is_primary=i == 0,
                    )
                )
            ContactPoint.objects.bulk_create(points)
            Address.objects.bulk_create(
                Address(
                    customer=record,
                    kind="home",
                    line1=f"Street {i}",
                    city="İstanbul",
                    country="TR",
                    is_primary=i == 0,
                )
                for i in range(5)
            )
            Consent.objects.bulk_create(
                Consent(
                    customer=record,
                    channel="email",
                    purpose="marketing",
                    status="granted",
                    source="bench",
                    text_version="1",
                )
                for _ in range(20)
            )
            CustomerRelationship.objects.bulk_create(
                CustomerRelationship(from_customer=record, to_customer=other, kind="employee")
                for other in others
            )
        CustomerRelationship.objects.create(
            from_customer=group[1], to_customer=group[0], kind="spouse"
        )
    return admin, group


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=2)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not 2 <= args.records <= 10:
        raise SystemExit("--records: 2 to 10")

    bench_setup(pg_name(), fresh=True)
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from vefa.customers.services.merge import merge_customers, related_counts, undo_merge

    reverse("customers:list")  # load the URL configuration once, as a running server has it
    rng = random.Random(args.seed)
    started = time.perf_counter()
    admin, group = build(args.customers, args.records, args.rows, rng)
    print(f"data: {time.perf_counter() - started:.1f} s", flush=True)
    ids = [c.pk for c in group]

    def timed(label: str, func):  # type: ignore[no-untyped-def]
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            begin = time.perf_counter()
            result = func()
            elapsed = time.perf_counter() - begin
        print(f"{label}: {elapsed * 1000:.0f} ms, {len(queries)} queries", flush=True)
        return result, elapsed, len(queries)

    _, t_counts, q_counts = timed("merge page counts", lambda: related_counts(ids))
    merge, t_merge, q_merge = timed(
        "merge", lambda: merge_customers(admin, group[0], group[1:], {})
    )
    moved = sum(len(m["pks"]) for m in merge.moves if "pks" in m)
    print(f"moved {moved} rows, removed {len(merge.collapsed)} duplicates", flush=True)
    result, t_undo, q_undo = timed("undo", lambda: undo_merge(admin, merge))
    assert not result.problems, result.problems

    load = os.getloadavg()
    database = "PostgreSQL" if is_pg() else "SQLite"
    where = (
        f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{pg_name()}"
        if is_pg()
        else "VEFA_DATA_DIR=/tmp/customer-merge-bench"
    )
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the end"
    )
    merge_row = f"merge ({moved} rows moved, {len(merge.collapsed)} duplicates removed)"
    command = (
        f"{where} .venv/bin/python -m bench.customer_merge --customers {args.customers}"
        f" --records {args.records} --rows {args.rows}"
    )
    section = f"""## {database}

`{command}`

Machine: {machine}.

| step | time | queries |
|---|---:|---:|
| merge page counts ({args.records} records) | {t_counts * 1000:.0f} ms | {q_counts} |
| {merge_row} | {t_merge * 1000:.0f} ms | {q_merge} |
| undo (everything restored) | {t_undo * 1000:.0f} ms | {q_undo} |
"""
    text = RESULTS.read_text() if RESULTS.exists() else "# Customer merge benchmark\n\n"
    pattern = re.compile(rf"## {database}\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(section.rstrip() + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
