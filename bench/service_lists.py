"""Server time of the help-desk pages on the benchmark database (500,000 tickets).

    VEFA_DATA_DIR=/tmp/vefa-bench python -m bench.service_lists [--rounds 5] [--explain]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench python -m bench.service_lists

The database is ``vefa bench-data`` with ``python -m bench.service_data`` on top. Every
scenario is requested through Django's test client (the server's time: routing, middleware,
view, queries, template) once to warm up and then ``--rounds`` times; p50/p95/max against
the target of issue 5 ("ticket queue and list pages p95 ≤ 100 ms"):

- **queue**: ``/service/tickets/queue/`` (my open tickets and my team's unassigned ones) for
  six service agents of different teams;
- **ticket list**: ``/service/tickets/`` as an administrator (every ticket) and as a service
  agent, first page and the common filters (active, status and priority, type, queue, mine,
  unassigned, SLA breached, category, customer, text) and a deep page through the cursor;
- **ticket search**: the list's text filter with a word on no ticket and with a ticket's
  number (the filter reads until it has a page, so these are its slowest cases);
- **ticket page**: ``/service/tickets/<id>/`` for 20 tickets of the last month;
- **dashboard**: ``/service/`` for the last 30, 90 and 365 days, a team and an agent, with
  the cache emptied before each request (the computed figures), and once more from the
  cache.

``--explain`` prints the slowest queries of the slowest request of a scenario that misses its
target, with their plans. Besides the wall time, each request's CPU time in this process
(``time.process_time``: Django, the template and, on SQLite, the database itself) is
reported, which a busy machine inflates much less. Results go to
``bench/results/service-lists.md`` (the section of the database in use is replaced; with
``--only``, the rows of the scenarios not run are kept from the previous section).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import django

RESULTS = Path(__file__).resolve().parent / "results" / "service-lists.md"


def scenarios(rng: random.Random) -> tuple[list[Any], Any]:
    from django.core.cache import cache
    from django.urls import reverse

    from bench.scenarios import Call, Scenario
    from vefa.accounts.choices import Role
    from vefa.accounts.models import User
    from vefa.common.paging import encode_cursor
    from vefa.demo.bench.staff import BENCH_DOMAIN
    from vefa.service.models import Category, Queue, Ticket

    bench_users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", is_active=True)
    admin = bench_users.filter(role=Role.ADMIN).order_by("email").first()
    agents = list(bench_users.filter(role=Role.SERVICE_AGENT).order_by("email"))
    if admin is None or not agents or not Ticket.objects.exists():
        raise SystemExit("run `vefa bench-data` and `python -m bench.service_data` first")
    agent = agents[0]
    sample = rng.sample(agents, min(6, len(agents)))
    queue = Queue.objects.filter(team=agent.team).order_by("pk").first()
    category = Category.objects.filter(parent__isnull=False).order_by("pk").first()
    last = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    middle = last // 2
    deep = encode_cursor(middle, middle, False)
    customer = (
        Ticket.objects.filter(customer__isnull=False, id__lte=middle)
        .order_by("-id")
        .values_list("customer_id", flat=True)
        .first()
    )
    word = "damaged"

    tickets_url = reverse("service:ticket_list")
    variants: list[tuple[str, str]] = [
        ("first page", ""),
        ("active", "?status=active"),
        ("open, high", "?status=open&priority=high"),
        ("complaints", "?type=complaint"),
        ("one queue", f"?queue={queue.pk if queue else 1}"),
        ("mine", "?owner=mine"),
        ("unassigned", "?owner=none&status=active"),
        ("SLA breached", "?sla=breached"),
        ("category", f"?category={category.pk if category else 1}"),
        ("customer", f"?customer={customer or 1}"),
        ("text", f"?q={word}"),
        ("deep page", f"?cursor={deep}"),
    ]
    list_calls = [
        Call(user, tickets_url + query, label=f"{who}: {label}")
        for who, user in (("admin", admin), ("agent", agent))
        for label, query in variants
    ]
    # A word on few tickets and a ticket's number: the text filter cannot stop after a page.
    number = Ticket.objects.filter(id__lte=middle).order_by("-id").values_list("number", flat=True)
    search_variants = [
        ("rare word", "?q=kvantum"),
        ("number", f"?q={(number.first() or 'T-0').lower()}"),
        ("rare word, active", "?q=kvantum&status=active"),
    ]
    search_calls = [
        Call(user, tickets_url + query, label=f"{who}: {label}")
        for who, user in (("admin", admin), ("agent", agent))
        for label, query in search_variants
    ]
    queue_url = reverse("service:ticket_queue")
    queue_calls = [Call(u, queue_url, label=u.email) for u in sample]
    month_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    recent = list(
        Ticket.objects.filter(created_at__gte=month_ago)
        .order_by("-id")
        .values_list("id", flat=True)[:400]
    )
    page_calls = [
        Call(agent, reverse("service:ticket_detail", args=[pk]), label=str(pk))
        for pk in rng.sample(recent, min(20, len(recent)))
    ]
    dashboard_url = reverse("service:dashboard")
    dashboard_variants = [
        ("30 days", "?period=30"),
        ("90 days", "?period=90"),
        ("365 days", "?period=365"),
        ("365 days, one team", f"?period=365&team={agent.team_id}"),
        ("365 days, one agent", f"?period=365&agent={agent.pk}"),
    ]
    dashboard_calls = [
        Call(user, dashboard_url + query, label=f"{who}: {label}")
        for who, user in (("admin", admin), ("agent", agent))
        for label, query in dashboard_variants
    ]
    return [
        Scenario("ticket queue", 100, queue_calls),
        Scenario("ticket list", 100, list_calls),
        Scenario("ticket search", 100, search_calls),
        Scenario("ticket page", 150, page_calls),
        Scenario("service dashboard (computed)", 1000, dashboard_calls),
        Scenario("service dashboard (cached)", 100, dashboard_calls),
    ], cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_lists")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vefa.config.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.explain import explain_slowest
    from bench.run import percentile
    from vefa.customers.models import Customer
    from vefa.service.models import Ticket, TicketMessage

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("collectstatic", interactive=False, verbosity=0)
    counts = {
        "customers": Customer.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": TicketMessage.objects.count(),
        "open": Ticket.objects.filter(status__in=("new", "open", "waiting")).count(),
    }
    print(
        f"{connection.vendor}: {counts['customers']:,} customers, {counts['tickets']:,} tickets "
        f"({counts['open']:,} open), {counts['messages']:,} messages"
    )
    all_scenarios, cache = scenarios(random.Random(options.seed))
    clients: dict[int, Client] = {}

    def client_for(user: Any) -> Client:
        if user.pk not in clients:
            client = Client()
            client.force_login(user)
            clients[user.pk] = client
        return clients[user.pk]

    cpu: dict[str, list[float]] = defaultdict(list)

    def request(call: Any, computed: bool) -> float:
        if computed:
            cache.clear()
            client_for(call.user)  # signing in is not part of the time
        client = client_for(call.user)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(call.path)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - started_cpu) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{call.path} as {call.user.email}: HTTP {response.status_code}")
        request.cpu = cpu_ms  # type: ignore[attr-defined]
        return elapsed

    rows = []
    slow: list[tuple[str, str, float]] = []
    for scenario in all_scenarios:
        if options.only.lower() not in scenario.name.lower():
            continue
        computed = "computed" in scenario.name
        for call in scenario.calls:
            request(call, computed)
        samples: list[float] = []
        by_label: dict[str, list[float]] = defaultdict(list)
        worst: tuple[float, Any] = (0.0, None)
        for _ in range(options.rounds):
            for call in scenario.calls:
                elapsed = request(call, computed)
                cpu[scenario.name].append(request.cpu)  # type: ignore[attr-defined]
                samples.append(elapsed)
                by_label[call.label].append(elapsed)
                if elapsed > worst[0]:
                    worst = (elapsed, call)
        p50, p95, top = percentile(samples, 0.5), percentile(samples, 0.95), max(samples)
        met = p95 <= scenario.target_ms
        cpu50, cpu95 = percentile(cpu[scenario.name], 0.5), percentile(cpu[scenario.name], 0.95)
        rows.append(
            (scenario.name, scenario.target_ms, p50, p95, top, len(samples), met, cpu50, cpu95)
        )
        print(f"{scenario.name:<32} p50 {p50:7.1f}  p95 {p95:7.1f}  max {top:7.1f} ms  "
              f"cpu p50 {cpu50:6.1f} p95 {cpu95:6.1f}  "
              f"(target {scenario.target_ms:.0f}) {'ok' if met else 'MISSED'}")  # fmt: skip
        for label, values in sorted(by_label.items(), key=lambda i: -percentile(i[1], 0.95))[:4]:
            slow.append((scenario.name, label, percentile(values, 0.95)))
        if options.explain and not met and worst[1] is not None:
            if computed:
                cache.clear()
            explain_slowest(client_for(worst[1].user), worst[1])
    write_results(connection.vendor, counts, rows, slow, options)
    return 0


def write_results(
    vendor: str,
    counts: dict[str, int],
    rows: list[tuple[Any, ...]],
    slow: list[tuple[str, str, float]],
    options: argparse.Namespace,
) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    env = "DATABASE_URL=postgres://…/vefa_bench " if vendor == "postgresql" else (
        "VEFA_DATA_DIR=/tmp/vefa-bench "
    )  # fmt: skip
    lines = [
        f"## {vendor} ({datetime.date.today().isoformat()})",
        "",
        f"Data: {counts['customers']:,} customers, {counts['tickets']:,} tickets "
        f"({counts['open']:,} open), {counts['messages']:,} messages. Machine: "
        f"{platform.machine()}, {os.cpu_count()} CPUs shared with other work, Python "
        f"{sys.version.split()[0]}; load average at the end {load:.1f}.",
        f"Command: `{env}python -m bench.service_lists --rounds {options.rounds}"
        f"{' --only ' + repr(options.only) if options.only else ''}`; server time per "
        "request through Django's test client (ms); CPU = this process's CPU time per request.",
        "",
        "| scenario | target p95 | p50 | p95 | max | samples | met | CPU p50 | CPU p95 |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|---:|",
    ]
    header = (
        "# Help-desk pages at 500,000 tickets\n\n"
        "`python -m bench.service_lists` over `vefa bench-data` and "
        "`python -m bench.service_data`; see the script's docstring for the scenarios.\n\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else header
    pattern = re.compile(rf"^## {vendor} .*?(?=^## |\Z)", flags=re.S | re.M)
    found = pattern.search(text)
    ran = {row[0] for row in rows}
    # With --only, the other scenarios' rows of the previous run stay (marked as earlier).
    kept, kept_slow = [], []
    for line in (found.group(0) if found else "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or cells[0] in ran or cells[0] == "scenario":
            continue
        if len(cells) == 3:
            kept_slow.append(line)
        elif len(cells) >= 7:
            name = cells[0] if cells[0].endswith("(earlier run)") else f"{cells[0]} (earlier run)"
            kept.append("| " + " | ".join([name, *cells[1:7], *(cells[7:9] or ["–", "–"])]) + " |")
    for name, target, p50, p95, top, count, met, cpu50, cpu95 in rows:
        lines.append(
            f"| {name} | {target:.0f} | {p50:.1f} | {p95:.1f} | {top:.1f} | {count} | "
            f"{'yes' if met else '**no**'} | {cpu50:.1f} | {cpu95:.1f} |"
        )
    lines += kept
    lines += ["", "Slowest variants (p95 of the single request, ms):", "",
              "| scenario | variant | p95 |", "|---|---|---:|"]  # fmt: skip
    lines += [f"| {s} | {label} | {value:.1f} |" for s, label, value in slow]
    lines += [line for line in kept_slow if not line.startswith(tuple(f"| {n} |" for n in ran))]
    section = "\n".join(lines) + "\n\n"
    if found:
        text = text[: found.start()] + section + text[found.end() :]
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    raise SystemExit(main())
