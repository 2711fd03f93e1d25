"""Removing a person's identifiers from rows, from every text column and from files.

Values are replaced by ``REDACTED`` where they occur inside a longer text, and a field whose
whole value is an identifier (an e-mail column, a phone column) is emptied. Writes go
through a plain ``QuerySet`` so they bypass custom managers (the change log refuses edits
through its own manager: erasure is the one legal exception) and ``save()`` side effects.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast

REDACTED = "[erased]"

TEXT_TYPES = (models.CharField, models.TextField, models.JSONField)

# Fields that hold a person's contact data: emptied on every reached row whatever they hold.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "phone",
        "mobile",
        "address",
        "requester_email",
        "requester_name",
        "author_email",
        "author_name",
        "shipping_address",
        "billing_address",
        "ip_address",
        "user_agent",
        "first_name",
        "last_name",
        "tax_number",
        "birth_date",
        "line1",
        "line2",
        "postal_code",
    }
)

# Tables the sweep leaves alone: staff accounts (not data subjects; their unique e-mail
# must not change under them), framework bookkeeping and the deletion log itself.
SWEEP_EXCLUDED = frozenset(
    {
        "accounts.user",
        "accounts.loginfailure",
        "auth.permission",
        "auth.group",
        "contenttypes.contenttype",
        "sessions.session",
        "privacy.deletionlog",
    }
)
# Tables of other people, where a name (but not an address) may legitimately be a namesake's.
NAME_EXEMPT = frozenset({"customers.customer", "customers.lead", "accounts.user"})
SEARCH_LABEL = "platform.searchentry"


@dataclass
class Redactor:
    """Replaces the identifier forms in strings and nested JSON."""

    terms: list[str]
    pattern: re.Pattern[str] | None = field(init=False, default=None)
    exact: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        terms = [t for t in self.terms if t]
        self.exact = frozenset(t.casefold() for t in terms)
        if terms:
            self.pattern = re.compile(
                "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                re.IGNORECASE,
            )

    def text(self, value: str) -> str:
        if self.pattern is None or not value:
            return value
        return self.pattern.sub(REDACTED, value)

    def is_identifier(self, value: str) -> bool:
        return value.strip().casefold() in self.exact

    def json(self, value: Any, *, personal: bool = False) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v, personal=personal) for v in value]
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if personal and key in PERSONAL_FIELDS and item not in (None, ""):
                    out[self.text(str(key))] = ""
                else:
                    out[self.text(str(key))] = self.json(item, personal=personal)
            return out
        return value


def text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, TEXT_TYPES) and not isinstance(f, models.FileField)
    ]


def _fit(field_: models.Field[Any, Any], value: str) -> str:
    limit = getattr(field_, "max_length", None)
    return value[:limit] if limit else value


def scrub_values(
    model: type[models.Model],
    row: dict[str, Any],
    redactor: Redactor,
    *,
    personal: bool,
    char_redactor: Redactor | None = None,
) -> dict[str, Any]:
    """The changed values of ``row`` (a ``values()`` dict) with identifiers removed.

    ``personal``: the row belongs to the person, so contact fields are emptied outright.
    ``char_redactor``: used instead of ``redactor`` for short text columns (a namesake's
    name columns keep the name; their notes do not).
    """
    changes: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.attname not in row:
            continue
        value = row[f.attname]
        if value in (None, ""):
            continue
        if personal and f.name in PERSONAL_FIELDS and not f.primary_key and not f.is_relation:
            if f.null:
                changes[f.attname] = None
            elif isinstance(f, models.CharField | models.TextField):
                changes[f.attname] = "" if f.blank else REDACTED
            continue
        if isinstance(f, models.JSONField):
            new = redactor.json(value, personal=personal)
            if new != value:
                changes[f.attname] = new
        elif isinstance(f, models.CharField | models.TextField) and isinstance(value, str):
            local = redactor
            if char_redactor is not None and not isinstance(f, models.TextField):
                local = char_redactor
            if local.is_identifier(value) and f.blank and not f.choices:
                changes[f.attname] = ""
                continue
            new_text = local.text(value)
            if new_text != value:
                changes[f.attname] = _fit(f, new_text)
    return changes


def plain_update(model: type[models.Model], pk: Any, changes: dict[str, Any]) -> None:
    if changes:
        models.QuerySet(model=model).filter(pk=pk).update(**changes)


def scrub_rows(
    model: type[models.Model],
    pks: Iterable[int],
    redactor: Redactor,
    *,
    personal: bool,
    char_redactor: Redactor | None = None,
) -> int:
    """Scrub the given rows; the number changed."""
    names = [f.attname for f in model._meta.concrete_fields if not f.is_relation]
    changed = 0
    ids = sorted(pks)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in models.QuerySet(model=model).filter(pk__in=chunk).values("pk", *names):
            changes = scrub_values(
                model, row, redactor, personal=personal, char_redactor=char_redactor
            )
            if changes:
                plain_update(model, row["pk"], changes)
                changed += 1
    return changed


# --- the sweep over every table ------------------------------------------------------------


def all_models() -> Iterator[type[models.Model]]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        yield model


def _json_forms(term: str) -> set[str]:
    """``term`` as it appears inside stored JSON (non-ASCII escaped on SQLite)."""
    escaped = json.dumps(term)[1:-1]
    return {term, escaped}


def matching_pks(
    model: type[models.Model], field_: models.Field[Any, Any], terms: Iterable[str]
) -> list[int]:
    """The rows whose ``field_`` contains one of ``terms`` (case-insensitive)."""
    q = Q()
    annotate: dict[str, Any] = {}
    column = field_.name
    forms: set[str] = set()
    for term in terms:
        forms |= _json_forms(term) if isinstance(field_, models.JSONField) else {term}
    if not forms:
        return []
    if isinstance(field_, models.JSONField):
        annotate = {"_privacy_text": Cast(field_.name, output_field=TextField())}
        column = "_privacy_text"
    for form in forms:
        q |= Q(**{f"{column}__icontains": form})
    qs: models.QuerySet[Any] = models.QuerySet(model=model)
    if annotate:
        qs = qs.annotate(**annotate)
    return list(qs.filter(q).values_list("pk", flat=True))


@dataclass
class SweepResult:
    counts: dict[str, int] = field(default_factory=dict)
    search_entries: set[int] = field(default_factory=set)


def sweep(
    address_terms: list[str], name_terms: list[str], redactor: Redactor, *, skip: set[str]
) -> SweepResult:
    """Remove every remaining occurrence from every text and JSON column of every table.

    Search-index rows are not edited but returned, to be rebuilt from their (now clean)
    records. ``skip``: tables already handled.
    """
    result = SweepResult()
    for model in all_models():
        label = model._meta.label_lower
        if label in SWEEP_EXCLUDED or label in skip:
            continue
        exempt = label in NAME_EXEMPT
        pks: set[int] = set()
        for f in text_fields(model):
            terms = list(address_terms)
            # A namesake keeps their name; free texts (notes) lose the erased person's.
            if not exempt or isinstance(f, models.TextField | models.JSONField):
                terms += name_terms
            if terms:
                pks.update(matching_pks(model, f, terms))
        if not pks:
            continue
        if label == SEARCH_LABEL:
            result.search_entries |= pks
            continue
        char_redactor = Redactor(address_terms) if exempt else None
        changed = scrub_rows(model, pks, redactor, personal=False, char_redactor=char_redactor)
        if changed:
            result.counts[label] = result.counts.get(label, 0) + changed
    return result


# --- files ---------------------------------------------------------------------------------

# Files the sweep never opens: the database, its journals and the secret key.
_SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".key")
MAX_SCAN_BYTES = 512 * 1024 * 1024


def data_roots() -> list[Path]:
    """The stored files (uploads, generated exports) and the analytics store. Backups and
    the database live elsewhere in the data directory and are not opened."""
    roots = [Path(settings.MEDIA_ROOT)]
    analytics_dir = getattr(settings, "ANALYTICS_DIR", None)
    if analytics_dir:
        roots.append(Path(analytics_dir))
    return roots


def data_files() -> Iterator[Path]:
    seen: set[Path] = set()
    static_root = Path(settings.STATIC_ROOT).resolve() if settings.STATIC_ROOT else None
    for root in data_roots():
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath).resolve()
            if static_root is not None and (here == static_root or static_root in here.parents):
                dirnames[:] = []
                continue
            for name in filenames:
                path = (here / name).resolve()
                if path in seen or name.endswith(_SKIP_SUFFIXES):
                    continue
                seen.add(path)
                yield path


def _byte_forms(terms: Iterable[str]) -> list[bytes]:
    forms: set[bytes] = set()
    for term in terms:
        for variant in (term, term.lower(), term.upper(), json.dumps(term)[1:-1]):
            forms.add(variant.encode("utf-8"))
            forms.add(variant.encode("utf-16-le"))
    return sorted(forms, key=len, reverse=True)


def bytes_mention(data: bytes, forms: list[bytes]) -> bool:
    lowered = data.lower()
    return any(f in data or f.lower() in lowered for f in forms)


def file_mentions(path: Path, forms: list[bytes]) -> bool:
    """Whether the file (or, for a ZIP such as XLSX, one of its members) holds a form."""
    try:
        if path.stat().st_size > MAX_SCAN_BYTES:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    if bytes_mention(data, forms):
        return True
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if info.file_size <= MAX_SCAN_BYTES and bytes_mention(
                        archive.read(info), forms
                    ):
                        return True
        except (zipfile.BadZipFile, OSError, RuntimeError):
            return False
    return False


def _rewrite_parquet(path: Path, redactor: Redactor) -> bool:
    """Rewrite a Parquet file with its text columns redacted; whether it changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    changed = False
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            values = column.to_pylist()
            new = [redactor.text(v) if isinstance(v, str) else v for v in values]
            if new != values:
                changed = True
                column = pa.chunked_array([pa.array(new, type=column.type)])
        columns.append(column)
    if changed:
        tmp = path.with_suffix(path.suffix + ".tmp")
        pq.write_table(pa.Table.from_arrays(columns, schema=table.schema), tmp)
        tmp.replace(path)
    return changed


def sweep_files(terms: list[str], redactor: Redactor, *, remove: Iterable[Path] = ()) -> int:
    """Remove every file in the data directory that mentions the person.

    Parquet files of the analytics store are rewritten with the values redacted instead
    (they hold every customer); any other file (a generated export, an attachment, a job's
    output) is deleted. ``remove``: files to delete whatever they hold. The number of files
    changed or deleted.
    """
    done = 0
    for path in remove:
        try:
            path.unlink()
            done += 1
        except FileNotFoundError:
            pass
    if not terms:
        return done
    forms = _byte_forms(terms)
    for path in data_files():
        if path.suffix == ".parquet":
            try:
                if _rewrite_parquet(path, redactor):
                    done += 1
            except Exception:  # an unreadable store file is removed instead
                if file_mentions(path, forms):
                    path.unlink(missing_ok=True)
                    done += 1
            continue
        if file_mentions(path, forms):
            path.unlink(missing_ok=True)
            done += 1
    return done
