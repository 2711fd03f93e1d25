"""Benchmark of the integrations: webhook queueing and delivery, inbound orders, vCard.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/integrations-bench python -m bench.integrations

    # PostgreSQL (database vefa_bench_integrations, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_integrations \
        python -m bench.integrations

Measured, each in this process:

1. Webhooks: ``--events`` customer updates with one active webhook listening (and one
   rule with a condition that never matches): the time the event subscriber adds per
   event (queueing the deliveries), then delivering them all to an HTTP receiver on
   loopback (a threaded ``http.server`` answering 200) with ``deliver_due``: signed POSTs
   per second and the p50/p95 of one attempt.
2. Inbound orders: ``--orders`` signed orders of three lines (a new customer each for a
   third of them, the rest known by e-mail) posted through Django's test client to
   ``/api/v1/integrations/orders/<key>``: orders per second, p50/p95 per request, and the
   p95 of re-sending an order (the idempotent duplicate answer).
3. vCard: export of ``--cards`` customers with e-mail, phone and address (cards per
   second), then importing that file into an empty customer table (cards per second).

Results go to ``bench/results/integrations.md`` (the section of the database in use is
replaced).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.setup import is_pg, percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "integrations.md"
PG_NAME = "vefa_bench_integrations"
FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John", "İlkay", "Đorđe"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk", "Şahin"]


def pg_name() -> str:
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


def receiver() -> tuple[ThreadingHTTPServer, str, list[int]]:
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            count[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook", count


def ms(values: list[float]) -> str:
    return f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.95) * 1000:.1f}"


def bench_webhooks(admin: Any, events: int) -> dict[str, str]:
    from django.db import transaction

    from vefa.customers.models import Customer
    from vefa.customers.services.customers import customer_create, customer_update
    from vefa.integrations.models import WebhookDelivery
    from vefa.integrations.services import delivery
    from vefa.integrations.services.webhooks import webhook_create

    server, url, count = receiver()
    webhook_create(
        actor=admin,
        data={
            "name": "Bench",
            "url": url,
            "rules": [
                {"entity": "customer", "event": "updated"},
                {
                    "entity": "customer",
                    "event": "updated",
                    "condition_field": "lifecycle_stage",
                    "condition_operator": "eq",
                    "condition_value": "lost",
                },
            ],
        },
    )
    customers = [
        customer_create(
            actor=admin,
            data={"kind": "person", "first_name": FIRST[i % 10], "last_name": LAST[i % 8]},
        )
        for i in range(min(events, 200))
    ]
    # The subscriber's own cost: queueing per event (the POST itself is measured below).
    from vefa.common.events import DomainEvent

    enqueue: list[float] = []
    for i in range(events):
        customer = customers[i % len(customers)]
        event = DomainEvent(
            "customers.customer.updated",
            "customers.customer",
            customer.pk,
            admin.pk,
            {"changed": ["notes"]},
        )
        start = time.perf_counter()
        with transaction.atomic():
            delivery.deliveries_enqueue(event)
        enqueue.append(time.perf_counter() - start)
    # A plain update without any listener on its model, for comparison.
    start = time.perf_counter()
    for customer in customers[:100]:
        customer_update(actor=admin, customer_id=customer.pk, data={"notes": "x"})
    update_ms = (time.perf_counter() - start) / min(100, len(customers)) * 1000
    queued = WebhookDelivery.objects.filter(status="pending").count()
    attempts: list[float] = []
    start = time.perf_counter()
    for pk in delivery.deliveries_due(limit=events * 2):
        t0 = time.perf_counter()
        delivery.delivery_attempt(pk)
        attempts.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    server.shutdown()
    server.server_close()
    from vefa.integrations.models import Webhook

    Webhook.objects.all().delete()  # the other parts run without a listener
    return {
        "events": str(events),
        "queue per event p50 / p95 (ms)": ms(enqueue),
        "a customer update (service, for scale) (ms)": f"{update_ms:.1f}",
        "deliveries queued": str(queued),
        "delivered (receiver count)": str(count[0]),
        "delivery rate (POST/s)": f"{len(attempts) / wall:.0f}",
        "one attempt p50 / p95 (ms)": ms(attempts),
        "customers": str(Customer.objects.count()),
    }


def bench_orders(admin: Any, orders: int) -> dict[str, str]:
    from decimal import Decimal

    from django.test import Client

    from vefa.customers.services.customers import customer_create
    from vefa.integrations.services.sources import source_create
    from vefa.integrations.signing import signature
    from vefa.sales.models import Product

    for i in range(20):
        Product.objects.create(
            sku=f"SKU-{i:03d}",
            name=f"Ürün {i}",
            list_price=Decimal("99.90"),
            currency="TRY",
            tax_rate=Decimal("20"),
        )
    known = 200
    for i in range(known):
        customer_create(
            actor=admin,
            data={"kind": "person", "first_name": FIRST[i % 10], "last_name": LAST[i % 8]},
            email=f"known{i}@example.com",
        )
    made = source_create(actor=admin, data={"name": "Shop", "key": "shop", "owner": admin.pk})
    client = Client()

    def post(payload: dict[str, Any]) -> tuple[int, float]:
        raw = json.dumps(payload).encode()
        stamp = str(int(time.time()))
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/integrations/orders/shop",
            raw,
            content_type="application/json",
            HTTP_X_VEFA_TIMESTAMP=stamp,
            HTTP_X_VEFA_SIGNATURE=signature(made.secret, stamp, raw),
        )
        return response.status_code, time.perf_counter() - t0

    payloads = []
    for i in range(orders):
        email = f"new{i}@example.com" if i % 3 == 0 else f"known{i % known}@example.com"
        payloads.append(
            {
                "external_number": f"W-{i}",
                "customer": {"email": email, "first_name": FIRST[i % 10], "last_name": "X"},
                "lines": [
                    {"sku": f"SKU-{(i + k) % 20:03d}", "quantity": str(1 + k)} for k in range(3)
                ],
            }
        )
    times: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    for payload in payloads:
        status, took = post(payload)
        statuses[status] = statuses.get(status, 0) + 1
        times.append(took)
    wall = time.perf_counter() - start
    dup: list[float] = []
    for payload in payloads[:200]:
        status, took = post(payload)
        statuses[status] = statuses.get(status, 0) + 1
        dup.append(took)
    return {
        "orders": str(orders),
        "answers": ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
        "orders per second": f"{orders / wall:.1f}",
        "one order p50 / p95 (ms)": ms(times),
        "re-sent order p50 / p95 (ms)": ms(dup),
    }


def bench_vcard(admin: Any, cards: int) -> dict[str, str]:
    from vefa.customers.models import Address, ContactPoint, Customer
    from vefa.customers.services.customers import customer_create
    from vefa.integrations.services.vcards import vcard_export_many, vcard_import_text

    Customer.objects.all().delete()
    for i in range(cards):
        c = customer_create(
            actor=admin,
            data={
                "kind": "person",
                "first_name": FIRST[i % 10],
                "last_name": f"{LAST[i % 8]} {i}",
                "notes": "Not; virgül, ters\\bölü\nsatır",
            },
            email=f"card{i}@example.com",
            phone=f"+90532{i:07d}",
        )
        Address.objects.create(
            customer=c, kind="home", line1=f"Cadde {i}", city="İstanbul", country="TR"
        )
    start = time.perf_counter()
    text = "".join(vcard_export_many(actor=admin))
    export_s = time.perf_counter() - start
    exported = text.count("BEGIN:VCARD")
    ContactPoint.objects.all().delete()
    Customer.objects.all().delete()
    start = time.perf_counter()
    counts = vcard_import_text(actor=admin, text=text)
    import_s = time.perf_counter() - start
    return {
        "cards": str(exported),
        "file size (MB)": f"{len(text.encode()) / 1e6:.2f}",
        "export (cards/s)": f"{exported / export_s:.0f}",
        "import (cards/s)": f"{exported / import_s:.1f}",
        "import result": f"created {counts.created}, matched {counts.matched}, "
        f"failed {counts.failed}",
    }


def write(section: str, body: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = RESULTS.read_text() if RESULTS.exists() else "# Integrations benchmark\n"
    pattern = re.compile(rf"\n## {re.escape(section)}\n.*?(?=\n## |\Z)", re.S)
    block = f"\n## {section}\n\n{body}\n"
    new = pattern.sub(lambda _m: block, old) if pattern.search(old) else old.rstrip() + "\n" + block
    RESULTS.write_text(new)


def table(rows: dict[str, str]) -> str:
    lines = ["| figure | value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=5000)
    args = parser.parse_args()
    bench_setup(pg_name(), fresh=True)
    from django.conf import settings

    settings.VEFA_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on loopback
    from vefa.accounts.models import User

    admin = User.objects.create_user(
        email="bench@example.com", password="bench-password", full_name="Bench", role="admin"
    )
    load = os.getloadavg()
    database = "PostgreSQL" if is_pg() else "SQLite"
    parts = [
        f"Command: `{'DATABASE_URL=… ' if is_pg() else 'VEFA_DATA_DIR=… '}python -m "
        f"bench.integrations --events {args.events} --orders {args.orders} --cards {args.cards}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared with other work).",
    ]
    for title, func, size in (
        ("Webhooks", bench_webhooks, args.events),
        ("vCard", bench_vcard, args.cards),
        ("Inbound orders", bench_orders, args.orders),
    ):
        rows = func(admin, size)
        print(title, json.dumps(rows, ensure_ascii=False, indent=1), flush=True)
        parts.append(f"### {title}\n\n{table(rows)}")
    end = os.getloadavg()
    parts.append(f"Load average at the end: {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f}.")
    write(database, "\n\n".join(parts))


if __name__ == "__main__":
    main()
