"""Benchmark of the sales board and the opportunity list: ``python -m bench.sales_opportunities``.

Generates 5,000 open opportunities in one pipeline (with their customers, 12 reps in two
teams and a manager) in a fresh SQLite database and in the PostgreSQL database
``vefa_bench_sales_opportunities`` (created, or emptied, by this script), then requests the
board page and the opportunity list through Django's test client as an administrator (all
5,000) and as a sales manager (his team's half), and reports p50/p95/max server time
against the targets: board p95 ≤ 300 ms, list p95 ≤ 100 ms.

    python -m bench.sales_opportunities                # both databases
    python -m bench.sales_opportunities --db sqlite --rounds 30

Each database runs in its own process (the settings read ``DATABASE_URL`` once). The
figures are written to ``bench/results/sales-opportunities.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "sales-opportunities.md"
PG_NAME = "vefa_bench_sales_opportunities"
PG_SERVER = os.environ.get("VEFA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
OPPORTUNITIES = 5_000
TARGETS = {"board": 300.0, "list": 100.0}
START_LOAD = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _recreate_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')


def _generate(count: int, seed: int) -> dict[str, Any]:
    """Users, customers and ``count`` open opportunities spread over the open stages."""
    from django.utils import timezone

    from vefa.accounts.choices import Role
    from vefa.accounts.models import Team, User
    from vefa.common.text import fold
    from vefa.customers.models import Customer
    from vefa.sales.models import Opportunity, Pipeline

    rng = random.Random(seed)
    north = Team.objects.create(name="North")
    south = Team.objects.create(name="South")

    def user(email: str, role: str, team: Team, **extra: Any) -> User:
        person = User(email=email, full_name=email.split("@")[0], role=role, team=team, **extra)
        person.set_unusable_password()
        person.save()
        return person

    admin = user("admin@bench.test", Role.ADMIN, north, is_staff=True, is_superuser=True)
    manager = user("manager@bench.test", Role.SALES_MANAGER, north)
    reps = [
        user(f"rep{i}@bench.test", Role.SALES_REP, north if i < 6 else south) for i in range(12)
    ]
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    open_stages = list(pipeline.stages.filter(kind="open").order_by("order"))
    first_names = ["Ayşe", "Mehmet", "Jovana", "Marko", "علی", "Zeynep", "Nikola", "مریم"]
    last_names = ["Yılmaz", "Kaya", "Petrović", "Jovanović", "رضایی", "Demir", "Ilić", "کریمی"]
    now = timezone.now()
    customers = []
    for i in range(count):
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
                lifecycle_stage="prospect",
                stage_changed_at=now,
                owner=owner,
                team_id=owner.team_id,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=1000)
    customers = list(Customer.objects.order_by("pk"))
    opportunities = []
    for i, customer in enumerate(customers):
        stage = open_stages[i % len(open_stages)]
        currency = "TRY" if i % 10 else rng.choice(["EUR", "USD"])
        opportunities.append(
            Opportunity(
                name=f"Deal {i} — {customer.display_name}",
                customer=customer,
                pipeline=pipeline,
                stage=stage,
                status="open",
                amount=Decimal(rng.randrange(1_000, 2_000_000)) / 4,
                currency=currency,
                probability=stage.probability,
                expected_close_date=now.date() + datetime.timedelta(days=rng.randrange(-30, 180)),
                owner_id=customer.owner_id,
                team_id=customer.team_id,
                stage_changed_at=now - datetime.timedelta(days=rng.randrange(0, 60)),
            )
        )
    Opportunity.objects.bulk_create(opportunities, batch_size=1000)
    return {"admin": admin, "manager": manager, "pipeline": pipeline}


def _analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run_one(vendor: str, rounds: int, seed: int) -> dict[str, Any]:
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
    data = _generate(OPPORTUNITIES, seed)
    _analyse()
    generated = time.perf_counter() - started
    board_url = reverse("sales:board_pipeline", args=[data["pipeline"].pk])
    list_url = reverse("sales:opportunity_list")
    scenarios = [
        ("board", "admin", board_url + "?scope=all"),
        ("board", "manager", board_url),
        ("list", "admin", list_url + "?scope=all"),
        ("list", "manager", list_url),
        ("list", "admin", list_url + "?scope=all&sort=amount"),
        ("list", "manager", list_url + "?q=deal 42"),
    ]
    clients: dict[str, Client] = {}
    for role in ("admin", "manager"):
        client = Client()
        client.force_login(data[role])
        clients[role] = client
    rows = []
    for kind, role, url in scenarios:
        client = clients[role]
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        samples = []
        cpu = []
        for _ in range(rounds):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
            assert response.status_code == 200
        size = len(response.content)
        rows.append(
            {
                "kind": kind,
                "role": role,
                "url": url,
                "p50": percentile(samples, 0.5),
                "p95": percentile(samples, 0.95),
                "max": max(samples),
                "cpu_p50": percentile(cpu, 0.5),
                "cpu_p95": percentile(cpu, 0.95),
                "bytes": size,
                "target": TARGETS[kind],
            }
        )
        last = rows[-1]
        print(
            f"{vendor:<10} {kind:<6} {role:<8} p50 {last['p50']:7.1f}  p95 {last['p95']:7.1f}"
            f"  max {last['max']:7.1f} ms  ({size // 1024} KiB) {url}",
            file=sys.stderr,
        )
    return {"vendor": connection.vendor, "generated_s": generated, "rows": rows}


def _child(vendor: str, rounds: int, seed: int) -> dict[str, Any]:
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix=f"vefa-bench-sales-{vendor}-")
    env["VEFA_DATA_DIR"] = tmp
    env.pop("DATABASE_URL", None)
    if vendor == "postgresql":
        _recreate_pg_database()
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    command = [sys.executable, "-m", "bench.sales_opportunities", "--child", vendor]
    command += ["--rounds", str(rounds), "--seed", str(seed)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(results: list[dict[str, Any]], rounds: int, command: str) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"# Sales board and opportunity list — {datetime.date.today().isoformat()}",
        "",
        f"Data: {OPPORTUNITIES:,} open opportunities in one pipeline (four open stages, ~1,250 "
        "each, 10% in EUR/USD), one customer each, 12 reps in two teams, a manager of one "
        "team (he sees 2,500). Generated fresh for each database.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python "
        f"{sys.version.split()[0]}; load average at the start {START_LOAD:.1f}, at the end "
        f"{load:.1f}.",
        f"Command: `{command}`; {rounds} requests per row after 3 warm-ups, server time "
        "through Django's test client (ms). The board shows at most 200 cards per column "
        "(800 cards, counts and sums over all 5,000).",
        "",
        "Wall time is what the targets are about. CPU time (this process only: the view, "
        "the template and, on SQLite, the queries; PostgreSQL's own work is not in it) "
        "shows the cost when the machine is shared.",
        "",
        "| database | page | as | p50 | p95 | max | target p95 | met | CPU p50 | CPU p95 "
        "| size | URL |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for result in results:
        for row in result["rows"]:
            met = "yes" if row["p95"] <= row["target"] else "**no**"
            lines.append(
                f"| {result['vendor']} | {row['kind']} | {row['role']} | {row['p50']:.1f} | "
                f"{row['p95']:.1f} | {row['max']:.1f} | {row['target']:.0f} | {met} | "
                f"{row['cpu_p50']:.1f} | {row['cpu_p95']:.1f} | "
                f"{row['bytes'] // 1024} KiB | `{row['url']}` |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_opportunities")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        result = run_one(options.child, options.rounds, options.seed)
        print(json.dumps(result))
        return 0
    vendors = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
    results = [_child(vendor, options.rounds, options.seed) for vendor in vendors]
    command = "python -m bench.sales_opportunities" + (
        f" --db {options.db}" if options.db != "both" else ""
    )
    if options.rounds != 30:
        command += f" --rounds {options.rounds}"
    report = _report(results, options.rounds, command)
    RESULTS.parent.mkdir(exist_ok=True)
    notes = ""
    if RESULTS.exists() and "\n## Notes" in RESULTS.read_text():
        notes = RESULTS.read_text()[RESULTS.read_text().index("\n## Notes") :]
    RESULTS.write_text(report + notes)
    print(report)
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
