"""Benchmark of the sales analysis page and the rep's day, with its own data generator.

    # SQLite (a data directory of its own)
    VEFA_DATA_DIR=/tmp/vefa-bench-sales python -m bench.sales_analysis generate --orders 500000
    VEFA_DATA_DIR=/tmp/vefa-bench-sales python -m bench.sales_analysis measure

    # PostgreSQL (the database is created when missing)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_sales_analysis \
        python -m bench.sales_analysis generate --orders 500000
    DATABASE_URL=... python -m bench.sales_analysis measure

``generate`` writes, deterministically from ``--seed``: teams and users (reps, managers, an
administrator), ``--customers`` customers (country, city, lifecycle stage, tags), a product
catalogue in categories, daily EUR and USD rates to TRY, ``--opportunities`` opportunities
in the default pipeline with their stage history in the change log (as the services write
it) and competing bids, ``--orders`` orders (2 years, 90 % TRY, 7 % EUR, 3 % USD; 3 %
draft and 3 % cancelled) with 1–5 lines each (3 on average), interactions and completed
activities, and for every rep today's visits, calls, overdue tasks and follow-ups. Rows go
in with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), in batches, without the ORM.

``measure`` requests ``/sales/analysis/`` through Django's test client as an administrator
(everything), a manager (one team) and a rep (own), for the default range (the last 12
months) and the whole two years: the first request of each is *cold* (cache cleared: every
grouped query runs), the next ``--rounds`` are *warm* (the cached report, rendered). It then
requests ``/sales/field/my-day/`` for 20 reps ``--rounds`` times. Figures go to
``bench/results/sales-analysis.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "sales-analysis.md"
BATCH = 20_000
COUNTRIES = {
    "TR": ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Konya", "Adana", "Gaziantep"],
    "RS": ["Beograd", "Novi Sad", "Niš", "Kragujevac"],
    "IR": ["تهران", "مشهد", "اصفهان", "شیراز"],
    "DE": ["Berlin", "München", "Köln"],
}
TAGS = ["VIP", "Toptan", "Perakende", "Online", "Bayi", "Kurumsal", "مشتری ویژه", "Partner"]
LIFECYCLE = ["customer"] * 7 + ["prospect", "inactive", "lost"]
CURRENCIES = ["TRY"] * 90 + ["EUR"] * 7 + ["USD"] * 3
STATUSES = (["paid"] * 50 + ["invoiced"] * 14 + ["delivered"] * 12 + ["shipped"] * 8
            + ["confirmed"] * 10 + ["draft"] * 3 + ["cancelled"] * 3)  # fmt: skip
LOST_REASONS = ["price", "competitor", "no_budget", "no_decision", "timing", "features"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        _create_pg_database(url)
    django.setup()


def _create_pg_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- writing rows fast -------------------------------------------------------------------------


class Writer:
    """Inserts rows of one model: every column, defaults filled, values given per row."""

    def __init__(self, model: Any, given: list[str]):
        from django.db import connection
        from django.db.models import JSONField

        self.connection = connection
        self.pg = connection.vendor == "postgresql"
        self.table = model._meta.db_table
        self.given = given
        fields = list(model._meta.concrete_fields)
        by_name = {f.name: f for f in fields} | {f.attname: f for f in fields}
        self.columns = [by_name[g].column for g in given]
        self.fixed: list[tuple[str, Any]] = []
        for f in fields:
            if f.name in given or f.attname in given:
                continue
            if f.primary_key:
                continue
            value = f.get_default() if f.has_default() else (None if f.null else "")
            if isinstance(f, JSONField):
                value = None if value is None else json.dumps(value)
            elif value is not None and not isinstance(value, str | int | bool):
                value = f.get_db_prep_save(value, connection)
            self.fixed.append((f.column, value))
        self.all_columns = self.columns + [c for c, _ in self.fixed]
        self.tail = tuple(v for _, v in self.fixed)

    def write(self, rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row + self.tail)
            if len(batch) >= BATCH:
                count += self._flush(batch)
                batch = []
        if batch:
            count += self._flush(batch)
        return count

    def _flush(self, batch: list[tuple[Any, ...]]) -> int:
        from django.db import transaction

        cols = ", ".join(f'"{c}"' for c in self.all_columns)
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                with raw.copy(f'COPY "{self.table}" ({cols}) FROM STDIN') as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join("%s" for _ in self.all_columns)
                cursor.executemany(
                    f'INSERT INTO "{self.table}" ({cols}) VALUES ({marks})',
                    batch,
                )
        return len(batch)


def _dt(pg: bool) -> Callable[[datetime.datetime], Any]:
    if pg:
        return lambda value: value
    return lambda value: value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")


def _money(pg: bool) -> Callable[[Decimal], Any]:
    return (lambda v: v) if pg else str


@contextlib.contextmanager
def bulk_load(tables: list[str]) -> Iterator[None]:
    """Load without the secondary indexes of ``tables`` (built afterwards, in one sorted pass)
    and, on SQLite, without per-row foreign key checks (the generator keeps them consistent)."""
    from django.db import connection

    pg = connection.vendor == "postgresql"
    saved: list[str] = []
    with connection.cursor() as cursor:
        for table in tables:
            if pg:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                    "indexname NOT IN (SELECT conname FROM pg_constraint)",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                    "AND sql IS NOT NULL",
                    [table],
                )
            for name, sql in cursor.fetchall():
                saved.append(sql)
                cursor.execute(f'DROP INDEX "{name}"')
        if not pg:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in saved:
                cursor.execute(sql)
            if not pg:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")


def _next_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequences(models: list[Any]) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


# --- the data --------------------------------------------------------------------------------


def generate(options: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from vefa.accounts.models import Team, User
    from vefa.customers.models import Customer
    from vefa.interactions.models import Activity, Interaction
    from vefa.platform.models import ChangeLogEntry, Tag
    from vefa.sales.models import (
        Competitor,
        ExchangeRate,
        Opportunity,
        OpportunityCompetitor,
        Order,
        OrderLine,
        Pipeline,
        Product,
        ProductCategory,
    )

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Order.objects.exists():
        raise SystemExit("The database already has orders; use a fresh one.")
    rng = random.Random(options.seed)
    pg = connection.vendor == "postgresql"
    dt, money = _dt(pg), _money(pg)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    two_years = 730 * 86400
    phases: list[tuple[str, float, int]] = []

    def phase(name: str, count: int, since: float) -> None:
        took = time.perf_counter() - since
        phases.append((name, took, count))
        print(f"{name:<28} {count:>12,} rows {took:8.1f} s", flush=True)

    t = time.perf_counter()
    teams = [Team.objects.create(name=f"Bench team {i + 1}") for i in range(options.teams)]
    User.objects.create_user(email="bench-admin@example.com", password=None,
                                     full_name="Bench Admin", role="admin")  # fmt: skip
    managers, reps = [], []
    for i, team in enumerate(teams):
        managers.append(User.objects.create_user(
            email=f"bench-manager{i + 1}@example.com", password=None,
            full_name=f"Manager {i + 1}", role="sales_manager", team=team))  # fmt: skip
    for i in range(options.reps):
        reps.append(User.objects.create_user(
            email=f"bench-rep{i + 1}@example.com", password=None, full_name=f"Temsilci {i + 1}",
            role="sales_rep", team=teams[i % len(teams)]))  # fmt: skip
    rep_team = {u.pk: u.team_id for u in reps}
    rep_ids = [u.pk for u in reps]
    tags = [Tag.objects.get_or_create(name=n, defaults={"slug": f"bench-{i}"})[0]
            for i, n in enumerate(TAGS)]  # fmt: skip
    categories = [ProductCategory.objects.create(name=f"Kategori {i + 1}") for i in range(20)]
    products = Product.objects.bulk_create(
        [
            Product(
                sku=f"B-{i:05d}",
                name=f"Ürün {i + 1}",
                category=rng.choice(categories),
                list_price=Decimal(rng.randint(5, 5000)),
                currency="TRY",
            )
            for i in range(options.products)
        ]
    )
    product_ids = [p.pk for p in products]
    competitors = Competitor.objects.bulk_create(
        [Competitor(name=f"Rakip {i + 1}") for i in range(12)]
    )
    rates = []
    day = (now - datetime.timedelta(days=760)).date()
    eur, usd = Decimal("30"), Decimal("28")
    while day <= now.date():
        eur = (eur * Decimal(1 + rng.uniform(-0.004, 0.005))).quantize(Decimal("0.0001"))
        usd = (usd * Decimal(1 + rng.uniform(-0.004, 0.005))).quantize(Decimal("0.0001"))
        rates.append(ExchangeRate(day=day, currency="EUR", quote_currency="TRY", rate=eur))
        rates.append(ExchangeRate(day=day, currency="USD", quote_currency="TRY", rate=usd))
        day += datetime.timedelta(days=1)
    ExchangeRate.objects.bulk_create(rates)
    phase("users, catalogue, rates", len(rates) + len(products), t)

    # Customers.
    t = time.perf_counter()
    first_customer = _next_id(Customer)
    writer = Writer(Customer, ["id", "kind", "display_name", "name_key", "first_name",
                               "last_name", "lifecycle_stage", "owner_id", "team_id", "city",
                               "country", "created_at", "updated_at", "stage_changed_at",
                               "custom_fields"])  # fmt: skip
    customer_owner: dict[int, int] = {}

    def customers() -> Iterator[tuple[Any, ...]]:
        for i in range(options.customers):
            pk = first_customer + i
            owner = rng.choice(rep_ids)
            customer_owner[pk] = owner
            country = rng.choice(["TR"] * 6 + ["RS", "IR", "DE"])
            city = rng.choice(COUNTRIES[country])
            name = f"Müşteri {pk}"
            when = dt(now - datetime.timedelta(seconds=rng.randrange(two_years + 86400 * 200)))
            yield (pk, "person", name, name.casefold(), "Müşteri", str(pk),
                   rng.choice(LIFECYCLE), owner, rep_team[owner], city, country, when, when,
                   when, "{}")  # fmt: skip

    count = writer.write(customers())
    tag_rows = [
        (first_customer + i, rng.choice(tags).pk)
        for i in range(options.customers)
        if rng.random() < 0.15
    ]
    through = Customer.tags.through
    Writer(through, ["customer_id", "tag_id"]).write(sorted(set(tag_rows)))
    phase("customers (+ tags)", count, t)
    customer_ids = list(range(first_customer, first_customer + options.customers))

    # Opportunities with their stage history.
    t = time.perf_counter()
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    open_stages = [s for s in stages if s.kind == "open"]
    won_stage = next(s for s in stages if s.kind == "won")
    lost_stage = next(s for s in stages if s.kind == "lost")
    first_opp = _next_id(Opportunity)
    opp_writer = Writer(Opportunity, ["id", "name", "customer_id", "pipeline_id", "stage_id",
                                      "status", "amount", "currency", "expected_close_date",
                                      "probability", "owner_id", "team_id", "lost_reason",
                                      "lost_to_id", "stage_changed_at", "closed_at",
                                      "created_at", "updated_at", "follow_up_date",
                                      "custom_fields", "next_step"])  # fmt: skip
    log_writer = Writer(ChangeLogEntry, ["time", "action", "model", "object_id", "object_repr",
                                         "customer_id", "actor_id", "after"])  # fmt: skip
    log_rows: list[tuple[Any, ...]] = []
    bids: list[tuple[Any, ...]] = []

    def opportunities() -> Iterator[tuple[Any, ...]]:
        for i in range(options.opportunities):
            pk = first_opp + i
            customer = rng.choice(customer_ids)
            owner = customer_owner[customer]
            created = now - datetime.timedelta(seconds=rng.randrange(two_years))
            reach = rng.choices(range(len(open_stages)), weights=[30, 30, 25, 15])[0]
            path = open_stages[: reach + 1]
            fate = rng.random()
            closed_at = None
            status, final, lost_reason, lost_to = "open", path[-1], "", None
            age = (now - created).days
            if age > 20 and fate < 0.35:
                status, final = "won", won_stage
            elif age > 20 and fate < 0.75:
                status, final = "lost", lost_stage
                lost_reason = rng.choice(LOST_REASONS)
                lost_to = rng.choice(competitors).pk if rng.random() < 0.4 else None
            if status != "open":
                closed_at = created + datetime.timedelta(days=rng.randint(5, max(6, min(age, 180))))
                if closed_at > now:
                    closed_at = now
            amount = Decimal(rng.randint(1, 500) * 1000)
            currency = rng.choice(CURRENCIES)
            expected = (created + datetime.timedelta(days=rng.randint(10, 200))).date()
            probability = {"won": 100, "lost": 0}.get(status, final.probability)
            follow = (now + datetime.timedelta(days=rng.randint(-20, 30))).date()
            snapshot = {"name": f"Fırsat {pk}", "customer": customer, "owner": owner,
                        "team": rep_team[owner], "pipeline": pipeline.pk, "amount": str(amount),
                        "currency": currency, "probability": probability, "status": "open",
                        "expected_close_date": expected.isoformat(), "source": "",
                        "next_step": "", "lost_reason": "", "version": 1}  # fmt: skip
            moment = created
            for n, stage in enumerate([*path, final] if final not in path else path):
                entry = dict(snapshot, stage=stage.pk, version=n + 1)
                if stage.kind != "open":
                    entry.update(status=status, lost_reason=lost_reason)
                    moment = closed_at or moment
                log_rows.append((dt(moment), "create" if n == 0 else "update",
                                 "sales.opportunity", pk, f"Fırsat {pk}", customer, owner,
                                 json.dumps(entry)))  # fmt: skip
                moment = moment + datetime.timedelta(days=rng.randint(1, 5))
            if rng.random() < 0.12:
                for comp in rng.sample(competitors, rng.randint(1, 2)):
                    bids.append((pk, comp.pk, "", dt(created), dt(created), "{}"))
            yield (pk, f"Fırsat {pk}", customer, pipeline.pk, final.pk, status, money(amount),
                   currency, expected, probability, owner, rep_team[owner], lost_reason,
                   lost_to, dt(moment), dt(closed_at) if closed_at else None, dt(created),
                   dt(created), follow if status == "open" and rng.random() < 0.3 else None,
                   "{}", "")  # fmt: skip
            if len(log_rows) >= BATCH:
                log_writer.write(log_rows)
                log_rows.clear()

    count = opp_writer.write(opportunities())
    log_writer.write(log_rows)
    bid_writer = Writer(OpportunityCompetitor, ["opportunity_id", "competitor_id", "currency",
                                                "created_at", "updated_at", "notes"])  # fmt: skip
    bid_writer.write([(*b[:5], "") for b in bids])
    phase("opportunities (+ history)", count, t)

    # Orders and lines.
    t = time.perf_counter()
    first_order = _next_id(Order)
    first_line = _next_id(OrderLine)
    order_writer = Writer(Order, ["id", "number", "customer_id", "owner_id", "team_id",
                                  "status", "ordered_at", "currency", "subtotal",
                                  "discount_total", "tax_total", "total", "created_at",
                                  "updated_at", "custom_fields"])  # fmt: skip
    line_writer = Writer(OrderLine, ["id", "order_id", "position", "product_id", "description",
                                     "quantity", "unit_price", "gross", "discount", "net", "tax",
                                     "total", "tax_rate", "created_at",
                                     "updated_at"])  # fmt: skip
    lines: list[tuple[Any, ...]] = []
    line_id = first_line
    line_count = 0
    prices = {p.pk: int(p.list_price) for p in products}

    count = 0
    order_rows: list[tuple[Any, ...]] = []
    loading = bulk_load([Order._meta.db_table, OrderLine._meta.db_table])
    loading.__enter__()
    for i in range(options.orders):
        pk = first_order + i
        customer = customer_ids[rng.randrange(len(customer_ids))]
        owner = customer_owner[customer]
        # Orders arrive in time order, as in a live system (ids grow with the time).
        when = now - datetime.timedelta(
            seconds=two_years * (1 - (i + rng.random()) / options.orders)
        )
        currency = CURRENCIES[rng.randrange(100)]
        stamp = dt(when)
        subtotal = discount = 0
        for position in range(rng.choice((1, 2, 3, 3, 4, 5))):
            product = product_ids[rng.randrange(len(product_ids))]
            qty = rng.randint(1, 5)
            price = prices[product]
            gross = price * qty
            off = gross // 10 if rng.random() < 0.2 else 0
            net = gross - off
            tax = net // 5
            subtotal += gross
            discount += off
            lines.append((line_id, pk, position, product, "Ürün", qty, price, gross, off, net,
                          tax, net + tax, 20, stamp, stamp))  # fmt: skip
            line_id += 1
        tax_total = (subtotal - discount) // 5
        order_rows.append((pk, f"B-{pk:09d}", customer, owner, rep_team[owner],
                           STATUSES[rng.randrange(100)], stamp, currency, subtotal, discount,
                           tax_total, subtotal - discount + tax_total, stamp, stamp,
                           "{}"))  # fmt: skip
        if len(order_rows) >= BATCH or i == options.orders - 1:
            # The orders first: the lines' foreign keys are checked at each commit.
            count += order_writer.write(order_rows)
            line_count += line_writer.write(lines)
            order_rows.clear()
            lines.clear()
        if (i + 1) % 500_000 == 0:
            print(f"  {i + 1:,} orders, {line_count:,} lines "
                  f"{time.perf_counter() - t:.0f} s", flush=True)  # fmt: skip
    phase("orders and lines (loaded)", count, t)
    t = time.perf_counter()
    loading.__exit__(None, None, None)
    phase("orders and lines: indexes", 0, t)
    phases.append(("order lines (with the orders)", 0.0, line_count))
    print(f"{'order lines':<28} {line_count:>12,} rows", flush=True)

    # Interactions and completed activities (staff analysis), and today's work for my day.
    t = time.perf_counter()
    touch_writer = Writer(Interaction, ["customer_id", "kind", "subject", "occurred_at", "user_id",
                                        "created_at", "updated_at", "custom_fields"])  # fmt: skip

    def touches() -> Iterator[tuple[Any, ...]]:
        for _ in range(options.interactions):
            customer = customer_ids[rng.randrange(len(customer_ids))]
            when = dt(now - datetime.timedelta(seconds=rng.randrange(two_years)))
            yield (customer, rng.choice(["call", "email", "visit", "meeting", "note"]), "Görüşme",
                   when, customer_owner[customer], when, when, "{}")  # fmt: skip

    count = touch_writer.write(touches())
    act_writer = Writer(Activity, ["kind", "subject", "customer_id", "owner_id", "team_id",
                                   "due_at", "scheduled_at", "status", "completed_at",
                                   "location", "created_at", "updated_at",
                                   "custom_fields"])  # fmt: skip
    start_of_day = now.replace(hour=0, minute=0, second=0)

    def activities() -> Iterator[tuple[Any, ...]]:
        for _ in range(options.interactions // 4):
            customer = customer_ids[rng.randrange(len(customer_ids))]
            owner = customer_owner[customer]
            when = now - datetime.timedelta(seconds=rng.randrange(two_years))
            yield (rng.choice(["call", "visit", "task"]), "İş", customer, owner, rep_team[owner],
                   dt(when), dt(when), "done", dt(when), "", dt(when), dt(when), "{}")  # fmt: skip
        for owner in rep_ids:  # a full day for every rep
            mine = [c for c in customer_ids[:5000] if customer_owner[c] == owner] or customer_ids
            for n in range(6):
                when = start_of_day + datetime.timedelta(hours=8 + n, minutes=30)
                yield ("visit", f"Ziyaret {n}", rng.choice(mine), owner, rep_team[owner],
                       dt(when), dt(when), "planned", None, f"Cadde {n}, İstanbul, TR", dt(now),
                       dt(now), "{}")  # fmt: skip
                yield ("call", f"Arama {n}", rng.choice(mine), owner, rep_team[owner], dt(when),
                       dt(when), "planned", None, "", dt(now), dt(now), "{}")  # fmt: skip
                late = now - datetime.timedelta(days=n + 1)
                yield ("task", f"Geciken {n}", rng.choice(mine), owner, rep_team[owner],
                       dt(late), dt(late), "planned", None, "", dt(now), dt(now), "{}")  # fmt: skip

    count += act_writer.write(activities())
    phase("interactions, activities", count, t)
    _reset_sequences([Customer, Opportunity, OpportunityCompetitor, Order, OrderLine,
                      Interaction, Activity, ChangeLogEntry, through])  # fmt: skip
    t = time.perf_counter()
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        phase("ANALYZE", 0, t)
    total = time.perf_counter() - started
    print(f"total {total:.0f} s", flush=True)
    _append(
        "## Data generation\n\n"
        f"`{_command()}` on {connection.vendor} ({_machine()}):\n\n"
        "| phase | rows | seconds |\n|---|---:|---:|\n"
        + "".join(f"| {n} | {c:,} | {s:.1f} |\n" for n, s, c in phases)
        + f"| total | | {total:.0f} |\n"
    )


# --- the measurements ----------------------------------------------------------------------------


def measure(options: argparse.Namespace) -> None:
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from vefa.accounts.models import User
    from vefa.sales.models import Order, OrderLine

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("collectstatic", interactive=False, verbosity=0)
    orders = Order.objects.count()
    lines = OrderLine.objects.count()
    print(f"{connection.vendor}: {orders:,} orders, {lines:,} lines", flush=True)
    admin = User.objects.get(email="bench-admin@example.com")
    manager = User.objects.get(email="bench-manager1@example.com")
    rep = User.objects.get(email="bench-rep1@example.com")
    today = datetime.date.today()
    ranges = {
        "last 12 months (default)": {},
        "two years": {
            "start": (today - datetime.timedelta(days=730)).isoformat(),
            "end": today.isoformat(),
        },
        "two years in EUR": {
            "start": (today - datetime.timedelta(days=730)).isoformat(),
            "end": today.isoformat(),
            "currency": "EUR",
        },
    }
    rows: list[str] = []
    warm_up = Client()
    warm_up.force_login(rep)
    warm_up.get("/sales/field/my-day/")  # templates, URL resolver, connection
    warm_up.get("/sales/analysis/", {"start": today.isoformat(), "end": today.isoformat()})
    for who, user in (("admin (all)", admin), ("manager (team)", manager), ("rep (own)", rep)):
        client = Client()
        client.force_login(user)
        for label, params in ranges.items():
            if who != "admin (all)" and label == "two years in EUR":
                continue
            cache.clear()
            t = time.perf_counter()
            response = client.get("/sales/analysis/", params)
            cold = (time.perf_counter() - t) * 1000
            if response.status_code != 200:
                raise SystemExit(f"HTTP {response.status_code}")
            warm = []
            for _ in range(options.rounds):
                t = time.perf_counter()
                client.get("/sales/analysis/", params)
                warm.append((time.perf_counter() - t) * 1000)
            row = (f"| {who} | {label} | {cold:,.0f} | {percentile(warm, 0.5):.0f} | "
                   f"{percentile(warm, 0.95):.0f} | {'yes' if cold <= 1000 else '**no**'} | "
                   f"{'yes' if percentile(warm, 0.95) <= 1000 else '**no**'} |")  # fmt: skip
            print(row, flush=True)
            rows.append(row)
    day_samples: list[float] = []
    reps = list(User.objects.filter(email__startswith="bench-rep").order_by("pk")[:20])
    clients = []
    for user in reps:
        client = Client()
        client.force_login(user)
        client.get("/sales/field/my-day/")
        clients.append(client)
    for _ in range(options.rounds):
        for client in clients:
            t = time.perf_counter()
            response = client.get("/sales/field/my-day/")
            day_samples.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
    p50, p95 = percentile(day_samples, 0.5), percentile(day_samples, 0.95)
    day = (f"my day: {len(day_samples)} requests for {len(clients)} reps — "
           f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(day_samples):.1f} ms")  # fmt: skip
    print(day, flush=True)
    load = os.getloadavg()[0]
    _append(
        f"## Measurements on {connection.vendor}: {orders:,} orders, {lines:,} lines\n\n"
        f"`{_command()}` ({_machine()}; load average at the end {load:.1f}). Server time per "
        "request through Django's test client, ms. *Cold*: cache cleared, every grouped query "
        f"runs. *Warm*: the cached report rendered ({options.rounds} requests).\n\n"
        "| who | range | cold | warm p50 | warm p95 | cold ≤ 1 s | warm ≤ 1 s |\n"
        "|---|---|---:|---:|---:|:---:|:---:|\n" + "\n".join(rows) + f"\n\n{day}\n"
    )


def _command() -> str:
    env = []
    if os.environ.get("DATABASE_URL"):
        env.append(f"DATABASE_URL={os.environ['DATABASE_URL']}")
    elif os.environ.get("VEFA_DATA_DIR"):
        env.append(f"VEFA_DATA_DIR={os.environ['VEFA_DATA_DIR']}")
    return " ".join([*env, "python -m bench.sales_analysis", *sys.argv[1:]])


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs shared, Python {sys.version.split()[0]}"


def _append(text: str) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        title = "# Sales analysis and my day — benchmark\n\n"
        RESULTS.write_text(title + "Produced by `bench/sales_analysis.py`; newest runs last.\n\n")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as handle:
        handle.write(f"\n### {stamp}\n\n{text}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_analysis")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--orders", type=int, default=500_000)
    gen.add_argument("--customers", type=int, default=100_000)
    gen.add_argument("--opportunities", type=int, default=200_000)
    gen.add_argument("--interactions", type=int, default=400_000)
    gen.add_argument("--products", type=int, default=500)
    gen.add_argument("--teams", type=int, default=8)
    gen.add_argument("--reps", type=int, default=80)
    gen.add_argument("--seed", type=int, default=1)
    run = sub.add_parser("measure")
    run.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args(argv)
    setup()
    if options.command == "generate":
        generate(options)
    else:
        measure(options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
