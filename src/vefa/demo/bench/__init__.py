"""``vefa bench-data``: a million customers with ten million interactions, fast and repeatable.

The load runs in one transaction on Django's connection:

1. the benchmark's teams and users (``staff``);
2. the secondary indexes (and PostgreSQL's foreign keys) of the big tables are dropped;
3. customers, contact points, addresses, consent, tags, relationships and activities are
   generated in Python, chunk by chunk, and written with ``executemany`` (SQLite) or ``COPY``
   (PostgreSQL), together with one history plan row per customer;
4. the database expands the plans into interactions (``interactions``);
5. the indexes come back exactly as they were, statistics are gathered, the search index is
   rebuilt for the new records, and the id sequences move past the new rows.

Each phase's time is reported. The same seed gives the same rows (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import collections
import datetime
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

try:
    import resource
except ImportError:  # pragma: no cover (Windows)
    resource = None  # type: ignore[assignment]
from django.utils import timezone

from vefa.accounts.models import User
from vefa.customers.models import Address, Consent, ContactPoint, Customer, CustomerRelationship
from vefa.demo.bench import interactions as plans
from vefa.demo.bench.generate import BENCH_TAGS, ChunkMaker
from vefa.demo.bench.loaders import Loader, Prepared, loader_for
from vefa.demo.bench.search import (
    FastDocuments,
    ReferenceDocuments,
    SearchWriter,
    fast_rows,
    verify,
)
from vefa.demo.bench.staff import ensure_staff
from vefa.demo.bench.tables import TableSpec
from vefa.interactions.models import Activity, Interaction, Reminder
from vefa.platform.models import Tag

# Tables whose secondary indexes are dropped during the load and rebuilt after it.
BIG_TABLES = (
    Customer._meta.db_table,
    ContactPoint._meta.db_table,
    Address._meta.db_table,
    Consent._meta.db_table,
    Interaction._meta.db_table,
)
# Tables the load writes (emptied by ``replace``), children before parents.
LOADED = (
    Reminder, Activity, Interaction, Consent, ContactPoint, Address, CustomerRelationship,
)  # fmt: skip

Report = Callable[[str], None]


@dataclass
class BenchResult:
    """What a load wrote and how long each phase took."""

    customers: int = 0
    interactions: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    phases: list[tuple[str, float, int]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(p[1] for p in self.phases)


class BenchDataError(Exception):
    """The database is not in a state the load can start from."""


class _Timer:
    def __init__(self, result: BenchResult, report: Report) -> None:
        self.result = result
        self.report = report

    def phase(self, name: str, work: Callable[[], int]) -> int:
        started, cpu = time.perf_counter(), _cpu_seconds()
        count = work()
        seconds = time.perf_counter() - started
        self.result.phases.append((name, seconds, count))
        rows = f"{count:>13,} rows" if count else ""
        # CPU time (this process and its workers) tells the work apart from waiting for a
        # busy machine; the database's own work in PostgreSQL's processes is not in it.
        used = _cpu_seconds() - cpu
        self.report(f"  {name:<30} {seconds:8.1f} s  (cpu {used:7.1f} s) {rows}")
        return count


def _cpu_seconds() -> float:
    if resource is None:  # not on Unix
        return time.process_time()
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def anchor_of(today: datetime.date) -> int:
    """Midnight (UTC) at the start of ``today``, in Unix seconds: history ends there."""
    return int(datetime.datetime.combine(today, datetime.time(), datetime.UTC).timestamp())


def run(
    *,
    customers: int,
    interactions_per_customer: int = 10,
    seed: int = 1,
    replace: bool = False,
    today: datetime.date | None = None,
    chunk_size: int = 10_000,
    search_interactions: bool = False,
    workers: int | None = None,
    report: Report = print,
) -> BenchResult:
    """Generate ``customers`` customers and ``interactions_per_customer`` × as many
    interactions (see the module docstring)."""
    if customers < 1 or interactions_per_customer < 0:
        raise BenchDataError("--customers must be positive, --interactions-per-customer ≥ 0")
    loader = loader_for(connection)
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    result = BenchResult()
    timer = _Timer(result, report)
    day = today or timezone.now().date()
    report(f"Generating {customers:,} customers on {connection.vendor} (seed {seed})")
    loader.tune_before()
    try:
        with transaction.atomic():
            if Customer.objects.exists():
                if not replace:
                    raise BenchDataError(
                        "the database already has customers; run with --replace to empty the "
                        "customer tables first (on a database made for benchmarks only)"
                    )
                timer.phase("emptying customer tables", lambda: _empty(loader))
            staff = ensure_staff(customers=customers, seed=seed)
            report(f"  staff: {len(staff.teams)} teams, {User.objects.count()} users")
            loader.tune_inside()
            timer.phase("dropping indexes", lambda: _drop(loader))
            plans.create_work_tables(loader, seed)
            maker = ChunkMaker(
                seed=seed,
                customers=customers,
                interactions_per_customer=interactions_per_customer,
                chunk_size=chunk_size,
                staff=staff,
                anchor=anchor_of(day),
                # "Now" is noon of the last day, so the same seed and day give the same rows.
                now=anchor_of(day) + 12 * 3600,
                customer_base=_max_id(loader, Customer),
                point_base=_max_id(loader, ContactPoint),
                activity_base=_max_id(loader, Activity),
                tag_ids=_bench_tags(),
                ts_suffix=loader.ts_suffix,
            )
            writer = _ChunkWriter(loader, result, workers)
            search = SearchWriter(loader)
            timer.phase(
                "customers and their records", lambda: writer.write_all(maker, search, report)
            )
            result.customers = customers
            result.interactions = timer.phase(
                "interactions", lambda: _interactions(loader, customers, writer.max_k, seed)
            )
            timer.phase("rebuilding indexes", lambda: _restore(loader))
            timer.phase("search index", lambda: search.finish(interactions=search_interactions))
            plans.drop_work_tables(loader)
            loader.reset_sequences([Customer, ContactPoint, Address, Consent, Interaction,
                                    Activity, Reminder, CustomerRelationship])  # fmt: skip
            timer.phase("statistics", lambda: _analyze(loader))
    finally:
        loader.restore_after()
    report(f"Done in {result.seconds:.1f} s")
    return result


def _empty(loader: Loader) -> int:
    tags = Customer.tags.through._meta.db_table
    tables = [*(m._meta.db_table for m in LOADED), tags, Customer._meta.db_table]
    removed = sum(_count(loader, t) for t in (*(m._meta.db_table for m in LOADED), tables[-1]))
    if loader.vendor == "postgresql":
        # Deleting ten million rows one by one takes minutes; truncating takes a moment. The
        # cascade also empties what refers to customers (converted leads' links, attendees):
        # ``--replace`` is for databases made for benchmarks.
        names = ", ".join(f'"{table}"' for table in tables)
        loader.execute(f"TRUNCATE {names} CASCADE")
        return removed
    for table in tables:
        loader.execute(f'DELETE FROM "{table}"')  # noqa: S608
    return removed


def _count(loader: Loader, table: str) -> int:
    return int(loader.scalar(f'SELECT COUNT(*) FROM "{table}"'))  # noqa: S608


def _drop(loader: Loader) -> int:
    loader.drop_secondary(BIG_TABLES)
    return 0


def _bench_tags() -> dict[str, int]:
    ids: dict[str, int] = {}
    for name in BENCH_TAGS:
        tag, _ = Tag.objects.get_or_create(
            slug=name.lower().replace(" ", "-"), defaults={"name": name}
        )
        ids[name] = tag.pk
    return ids


def _interactions(loader: Loader, customers: int, max_k: int, seed: int) -> int:
    table = Interaction._meta.db_table
    base = _max_id(loader, Interaction)
    for n in range(max_k):
        plans.insert_round(
            loader, round_number=n, stride=customers, id_base=base, seed=seed, table=table
        )
    return _count(loader, table) - base


def _max_id(loader: Loader, model: type[Any]) -> int:
    table = model._meta.db_table
    return int(loader.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"'))  # noqa: S608


def _restore(loader: Loader) -> int:
    loader.restore_secondary()
    return 0


def _analyze(loader: Loader) -> int:
    loader.analyze([*BIG_TABLES, Activity._meta.db_table, "platform_searchentry"])
    return 0


@dataclass
class ChunkRows:
    """A chunk ready to write: (table, columns, rows) per table, plans and search entries."""

    tables: list[tuple[str, tuple[str, ...], Prepared]]
    plans: Prepared
    search: Prepared
    max_k: int


class RowMaker:
    """Turns chunk numbers into ``ChunkRows`` (in this process or a forked worker)."""

    def __init__(
        self, maker: ChunkMaker, fast: FastDocuments | None, reference: Any, loader: Loader
    ) -> None:
        self.maker = maker
        self.prepare = loader.prepare
        self.fast = fast
        self.reference = reference
        self.specs = _specs()

    def __call__(self, index: int) -> ChunkRows:
        chunk = self.maker.make(index)
        tables = []
        for name in ("customers", "contact_points", "addresses", "consents", "relationships",
                     "activities", "reminders"):  # fmt: skip
            rows = getattr(chunk, name)
            if rows:
                spec = self.specs[name]
                tables.append((spec.table, spec.columns, self.prepare([spec.row(r) for r in rows])))
        if chunk.tags:
            tables.append((Customer.tags.through._meta.db_table, ("customer_id", "tag_id"),
                           self.prepare(chunk.tags)))  # fmt: skip
        if self.fast is not None:
            search = fast_rows(self.fast, chunk.customers, chunk.contact_points)
        else:
            search = self.reference.rows(chunk.customers, chunk.contact_points)
        return ChunkRows(
            tables=tables,
            plans=self.prepare([p.values() for p in chunk.plans]),
            search=self.prepare(search),
            max_k=max((p.count for p in chunk.plans), default=0),
        )


def _specs() -> dict[str, TableSpec]:
    return {
        "customers": TableSpec.of(Customer),
        "contact_points": TableSpec.of(ContactPoint),
        "addresses": TableSpec.of(Address, skip=("id",)),
        "consents": TableSpec.of(Consent, skip=("id",)),
        "relationships": TableSpec.of(CustomerRelationship, skip=("id",)),
        "activities": TableSpec.of(Activity),
        "reminders": TableSpec.of(Reminder, skip=("id",)),
    }


# The row maker of the current load, inherited by forked workers.
_ROW_MAKER: RowMaker | None = None


def _make_in_worker(index: int) -> ChunkRows:
    assert _ROW_MAKER is not None
    return _ROW_MAKER(index)


class _ChunkWriter:
    """Makes every chunk (in worker processes when there are several) and writes it."""

    def __init__(self, loader: Loader, result: BenchResult, workers: int) -> None:
        self.loader = loader
        self.result = result
        self.workers = workers
        self.max_k = 0

    def write(self, rows: ChunkRows, search: SearchWriter) -> None:
        for table, columns, data in rows.tables:
            count = self.loader.write_prepared(table, columns, data)
            self.result.rows[table] = self.result.rows.get(table, 0) + count
        self.loader.write_prepared(plans.PLAN_TABLE, plans.PLAN_COLUMNS, rows.plans)
        search.write(rows.search)
        self.max_k = max(self.max_k, rows.max_k)

    def write_all(self, maker: ChunkMaker, search: SearchWriter, report: Report) -> int:
        global _ROW_MAKER
        updated_at = maker.t(maker.now) or ""
        fast = FastDocuments(updated_at)
        reference = ReferenceDocuments(_specs(), updated_at)
        first = maker.make(0)
        sample_customers = first.customers[:300]
        sample_ids = {c["id"] for c in sample_customers}
        sample_points = [p for p in first.contact_points if p["customer_id"] in sample_ids]
        if not verify(fast, reference, sample_customers, sample_points):
            report("  search entries: the fast path differs from the builders; using the builders")
            _ROW_MAKER = RowMaker(maker, None, reference, self.loader)
        else:
            _ROW_MAKER = RowMaker(maker, fast, reference, self.loader)
        count = maker.chunks()
        if self.workers < 2 or count < 3 or "fork" not in multiprocessing.get_all_start_methods():
            for index in range(count):
                self.write(_ROW_MAKER(index), search)
        else:
            context = multiprocessing.get_context("fork")
            # Forked workers must not touch the parent's database connection; they only
            # compute rows. At most a few chunks wait in memory at any time.
            with context.Pool(self.workers) as pool:
                pending: collections.deque[Any] = collections.deque()
                for index in range(count):
                    pending.append(pool.apply_async(_make_in_worker, (index,)))
                    if len(pending) > self.workers * 2:
                        self.write(pending.popleft().get(), search)
                while pending:
                    self.write(pending.popleft().get(), search)
        _ROW_MAKER = None
        return sum(self.result.rows.values())


__all__ = ["BenchDataError", "BenchResult", "run"]
