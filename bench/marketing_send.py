"""Benchmark of campaign sending: a 100,000-recipient e-mail campaign, end to end.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-marketing-send python -m bench.marketing_send

    # PostgreSQL (database vefa_bench_marketing_send, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_marketing_send \
        python -m bench.marketing_send

The script migrates an empty database and creates ``--recipients`` customers (names in
Turkish, Serbian, Persian and English, a language each) of whom 90 % have granted e-mail
marketing consent (the rest withdrew or never gave it), 1 % with a suppressed address and
2 % already at the contact cap from an earlier campaign; a static segment holds them all.
The template has a Turkish and an English version with merge fields, a condition, four
links and the personal product block.

An SMTP server (aiosmtpd) runs on loopback in a process of its own and counts what it
receives. Measured: launching (drawing the audience, writing the recipients ledger), then
sending — the sending job's own functions (``send_with_processes`` with ``--senders``
processes, this one and helpers, or ``send_campaign`` alone with one): consent,
address, suppression and caps checked per batch, every message rendered, sanitised, its links
rewritten and signed, claimed and delivered over SMTP (one connection per batch), the results
and the contact history written in bulk — until the campaign is completed. The rate is
messages delivered per second of wall time of the send; CPU seconds of the senders (this
process and its helpers) and the machine's load are reported too. Written to
``bench/results/marketing-send.md`` (the section of the database in use is replaced).
Target from the issue: ≥ 500 messages/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "marketing-send.md"
PG_NAME = "vefa_bench_marketing_send"
TARGET = 500.0

FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John", "İlkay", "Đorđe"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk", "Şahin"]
CITIES = ["İstanbul", "Ankara", "Beograd", "Тehran", "London", "İzmir"]
LANGS = ["tr", "tr", "tr", "en", "sr", "fa"]

HTML = """<table width="100%" role="presentation"><tr><td style="padding: 16px; color: #222">
<h1 style="font-size: 20px">
{% if first_name %}Merhaba {{ first_name }}{% else %}Merhaba{% endif %}</h1>
<p>{{ city|default:"Türkiye" }} mağazamızda bahar indirimi başladı.
Puanınız: {{ points_balance }}.</p>
<ul>{% for product in products %}<li>{{ product.name }}</li>
{% empty %}<li>Yeni sezon</li>{% endfor %}</ul>
<p><a href="https://shop.example/spring">Alışverişe başla</a> ·
<a href="https://shop.example/stores">Mağazalar</a> ·
<a href="https://shop.example/app?utm_source=email">Uygulama</a></p>
<p style="font-size: 12px"><a href="{{ view_url }}">Tarayıcıda görüntüle</a> ·
<a href="{{ unsubscribe_url }}">Abonelikten çık</a></p>
</td></tr></table>"""


def pg_name() -> str:
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smtp_server(port: int, ready: Any, counter: Any, stop: Any) -> None:
    """A loopback SMTP server in its own process; ``counter`` counts accepted messages."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with counter.get_lock():
                counter.value += len(envelope.rcpt_tos)
            return "250 Message accepted"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def build(recipients: int, rng: random.Random) -> tuple[Any, int]:
    import datetime

    from django.utils import timezone

    from vefa.accounts.choices import Role
    from vefa.accounts.models import User
    from vefa.common.text import fold
    from vefa.customers.models import Consent, Customer
    from vefa.marketing.models import (
        Campaign,
        CampaignRecipient,
        CampaignVariant,
        MarketingSettings,
        MessageTemplate,
        Segment,
        SegmentMember,
        Suppression,
        TemplateVersion,
    )

    admin = User.objects.create_user(
        email="bench-admin@bench.example", full_name="Bench Admin", role=Role.ADMIN
    )
    MarketingSettings.objects.update_or_create(
        pk=1,
        defaults={
            "quiet_hours_start": datetime.time(0, 0),
            "quiet_hours_end": datetime.time(0, 0),
            "send_rate": 100_000,
            "from_email": "news@shop.example",
            "from_name": "Bahar Mağazası",
            "cap_messages": 4,
        },
    )
    now = timezone.now()
    chunk = 5000
    for start in range(0, recipients, chunk):
        rows = []
        for n in range(start, min(start + chunk, recipients)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            rows.append(
                Customer(
                    kind="person",
                    first_name=first,
                    last_name=last,
                    display_name=f"{first} {last}",
                    name_key=fold(f"{first} {last}"),
                    primary_email=f"customer{n}@mail.example",
                    city=rng.choice(CITIES),
                    language=rng.choice(LANGS),
                )
            )
        Customer.objects.bulk_create(rows, batch_size=1000)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    consents = []
    for pk in ids:
        roll = rng.random()
        if roll < 0.9:
            status = "granted"
        elif roll < 0.95:
            status = "withdrawn"
        else:
            continue
        consents.append(
            Consent(
                customer_id=pk,
                channel="email",
                purpose="marketing",
                status=status,
                source="bench",
                text_version="1",
                recorded_at=now,
            )
        )
    Consent.objects.bulk_create(consents, batch_size=2000)
    Suppression.objects.bulk_create(
        [
            Suppression(channel="email", address=f"customer{n}@mail.example", reason="manual")
            for n in rng.sample(range(recipients), recipients // 100)
        ],
        batch_size=2000,
    )
    template = MessageTemplate.objects.create(name="Spring", channel="email", owner=admin)
    TemplateVersion.objects.create(
        template=template, language="tr", subject="{{ first_name }}, bahar indirimi", body_html=HTML
    )
    TemplateVersion.objects.create(
        template=template,
        language="en",
        subject="{{ first_name }}, spring sale",
        body_html=HTML.replace("Merhaba", "Hello"),
    )
    earlier = Campaign.objects.create(
        name="Earlier", objective="retention", owner=admin, status="completed"
    )
    capped = []
    from vefa.marketing.services.sending import new_token

    for pk in rng.sample(ids, recipients // 50):
        for k in range(4):
            capped.append(
                CampaignRecipient(
                    campaign=earlier,
                    customer_id=pk,
                    occasion=str(k),
                    status="sent",
                    token=new_token(),
                    sent_at=now,
                    claimed_at=now,
                )
            )
    CampaignRecipient.objects.bulk_create(capped, batch_size=2000)
    segment = Segment.objects.create(name="Everyone", kind="static", owner=admin)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, customer_id=pk) for pk in ids], batch_size=5000
    )
    campaign = Campaign.objects.create(
        name="Spring sale", objective="retention", owner=admin, control_percent=0
    )
    campaign.segments.add(segment)
    CampaignVariant.objects.create(campaign=campaign, code="A", template=template)
    return admin, campaign.pk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--senders",
        type=int,
        default=None,
        help="sending processes (default: VEFA_MARKETING_SENDERS, else one per CPU up to 4)",
    )
    args = parser.parse_args()

    port = _free_port()
    os.environ["VEFA_EMAIL_HOST"] = "127.0.0.1"
    os.environ["VEFA_EMAIL_PORT"] = str(port)
    os.environ.setdefault("VEFA_BASE_URL", "https://crm.example")
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    counter = context.Value("q", 0)
    server = context.Process(target=smtp_server, args=(port, ready, counter, stop), daemon=True)
    server.start()
    ready.wait(30)

    bench_setup(pg_name(), fresh=True)
    from django.db import connection
    from django.db import transaction as db_transaction

    from vefa.marketing.models import Campaign, CampaignRecipient
    from vefa.marketing.services.sending import (
        campaign_launch,
        send_campaign,
        send_with_processes,
        sender_count,
    )

    senders = args.senders if args.senders is not None else sender_count()

    rng = random.Random(args.seed)
    started = time.perf_counter()
    admin, campaign_id = build(args.recipients, rng)
    built = time.perf_counter() - started
    print(f"data: {built:.1f} s", flush=True)

    # The job is queued in the database; this process runs it below, as the worker would.
    started = time.perf_counter()
    with db_transaction.atomic():
        campaign_launch(actor=admin, campaign_id=campaign_id)
    launch = time.perf_counter() - started
    print(f"launch: {launch:.1f} s", flush=True)

    # A worker that sends has its URL configuration loaded (links are reversed); load it
    # here too so its import is not part of the measured send.
    from django.urls import reverse

    reverse("marketing:suppression_list")
    cpu0 = time.process_time() + _children_cpu()
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    if senders > 1:
        totals = send_with_processes(campaign_id, senders=senders)
    else:
        totals = send_campaign(campaign_id)
    wall = time.perf_counter() - started
    cpu = time.process_time() + _children_cpu() - cpu0
    load1 = Path("/proc/loadavg").read_text().split()[:3]
    stop.set()
    server.join(10)
    delivered = counter.value
    campaign = Campaign.objects.get(pk=campaign_id)
    by_status = dict(
        CampaignRecipient.objects.filter(campaign_id=campaign_id)
        .values_list("status")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    )
    rate = delivered / wall if wall else 0.0
    print(f"sent {totals} delivered {delivered} in {wall:.1f} s: {rate:.0f}/s", flush=True)

    database = "PostgreSQL" if is_pg() else "SQLite"
    command = " ".join(
        [
            *(
                [f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{pg_name()}"]
                if is_pg()
                else ["VEFA_DATA_DIR=/tmp/vefa-bench-marketing-send"]
            ),
            "python -m bench.marketing_send",
            *sys.argv[1:],
        ]
    )
    section = "\n".join(
        [
            f"## {database}",
            "",
            f"`{command}`",
            "",
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {connection.vendor}",
            f"- load average before / after the send: {' '.join(load0)} / {' '.join(load1)}",
            f"- recipients: {args.recipients:,}; data built in {built:.1f} s; launch (audience "
            f"drawn, ledger written) {launch:.1f} s",
            f"- outcome: {', '.join(f'{k} {v:,}' for k, v in sorted(by_status.items()))}; "
            f"campaign {campaign.status}",
            f"- sending processes: {senders}; delivered to the SMTP server: {delivered:,} in "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU of the senders "
            f"({cpu / max(1, delivered) * 1000:.2f} ms a message)",
            f"- **rate: {rate:.0f} messages/s** (target ≥ {TARGET:.0f}: "
            f"{'met' if rate >= TARGET else 'not met'})",
            "",
        ]
    )
    _write(database, section)


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the helper senders; the SMTP server is
    still running when this is read)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _write(database: str, section: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    head = (
        "# Campaign sending: 100,000 recipients end to end\n\n"
        "Written by `bench/marketing_send.py`.\n\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else head
    pattern = re.compile(rf"## {database}\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(section.rstrip() + "\n", text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section
    )
    RESULTS.write_text(text.rstrip() + "\n")


if __name__ == "__main__":
    main()
