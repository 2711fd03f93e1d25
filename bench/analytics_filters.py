"""Benchmark of the customer list filtered by analytic attributes (page and API).

    # the database: any one filled by `vefa bench-data` (see bench/README.md)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench vefa bench-data --customers 1000000

    # every customer gets a score, then the list is measured
    DATABASE_URL=… python -m bench.analytics_filters scores [--seed 1]
    DATABASE_URL=… python -m bench.analytics_filters run [--rounds 5] [--explain]

``scores`` replaces the ``analytics_customerscore`` table with one row per customer, drawn
deterministically from ``--seed`` with shares like a real customer base (a fifth in value
class A, one in seven at high churn risk, RFM segments from 3 % "cannot lose them" to 13 %
"hibernating", R and F scores as quintiles, CLV log-normal, P(alive) Beta(2, 2)), in one
bulk write (PostgreSQL ``COPY``; SQLite ``executemany``), then gathers the planner's
statistics as a running installation has them.

``run`` requests ``/customers/`` and ``GET /api/v1/customers?limit=100`` filtered by each
analytic attribute (RFM segment, R and F score, ladder step, value class, churn risk,
declining, overdue, CLV at least, P(alive) below, two combined, a deep keyset page) as an
administrator (every customer) and as a sales rep (one team's), through Django's test
client: one warm-up pass, then ``--rounds`` passes; p50/p95/max per filter and user. The
target is a p95 of 100 ms. ``--explain`` prints the slowest queries of every request that
misses it with their plans. Figures go to ``bench/results/analytics-filters.md`` (the
section of the database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "analytics-filters.md"
TARGET_MS = 100.0
BATCH = 50_000

SEGMENTS = {
    "champions": 0.08,
    "loyal": 0.10,
    "potential_loyalists": 0.10,
    "new": 0.07,
    "promising": 0.06,
    "need_attention": 0.09,
    "about_to_sleep": 0.10,
    "at_risk": 0.12,
    "cannot_lose": 0.03,
    "hibernating": 0.13,
    "lost": 0.12,
}
STEPS = {"one_time": 0.45, "occasional": 0.30, "regular": 0.18, "loyal": 0.07}
CLASSES = {"A": 0.20, "B": 0.30, "C": 0.50}
RISKS = {"low": 0.55, "medium": 0.31, "high": 0.14}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- the scores -----------------------------------------------------------------------------


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()))
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]


def score_rows(ids: np.ndarray, seed: int) -> Iterator[tuple[Any, ...]]:
    """One row per customer id in the scores table's column order (``services.DB_COLUMNS``),
    drawn from ``seed`` (vectorised)."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    today = datetime.date.today()
    computed_at = datetime.datetime.now(datetime.UTC)
    segment, previous_segment = _choice(rng, SEGMENTS, n), _choice(rng, SEGMENTS, n)
    step, previous_step = _choice(rng, STEPS, n), _choice(rng, STEPS, n)
    value_class, risk = _choice(rng, CLASSES, n), _choice(rng, RISKS, n)
    r_score, f_score, m_score = (rng.integers(1, 6, n) for _ in range(3))
    frequency = rng.geometric(0.35, n)
    monetary = np.round(rng.lognormal(7.0, 1.2, n), 2)
    margin = np.round(monetary * rng.uniform(-0.1, 0.4, n), 2)
    clv = np.round(rng.lognormal(7.5, 1.5, n), 2)
    p_alive = np.round(rng.beta(2.0, 2.0, n), 6)
    expected = np.round(rng.gamma(1.5, 1.0, n), 4)
    declining = rng.random(n) < 0.20
    overdue = rng.random(n) < 0.25
    wallet = np.where(rng.random(n) < 0.4, np.round(rng.random(n), 4), np.nan)
    last_days = rng.integers(0, 730, n)
    for i in range(n):
        reasons = {
            "orders_last_12m": int(frequency[i]),
            "orders_prev_12m": int(frequency[i] + (3 if declining[i] else 0)),
            "value_rank": i + 1,
        }
        yield (
            int(ids[i]),
            None,
            computed_at,
            "TRY",
            today - datetime.timedelta(days=int(last_days[i])),
            int(frequency[i]),
            float(monetary[i]),
            int(r_score[i]),
            int(f_score[i]),
            int(m_score[i]),
            segment[i],
            previous_segment[i],
            step[i],
            previous_step[i],
            value_class[i],
            float(monetary[i]),
            float(margin[i]),
            float(clv[i]),
            float(p_alive[i]),
            float(expected[i]),
            bool(declining[i]),
            bool(overdue[i]),
            risk[i],
            None if np.isnan(wallet[i]) else float(wallet[i]),
            "[]",
            json.dumps(reasons),
        )


def make_scores(seed: int) -> dict[str, float]:
    """Replace every score with a generated one per customer; returns seconds per phase."""
    from django.db import connection, transaction

    from vefa.analytics.models import CustomerScore
    from vefa.analytics.services import DB_COLUMNS as COLUMNS
    from vefa.customers.models import Customer

    table = CustomerScore._meta.db_table
    figures: dict[str, float] = {}
    started = time.perf_counter()
    ids = np.fromiter(Customer.objects.order_by("pk").values_list("pk", flat=True), np.int64)
    figures["customers"] = float(len(ids))
    figures["read ids"] = time.perf_counter() - started
    started = time.perf_counter()
    rows = score_rows(ids, seed)
    with transaction.atomic(), connection.cursor() as cursor:
        # Bench data only: the table is emptied and written in one go.
        cursor.execute(f"DELETE FROM {table}")
        if connection.vendor == "postgresql":
            columns = ", ".join(COLUMNS)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
    figures["write"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}" if connection.vendor == "postgresql" else "ANALYZE")
    figures["statistics"] = time.perf_counter() - started
    return figures


# --- the measurements -----------------------------------------------------------------------


def _cases(admin: Any, rep: Any) -> list[tuple[Any, str, str]]:
    """(user, label, query string) for every filter, as an administrator and as a rep."""
    from decimal import Decimal

    from django.db.models import Q

    from bench.scenarios import _middle_cursor
    from vefa.accounts.access import restrict
    from vefa.customers.models import Customer

    clv_top = _clv_quantile(Decimal("0.99"))
    filters = [
        # The list without an analytic filter: the reference on the same machine and load.
        ("no analytic filter (reference)", ""),
        ("RFM segment at risk", "rfm_segment=at_risk"),
        ("RFM segment cannot lose (3 %)", "rfm_segment=cannot_lose"),
        ("R score 1", "r_score=1"),
        ("F score 5", "f_score=5"),
        ("ladder step loyal", "ladder_step=loyal"),
        ("value class A", "value_class=A"),
        ("churn risk high", "churn_risk=high"),
        ("declining", "declining=true"),
        ("not overdue", "overdue=false"),
        ("CLV at least (top 1 %)", f"clv_min={clv_top}"),
        ("P(alive) below 0.05", "p_alive_below=0.05"),
        ("class A and high risk", "value_class=A&churn_risk=high"),
        ("high risk, newest first", "churn_risk=high&sort=-created"),
    ]
    cases: list[tuple[Any, str, str]] = []
    for user in (admin, rep):
        for label, query in filters:
            cases.append((user, label, query))
        visible = restrict(Customer.objects.all(), user, "view").filter(
            Q(analytics_score__value_class="A")
        )
        cursor = _middle_cursor(visible, "name_key")
        cases.append((user, "value class A, deep page (keyset)", f"value_class=A&cursor={cursor}"))
    return cases


def _clv_quantile(share: Any) -> str:
    from vefa.analytics.models import CustomerScore

    total = CustomerScore.objects.count()
    row = CustomerScore.objects.order_by("clv").values_list("clv", flat=True)[
        int(total * float(share))
    ]
    return str(row)


def measure(rounds: int, explain: bool) -> list[dict[str, Any]]:
    from django.test import Client
    from django.urls import reverse

    from bench.explain import explain_slowest
    from bench.run import percentile
    from bench.scenarios import Call, _user
    from vefa.accounts.choices import Role
    from vefa.accounts.services import api_token_create

    admin, rep = _user(Role.ADMIN), _user(Role.SALES_REP)
    pages: dict[int, Client] = {}
    apis: dict[int, Client] = {}
    for user in (admin, rep):
        client = Client()
        client.force_login(user)
        pages[user.pk] = client
        _, key = api_token_create(actor=user, user=user, name="bench analytics filters")
        apis[user.pk] = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    page_url, api_url = reverse("customers:list"), "/api/v1/customers"
    results = []
    for user, label, query in _cases(admin, rep):
        for kind, client, url in (
            ("page", pages[user.pk], f"{page_url}?{query}"),
            ("API", apis[user.pk], f"{api_url}?{query}&limit=100"),
        ):
            samples, rows = [], 0
            for attempt in range(rounds + 1):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{url} as {user.email}: HTTP {response.status_code}")
                if attempt:  # the first pass warms caches and connections
                    samples.append(elapsed)
                elif kind == "API":
                    rows = len(response.json()["items"])
                else:  # one selection box per customer row
                    rows = response.content.decode().count('name="ids"')
            p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
            role = "admin" if user.pk == admin.pk else "rep"
            results.append(
                {
                    "role": role,
                    "label": label,
                    "kind": kind,
                    "rows": rows,
                    "p50": p50,
                    "p95": p95,
                    "max": max(samples),
                }
            )
            met = p95 <= TARGET_MS
            print(
                f"{role:<5} {kind:<4} {label:<36} rows {rows:>3}  p50 {p50:7.1f}  "
                f"p95 {p95:7.1f}  max {max(samples):7.1f} ms {'ok' if met else 'MISSED'}"
            )
            if explain and not met:
                explain_slowest(client, Call(user, url, label=label))
    return results


def _report(
    vendor: str, customers: int, scores: int, results: list[dict[str, Any]], rounds: int
) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    missed = [r for r in results if r["p95"] > TARGET_MS]
    lines = [
        f"## {vendor} — {datetime.date.today().isoformat()}",
        "",
        f"Data: {customers:,} customers (`vefa bench-data`), {scores:,} customer scores "
        "(`python -m bench.analytics_filters scores`).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; load average at the end {load:.1f}.",
        f"Command: `python -m bench.analytics_filters run --rounds {rounds}`; server time "
        "per request through Django's test client (ms); the page is `/customers/`, the API "
        f"`GET /api/v1/customers?limit=100`. Target p95 ≤ {TARGET_MS:.0f} ms: "
        f"{len(results) - len(missed)} of {len(results)} met.",
        "",
        "| user | filter | page/API | rows | p50 | p95 | max | met |",
        "|---|---|---|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['role']} | {r['label']} | {r['kind']} | {r['rows']} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['max']:.1f} | {'yes' if r['p95'] <= TARGET_MS else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def _write_section(vendor: str, section: str) -> None:
    """Replace this database's section of the results file, keeping the other's."""
    title = "# Benchmark: the customer list filtered by analytic attributes\n\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else title
    parts = text.split("\n## ")
    head, sections = parts[0], [f"## {p}" for p in parts[1:]]
    sections = [s for s in sections if not s.startswith(f"## {vendor} ")] + [section]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        head.rstrip("\n") + "\n\n" + "\n".join(s.rstrip("\n") + "\n" for s in sections),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_filters")
    parser.add_argument("command", choices=["scores", "run"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="plans of slow requests")
    options = parser.parse_args(argv)
    _setup()
    from django.db import connection

    from vefa.analytics.models import CustomerScore
    from vefa.customers.models import Customer

    if options.command == "scores":
        figures = make_scores(options.seed)
        print(
            f"{connection.vendor}: {int(figures['customers']):,} scores written: read ids "
            f"{figures['read ids']:.1f} s, write {figures['write']:.1f} s, statistics "
            f"{figures['statistics']:.1f} s"
        )
        return 0
    customers, scores = Customer.objects.count(), CustomerScore.objects.count()
    print(f"{connection.vendor}: {customers:,} customers, {scores:,} scores")
    if scores == 0:
        raise SystemExit("no scores: run `python -m bench.analytics_filters scores` first")
    from django.core.management import call_command

    # Pages link their static files through the manifest, as under ``vefa serve``.
    call_command("collectstatic", interactive=False, verbosity=0)
    results = measure(options.rounds, options.explain)
    _write_section(
        connection.vendor, _report(connection.vendor, customers, scores, results, options.rounds)
    )
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
