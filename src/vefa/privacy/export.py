"""The data-subject export (GDPR Art. 15 and 20, KVKK Art. 11): one ZIP per request.

``manifest.json`` names the subject, the time and every file; ``data/<app>.<model>.json``
holds the reached rows of one kind (every column, foreign keys as ids, secrets left out);
``files/<app>.<model>/<id>/<name>`` the attached files. Rows are streamed into the archive
kind by kind, so a customer with many records does not have to fit in memory.
"""

from __future__ import annotations

import datetime
import json
import uuid
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from vefa.privacy.discovery import Found, model_of

FORMAT_VERSION = 1
# Columns that are secrets of the system, not data about the person.
SECRET_FIELDS = frozenset({"password", "token", "token_hash", "key_hash", "request_hash"})
# Derived rows that repeat what the export already holds.
NOT_EXPORTED = frozenset({"platform.searchentry"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    return value


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if f.name not in SECRET_FIELDS]


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name or "file"
    return "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in base)[:120]


def write_export(
    out: IO[bytes],
    found: Found,
    *,
    subject: dict[str, Any],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the ZIP of ``found`` to ``out``; the number of rows per kind."""
    counts: dict[str, int] = {}
    files: list[str] = []
    labels = sorted(label for label in found.labels() if label not in NOT_EXPORTED)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, label in enumerate(labels, start=1):
            model = model_of(label)
            columns = _columns(model)
            file_fields = [f for f in columns if isinstance(f, models.FileField)]
            n = 0
            pending: list[tuple[str, str]] = []
            with archive.open(f"data/{label}.json", "w") as member:
                member.write(b"[")
                for row in found.queryset(label).iterator(chunk_size=1000):
                    record = {f.attname: _jsonable(getattr(row, f.attname)) for f in columns}
                    for f in file_fields:
                        stored = getattr(row, f.attname)
                        record[f.attname] = stored.name if stored else None
                        if stored and default_storage.exists(stored.name):
                            original = getattr(row, "original_name", "") or stored.name
                            arcname = f"files/{label}/{row.pk}/{_safe_name(original)}"
                            pending.append((stored.name, arcname))
                            record[f"{f.attname}_in_export"] = arcname
                    member.write((b"," if n else b"") + b"\n")
                    member.write(json.dumps(record, ensure_ascii=False, default=str).encode())
                    n += 1
                member.write(b"\n]\n")
            # Files go in once the kind's JSON member is closed (one open member at a time).
            for stored_name, arcname in pending:
                with default_storage.open(stored_name, "rb") as source:
                    archive.writestr(arcname, source.read())
                files.append(arcname)
            counts[label] = n
            if progress is not None:
                progress(done, len(labels))
        manifest = {
            "format": "vefa.data-subject-export",
            "version": FORMAT_VERSION,
            "generated_at": timezone.now().isoformat(),
            "subject": subject,
            "counts": counts,
            "files": files,
        }
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
        )
    return counts
