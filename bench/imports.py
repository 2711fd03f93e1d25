"""Benchmark of the import engine: customers from a CSV file, with validation and match keys.

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/imports-bench python -m bench.imports --rows 1000000

    # PostgreSQL (database vefa_bench_imports, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_imports \
        python -m bench.imports --rows 1000000

The script migrates an empty database, writes a CSV of ``--rows`` customers as a stream
(Turkish headers, names in Turkish, Serbian, Persian and English, an e-mail, a phone, a city
and a birth date in mixed formats; 1 % of the rows are bad: an invalid e-mail or an
ambiguous date) and imports it in this process exactly as the job does (``execute_run``:
batches of 5,000 rows, each parsed and validated, its row hashes and e-mail match keys looked
up with one query each, the customers, contact points, per-row records and change-log rows
inserted in bulk, the search index rows written, the checkpoint committed). Then it imports
the same file again (every row already imported: nothing is written).

Reported: rows per second of wall time for each pass, peak RSS of the process
(``resource.getrusage``) and the machine's load. Written to ``bench/results/imports.md``
(the section of the database in use is replaced). Target: ≥ 20,000 rows/s, ≤ 500 MB RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import time
from pathlib import Path

from bench.setup import is_pg
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "imports.md"
PG_NAME = "vefa_bench_imports"
TARGET_RATE = 20_000.0
TARGET_RSS_MB = 500.0
ENV_PG = "DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_imports"
ENV_SQLITE = "VEFA_DATA_DIR=/tmp/imports-bench"

FIRST = ["Ayşe", "Mehmet", "Zeynep", "Milica", "Јована", "علی", "Sara", "John", "İlkay", "Đorđe"]
LAST = ["Yılmaz", "Kaya", "Petrović", "Јовановић", "رضایی", "Smith", "Öztürk", "Şahin"]
CITIES = ["İstanbul", "Ankara", "Beograd", "Tehran", "London", "İzmir", "Niš", "Konya"]
HEADER = ["Ad Soyad", "E-posta", "Telefon", "Şehir", "Doğum Tarihi"]


def write_csv(path: Path, rows: int, seed: int) -> int:
    """The file, written row by row; returns the number of bad rows in it."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for i in range(rows):
            day, month, year = rng.randint(13, 28), rng.randint(1, 12), rng.randint(1940, 2005)
            born = (
                f"{day:02d}.{month:02d}.{year}"
                if i % 3
                else f"{year}-{month:02d}-{day:02d}"
                if i % 2
                else f"{day:02d}/{month:02d}/{year}"
            )
            email = f"kisi{i}@example.com"
            if i % 100 == 99:
                bad += 1
                if i % 200 == 199:
                    email = "not-an-email"
                else:
                    born = "03/04/1990"
            writer.writerow(
                [
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    email,
                    f"+90 5{i // 10_000_000 % 10}{i // 1_000_000 % 10} {i // 1000 % 1000:03d} "
                    f"{i % 1000:04d}",
                    rng.choice(CITIES),
                    born,
                ]
            )
    return bad


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_mb() -> dict[str, float]:
    """The process's resident memory now, split as Linux reports it: ``RssAnon`` is the
    process's own memory (Python objects, SQLite's page cache), ``RssFile`` the pages of
    files mapped into it (shared libraries and, on SQLite, the database file read through
    ``mmap``: up to the ``mmap_size`` of the settings, shared with the operating system's
    page cache). Empty where ``/proc`` is missing."""
    found: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile"):
                    found[key] = int(value.split()[0]) / 1024
    except OSError:
        return {}
    return found


PEAK: dict[str, float] = {}


def sample_memory() -> None:
    for key, value in memory_mb().items():
        PEAK[key] = max(PEAK.get(key, 0.0), value)


def run_once(path: Path, actor: object, label: str) -> tuple[float, object]:
    from vefa.imports import services

    with path.open("rb") as stream:
        run = services.upload(actor=actor, entity="customers", name=path.name, stream=stream)  # type: ignore[arg-type]
    services.start_import(actor=actor, run_id=run.pk, background=False)  # type: ignore[arg-type]
    started = time.perf_counter()
    last = [started]

    def progress(batches: int) -> None:
        sample_memory()
        now = time.perf_counter()
        if now - last[0] > 10:
            last[0] = now
            print(
                f"  {label}: {batches} batches, {now - started:.0f} s, RSS {rss_mb():.0f} MB, "
                f"own {memory_mb().get('RssAnon', 0):.0f} MB",
                flush=True,
            )

    done = services.execute_run(run.pk, after_batch=progress)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update the results file")
    args = parser.parse_args()

    bench_setup(PG_NAME, fresh=True)
    from django.conf import settings

    from vefa.accounts.choices import Role
    from vefa.accounts.models import Team, User
    from vefa.customers.models import Customer
    from vefa.imports import services

    team = Team.objects.create(name="Bench")
    admin = User.objects.create_user(
        email="bench-import@example.com", password=None, role=Role.ADMIN, team=team
    )
    path = Path(settings.DATA_DIR) / f"customers-{args.rows}.csv"
    started = time.perf_counter()
    bad = write_csv(path, args.rows, args.seed)
    print(
        f"file: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s",
        flush=True,
    )

    first_s, first = run_once(path, admin, "first import")
    first_rss = rss_mb()
    print(f"first import: {services.summary(first)}  {args.rows / first_s:,.0f} rows/s", flush=True)
    assert first.created == args.rows - bad, services.summary(first)
    assert Customer.objects.count() == args.rows - bad
    second_s, second = run_once(path, admin, "same file again")
    print(f"same file again: {services.summary(second)}  {args.rows / second_s:,.0f} rows/s")
    assert second.created == 0 and Customer.objects.count() == args.rows - bad
    peak = rss_mb()
    load = os.getloadavg()
    database = "PostgreSQL" if is_pg() else "SQLite"
    lines = [
        f"## {database}",
        "",
        f"- command: `{ENV_PG if is_pg() else ENV_SQLITE} "
        f".venv/bin/python -m bench.imports --rows {args.rows}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end",
        f"- rows: {args.rows:,} ({bad:,} bad, listed in the error report)",
        "",
        "| pass | rows | wall time | rows/s | target |",
        "|---|---:|---:|---:|---:|",
        f"| first import (creates) | {args.rows:,} | {first_s:.1f} s "
        f"| {args.rows / first_s:,.0f} | ≥ {TARGET_RATE:,.0f} |",
        f"| same file again (nothing new) | {args.rows:,} | {second_s:.1f} s "
        f"| {args.rows / second_s:,.0f} | |",
        "",
        f"Peak RSS: {first_rss:.0f} MB after the first pass, {peak:.0f} MB at the end "
        f"(target ≤ {TARGET_RSS_MB:.0f} MB).",
        "",
    ]
    if PEAK:
        lines[-1:-1] = [
            f"Of it, sampled after every batch: the process's own memory (`RssAnon`) at most "
            f"{PEAK.get('RssAnon', 0):.0f} MB, mapped files (`RssFile`: libraries and the "
            f"database file read through `mmap`) at most {PEAK.get('RssFile', 0):.0f} MB.",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        _write(database, text)


def _write(database: str, section: str) -> None:
    head = "# Import benchmark\n\nWritten by `python -m bench.imports`; see its docstring.\n\n"
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else head
    parts = current.split("\n## ")
    kept = [p for p in parts[1:] if not p.startswith(database)]
    body = parts[0].rstrip("\n") + "\n"
    for part in kept:
        body += "\n## " + part.rstrip("\n") + "\n"
    body += "\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    main()
