"""Run the benchmarks: ``python -m bench.run [--rounds 5] [--explain]``.

The database is the one the settings point at (``VEFA_DATA_DIR`` for SQLite, ``DATABASE_URL``
for PostgreSQL), filled by ``vefa bench-data``. Requests go through Django's test client;
after one warm-up pass every scenario is requested ``--rounds`` times and the server time
of each sample is recorded. ``--explain`` prints the plans of the slowest queries of the
slowest request of every scenario that misses its target.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--rounds", type=int, default=5, help="passes over every scenario")
    parser.add_argument("--samples", type=int, default=40, help="customers for the 360 page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="plans of slow queries")
    parser.add_argument("--only", default="", help="run only scenarios whose name has this")
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.explain import explain_slowest
    from bench.scenarios import all_scenarios
    from vefa.customers.models import Customer

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Pages link their static files through the manifest, as under ``vefa serve``.
    call_command("collectstatic", interactive=False, verbosity=0)
    customers = Customer.objects.count()
    interactions = _count_interactions()
    print(f"{connection.vendor}: {customers:,} customers, {interactions:,} interactions")
    scenarios = [
        s for s in all_scenarios(random.Random(options.seed), options.samples)
        if options.only.lower() in s.name.lower()
    ]  # fmt: skip
    clients: dict[int, Client] = {}

    def client_for(user: Any) -> Client:
        if user.pk not in clients:
            client = Client()
            client.force_login(user)
            clients[user.pk] = client
        return clients[user.pk]

    def request(call: Any) -> float:
        client = client_for(call.user)
        started = time.perf_counter()
        response = client.get(call.path, headers=call.headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{call.path} as {call.user.email}: HTTP {response.status_code}")
        return elapsed

    rows = []
    slow_variants: list[tuple[str, str, float]] = []
    for scenario in scenarios:
        for call in scenario.calls:  # warm-up: caches, connections, compiled templates
            request(call)
        samples: list[float] = []
        by_label: dict[str, list[float]] = defaultdict(list)
        worst: tuple[float, Any] = (0.0, None)
        for _ in range(options.rounds):
            for start in range(0, len(scenario.calls), scenario.group):
                total = 0.0
                for call in scenario.calls[start : start + scenario.group]:
                    elapsed = request(call)
                    by_label[call.label].append(elapsed)
                    total += elapsed
                    if elapsed > worst[0]:
                        worst = (elapsed, call)
                samples.append(total)
        p50, p95, top = percentile(samples, 0.5), percentile(samples, 0.95), max(samples)
        met = p95 <= scenario.target_ms
        rows.append((scenario.name, scenario.target_ms, p50, p95, top, len(samples), met))
        print(f"{scenario.name:<40} p50 {p50:7.1f}  p95 {p95:7.1f}  max {top:7.1f} ms  "
              f"(target {scenario.target_ms:.0f}) {'ok' if met else 'MISSED'}")  # fmt: skip
        for label, values in sorted(by_label.items(), key=lambda i: -percentile(i[1], 0.95))[:3]:
            slow_variants.append((scenario.name, label, percentile(values, 0.95)))
        if options.explain and not met and worst[1] is not None:
            explain_slowest(client_for(worst[1].user), worst[1])
    report = _report(connection.vendor, customers, interactions, rows, slow_variants, options)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.date.today().isoformat()}-{connection.vendor}.md"
    path.write_text(report)
    print(f"\nwritten to {path}")
    return 0


def _count_interactions() -> int:
    from vefa.interactions.models import Interaction

    return Interaction.objects.count()


def _report(
    vendor: str,
    customers: int,
    interactions: int,
    rows: list[tuple[Any, ...]],
    slow: list[tuple[str, str, float]],
    options: argparse.Namespace,
) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"# Benchmarks {datetime.date.today().isoformat()} — {vendor}",
        "",
        f"Data: {customers:,} customers, {interactions:,} interactions (`vefa bench-data`).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; load average at the end {load:.1f}.",
        f"Command: `python -m bench.run --rounds {options.rounds} --samples {options.samples}`; "
        "server time per request through Django's test client (ms).",
        "",
        "| scenario | target p95 | p50 | p95 | max | samples | met |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, target, p50, p95, top, count, met in rows:
        lines.append(
            f"| {name} | {target:.0f} | {p50:.1f} | {p95:.1f} | {top:.1f} | {count} | "
            f"{'yes' if met else '**no**'} |"
        )
    lines += ["", "Slowest variants (p95 of the single request, ms):", "",
              "| scenario | variant | p95 |", "|---|---|---:|"]  # fmt: skip
    lines += [f"| {s} | {label} | {value:.1f} |" for s, label, value in slow]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
