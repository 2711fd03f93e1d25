"""Imports: upload a file, preview it, start it as a background job, run (or resume) it, undo it.

Pages, the API and the ``vefa import`` command all go through these functions:

* ``upload(actor=…, entity=…, name=…, stream=…, source=…)`` stores the file, detects its
  encoding, delimiter and header and proposes a mapping (the one saved for this source and
  header layout, else the automatic one) → an ``ImportRun`` in status ``uploaded``;
* ``preview(actor=…, run_id=…, columns=…, match_key=…, on_match=…)`` validates the first rows
  with the same code as the run and says what each would do; it writes nothing;
* ``start_import(actor=…, run_id=…, …)`` fixes the mapping, remembers it for the source and
  queues the job; ``execute_run(run, report)`` is the job (batches of ``BATCH_ROWS`` rows,
  each committed with its checkpoint, so a killed run resumes exactly after its last batch);
* ``undo_import(actor=…, run_id=…)`` deletes what the run created and restores what it
  updated, refusing (and reporting) records that have gained other records since or were
  changed after the import.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.imports import engine as eng
from vefa.imports import readers
from vefa.imports.entities import adapter_for
from vefa.imports.entities.base import EntityAdapter, ImportContext, RowError
from vefa.imports.models import (
    ImportMapping,
    ImportRowRecord,
    ImportRun,
    OnMatch,
    RowAction,
    RunStatus,
)
from vefa.platform.jobs import Progress, job_handler, job_start
from vefa.platform.models import Job

if TYPE_CHECKING:
    from vefa.accounts.models import User

JOB_KIND = "imports.run"
FOLDER = "imports/files"
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 500


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [message]})


def _check_may_import(actor: User, adapter: EntityAdapter) -> None:
    if not can_create(actor, ImportRun) or not adapter.can_import(actor):
        raise PermissionDenied(
            _("Your role cannot import %(what)s.") % {"what": str(adapter.label).lower()}
        )


def _run_for_change(actor: User, run_id: Any, action: str = "change") -> ImportRun:
    from vefa.imports.selectors import run_for

    run = run_for(actor, run_id)
    if not can(actor, "delete" if action == "delete" else "change", run):
        raise PermissionDenied(_("You may not change this import."))
    return run


# --- upload ----------------------------------------------------------------------------------


def _sha256(stream: IO[bytes]) -> tuple[str, int]:
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def saved_mapping(entity: str, source: str, headers: list[str]) -> ImportMapping | None:
    if not source:
        return None
    return ImportMapping.objects.filter(
        entity=entity, source=source, signature=eng.header_signature(headers)
    ).first()


def upload(
    *,
    actor: User,
    entity: str,
    name: str,
    stream: IO[bytes],
    source: str = "",
) -> ImportRun:
    """Store an uploaded file and read its layout and header; nothing is imported yet."""
    adapter = adapter_for(entity)
    _check_may_import(actor, adapter)
    if stream is None:
        raise _invalid("file", _("Choose a file."))
    kind = readers.file_kind(name)
    source = str(source or "").strip()[:100]
    digest, size = _sha256(stream)
    if size == 0:
        raise _invalid("file", _("The file is empty."))
    if size > MAX_FILE_BYTES:
        raise _invalid("file", _("The file is larger than 200 MB."))
    layout = readers.detect_layout(stream, kind)
    try:
        first = next(iter(readers.read_rows(stream, layout)), None)
    except ValidationFailed:
        raise
    except Exception:
        raise _invalid(
            "file", _("The file could not be read as %(kind)s.") % {"kind": kind}
        ) from None
    if not first or not any(str(c).strip() for c in first):
        raise _invalid("file", _("The first row must name the columns."))
    if len(first) > MAX_COLUMNS:
        raise _invalid("file", _("At most %(n)d columns.") % {"n": MAX_COLUMNS})
    headers = eng.clean_headers(first)
    mapping = saved_mapping(adapter.entity, source, headers)
    columns = dict(mapping.columns) if mapping else eng.auto_map(adapter, headers)
    stream.seek(0)
    path = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.{kind}", File(stream))
    run = ImportRun.objects.create(
        entity=adapter.entity,
        file_name=os.path.basename(name or "")[:200],
        file_path=path,
        file_kind=kind,
        file_size=size,
        file_hash=digest,
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        headers=headers,
        columns=columns,
        source=source,
        match_key=(mapping.match_key if mapping else adapter.default_match_key),
        on_match=(mapping.on_match if mapping else OnMatch.UPDATE),
        owner=actor,
        team=actor.team,
        created_by=actor,
        updated_by=actor,
    )
    return run


# --- preview -----------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    action: str  # create | update | skip | unchanged | error
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    reason: str = ""


@dataclass
class Preview:
    run: ImportRun
    headers: list[str]
    columns: dict[str, str]
    fields: list[tuple[str, str]]
    match_keys: list[str]
    rows: list[PreviewRow]
    counts: dict[str, int]
    mapping_error: list[str] = field(default_factory=list)
    imported_before: list[int] = field(default_factory=list)


def _settings(
    adapter: EntityAdapter,
    run: ImportRun,
    columns: dict[str, str] | None,
    match_key: str | None,
    on_match: str | None,
) -> tuple[dict[str, str], str, str]:
    columns = run.columns if columns is None else columns
    match_key = run.match_key if match_key is None else str(match_key)
    on_match = run.on_match if on_match is None else str(on_match)
    if match_key and match_key not in adapter.match_keys:
        raise _invalid(
            "match_key",
            _("Match on one of: %(keys)s.") % {"keys": ", ".join(adapter.match_keys)},
        )
    if on_match not in OnMatch.values:
        raise _invalid("on_match", _("Choose update or skip."))
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise _invalid("columns", _("The mapping must map column headers to field names."))
    return dict(columns), match_key, on_match


def _open_rows(run: ImportRun) -> tuple[IO[bytes], Iterator[list[str]]]:
    if not default_storage.exists(run.file_path):
        raise NotFound(_("The uploaded file is gone."))
    stream = default_storage.open(run.file_path, "rb")
    layout = readers.Layout(kind=run.file_kind, encoding=run.encoding, delimiter=run.delimiter)
    return stream, readers.read_rows(stream, layout)


def _is_blank(cells: list[str]) -> bool:
    return not any(str(c).strip() for c in cells)


def change_layout(*, actor: User, run_id: Any, encoding: str, delimiter: str) -> ImportRun:
    """Set a not yet started CSV run's encoding and delimiter, read its header again with
    them and map the columns afresh (the source's saved mapping first, else automatically):
    the wizard's correction of a wrongly detected layout."""
    if encoding not in readers.ENCODING_LABELS:
        raise _invalid("encoding", _("Choose one of the listed encodings."))
    if delimiter not in readers.DELIMITERS:
        raise _invalid("delimiter", _("Choose one of the listed delimiters."))
    with transaction.atomic():
        run = _run_for_change(actor, run_id)
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


def preview(
    *,
    actor: User,
    run_id: Any,
    columns: dict[str, str] | None = None,
    match_key: str | None = None,
    on_match: str | None = None,
    rows: int = eng.PREVIEW_ROWS,
) -> Preview:
    """Validate the first ``rows`` rows as the run would and say what each would do."""
    run = _run_for_change(actor, run_id)
    adapter = adapter_for(run.entity)
    _check_may_import(actor, adapter)
    columns, match_key, on_match = _settings(adapter, run, columns, match_key, on_match)
    result = Preview(
        run=run,
        headers=list(run.headers),
        columns=columns,
        fields=[(f.name, str(f.label)) for f in adapter.fields],
        match_keys=list(adapter.match_keys),
        rows=[],
        counts={},
    )
    result.imported_before = list(
        ImportRun.objects.filter(file_hash=run.file_hash, entity=run.entity, status=RunStatus.DONE)
        .exclude(pk=run.pk)
        .values_list("pk", flat=True)[:5]
    )
    try:
        index = eng.resolve_columns(adapter, run.headers, columns)
    except ValidationFailed as exc:
        result.mapping_error = exc.fields.get("columns", [exc.message])
        return result
    ctx = ImportContext(actor=actor, dry_run=True, match_key=match_key, on_match=on_match)
    engine = eng.Engine(adapter, ctx, run.headers, index)
    stream, reader = _open_rows(run)
    try:
        next(reader, None)
        batch = []
        for number, cells in enumerate(itertools.islice(reader, max(1, min(rows, 1000))), start=2):
            if _is_blank(cells):
                continue
            batch.append(engine.build_row(number, cells))
    finally:
        stream.close()
    counts: dict[str, int] = {}
    for decision in engine.decide(batch):
        counts[decision.action] = counts.get(decision.action, 0) + 1
        result.rows.append(
            PreviewRow(
                number=decision.row.number,
                action=decision.action,
                values=decision.row.raw,
                errors=list(decision.row.errors),
                reason=decision.reason,
            )
        )
    result.counts = counts
    return result


# --- start -------------------------------------------------------------------------------------


def _remember_mapping(actor: User, run: ImportRun) -> None:
    if not run.source:
        return
    ImportMapping.objects.update_or_create(
        entity=run.entity,
        source=run.source,
        signature=eng.header_signature(run.headers),
        defaults={
            "headers": run.headers,
            "columns": run.columns,
            "match_key": run.match_key,
            "on_match": run.on_match,
            "owner": actor,
            "team": actor.team,
            "updated_by": actor,
        },
        create_defaults={
            "headers": run.headers,
            "columns": run.columns,
            "match_key": run.match_key,
            "on_match": run.on_match,
            "owner": actor,
            "team": actor.team,
            "created_by": actor,
            "updated_by": actor,
        },
    )


def configure(
    *,
    actor: User,
    run_id: Any,
    columns: dict[str, str] | None = None,
    match_key: str | None = None,
    on_match: str | None = None,
    source: str | None = None,
) -> ImportRun:
    """Set a not yet started run's mapping and match settings (checked)."""
    run = _run_for_change(actor, run_id)
    if run.status != RunStatus.UPLOADED:
        raise _invalid("status", _("This import has started already."))
    adapter = adapter_for(run.entity)
    columns, match_key, on_match = _settings(adapter, run, columns, match_key, on_match)
    eng.resolve_columns(adapter, run.headers, columns)
    run.columns, run.match_key, run.on_match = columns, match_key, on_match
    if source is not None:
        run.source = str(source).strip()[:100]
    run.updated_by = actor
    run.save(
        update_fields=["columns", "match_key", "on_match", "source", "updated_by", "updated_at"]
    )
    return run


def start_import(
    *,
    actor: User,
    run_id: Any,
    columns: dict[str, str] | None = None,
    match_key: str | None = None,
    on_match: str | None = None,
    source: str | None = None,
    background: bool = True,
) -> ImportRun:
    """Fix the mapping, remember it for the source and queue the import job.

    With ``background=False`` (the CLI) the run is marked queued and left to the caller,
    which runs ``execute_run`` itself.
    """
    with transaction.atomic():
        run = configure(
            actor=actor,
            run_id=run_id,
            columns=columns,
            match_key=match_key,
            on_match=on_match,
            source=source,
        )
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.UPLOADED:
            raise _invalid("status", _("This import has started already."))
        _check_may_import(actor, adapter_for(run.entity))
        _remember_mapping(actor, run)
        run.status = RunStatus.QUEUED
        if background:
            run.job = job_start(
                actor=actor,
                kind=JOB_KIND,
                title=_("Import of %(what)s: %(name)s")
                % {"what": str(adapter_for(run.entity).label).lower(), "name": run.file_name},
                params={"run": run.pk},
            )
        run.save(update_fields=["status", "job", "updated_at"])
    return run


# --- the run -----------------------------------------------------------------------------------

AfterBatch = Callable[[int], None]


def summary(run: ImportRun) -> str:
    return _(
        "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(skipped)d skipped, "
        "%(errors)d rows with errors."
    ) % {
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "skipped": run.skipped,
        "errors": run.error_rows,
    }


COUNTERS = ("processed", "created", "updated", "unchanged", "skipped", "error_rows")


def execute_run(
    run_id: int,
    report: Progress | None = None,
    *,
    after_batch: AfterBatch | None = None,
    batch_rows: int = eng.BATCH_ROWS,
) -> ImportRun:
    """Run or resume an import; each batch commits with its checkpoint (``last_row``).

    ``after_batch`` (tests, benchmarks) is called with the batch count after each commit.
    """
    run = ImportRun.objects.select_related("owner").get(pk=run_id)
    if run.status in (RunStatus.DONE, RunStatus.UNDONE, RunStatus.PARTLY_UNDONE):
        return run
    actor = run.owner
    if not actor.is_active:
        raise PermissionDenied(_("The user who started the import is no longer active."))
    adapter = adapter_for(run.entity)
    _check_may_import(actor, adapter)
    index = eng.resolve_columns(adapter, run.headers, run.columns)
    ctx = ImportContext(actor=actor, run=run, match_key=run.match_key, on_match=run.on_match)
    engine = eng.Engine(adapter, ctx, run.headers, index)
    layout = readers.Layout(kind=run.file_kind, encoding=run.encoding, delimiter=run.delimiter)
    if not run.total_rows:
        with default_storage.open(run.file_path, "rb") as counting:
            run.total_rows = readers.count_data_rows(counting, layout)
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.errors_file = run.errors_file or f"{FOLDER}/run-{run.pk}-errors.csv"
    run.save(update_fields=["status", "started_at", "errors_file", "total_rows", "updated_at"])
    errors = eng.ErrorReport(run.errors_file, run.errors_bytes)
    resume_row = run.last_row
    batches = 0

    def flush(batch: list[Any], last_row: int) -> None:
        nonlocal batches
        start = errors.mark()
        with transaction.atomic():
            result = engine.write(engine.decide(batch))
            errors.rewind(start)
            size = errors.add(sorted(result.errors, key=lambda e: (e.row, e.column)))
            run.processed += len(batch)
            for key, value in result.counts.items():
                setattr(run, key, getattr(run, key) + value)
            run.last_row = last_row
            run.errors_bytes = size
            ImportRun.objects.filter(pk=run.pk).update(
                last_row=last_row,
                errors_bytes=size,
                updated_at=timezone.now(),
                **{k: getattr(run, k) for k in COUNTERS},
            )
        batches += 1
        if report is not None:
            report(run.processed, max(run.total_rows, run.processed), message=summary(run))
        if after_batch is not None:
            after_batch(batches)

    stream, reader = _open_rows(run)
    try:
        next(reader, None)
        batch: list[Any] = []
        number = 1
        for cells in reader:
            number += 1
            if number <= resume_row or _is_blank(cells):
                continue
            batch.append(engine.build_row(number, cells))
            if len(batch) >= batch_rows:
                flush(batch, number)
                batch = []
        if batch or number > run.last_row:
            flush(batch, number)
    except Exception as exc:
        message = exc.message if isinstance(exc, ValidationFailed) else str(exc)
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=str(message)[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        stream.close()
        errors.close()
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.message = summary(run)
    if not run.error_rows:
        default_storage.delete(run.errors_file)
        run.errors_file = ""
    run.save(update_fields=["status", "finished_at", "message", "errors_file", "updated_at"])
    emit(
        DomainEvent(
            name="imports.importrun.finished",
            model="imports.importrun",
            object_id=run.pk,
            actor_id=actor.pk,
            payload={k: getattr(run, k) for k in COUNTERS},
        )
    )
    return run


@job_handler(JOB_KIND)
def import_job(job: Job, report: Progress) -> dict[str, Any]:
    run_id = int((job.params or {}).get("run", 0))
    run = execute_run(run_id, report)
    return {
        "run": run.pk,
        **{k: getattr(run, k) for k in COUNTERS},
        "errors_file": bool(run.errors_file),
    }


def errors_file(*, actor: User, run_id: Any) -> tuple[str, IO[bytes]]:
    """The error report of a run the actor may see: (download name, open binary file)."""
    from vefa.imports.selectors import run_for

    run = run_for(actor, run_id)
    if not run.errors_file or not default_storage.exists(run.errors_file):
        raise NotFound(_("This import has no error report."))
    base = os.path.splitext(run.file_name)[0] or "import"
    return f"{base}-errors.csv", default_storage.open(run.errors_file, "rb")


# --- undo ----------------------------------------------------------------------------------------


@dataclass
class UndoResult:
    run: ImportRun
    deleted: int
    restored: int
    problems: list[dict[str, Any]]


def undo_import(*, actor: User, run_id: Any) -> UndoResult:
    """Delete what a finished run created and restore what it updated.

    A created record that has since gained other records (orders, tickets …) is kept, and an
    updated record changed again after the import is not restored; each is listed in
    ``problems`` (and on the run) instead.
    """
    run = _run_for_change(actor, run_id, action="delete")
    adapter = adapter_for(run.entity)
    deleted = restored = 0
    problems: list[dict[str, Any]] = []
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in (RunStatus.DONE, RunStatus.FAILED, RunStatus.PARTLY_UNDONE):
            raise _invalid("status", _("Only a finished import can be undone."))
        ctx = ImportContext(actor=actor, run=run)
        records = list(run.row_records.order_by("-id"))
        done: list[int] = []
        # Restore updated fields first (newest first), then delete what was created.
        for record in records:
            if record.action != RowAction.UPDATED:
                continue
            undone = adapter.undo_updated(
                record.object_type, record.object_id, record.previous, ctx
            )
            if isinstance(undone, str):
                problems.append(
                    {
                        "row": record.row,
                        "object": record.object_type,
                        "id": record.object_id,
                        "reason": undone,
                    }
                )
                continue
            done.append(record.pk)
            restored += int(undone)
        created: dict[str, list[ImportRowRecord]] = {}
        for record in records:
            if record.action == RowAction.CREATED:
                created.setdefault(record.object_type, []).append(record)
        main = adapter.object_type()
        order = sorted(created, key=lambda t: t == main)  # children first, the main records last
        blocked_main: dict[int, str] = {}
        if main in created:
            blocked_main = adapter.undo_blockers(main, [r.object_id for r in created[main]])
        blocked_rows = {r.row for r in created.get(main, []) if r.object_id in blocked_main}
        for object_type in order:
            ids = []
            for record in created[object_type]:
                if object_type != main and record.row in blocked_rows:
                    continue  # kept with its record
                reason = blocked_main.get(record.object_id) if object_type == main else None
                if reason:
                    problems.append(
                        {
                            "row": record.row,
                            "object": object_type,
                            "id": record.object_id,
                            "reason": reason,
                        }
                    )
                    continue
                ids.append(record.object_id)
                done.append(record.pk)
            if not ids:
                continue
            gone = adapter.undo_created(object_type, ids, ctx)
            if object_type == main:
                deleted += gone
        ImportRowRecord.objects.filter(pk__in=done).delete()
        run.status = RunStatus.PARTLY_UNDONE if problems else RunStatus.UNDONE
        run.undone_at = timezone.now()
        run.undo_problems = [{k: str(v) for k, v in p.items()} for p in problems][:1000]
        run.updated_by = actor
        run.save(update_fields=["status", "undone_at", "undo_problems", "updated_by", "updated_at"])
        emit(
            DomainEvent(
                name="imports.importrun.undone",
                model="imports.importrun",
                object_id=run.pk,
                actor_id=actor.pk,
                payload={"deleted": deleted, "restored": restored, "problems": len(problems)},
            )
        )
    return UndoResult(run=run, deleted=deleted, restored=restored, problems=problems)


def restrict_runs(actor: User) -> Any:
    return restrict(ImportRun.objects.all(), actor, "view")


def load_json_mapping(text: str) -> dict[str, str]:
    """A mapping given as JSON text or a path to a JSON file: {"column": "field"}."""
    if os.path.exists(text):
        with open(text, encoding="utf-8") as handle:
            text = handle.read()
    try:
        value = json.loads(text)
    except ValueError:
        raise _invalid("columns", _("The mapping is not valid JSON.")) from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _invalid("columns", _("The mapping must map column headers to field names."))
    return value


@dataclass
class DryRun:
    counts: dict[str, int]
    errors: list[RowError]
    columns: dict[str, str]
    encoding: str
    delimiter: str


def dry_run(
    *,
    actor: User,
    entity: str,
    name: str,
    stream: IO[bytes],
    columns: dict[str, str] | None = None,
    match_key: str | None = None,
    on_match: str = OnMatch.UPDATE,
    max_errors: int = 1000,
) -> DryRun:
    """Validate a whole file as the run would, batch by batch, without writing anything."""
    adapter = adapter_for(entity)
    _check_may_import(actor, adapter)
    kind = readers.file_kind(name)
    layout = readers.detect_layout(stream, kind)
    reader = readers.read_rows(stream, layout)
    first = next(reader, None)
    if not first:
        raise _invalid("file", _("The first row must name the columns."))
    headers = eng.clean_headers(first)
    columns = eng.auto_map(adapter, headers) if columns is None else columns
    key = adapter.default_match_key if match_key is None else match_key
    fake = ImportRun(columns=columns, match_key=key, on_match=on_match, headers=headers)
    columns, key, on_match = _settings(adapter, fake, None, None, None)
    index = eng.resolve_columns(adapter, headers, columns)
    ctx = ImportContext(actor=actor, dry_run=True, match_key=key, on_match=on_match)
    engine = eng.Engine(adapter, ctx, headers, index)
    counts: dict[str, int] = {}
    errors: list[RowError] = []

    def flush(batch: list[Any]) -> None:
        for decision in engine.decide(batch):
            counts[decision.action] = counts.get(decision.action, 0) + 1
            if len(errors) < max_errors:
                errors.extend(decision.row.errors)

    batch: list[Any] = []
    for number, cells in enumerate(reader, start=2):
        if _is_blank(cells):
            continue
        batch.append(engine.build_row(number, cells))
        if len(batch) >= eng.BATCH_ROWS:
            flush(batch)
            batch = []
    flush(batch)
    return DryRun(counts, errors[:max_errors], columns, layout.encoding, layout.delimiter)
