# ruff: noqa: S608  (SQL here is built from constant names only; values are parameters)
"""Full-text index of ``platform_searchentry`` on SQLite (FTS5) and PostgreSQL (GIN).

What is indexed
    Every term of an entry — the folded words in ``text`` and the access terms in ``access``
    (``~o12`` an owner, ``~t3`` a team) — is indexed *with its model's code in front*: the
    first three letters of the model key and a colon (``cus:mehmet``, ``int:~o12``). One
    index thereby holds one independent set of terms per model, so looking for customers
    named "meh…" never reads a posting of the ten million interactions, and the access terms
    of one model never mix with another's. ``text`` and ``access`` themselves stay plain; the
    database adds the codes (an FTS5 content view on SQLite, a generated column on
    PostgreSQL).

How a group is searched (``match``)
    All query terms as prefixes AND (one of the actor's owner/team terms, unless the actor
    sees every record of the model), newest first. Two steps keep every query bounded:

    1. the newest ``WINDOW`` entries of the model are read through the ``(model, id)`` index
       and checked directly; when they hold enough hits these are the answer (common words
       and short prefixes end here, after a few milliseconds); when they hold some hits but
       too few, and at that density enough hits lie within the newest ``WALK`` entries,
       PostgreSQL walks those the same way (a word in a tenth of the entries AND one sales
       team's records: two long posting lists whose GIN intersection costs more than the
       walk; FTS5, reading only the rarest condition, is faster than the walk);
    2. otherwise the hits are rare and the full-text index finds them all, planned with how
       often each condition occurs among the newest ``SAMPLE`` entries:

       - SQLite: FTS5 reads the rarest condition only (the rarest word as a prefix, or the
         access terms when they are rarer), and every other word is checked on the row;
         FTS5 would otherwise merge the posting list of each word a common prefix matches.
         Prefix indexes make 1–3 typed characters a single lookup.
       - PostgreSQL: a bitmap scan of the GIN index intersects the postings of every
         selective condition before touching the table (the planner is told not to walk
         the table backwards hoping for a hit); a word in most entries is checked on the row.

    Step 2 is skipped when step 1 has seen every entry of the model.

Bulk loads (``BulkLoader``) write the entry table and then build the full-text index once.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

TABLE = "platform_searchentry"
FTS_TABLE = "platform_search_fts"
FTS_VIEW = "platform_search_fts_source"
CODE_LENGTH = 3
# How many of a model's newest entries the first step reads, and how many of them tell how
# common each query term is.
WINDOW = 2000
SAMPLE = 1000
# When the first window held some hits but too few, the hits are spread thinly rather than
# rare: if at that density the next ``limit`` hits lie within the newest ``WALK`` entries,
# walking them (a few milliseconds) beats intersecting two long posting lists.
WALK = 40_000
# A word in more than this share of a model's entries is checked on the row, not looked up.
COMMON = 0.2
# SQLite: typed prefixes up to this length have a prefix index (FTS5 prefix='5 6 7' with the
# four-character model code); a longer prefix found in more than MERGE_LIMIT of the entries
# is read through its indexed beginning instead.
PREFIX_INDEXED = 3
MERGE_LIMIT = 0.01
COLUMNS = (
    "model",
    "object_id",
    "title",
    "subtitle",
    "text",
    "access",
    "owner_id",
    "team_id",
    "customer_id",
    "updated_at",
)


def _coded(column: str, model: str = "model") -> str:
    """SQL for ``column`` with every space-separated term prefixed by the model code."""
    code = f"substr({model}, 1, {CODE_LENGTH}) || ':'"
    return (
        f"CASE WHEN {column} = '' THEN '' ELSE {code} || replace({column}, ' ', ' ' || {code}) END"
    )


# The DDL below is repeated in migration 0005 (migrations never import app code).
SQLITE_VIEW = (
    f"CREATE VIEW IF NOT EXISTS {FTS_VIEW} AS SELECT id, "
    f"{_coded('text')} AS text, {_coded('access')} AS access FROM {TABLE}"
)
SQLITE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"text, access, content='{FTS_VIEW}', content_rowid='id', prefix='5 6 7', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '@.+-_~:'\", detail=none)"
)
_OLD = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, access) VALUES ('delete', old.id, "
    f"{_coded('old.text', 'old.model')}, {_coded('old.access', 'old.model')});"
)
_NEW = (
    f"INSERT INTO {FTS_TABLE}(rowid, text, access) VALUES (new.id, "
    f"{_coded('new.text', 'new.model')}, {_coded('new.access', 'new.model')});"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS platform_search_ai AFTER INSERT ON {TABLE} BEGIN {_NEW} END",
    f"CREATE TRIGGER IF NOT EXISTS platform_search_ad AFTER DELETE ON {TABLE} BEGIN {_OLD} END",
    f"CREATE TRIGGER IF NOT EXISTS platform_search_au AFTER UPDATE OF model, text, access "
    f"ON {TABLE} BEGIN {_OLD} {_NEW} END",
)
SQLITE_TRIGGER_NAMES = ("platform_search_ai", "platform_search_ad", "platform_search_au")

PG_CODE = f"left(model, {CODE_LENGTH}) || ':'"
PG_DOCUMENT = (
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS document tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(array_remove(string_to_array("
    f"{_coded('text').replace('substr(model, 1, 3)', 'left(model, 3)')} || ' ' || "
    f"{_coded('access').replace('substr(model, 1, 3)', 'left(model, 3)')}, ' '), ''))) STORED"
)
PG_INDEX = f"CREATE INDEX IF NOT EXISTS platform_search_document ON {TABLE} USING gin (document)"


@dataclass(frozen=True)
class Hit:
    entry_id: int
    object_id: int
    title: str
    subtitle: str
    customer_id: int | None


def _vendor() -> str:
    return connection.vendor


def model_code(model_key: str) -> str:
    return model_key[:CODE_LENGTH] + ":"


def _pg_query(model_key: str, terms: Sequence[str], access: Sequence[str] | None) -> str:
    code = model_code(model_key)
    expression = " & ".join(_pg_quote(code + t) + ":*" for t in terms)
    if access is not None:
        expression += " & (" + " | ".join(_pg_quote(code + a) for a in access) + ")"
    return expression


def _hits(rows: Sequence[Sequence[Any]]) -> list[Hit]:
    return [Hit(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows]


@dataclass
class _Counts:
    """How often each query term (and the access condition) occurs among the newest
    ``sampled`` entries of a model: the estimate step 2 plans with."""

    terms: list[int]
    access: int | None
    sampled: int


def _flags(
    vendor: str, model_key: str, terms: Sequence[str], access: Sequence[str] | None
) -> tuple[list[str], list[Any], str]:
    """SQL conditions for each term and for access, their parameters, the columns needed."""
    flags: list[str] = []
    params: list[Any] = []
    if vendor == "postgresql":
        code = model_code(model_key)
        for term in terms:
            flags.append("(document @@ %s::tsquery)")
            params.append(_pg_query(model_key, [term], None))
        if access is not None:
            flags.append("(document @@ %s::tsquery)")
            params.append(" | ".join(_pg_quote(code + a) for a in access))
        return flags, params, "document"
    for term in terms:
        flags.append("(instr(' ' || text, ' ' || %s) > 0)")
        params.append(term)
    if access is not None:
        flags.append("(" + " OR ".join("instr(' ' || access || ' ', %s) > 0" for _ in access) + ")")
        params += [f" {a} " for a in access]
    return flags, params, "text, access"


def _recent_hits(
    cursor: Any,
    vendor: str,
    model_key: str,
    terms: Sequence[str],
    access: Sequence[str] | None,
    limit: int,
    window: int | None = None,
) -> list[Hit]:
    """Step 1: hits among the newest ``window`` entries (stops as soon as it has enough)."""
    flags, params, source = _flags(vendor, model_key, terms, access)
    cursor.execute(
        "SELECT id, object_id, title, subtitle, customer_id FROM ("
        f"SELECT id, object_id, title, subtitle, customer_id, {source} FROM {TABLE} "
        "WHERE model = %s ORDER BY id DESC LIMIT %s) AS recent "
        f"WHERE {' AND '.join(flags)} ORDER BY id DESC LIMIT %s",
        [model_key, WINDOW if window is None else window, *params, limit],
    )
    return _hits(cursor.fetchall())


def _recent_counts(
    cursor: Any, vendor: str, model_key: str, terms: Sequence[str], access: Sequence[str] | None
) -> _Counts:
    flags, params, source = _flags(vendor, model_key, terms, access)
    sums = ", ".join(f"SUM(CASE WHEN {flag} THEN 1 ELSE 0 END)" for flag in flags)
    cursor.execute(
        f"SELECT COUNT(*), {sums} FROM (SELECT {source} FROM {TABLE} WHERE model = %s "
        "ORDER BY id DESC LIMIT %s) AS recent",
        [*params, model_key, SAMPLE],
    )
    sampled, *counts = [int(c or 0) for c in cursor.fetchone()]
    if access is not None:
        return _Counts(counts[:-1], counts[-1], sampled)
    return _Counts(counts, None, sampled)


def _pg_quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _driver(counts: _Counts, terms: Sequence[str], *, with_access: bool = True) -> int | None:
    """Index of the rarest query term, or ``None`` when the access condition is rarer still
    (then the index is read by access and every term is checked on the row)."""
    best = min(range(len(terms)), key=lambda i: (counts.terms[i], -len(terms[i])))
    if with_access and counts.access is not None and counts.access <= counts.terms[best]:
        return None
    return best


def match(
    *,
    model_key: str,
    terms: Sequence[str],
    access: Sequence[str] | None,
    limit: int,
) -> list[Hit]:
    """The newest ``limit`` entries of one model matching every term as a prefix.

    ``access`` is the list of owner/team terms of which one must match, or ``None`` for an
    actor who may see every record of the model.
    """
    if not terms or limit <= 0:
        return []
    vendor = _vendor()
    with connection.cursor() as cursor:
        hits = _recent_hits(cursor, vendor, model_key, terms, access, limit)
        if len(hits) >= limit:
            return hits
        counts = _recent_counts(cursor, vendor, model_key, terms, access)
        if counts.sampled < SAMPLE:
            # The model has fewer entries than step 1 read: it has seen them all.
            return hits
        if vendor == "postgresql" and hits and limit * WINDOW <= len(hits) * WALK:
            hits = _recent_hits(cursor, vendor, model_key, terms, access, limit, WALK)
            if len(hits) >= limit:
                return hits
    if vendor == "postgresql":
        # GIN intersects the posting lists of all conditions before touching the table; only
        # a word in most entries is left to the row check (its posting list would be huge
        # and narrow nothing down).
        selective = [
            t for t, c in zip(terms, counts.terms, strict=True) if c <= COMMON * counts.sampled
        ]
        driving = selective or [terms[_driver(counts, terms, with_access=False) or 0]]
        return _index_pg(model_key, terms, driving, access, limit)
    # FTS5 merges the posting lists of every word a prefix matches before it can intersect
    # them: step 2 reads the index for the rarest condition only and checks the other terms
    # on each candidate row.
    driver = _driver(counts, terms)
    driving = [terms[driver]] if driver is not None else []
    if (
        driver is not None
        and len(terms[driver]) > PREFIX_INDEXED
        and counts.terms[driver] >= MERGE_LIMIT * counts.sampled
    ):
        # A long prefix that is still common (order numbers "so-1…") would make FTS5 merge
        # the posting lists of thousands of words: stream its first characters from a
        # prefix index instead and check the whole prefix on the row.
        driving = [terms[driver][:PREFIX_INDEXED]]
    return _index_sqlite(model_key, terms, driving, access, limit)


def _index_pg(
    model_key: str,
    terms: Sequence[str],
    driving: Sequence[str],
    access: Sequence[str] | None,
    limit: int,
) -> list[Hit]:
    candidates = _pg_query(model_key, driving, access)
    with transaction.atomic(), connection.cursor() as cursor:
        # Collect the candidates from the GIN index (a bitmap scan) and sort them, rather
        # than walk the table backwards in the hope of meeting a hit.
        cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")
        cursor.execute(
            "WITH candidates AS MATERIALIZED ("
            "SELECT id, object_id, title, subtitle, customer_id, model, document "
            f"FROM {TABLE} WHERE document @@ %s::tsquery) "
            "SELECT id, object_id, title, subtitle, customer_id FROM candidates "
            "WHERE model = %s AND document @@ %s::tsquery ORDER BY id DESC LIMIT %s",
            [candidates, model_key, _pg_query(model_key, terms, access), limit],
        )
        hits = _hits(cursor.fetchall())
        cursor.execute("SET LOCAL enable_indexscan TO DEFAULT; SET LOCAL enable_seqscan TO DEFAULT")
    return hits


def _index_sqlite(
    model_key: str,
    terms: Sequence[str],
    driving: Sequence[str],
    access: Sequence[str] | None,
    limit: int,
) -> list[Hit]:
    code = model_code(model_key)

    def quoted(term: str) -> str:
        return '"' + (code + term).replace('"', '""') + '"'

    parts = [quoted(t) + "*" for t in driving]
    if access is not None:
        parts.append("(" + " OR ".join(quoted(a) for a in access) + ")")
    checks = [t for t in terms if t not in driving]
    conditions = "".join(" AND instr(' ' || e.text, ' ' || %s) > 0" for _ in checks)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.object_id, e.title, e.subtitle, e.customer_id "
            f"FROM {FTS_TABLE} AS f JOIN {TABLE} AS e ON e.id = f.rowid "
            f"WHERE {FTS_TABLE} MATCH %s AND e.model = %s{conditions} "
            "ORDER BY f.rowid DESC LIMIT %s",
            [" AND ".join(parts), model_key, *checks, limit],
        )
        return _hits(cursor.fetchall())


def _row_values(row: dict[str, Any], now: Any) -> tuple[Any, ...]:
    return tuple(now if c == "updated_at" else row[c] for c in COLUMNS)


def upsert(rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace the entries of ``rows`` (keyed by model and object id)."""
    if not rows:
        return
    now = timezone.now()
    names = ", ".join(COLUMNS)
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
    sql = (
        f"INSERT INTO {TABLE} ({names}) VALUES ({placeholders}) "
        f"ON CONFLICT (model, object_id) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_row_values(r, now) for r in rows])


def delete(model_key: str, object_ids: Iterable[int]) -> None:
    ids = [int(i) for i in object_ids]
    if not ids:
        return
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE model = %s AND object_id IN "
                f"({', '.join(['%s'] * len(chunk))})",
                [model_key, *chunk],
            )


def delete_models(model_keys: Sequence[str]) -> None:
    if not model_keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE model IN ({', '.join(['%s'] * len(model_keys))})",
            list(model_keys),
        )


# --- bulk loading --------------------------------------------------------------------------


class BulkLoader:
    """Writes many entries fast. Use ``with BulkLoader(keys) as loader: loader.write(rows)``.

    The entries of the models ``keys`` are removed on enter. When the load rewrites most of
    the index (``expected_rows`` unknown, or at least as many as the entries of other models
    that stay) the full-text index is dropped first and built once at the end, which is far
    faster than maintaining it row by row; until then new entries are not found by search,
    and a crash in between is repaired by running the rebuild again. A smaller load keeps
    the index and maintains it as it writes.
    """

    def __init__(self, model_keys: Sequence[str], *, expected_rows: int | None = None) -> None:
        self.model_keys = list(model_keys)
        self.expected_rows = expected_rows
        self.vendor = _vendor()
        self.full = True

    def __enter__(self) -> BulkLoader:
        with transaction.atomic(), connection.cursor() as cursor:
            others = 0
            if self.model_keys:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {TABLE} WHERE model NOT IN "
                    f"({', '.join(['%s'] * len(self.model_keys))})",
                    self.model_keys,
                )
                others = int(cursor.fetchone()[0])
            else:
                cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
                others = int(cursor.fetchone()[0])
            self.full = self.expected_rows is None or self.expected_rows >= others
            if self.full:
                if self.vendor == "postgresql":
                    cursor.execute("DROP INDEX IF EXISTS platform_search_document")
                else:
                    for name in SQLITE_TRIGGER_NAMES:
                        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            if self.full and others == 0:
                # Truncation is far cheaper than deleting millions of rows one by one.
                if self.vendor == "postgresql":
                    cursor.execute(f"TRUNCATE {TABLE}")
                else:
                    cursor.execute(f"DELETE FROM {TABLE}")
            else:
                delete_models(self.model_keys)
        return self

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` (new entries: their models were emptied on enter)."""
        if not rows:
            return
        now = timezone.now()
        if self.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy_value(v) for v in _row_values(row, now)))
                buffer.write("\n")
            statement = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                copy.write(buffer.getvalue())
        else:
            names = ", ".join(COLUMNS)
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT OR REPLACE INTO {TABLE} ({names}) VALUES ({placeholders})",
                    [_row_values(r, now) for r in rows],
                )

    def finish(self) -> None:
        restore_index(rebuild=self.full)

    def __exit__(self, *exc: object) -> None:
        self.finish()


def restore_index(*, rebuild: bool) -> None:
    """Make sure the full-text index and its triggers exist; ``rebuild`` re-reads every entry."""
    with connection.cursor() as cursor:
        if _vendor() == "postgresql":
            cursor.execute(PG_INDEX)
            cursor.execute(f"ANALYZE {TABLE}")
        else:
            cursor.execute(SQLITE_VIEW)
            cursor.execute(SQLITE_FTS)
            if rebuild:
                # One pass over every entry; segments come out large, so no 'optimize'.
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
