"""Time of the campaign report and the marketing dashboard on a campaign of 100,000 recipients.

    VEFA_DATA_DIR=/tmp/vefa-mkt-bench python -m bench.marketing_reports [--recipients 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_mkt_bench python -m bench.marketing_reports

The script builds its own data the first time (customers, one completed A/B campaign with
a 10 % control group, responses, conversions with revenue, cost lines in two currencies, and
twenty smaller campaigns on three channels for the dashboard) and measures, once to warm up
and then ``--rounds`` times, p50/p95/max of:

- **report figures**: ``campaign_report`` (the aggregates of the whole campaign and per
  variant, the cost lines converted);
- **report page**: ``/marketing/campaigns/<id>/report/`` through Django's test client;
- **dashboard**: ``/marketing/`` with the cache emptied before each request;
- **progress**: ``/marketing/campaigns/<id>/progress/`` (the poll while sending).

Target (ours; the issue sets none for reports): p95 ≤ 500 ms for the report page and the
dashboard, ≤ 100 ms for the progress poll, at 100,000 recipients. Results go to
``bench/results/marketing-reports.md`` with the command and the machine load.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import secrets
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "marketing-reports.md"
NAME = "Bench: spring win-back"
TARGETS = {"report figures": 500.0, "report page": 500.0, "dashboard": 500.0, "progress": 100.0}


def build(recipients: int) -> None:
    from django.utils import timezone

    from vefa.accounts.choices import Role
    from vefa.accounts.models import Team, User
    from vefa.common.text import fold
    from vefa.customers.models import Customer
    from vefa.marketing.models import (
        Campaign,
        CampaignCost,
        CampaignRecipient,
        CampaignVariant,
        MessageTemplate,
    )
    from vefa.sales.models import ExchangeRate

    rng = random.Random(6)
    now = timezone.now()
    team, _ = Team.objects.get_or_create(name="Bench marketing")
    admin = User.objects.filter(email="bench-marketing@vefa.example").first()
    if admin is None:
        admin = User.objects.create_user(
            email="bench-marketing@vefa.example",
            password=secrets.token_urlsafe(16),
            full_name="Bench Marketer",
            role=Role.ADMIN,
            team=team,
        )
    have = Customer.objects.count()
    batch: list[Customer] = []
    for i in range(have, recipients):
        name = f"Bench Customer {i}"
        batch.append(
            Customer(
                kind="person",
                first_name="Bench",
                last_name=str(i),
                display_name=name,
                name_key=fold(name),
                lifecycle_stage="customer",
                stage_changed_at=now,
                primary_email=f"b{i}@bench.example",
            )
        )
        if len(batch) == 5000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)
    ExchangeRate.objects.get_or_create(
        currency="EUR",
        quote_currency="TRY",
        day=(now - datetime.timedelta(days=400)).date(),
        defaults={"rate": Decimal("40")},
    )
    template = MessageTemplate.objects.create(name="Bench", owner=admin, team=team)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:recipients])

    def campaign(name: str, channel: str, size: int, start: datetime.datetime) -> None:
        c = Campaign.objects.create(
            name=name,
            objective="win_back",
            channel=channel,
            status="completed",
            owner=admin,
            team=team,
            started_at=start,
            finished_at=start,
            audience_drawn_at=start,
            currency="TRY",
            control_percent=10,
        )
        variants = [
            CampaignVariant.objects.create(campaign=c, code=code, template=template, weight=50)
            for code in ("A", "B")
        ]
        rows: list[CampaignRecipient] = []
        for pk in rng.sample(ids, size):
            if rng.random() < 0.1:
                rows.append(
                    CampaignRecipient(
                        campaign=c, customer_id=pk, status="control", token=secrets.token_hex(16)
                    )
                )
                continue
            sent = start + datetime.timedelta(seconds=rng.randint(0, 3600))
            row = CampaignRecipient(
                campaign=c,
                customer_id=pk,
                variant=rng.choice(variants),
                status="sent",
                token=secrets.token_hex(16),
                sent_at=sent,
                delivered_at=sent,
            )
            if rng.random() < 0.08:
                row.clicked_at = sent
            if rng.random() < 0.03:
                row.converted_at = sent + datetime.timedelta(days=2)
                row.revenue = Decimal(rng.randint(100, 5000))
            rows.append(row)
            if len(rows) >= 5000:
                CampaignRecipient.objects.bulk_create(rows)
                rows = []
        CampaignRecipient.objects.bulk_create(rows)
        CampaignCost.objects.create(
            campaign=c,
            incurred_on=start.date(),
            description="Agency",
            amount=Decimal("45000"),
            currency="TRY",
        )
        CampaignCost.objects.create(
            campaign=c,
            incurred_on=start.date(),
            description="Delivery",
            amount=Decimal("400"),
            currency="EUR",
        )

    campaign(NAME, "email", recipients, now - datetime.timedelta(days=60))
    for k in range(20):
        campaign(
            f"Bench campaign {k}",
            ("email", "sms", "letter")[k % 3],
            max(1000, recipients // 50),
            now - datetime.timedelta(days=5 + 10 * k),
        )


def measure(fn: Any, rounds: int) -> list[float]:
    fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from vefa.accounts.models import User
    from vefa.marketing.models import Campaign
    from vefa.marketing.selectors.reports import campaign_report

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not Campaign.objects.filter(name=NAME).exists():
        started = time.perf_counter()
        build(args.recipients)
        print(f"built the data in {time.perf_counter() - started:.0f} s")
    campaign = Campaign.objects.get(name=NAME)
    admin = User.objects.get(email="bench-marketing@vefa.example")
    client = Client()
    client.force_login(admin)
    report_url = reverse("marketing:campaign_report", args=[campaign.pk])
    progress_url = reverse("marketing:campaign_progress", args=[campaign.pk])

    def page(url: str, *, clear: bool = False) -> Any:
        def run() -> None:
            if clear:
                cache.clear()
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    results = {
        "report figures": measure(
            lambda: campaign_report(actor=admin, campaign=campaign), args.rounds
        ),
        "report page": measure(page(report_url), args.rounds),
        "dashboard": measure(
            page(reverse("marketing:dashboard") + "?period=all", clear=True), args.rounds
        ),
        "progress": measure(page(progress_url), args.rounds),
    }
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "?"
    vendor = connection.vendor
    lines = [
        f"## {vendor} — {datetime.date.today().isoformat()}",
        "",
        f"Command: `{'DATABASE_URL=…' if vendor == 'postgresql' else 'VEFA_DATA_DIR=…'} "
        f"python -m bench.marketing_reports --recipients {args.recipients} "
        f"--rounds {args.rounds}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]};"
        f" load at the end of the run (`cat /proc/loadavg`): {load}",
        "",
        "| scenario | p50 ms | p95 ms | max ms | target p95 | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, times in results.items():
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        lines.append(
            f"| {name} | {statistics.median(ordered):.0f} | {p95:.0f} | {ordered[-1]:.0f} | "
            f"{TARGETS[name]:.0f} | {'yes' if p95 <= TARGETS[name] else 'no'} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    previous = RESULTS.read_text() if RESULTS.exists() else "# Campaign report and dashboard\n\n"
    RESULTS.write_text(previous.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
