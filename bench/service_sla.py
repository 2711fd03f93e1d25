"""Benchmark of the periodic SLA evaluation over 100,000 open tickets.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-service-sla python -m bench.service_sla

    # PostgreSQL (database vefa_bench_service_sla, dropped and created afresh; another
    # name starting with vefa_bench_sla may be given, e.g. for a second copy)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_service_sla \
        python -m bench.service_sla

The script migrates an empty database, creates 40 agents in 4 teams, a queue per team (two on
an Istanbul office calendar with holidays, one in Belgrade, one around the clock), three SLA
policies with escalation, and ``--open`` open tickets plus ``--closed`` resolved ones with
``bulk_create``. Open tickets were opened at random over the last ``--days`` days; their due
and warning instants are computed with the queue's business clock as ``sla_start`` does, and
60 % have had their first response.

Then it times ``sla_evaluate``:

1. **catch-up**: the first run at "now" finds every warning and breach that fell due while
   no evaluation ran (tens of thousands of tickets at once, each marked, notified — one
   digest per recipient and event above ``DIGEST_AFTER`` tickets — and escalated);
2. **backlog**: ``--minutes`` runs one minute apart, as the periodic job runs them, while
   the reassignments the catch-up left (``REASSIGN_PER_RUN`` a run) are worked off;
3. **steady state**: the backlog drained (untimed, the caps lifted for one run), then
   ``--minutes`` more runs one minute apart;
4. **again**: the last minute once more, which must change and notify nothing.

An e-mail server is configured (``EMAIL_HOST``, nothing is sent: no worker runs), so the
notices' e-mails are queued as background tasks as in production.

On PostgreSQL the ticket table is vacuumed after the build (as a table in use is), so that
autovacuum does not run through it during the timed runs.

Figures are printed and written to ``bench/results/service-sla.md`` (the section of the
database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "service-sla.md"
PG_NAME = "vefa_bench_service_sla"
BATCH = 5000


def pg_name() -> str:
    """The database named in ``DATABASE_URL`` when it is one of this script's (it is dropped)."""
    name = os.environ.get("DATABASE_URL", "").rpartition("/")[2]
    return name if name.startswith("vefa_bench_sla") else PG_NAME


def ticket_indexes() -> tuple[int, float]:
    """How many indexes the ticket table has and their size in MB (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*), coalesce(sum(pg_relation_size(indexrelid)), 0) "
                "FROM pg_index WHERE indrelid = 'service_ticket'::regclass"
            )
            count, size = cursor.fetchone()
            return int(count), size / 2**20
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
            ["service_ticket"],
        )
        return int(cursor.fetchone()[0]), 0.0


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_setup() -> dict[str, Any]:
    from tests.factories import TeamFactory, UserFactory

    from vefa.accounts.choices import Role
    from vefa.service.choices import EscalationAction
    from vefa.service.models import BusinessCalendar, Holiday, Queue, SlaPolicy

    teams = [TeamFactory(name=f"Service {i}") for i in range(4)]
    agents = [
        UserFactory(role=Role.SERVICE_AGENT, team=teams[i % 4], full_name=f"Agent {i}")
        for i in range(40)
    ]
    lead = UserFactory(role=Role.ADMIN, team=teams[0], full_name="Head of service")
    office = {str(d): [["09:00", "12:30"], ["13:30", "18:00"]] for d in range(1, 6)}
    istanbul = BusinessCalendar.objects.create(
        name="Istanbul", time_zone="Europe/Istanbul", hours=office
    )
    for day in ("2026-01-01", "2026-04-23", "2026-05-01", "2026-10-29", "2027-01-01"):
        Holiday.objects.create(calendar=istanbul, date=day, name=day)
    belgrade = BusinessCalendar.objects.create(
        name="Belgrade",
        time_zone="Europe/Belgrade",
        hours={str(d): [["08:00", "16:00"]] for d in range(1, 6)},
    )
    queues = [
        Queue.objects.create(name="Support", team=teams[0], calendar=istanbul),
        Queue.objects.create(name="Complaints", team=teams[1], calendar=istanbul),
        Queue.objects.create(name="Belgrade", team=teams[2], calendar=belgrade),
        Queue.objects.create(name="Around the clock", team=teams[3]),
    ]
    policies = {
        "": SlaPolicy.objects.create(
            name="Standard", first_response_minutes=240, resolution_minutes=2400
        ),
        "high": SlaPolicy.objects.create(
            name="High",
            priority="high",
            first_response_minutes=120,
            resolution_minutes=960,
            escalate_to=lead,
        ),
        "urgent": SlaPolicy.objects.create(
            name="Urgent",
            priority="urgent",
            first_response_minutes=30,
            resolution_minutes=240,
            escalation=EscalationAction.REASSIGN,
            escalate_to=lead,
        ),
    }
    return {"teams": teams, "agents": agents, "queues": queues, "policies": policies}


def make_tickets(env: dict[str, Any], *, now: dt.datetime, args: argparse.Namespace) -> float:
    from vefa.service.choices import SlaState, TicketStatus
    from vefa.service.models import Ticket
    from vefa.service.sla import BusinessClock, clock_for_calendar

    rng = random.Random(args.seed)
    clocks = [
        clock_for_calendar(q.calendar) if q.calendar else BusinessClock(None) for q in env["queues"]
    ]
    agents_by_team: dict[int, list[Any]] = {}
    for agent in env["agents"]:
        agents_by_team.setdefault(agent.team_id, []).append(agent)
    began = time.perf_counter()
    span = args.days * 86400
    batch: list[Ticket] = []

    def flush() -> None:
        Ticket.objects.bulk_create(batch, batch_size=1000)
        batch.clear()

    total = args.open + args.closed
    for i in range(total):
        number = i + 1
        q = rng.randrange(4)
        queue, clock = env["queues"][q], clocks[q]
        priority = rng.choices(["low", "normal", "high", "urgent"], [20, 60, 15, 5])[0]
        policy = env["policies"].get(priority, env["policies"][""])
        opened = now - dt.timedelta(seconds=rng.randrange(span))
        ticket = Ticket(
            number=f"T-2026-{number:07d}",
            subject=f"Bench ticket {number}",
            queue=queue,
            team=queue.team,
            owner=rng.choice(agents_by_team[queue.team_id]),
            priority=priority,
            status=TicketStatus.OPEN,
            sla_policy=policy,
            sla_state=SlaState.RUNNING,
            created_at=opened,
            updated_at=opened,
        )
        reserve = (100 - policy.warn_at_percent) / 100
        ticket.first_response_due_at = clock.add(opened, policy.first_response_minutes)
        ticket.resolution_due_at = clock.add(opened, policy.resolution_minutes)
        ticket.first_response_warn_at = clock.add(
            opened, policy.first_response_minutes - int(policy.first_response_minutes * reserve)
        )
        ticket.resolution_warn_at = clock.add(
            opened, policy.resolution_minutes - int(policy.resolution_minutes * reserve)
        )
        if rng.random() < 0.6:
            ticket.first_responded_at = opened + dt.timedelta(minutes=rng.randrange(5, 300))
            ticket.first_response_warn_at = None
            ticket.first_response_breached = (
                ticket.first_responded_at > ticket.first_response_due_at
            )
        if i >= args.open:
            ticket.status = TicketStatus.RESOLVED
            ticket.resolved_at = opened + dt.timedelta(hours=rng.randrange(1, 48))
            ticket.first_responded_at = ticket.first_responded_at or ticket.resolved_at
            ticket.first_response_warn_at = ticket.resolution_warn_at = None
            ticket.resolution_breached = ticket.resolved_at > ticket.resolution_due_at
            ticket.sla_state = (
                SlaState.BREACHED
                if ticket.resolution_breached or ticket.first_response_breached
                else SlaState.MET
            )
        batch.append(ticket)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return time.perf_counter() - began


def timed(now: dt.datetime) -> dict[str, Any]:
    from django.db import connection

    from vefa.service.services.sla import sla_evaluate

    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    c0, w0 = cpu(), time.perf_counter()
    with connection.execute_wrapper(count):
        counts = sla_evaluate(now=now)
    return {
        "seconds": time.perf_counter() - w0,
        "cpu": cpu() - c0,
        "queries": queries,
        "counts": counts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_sla")
    parser.add_argument("--open", type=int, default=100_000, help="open tickets")
    parser.add_argument("--closed", type=int, default=100_000, help="resolved tickets")
    parser.add_argument("--days", type=int, default=10, help="opened over the last N days")
    parser.add_argument("--minutes", type=int, default=10, help="per-minute runs to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not is_pg():
        os.environ.setdefault("VEFA_DATA_DIR", "/tmp/vefa-bench-service-sla")
    bench_setup(pg_name(), fresh=True)
    from django.conf import settings
    from django.db import connection

    from vefa.platform.models import Notification
    from vefa.service.models import Ticket

    db = "PostgreSQL" if is_pg() else "SQLite"
    # A Tuesday morning in Istanbul, in the middle of working hours.
    now = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
    env = make_setup()
    build = make_tickets(env, now=now, args=args)
    if is_pg():
        # As in a database that has been running: the rows just written vacuumed (hint bits
        # and visibility map set), so that autovacuum, which a bulk insert of this size
        # starts, does not run through the table and its indexes during the timed runs.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE service_ticket")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{db}: {args.open:,} open + {args.closed:,} resolved tickets in {build:.1f} s")
    index_count, index_mb = ticket_indexes()

    # A worker has its URLs loaded (the notices' links); loading them is not timed.
    from django.urls import reverse

    reverse("service:ticket_list")
    # Notices are e-mailed: the e-mails are queued (no worker runs, nothing is sent).
    settings.EMAIL_HOST = "smtp.bench.invalid"
    from django_tasks_db.models import DBTaskResult

    from vefa.service.services import sla as sla_module

    catch_up = timed(now)
    catch_up["emails"] = DBTaskResult.objects.count()
    print(f"catch-up: {catch_up['seconds']:.2f} s, {catch_up['counts']}")
    minutes = []
    for m in range(1, args.minutes + 1):
        run = timed(now + dt.timedelta(minutes=m))
        minutes.append(run)
        print(f"+{m} min: {run['seconds']:.3f} s, {run['counts']}")
    # Drain the reassignments left (untimed), then time the steady state.
    cap, budget = sla_module.REASSIGN_PER_RUN, sla_module.REASSIGN_AFTER_SECONDS
    sla_module.REASSIGN_PER_RUN, sla_module.REASSIGN_AFTER_SECONDS = 10**9, 10.0**9
    drain_at = now + dt.timedelta(minutes=args.minutes + 1)
    w0 = time.perf_counter()
    drained = sla_module.sla_evaluate(now=drain_at)
    drain_seconds = time.perf_counter() - w0
    sla_module.REASSIGN_PER_RUN, sla_module.REASSIGN_AFTER_SECONDS = cap, budget
    print(f"drained: {drain_seconds:.1f} s, {drained}")
    steady = []
    for m in range(1, args.minutes + 1):
        run = timed(drain_at + dt.timedelta(minutes=m))
        steady.append(run)
        print(f"steady +{m} min: {run['seconds']:.3f} s, {run['counts']}")
    last = drain_at + dt.timedelta(minutes=args.minutes)
    notices = Notification.objects.count()
    again = timed(last)
    # Nothing is marked, escalated or notified twice.
    assert not any(again["counts"].values()), again["counts"]
    assert Notification.objects.count() == notices
    print(f"again: {again['seconds']:.3f} s, {again['counts']}")
    open_count = Ticket.objects.filter(status="open").count()

    if args.no_write:
        return 0
    load = os.getloadavg()
    worst = max(minutes, key=lambda r: r["seconds"])
    worst_steady = max(steady, key=lambda r: r["seconds"])
    events = sum(
        v
        for k, v in catch_up["counts"].items()
        if k not in ("notifications", "digests", "escalations")
    )
    lines = [
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared; load average {load[0]:.1f}), Python "
        f"{sys.version.split()[0]}, {db}.",
        "",
        "```sh",
        (
            f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{pg_name()} "
            "python -m bench.service_sla"
            if is_pg()
            else "VEFA_DATA_DIR=/tmp/vefa-bench-service-sla python -m bench.service_sla"
        ),
        "```",
        "",
        f"Data: {open_count:,} open and {args.closed:,} resolved tickets (built with "
        f"`bulk_create` in {build:.0f} s), opened over {args.days} days on four queues "
        "(Istanbul office with lunch break and holidays, Belgrade office, around the clock). "
        f"The ticket table has {index_count} indexes"
        + (f" ({index_mb:.0f} MB after the build)." if is_pg() else "."),
        "",
        "| run | seconds | CPU s | queries | warnings | breaches | escalations | notices "
        "(digests) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, r: dict[str, Any]) -> str:
        c = r["counts"]
        warnings = c["first_response_warnings"] + c["resolution_warnings"]
        breaches = c["first_response_breaches"] + c["resolution_breaches"]
        return (
            f"| {name} | **{r['seconds']:.2f}** | {r['cpu']:.2f} | {r['queries']:,} | "
            f"{warnings:,} | {breaches:,} | {c['escalations']:,} | {c['notifications']:,} "
            f"({c['digests']:,}) |"
        )

    lines.append(row("catch-up (first run after the gap)", catch_up))
    for m, r in enumerate(minutes, start=1):
        lines.append(row(f"backlog +{m} min", r))
    for m, r in enumerate(steady, start=1):
        lines.append(row(f"steady +{m} min", r))
    lines.append(row("same minute again", again))
    lines += [
        "",
        f"Catch-up: {events:,} warnings and breaches at once, {catch_up['emails']:,} e-mail "
        f"tasks queued; backlog runs: worst {worst['seconds']:.3f} s; steady runs: worst "
        f"{worst_steady['seconds']:.3f} s (after draining {drained['escalations']:,} "
        f"waiting reassignments in one untimed run of {drain_seconds:.0f} s). Target: 100k "
        "open tickets ≤ 10 s.",
        "",
    ]
    write_report(db, "\n".join(lines))
    print(f"written to {RESULTS}")
    return 0


def write_report(db: str, text: str) -> None:
    header = (
        "# SLA evaluation over 100,000 open tickets\n\n"
        "Measured by `bench/service_sla.py`. Target from the issue: the SLA evaluation of "
        "100k open tickets ≤ 10 s.\n"
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
