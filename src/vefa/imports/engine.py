"""The import engine: columns to fields, rows to decisions, batches to writes.

One code path serves the preview and the run: ``Engine.decide`` parses and validates a batch
of rows, looks up the row hashes already imported and the match keys (one query each per
batch) and says per row what would happen (create, update, skip, unchanged or error). The
preview stops there; the run hands the rows to the entity adapter (``Engine.write``) inside
the batch's transaction and records what each row created or updated, for undo.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.common.text import fold, formula_safe
from vefa.imports.entities.base import EntityAdapter, ImportContext, Outcome, Row, RowError
from vefa.imports.models import ImportRowRecord, OnMatch

# Rows per transaction: larger batches mean fewer commits and fewer, larger segments of the
# full-text index (measured 13 % less CPU per row at 5,000 than at 1,000 on SQLite).
BATCH_ROWS = 5_000
PREVIEW_ROWS = 20
ERROR_HEADER = ("row", "column", "value", "reason")
_NOT_WORD = re.compile(r"[\W_]+")
# A value written to the error report may not start with these (spreadsheet formulas).


# --- headers and mapping ----------------------------------------------------------------------


def header_key(text: str) -> str:
    """A header as compared: folded, without spaces and punctuation ("E-Posta" → "eposta")."""
    return _NOT_WORD.sub("", fold(text))


def header_signature(headers: Sequence[str]) -> str:
    """The sha256 of the compared header cells in order: the layout's fingerprint."""
    return hashlib.sha256("\x1f".join(header_key(h) for h in headers).encode()).hexdigest()


def auto_map(adapter: EntityAdapter, headers: Sequence[str]) -> dict[str, str]:
    """{header: field name} for the headers that name a field (its name, label or an alias);
    unknown headers map to ``""``. A field is given to its first matching column only."""
    keys: dict[str, str] = {}
    for spec in adapter.fields:
        for word in (spec.name, str(spec.label), *spec.aliases):
            keys.setdefault(header_key(word), spec.name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        name = keys.get(header_key(header), "")
        if name in taken:
            name = ""
        if name:
            taken.add(name)
        mapping.setdefault(header, name)
    return mapping


def resolve_columns(
    adapter: EntityAdapter, headers: Sequence[str], columns: dict[str, str]
) -> dict[int, str]:
    """{column index: field name} from a {header: field} mapping, checked: known fields, each
    at most once, every required field mapped. Raises ``ValidationFailed`` naming problems."""
    if not isinstance(columns, dict):
        raise ValidationFailed(
            _("The mapping must map column headers to field names."),
            fields={"columns": [_("The mapping must map column headers to field names.")]},
        )
    specs = adapter.field_map()
    problems: list[str] = []
    index: dict[int, str] = {}
    used: dict[str, str] = {}
    positions = {h: i for i, h in reversed(list(enumerate(headers)))}
    for header, name in columns.items():
        if not name:
            continue
        if not isinstance(name, str) or name not in specs:
            problems.append(_("Unknown field: %(name)s.") % {"name": str(name)[:50]})
            continue
        if header not in positions:
            problems.append(_("No column named %(header)s.") % {"header": str(header)[:100]})
            continue
        if name in used:
            problems.append(
                _("%(field)s is mapped twice (%(a)s, %(b)s).")
                % {"field": name, "a": used[name], "b": str(header)[:100]}
            )
            continue
        used[name] = str(header)
        index[positions[header]] = name
    missing = [str(specs[n].label) for n in adapter.required_fields() if n not in used]
    if missing:
        problems.append(_("Required fields not mapped: %(names)s.") % {"names": ", ".join(missing)})
    if problems:
        raise ValidationFailed(" ".join(problems), fields={"columns": problems})
    return index


def clean_headers(cells: Sequence[str]) -> list[str]:
    """Header cells as text, trimmed, without a BOM; blanks and repeats made unique."""
    headers: list[str] = []
    seen: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        text = str(cell).replace("\ufeff", "").strip()[:200] or _("Column %(n)d") % {"n": number}
        base, n = text, 2
        while text in seen:
            text = f"{base} ({n})"
            n += 1
        seen.add(text)
        headers.append(text)
    return headers


# --- rows --------------------------------------------------------------------------------------


def row_hash(entity: str, raw: dict[str, str]) -> str:
    text = "\x1e".join(f"{k}\x1f{v}" for k, v in sorted(raw.items()))
    return hashlib.sha256(f"{entity}\x1d{text}".encode()).hexdigest()[:32]


@dataclass
class Decision:
    """What happens to one row: ``create``, ``update``, ``skip``, ``unchanged`` or ``error``."""

    row: Row
    action: str
    reason: str = ""


@dataclass
class BatchResult:
    decisions: list[Decision]
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class Engine:
    """Turns file rows into rows of an entity and batches of them into writes."""

    def __init__(
        self,
        adapter: EntityAdapter,
        ctx: ImportContext,
        headers: Sequence[str],
        index: dict[int, str],
    ) -> None:
        self.adapter = adapter
        self.ctx = ctx
        self.headers = list(headers)
        self.index = sorted(index.items())
        self.columns = {name: self.headers[i] for i, name in self.index}

    def build_row(self, number: int, cells: Sequence[str]) -> Row:
        size = len(cells)
        raw = {name: (str(cells[i]).strip() if i < size else "") for i, name in self.index}
        row = Row(number=number, raw=raw, columns=self.columns)
        self.adapter.parse(row, self.ctx)
        if not row.errors:
            self.adapter.clean(row, self.ctx)
        row.hash = row_hash(self.adapter.entity, raw)
        if not row.errors and self.ctx.match_key:
            row.match = self.adapter.match_value(row, self.ctx.match_key)
        return row

    def decide(self, rows: Sequence[Row]) -> list[Decision]:
        """Per row what would happen; reads (hashes, matches), never writes."""
        decisions: list[Decision] = []
        good = [r for r in rows if not r.errors]
        hashes = {r.hash for r in good}
        done: set[str] = set()
        if hashes:
            done = set(
                ImportRowRecord.objects.filter(
                    entity=self.adapter.entity, row_hash__in=hashes
                ).values_list("row_hash", flat=True)
            )
        existing: dict[str, int] = {}
        if self.ctx.match_key:
            values = sorted({r.match for r in good if r.match and r.hash not in done})
            existing = self.adapter.find_existing(self.ctx.match_key, values, self.ctx)
        first_of: dict[str, int] = {}
        for row in rows:
            if row.errors:
                decisions.append(Decision(row, "error"))
                continue
            if row.hash in done:
                decisions.append(Decision(row, "unchanged", _("Imported before.")))
                continue
            if row.match:
                if row.match in first_of:
                    row.error(
                        self.adapter.match_keys.get(self.ctx.match_key, ""),
                        _("The same value as row %(row)d of this file.")
                        % {"row": first_of[row.match]},
                    )
                    decisions.append(Decision(row, "error"))
                    continue
                first_of[row.match] = row.number
                found = existing.get(row.match)
                if found is not None:
                    row.existing_id = found
                    if self.ctx.on_match == OnMatch.SKIP:
                        decisions.append(Decision(row, "skip", _("Matches an existing record.")))
                    else:
                        decisions.append(Decision(row, "update"))
                    continue
            self.adapter.validate_create(row, self.ctx)
            decisions.append(Decision(row, "error" if row.errors else "create"))
        return decisions

    def write(self, decisions: Sequence[Decision]) -> BatchResult:
        """Write a decided batch (inside the caller's transaction) and record each row."""
        from vefa.imports.bulk import db_json, insert_rows

        as_json = db_json(ImportRowRecord, "previous")
        result = BatchResult(decisions=list(decisions))
        counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "error_rows": 0}
        to_create = [d.row for d in decisions if d.action == "create"]
        to_update = [d.row for d in decisions if d.action == "update"]
        outcomes: dict[int, Outcome] = {}
        if to_create:
            for row, outcome in zip(
                to_create, self.adapter.create(to_create, self.ctx), strict=True
            ):
                outcomes[row.number] = outcome
        if to_update:
            for row, outcome in zip(
                to_update, self.adapter.update(to_update, self.ctx), strict=True
            ):
                outcomes[row.number] = outcome
        records: list[tuple[Any, ...]] = []
        run = self.ctx.run
        entity = self.adapter.entity
        for decision in decisions:
            row = decision.row
            if decision.action == "error":
                counts["error_rows"] += 1
                result.errors.extend(row.errors)
                continue
            if decision.action == "skip":
                counts["skipped"] += 1
                continue
            if decision.action == "unchanged":
                counts["unchanged"] += 1
                continue
            outcome = outcomes[row.number]
            result.outcomes.append(outcome)
            if outcome.action == "error":
                counts["error_rows"] += 1
                result.errors.extend(outcome.errors)
                continue
            if outcome.action == "created":
                counts["created"] += 1
            elif outcome.action == "updated":
                counts["updated"] += 1
            elif outcome.action == "skipped":
                counts["skipped"] += 1
            else:
                counts["unchanged"] += 1
            if run is not None:
                records.extend(
                    (
                        run.pk,
                        row.number,
                        entity,
                        row.hash,
                        written.action,
                        written.object_type,
                        written.object_id,
                        as_json(written.previous),
                    )
                    for written in outcome.records
                )
        insert_rows(ImportRowRecord, RECORD_COLUMNS, records)
        result.counts = counts
        return result


RECORD_COLUMNS = (
    "run",
    "row",
    "entity",
    "row_hash",
    "action",
    "object_type",
    "object_id",
    "previous",
)


# --- the error report ----------------------------------------------------------------------------


def safe_cell(value: str, limit: int = 500) -> str:
    """A value for a spreadsheet: short, and never read as a formula."""
    return formula_safe(str(value)[:limit])


class ErrorReport:
    """The CSV of bad rows (UTF-8 with BOM so spreadsheets read it); on resume it is cut back
    to the size recorded with the last committed batch, so no row is listed twice."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        path = default_storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        exists = os.path.exists(path)
        self.handle = open(path, "r+b" if exists else "w+b")  # noqa: SIM115
        self.handle.truncate(size)
        self.handle.seek(size)
        if size == 0:
            self.handle.write(b"\xef\xbb\xbf")
            self._write([ERROR_HEADER])

    def _write(self, rows: Sequence[Sequence[Any]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        self.handle.write(buffer.getvalue().encode("utf-8"))

    def mark(self) -> int:
        return self.handle.tell()

    def rewind(self, size: int) -> None:
        self.handle.truncate(size)
        self.handle.seek(size)

    def add(self, errors: Sequence[RowError]) -> int:
        if errors:
            self._write(
                [
                    (e.row, safe_cell(e.column, 200), safe_cell(e.value), safe_cell(e.reason))
                    for e in errors
                ]
            )
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()
