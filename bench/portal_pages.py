"""Server time of the customer portal's pages for a contact of a big customer.

    # the benchmark database (bench/README.md) and the help-desk data, then
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench python -m bench.portal_pages --setup
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench python -m bench.portal_pages
    VEFA_DATA_DIR=/tmp/vefa-bench python -m bench.portal_pages --setup   # SQLite

``--setup`` adds, once (it does nothing when the portal account is already there):

- ``--noise`` orders of two lines for customers drawn at random from the whole database, so
  the order tables are large and the portal's filters must use their indexes;
- one organisation of the benchmark data as the portal's customer, a person who works there
  with a portal account, and for that organisation ``--orders`` orders (three lines and a
  shipment each), ``--tickets`` tickets with a conversation of four messages (one of them an
  internal note), returns, sent and draft quotes, contracts and survey invitations.

The measurement signs the contact in through a real single-use link and requests every
portal page through Django's test client (the server's time: routing, middleware, view,
queries, template), once to warm up and then ``--rounds`` times; p50/p95/max against the
target of issue 5 ("portal pages p95 ≤ 150 ms"). The data download is reported on its own
line (it writes every order, ticket and message of the customer into one file). Results go
to ``bench/results/portal-pages.md`` (the section of the database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "portal-pages.md"
ACCOUNT_EMAIL = "portal.contact@bench.vefa.example"
BATCH = 5_000
TARGET_MS = 150.0
EXPORT_TARGET_MS = 5_000.0


def _order_rows(
    rng: random.Random, customer_ids: list[int], prefix: str, start: int, lines: int
) -> list[Any]:
    """Unsaved orders (totals as if each had ``lines`` lines of 2 × 150 + 20 % tax)."""
    from django.utils import timezone

    from vefa.sales.models import Order

    now = timezone.now()
    orders = []
    for i, customer_id in enumerate(customer_ids):
        status = rng.choice(("confirmed", "shipped", "delivered", "paid", "invoiced", "draft"))
        orders.append(
            Order(
                number=f"{prefix}-{start + i:09d}",
                customer_id=customer_id,
                status=status,
                ordered_at=now - dt.timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60)),
                currency="TRY",
                subtotal=Decimal("300.00") * lines,
                tax_total=Decimal("60.00") * lines,
                total=Decimal("360.00") * lines,
            )
        )
    return orders


def setup(options: argparse.Namespace) -> None:
    from django.db import transaction
    from django.utils import timezone

    from vefa.customers.models import Customer, CustomerRelationship
    from vefa.portal.models import PortalAccount
    from vefa.sales.models import Contract, Order, OrderLine, Product, Quote, Shipment
    from vefa.service.models import (
        ReturnLine,
        ReturnRequest,
        SurveyInvitation,
        Ticket,
        TicketMessage,
    )

    if PortalAccount.objects.filter(email=ACCOUNT_EMAIL).exists():
        print("the portal's benchmark data is there already")
        return
    rng = random.Random(options.seed)
    started = time.perf_counter()
    product = Product.objects.filter(sku="BENCH-PORTAL-1").first() or Product.objects.create(
        sku="BENCH-PORTAL-1",
        name="Espresso makinesi",
        list_price=Decimal("300"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )
    low = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    high = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None or high is None:
        raise SystemExit("no customers: run `vefa bench-data` first")
    org = (
        Customer.objects.filter(kind="organisation", merged_into__isnull=True)
        .order_by("pk")
        .first()
    )
    person = Customer.objects.filter(kind="person").order_by("pk").first()
    if org is None or person is None:
        raise SystemExit("the benchmark data has no organisation or no person")

    def add_orders(customer_ids: list[int], prefix: str, lines: int, shipped: bool) -> list[int]:
        ids: list[int] = []
        for i in range(0, len(customer_ids), BATCH):
            chunk = customer_ids[i : i + BATCH]
            with transaction.atomic():
                orders = _order_rows(rng, chunk, prefix, i, lines)
                Order.objects.bulk_create(orders, batch_size=1_000)
                numbers = [o.number for o in orders]
                made = dict(Order.objects.filter(number__in=numbers).values_list("number", "pk"))
                order_lines = [
                    OrderLine(
                        order_id=made[o.number],
                        position=k,
                        product=product,
                        sku=product.sku,
                        description=f"{product.name} #{k + 1}",
                        quantity=Decimal("2"),
                        unit_price=Decimal("150"),
                        tax_rate=Decimal("20"),
                        gross=Decimal("300"),
                        net=Decimal("300"),
                        tax=Decimal("60"),
                        total=Decimal("360"),
                    )
                    for o in orders
                    for k in range(lines)
                ]
                OrderLine.objects.bulk_create(order_lines, batch_size=1_000)
                if shipped:
                    Shipment.objects.bulk_create(
                        [
                            Shipment(
                                order_id=made[o.number],
                                carrier=rng.choice(("Yurtiçi Kargo", "Aras", "Pošta Srbije")),
                                tracking_number=f"TRK{made[o.number]:010d}",
                                status="delivered",
                            )
                            for o in orders
                        ],
                        batch_size=1_000,
                    )
                ids += list(made.values())
        return ids

    noise = [rng.randint(low, high) for _ in range(options.noise)]
    add_orders(noise, "BN", 2, False)
    print(f"{options.noise:,} orders of other customers: {time.perf_counter() - started:.0f} s")

    with transaction.atomic():
        CustomerRelationship.objects.get_or_create(
            from_customer=person, to_customer=org, kind="works_at"
        )
        account = PortalAccount.objects.create(
            contact=person, customer=org, email=ACCOUNT_EMAIL, language="tr"
        )
    own_orders = add_orders([org.pk] * options.orders, "BP", 3, True)
    print(
        f"{options.orders:,} orders of the portal's customer: {time.perf_counter() - started:.0f} s"
    )

    now = timezone.now()
    for i in range(0, options.tickets, BATCH):
        size = min(BATCH, options.tickets - i)
        with transaction.atomic():
            tickets = [
                Ticket(
                    number=f"TP-{i + k:09d}",
                    subject=rng.choice(
                        ("Sipariş gelmedi", "Makine arızalı", "Porudžbina kasni", "سفارش")
                    ),
                    description="Kutu ezik geldi.",
                    customer=org,
                    contact=person,
                    type=rng.choice(("complaint", "request", "question")),
                    channel="portal",
                    status=rng.choice(("new", "open", "waiting", "resolved", "closed")),
                )
                for k in range(size)
            ]
            Ticket.objects.bulk_create(tickets, batch_size=1_000)
            made = list(
                Ticket.objects.filter(number__in=[t.number for t in tickets]).values_list(
                    "pk", flat=True
                )
            )
            messages = []
            for pk in made:
                for kind, body in (
                    ("customer", "Makine çalışmıyor, kutu ezik."),
                    ("reply", "Yenisini gönderiyoruz."),
                    ("note", "INTERNAL: tedarikçiye bildirildi."),
                    ("customer", "Teşekkürler."),
                ):
                    messages.append(
                        TicketMessage(
                            ticket_id=pk,
                            kind=kind,
                            body=body,
                            author_contact=person if kind == "customer" else None,
                            author_name=person.display_name if kind == "customer" else "",
                        )
                    )
            TicketMessage.objects.bulk_create(messages, batch_size=2_000)
    print(
        f"{options.tickets:,} tickets of the portal's customer: "
        f"{time.perf_counter() - started:.0f} s"
    )

    with transaction.atomic():
        lines_of = defaultdict(list)
        for line_id, order_id in OrderLine.objects.filter(
            order_id__in=own_orders[:200]
        ).values_list("pk", "order_id"):
            lines_of[order_id].append(line_id)
        for n, order_id in enumerate(own_orders[: options.returns]):
            record = ReturnRequest.objects.create(
                number=f"RP-{n:09d}",
                customer=org,
                contact=person,
                order_id=order_id,
                reason=rng.choice(("damaged", "defective", "late")),
                status=rng.choice(("requested", "approved", "received", "completed")),
            )
            ReturnLine.objects.create(
                return_request=record, order_line_id=lines_of[order_id][0], quantity=Decimal("1")
            )
        for n in range(20):
            Quote.objects.create(
                number=f"QP-{n:06d}",
                customer=org,
                status="sent" if n % 2 else "draft",
                total=Decimal("1000"),
            )
            Contract.objects.create(
                number=f"CP-{n:06d}",
                title=f"Bakım sözleşmesi {n}",
                customer=org,
                status="active" if n % 3 else "draft",
                start_date=now.date(),
                end_date=now.date() + dt.timedelta(days=365),
                value=Decimal("12000"),
            )
        for n in range(3):
            SurveyInvitation.objects.create(
                kind="nps",
                customer=org,
                contact=person,
                email=account.email,
                token_hash=f"benchportal{n}".ljust(64, "0"),
                expires_at=now + dt.timedelta(days=30),
                sent_at=now,
            )
    _analyze()
    print(f"done in {time.perf_counter() - started:.0f} s")


def _analyze() -> None:
    """The planner's statistics, as a running installation has them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def scenarios(rng: random.Random) -> tuple[Any, list[tuple[str, float, list[tuple[str, str]]]]]:
    from django.urls import reverse

    from vefa.common.paging import encode_cursor
    from vefa.portal.models import PortalAccount
    from vefa.portal.selectors import orders, tickets
    from vefa.service.models import ReturnRequest

    account = PortalAccount.objects.select_related("customer").filter(email=ACCOUNT_EMAIL).first()
    if account is None:
        raise SystemExit("run `python -m bench.portal_pages --setup` first")
    own_orders = list(
        orders(account=account).order_by("-ordered_at", "-pk").values_list("pk", "ordered_at")
    )
    own_tickets = list(tickets(account=account).order_by("-pk").values_list("pk", flat=True))
    middle_order = own_orders[len(own_orders) // 2]
    middle_ticket = own_tickets[len(own_tickets) // 2]
    returns = list(
        ReturnRequest.objects.filter(customer_id=account.customer_id).values_list("pk", flat=True)
    )
    pages: list[tuple[str, str]] = [
        ("home", reverse("portal:home")),
        ("orders", reverse("portal:orders")),
        (
            "orders, deep page",
            reverse("portal:orders")
            + "?cursor="
            + encode_cursor(middle_order[1], middle_order[0], False),
        ),
        ("quotes and contracts", reverse("portal:documents")),
        ("tickets", reverse("portal:tickets")),
        (
            "tickets, deep page",
            reverse("portal:tickets")
            + "?cursor="
            + encode_cursor(middle_ticket, middle_ticket, False),
        ),
        ("new ticket form", reverse("portal:ticket_new")),
        ("returns", reverse("portal:returns")),
        ("surveys", reverse("portal:surveys")),
        ("help search", reverse("portal:help") + "?q=kahve"),
        ("my details", reverse("portal:details")),
    ]
    pages += [
        ("order page", reverse("portal:order", args=[pk]))
        for pk, _when in rng.sample(own_orders, min(10, len(own_orders)))
    ]
    pages += [
        ("return form", reverse("portal:return_new", args=[pk]))
        for pk, _when in rng.sample(own_orders, min(5, len(own_orders)))
    ]
    pages += [
        ("ticket page", reverse("portal:ticket", args=[pk]))
        for pk in rng.sample(own_tickets, min(10, len(own_tickets)))
    ]
    pages += [
        ("return page", reverse("portal:return", args=[pk]))
        for pk in rng.sample(returns, min(5, len(returns)))
    ]
    return account, [
        ("portal pages", TARGET_MS, pages),
        ("data download (JSON)", EXPORT_TARGET_MS, [("export", reverse("portal:export"))]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.portal_pages")
    parser.add_argument("--setup", action="store_true", help="add the portal's data first")
    parser.add_argument("--noise", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=3_000)
    parser.add_argument("--tickets", type=int, default=2_000)
    parser.add_argument("--returns", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()
    if options.setup:
        setup(options)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from bench.run import percentile
    from vefa.customers.models import Customer
    from vefa.portal.choices import TokenPurpose
    from vefa.portal.selectors import orders, tickets
    from vefa.portal.services import _issue_token
    from vefa.sales.models import Order
    from vefa.service.models import Ticket, TicketMessage

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("collectstatic", interactive=False, verbosity=0)
    account, all_scenarios = scenarios(random.Random(options.seed))
    counts = {
        "customers": Customer.objects.count(),
        "orders": Order.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": TicketMessage.objects.count(),
        "own orders": orders(account=account).count(),
        "own tickets": tickets(account=account).count(),
    }
    print(", ".join(f"{v:,} {k}" for k, v in counts.items()))
    client = Client()
    token = _issue_token(account, TokenPurpose.LOGIN, dt.timedelta(minutes=15))
    if client.post(f"/portal/login/link/{token}/").status_code != 302:
        raise SystemExit("could not sign in to the portal")

    rows = []
    slow: list[tuple[str, str, float]] = []
    for name, target, pages in all_scenarios:
        for _label, path in pages:  # warm-up
            client.get(path)
        samples: list[float] = []
        by_label: dict[str, list[float]] = defaultdict(list)
        for _ in range(options.rounds):
            for label, path in pages:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
                samples.append(elapsed)
                by_label[label].append(elapsed)
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        rows.append((name, target, p50, p95, max(samples), len(samples)))
        for label, values in by_label.items():
            slow.append((name, label, percentile(values, 0.95)))
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(samples):.1f} ms")
    slow.sort(key=lambda row: -row[2])
    write_results(options, counts, rows, slow)
    return 0


def write_results(
    options: argparse.Namespace,
    counts: dict[str, int],
    rows: list[tuple[str, float, float, float, float, int]],
    slow: list[tuple[str, str, float]],
) -> None:
    from django.db import connection

    vendor = connection.vendor
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    command = (
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_portal"
        if vendor == "postgresql"
        else "VEFA_DATA_DIR=/tmp/vefa-bench-portal"
    ) + f" python -m bench.portal_pages --rounds {options.rounds}"
    lines = [
        f"## {vendor} ({dt.date.today().isoformat()})",
        "",
        "Data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()) + ". "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"Python {sys.version.split()[0]}; load average at the end {load:.1f}.",
        f"Command: `{command}`; server time per request through Django's test client (ms).",
        "",
        "| scenario | target p95 | p50 | p95 | max | samples | met |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, target, p50, p95, top, n in rows:
        met = "yes" if p95 <= target else "**no**"
        lines.append(f"| {name} | {target:.0f} | {p50:.1f} | {p95:.1f} | {top:.1f} | {n} | {met} |")
    lines += [
        "",
        "Slowest pages (p95 of the page's requests, ms):",
        "",
        "| page | p95 |",
        "|---|---:|",
    ]
    seen = set()
    for _name, label, p95 in slow:
        if label in seen:
            continue
        seen.add(label)
        lines.append(f"| {label} | {p95:.1f} |")
        if len(seen) == 8:
            break
    section = "\n".join(lines) + "\n"
    header = (
        "# Customer portal pages\n\n"
        "`python -m bench.portal_pages` over `vefa bench-data` and `python -m "
        "bench.service_data`, with `--setup` for the portal's customer; see the script's "
        "docstring for the data and the pages.\n\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else header
    pattern = re.compile(rf"^## {vendor} \(.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(section + "\n", text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section
    )
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    raise SystemExit(main())
