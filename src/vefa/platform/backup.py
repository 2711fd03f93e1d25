"""Backups of the database with a manifest, restore and verification.

A backup is a tar archive with two members:

- the database: ``database.sqlite3``, a consistent copy made with SQLite's online backup API
  while the application keeps running, or ``database.dump``, ``pg_dump``'s custom format;
- ``manifest.json``: the format, the database vendor, the SHA-256 of the database member,
  and per table its row count and a SHA-256 of its content (the rows in primary-key order,
  each value as text). For PostgreSQL the counts and hashes are read in the same snapshot
  ``pg_dump`` dumps (``pg_export_snapshot``), for SQLite from the copy itself, so they
  describe exactly what is in the archive.

Restoring refuses a database that holds data unless forced. Verification checks the archive
member against its hash before anything is written, the database's integrity
(``PRAGMA integrity_check``; ``pg_restore`` succeeding), then recounts and rehashes every
table and compares with the manifest.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "vefa-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
# Tables Django fills by itself on ``migrate``: rows there do not make a database "in use".
BOOKKEEPING = frozenset({"django_migrations", "django_content_type", "auth_permission"})
SEP = "\x1f"
ROW_END = "\x1e"


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


Digests = dict[str, dict[str, Any]]


# --- table digests -----------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)


def _digest_rows(rows: Any) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        digest.update((SEP.join(_text(v) for v in row) + ROW_END).encode("utf-8"))
        count += 1
    return count, digest.hexdigest()


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_digests(conn: sqlite3.Connection) -> Digests:
    """Row count and content hash of every table of a SQLite database, by name."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    result: Digests = {}
    for table in tables:
        info = list(conn.execute(f"PRAGMA table_info({_sqlite_quote(table)})"))
        keys = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        order = keys or [r[1] for r in info]
        # quote(): each value as an SQL literal (text, whatever the connection converts).
        columns = ", ".join(f"quote({_sqlite_quote(r[1])})" for r in info)
        ordering = ", ".join(_sqlite_quote(c) for c in order)
        sql = f"SELECT {columns} FROM {_sqlite_quote(table)} ORDER BY {ordering}"  # noqa: S608
        rows, digest = _digest_rows(conn.execute(sql))
        result[table] = {"rows": rows, "sha256": digest}
    return result


def _pg_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_digests(cursor: Any) -> Digests:
    """Row count and content hash of every table of the current PostgreSQL schema.

    Every value is read as PostgreSQL's text form in UTC with ISO dates, so a plain psycopg
    cursor and Django's cursor give the same hashes.
    """
    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    cursor.execute("SET LOCAL extra_float_digits = 3")
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    tables = [row[0] for row in cursor.fetchall()]
    result: Digests = {}
    for table in tables:
        cursor.execute(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [_pg_quote(table)],
        )
        columns = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)",
            [_pg_quote(table)],
        )
        keys = [row[0] for row in cursor.fetchall()]
        order = [_pg_quote(k) for k in keys] or [f"{_pg_quote(c)}::text" for c in columns]
        select = ", ".join(f"{_pg_quote(c)}::text" for c in columns)
        sql = f"SELECT {select} FROM {_pg_quote(table)} ORDER BY {', '.join(order)}"  # noqa: S608
        cursor.execute(sql)
        count = 0
        digest = hashlib.sha256()
        while True:
            batch = cursor.fetchmany(5000)
            if not batch:
                break
            for row in batch:
                digest.update((SEP.join(_text(v) for v in row) + ROW_END).encode("utf-8"))
            count += len(batch)
        result[table] = {"rows": count, "sha256": digest.hexdigest()}
    return result


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the database in use -------------------------------------------------------------------


def _connection() -> Any:
    from django.db import connection

    return connection


def vendor() -> str:
    return str(_connection().vendor)


def _pg_env(settings: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = []
    if settings.get("HOST"):
        args += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", str(settings["USER"])]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client).")
    return path


def table_rows_in_use(digests: Digests) -> list[str]:
    """The tables that hold data (not counting Django's bookkeeping)."""
    return [t for t, d in sorted(digests.items()) if d["rows"] and t not in BOOKKEEPING]


def current_digests() -> Digests:
    """Counts and hashes of the configured database now."""
    connection = _connection()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return sqlite_digests(connection.connection)
    if connection.vendor == "postgresql":
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            return pg_digests(cursor)
    raise BackupError(f"Backups of {connection.vendor} databases are not supported.")


# --- backup --------------------------------------------------------------------------------


@dataclass
class Manifest:
    vendor: str
    member: str
    sha256: str
    tables: Digests
    created_at: str = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat())

    def as_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "vendor": self.vendor,
            "created_at": self.created_at,
            "database": {"member": self.member, "sha256": self.sha256},
            "tables": self.tables,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT or data.get("version") != VERSION:
                raise BackupError("The manifest is not a Vefa backup manifest of version 1.")
            tables = data["tables"]
            if not isinstance(tables, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("rows"), int) for v in tables.values()
            ):
                raise BackupError("The manifest's table list is damaged.")
            return cls(
                vendor=str(data["vendor"]),
                member=str(data["database"]["member"]),
                sha256=str(data["database"]["sha256"]),
                tables=tables,
                created_at=str(data.get("created_at", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError("The manifest cannot be read: the backup is damaged.") from exc


def _write_archive(out: Path, database: Path, manifest: Manifest) -> None:
    partial = out.with_name(out.name + ".part")
    with tarfile.open(partial, "w") as archive:
        archive.add(database, arcname=manifest.member)
        raw = manifest.as_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        info.mtime = int(datetime.datetime.now(datetime.UTC).timestamp())
        archive.addfile(info, io.BytesIO(raw))
    os.chmod(partial, 0o600)
    os.replace(partial, out)


def backup(out: Path, *, report: Callable[[str], None] = lambda _line: None) -> Manifest:
    """Back the configured database up into the archive ``out``."""
    connection = _connection()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        if connection.vendor == "sqlite":
            copy = Path(work) / SQLITE_MEMBER
            connection.ensure_connection()
            target = sqlite3.connect(copy)
            try:
                connection.connection.backup(target, pages=4096)
                report("copied the database (SQLite online backup)")
                tables = sqlite_digests(target)
            finally:
                target.close()
            manifest = Manifest("sqlite", SQLITE_MEMBER, _file_sha256(copy), tables)
            _write_archive(out, copy, manifest)
        elif connection.vendor == "postgresql":
            manifest = _backup_pg(Path(work), out, report)
        else:
            raise BackupError(f"Backups of {connection.vendor} databases are not supported.")
    report(
        f"{len(manifest.tables)} tables, {sum(t['rows'] for t in manifest.tables.values())} rows"
    )
    return manifest


def _backup_pg(work: Path, out: Path, report: Callable[[str], None]) -> Manifest:
    from django.db import transaction

    connection = _connection()
    settings = connection.settings_dict
    dump = work / PG_MEMBER
    args, env = _pg_env(settings)
    with transaction.atomic(), connection.cursor() as cursor:
        # The dump and the manifest read the same snapshot.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        command = [
            _tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            f"--file={dump}",
            *args,
            str(settings["NAME"]),
        ]
        done = subprocess.run(  # noqa: S603 - a fixed tool with the configured database
            command, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[:2000]}")
        report("dumped the database (pg_dump, custom format)")
        tables = pg_digests(cursor)
    manifest = Manifest("postgresql", PG_MEMBER, _file_sha256(dump), tables)
    _write_archive(out, dump, manifest)
    return manifest


# --- restore and verify --------------------------------------------------------------------


@dataclass
class Check:
    table: str
    expected_rows: int | None
    found_rows: int | None
    hash_ok: bool

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.expected_rows == self.found_rows


@dataclass
class Verification:
    integrity: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and all(c.ok for c in self.checks)

    def table(self) -> str:
        width = max([len("table"), *(len(c.table) for c in self.checks)])
        lines = [f"{'table':<{width}}  {'expected':>10}  {'found':>10}  content"]
        for c in self.checks:
            expected = "-" if c.expected_rows is None else str(c.expected_rows)
            found = "-" if c.found_rows is None else str(c.found_rows)
            state = "ok" if c.ok else ("DIFFERENT" if c.found_rows is not None else "MISSING")
            if c.expected_rows is None:
                state = "UNEXPECTED"
            lines.append(f"{c.table:<{width}}  {expected:>10}  {found:>10}  {state}")
        lines.append(f"integrity: {self.integrity}")
        return "\n".join(lines)


def compare(manifest: Manifest, found: Digests, integrity: str) -> Verification:
    checks = []
    for table in sorted(set(manifest.tables) | set(found)):
        want = manifest.tables.get(table)
        got = found.get(table)
        checks.append(
            Check(
                table=table,
                expected_rows=None if want is None else int(want["rows"]),
                found_rows=None if got is None else int(got["rows"]),
                hash_ok=want is not None and got is not None and want["sha256"] == got["sha256"],
            )
        )
    return Verification(integrity=integrity, checks=checks)


def open_archive(path: Path, work: Path) -> tuple[Manifest, Path]:
    """Unpack the archive into ``work``; the manifest and the database member, whose hash
    is checked against the manifest (a damaged or changed file is refused here)."""
    try:
        with tarfile.open(path, "r") as archive:
            names = archive.getnames()
            if MANIFEST not in names:
                raise BackupError("The archive has no manifest: not a Vefa backup.")
            handle = archive.extractfile(MANIFEST)
            if handle is None:
                raise BackupError("The manifest cannot be read: the backup is damaged.")
            manifest = Manifest.parse(handle.read())
            if manifest.member not in (SQLITE_MEMBER, PG_MEMBER) or manifest.member not in names:
                raise BackupError("The archive lacks the database the manifest names.")
            member = archive.getmember(manifest.member)
            if not member.isfile():
                raise BackupError("The archive's database member is not a file.")
            source = archive.extractfile(member)
            if source is None:
                raise BackupError("The database member cannot be read: the backup is damaged.")
            target = work / manifest.member
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"The backup cannot be read: {exc}") from exc
    actual = _file_sha256(target)
    if actual != manifest.sha256:
        raise BackupError(
            "The database in the backup does not match its manifest "
            f"(SHA-256 {actual[:16]}… instead of {manifest.sha256[:16]}…): "
            "the backup is damaged or was changed."
        )
    return manifest, target


def restore(
    path: Path,
    *,
    force: bool = False,
    verify: bool = False,
    report: Callable[[str], None] = lambda _line: None,
) -> Verification | None:
    """Restore the archive ``path`` into the configured database (see the module)."""
    connection = _connection()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    with tempfile.TemporaryDirectory() as work:
        manifest, database = open_archive(path, Path(work))
        if manifest.vendor != connection.vendor:
            raise BackupError(
                f"The backup is of a {manifest.vendor} database; the configured database is "
                f"{connection.vendor}."
            )
        in_use = table_rows_in_use(current_digests())
        if in_use and not force:
            raise BackupError(
                "The database is not empty (rows in "
                + ", ".join(in_use[:5])
                + (" …" if len(in_use) > 5 else "")
                + "); restore with --force to replace it."
            )
        if manifest.vendor == "sqlite":
            integrity = _restore_sqlite(database)
        else:
            integrity = _restore_pg(database)
        report("restored")
    if not verify:
        return None
    return compare(manifest, current_digests(), integrity)


def _restore_sqlite(database: Path) -> str:
    connection = _connection()
    source = sqlite3.connect(database)
    try:
        rows = source.execute("PRAGMA integrity_check").fetchall()
        integrity = "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])
        if integrity != "ok":
            raise BackupError(f"The backup's database fails its integrity check: {integrity}")
        connection.ensure_connection()
        source.backup(connection.connection, pages=4096)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The backup's database cannot be read: {exc}") from exc
    finally:
        source.close()
    rows = connection.connection.execute("PRAGMA integrity_check").fetchall()
    return "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])


def _restore_pg(dump: Path) -> str:
    connection = _connection()
    settings = connection.settings_dict
    args, env = _pg_env(settings)
    connection.close()
    command = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        # Drops what the dump holds before making it again (nothing to drop when empty).
        "--clean",
        "--if-exists",
        f"--dbname={settings['NAME']}",
        *args,
        str(dump),
    ]
    done = subprocess.run(  # noqa: S603 - a fixed tool with the configured database
        command, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:2000]}")
    return "ok"
