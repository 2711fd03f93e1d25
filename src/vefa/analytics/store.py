"""The analytical store: the CRM's facts and dimensions as Parquet files, kept up to date.

Where: ``<VEFA_DATA_DIR>/analytics/`` unless ``settings.VEFA_ANALYTICS_DIR`` (or
``ANALYTICS_DIR``, or the environment variable ``VEFA_ANALYTICS_DIR``) names a directory.

Layout::

    manifest.json                 what the store holds: parts, deletes and watermarks per table
    parts/<table>/part-000007.parquet      rows read by run 7 (new and changed rows)
    parts/<table>/deleted-000007.parquet   ids run 7 found deleted (the change log)
    current/<table>.parquet       the current view of each table, for readers
    current/state.json            which run the current files reflect

Why parts and a manifest: an extract reads only what changed since the last run (the
*watermark*: the largest ``updated_at`` and id seen per table) and appends it as a new part.
A run writes its part files under temporary names, renames them, and only then replaces
``manifest.json`` (written to a temporary file and renamed, so it is always whole). The
manifest is the commit: files it does not name are leftovers of a run that died, ignored by
readers and removed by the next run, which then does the same work again under the same
names. A crash therefore never leaves a half-updated store.

Reading a table means: every part the manifest names, each row taken from the latest part
that holds its key (a later run read a newer version), minus the ids deleted in the same or
a later run. Order lines are replaced per order: the latest part holding an order has all
its current lines, so lines that disappeared from an order disappear here too. When a table
has more than ``compact_after`` files, it is rewritten as one part (atomically, the same
way).

After each run the *current* files are rewritten for the tables that changed, each sorted by
``customer_id`` (row groups then carry tight min/max statistics, so a reader filtering on a
customer skips most of the file) and renamed into place: plain Parquet any tool reads —
DuckDB, Spark, pandas, a BI tool. ``Store.frame`` opens them as Narwhals lazy frames for the
metrics.

The current tables (the contract of ``vefa.analytics``; money in int64 hundredths of the
reporting currency, days as days since 1970-01-01 in the business time zone):

- ``transactions``: one row per order that counts as a purchase (status confirmed, shipped,
  delivered, invoiced or paid) and whose currency could be converted: customer_id, order_id,
  day, month, revenue (net: after discount, before tax), cost (sum of its lines' cost).
- ``orders``: every order with its ``status`` (drafts and cancelled ones too), the
  transaction columns plus currency, net (the original amount as text), source, owner_id,
  team_id, number and ordered_at — for BI tools.
- ``lines``: the lines of the transactions: line_id, order_id, customer_id, product_id,
  category_id, day, month, quantity, revenue, cost.
- ``customers``, ``products`` (with its category), ``interactions``, ``activities`` and a
  ``dates`` calendar.
- ``tickets``, ``returns``, ``return_lines`` and ``survey_answers``: the help desk's facts
  (one row per ticket, return, returned line and answered survey invitation), column by
  column in ``docs/analytics.md``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.analytics import extract as source_db
from vefa.analytics.engine import Engine, day_number
from vefa.sales.choices import OrderStatus
from vefa.sales.money import RateTable, check_currency

# 2: the help desk's tables, and interactions say whether a ticket wrote them.
FORMAT = 2
MANIFEST = "manifest.json"
STATE = "state.json"
COMPACT_AFTER = 8
DEFAULT_OVERLAP_SECONDS = 300
DEFAULT_MEMORY_LIMIT = "2GB"

# Statuses of an order that is a purchase (drafts are not yet, cancelled ones never were).
PURCHASE_STATUSES: tuple[str, ...] = (
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
    OrderStatus.PAID,
)

# The current tables readers use, and the stored tables each is made from.
TABLES: dict[str, frozenset[str]] = {
    "transactions": frozenset({"orders", "lines"}),
    "orders": frozenset({"orders", "lines"}),
    "lines": frozenset({"orders", "lines", "products"}),
    "customers": frozenset({"customers"}),
    "products": frozenset({"products", "categories"}),
    "interactions": frozenset({"interactions"}),
    "activities": frozenset({"activities"}),
    "tickets": frozenset({"tickets"}),
    "returns": frozenset({"returns"}),
    "return_lines": frozenset({"return_lines"}),
    "survey_answers": frozenset({"survey_answers"}),
    "dates": frozenset(),
}

Progress = Callable[[str, int], None]

# Why an extract read everything (``ExtractResult.reason``): stable codes, labels to show.
FULL_REASONS: dict[str, Promise] = {
    "asked": gettext_lazy("A full extract was asked for."),
    "first_run": gettext_lazy("First extract into this store."),
    "format": gettext_lazy("The store's format changed."),
    "currency": gettext_lazy("The reporting currency changed."),
    "time_zone": gettext_lazy("The time zone changed."),
    "wallet_field": gettext_lazy("The declared wallet field changed."),
    "database": gettext_lazy("The store was filled from another database."),
    "rates": gettext_lazy("Exchange rates changed for every day."),
}


class StoreError(RuntimeError):
    """The analytical store cannot do what was asked."""


class StoreBusy(StoreError):
    """Another extract of the same store is running."""


class NotExtracted(StoreError):
    """The store has no current table yet: run an extract first."""


@dataclass(frozen=True)
class ExtractResult:
    """What one extract did.

    ``counts``: rows read from the database per stored table (changed rows only in an
    incremental run); ``deleted``: ids found deleted per stored table; ``rows``: rows of
    each current table afterwards; ``reason``: why a full run read everything (a code of
    ``FULL_REASONS``), "" for an incremental run.
    """

    run: int
    full: bool
    counts: dict[str, int]
    deleted: dict[str, int]
    rows: dict[str, int]
    seconds: float
    missing_currencies: tuple[str, ...] = ()
    compacted: tuple[str, ...] = ()
    reason: str = ""
    # Seconds per step: each stored table's reading, "deletes", "compact", "current".
    steps: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready figures (for a refresh's record)."""
        return {
            "run": self.run,
            "full": self.full,
            "counts": dict(self.counts),
            "deleted": dict(self.deleted),
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 3),
            "missing_currencies": list(self.missing_currencies),
            "compacted": list(self.compacted),
            "reason": self.reason,
            "steps": {name: round(seconds, 3) for name, seconds in self.steps.items()},
        }


@dataclass
class _Config:
    currency: str
    time_zone: str
    wallet_field: str
    database: str

    def as_dict(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "time_zone": self.time_zone,
            "wallet_field": self.wallet_field,
            "database": self.database,
        }


def default_path() -> Path:
    """The store's directory: the configured one, else ``<data dir>/analytics``."""
    configured = source_db.setting("VEFA_ANALYTICS_DIR") or getattr(settings, "ANALYTICS_DIR", None)
    if configured:
        return Path(configured)
    return Path(settings.DATA_DIR) / "analytics"


store_path = default_path


def reporting_currency() -> str:
    """The currency of every amount in the store: the analytics settings' reporting currency
    (changing it makes the next extract a full one, see ``_full_reason``)."""
    from vefa.analytics.models import AnalyticsSettings

    return check_currency(AnalyticsSettings.current().reporting_currency)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(temporary: Path, final: Path) -> None:
    """Make a finished file durable and give it its final name in one atomic step."""
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    _fsync_dir(final.parent)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    _publish(temporary, path)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _part_number(name: str) -> int:
    """The run number in a part's name (``part-000007.parquet`` → 7)."""
    return int(name.split("-")[1].split(".")[0])


class Store:
    """The analytical store in one directory (see the module docstring).

    ``overlap``: how far before each watermark an incremental run starts reading again, so a
    transaction that committed late with an earlier ``updated_at`` is not missed (default
    ``VEFA_ANALYTICS_OVERLAP_SECONDS`` or 300 s; rows read twice are merged). ``compact_after``:
    the number of files of a table that triggers its compaction.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        overlap: datetime.timedelta | float | None = None,
        compact_after: int = COMPACT_AFTER,
        batch_rows: int = source_db.BATCH_ROWS,
        use_copy: bool | None = None,
    ) -> None:
        self.root = Path(path) if path is not None else default_path()
        if overlap is None:
            overlap = float(
                source_db.setting("VEFA_ANALYTICS_OVERLAP_SECONDS", DEFAULT_OVERLAP_SECONDS)
            )
        if not isinstance(overlap, datetime.timedelta):
            overlap = datetime.timedelta(seconds=float(overlap))
        if overlap < datetime.timedelta(0):
            raise ValueError("overlap must not be negative")
        if compact_after < 1:
            raise ValueError("compact_after must be at least 1")
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self.overlap = overlap
        self.compact_after = compact_after
        self.batch_rows = batch_rows
        self.use_copy = use_copy

    # --- reading ------------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        """The committed manifest (an empty store gives ``{}``)."""
        return self._load()

    def path(self, table: str) -> Path:
        """The current Parquet file of ``table`` (one of ``TABLES``)."""
        if table not in TABLES:
            raise ValueError(f"unknown analytics table {table!r}; use one of {sorted(TABLES)}")
        path = self.root / "current" / f"{table}.parquet"
        if not path.exists():
            raise NotExtracted(_("The analytics data has not been extracted yet."))
        return path

    def frame(self, table: str, engine: Engine) -> nw.LazyFrame[Any]:
        """The current ``table`` as a lazy frame of ``engine``."""
        return engine.parquet(self.path(table))

    # --- maintenance ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: the next extract reads the whole database again."""
        with self._lock():
            for name in ("parts", "current", "tmp"):
                shutil.rmtree(self.root / name, ignore_errors=True)
            (self.root / MANIFEST).unlink(missing_ok=True)

    def compact(self, *, force: bool = False) -> list[str]:
        """Rewrite tables with more than ``compact_after`` files (every table with more
        than one when ``force``) as one part each; returns the tables compacted."""
        with self._lock():
            manifest = self._load()
            if not manifest:
                return []
            return self._compact(manifest, 1 if force else self.compact_after)

    # --- the extract ------------------------------------------------------------------------------

    def extract(self, full: bool = False, progress: Progress | None = None) -> ExtractResult:
        """Bring the store up to date with the database.

        The first run (or ``full``, or a change of reporting currency, time zone, database,
        or a deleted or back-dated exchange rate) reads everything; later runs read the rows
        changed since each table's watermark, the ids deleted since (from the change log),
        and the orders whose conversion a changed exchange rate affects. ``progress`` is
        called with ``(step, rows)``: a table's name and the rows read so far, then
        ``"current"`` while the current files are written.
        """
        started = time.perf_counter()
        report = progress or (lambda step, rows: None)
        steps: dict[str, float] = {}
        with self._lock():
            manifest = self._load()
            self._remove_orphans(manifest)
            config = self._config()
            self._duckdb().close()  # a bad DuckDB setting fails now, not after the reading
            reason = self._full_reason(manifest, config, full)
            run = int(manifest.get("run", 0)) + 1
            rates = RateTable.load(config.currency)
            context = source_db.Context(
                target=config.currency,
                rates=rates,
                zone=config.time_zone,
            )
            with self._snapshot():
                rates_since: datetime.datetime | None = None
                if not reason:
                    changed, since_day = source_db.rates_changed_since(
                        manifest.get("rates"),
                        manifest.get("change_log"),
                        config.currency,
                        rates,
                        self.overlap,
                        manifest.get("rates_seen") or {},
                    )
                    if changed and since_day is None:
                        reason = "rates"
                    elif changed and since_day is not None:
                        # A day in the business zone starts at most 14 hours before UTC's.
                        rates_since = datetime.datetime.combine(
                            since_day - datetime.timedelta(days=1),
                            datetime.time.min,
                            tzinfo=datetime.UTC,
                        )
                is_full = bool(reason)
                change_log = source_db.change_log_top() if is_full else manifest.get("change_log")
                rates_mark = source_db.rates_top(config.currency)
                rates_seen = source_db.rates_seen(rates_mark, config.currency, self.overlap)
                tables, counts = self._read_tables(
                    manifest, context, run, is_full, rates_since, report, steps
                )
                deleted: dict[str, int] = dict.fromkeys(tables, 0)
                unchanged: set[str] = set()
                if not is_full:
                    began = time.perf_counter()
                    change_log = self._read_deletes(manifest, tables, deleted, run)
                    steps["deletes"] = time.perf_counter() - began
                    began = time.perf_counter()
                    unchanged = self._drop_unchanged_parts(manifest, tables, run)
                    steps["unchanged"] = time.perf_counter() - began
            # Rows left out for want of a rate stay out until a rate arrives, which makes a
            # full run (a first rate of a currency serves every earlier day): the list
            # carries over from run to run until then.
            missing = set(context.missing)
            if not is_full:
                missing |= set(manifest.get("missing_currencies") or [])
            new_manifest = {
                "format": FORMAT,
                "run": run,
                "finished_at": timezone.now().isoformat(),
                "settings": config.as_dict(),
                "change_log": change_log,
                "rates": rates_mark,
                "rates_seen": rates_seen,
                "missing_currencies": sorted(missing),
                "tables": tables,
            }
            _write_json(self.root / MANIFEST, new_manifest)
            self._remove_orphans(new_manifest)
            began = time.perf_counter()
            compacted = self._compact(new_manifest, self.compact_after)
            steps["compact"] = time.perf_counter() - began
            state = self._load_state()
            changed_sources = {
                name
                for name in tables
                if is_full or (counts[name] and name not in unchanged) or deleted[name]
            }
            if state.get("run") != manifest.get("run") or not manifest:
                changed_sources = set(tables)
            began = time.perf_counter()
            rows = self._materialise(new_manifest, changed_sources, state, report)
            steps["current"] = time.perf_counter() - began
        return ExtractResult(
            run=run,
            full=is_full,
            counts=counts,
            deleted=deleted,
            rows=rows,
            seconds=time.perf_counter() - started,
            missing_currencies=tuple(sorted(missing)),
            compacted=tuple(compacted),
            reason=reason,
            steps=steps,
        )

    def _config(self) -> _Config:
        database = connection.settings_dict.get("NAME") or ""
        return _Config(
            currency=reporting_currency(),
            time_zone=str(settings.TIME_ZONE or "UTC"),
            wallet_field=source_db.wallet_field(),
            database=f"{connection.vendor}:{database}",
        )

    @staticmethod
    def _full_reason(manifest: dict[str, Any], config: _Config, full: bool) -> str:
        """Why this run must read everything (a code of ``FULL_REASONS``), or ""."""
        if full:
            return "asked"
        if not manifest:
            return "first_run"
        if manifest.get("format") != FORMAT:
            return "format"
        previous = manifest.get("settings") or {}
        for key, value in config.as_dict().items():
            if previous.get(key) != value:
                return key
        return ""

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """On PostgreSQL, read every table from one snapshot (a repeatable-read, read-only
        transaction), so orders and their lines agree. SQLite reads statement by statement:
        a read transaction there would hold its write lock for the whole extract."""
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield
        else:
            yield

    def _read_tables(
        self,
        manifest: dict[str, Any],
        context: source_db.Context,
        run: int,
        is_full: bool,
        rates_since: datetime.datetime | None,
        report: Progress,
        steps: dict[str, float],
    ) -> tuple[dict[str, Any], dict[str, int]]:
        previous = manifest.get("tables") or {}
        tables: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for source in source_db.SOURCES:
            before = previous.get(source.name) or {}
            fresh = is_full or not before
            marks = None if fresh else dict(before.get("marks") or {})
            began = time.perf_counter()
            count, new_marks, part = self._write_part(
                source, context, run, marks, rates_since, report
            )
            steps[source.name] = time.perf_counter() - began
            counts[source.name] = count
            parts = [] if fresh else list(before.get("parts", []))
            if part:
                parts.append(part)
            tables[source.name] = {
                "parts": parts,
                "deletes": [] if fresh else list(before.get("deletes", [])),
                "marks": new_marks,
            }
        return tables, counts

    def _write_part(
        self,
        source: source_db.Source,
        context: source_db.Context,
        run: int,
        marks: dict[str, Any] | None,
        rates_since: datetime.datetime | None,
        report: Progress,
    ) -> tuple[int, dict[str, Any], str | None]:
        """Stream one table's changed rows into ``part-<run>.parquet``.

        Returns the rows written, the moved watermarks and the part's name (None when
        nothing changed: no empty parts).
        """
        folder = self.root / "parts" / source.name
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{run:06d}.parquet"
        temporary = folder / f".{name}.tmp"
        writer: pq.ParquetWriter | None = None
        count = 0
        new_marks = dict(marks or {})
        try:
            for batch, raw in source_db.read(
                source,
                context,
                marks=marks,
                overlap=self.overlap,
                rates_since=rates_since,
                batch_rows=self.batch_rows,
                use_copy=self.use_copy,
            ):
                if writer is None:
                    writer = pq.ParquetWriter(temporary, source.schema, compression="zstd")
                writer.write_batch(batch)
                count += batch.num_rows
                new_marks = source_db.advance(source, new_marks, raw)
                report(source.name, count)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            report(source.name, 0)
            return 0, new_marks, None
        _publish(temporary, folder / name)
        return count, new_marks, name

    def _drop_unchanged_parts(
        self, manifest: dict[str, Any], tables: dict[str, Any], run: int
    ) -> set[str]:
        """Leave out of ``tables`` this run's parts that hold nothing new; returns their
        tables.

        An incremental run reads again the rows of the overlap before each watermark (and
        the rows a changed exchange rate may convert differently). When every row read is
        the same as the stored one (the same rows of each group, value for value), the
        part changes nothing: it is dropped (its file goes with the orphans) and the
        table's current file is not rewritten — a quiet run then costs the reading only.
        The watermarks still move on.
        """
        name = f"part-{run:06d}.parquet"
        dropped: set[str] = set()
        con: duckdb.DuckDBPyConnection | None = None
        try:
            for source in source_db.SOURCES:
                entry = tables[source.name]
                before = ((manifest.get("tables") or {}).get(source.name) or {}).get("parts")
                if name not in entry["parts"] or not before:
                    continue
                con = con or self._duckdb()
                if self._same_as_stored(con, source, manifest, name):
                    entry["parts"].remove(name)
                    dropped.add(source.name)
        finally:
            if con is not None:
                con.close()
        return dropped

    def _same_as_stored(
        self,
        con: duckdb.DuckDBPyConnection,
        source: source_db.Source,
        manifest: dict[str, Any],
        name: str,
    ) -> bool:
        """Whether the part ``name`` holds exactly the stored rows of its groups."""
        path = _sql_text(str(self.root / "parts" / source.name / name))
        columns = ", ".join(source.schema.names)
        group = source.group
        stored = self._current_sql(con, source, manifest)
        found = con.execute(
            f"WITH fresh AS (SELECT {columns} FROM read_parquet({path})), "  # noqa: S608 (no user text)
            f"old AS (SELECT {columns} FROM ({stored}) s "
            f"WHERE s.{group} IN (SELECT {group} FROM fresh)) "
            "SELECT EXISTS (SELECT * FROM fresh EXCEPT SELECT * FROM old) "
            "OR EXISTS (SELECT * FROM old EXCEPT SELECT * FROM fresh)"
        ).fetchone()
        return found is not None and not found[0]

    def _read_deletes(
        self, manifest: dict[str, Any], tables: dict[str, Any], deleted: dict[str, int], run: int
    ) -> dict[str, Any] | None:
        """Write each table's ``deleted-<run>.parquet`` from the change log's deletes."""
        labels = sorted({label for s in source_db.SOURCES for label, _ in s.deletes})
        found, top = source_db.deleted_since(manifest.get("change_log"), labels, self.overlap)
        for source in source_db.SOURCES:
            keys: list[str] = []
            ids: list[int] = []
            for label, column in source.deletes:
                for pk in sorted(found.get(label, ())):
                    keys.append(column)
                    ids.append(pk)
            if not ids:
                continue
            folder = self.root / "parts" / source.name
            folder.mkdir(parents=True, exist_ok=True)
            name = f"deleted-{run:06d}.parquet"
            temporary = folder / f".{name}.tmp"
            table = pa.table({"key_column": pa.array(keys, pa.string()), "id": ids})
            pq.write_table(table, temporary, compression="zstd")
            _publish(temporary, folder / name)
            tables[source.name]["deletes"].append(name)
            deleted[source.name] = len(ids)
        return top

    # --- files, manifest, lock ------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def _load_state(self) -> dict[str, Any]:
        path = self.root / "current" / STATE
        if not path.exists():
            return {}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time per store (an advisory lock on ``.lock``)."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusy(_("Another analytics extract is running.")) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _remove_orphans(self, manifest: dict[str, Any]) -> None:
        """Delete files the manifest does not name: leftovers of a run that died."""
        tables = manifest.get("tables") or {}
        parts_root = self.root / "parts"
        if parts_root.exists():
            for folder in parts_root.iterdir():
                entry = tables.get(folder.name) or {}
                keep = set(entry.get("parts", [])) | set(entry.get("deletes", []))
                if not folder.is_dir():
                    folder.unlink()
                    continue
                for path in folder.iterdir():
                    if path.name not in keep:
                        path.unlink()
        current = self.root / "current"
        if current.exists():
            for path in current.glob(".*.tmp"):
                path.unlink()
        shutil.rmtree(self.root / "tmp", ignore_errors=True)

    # --- DuckDB: current rows, compaction, current files ------------------------------------------

    def _duckdb(self) -> duckdb.DuckDBPyConnection:
        spill = self.root / "tmp"
        spill.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute(f"SET temp_directory = {_sql_text(str(spill))}")
        # Every file written says its order (ORDER BY); elsewhere order is free, and DuckDB
        # joins and materialises faster when it need not keep it.
        con.execute("SET preserve_insertion_order = false")
        # No progress bar on the output of a command or a worker.
        con.execute("SET enable_progress_bar = false")
        # DuckDB would take 80 % of the machine; the store shares it with the web server, and
        # DuckDB spills sorts and joins to ``tmp/`` beyond its limit instead of failing.
        memory = source_db.setting("VEFA_ANALYTICS_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
        con.execute(f"SET memory_limit = {_sql_text(str(memory))}")
        return con

    @staticmethod
    def _files_sql(folder: Path, names: list[str]) -> str:
        """The rows of the named files with each file's run number as ``_part``."""
        if len(names) == 1:
            path = _sql_text(str(folder / names[0]))
            return f"SELECT *, {_part_number(names[0])} AS _part FROM read_parquet({path})"  # noqa: S608 (no user text)
        paths = ", ".join(_sql_text(str(folder / n)) for n in names)
        files = ", ".join(f"({_sql_text(str(folder / n))}, {_part_number(n)})" for n in names)
        return (
            "SELECT d.* EXCLUDE (filename), f.part AS _part "  # noqa: S608 (no user text)
            f"FROM read_parquet([{paths}], union_by_name = true, filename = true) d "
            f"JOIN (VALUES {files}) f(path, part) ON f.path = d.filename"
        )

    def _current_sql(
        self, con: duckdb.DuckDBPyConnection, source: source_db.Source, manifest: dict[str, Any]
    ) -> str:
        """SQL for the current rows of a stored table: the newest version of each row (or
        of each order's set of lines), minus deleted ids.

        A row of one part is current when no later part holds its key (its order, for
        lines): an anti-join against the keys of the later parts, which are small next to
        the first (a full run's or a compaction's), so the big part is read once and never
        sorted or partitioned. A table of one part needs no merging at all.
        """
        entry = (manifest.get("tables") or {}).get(source.name) or {}
        folder = self.root / "parts" / source.name
        parts = sorted(entry.get("parts", []), key=_part_number)
        if not parts:
            con.register(f"empty_{source.name}", source.schema.empty_table())
            return f"SELECT * FROM empty_{source.name}"  # noqa: S608 (no user text)
        rows = self._files_sql(folder, parts)
        group = source.group
        conditions = []
        if len(parts) > 1:
            later = self._files_sql(folder, parts[1:])
            conditions.append(
                f"NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT {group}, _part FROM ({later})) n "  # noqa: S608 (no user text)
                f"WHERE n.{group} = r.{group} AND n._part > r._part)"
            )
        deletes = entry.get("deletes", [])
        if deletes:
            tombs = self._files_sql(folder, deletes)
            for _label, column in source.deletes:
                conditions.append(
                    f"NOT EXISTS (SELECT 1 FROM ({tombs}) x WHERE x.key_column = "  # noqa: S608 (no user text)
                    f"{_sql_text(column)} AND x.id = r.{column} AND x._part >= r._part)"
                )
        where = " AND ".join(conditions) or "TRUE"
        return f"SELECT r.* EXCLUDE (_part) FROM ({rows}) r WHERE {where}"  # noqa: S608

    def _compact(self, manifest: dict[str, Any], threshold: int) -> list[str]:
        """Rewrite each table with more than ``threshold`` files as one part."""
        compacted = []
        run = int(manifest["run"])
        for source in source_db.SOURCES:
            entry = manifest["tables"].get(source.name)
            if entry is None:
                continue
            files = len(entry["parts"]) + len(entry["deletes"])
            if files <= threshold or (files == 1 and entry["parts"]):
                continue
            folder = self.root / "parts" / source.name
            name = f"part-{run:06d}-compact.parquet"
            temporary = folder / f".{name}.tmp"
            con = self._duckdb()
            try:
                sql = self._current_sql(con, source, manifest)
                con.execute(
                    f"COPY ({sql}) TO {_sql_text(str(temporary))} "
                    "(FORMAT PARQUET, COMPRESSION ZSTD)"
                )
            finally:
                con.close()
            _publish(temporary, folder / name)
            old = set(entry["parts"]) | set(entry["deletes"])
            manifest["tables"][source.name] = {**entry, "parts": [name], "deletes": []}
            _write_json(self.root / MANIFEST, manifest)
            for stale in old - {name}:
                (folder / stale).unlink(missing_ok=True)
            compacted.append(source.name)
        return compacted

    def _materialise(
        self,
        manifest: dict[str, Any],
        changed: set[str],
        state: dict[str, Any],
        report: Progress,
    ) -> dict[str, int]:
        """Rewrite the current file of every table whose stored tables changed."""
        current = self.root / "current"
        current.mkdir(parents=True, exist_ok=True)
        rows: dict[str, int] = dict(state.get("rows") or {})
        wanted = [
            name
            for name, needs in TABLES.items()
            if needs & changed or not (current / f"{name}.parquet").exists()
        ]
        report("current", 0)
        con = self._duckdb()
        try:
            for source in source_db.SOURCES:
                con.execute(
                    f"CREATE TEMP VIEW src_{source.name} AS "
                    f"{self._current_sql(con, source, manifest)}"
                )
            purchase = ", ".join(_sql_text(str(s)) for s in PURCHASE_STATUSES)
            if {"orders", "transactions", "lines"} & set(wanted):
                # Only the columns the current tables use: the text of the lines stays behind.
                con.execute(
                    "CREATE TEMP TABLE cur_lines AS SELECT line_id, order_id, product_id, "
                    "quantity, revenue, COALESCE(cost, 0) AS cost FROM src_lines"
                )
                con.execute(
                    "CREATE TEMP TABLE cur_orders AS SELECT o.* EXCLUDE (updated_at), "
                    "CAST(COALESCE(c.cost, 0) AS BIGINT) AS cost FROM src_orders o LEFT JOIN "
                    "(SELECT order_id, SUM(cost) AS cost FROM cur_lines "
                    "GROUP BY order_id) c ON c.order_id = o.order_id"
                )
            queries = {
                "transactions": (
                    "SELECT CAST(customer_id AS BIGINT) AS customer_id, "  # noqa: S608
                    "CAST(order_id AS BIGINT) AS order_id, CAST(day AS INTEGER) AS day, "
                    "CAST(month AS INTEGER) AS month, CAST(revenue AS BIGINT) AS revenue, "
                    "CAST(cost AS BIGINT) AS cost FROM cur_orders "
                    f"WHERE status IN ({purchase}) AND revenue IS NOT NULL "
                    "ORDER BY customer_id, day, order_id"
                ),
                "orders": (
                    "SELECT order_id, customer_id, day, month, status, revenue, cost, currency, "
                    "net, source, owner_id, team_id, number, ordered_at FROM cur_orders "
                    "ORDER BY customer_id, day, order_id"
                ),
                "lines": (
                    "SELECT CAST(l.line_id AS BIGINT) AS line_id, "  # noqa: S608
                    "CAST(l.order_id AS BIGINT) AS order_id, "
                    "CAST(o.customer_id AS BIGINT) AS customer_id, "
                    "CAST(l.product_id AS BIGINT) AS product_id, "
                    "CAST(p.category_id AS BIGINT) AS category_id, "
                    "CAST(o.day AS INTEGER) AS day, CAST(o.month AS INTEGER) AS month, "
                    "CAST(l.quantity AS DOUBLE) AS quantity, "
                    "CAST(l.revenue AS BIGINT) AS revenue, "
                    "CAST(l.cost AS BIGINT) AS cost "
                    "FROM cur_lines l JOIN cur_orders o ON o.order_id = l.order_id "
                    "LEFT JOIN src_products p ON p.product_id = l.product_id "
                    f"WHERE o.status IN ({purchase}) AND o.revenue IS NOT NULL "
                    "AND l.revenue IS NOT NULL ORDER BY o.customer_id, l.order_id, l.line_id"
                ),
                "customers": (
                    "SELECT customer_id, kind, created_day, industry, size_band, owner_id, "
                    "team_id, declared_wallet, customer_name, lifecycle_stage, country, city "
                    "FROM src_customers ORDER BY customer_id"
                ),
                "products": (
                    "SELECT p.product_id, p.category_id, p.unit_cost, p.sku, p.product_name, "
                    "c.category_name, CAST(c.parent_id AS BIGINT) AS parent_category_id, "
                    "p.is_active FROM src_products p LEFT JOIN src_categories c "
                    "ON c.category_id = p.category_id ORDER BY p.product_id"
                ),
                "interactions": (
                    "SELECT interaction_id, customer_id, day, kind, channel, direction, "
                    "from_ticket "
                    "FROM src_interactions ORDER BY customer_id, day, interaction_id"
                ),
                "activities": (
                    "SELECT activity_id, customer_id, day, kind, status FROM src_activities "
                    "WHERE customer_id IS NOT NULL ORDER BY customer_id, day, activity_id"
                ),
                "tickets": (
                    "SELECT * EXCLUDE (updated_at) FROM src_tickets "
                    "ORDER BY customer_id, day, ticket_id"
                ),
                "returns": (
                    "SELECT * EXCLUDE (updated_at) FROM src_returns "
                    "ORDER BY customer_id, day, return_id"
                ),
                "return_lines": (
                    "SELECT * FROM src_return_lines "
                    "ORDER BY customer_id, day, return_id, return_line_id"
                ),
                "survey_answers": (
                    "SELECT * EXCLUDE (updated_at) FROM src_survey_answers "
                    "ORDER BY customer_id, day, answer_id"
                ),
            }
            for name in wanted:
                if name == "dates":
                    continue
                rows[name] = self._write_current(con, name, queries[name])
                report("current", rows[name])
            rows["dates"] = self._write_current(con, "dates", self._dates_sql(con))
        finally:
            con.close()
        _write_json(current / STATE, {"run": manifest["run"], "rows": rows})
        return rows

    def _write_current(self, con: duckdb.DuckDBPyConnection, name: str, sql: str) -> int:
        final = self.root / "current" / f"{name}.parquet"
        temporary = final.with_name(f".{final.name}.tmp")
        con.execute(
            f"COPY ({sql}) TO {_sql_text(str(temporary))} "
            "(FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 122880)"
        )
        _publish(temporary, final)
        return int(pq.ParquetFile(final).metadata.num_rows)

    def _dates_sql(self, con: duckdb.DuckDBPyConnection) -> str:
        """A calendar from the first fact's day to today (or the last fact's day)."""
        current = self.root / "current"
        spans = []
        for name in ("transactions", "interactions", "activities", "tickets", "returns"):
            path = current / f"{name}.parquet"
            if path.exists():
                found = con.execute(
                    f"SELECT min(day), max(day) FROM read_parquet({_sql_text(str(path))})"  # noqa: S608
                ).fetchone()
                if found and found[0] is not None:
                    spans.append((int(found[0]), int(found[1])))
        today = timezone.localtime(timezone.now(), _zone()).date()
        if spans:
            first = min(s[0] for s in spans)
            last = max(max(s[1] for s in spans), day_number(today))
        else:
            first, last = 0, -1  # no facts: an empty calendar with the right columns
        return (
            "SELECT CAST(d AS INTEGER) AS day, CAST(DATE '1970-01-01' + CAST(d AS INTEGER) "  # noqa: S608
            "AS DATE) AS date, CAST(year(x) AS INTEGER) AS year, "
            "CAST(year(x) * 12 + month(x) - 1 AS INTEGER) AS month, "
            "CAST(month(x) AS INTEGER) AS month_of_year, CAST(quarter(x) AS INTEGER) AS quarter, "
            "CAST(weekofyear(x) AS INTEGER) AS iso_week, CAST(isodow(x) AS INTEGER) AS weekday "
            f"FROM (SELECT d, DATE '1970-01-01' + CAST(d AS INTEGER) AS x "
            f"FROM range({first}, {last + 1}) t(d)) ORDER BY day"
        )


def _zone() -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(str(settings.TIME_ZONE or "UTC"))
