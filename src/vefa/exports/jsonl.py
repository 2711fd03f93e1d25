"""The lossless JSON Lines export of everything, for moving an installation.

``vefa export-all --out F.jsonl`` writes one JSON object per line: first a header
(``{"format": "vefa-jsonl", "version": 1, "models": [...]}``), then every row of every model
of every Vefa app (including the tables behind many-to-many fields) as
``{"model": "app.model", "pk": …, "fields": {column: value}}`` in dependency order (a model
after the models it refers to), rows by primary key. Values are written exactly: datetimes
with microseconds and offset, decimals as strings, binary data in base64. A row with a file
field lists the referenced files under ``"files"`` (the files themselves stay in the data
directory's ``files/`` and are copied along with it).

``vefa import-all F.jsonl`` reads the file line by line and inserts the rows in batches into
an empty database (``--flush`` empties the Vefa tables first, e.g. of the rows the migrations
create), in one transaction, then resets the primary-key sequences. Neither side holds more
than one batch in memory.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction

FORMAT = "vefa-jsonl"
VERSION = 1
BATCH = 2000


class ImportError_(Exception):
    """The file cannot be imported (wrong format, unknown model, non-empty database)."""


def vefa_models() -> list[type[models.Model]]:
    """Every concrete model of the Vefa apps, with auto-created many-to-many tables, in
    dependency order (a model's foreign keys point at models listed before it, except
    within a cycle, which the import handles with deferred constraint checks)."""
    found: list[type[models.Model]] = []
    for model in apps.get_models(include_auto_created=True):
        owner = model._meta.auto_created or model
        if not owner.__module__.startswith("vefa."):
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        found.append(model)
    found.sort(key=lambda m: m._meta.label_lower)
    labels = {m._meta.label_lower for m in found}
    deps: dict[str, set[str]] = {}
    for model in found:
        targets = set()
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                target = field.related_model._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]
                if target in labels and target != model._meta.label_lower:
                    targets.add(target)
        deps[model._meta.label_lower] = targets
    ordered: list[type[models.Model]] = []
    done: set[str] = set()
    remaining = list(found)
    while remaining:
        ready = [m for m in remaining if deps[m._meta.label_lower] <= done]
        if not ready:  # a cycle: take the first one left and carry on
            ready = [remaining[0]]
        for model in ready:
            ordered.append(model)
            done.add(model._meta.label_lower)
        remaining = [m for m in remaining if m._meta.label_lower not in done]
    return ordered


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return {"__duration__": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if f is not model._meta.pk]


def _decoder(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(field, models.JSONField):
        return lambda v: v
    if isinstance(field, models.DurationField):
        return lambda v: None if v is None else datetime.timedelta(*v["__duration__"])
    if isinstance(field, models.BinaryField):
        return lambda v: None if v is None else base64.b64decode(v)
    return field.to_python


def export_lines(*, progress: Callable[[str, int], None] | None = None) -> Iterator[str]:
    """The lines of the export (each with its newline)."""
    ordered = vefa_models()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "models": [m._meta.label_lower for m in ordered],
    }
    yield json.dumps(header, ensure_ascii=False) + "\n"
    for model in ordered:
        label = model._meta.label_lower
        columns = _columns(model)
        names = [f.attname for f in columns]
        file_names = {f.attname for f in columns if isinstance(f, models.FileField)}
        pk_name = model._meta.pk.attname
        rows = (
            model._base_manager.order_by(pk_name)
            .values_list(pk_name, *names)
            .iterator(chunk_size=BATCH)
        )
        count = 0
        for row in rows:
            fields = {name: _encode(value) for name, value in zip(names, row[1:], strict=True)}
            record: dict[str, Any] = {"model": label, "pk": _encode(row[0]), "fields": fields}
            files = [fields[n] for n in sorted(file_names) if fields.get(n)]
            if files:
                record["files"] = files
            yield json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
            count += 1
        if progress is not None:
            progress(label, count)


def export_all(out: IO[str], *, progress: Callable[[str, int], None] | None = None) -> int:
    """Write the export to ``out``; the number of rows written."""
    rows = -1
    for line in export_lines(progress=progress):
        out.write(line)
        rows += 1
    return rows


def _non_empty(ordered: Iterable[type[models.Model]]) -> list[str]:
    return [m._meta.label_lower for m in ordered if m._base_manager.exists()]


def _flush(ordered: list[type[models.Model]]) -> None:
    tables = [m._meta.db_table for m in ordered]
    with connection.cursor() as cursor:
        flush = connection.ops.sql_flush(
            no_style(), tables, reset_sequences=True, allow_cascade=True
        )
        if connection.vendor == "postgresql":
            # Checks still pending in this transaction would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql in flush:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def import_all(
    lines: Iterable[str],
    *,
    flush: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Insert every row of an export into this database; the number of rows inserted."""
    ordered = vefa_models()
    by_label = {m._meta.label_lower: m for m in ordered}
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
    except (StopIteration, json.JSONDecodeError) as exc:
        raise ImportError_("The file is empty or not a Vefa export.") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ImportError_("The file is not a Vefa export (no vefa-jsonl header).")
    if header.get("version") != VERSION:
        raise ImportError_(f"Unsupported export version {header.get('version')!r}.")
    unknown = [label for label in header.get("models", []) if label not in by_label]
    if unknown:
        raise ImportError_(
            "The export has models this version does not know: " + ", ".join(unknown)
        )
    total = 0
    with connection.constraint_checks_disabled(), transaction.atomic():
        if flush:
            _flush(ordered)
        else:
            filled = _non_empty(ordered)
            if filled:
                raise ImportError_(
                    "The database is not empty (rows in "
                    + ", ".join(filled[:5])
                    + "); use --flush to empty the Vefa tables first."
                )
        batch: list[models.Model] = []
        current: type[models.Model] | None = None
        decoders: list[tuple[str, Callable[[Any], Any]]] = []
        pk_decode: Callable[[Any], Any] = lambda v: v  # noqa: E731
        seen: dict[str, int] = {}

        def flush_batch() -> None:
            # A raw insert, as loaddata saves: ``auto_now`` fields keep the exported values.
            if batch and current is not None:
                fields = list(current._meta.concrete_fields)
                size = max(1, connection.ops.bulk_batch_size(fields, batch) or len(batch))
                for start in range(0, len(batch), size):
                    current._base_manager._insert(  # type: ignore[attr-defined]
                        batch[start : start + size], fields=fields, raw=True
                    )
                batch.clear()

        for number, line in enumerate(iterator, start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                label = record["model"]
                fields = record["fields"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ImportError_(f"Line {number} is not a record.") from exc
            model = by_label.get(label)
            if model is None:
                raise ImportError_(f"Line {number}: unknown model {label!r}.")
            if model is not current:
                flush_batch()
                if current is not None and progress is not None:
                    progress(current._meta.label_lower, seen[current._meta.label_lower])
                current = model
                decoders = [(f.attname, _decoder(f)) for f in _columns(model)]
                pk_decode = model._meta.pk.to_python
                seen.setdefault(label, 0)
            values = {name: decode(fields.get(name)) for name, decode in decoders}
            values[model._meta.pk.attname] = pk_decode(record["pk"])
            batch.append(model(**values))
            seen[label] += 1
            total += 1
            if len(batch) >= BATCH:
                flush_batch()
        flush_batch()
        if current is not None and progress is not None:
            progress(current._meta.label_lower, seen[current._meta.label_lower])
        connection.check_constraints(table_names=[m._meta.db_table for m in ordered])
        _reset_sequences(ordered)
    return total


def _reset_sequences(ordered: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), ordered)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
