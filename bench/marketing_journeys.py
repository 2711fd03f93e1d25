"""Benchmark of the daily journey run, the points card and the expiry job on a data set it
builds itself.

    VEFA_DATA_DIR=/tmp/vefa-journeys python -m bench.marketing_journeys [--customers 200000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_journeys_bench \
        python -m bench.marketing_journeys [--customers 200000]

The database is migrated and filled here (an empty database is expected): ``--customers``
person customers with birth dates spread over the year, a loyalty programme (spending rule,
12 months expiry) and three points entries per customer over the last two years (two
awards and a redemption), half of the awards past their expiry.

Measured:

- **journey day**: ``journeys_run`` of a birthday journey (points now, a call-free second
  points step a day later) for seven consecutive days — each day enrols that day's
  birthdays and runs their due steps; target p95 ≤ 10 s per day at 200,000 customers;
- **journey rerun**: the same day run again (nothing to do); target p95 ≤ 1 s;
- **points card**: balance, tier and the ten latest entries of 200 random customers
  (``points_summary``); target p95 ≤ 50 ms;
- **expiry**: one ``points_expire`` over every customer with expired points (written once),
  then again (nothing to write); reported as totals.

Results go to ``bench/results/marketing-journeys.md`` (the section of the database in use
is replaced).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "marketing-journeys.md"
BATCH = 5000
TARGETS_MS = {"journey day": 10_000.0, "journey rerun": 1_000.0, "points card": 50.0}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()


def build(customers: int, seed: int) -> dict[str, float]:
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from vefa.customers.models import Customer
    from vefa.marketing.models import EarningRule, LoyaltyProgram, PointsEntry

    timings: dict[str, float] = {}
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate"] = time.perf_counter() - start
    if Customer.objects.exists():
        raise SystemExit("the database is not empty: use a new VEFA_DATA_DIR or database")
    rng = random.Random(seed)
    now = timezone.now()
    start = time.perf_counter()
    rows = []
    for i in range(customers):
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 20000))
        rows.append(
            Customer(
                kind="person",
                first_name=f"Ad{i}",
                last_name="Soyad",
                display_name=f"Ad{i} Soyad",
                name_key=f"ad{i} soyad",
                birth_date=born,
                lifecycle_stage="customer",
                became_customer_at=now - datetime.timedelta(days=400),
            )
        )
        if len(rows) == BATCH:
            Customer.objects.bulk_create(rows)
            rows = []
    Customer.objects.bulk_create(rows)
    timings["customers"] = time.perf_counter() - start
    program = LoyaltyProgram.objects.create(
        name="Vefa Club", currency="TRY", point_value=Decimal("0.1"), expiry_months=12
    )
    EarningRule.objects.create(program=program, kind="spend", points=1, per_amount=Decimal(10))
    start = time.perf_counter()
    entries = []
    for pk in Customer.objects.values_list("pk", flat=True).iterator(chunk_size=BATCH):
        old = now - datetime.timedelta(days=rng.randrange(380, 700))
        recent = now - datetime.timedelta(days=rng.randrange(1, 300))
        entries += [
            PointsEntry(
                program=program,
                customer_id=pk,
                kind="earn",
                points=rng.randrange(10, 200),
                key="a",
                occurred_at=old,
                expires_at=old + datetime.timedelta(days=365),
            ),
            PointsEntry(
                program=program,
                customer_id=pk,
                kind="earn",
                points=rng.randrange(10, 200),
                key="b",
                occurred_at=recent,
                expires_at=recent + datetime.timedelta(days=365),
            ),
            PointsEntry(
                program=program,
                customer_id=pk,
                kind="redeem",
                points=-5,
                key="r",
                occurred_at=recent,
            ),
        ]
        if len(entries) >= BATCH:
            PointsEntry.objects.bulk_create(entries)
            entries = []
    PointsEntry.objects.bulk_create(entries)
    timings["points entries"] = time.perf_counter() - start
    return timings


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


def measure(seed: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    from vefa.accounts.choices import Role
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.marketing.models import JourneyEnrollment, PointsEntry
    from vefa.marketing.selectors.loyalty import points_summary
    from vefa.marketing.services.journeys import (
        journey_create,
        journey_set_active,
        journeys_run,
        step_add,
    )
    from vefa.marketing.services.loyalty import points_expire

    marketer, _ = User.objects.get_or_create(
        email="bench-marketer@vefa.example",
        defaults={"full_name": "Bench Marketer", "role": Role.MARKETER},
    )
    journey = journey_create(actor=marketer, name="Birthday", trigger="birthday")
    step_add(actor=marketer, journey_id=journey.pk, action="award_points", points=50)
    step_add(actor=marketer, journey_id=journey.pk, action="award_points", points=10, wait_days=1)
    journey_set_active(actor=marketer, journey_id=journey.pk, active=True)
    samples: dict[str, list[float]] = {"journey day": [], "journey rerun": [], "points card": []}
    facts: dict[str, Any] = {}
    first = datetime.datetime(2027, 5, 1, 6, tzinfo=datetime.UTC)
    for offset in range(7):
        now = first + datetime.timedelta(days=offset)
        start = time.perf_counter()
        result = journeys_run(now=now)
        samples["journey day"].append((time.perf_counter() - start) * 1000)
        facts.setdefault("enrolled per day", []).append(result.enrolled)
        facts.setdefault("steps per day", []).append(result.steps_run)
        start = time.perf_counter()
        again = journeys_run(now=now + datetime.timedelta(minutes=5))
        samples["journey rerun"].append((time.perf_counter() - start) * 1000)
        assert again.enrolled == 0 and again.steps_run == 0, again
    facts["enrolments"] = JourneyEnrollment.objects.count()
    rng = random.Random(seed)
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    ids = [rng.randrange(1, last + 1) for _ in range(200)]
    customers = list(Customer.objects.filter(pk__in=ids))
    points_summary(customers[0])
    for customer in customers:
        start = time.perf_counter()
        points_summary(customer)
        samples["points card"].append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    facts["expiry customers"] = points_expire(now=first)
    facts["expiry s"] = time.perf_counter() - start
    start = time.perf_counter()
    facts["expiry again customers"] = points_expire(now=first)
    facts["expiry again s"] = time.perf_counter() - start
    facts["points entries"] = PointsEntry.objects.count()
    return samples, facts


def write(
    args: argparse.Namespace,
    build_times: dict[str, float],
    samples: dict[str, list[float]],
    facts: dict[str, Any],
) -> str:
    from django.db import connection

    vendor = connection.vendor
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "?"
    command = " ".join(["python -m bench.marketing_journeys", *sys.argv[1:]])
    lines = [
        f"## {vendor}",
        "",
        f"- command: `{'DATABASE_URL=… ' if vendor == 'postgresql' else 'VEFA_DATA_DIR=… '}"
        f"{command}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load `{load}` at the end",
        f"- data: {args.customers:,} customers, {facts['points entries']:,} points entries; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in build_times.items()),
        f"- enrolled per day: {facts['enrolled per day']}, steps per day: {facts['steps per day']}",
        f"- expiry: {facts['expiry customers']:,} customers' points written off in "
        f"{facts['expiry s']:.1f} s; run again: {facts['expiry again customers']} in "
        f"{facts['expiry again s']:.1f} s",
        "",
        "| scenario | n | p50 ms | p95 ms | max ms | target p95 | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, values in samples.items():
        p50, p95, worst = _percentiles(values)
        target = TARGETS_MS[name]
        lines.append(
            f"| {name} | {len(values)} | {p50:.1f} | {p95:.1f} | {worst:.1f} | {target:.0f} | "
            f"{'yes' if p95 <= target else 'no'} |"
        )
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Journeys and loyalty points\n\n"
    head, marker, rest = text.partition(f"## {vendor}\n")
    if marker:
        following = rest.find("\n## ")
        rest = rest[following + 1 :] if following >= 0 else ""
        text = head + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _setup()
    build_times = build(args.customers, args.seed)
    samples, facts = measure(args.seed)
    print(write(args, build_times, samples, facts))


if __name__ == "__main__":
    main()
