"""Help-desk data for the benchmark database: tickets with their conversations.

    # the benchmark database first (see bench/README.md), then
    VEFA_DATA_DIR=/tmp/vefa-bench python -m bench.service_data --tickets 500000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench python -m bench.service_data

Over the customers and staff of ``vefa bench-data``: a business calendar with Türkiye's
holidays, a queue per bench team, the demo's root-cause category tree and SLA policies, then
``--tickets`` tickets opened over the last ``--days`` days (customers drawn at random, owned
by the service agents of their queue's team, a few unassigned), each with its conversation
(the customer's message, public replies, follow-ups, sometimes an internal note), statuses,
first response and resolution times, SLA due times and breaches. Older tickets are closed;
those of the last weeks are spread over the open statuses.

Rows are written with the demo loader in batches of ``--batch`` tickets (``COPY`` on
PostgreSQL, ``executemany`` on SQLite), each batch in its own transaction. Idempotent: the
script counts the tickets already there and adds only the missing ones, so a second run does
nothing and an interrupted run continues. Ends with the planner statistics of the tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections import defaultdict
from typing import Any

import django

BATCH = 20_000
SEED = 1
CHUNK = 5_000  # ids per IN list (SQLite's limit on variables)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()


def service_setup() -> dict[str, Any]:
    """Calendar, queues per bench team, categories and SLA policies (kept if there)."""
    from vefa.accounts.choices import Role
    from vefa.accounts.models import Team, User
    from vefa.demo.service import CATEGORY_TREE, POLICIES, SEP, turkish_holidays
    from vefa.service.models import BusinessCalendar, Category, Holiday, Queue, SlaPolicy
    from vefa.service.sla import BusinessClock

    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Bench İstanbul",
        defaults={
            "time_zone": "Europe/Istanbul",
            "hours": {str(d): [["09:00", "18:00"]] for d in range(1, 6)},
        },
    )
    year = dt.date.today().year
    for y in (year - 2, year - 1, year, year + 1):
        for day, name in turkish_holidays(y):
            Holiday.objects.get_or_create(calendar=calendar, date=day, defaults={"name": name})
    teams = list(Team.objects.filter(name__startswith="Bench team").order_by("name"))
    if not teams:
        raise SystemExit("no bench teams: run `vefa bench-data` first")
    agents: dict[int, list[int]] = defaultdict(list)
    for pk, team_id in User.objects.filter(
        role=Role.SERVICE_AGENT, team__in=teams, is_active=True
    ).values_list("pk", "team_id"):
        agents[int(team_id)].append(pk)
    queues = []
    for i, team in enumerate(teams):
        queue, _ = Queue.objects.get_or_create(
            name=f"Bench queue {team.name[-2:]}",
            defaults={"team": team, "calendar": calendar, "is_default": i == 0},
        )
        queues.append((queue.pk, team.pk, agents.get(team.pk, [])))
    leaves = []
    for root_name, children in CATEGORY_TREE.items():
        root, _ = Category.objects.get_or_create(
            parent=None, name=root_name, defaults={"path": root_name}
        )
        if not children:
            leaves.append(root.pk)
        for child in children:
            node, _ = Category.objects.get_or_create(
                parent=root, name=child, defaults={"path": root_name + SEP + child}
            )
            leaves.append(node.pk)
    policies = {}
    for name, priority, value_class, first, resolution, escalation in POLICIES:
        policy, _ = SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "priority": priority,
                "value_class": value_class,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "escalation": escalation,
            },
        )
        policies[(priority, value_class)] = (policy.pk, first, resolution)
    return {
        "clock": BusinessClock(calendar),
        "queues": queues,
        "leaves": leaves,
        "policies": policies,
    }


def _policy(policies: dict[tuple[str, str], tuple[int, int, int]], priority: str, vc: str):
    for key in ((priority, vc), (priority, ""), ("", vc), ("", "")):
        if key in policies:
            return policies[key]
    raise SystemExit("no catch-all SLA policy")


def generate(options: argparse.Namespace) -> None:
    from django.db import connection, transaction

    from vefa.common.text import fold
    from vefa.customers.models import Customer
    from vefa.demo.bench.generate import ts
    from vefa.demo.bench.loaders import loader_for
    from vefa.demo.bench.tables import TableSpec
    from vefa.sales.numbering import reserve_numbers
    from vefa.service.models import Ticket, TicketMessage

    loader = loader_for(connection)
    have = Ticket.objects.count()
    missing = options.tickets - have
    print(f"{connection.vendor}: {have:,} tickets already; adding {max(missing, 0):,}")
    if missing <= 0:
        return
    low = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    high = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None or high is None:
        raise SystemExit("no customers: run `vefa bench-data` first")
    setup = service_setup()
    clock = setup["clock"]
    queues = setup["queues"]
    leaves = setup["leaves"]
    policies = setup["policies"]
    rng = random.Random(options.seed + have)
    suffix = loader.ts_suffix
    now = int(time.time())
    start = now - options.days * 86_400
    tspec = TableSpec.of(Ticket)
    mspec = TableSpec.of(TicketMessage)
    ticket_id = int(loader.scalar('SELECT COALESCE(MAX(id), 0) FROM "service_ticket"'))
    message_id = int(loader.scalar('SELECT COALESCE(MAX(id), 0) FROM "service_ticketmessage"'))
    types = (
        ("complaint",) * 44
        + ("request",) * 18
        + ("question",) * 24
        + ("return_request",) * 9
        + ("praise",) * 5
    )
    channels = (
        ("email",) * 35
        + ("phone",) * 25
        + ("call_centre",) * 12
        + ("portal",) * 12
        + ("web_form",) * 8
        + ("social",) * 5
        + ("walk_in",) * 3
    )
    priorities = ("low",) * 15 + ("normal",) * 58 + ("high",) * 21 + ("urgent",) * 6
    subjects = (
        "Order has not arrived",
        "Sipariş gelmedi",
        "Product stopped working",
        "Ürün arızalı",
        "Arrived damaged",
        "Porudžbina kasni",
        "Wrong amount on the invoice",
        "Installation appointment",
        "Warranty question",
        "سفارش نرسیده است",
    )
    done = 0
    started = time.perf_counter()
    while done < missing:
        size = min(options.batch, missing - done)
        opened = sorted(rng.randrange(start, now) for _ in range(size))
        customer_ids = [rng.randint(low, high) for _ in range(size)]
        names: dict[int, tuple[str, str]] = {}
        unique = sorted(set(customer_ids))
        for i in range(0, len(unique), CHUNK):
            for pk, name, email in Customer.objects.filter(
                pk__in=unique[i : i + CHUNK]
            ).values_list("pk", "display_name", "primary_email"):
                names[pk] = (name, email)
        by_year: dict[int, int] = defaultdict(int)
        for when in opened:
            by_year[dt.datetime.fromtimestamp(when, tz=dt.UTC).year] += 1
        tickets: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        with transaction.atomic():
            numbers: dict[int, list[str]] = {
                year: reserve_numbers("ticket", count, year=year)
                for year, count in sorted(by_year.items())
            }
            used: dict[int, int] = defaultdict(int)
            for when, customer_id in zip(opened, customer_ids, strict=True):
                ticket_id += 1
                year = dt.datetime.fromtimestamp(when, tz=dt.UTC).year
                number = numbers[year][used[year]]
                used[year] += 1
                name, email = names.get(customer_id, ("", ""))
                # A gap in the ids: an unknown requester.
                known: int | None = customer_id if customer_id in names else None
                queue_id, team_id, agents = queues[rng.randrange(len(queues))]
                owner = rng.choice(agents) if agents and rng.random() > 0.04 else None
                kind = rng.choice(types)
                priority = rng.choice(priorities)
                value_class = rng.choices(("A", "B", "C", ""), weights=(10, 30, 50, 10))[0]
                policy_id, first_min, resolution_min = _policy(policies, priority, value_class)
                opened_at = dt.datetime.fromtimestamp(when, tz=dt.UTC)
                fr_due = int(clock.add(opened_at, first_min).timestamp())
                res_due = int(clock.add(opened_at, resolution_min).timestamp())
                age = now - when
                first = when + int(rng.lognormvariate(8.5, 1.0))
                first_at = first if first <= now else None
                resolved = when + int(rng.lognormvariate(11.0, 1.0))
                recent = age < 21 * 86_400
                if first_at is None or resolved > now or (recent and rng.random() < 0.5):
                    resolved_at = None
                else:
                    resolved_at = max(resolved, first_at + 300)
                reopened = resolved_at is not None and rng.random() < 0.07
                replies = (
                    0 if first_at is None else (1 if rng.random() < 0.6 else rng.randint(2, 4))
                )
                if resolved_at is None:
                    status = "new" if first_at is None else rng.choice(("open", "open", "waiting"))
                else:
                    status = "closed" if age > 14 * 86_400 else "resolved"
                fr_breached = (first_at or now) > fr_due
                res_breached = (resolved_at or now) > res_due
                if resolved_at is not None:
                    sla_state = "breached" if res_breached else "met"
                elif status == "waiting":
                    sla_state = "paused"
                else:
                    sla_state = "breached" if res_breached or fr_breached else "running"
                subject = rng.choice(subjects)
                last = max(t for t in (when, first_at, resolved_at) if t is not None)
                tickets.append(
                    tspec.row(
                        {
                            "id": ticket_id,
                            "number": number,
                            "subject": subject,
                            "description": subject,
                            "customer_id": known,
                            "requester_email": email or "",
                            "requester_name": name,
                            "type": kind,
                            "channel": rng.choice(channels),
                            "category_id": rng.choice(leaves) if rng.random() < 0.8 else None,
                            "priority": priority,
                            "status": status,
                            "queue_id": queue_id,
                            "owner_id": owner,
                            "team_id": team_id,
                            "value_class": value_class,
                            "first_responded_at": ts(first_at) + suffix if first_at else None,
                            "resolved_at": ts(resolved_at) + suffix if resolved_at else None,
                            "closed_at": ts(resolved_at + 7 * 86_400) + suffix
                            if status == "closed" and resolved_at
                            else None,
                            "reopen_count": 1 if reopened else 0,
                            "reply_count": replies,
                            "last_customer_message_at": ts(when) + suffix,
                            "last_reply_at": ts(first_at) + suffix if first_at else None,
                            "sla_policy_id": policy_id,
                            "sla_state": sla_state,
                            "first_response_due_at": ts(fr_due) + suffix,
                            "resolution_due_at": ts(res_due) + suffix,
                            "sla_paused_at": ts(last) + suffix if status == "waiting" else None,
                            "first_response_breached": fr_breached,
                            "resolution_breached": res_breached,
                            "custom_fields": "{}",
                            "search_text": fold(f"{number} {subject} {email} {name}")[:2000],
                            "created_at": ts(when) + suffix,
                            "updated_at": ts(last) + suffix,
                            "version": 1,
                        }
                    )
                )
                message_id += 1
                messages.append(
                    _message(
                        mspec,
                        message_id,
                        ticket_id,
                        "customer",
                        subject,
                        when,
                        None,
                        email,
                        name,
                        suffix,
                    )
                )
                at = first_at
                for n in range(replies):
                    if at is None or at > now:
                        break
                    message_id += 1
                    messages.append(
                        _message(
                            mspec,
                            message_id,
                            ticket_id,
                            "reply",
                            "Thank you, we are on it.",
                            at,
                            owner,
                            "",
                            "",
                            suffix,
                        )
                    )
                    if n + 1 < replies:
                        at += rng.randrange(1_800, 40_000)
                        if at > now:
                            break
                        message_id += 1
                        messages.append(
                            _message(
                                mspec,
                                message_id,
                                ticket_id,
                                "customer",
                                "Any news?",
                                at,
                                None,
                                email,
                                name,
                                suffix,
                            )
                        )
                        at += rng.randrange(600, 20_000)
                if first_at is not None and rng.random() < 0.2:
                    message_id += 1
                    messages.append(
                        _message(
                            mspec,
                            message_id,
                            ticket_id,
                            "note",
                            "Checked with the warehouse.",
                            first_at + 60,
                            owner,
                            "",
                            "",
                            suffix,
                        )
                    )
            loader.copy(tspec.table, tspec.columns, tickets)
            loader.copy(mspec.table, mspec.columns, messages)
        done += size
        rate = done / (time.perf_counter() - started)
        print(f"  {have + done:,} tickets ({len(messages):,} messages in the batch), "
              f"{rate:,.0f} tickets/s")  # fmt: skip
    loader.reset_sequences([Ticket, TicketMessage])
    loader.analyze([tspec.table, mspec.table])
    print(f"done in {time.perf_counter() - started:.0f} s")


def _message(spec: Any, pk: int, ticket: int, kind: str, body: str, at: int, author: int | None,
             email: str, name: str, suffix: str) -> tuple[Any, ...]:  # fmt: skip
    from vefa.demo.bench.generate import ts

    stamp = ts(at) + suffix
    return spec.row(
        {
            "id": pk,
            "ticket_id": ticket,
            "kind": kind,
            "body": body,
            "author_id": author,
            "author_email": email,
            "author_name": name[:200],
            "delivery": "sent" if kind == "reply" else "",
            "sent_at": stamp if kind == "reply" else None,
            "created_at": stamp,
            "updated_at": stamp,
            "created_by_id": author,
            "updated_by_id": author,
            "version": 1,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_data")
    parser.add_argument("--tickets", type=int, default=500_000, help="tickets wanted in total")
    parser.add_argument("--days", type=int, default=730, help="opened over this many days")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--seed", type=int, default=SEED)
    options = parser.parse_args(argv)
    setup_django()
    generate(options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
