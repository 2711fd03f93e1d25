"""Benchmark of the forecast and the contract list: ``python -m bench.sales_planning``.

Generates, deterministically from ``--seed``, 200,000 opportunities (about half open with an
expected close date from two months ago to fourteen months ahead, the rest won or lost over
the last eighteen months, 15 % in EUR or USD, created, stage-changed and closed at realistic
times so the history-based check has data), 20,000 customers, 40 reps in four teams with a
manager each and an administrator, 50,000 contracts, monthly targets per rep and team and two
years of daily EUR and USD rates, in a fresh SQLite database and in the PostgreSQL database
``vefa_bench_sales_planning`` (created, or emptied, by this script). Then it requests through
Django's test client:

- the forecast page and ``GET /api/v1/sales/forecast`` as the administrator (all 200,000), as
  a manager (a team's quarter) and in another reporting currency — target ≤ 1 s;
- the contract list as administrator, manager and rep, filtered by status and renewal window
  and on a later page — target p95 ≤ 100 ms.

    python -m bench.sales_planning                     # both databases
    python -m bench.sales_planning --db sqlite --rounds 10

Each database runs in its own process (the settings read ``DATABASE_URL`` once). The
figures are written to ``bench/results/sales-planning.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "sales-planning.md"
PG_NAME = "vefa_bench_sales_planning"
PG_SERVER = os.environ.get("VEFA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
OPPORTUNITIES = 200_000
CUSTOMERS = 20_000
CONTRACTS = 50_000
TARGETS = {"forecast": 1000.0, "forecast api": 1000.0, "contract list": 100.0}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _recreate_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')


def _generate(seed: int, opportunities: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone
    from tests.factories import TeamFactory, UserFactory

    from vefa.accounts.choices import Role
    from vefa.common.text import fold
    from vefa.customers.models import Customer
    from vefa.sales.models import Contract, ExchangeRate, Opportunity, Pipeline, SalesTarget

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    teams = [TeamFactory(name=name) for name in ("North", "South", "East", "West")]
    admin = UserFactory(role=Role.ADMIN, team=teams[0], is_staff=True, is_superuser=True)
    managers = [UserFactory(role=Role.SALES_MANAGER, team=t) for t in teams]
    reps = [UserFactory(role=Role.SALES_REP, team=teams[i % 4]) for i in range(40)]

    first_names = ["Ayşe", "Mehmet", "Jovana", "Marko", "علی", "Zeynep", "Nikola", "مریم"]
    last_names = ["Yılmaz", "Kaya", "Petrović", "Jovanović", "رضایی", "Demir", "Ilić", "کریمی"]
    customers = []
    for i in range(CUSTOMERS):
        owner = reps[i % len(reps)]
        first, last = rng.choice(first_names), rng.choice(last_names)
        name = f"{first} {last} {i}"
        customers.append(
            Customer(
                kind="person",
                first_name=first,
                last_name=f"{last} {i}",
                display_name=name,
                name_key=fold(name),
                lifecycle_stage="customer",
                stage_changed_at=now,
                owner=owner,
                team_id=owner.team_id,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=2000)
    customer_rows = list(Customer.objects.order_by("pk").values_list("pk", "owner_id", "team_id"))

    rates = []
    for code, base in (("EUR", Decimal("35")), ("USD", Decimal("32"))):
        for day in range(730):
            rates.append(
                ExchangeRate(
                    day=today - datetime.timedelta(days=day),
                    currency=code,
                    quote_currency="TRY",
                    rate=base + Decimal(day % 50) / 10,
                )
            )
    ExchangeRate.objects.bulk_create(rates, batch_size=2000)

    pipelines = list(Pipeline.objects.filter(is_default=True).order_by("order"))
    stages = {p.pk: list(p.stages.order_by("order")) for p in pipelines}
    created_field = Opportunity._meta.get_field("created_at")
    created_field.auto_now_add = False  # type: ignore[attr-defined]
    categories = ["pipeline", "pipeline", "best_case", "commit", "omitted"]
    batch: list[Opportunity] = []
    try:
        for i in range(opportunities):
            customer_id, owner_id, team_id = customer_rows[i % len(customer_rows)]
            pipeline = pipelines[0] if i % 5 else pipelines[-1]
            ordered = stages[pipeline.pk]
            open_stages = [s for s in ordered if s.kind == "open"]
            won_stage = next(s for s in ordered if s.kind == "won")
            lost_stage = next(s for s in ordered if s.kind == "lost")
            roll = rng.random()
            currency = "TRY" if rng.random() > 0.15 else rng.choice(["EUR", "USD"])
            amount = Decimal(rng.randrange(10_000, 20_000_000)) / 100
            if roll < 0.5:
                index = rng.randrange(len(open_stages))
                stage = open_stages[index]
                created = now - datetime.timedelta(days=rng.randrange(5, 300))
                changed = created + datetime.timedelta(days=index * rng.randrange(5, 20))
                changed = min(changed, now)
                close = today + datetime.timedelta(days=rng.randrange(-60, 420))
                batch.append(
                    Opportunity(
                        name=f"Deal {i}",
                        customer_id=customer_id,
                        pipeline=pipeline,
                        stage=stage,
                        status="open",
                        amount=amount,
                        currency=currency,
                        probability=stage.probability,
                        forecast_category=rng.choice(categories),
                        expected_close_date=close if rng.random() > 0.03 else None,
                        owner_id=owner_id,
                        team_id=team_id,
                        created_at=created,
                        stage_changed_at=changed,
                    )
                )
            else:
                won = roll < 0.8
                closed = now - datetime.timedelta(days=rng.randrange(0, 540))
                created = closed - datetime.timedelta(days=rng.randrange(10, 120))
                batch.append(
                    Opportunity(
                        name=f"Deal {i}",
                        customer_id=customer_id,
                        pipeline=pipeline,
                        stage=won_stage if won else lost_stage,
                        status="won" if won else "lost",
                        amount=amount,
                        currency=currency,
                        probability=100 if won else 0,
                        expected_close_date=closed.date(),
                        owner_id=owner_id,
                        team_id=team_id,
                        created_at=created,
                        stage_changed_at=closed,
                        closed_at=closed,
                    )
                )
            if len(batch) >= 5000:
                with transaction.atomic():
                    Opportunity.objects.bulk_create(batch, batch_size=5000)
                batch = []
        if batch:
            Opportunity.objects.bulk_create(batch, batch_size=5000)
    finally:
        created_field.auto_now_add = True  # type: ignore[attr-defined]

    contracts = []
    statuses = ["active"] * 6 + ["draft", "expired", "cancelled", "renewed"]
    for i in range(CONTRACTS):
        customer_id, owner_id, team_id = customer_rows[i % len(customer_rows)]
        start = today - datetime.timedelta(days=rng.randrange(0, 700))
        end = start + datetime.timedelta(days=rng.choice([30, 90, 180, 364, 729]))
        contracts.append(
            Contract(
                number=f"C-B-{i:07d}",
                title=f"Sözleşme {i}",
                customer_id=customer_id,
                owner_id=owner_id,
                team_id=team_id,
                status=rng.choice(statuses),
                start_date=start,
                end_date=end,
                renewal_date=end,
                value=Decimal(rng.randrange(100_000, 10_000_000)) / 100,
                currency="TRY" if i % 7 else "EUR",
            )
        )
    with transaction.atomic():
        Contract.objects.bulk_create(contracts, batch_size=5000)

    targets = []
    month = today.replace(day=1)
    for offset in range(-3, 12):
        year, index = divmod(month.month - 1 + offset, 12)
        start = datetime.date(month.year + year, index + 1, 1)
        year2, index2 = divmod(start.month, 12)
        end = datetime.date(start.year + year2, index2 + 1, 1) - datetime.timedelta(days=1)
        for rep in reps:
            targets.append(
                SalesTarget(
                    user=rep,
                    period_start=start,
                    period_end=end,
                    amount=Decimal(250_000),
                    currency="TRY",
                )
            )
        for team in teams:
            targets.append(
                SalesTarget(
                    team=team,
                    period_start=start,
                    period_end=end,
                    amount=Decimal(2_500_000),
                    currency="TRY",
                )
            )
    SalesTarget.objects.bulk_create(targets)
    return {"admin": admin, "manager": managers[0], "rep": reps[0], "pipeline": pipelines[0]}


def _analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _measure(
    client: Any, url: str, rounds: int, warmups: int = 2
) -> tuple[list[float], list[float], int]:
    """Wall-clock and this process's CPU time (ms) of ``rounds`` requests.

    The CPU time is the server's own work (for SQLite including the database, which runs in
    this process); on a shared, busy machine it shows what the wall-clock time would be on
    an idle one. PostgreSQL's work happens in its own processes and is only in the wall time.
    """
    for _ in range(warmups):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    cpu = []
    for _ in range(rounds):
        begin = time.perf_counter()
        begin_cpu = time.process_time()
        response = client.get(url)
        cpu.append((time.process_time() - begin_cpu) * 1000)
        samples.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200
    return samples, cpu, len(response.content)


def _existing() -> dict[str, Any]:
    """The users and pipeline of a database this script generated before (``--reuse``)."""
    from vefa.accounts.models import User
    from vefa.sales.models import Pipeline

    admin = User.objects.filter(role="admin").order_by("pk").first()
    manager = User.objects.filter(role="sales_manager").order_by("pk").first()
    assert admin is not None and manager is not None, "no generated data to reuse"
    rep = User.objects.filter(role="sales_rep", team_id=manager.team_id).order_by("pk").first()
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    return {"admin": admin, "manager": manager, "rep": rep, "pipeline": pipeline}


def run_one(
    vendor: str, rounds: int, seed: int, opportunities: int, reuse: bool = False
) -> dict[str, Any]:
    """Generate and measure in this process (``DATABASE_URL`` already set for PostgreSQL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    data = _existing() if reuse else _generate(seed, opportunities)
    _analyse()
    generated = time.perf_counter() - started
    print(f"{vendor}: generated in {generated:.0f} s", file=sys.stderr)
    forecast = reverse("sales:forecast")
    api = reverse("api:sales_forecast")
    contracts = reverse("sales:contract_list")
    clients: dict[str, Client] = {}
    for role in ("admin", "manager", "rep"):
        client = Client()
        client.force_login(data[role])
        clients[role] = client
    listing = clients["admin"].get(reverse("api:sales_contracts") + "?status=active&limit=50")
    page_two = listing.json()["next_cursor"] or ""
    scenarios = [
        ("forecast", "admin", forecast, max(5, rounds // 3)),
        ("forecast", "admin", forecast + "?currency=EUR", max(5, rounds // 3)),
        ("forecast", "admin", forecast + f"?pipeline={data['pipeline'].pk}", max(5, rounds // 3)),
        ("forecast", "manager", forecast, max(5, rounds // 3)),
        ("forecast api", "admin", api, max(5, rounds // 3)),
        ("forecast api", "manager", api + "?currency=USD", max(5, rounds // 3)),
        ("contract list", "admin", contracts, rounds),
        ("contract list", "admin", contracts + "?status=active", rounds),
        ("contract list", "admin", contracts + f"?status=active&cursor={page_two}", rounds),
        ("contract list", "admin", contracts + "?renewal_within=90", rounds),
        ("contract list", "manager", contracts + "?renewal_within=30&status=active", rounds),
        ("contract list", "manager", contracts, rounds),
        ("contract list", "rep", contracts + "?owner=mine", rounds),
        ("contract list", "admin", contracts + "?q=Sözleşme 4242", rounds),
    ]
    rows = []
    for kind, role, url, count in scenarios:
        samples, cpu, size = _measure(clients[role], url, count)
        row = {
            "kind": kind,
            "role": role,
            "url": url if len(url) < 90 else url[:87] + "…",
            "rounds": count,
            "p50": percentile(samples, 0.5),
            "p95": percentile(samples, 0.95),
            "max": max(samples),
            "cpu50": percentile(cpu, 0.5),
            "cpu95": percentile(cpu, 0.95),
            "bytes": size,
            "target": TARGETS[kind],
        }
        rows.append(row)
        print(
            f"{vendor:<10} {kind:<13} {role:<8} p50 {row['p50']:7.1f}  p95 {row['p95']:7.1f}"
            f"  max {row['max']:7.1f} ms  cpu p95 {row['cpu95']:7.1f}  ({size // 1024} KiB)"
            f" {row['url']}",
            file=sys.stderr,
        )
    return {"vendor": connection.vendor, "generated_s": generated, "rows": rows}


def _child(vendor: str, rounds: int, seed: int, opportunities: int) -> dict[str, Any]:
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix=f"vefa-bench-planning-{vendor}-")
    env["VEFA_DATA_DIR"] = tmp
    env.pop("DATABASE_URL", None)
    if vendor == "postgresql":
        _recreate_pg_database()
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    command = [sys.executable, "-m", "bench.sales_planning", "--child", vendor]
    command += ["--rounds", str(rounds), "--seed", str(seed), "--opportunities", str(opportunities)]
    try:
        done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"the {vendor} run failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(results: list[dict[str, Any]], opportunities: int, command: str) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"# Forecast and contract list — {datetime.date.today().isoformat()}",
        "",
        f"Data: {opportunities:,} opportunities (about half open with an expected close date "
        "from two months back to fourteen months ahead, 3 % undated; 30 % won and 20 % lost over "
        "the last eighteen months; 15 % in EUR or USD; 80 % in the new-business and 20 % in the "
        f"renewals pipeline), {CUSTOMERS:,} customers, 40 reps in four teams with a manager "
        f"each, {CONTRACTS:,} contracts, monthly targets per rep and team, two years of daily "
        "EUR and USD rates. Generated fresh for each database; the administrator's forecast "
        "covers all opportunities, a manager's one team (a quarter).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other work), "
        f"Python {sys.version.split()[0]}; load average at the end {load:.1f}.",
        f"Command: `{command}`; the given number of requests per row after 2 warm-ups, server "
        "time through Django's test client (ms).",
        "",
        "Wall-clock p50/p95/max, and the p50/p95 of the server process's CPU time (for "
        "SQLite this includes the database, which runs in the process; PostgreSQL's own work "
        'is only in the wall time). "met" compares the wall-clock p95 with the target.',
        "",
        "| database | what | as | requests | p50 | p95 | max | CPU p50 | CPU p95 | target | met "
        "| size | URL |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for result in results:
        for row in result["rows"]:
            met = "yes" if row["p95"] <= row["target"] else "**no**"
            lines.append(
                f"| {result['vendor']} | {row['kind']} | {row['role']} | {row['rounds']} | "
                f"{row['p50']:.1f} | {row['p95']:.1f} | {row['max']:.1f} | "
                f"{row['cpu50']:.1f} | {row['cpu95']:.1f} | {row['target']:.0f} | {met} | "
                f"{row['bytes'] // 1024} KiB | `{row['url']}` |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_planning")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--opportunities", type=int, default=OPPORTUNITIES)
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--reuse",
        choices=["sqlite", "postgresql"],
        help="measure again, without generating, the database the settings point at "
        "(VEFA_DATA_DIR or DATABASE_URL of an earlier run); prints the rows",
    )
    options = parser.parse_args(argv)
    if options.child or options.reuse:
        result = run_one(
            options.child or options.reuse,
            options.rounds,
            options.seed,
            options.opportunities,
            reuse=bool(options.reuse),
        )
        if options.reuse:
            print(
                _report(
                    [result],
                    options.opportunities,
                    "python -m bench.sales_planning "
                    f"--reuse {options.reuse} --rounds {options.rounds}",
                )
            )
        else:
            print(json.dumps(result))
        return 0
    vendors = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    results = [
        _child(vendor, options.rounds, options.seed, options.opportunities) for vendor in vendors
    ]
    command = "python -m bench.sales_planning"
    if options.db != "both":
        command += f" --db {options.db}"
    if options.rounds != 30:
        command += f" --rounds {options.rounds}"
    if options.opportunities != OPPORTUNITIES:
        command += f" --opportunities {options.opportunities}"
    report = _report(results, options.opportunities, command)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report)
    print(report)
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
