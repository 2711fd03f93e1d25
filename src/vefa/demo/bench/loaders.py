"""Writing millions of rows fast: SQLite ``executemany`` and PostgreSQL ``COPY``.

Both loaders work on Django's own connection (so they also run inside a test transaction).
For the load they drop the secondary indexes (and, on PostgreSQL, the foreign keys) of the
big tables and recreate them afterwards from the definitions the database itself reported
(the ones the migrations created), because building an index once over sorted data is many
times faster than updating it on every insert. On PostgreSQL all of it happens in the one
transaction of the load, so a failure leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Prepared:
    """Rows made ready for ``Loader.write_prepared`` (possibly in another process)."""

    count: int
    data: Any


class Loader:
    """What the generator needs from a database."""

    vendor = ""
    # Appended to "YYYY-MM-DD HH:MM:SS" (UTC) text for a timestamp column.
    ts_suffix = ""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self._saved: list[str] = []

    # --- session ----------------------------------------------------------------------------

    def tune_before(self) -> None:
        """Settings that must be changed outside a transaction (SQLite pragmas)."""

    def tune_inside(self) -> None:
        """Settings for the load transaction."""

    def restore_after(self) -> None:
        """Put the outside-transaction settings back."""

    # --- statements ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else row[0]

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def prepare(self, rows: list[tuple[Any, ...]]) -> Prepared:
        """Rows in the form ``write_prepared`` takes; runs in the generating worker.

        Tuples for both databases: formatting PostgreSQL's COPY text in the workers was
        tried and cost more CPU in total than psycopg's C ``write_row`` in the writer.
        """
        return Prepared(len(rows), rows)

    def write_prepared(self, table: str, columns: Sequence[str], prepared: Prepared) -> int:
        return self.copy(table, columns, prepared.data)

    def timestamp_sql(self, epoch_sql: str) -> str:
        """SQL turning an expression of Unix seconds into the backend's timestamp value."""
        raise NotImplementedError

    # --- indexes ------------------------------------------------------------------------------

    def drop_secondary(self, tables: Sequence[str]) -> None:
        raise NotImplementedError

    def restore_secondary(self) -> list[str]:
        """Recreate what ``drop_secondary`` dropped; return the statements run."""
        done: list[str] = []
        while self._saved:
            sql = self._saved.pop(0)
            self.execute(sql)
            done.append(sql)
        return done

    def analyze(self, tables: Sequence[str]) -> None:
        raise NotImplementedError

    def reset_sequences(self, model_list: Sequence[type[models.Model]]) -> None:
        for sql in self.connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            self.execute(sql)


class SQLiteLoader(Loader):
    vendor = "sqlite"
    ts_suffix = ""

    def tune_before(self) -> None:
        # A rollback journal on disk instead of WAL: new pages are written once (WAL would
        # write them twice) and the load stays atomic. No fsync while loading: a crash means
        # running the load again, which starts from an empty database anyway.
        self._raw_execute("PRAGMA foreign_keys=OFF")
        self._raw_execute("PRAGMA journal_mode=DELETE")
        self._raw_execute("PRAGMA synchronous=OFF")

    def tune_inside(self) -> None:
        self.execute("PRAGMA cache_size=-524288")  # 512 MiB for sorting index builds
        self.execute("PRAGMA threads=2")

    def restore_after(self) -> None:
        self._raw_execute("PRAGMA journal_mode=WAL")
        self._raw_execute("PRAGMA synchronous=NORMAL")
        self._raw_execute("PRAGMA foreign_keys=ON")
        self._raw_execute("PRAGMA cache_size=-64000")

    def _raw_execute(self, sql: str) -> None:
        self.connection.ensure_connection()
        if self.connection.in_atomic_block:
            return  # inside a transaction (tests): these pragmas cannot change, and need not
        self.connection.connection.execute(sql)

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        self.connection.ensure_connection()
        cursor = self.connection.connection.cursor()
        marks = ",".join("?" * len(columns))
        names = ",".join(f'"{c}"' for c in columns)
        data = rows if isinstance(rows, list) else list(rows)
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', data)  # noqa: S608
        cursor.close()
        return len(data)

    def timestamp_sql(self, epoch_sql: str) -> str:
        return f"datetime({epoch_sql}, 'unixepoch')"

    def drop_secondary(self, tables: Sequence[str]) -> None:
        marks = ",".join(["%s"] * len(tables))
        with self.connection.cursor() as cursor:
            query = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
                f"AND tbl_name IN ({marks}) ORDER BY tbl_name, name"
            )
            cursor.execute(query, list(tables))
            found = cursor.fetchall()
        for name, sql in found:
            self.execute(f'DROP INDEX "{name}"')
            self._saved.append(sql)

    def analyze(self, tables: Sequence[str]) -> None:
        # What the worker's nightly ``platform.analyze_database`` does on a real installation.
        from vefa.platform.maintenance import database_analyze

        database_analyze()


class PostgresLoader(Loader):
    vendor = "postgresql"
    ts_suffix = "+00"

    def tune_inside(self) -> None:
        self.execute("SET LOCAL synchronous_commit = off")
        self.execute("SET LOCAL maintenance_work_mem = '512MB'")
        self.execute("SET LOCAL work_mem = '128MB'")
        self.execute("SET LOCAL TIME ZONE 'UTC'")
        # Checks deferred by earlier writes in this transaction run now, so the foreign keys
        # of the big tables can be dropped below.
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        self.connection.ensure_connection()
        names = ",".join(f'"{c}"' for c in columns)
        count = 0
        raw = self.connection.connection
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def timestamp_sql(self, epoch_sql: str) -> str:
        return f"to_timestamp({epoch_sql})"

    def drop_secondary(self, tables: Sequence[str]) -> None:
        with self.connection.cursor() as cursor:
            # Foreign keys first (they may depend on nothing we drop, but re-adding them last
            # lets each be validated by one join over the finished tables).
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = "
                "ANY(%s) ORDER BY 1, 2",
                [[f'"{t}"' for t in tables] + list(tables)],
            )
            foreign = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(%s) AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY t.relname, 1",
                [list(tables)],
            )
            indexes = cursor.fetchall()
        for table, name, _definition in foreign:
            self.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, definition in indexes:
            self.execute(f"DROP INDEX {name}")
            self._saved.append(definition)
        for table, name, definition in foreign:
            self._saved.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def analyze(self, tables: Sequence[str]) -> None:
        # Every table, as autovacuum would have by the time anyone reads the data: small
        # tables (tags, the customer–tag links) with no statistics get wrong join plans.
        self.execute("ANALYZE")


def loader_for(connection: BaseDatabaseWrapper) -> Loader:
    if connection.vendor == "sqlite":
        return SQLiteLoader(connection)
    if connection.vendor == "postgresql":
        return PostgresLoader(connection)
    raise ValueError(f"bench data supports SQLite and PostgreSQL, not {connection.vendor}")
