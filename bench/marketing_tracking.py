"""Benchmark of the public message endpoints: click redirect and unsubscribe.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-marketing-tracking python -m bench.marketing_tracking

    # PostgreSQL (database vefa_bench_marketing_tracking, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_marketing_tracking \
        python -m bench.marketing_tracking

The script migrates an empty database and writes ``--recipients`` recipients of a sent
campaign (customers with e-mail consent) and its four links. Each endpoint is requested
through Django's test client (the server's time: routing, middleware, view, queries; no
network), ``--requests`` times with recipients picked at random, after 20 warm-up requests:

- **click**: ``GET /marketing/r/<token>/<link>/<signature>/`` — signature checked, the
  click counted on the link, the recipient's first click and its event recorded, 302;
- **one-click unsubscribe**: ``POST /marketing/u/<token>/one-click/`` with
  ``List-Unsubscribe=One-Click`` — suppression, withdrawn consent, event and contact
  history written, 200 (each request a recipient not yet unsubscribed);
- **unsubscribe page**: ``GET /marketing/u/<token>/`` — the confirmation page.

p50/p95/max against the target of the issue (p95 ≤ 20 ms for click and unsubscribe),
with the machine's load. Written to ``bench/results/marketing-tracking.md`` (the section of
the database in use is replaced).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from bench.setup import is_pg, percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "marketing-tracking.md"
PG_NAME = "vefa_bench_marketing_tracking"
TARGET_MS = 20.0


def pg_name() -> str:
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


def build(recipients: int) -> tuple[list[str], list[int]]:
    from django.utils import timezone

    from vefa.accounts.choices import Role
    from vefa.accounts.models import User
    from vefa.common.text import fold
    from vefa.customers.models import Consent, Customer
    from vefa.marketing.models import Campaign, CampaignLink, CampaignRecipient
    from vefa.marketing.rendering import url_hash
    from vefa.marketing.services.sending import new_token

    admin = User.objects.create_user(
        email="bench-admin@bench.example", full_name="Bench Admin", role=Role.ADMIN
    )
    now = timezone.now()
    customers = [
        Customer(
            kind="person",
            first_name="Ayşe",
            last_name=f"Yılmaz {n}",
            display_name=f"Ayşe Yılmaz {n}",
            name_key=fold(f"Ayşe Yılmaz {n}"),
            primary_email=f"customer{n}@mail.example",
            language="tr",
        )
        for n in range(recipients)
    ]
    Customer.objects.bulk_create(customers, batch_size=2000)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    Consent.objects.bulk_create(
        [
            Consent(
                customer_id=pk,
                channel="email",
                purpose="marketing",
                status="granted",
                source="bench",
                text_version="1",
                recorded_at=now,
            )
            for pk in ids
        ],
        batch_size=2000,
    )
    campaign = Campaign.objects.create(
        name="Spring sale", objective="retention", owner=admin, status="completed"
    )
    links = []
    for n in range(4):
        url = f"https://shop.example/page{n}?utm_source=email"
        links.append(
            CampaignLink.objects.create(campaign=campaign, url=url, url_hash=url_hash(url)).pk
        )
    tokens = [new_token() for _ in ids]
    CampaignRecipient.objects.bulk_create(
        [
            CampaignRecipient(
                campaign=campaign,
                customer_id=pk,
                status="sent",
                token=token,
                address=f"customer{n}@mail.example",
                sent_at=now,
                claimed_at=now,
            )
            for n, (pk, token) in enumerate(zip(ids, tokens, strict=True))
        ],
        batch_size=2000,
    )
    return tokens, links


def measure(name: str, calls: list[Any]) -> dict[str, Any]:
    times = []
    statuses: set[int] = set()
    for call in calls:
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    times.sort()
    return {
        "name": name,
        "n": len(times),
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "max": times[-1],
        "statuses": sorted(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    bench_setup(pg_name(), fresh=True)
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from vefa.marketing.rendering import link_signature

    rng = random.Random(args.seed)
    started = time.perf_counter()
    tokens, links = build(args.recipients)
    print(f"data: {time.perf_counter() - started:.1f} s", flush=True)
    client = Client()

    def click(token: str) -> Any:
        link = rng.choice(links)
        path = reverse(
            "marketing:track_click",
            kwargs={"token": token, "link_id": link, "signature": link_signature(token, link)},
        )
        return lambda: client.get(path)

    def one_click(token: str) -> Any:
        path = reverse("marketing:unsubscribe_one_click", kwargs={"token": token})
        return lambda: client.post(path, {"List-Unsubscribe": "One-Click"})

    def page(token: str) -> Any:
        path = reverse("marketing:unsubscribe", kwargs={"token": token})
        return lambda: client.get(path)

    sample = rng.sample(tokens, min(len(tokens), args.requests * 2 + 40))
    for token in sample[:20]:
        click(token)()
        page(token)()
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    rows = [
        measure("click", [click(rng.choice(tokens)) for _ in range(args.requests)]),
        measure("unsubscribe page", [page(rng.choice(tokens)) for _ in range(args.requests)]),
        measure(
            "one-click unsubscribe",
            [one_click(token) for token in sample[20 : 20 + args.requests]],
        ),
    ]
    load1 = Path("/proc/loadavg").read_text().split()[:3]
    for row in rows:
        print(row, flush=True)

    database = "PostgreSQL" if is_pg() else "SQLite"
    command = " ".join(
        [
            *(
                [f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{pg_name()}"]
                if is_pg()
                else ["VEFA_DATA_DIR=/tmp/vefa-bench-marketing-tracking"]
            ),
            "python -m bench.marketing_tracking",
            *sys.argv[1:],
        ]
    )
    lines = [
        f"## {database}",
        "",
        f"`{command}`",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {connection.vendor}; Django's test client in-process",
        f"- load average before / after: {' '.join(load0)} / {' '.join(load1)}",
        f"- {args.recipients:,} recipients, {args.requests:,} requests per endpoint",
        "",
        "| endpoint | requests | statuses | p50 ms | p95 ms | max ms | target p95 |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        target = (
            f"≤ {TARGET_MS:.0f} ms: {'met' if row['p95'] <= TARGET_MS else 'not met'}"
            if row["name"] != "unsubscribe page"
            else "—"
        )
        lines.append(
            f"| {row['name']} | {row['n']} | {', '.join(map(str, row['statuses']))} | "
            f"{row['p50']:.1f} | {row['p95']:.1f} | {row['max']:.1f} | {target} |"
        )
    _write(database, "\n".join(lines) + "\n")


def _write(database: str, section: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    head = "# Click and unsubscribe endpoints\n\nWritten by `bench/marketing_tracking.py`.\n\n"
    text = RESULTS.read_text() if RESULTS.exists() else head
    pattern = re.compile(rf"## {database}\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(section.rstrip() + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


if __name__ == "__main__":
    main()
