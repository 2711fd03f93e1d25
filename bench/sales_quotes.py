"""Benchmark of quotes: the quote list on 100,000 quotes and the PDF of a 50-line quote.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/quotes-bench-sqlite python -m bench.sales_quotes run

    # PostgreSQL (database vefa_bench_sales_quotes, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_sales_quotes \
        python -m bench.sales_quotes run

``run`` migrates an empty database and writes users (an administrator, a sales manager and
12 reps in 3 teams), ``--customers`` customers, 200 products and ``--quotes`` quotes with two
lines each, spread over two years in every status. Then it measures:

1. **Quote list** (``/sales/quotes/``) through Django's test client (server time: routing,
   middleware, access rules, queries, template) for the administrator, a manager (team
   scope) and a rep (own quotes): the first page, each filter (status, expired, open,
   customer, owner, number), a page ten "Show more" clicks deep and the htmx rows;
   ``--rounds`` requests each, p50 and p95.
2. **PDF**: a 50-line quote rendered ``--pdf-rounds`` times in each language (English,
   Turkish, Serbian, Persian with shaping and right-to-left layout), and the PDF page.

Figures are printed and written to ``bench/results/sales-quotes.md`` (the section of the
database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.setup import percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "sales-quotes.md"
PG_NAME = "vefa_bench_sales_quotes"
TARGET_MS = 100.0


def setup(fresh: bool) -> None:
    bench_setup(PG_NAME, fresh=fresh)


# --- data ----------------------------------------------------------------------------------------


def make_data(customers: int, quotes: int, seed: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from vefa.accounts.models import Team, User
    from vefa.common.text import fold
    from vefa.customers.models import Customer
    from vefa.sales.choices import QuoteStatus
    from vefa.sales.models import NumberSequence, Product, Quote, QuoteLine
    from vefa.sales.money import line_amounts, totals

    rng = random.Random(seed)
    with transaction.atomic():
        teams = [Team.objects.create(name=f"Team {i}") for i in range(3)]
        admin = User.objects.create_user(
            email="admin@bench.test", password="x", full_name="Admin", role="admin"
        )
        manager = User.objects.create_user(
            email="manager@bench.test",
            password="x",
            full_name="Manager",
            role="sales_manager",
            team=teams[0],
        )
        reps = [
            User.objects.create_user(
                email=f"rep{i}@bench.test",
                password="x",
                full_name=f"Rep {i}",
                role="sales_rep",
                team=teams[i % 3],
            )
            for i in range(12)
        ]
        products = Product.objects.bulk_create(
            Product(
                sku=f"SKU-{i:04d}",
                name=f"Ürün {i} · محصول",
                list_price=rng.choice(["9.90", "120.00", "1499.99", "35.50"]),
                currency="TRY",
                tax_rate=rng.choice(["1", "10", "20"]),
            )
            for i in range(200)
        )
        now = timezone.now()
        rows = []
        for i in range(customers):
            rep = reps[i % len(reps)]
            name = f"Müşteri {i}"
            rows.append(
                Customer(
                    kind="person",
                    first_name="Müşteri",
                    last_name=str(i),
                    display_name=name,
                    name_key=fold(name),
                    owner=rep,
                    team_id=rep.team_id,
                    lifecycle_stage="customer",
                    stage_changed_at=now,
                    primary_email=f"c{i}@bench.test",
                )
            )
        created = Customer.objects.bulk_create(rows, batch_size=2000)
    customer_rows = [(c.pk, c.owner_id, c.team_id) for c in created]

    today = timezone.localdate()
    statuses = [
        (QuoteStatus.DRAFT, 15),
        (QuoteStatus.SENT, 35),
        (QuoteStatus.ACCEPTED, 25),
        (QuoteStatus.REJECTED, 15),
        (QuoteStatus.SUPERSEDED, 10),
    ]
    population = [s for s, w in statuses for _ in range(w)]
    batch = 5000
    counters: dict[int, int] = {}
    for start in range(0, quotes, batch):
        with transaction.atomic():
            chunk: list[Quote] = []
            chunk_lines: list[list[QuoteLine]] = []
            for _ in range(min(batch, quotes - start)):
                pk, owner, team = rng.choice(customer_rows)
                day = today - datetime.timedelta(days=rng.randrange(730))
                counters[day.year] = counters.get(day.year, 0) + 1
                lines = []
                for position in range(2):
                    product = rng.choice(products)
                    qty = Decimal(rng.randint(1, 9))
                    amounts = line_amounts(
                        quantity=qty,
                        unit_price=product.list_price,
                        currency="TRY",
                        tax_rate=product.tax_rate,
                    )
                    lines.append(
                        QuoteLine(
                            position=position,
                            product=product,
                            sku=product.sku,
                            description=product.name,
                            quantity=qty,
                            unit_price=product.list_price,
                            tax_rate=product.tax_rate,
                            gross=amounts.gross,
                            discount=amounts.discount,
                            net=amounts.net,
                            tax=amounts.tax,
                            total=amounts.total,
                        )
                    )
                figures = totals(
                    [
                        line_amounts(
                            quantity=x.quantity,
                            unit_price=x.unit_price,
                            currency="TRY",
                            tax_rate=x.tax_rate,
                        )
                        for x in lines
                    ],
                    "TRY",
                )
                chunk.append(
                    Quote(
                        number=f"Q-{day.year}-{counters[day.year]:06d}",
                        revision=1,
                        customer_id=pk,
                        owner_id=owner,
                        team_id=team,
                        status=rng.choice(population),
                        currency="TRY",
                        language=rng.choice(["en", "tr", "sr-latn", "fa"]),
                        issued_on=day,
                        valid_until=day + datetime.timedelta(days=30),
                        subtotal=figures.subtotal,
                        discount_total=figures.discount,
                        tax_total=figures.tax,
                        total=figures.total,
                    )
                )
                chunk_lines.append(lines)
            saved = Quote.objects.bulk_create(chunk, batch_size=1000)
            flat = []
            for quote, lines in zip(saved, chunk_lines, strict=True):
                for line in lines:
                    line.quote_id = quote.pk
                    flat.append(line)
            QuoteLine.objects.bulk_create(flat, batch_size=2000)
    for year, last in counters.items():
        NumberSequence.objects.update_or_create(kind="quote", year=year, defaults={"last": last})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "admin": admin.pk,
        "manager": manager.pk,
        "reps": [r.pk for r in reps],
        "customers": [c[0] for c in customer_rows[:100]],
    }


def existing_data() -> dict[str, Any]:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.sales.models import Quote

    reps = User.objects.filter(email__startswith="rep", email__endswith="@bench.test")
    return {
        "admin": User.objects.get(email="admin@bench.test").pk,
        "manager": User.objects.get(email="manager@bench.test").pk,
        "reps": list(reps.order_by("pk").values_list("pk", flat=True)),
        "customers": list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:100]),
        "quotes": Quote.objects.count(),
        "customer_count": Customer.objects.count(),
    }


# --- 1. the list ---------------------------------------------------------------------------------


def _deep_url(client: Any, base: str, clicks: int) -> str:
    url = base
    for _ in range(clicks):
        page = client.get(url).content.decode()
        marker = 'href="?cursor='
        at = page.find(marker)
        if at < 0:
            break
        end = page.find('"', at + len(marker))
        url = f"{base}?cursor={page[at + len(marker) : end].replace('&amp;', '&')}"
    return url


def bench_list(data: dict[str, Any], rounds: int) -> list[tuple[str, str, float, float, int]]:
    from django.test import Client

    from vefa.accounts.models import User
    from vefa.sales.models import Quote

    rows = []
    users = (
        ("admin", User.objects.get(pk=data["admin"])),
        ("manager", User.objects.get(pk=data["manager"])),
        ("rep", User.objects.get(pk=data["reps"][0])),
    )
    for label, user in users:
        client = Client()
        client.force_login(user)
        assert client.get("/sales/quotes/").status_code == 200
        mine = Quote.objects.filter(owner=data["reps"][0]).values_list("customer_id", "number")
        customer, number = mine.first() or (data["customers"][0], "Q-")
        scenarios = {
            "first page": "/sales/quotes/",
            "status=sent": "/sales/quotes/?status=sent",
            "status=expired": "/sales/quotes/?status=expired",
            "open only": "/sales/quotes/?open=true",
            "customer": f"/sales/quotes/?customer={customer}",
            "owner": f"/sales/quotes/?owner={data['reps'][0]}",
            "number": f"/sales/quotes/?q={number[-6:]}",
            "page 11": _deep_url(client, "/sales/quotes/", 10),
            "htmx rows": "/sales/quotes/?status=accepted",
        }
        for name, target in scenarios.items():
            headers = {"HX-Request": "true"} if name == "htmx rows" else {}
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                response = client.get(target, headers=headers)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (name, response.status_code)
            rows.append((label, name, percentile(times, 0.5), percentile(times, 0.95), len(times)))
            print("list", rows[-1], flush=True)
    return rows


# --- 2. the PDF ----------------------------------------------------------------------------------


def bench_pdf(data: dict[str, Any], rounds: int) -> list[tuple[str, float, float, float, int, int]]:
    from django.test import Client

    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.sales.services.quotes import quote_create
    from vefa.sales.services.quotes_pdf import render_quote_pdf

    rep = User.objects.get(pk=data["reps"][0])
    customer = Customer.objects.filter(owner=rep).first()
    assert customer is not None
    texts = {
        "en": "Consulting hour, on site",
        "tr": "Danışmanlık saati — İstanbul ofisi, ışık ve ğ",
        "sr-latn": "Usluga savetovanja — Đorđe Čolić, šž",
        "fa": "ساعت مشاوره در محل — تهران",
    }
    rows = []
    for language, text in texts.items():
        lines = [
            {
                "description": f"{text} {i}",
                "unit_price": f"{(i + 1) * 37.5:.2f}",
                "quantity": str(1 + i % 4),
                "discount_percent": "5" if i % 3 == 0 else "",
                "tax_rate": "20",
            }
            for i in range(50)
        ]
        quote = quote_create(
            actor=rep,
            customer=customer,
            lines=lines,
            currency="IRR" if language == "fa" else "TRY",
            language=language,
            notes=text * 5,
            terms=text * 3,
        )
        times = []
        size = pages = 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            pdf = render_quote_pdf(quote)
            times.append((time.perf_counter() - t0) * 1000)
            size = len(pdf)
        from io import BytesIO

        from pypdf import PdfReader

        pages = len(PdfReader(BytesIO(pdf)).pages)
        rows.append(
            (
                language,
                percentile(times, 0.5),
                percentile(times, 0.95),
                max(times),
                size,
                pages,
            )
        )
        print("pdf", rows[-1], flush=True)
    client = Client()
    client.force_login(rep)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        response = client.get(f"/sales/quotes/{quote.pk}/pdf/")
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    rows.append(("fa, page", percentile(times, 0.5), percentile(times, 0.95), max(times), 0, 0))
    return rows


# --- report --------------------------------------------------------------------------------------


def write_report(db: str, text: str) -> None:
    header = "# Quotes: the list on 100,000 quotes and the PDF of a 50-line quote\n"
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    marker = f"\n## {db}\n"
    if marker in existing:
        before, _, after = existing.partition(marker)
        rest = after.find("\n## ")
        existing = before + (after[rest:] if rest >= 0 else "")
    RESULTS.write_text(existing.rstrip("\n") + "\n" + marker + text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--customers", type=int, default=20_000)
    run.add_argument("--quotes", type=int, default=100_000)
    run.add_argument("--rounds", type=int, default=40)
    run.add_argument("--pdf-rounds", type=int, default=10)
    run.add_argument("--seed", type=int, default=7)
    again = sub.add_parser("measure", help="measure again on the data of the last run")
    again.add_argument("--rounds", type=int, default=40)
    again.add_argument("--pdf-rounds", type=int, default=10)
    args = parser.parse_args(argv)

    setup(fresh=args.command == "run")
    from django.db import connection

    db = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    if args.command == "run":
        t0 = time.perf_counter()
        data = make_data(args.customers, args.quotes, args.seed)
        print(f"data: {time.perf_counter() - t0:.1f} s", flush=True)
    else:
        data = existing_data()
        args.quotes, args.customers = data["quotes"], data["customer_count"]
    pages = bench_list(data, args.rounds)
    pdfs = bench_pdf(data, args.pdf_rounds)
    worst = max(p95 for _, _, _, p95, _ in pages)
    command = (
        (
            f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{PG_NAME} "
            if db == "PostgreSQL"
            else "VEFA_DATA_DIR=/tmp/quotes-bench-sqlite "
        )
        + "python -m bench.sales_quotes run "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k != "command" and (k != "seed" or args.command == "run")
        )
    )
    lines = [
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared with other work), Python {platform.python_version()}, "
        f"{db}; load average {os.getloadavg()[0]:.1f} when done.",
        "",
        f"    {command}",
        "",
        f"Data: {args.quotes:,} quotes with 2 lines each over two years, {args.customers:,} "
        "customers, 12 reps in 3 teams.",
        "",
        f"### Quote list (`/sales/quotes/`, {args.rounds} requests each, server time)",
        "",
        f"Target: p95 ≤ {TARGET_MS:.0f} ms. Worst p95: **{worst:.1f} ms** "
        f"({'met' if worst <= TARGET_MS else 'NOT met'}).",
        "",
        "| user | scenario | p50 ms | p95 ms | n |",
        "|---|---|---:|---:|---:|",
        *[f"| {u} | {n} | {p50:.1f} | {p95:.1f} | {k} |" for u, n, p50, p95, k in pages],
        "",
        f"### PDF of a 50-line quote ({args.pdf_rounds} renders each)",
        "",
        "| language | p50 ms | p95 ms | max ms | bytes | pages |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {lang} | {p50:.0f} | {p95:.0f} | {mx:.0f} | {f'{size:,}' if size else '—'} | "
            f"{pages or '—'} |"
            for lang, p50, p95, mx, size, pages in pdfs
        ],
        "",
    ]
    write_report(db, "\n".join(lines))
    print(f"written to {RESULTS}")
    if worst > TARGET_MS:
        print(f"quote list p95 {worst:.1f} ms is above {TARGET_MS:.0f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
