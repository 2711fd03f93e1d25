"""Reading an uploaded CSV again with another encoding or delimiter than the detected ones.

The wizard's mapping step shows what was detected; when a person corrects it, the header is
read again with the new layout and the columns are mapped afresh (a saved mapping for the
run's source first, else the automatic mapping). Only a run that has not started may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import can
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.imports import engine as eng
from vefa.imports import readers
from vefa.imports.entities import adapter_for
from vefa.imports.models import ImportRun, RunStatus
from vefa.imports.selectors import run_for

if TYPE_CHECKING:
    from vefa.accounts.models import User


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [message]})


def change_layout(*, actor: User, run_id: Any, encoding: str, delimiter: str) -> ImportRun:
    """Set a not yet started CSV run's encoding and delimiter; re-read its header."""
    from vefa.imports.services import MAX_COLUMNS, saved_mapping

    if encoding not in readers.ENCODING_LABELS:
        raise _invalid("encoding", _("Choose one of the listed encodings."))
    if delimiter not in readers.DELIMITERS:
        raise _invalid("delimiter", _("Choose one of the listed delimiters."))
    with transaction.atomic():
        run = run_for(actor, run_id)
        if not can(actor, "change", run):
            raise PermissionDenied(_("You may not change this import."))
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.UPLOADED:
            raise _invalid("status", _("This import has started already."))
        if run.file_kind != "csv":
            raise _invalid("encoding", _("Only a CSV file has an encoding and a delimiter."))
        if not default_storage.exists(run.file_path):
            raise NotFound(_("The uploaded file is gone."))
        layout = readers.Layout(kind="csv", encoding=encoding, delimiter=delimiter)
        with default_storage.open(run.file_path, "rb") as stream:
            first = next(iter(readers.read_rows(stream, layout)), None)
        if not first or not any(str(c).strip() for c in first):
            raise _invalid("file", _("The first row must name the columns."))
        if len(first) > MAX_COLUMNS:
            raise _invalid("file", _("At most %(n)d columns.") % {"n": MAX_COLUMNS})
        headers = eng.clean_headers(first)
        adapter = adapter_for(run.entity)
        mapping = saved_mapping(adapter.entity, run.source, headers)
        run.encoding = encoding
        run.delimiter = delimiter
        run.headers = headers
        run.columns = dict(mapping.columns) if mapping else eng.auto_map(adapter, headers)
        run.updated_by = actor
        run.save(
            update_fields=[
                "encoding",
                "delimiter",
                "headers",
                "columns",
                "updated_by",
                "updated_at",
            ]
        )
    return run


def sample_rows(run: ImportRun, count: int = 3) -> list[list[str]]:
    """The first data rows of the file (for the mapping page's examples); [] if unreadable."""
    if not default_storage.exists(run.file_path):
        return []
    layout = readers.Layout(kind=run.file_kind, encoding=run.encoding, delimiter=run.delimiter)
    try:
        with default_storage.open(run.file_path, "rb") as stream:
            rows = readers.head(stream, layout, count + 5)[1:]
    except (ValidationFailed, ValueError, OSError):
        return []
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    return [[str(c)[:120] for c in r] for r in rows[:count]]
