"""Benchmark of orders from outside: the bulk API, the CSV import, the order list.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-sales-orders python -m bench.sales_orders run

    # PostgreSQL (database vefa_bench_sales_orders, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_sales_orders \
        python -m bench.sales_orders run

``run`` migrates an empty database, creates users, ``--customers`` customers (each with an
e-mail address) and a catalogue of 200 products, then measures:

1. **Bulk API**: ``--api-orders`` orders with 3 lines each sent to
   ``POST /api/v1/sales/orders/bulk`` through Django's test client (token auth, JSON
   parsing, validation, writing, search indexing after commit), 1,000 orders per request.
   Half the requests name the customer by id, half by e-mail. Then the first request is
   sent again and must come back as 1,000 duplicates.
2. **CSV import**: a file of ``--csv-lines`` order lines (3 per order) is written to disk,
   uploaded with ``order_import_start`` and the job is run by ``job_run`` in a child process,
   whose peak memory (``ru_maxrss``) is reported; the same is done for a file half that size
   to show that memory does not grow with the file.
3. **Kill and resume**: a child process runs an import of ``--kill-lines`` lines and is
   killed (SIGKILL) part way; the job is run again and the counts and the database must
   show every order exactly once.
4. **Order list**: ``/sales/orders/`` (first page, a status filter, a date range, a deep
   page via the cursor) for an administrator and a rep, ``--rounds`` times each; p50/p95.

Figures are printed and written to ``bench/results/sales-orders.md`` (the section of the
database in use is replaced).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.setup import percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "sales-orders.md"
PG_NAME = "vefa_bench_sales_orders"


def setup(fresh: bool) -> None:
    bench_setup(PG_NAME, fresh=fresh)


# --- data ----------------------------------------------------------------------------------------


def make_data(customers: int, seed: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from vefa.accounts.models import Team, User
    from vefa.common.text import fold
    from vefa.customers.models import ContactPoint, Customer
    from vefa.sales.models import Product

    rng = random.Random(seed)
    with transaction.atomic():
        teams = [Team.objects.create(name=f"Team {i}") for i in range(3)]
        admin = User.objects.create_user(
            email="admin@bench.test", password="x", full_name="Admin", role="admin"
        )
        reps = [
            User.objects.create_user(
                email=f"rep{i}@bench.test",
                password="x",
                full_name=f"Rep {i}",
                role="sales_rep",
                team=teams[i % 3],
            )
            for i in range(12)
        ]
        Product.objects.bulk_create(
            Product(
                sku=f"SKU-{i:04d}",
                name=f"Ürün {i} · محصول",
                list_price=rng.choice(["9.90", "120.00", "1499.99", "35.50"]),
                unit_cost="5.00",
                currency="TRY",
                tax_rate=rng.choice(["1", "10", "20"]),
            )
            for i in range(200)
        )
        now = timezone.now()
        rows = []
        for i in range(customers):
            rep = reps[i % len(reps)]
            name = f"Müşteri {i}"
            rows.append(
                Customer(
                    kind="person",
                    first_name="Müşteri",
                    last_name=str(i),
                    display_name=name,
                    name_key=fold(name),
                    owner=rep,
                    team_id=rep.team_id,
                    lifecycle_stage="customer",
                    stage_changed_at=now,
                    primary_email=f"c{i}@bench.test",
                )
            )
        created = Customer.objects.bulk_create(rows, batch_size=2000)
        ContactPoint.objects.bulk_create(
            (
                ContactPoint(
                    customer=c,
                    kind="email",
                    value=f"c{i}@bench.test",
                    normalized=f"c{i}@bench.test",
                    is_primary=True,
                )
                for i, c in enumerate(created)
            ),
            batch_size=2000,
        )
    return {"admin": admin.pk, "reps": [r.pk for r in reps], "customers": [c.pk for c in created]}


def order_payload(rng: random.Random, external: str, customer: tuple[int, int], by_email: bool):
    pk, index = customer
    order: dict[str, Any] = {
        "external_id": external,
        "currency": "TRY",
        "ordered_at": (
            f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T{rng.randint(10, 20)}:15:00+03:00"
        ),
        "lines": [
            {
                "sku": f"SKU-{rng.randrange(200):04d}",
                "quantity": str(rng.randint(1, 5)),
                "unit_price": f"{rng.randint(100, 99999) / 100:.2f}",
                "discount_percent": rng.choice(["0", "0", "5", "10"]),
                "tax_rate": "20",
            }
            for _ in range(3)
        ],
    }
    if by_email:
        order["customer_email"] = f"c{index}@bench.test"
    else:
        order["customer_id"] = pk
    return order


# --- 1. bulk API ---------------------------------------------------------------------------------


def bench_api(data: dict[str, Any], total: int, seed: int) -> dict[str, Any]:
    from django.test import Client

    from vefa.accounts.models import User
    from vefa.accounts.services import api_token_create
    from vefa.sales.models import Order, OrderLine

    admin = User.objects.get(pk=data["admin"])
    _, key = api_token_create(actor=admin, user=admin, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = random.Random(seed)
    customers = list(enumerate(data["customers"]))
    bodies = []
    for batch in range(math.ceil(total / 1000)):
        orders = []
        for i in range(min(1000, total - batch * 1000)):
            index, pk = rng.choice(customers)
            orders.append(
                order_payload(rng, f"WEB-{batch}-{i}", (pk, index), by_email=batch % 2 == 1)
            )
        bodies.append(json.dumps({"source": "ecommerce", "orders": orders}))
    times = []
    created = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    for body in bodies:
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/sales/orders/bulk", data=body, content_type="application/json"
        )
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content[:500]
        result = response.json()
        assert result["error"] == 0, result["results"][:3]
        created += result["created"]
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    t0 = time.perf_counter()
    again = client.post(
        "/api/v1/sales/orders/bulk", data=bodies[0], content_type="application/json"
    ).json()
    resend = time.perf_counter() - t0
    assert again["created"] == 0 and again["duplicate"] == min(1000, total), again["created"]
    assert Order.objects.filter(source="ecommerce").count() == total
    return {
        "orders": created,
        "lines": OrderLine.objects.filter(order__source="ecommerce").count(),
        "seconds": elapsed,
        "orders_per_s": created / elapsed,
        "cpu_seconds": cpu,
        "orders_per_cpu_s": created / cpu,
        "request_p50": percentile(times, 0.5),
        "request_max": max(times),
        "resend_seconds": resend,
    }


# --- 2. CSV import -------------------------------------------------------------------------------


def write_csv(path: Path, lines: int, data: dict[str, Any], seed: int, prefix: str) -> None:
    rng = random.Random(seed)
    customers = data["customers"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "external_order_number",
                "ordered_at",
                "customer_email",
                "customer_id",
                "currency",
                "sku",
                "description",
                "quantity",
                "unit_price",
                "discount_percent",
                "tax_rate",
            ]
        )
        for n in range(lines):
            order = n // 3
            index = (order * 7919) % len(customers)
            by_email = order % 2 == 0
            writer.writerow(
                [
                    f"{prefix}-{order}",
                    f"2026-0{1 + order % 9}-1{order % 10}",
                    f"c{index}@bench.test" if by_email else "",
                    "" if by_email else customers[index],
                    "TRY",
                    f"SKU-{rng.randrange(200):04d}",
                    "" if n % 3 else "Sipariş satırı · خط سفارش",
                    str(rng.randint(1, 9)),
                    f"{rng.randint(100, 99999) / 100:.2f}",
                    "0",
                    "20",
                ]
            )


def start_import(path: Path, admin_pk: int) -> int:
    from django.core.files import File

    from vefa.accounts.models import User
    from vefa.sales.services.orders_import import order_import_start

    admin = User.objects.get(pk=admin_pk)
    with path.open("rb") as handle:
        job = order_import_start(actor=admin, upload=File(handle, name=path.name))
    return job.pk


def child_run_job(job_id: int, trace: bool = False) -> None:
    """In a child process: run one import job, print its result, time and peak memory."""
    from django.urls import get_resolver

    import vefa.sales.services.orders_import  # noqa: F401 (registers the job handler)
    from vefa.platform.jobs import job_run

    # A running worker has loaded the URLs already (its system checks do); the job's
    # "finished" notification needs them, so they are loaded before the clock starts.
    get_resolver().url_patterns  # noqa: B018
    if trace:
        import tracemalloc

        tracemalloc.start()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    job = job_run(job_id)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "status": job.status if job else None,
                "result": job.result if job else None,
                "message": job.message if job else "",
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "peak_mb": peak_kb / 1024,
                "python_peak_mb": traced,
            }
        )
    )


def run_child(job_id: int, trace: bool = False) -> dict[str, Any]:
    extra = ["--trace"] if trace else []
    out = subprocess.run(
        [sys.executable, "-m", "bench.sales_orders", "job", str(job_id), *extra],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_csv(data: dict[str, Any], lines: int, seed: int, folder: Path) -> list[dict[str, Any]]:
    results = []
    for size, prefix in ((lines // 2, "HALF"), (lines, "FULL")):
        path = folder / f"orders-{size}.csv"
        write_csv(path, size, data, seed, prefix)
        job_id = start_import(path, data["admin"])
        figures = run_child(job_id)
        assert figures["status"] == "succeeded", figures
        result = figures["result"]
        assert result["lines"] == size and result["error_rows"] == 0, result
        results.append(
            {
                "lines": size,
                "orders": result["created"],
                "file_mb": path.stat().st_size / 1e6,
                "seconds": figures["seconds"],
                "lines_per_s": size / figures["seconds"],
                "lines_per_cpu_s": size / figures["cpu_seconds"],
                "peak_mb": figures["peak_mb"],
            }
        )
        path.unlink()
    return results


def bench_memory(data: dict[str, Any], seed: int, folder: Path) -> list[dict[str, Any]]:
    """Python's own peak allocation (tracemalloc) for a file and one four times larger: the
    process RSS above also holds SQLite's page cache and memory-mapped pages, which grow
    with the database, not with the file."""
    results = []
    for size, prefix in ((15_000, "MEMS"), (60_000, "MEML")):
        path = folder / f"orders-mem-{size}.csv"
        write_csv(path, size, data, seed + 2, prefix)
        figures = run_child(start_import(path, data["admin"]), trace=True)
        assert figures["status"] == "succeeded", figures
        results.append({"lines": size, "python_peak_mb": figures["python_peak_mb"]})
        path.unlink()
    return results


# --- 3. kill and resume --------------------------------------------------------------------------


def bench_kill(data: dict[str, Any], lines: int, seed: int, folder: Path) -> dict[str, Any]:
    import vefa.sales.services.orders_import  # noqa: F401 (registers the job handler)
    from vefa.platform.jobs import job_run
    from vefa.platform.models import Job
    from vefa.sales.models import Order, OrderLine

    path = folder / "orders-kill.csv"
    write_csv(path, lines, data, seed + 1, "KILL")
    job_id = start_import(path, data["admin"])
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.sales_orders", "job", str(job_id)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
    )
    # Kill it once a few batches are committed.
    deadline = time.time() + 120
    while time.time() < deadline:
        checkpoint = Job.objects.get(pk=job_id).checkpoint or {}
        if int(checkpoint.get("created", 0)) >= lines // 9:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    job = Job.objects.get(pk=job_id)
    at_kill = Order.objects.filter(external_id__startswith="KILL-").count()
    Job.objects.filter(pk=job_id).update(heartbeat_at=None)  # what the requeue does when stale
    t0 = time.perf_counter()
    finished = job_run(job_id)
    resume = time.perf_counter() - t0
    assert finished is not None and finished.status == "succeeded", finished and finished.message
    orders = Order.objects.filter(external_id__startswith="KILL-")
    expected = math.ceil(lines / 3)
    assert orders.count() == expected, orders.count()
    assert OrderLine.objects.filter(order__in=orders).count() == lines
    assert finished.result["created"] == expected and finished.result["duplicate"] == 0
    path.unlink()
    return {
        "lines": lines,
        "orders_at_kill": at_kill,
        "checkpoint_row": job.checkpoint.get("row"),
        "status_at_kill": job.status,
        "resume_seconds": resume,
        "created": finished.result["created"],
        "duplicate": finished.result["duplicate"],
        "orders_in_db": orders.count(),
    }


# --- 4. the list page ----------------------------------------------------------------------------


def bench_list(data: dict[str, Any], rounds: int) -> list[tuple[Any, ...]]:
    from django.test import Client

    from vefa.accounts.models import User
    from vefa.sales.models import Order

    rows = []
    deep_cursor = None
    admin = User.objects.get(pk=data["admin"])
    rep = User.objects.get(pk=data["reps"][0])
    customer = Order.objects.filter(owner=rep).values_list("customer_id", flat=True).first()
    for label, user in (("admin", admin), ("rep", rep)):
        client = Client()
        client.force_login(user)
        first = client.get("/sales/orders/")
        assert first.status_code == 200
        # A deep page: follow "Show more" ten times.
        url = "/sales/orders/"
        for _ in range(10):
            page = client.get(url).content.decode()
            marker = 'href="?cursor='
            at = page.find(marker)
            if at < 0:
                break
            end = page.find('"', at + len(marker))
            deep_cursor = page[at + len(marker) : end].replace("&amp;", "&")
            url = f"/sales/orders/?cursor={deep_cursor}"
        scenarios = {
            "first page": "/sales/orders/",
            "status=confirmed": "/sales/orders/?status=confirmed",
            "source + dates": (
                "/sales/orders/?source=ecommerce&date_from=2026-03-01&date_to=2026-04-30"
            ),
            "customer": f"/sales/orders/?customer={customer}",
            "page 11": url,
            "htmx rows": "/sales/orders/?status=confirmed",
        }
        for name, target in scenarios.items():
            headers = {"HX-Request": "true"} if name == "htmx rows" else {}
            times = []
            cpu = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                c0 = time.process_time()
                response = client.get(target, headers=headers)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert response.status_code == 200
            rows.append(
                (
                    label,
                    name,
                    percentile(times, 0.5),
                    percentile(times, 0.95),
                    percentile(cpu, 0.5),
                    percentile(cpu, 0.95),
                    len(times),
                )
            )
    return rows


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def list_data() -> dict[str, Any]:
    from vefa.accounts.models import User

    analyze()
    admin = User.objects.get(email="admin@bench.test")
    reps = list(
        User.objects.filter(email__startswith="rep").order_by("pk").values_list("pk", flat=True)
    )
    return {"admin": admin.pk, "reps": reps}


def list_table(data: dict[str, Any], rounds: int) -> str:
    rows = bench_list(data, rounds)
    lines = [
        "| user | scenario | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms | n |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {u} | {n} | {p50:.1f} | {p95:.1f} | {c50:.1f} | {c95:.1f} | {k} |"
        for u, n, p50, p95, c50, c95, k in rows
    ]
    return "\n".join(lines)


# --- report --------------------------------------------------------------------------------------


def write_report(db: str, text: str) -> None:
    header = "# Orders from outside: bulk API, CSV import, order list\n"
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    marker = f"\n## {db}\n"
    if marker in existing:
        before, _, after = existing.partition(marker)
        rest = after.find("\n## ")
        existing = before + (after[rest:] if rest >= 0 else "")
    RESULTS.write_text(existing.rstrip("\n") + "\n" + marker + text, encoding="utf-8")


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--customers", type=int, default=20_000)
    run.add_argument("--api-orders", type=int, default=20_000)
    run.add_argument("--csv-lines", type=int, default=210_000)
    run.add_argument("--kill-lines", type=int, default=60_000)
    run.add_argument("--rounds", type=int, default=40)
    run.add_argument("--seed", type=int, default=7)
    listing = sub.add_parser("list")
    listing.add_argument("--rounds", type=int, default=30)
    job = sub.add_parser("job")
    job.add_argument("job_id", type=int)
    job.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "job":
        setup(fresh=False)
        child_run_job(args.job_id, trace=args.trace)
        return
    if args.command == "list":
        # The list again on the data of the last run, after ANALYZE (what autovacuum or a
        # scheduled ANALYZE gives a live database; right after a bulk load the planner has
        # no statistics).
        setup(fresh=False)
        print(list_table(list_data(), args.rounds))
        return

    load_before = os.getloadavg()
    setup(fresh=True)
    from django.conf import settings
    from django.db import connection

    db = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    folder = Path(settings.MEDIA_ROOT).parent / "bench-orders"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = make_data(args.customers, args.seed)
    print(f"data: {time.perf_counter() - t0:.1f} s", flush=True)
    api = bench_api(data, args.api_orders, args.seed)
    print("api", api, flush=True)
    csv_runs = bench_csv(data, args.csv_lines, args.seed, folder)
    print("csv", csv_runs, flush=True)
    memory = bench_memory(data, args.seed, folder)
    print("memory", memory, flush=True)
    kill = bench_kill(data, args.kill_lines, args.seed, folder)
    print("kill", kill, flush=True)
    analyze()
    pages = bench_list(data, args.rounds)
    for row in pages:
        print("list", row, flush=True)

    load_after = os.getloadavg()
    command = (
        (
            f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{PG_NAME} "
            if db == "PostgreSQL"
            else "VEFA_DATA_DIR=/tmp/vefa-bench-sales-orders "
        )
        + "python -m bench.sales_orders run "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "command")
    )
    lines = [
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared), Python {platform.python_version()}, {db}.",
        "",
        f"    {command}",
        "",
        f"Load average (1, 5, 15 min) at the start {_load(load_before)}, at the end "
        f"{_load(load_after)}: the machine is shared, so wall-clock figures include waiting "
        "for the CPU; the CPU-second columns count this process's own CPU time (for SQLite "
        "that includes the database work, for PostgreSQL the server's share is not counted).",
        "",
        f"Data: {args.customers:,} customers with e-mail addresses, 200 products.",
        "",
        "### Bulk API (`POST /api/v1/sales/orders/bulk`, 1,000 orders × 3 lines per request)",
        "",
        "| orders | lines | seconds | orders/s | orders per CPU-second | request p50 "
        "| request max | re-send of 1,000 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {api['orders']:,} | {api['lines']:,} | {api['seconds']:.1f} | "
        f"**{api['orders_per_s']:,.0f}** | {api['orders_per_cpu_s']:,.0f} | "
        f"{api['request_p50'] * 1000:.0f} ms | "
        f"{api['request_max'] * 1000:.0f} ms | {api['resend_seconds'] * 1000:.0f} ms "
        "(all duplicates) |",
        "",
        "### CSV import (background job, run in a child process; peak = its `ru_maxrss`)",
        "",
        "| lines | orders | file | seconds | lines/s | lines per CPU-second | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['lines']:,} | {r['orders']:,} | {r['file_mb']:.1f} MB | {r['seconds']:.1f} | "
            f"**{r['lines_per_s']:,.0f}** | {r['lines_per_cpu_s']:,.0f} | {r['peak_mb']:.0f} MB |"
            for r in csv_runs
        ],
        "",
        "Python's own peak allocation while importing (tracemalloc, separate runs): "
        + ", ".join(f"{m['lines']:,} lines: {m['python_peak_mb']:.1f} MB" for m in memory)
        + (
            ". The process's RSS also holds SQLite's 64 MB page cache and up to 256 MB of "
            "memory-mapped database pages (the project's SQLite settings), which follow the "
            "database's size, not the file's."
            if db == "SQLite"
            else "."
        ),
        "",
        "### Kill half way, then resume",
        "",
        f"An import of {kill['lines']:,} lines was killed with SIGKILL after "
        f"{kill['orders_at_kill']:,} orders were committed (checkpoint at row "
        f"{kill['checkpoint_row']}, job left `{kill['status_at_kill']}`). Running the job again "
        f"took {kill['resume_seconds']:.1f} s and ended with created = {kill['created']:,}, "
        f"duplicate = {kill['duplicate']}; the database holds {kill['orders_in_db']:,} orders "
        "of the file, each once.",
        "",
        f"### Order list (`/sales/orders/`, {args.rounds} requests each, server time)",
        "",
        "| user | scenario | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms | n |",
        "|---|---|---:|---:|---:|---:|---:|",
        *[
            f"| {u} | {n} | {p50:.1f} | {p95:.1f} | {c50:.1f} | {c95:.1f} | {k} |"
            for u, n, p50, p95, c50, c95, k in pages
        ],
        "",
    ]
    write_report(db, "\n".join(lines))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
