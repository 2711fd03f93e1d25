"""Benchmark of the data-subject export and the erasure on a populated database.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/privacy-bench python -m bench.privacy --customers 100000

    # PostgreSQL (database vefa_bench_privacy, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_privacy \
        python -m bench.privacy --customers 100000

The script migrates an empty database and creates ``--customers`` customers, each with an
e-mail contact point, ``--interactions`` interactions with a text body and one change-log
entry, plus one person (the subject) with ``--subject-records`` interactions, orders with a
line each and tickets with a message each, all mentioning the person's e-mail, phone and
name. Measured: the export of the subject (walk, indirect links, ZIP written) and its
erasure (every reached row redacted or deleted, then the sweep of every text and JSON column
of every table and of the data directory, the search index rebuilt for the person's
records). The sweep reads every text column of every table once per erasure, so its time
grows with the database, not with the person. Written to ``bench/results/privacy.md`` (the
section of the database in use is replaced).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "privacy.md"
PG_NAME = "vefa_bench_privacy"
FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John", "İlkay", "Đorđe"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk", "Şahin"]
SUBJECT = ("Perihan", "Karadağlıoğlu", "perihan.k@example.com", "+905321112233")


def pg_name() -> str:
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


def build(customers: int, interactions: int, subject_records: int, rng: random.Random) -> Any:
    from django.db import transaction

    from vefa.accounts.choices import Role
    from vefa.accounts.models import User
    from vefa.common.text import fold
    from vefa.customers.models import ContactPoint, Customer
    from vefa.interactions.models import Interaction
    from vefa.platform.models import ChangeLogEntry
    from vefa.sales.models import Order, OrderLine
    from vefa.service.models import Ticket, TicketMessage

    admin = User.objects.create(email="admin@example.com", full_name="Admin", role=Role.ADMIN)
    batch = 5000
    for start in range(0, customers, batch):
        with transaction.atomic():
            rows = []
            for n in range(start, min(customers, start + batch)):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}"
                rows.append(
                    Customer(
                        kind="person",
                        display_name=name,
                        name_key=fold(name),
                        lifecycle_stage="customer",
                        primary_email=f"c{n}@example.com",
                    )
                )
            made = Customer.objects.bulk_create(rows, batch_size=1000)
            ContactPoint.objects.bulk_create(
                [
                    ContactPoint(
                        customer=c, kind="email", value=c.primary_email, normalized=c.primary_email
                    )
                    for c in made
                ],
                batch_size=1000,
            )
            Interaction.objects.bulk_create(
                [
                    Interaction(
                        customer=c,
                        kind="call",
                        subject=f"Call {i}",
                        body=f"Talked with {c.display_name} about the order, {c.primary_email}",
                    )
                    for c in made
                    for i in range(interactions)
                ],
                batch_size=1000,
            )
            ChangeLogEntry.objects.bulk_create(
                [
                    ChangeLogEntry(
                        action="create",
                        model="customers.customer",
                        object_id=c.pk,
                        object_repr=c.display_name,
                        customer_id=c.pk,
                        actor_name="Admin",
                        after={"display_name": c.display_name, "primary_email": c.primary_email},
                    )
                    for c in made
                ],
                batch_size=1000,
            )
        print(f"  {min(customers, start + batch)} customers", flush=True)
    first, last, email, phone = SUBJECT
    name = f"{first} {last}"
    with transaction.atomic():
        subject = Customer.objects.create(
            kind="person",
            first_name=first,
            last_name=last,
            display_name=name,
            name_key=fold(name),
            primary_email=email,
            primary_phone=phone,
            lifecycle_stage="customer",
        )
        ContactPoint.objects.create(customer=subject, kind="email", value=email, normalized=email)
        Interaction.objects.bulk_create(
            [
                Interaction(
                    customer=subject,
                    kind="email",
                    subject=f"Mail {i} from {name}",
                    body=f"From: {name} <{email}>, call {phone}",
                )
                for i in range(subject_records)
            ],
            batch_size=1000,
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    number=f"O-2026-{i:06d}",
                    customer=subject,
                    shipping_address=f"{name}\nİstanbul",
                )
                for i in range(subject_records // 10)
            ]
        )
        OrderLine.objects.bulk_create(
            [OrderLine(order=o, description="Kahve", unit_price=Decimal("10")) for o in orders]
        )
        tickets = Ticket.objects.bulk_create(
            [
                Ticket(
                    number=f"T-2026-{i:06d}",
                    subject=f"Help {name}",
                    customer=subject,
                    requester_email=email,
                )
                for i in range(subject_records // 10)
            ]
        )
        TicketMessage.objects.bulk_create(
            [
                TicketMessage(ticket=t, kind="customer", body=f"I am {name}, {phone}")
                for t in tickets
            ]
        )
    return admin, subject


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=3)
    parser.add_argument("--subject-records", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bench_setup(pg_name(), fresh=True)
    from django.db import connection

    from vefa.privacy import services
    from vefa.privacy.export import write_export

    rng = random.Random(args.seed)
    started = time.perf_counter()
    admin, subject = build(args.customers, args.interactions, args.subject_records, rng)
    built = time.perf_counter() - started
    print(f"data: {built:.1f} s", flush=True)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    started = time.perf_counter()
    found, _ids = services.subject_found("customer", subject.pk)
    out = io.BytesIO()
    counts = write_export(out, found, subject={"kind": "customer", "id": subject.pk})
    export_s = time.perf_counter() - started
    rows = sum(counts.values())
    print(f"export: {export_s:.2f} s, {rows} rows, {len(out.getvalue()) / 1e6:.1f} MB", flush=True)

    started = time.perf_counter()
    cpu = time.process_time()
    log = services.erase_subject(actor=admin, subject_kind="customer", subject_id=subject.pk)
    erase_s = time.perf_counter() - started
    erase_cpu = time.process_time() - cpu
    print(f"erasure: {erase_s:.2f} s ({erase_cpu:.2f} s CPU), {log.total} rows", flush=True)

    load = os.getloadavg()
    database = "PostgreSQL" if is_pg() else "SQLite"
    section = "\n".join(
        [
            f"## {database}",
            "",
            f"`{'DATABASE_URL=… ' if is_pg() else 'VEFA_DATA_DIR=/tmp/privacy-bench '}"
            f".venv/bin/python -m bench.privacy --customers {args.customers} "
            f"--interactions {args.interactions} --subject-records {args.subject_records}`",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average at the end "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.",
            "",
            "| step | figure |",
            "|---|---:|",
            f"| data generated | {args.customers:,} customers, "
            f"{args.customers * args.interactions:,} interactions, {built:.0f} s |",
            f"| export (walk + indirect links + ZIP) | {export_s:.2f} s, {rows:,} rows, "
            f"{len(out.getvalue()) / 1e6:.1f} MB |",
            f"| erasure (redaction + sweep of every table + files + search) | {erase_s:.2f} s "
            f"({erase_cpu:.2f} s CPU), {log.total:,} rows changed |",
            "",
        ]
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Privacy benchmark\n\n"
    head, marker, rest = text.partition(f"## {database}")
    if marker:
        following = rest.find("\n## ")
        tail = rest[following + 1 :] if following >= 0 else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text.rstrip() + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
