"""Reads of imports for a person: restricted by the ``imports.importrun`` policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound, ValidationFailed
from vefa.imports import readers
from vefa.imports.models import ImportMapping, ImportRun

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from vefa.accounts.models import User


def runs_for(actor: User) -> QuerySet[ImportRun]:
    """The runs the actor may see, newest first."""
    return restrict(ImportRun.objects.select_related("owner"), actor, "view").order_by(
        "-created_at", "-id"
    )


def run_for(actor: User, run_id: Any) -> ImportRun:
    """One run the actor may see; any other id is ``NotFound``."""
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such import.")) from None
    run = runs_for(actor).filter(pk=pk).first()
    if run is None:
        raise NotFound(_("No such import."))
    return run


def run_list(actor: User, *, limit: int = 50, before: int | None = None) -> list[ImportRun]:
    qs = runs_for(actor)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    return list(qs[: max(1, min(limit, 100))])


def mappings_for(actor: User, entity: str | None = None) -> QuerySet[ImportMapping]:
    qs = restrict(ImportMapping.objects.all(), actor, "view")
    if entity:
        qs = qs.filter(entity=entity)
    return qs.order_by("source", "id")


def problems_of(run: ImportRun) -> list[dict[str, Any]]:
    """What undo could not do, as stored on the run."""
    return list(run.undo_problems or [])


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
