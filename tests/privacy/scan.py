"""Looking for a person's traces in every table and every file of the data directory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from vefa.common.text import fold


def _forms(needles: list[str]) -> list[tuple[str, str, str]]:
    return [(n, n.casefold(), fold(n)) for n in needles]


def _hit(text: str, forms: list[tuple[str, str, str]]) -> str | None:
    if not text:
        return None
    candidates = [text]
    if text[:1] in '[{"':
        with contextlib.suppress(ValueError):
            candidates.append(json.dumps(json.loads(text), ensure_ascii=False))
    for candidate in candidates:
        lowered = candidate.casefold()
        folded = fold(candidate)
        for needle, needle_cf, needle_fold in forms:
            if needle_cf in lowered or (needle_fold and needle_fold in folded):
                return needle
    return None


def database_hits(needles: list[str]) -> list[tuple[str, str, Any, str]]:
    """(table, column, row, needle) for every text value in every table that holds a needle.

    Reads the schema, not the models: every table the database has, every column whose
    values come back as text (JSON included).
    """
    forms = _forms(needles)
    hits: list[tuple[str, str, Any, str]] = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor, include_views=False)
        for table in tables:
            if connection.vendor == "sqlite" and table.startswith("platform_search_fts_"):
                continue  # FTS5 shadow tables: binary segments of the external-content index
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str):
                        needle = _hit(value, forms)
                        if needle is not None:
                            hits.append((table, column, row[0], needle))
    return hits


def _bytes_hit(data: bytes, needles: list[str]) -> str | None:
    lowered = data.lower()
    for needle in needles:
        for variant in {needle, needle.lower(), fold(needle), json.dumps(needle)[1:-1]}:
            encoded = variant.encode("utf-8")
            if encoded in data or encoded.lower() in lowered:
                return needle
    return None


def file_hits(needles: list[str]) -> list[tuple[str, str]]:
    """(path, needle) for every file under the data directory (ZIP members opened)."""
    hits: list[tuple[str, str]] = []
    for dirpath, _dirs, names in os.walk(settings.DATA_DIR):
        for name in names:
            path = Path(dirpath) / name
            data = path.read_bytes()
            needle = _bytes_hit(data, needles)
            if needle is None and data[:4] == b"PK\x03\x04":
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    for member in archive.namelist():
                        needle = needle or _bytes_hit(archive.read(member), needles)
            if needle is not None:
                hits.append((str(path), needle))
    return hits
