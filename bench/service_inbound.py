"""Benchmark of inbound e-mail: raw messages parsed, threaded and stored, end to end.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-service-inbound python -m bench.service_inbound

    # PostgreSQL (database vefa_bench_service_inbound, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_service_inbound \
        python -m bench.service_inbound

The script migrates an empty database, creates 12 agents in two teams with a queue each (one
address per queue), ``--customers`` customers with an e-mail address (a fifth of them through
a contact point only, a tenth of the people working at an organisation), then generates
``--messages`` realistic raw messages the way mail clients write them:

- about 55 % new conversations, 35 % replies to an earlier message of the run (In-Reply-To
  and References, a quoted previous message to trim), 3 % replies by ticket reference only;
- subjects and bodies in Turkish, Serbian (Latin, Cyrillic), Persian and English, in UTF-8,
  windows-1254/1250/1251 and ISO-8859-9, base64 or quoted-printable;
- 15 % multipart/alternative with HTML, 5 % HTML only; 15 % with a PDF or PNG attachment;
- 5 % from unknown senders, 2 % automatic replies, 2 % delivered twice.

The messages are taken in as the IMAP poll takes them: ``inbound_process_batch`` over
``--batch`` messages at a time (parse, deduplicate, thread, match the customer, open the
ticket or add the message with its contact-history entry and attachments, in one transaction
with a savepoint per message; commit; the search index). ``--batch 1`` takes each message in
a transaction of its own through ``inbound_process``, as the HTTP endpoint does. The rate is
messages per second of wall time over the whole run; the time of each message inside the
transaction is reported by kind, and the time until a batch is stored and indexed. Written
to ``bench/results/service-inbound.md`` (the section of the database in use is replaced).
Target from the issue: ≥ 50 messages/s.

A ``DATABASE_URL`` naming another ``vefa_bench_…`` database uses that one instead (it is
dropped and made afresh as well).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import platform
import quopri
import random
import resource
import struct
import sys
import time
import zlib
from email.header import Header
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.setup import is_pg, percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "service-inbound.md"
PG_NAME = "vefa_bench_service_inbound"
# Messages per transaction by default: what the IMAP poll commits at once.
BATCH = 50


def pg_name() -> str:
    """The PostgreSQL database: the one named in ``DATABASE_URL`` when it is a benchmark's own
    (``vefa_bench_…``; it is dropped and made afresh), else ``PG_NAME``."""
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_") else PG_NAME


SUBJECTS = [
    ("Siparişim hâlâ gelmedi", "utf-8", "tr"),
    ("Fatura adresi düzeltme - Eskişehir", "iso-8859-9", "tr"),
    ("İade talebi: kırık ürün", "windows-1254", "tr"),
    ("Reklamacija: oštećen paket", "windows-1250", "sr"),
    ("Рекламација — још увек чекам", "windows-1251", "sr"),
    ("شکایت درباره سفارش", "utf-8", "fa"),
    ("Question about my invoice", "us-ascii", "en"),
]
BODIES = {
    "tr": "Merhaba,\n\nSiparişim {n} numaralı, hâlâ teslim edilmedi. Kargo takip numarası "
    "çalışmıyor. Yardımcı olur musunuz?\n\nTeşekkürler,\n{name}\n",
    "sr": "Poštovani,\n\nPaket {n} je stigao oštećen, čaša je razbijena. Molim zamenu.\n\n"
    "Srdačan pozdrav,\n{name}\n",
    "fa": "سلام،\n\nسفارش شماره {n} من ناقص رسید. لطفاً بررسی کنید.\n\nبا تشکر\n{name}\n",
    "en": "Hello,\n\nInvoice {n} shows the wrong amount. Could you correct it?\n\n"
    "Regards,\n{name}\n",
}
QUOTE = "\nOn Mon, 2 Nov 2026 at 10:00, Vefa Support <{queue}> wrote:\n> {previous}\n"
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n" + b" " * 20_000


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    rows = b"".join(
        b"\x00" + bytes(random.Random(r).randrange(256) for _ in range(192)) for r in range(64)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def make_setup(customers: int, rng: random.Random) -> dict[str, Any]:
    from tests.factories import TeamFactory, UserFactory

    from vefa.accounts.choices import Role
    from vefa.common.text import fold
    from vefa.customers.models import ContactPoint, Customer, CustomerRelationship
    from vefa.service.models import Queue

    teams = [TeamFactory(name="Istanbul service"), TeamFactory(name="Belgrade service")]
    agents = [
        UserFactory(role=Role.SERVICE_AGENT, team=teams[i % 2], full_name=f"Agent {i}")
        for i in range(12)
    ]
    queues = [
        Queue.objects.create(
            name="Support", team=teams[0], email_address="destek@bench.example", is_default=True
        ),
        Queue.objects.create(name="Podrška", team=teams[1], email_address="podrska@bench.example"),
    ]
    first = ["Ayşe", "Đorđe", "Milica", "علی", "Şükrü", "Jovana", "Zeynep", "Emre", "Sara"]
    last = ["Yılmaz", "Čolić", "Јовановић", "رضایی", "Öztürk", "Petrović", "Kaya", "Smith"]
    rows = []
    for i in range(customers):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        rows.append(
            Customer(
                kind="person",
                display_name=name,
                name_key=fold(name),
                first_name=name.split()[0],
                last_name=name.split()[1],
                primary_email="" if i % 5 == 0 else f"customer{i}@mail{i % 50}.example",
                owner=agents[i % 12],
                team=agents[i % 12].team,
            )
        )
    Customer.objects.bulk_create(rows, batch_size=2000)
    people = list(Customer.objects.order_by("id").values_list("id", flat=True))
    points = [
        ContactPoint(
            customer_id=pk,
            kind="email",
            value=f"customer{i}@mail{i % 50}.example",
            normalized=f"customer{i}@mail{i % 50}.example",
            is_primary=True,
        )
        for i, pk in enumerate(people)
        if i % 5 == 0
    ]
    ContactPoint.objects.bulk_create(points, batch_size=2000)
    organisations = [
        Customer(kind="organisation", display_name=f"Firma {i}", name_key=f"firma {i}",
                 trade_name=f"Firma {i}", owner=agents[i % 12], team=agents[i % 12].team)
        for i in range(max(1, customers // 100))
    ]  # fmt: skip
    Customer.objects.bulk_create(organisations)
    org_ids = list(Customer.objects.filter(kind="organisation").values_list("id", flat=True))
    CustomerRelationship.objects.bulk_create(
        [
            CustomerRelationship(
                from_customer_id=pk, to_customer_id=rng.choice(org_ids), kind="works_at"
            )
            for i, pk in enumerate(people)
            if i % 10 == 3
        ],
        batch_size=2000,
    )  # fmt: skip
    return {"queues": queues, "customers": customers}


def raw_message(
    *,
    n: int,
    sender: str,
    name: str,
    to: str,
    subject: tuple[str, str, str],
    reply_to: tuple[str, str, str] | None,
    html: str,
    attachment: str,
    auto: bool,
) -> bytes:
    """One message as a mail client writes it (CRLF, encoded words, MIME parts)."""
    text, charset, language = subject
    if charset == "us-ascii":
        charset = "utf-8"
    body = BODIES[language].format(n=n, name=name)
    headers = [
        f"Date: {START + dt.timedelta(seconds=n):%a, %d %b %Y %H:%M:%S +0000}",
        f"Message-ID: <bench-{n}@mail.example>",
        f"From: {Header(name, 'utf-8').encode()} <{sender}>",
        f"To: {to}",
        "MIME-Version: 1.0",
    ]  # fmt: skip
    subject_text = text
    if reply_to is not None:
        previous_id, previous_subject, reference = reply_to
        subject_text = f"Re: {previous_subject}"
        if previous_id:
            headers += [f"In-Reply-To: {previous_id}", f"References: {previous_id}"]
        else:
            subject_text += f" {reference}"
        body += QUOTE.format(queue=to, previous=previous_subject)
    try:
        subject_text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    headers.append(f"Subject: {Header(subject_text, charset).encode()}".replace("\n", "\r\n"))
    if auto:
        headers += ["Auto-Submitted: auto-replied", "X-Autoreply: yes"]
    try:
        encoded = body.encode(charset)
    except UnicodeEncodeError:
        charset, encoded = "utf-8", body.encode()
    plain = (
        f'Content-Type: text/plain; charset="{charset}"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring(encoded.replace(b"\n", b"\r\n")).decode()
    )
    markup = (
        "<html><body>"
        + "".join(f"<p>{line}</p>" for line in body.splitlines())
        + ("<script>alert(1)</script></body></html>")
    )
    html_part = (
        'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + b64(markup.encode())
    )
    if html == "only":
        content = html_part
    elif html == "alternative":
        content = (
            'Content-Type: multipart/alternative; boundary="alt-{n}"\r\n\r\n--alt-{n}\r\n'
            + plain
            + "\r\n--alt-{n}\r\n"
            + html_part
            + "\r\n--alt-{n}--\r\n"
        ).replace("{n}", str(n))
    else:
        content = plain
    if attachment:
        data, kind, filename = (
            (PDF, "application/pdf", f"fatura-{n}.pdf")
            if attachment == "pdf"
            else (PNG, "image/png", f"fotoğraf-{n}.png")
        )
        content = (
            f'Content-Type: multipart/mixed; boundary="mix-{n}"\r\n\r\n--mix-{n}\r\n'
            + content
            + f"\r\n--mix-{n}\r\nContent-Type: {kind}\r\n"
            f"Content-Disposition: attachment; filename*=UTF-8''"
            + quote(filename)
            + "\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(data)
            + f"\r\n--mix-{n}--\r\n"
        )  # fmt: skip
    return ("\r\n".join(headers) + "\r\n" + content).encode("ascii")


def generate(count: int, env: dict[str, Any], rng: random.Random) -> list[tuple[str, bytes]]:
    """(kind, raw) pairs in delivery order; replies answer messages earlier in the list."""
    sent: list[tuple[str, str, str, int]] = []  # (message id, subject, sender, n)
    messages: list[tuple[str, bytes]] = []
    queues = [q.email_address for q in env["queues"]]
    for n in range(1, count + 1):
        roll = rng.random()
        customer = rng.randrange(env["customers"])
        sender = f"customer{customer}@mail{customer % 50}.example"
        name = f"Müşteri {customer}"
        kind = "new"
        reply_to = None
        if roll < 0.05:
            sender, name, kind = f"stranger{n}@elsewhere.example", "Nepoznat Pošiljalac", "unknown"
        elif roll < 0.40 and sent:
            previous_id, previous_subject, previous_sender, previous_n = rng.choice(sent)
            sender, kind = previous_sender, "reply"
            reply_to = (previous_id, previous_subject, "")
        elif roll < 0.43 and sent:
            previous_id, previous_subject, previous_sender, previous_n = rng.choice(sent)
            sender, kind = previous_sender, "reference"
            reply_to = ("", previous_subject, f"[T-{dt.date.today().year}-{previous_n:06d}]")
        auto = rng.random() < 0.02
        if auto:
            kind = "auto"
        subject = rng.choice(SUBJECTS)
        html_roll = rng.random()
        html = "only" if html_roll < 0.05 else "alternative" if html_roll < 0.20 else ""
        attach_roll = rng.random()
        attachment = "pdf" if attach_roll < 0.08 else "png" if attach_roll < 0.15 else ""
        raw = raw_message(
            n=n,
            sender=sender,
            name=name,
            to=rng.choice(queues),
            subject=subject,
            reply_to=reply_to,
            html=html,
            attachment=attachment,
            auto=auto,
        )
        messages.append((kind if not attachment else f"{kind}+file", raw))
        if kind in ("new", "unknown") and not auto:
            # Ticket numbers follow the order new conversations are opened.
            sent.append((f"<bench-{n}@mail.example>", subject[0], sender, len(sent) + 1))
        if rng.random() < 0.02:
            messages.append(("duplicate", raw))
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_inbound")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=20, help="untimed first messages")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        help="messages per transaction, as the IMAP poll stores them (1: one transaction a "
        "message, the HTTP endpoint's way)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    os.environ.setdefault("VEFA_DATA_DIR", "/tmp/vefa-bench-service-inbound")
    bench_setup(pg_name(), fresh=True)
    from vefa.service.models import Ticket, TicketMessage
    from vefa.service.services import email as email_services

    rng = random.Random(args.seed)
    db = "PostgreSQL" if is_pg() else "SQLite"
    batch = max(1, args.batch)
    env = make_setup(args.customers, rng)
    # Statistics as a live database has them (autovacuum), so plans are the ones it would use.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    messages = generate(args.messages, env, rng)
    size = sum(len(raw) for _k, raw in messages)
    print(f"{db}: {args.customers:,} customers; {len(messages):,} messages, {size / 1e6:.1f} MB")

    # Time spent on each message inside its transaction (a savepoint in a batch), by kind.
    per_kind: dict[str, list[float]] = {}
    kinds: list[str] = []
    deliver = email_services._deliver

    def timed(parsed: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return deliver(parsed, **kwargs)
        finally:
            per_kind.setdefault(kinds.pop(0), []).append(time.perf_counter() - t0)

    email_services._deliver = timed  # type: ignore[assignment]
    outcomes: dict[str, int] = {}
    # The first messages pay for imports and cold caches; they are taken in but not timed.
    warmup, messages = messages[: args.warmup], messages[args.warmup :]
    for kind, raw in warmup:
        kinds.append(kind)
        email_services.inbound_process(raw=raw)
    per_kind.clear()
    # Wall time from the start of a batch to its messages being committed and indexed.
    latencies: list[float] = []
    c0, w0 = cpu(), time.perf_counter()
    for start in range(0, len(messages), batch):
        chunk = messages[start : start + batch]
        kinds[:] = [kind for kind, _raw in chunk]
        t0 = time.perf_counter()
        if batch == 1:
            results = [email_services.inbound_process(raw=chunk[0][1])]
        else:
            results = email_services.inbound_process_batch([raw for _kind, raw in chunk])
        latencies.append(time.perf_counter() - t0)
        for result in results:
            outcomes[result.status] = outcomes.get(result.status, 0) + 1
    wall, used = time.perf_counter() - w0, cpu() - c0
    email_services._deliver = deliver  # type: ignore[assignment]
    rate = len(messages) / wall
    per_core = len(messages) / used
    print(
        f"{rate:.0f} messages/s ({wall:.1f} s wall, {used:.1f} s CPU: {per_core:.0f} messages "
        f"per CPU second, load {os.getloadavg()[0]:.1f}); outcomes {outcomes}"
    )
    tickets, stored = Ticket.objects.count(), TicketMessage.objects.count()

    if args.no_write:
        return 0
    load = os.getloadavg()
    flags = f" --batch {batch}" if batch != BATCH else ""
    stored_in = (
        "One transaction a message"
        if batch == 1
        else f"Stored in transactions of {batch} messages (a savepoint each), as the IMAP poll does"
    )
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared; load average {load[0]:.1f}), Python "
        f"{sys.version.split()[0]}, {db}.",
        "",
        "```sh",
        (
            f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{pg_name()} "
            f"python -m bench.service_inbound{flags}"
            if is_pg()
            else "VEFA_DATA_DIR=/tmp/vefa-bench-service-inbound python -m "
            f"bench.service_inbound{flags}"
        ),
        "```",
        "",
        f"{len(messages):,} timed raw messages (of {size / 1e6:.1f} MB in all) against "
        f"{args.customers:,} customers: {outcomes.get('created', 0):,} opened a ticket, "
        f"{outcomes.get('threaded', 0):,} threaded into one, "
        f"{outcomes.get('duplicate', 0):,} duplicates and {outcomes.get('ignored', 0):,} "
        f"automatic replies were recognised. Stored: {tickets:,} tickets, {stored:,} messages.",
        "",
        f"**{rate:.0f} messages/s** end to end in wall time ({wall:.1f} s); the process used "
        f"{used:.1f} s of CPU, {used / len(messages) * 1000:.1f} ms per message, i.e. "
        f"**{per_core:.0f} messages per CPU second** (the rate of this process on one unshared "
        f"core). {stored_in}; until stored and indexed: p50 "
        f"{percentile(latencies, 0.5) * 1000:.0f} ms, p95 "
        f"{percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms. "
        f"{args.warmup} untimed messages first. Target: ≥ 50 messages/s.",
        "",
        "Time of a message inside its transaction (savepoint), by kind:",
        "",
        "| kind | messages | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in sorted(per_kind):
        times = per_kind[kind]
        lines.append(
            f"| {kind} | {len(times):,} | {percentile(times, 0.5) * 1000:.1f} | "
            f"{percentile(times, 0.95) * 1000:.1f} | {max(times) * 1000:.1f} |"
        )
    lines.append("")
    write_report(db, "\n".join(lines))
    print(f"written to {RESULTS}")
    return 0


def write_report(db: str, text: str) -> None:
    header = (
        "# Inbound e-mail: messages parsed, threaded and stored\n\n"
        "Measured by `bench/service_inbound.py`. Target from the issue: inbound e-mail "
        "≥ 50 messages/s parsed, threaded and stored.\n"
    )
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    marker = f"\n## {db}\n"
    if marker in existing:
        before, _, after = existing.partition(marker)
        rest = after.find("\n## ")
        existing = before + (after[rest:] if rest >= 0 else "")
    RESULTS.write_text(existing.rstrip("\n") + "\n" + marker + text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
