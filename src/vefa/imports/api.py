"""API of imports under /api/v1/imports/.

``POST /imports/uploads`` (multipart: ``entity``, ``file``, optional ``source``) stores the file
and proposes a mapping → the run; ``POST /imports/runs/{id}/preview`` validates the first rows
without writing; ``POST /imports/runs/{id}/start`` queues the job; ``GET /imports/runs/{id}``
is its status and counts; ``GET /imports/runs/{id}/errors`` the error report (CSV);
``POST /imports/runs/{id}/undo`` undoes it. Runs another person may not see are 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, clamp_limit, dump, json_response
from vefa.imports import selectors, services
from vefa.imports.entities import adapter_for, entities

router = Router(tags=["imports"])


class RunOut(Schema):
    id: int
    entity: str
    status: str
    file_name: str
    file_size: int
    encoding: str
    delimiter: str
    headers: list[str]
    columns: dict[str, str]
    source: str
    match_key: str
    on_match: str
    total_rows: int
    processed: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    error_rows: int
    has_errors_file: bool
    message: str
    job_id: int | None
    owner_id: int
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    undone_at: datetime.datetime | None
    undo_problems: list[dict[str, Any]]

    @staticmethod
    def resolve_has_errors_file(obj: Any) -> bool:
        return bool(obj.errors_file)


class RunListOut(Schema):
    items: list[RunOut]


class SettingsIn(Schema):
    columns: dict[str, str] | None = None
    match_key: str | None = None
    on_match: str | None = None
    source: str | None = None


class RowErrorOut(Schema):
    row: int
    column: str
    value: str
    reason: str


class PreviewRowOut(Schema):
    number: int
    action: str
    reason: str
    values: dict[str, str]
    errors: list[RowErrorOut]


class FieldOut(Schema):
    name: str
    label: str


class PreviewOut(Schema):
    run: RunOut
    fields: list[FieldOut]
    match_keys: list[str]
    columns: dict[str, str]
    mapping_error: list[str]
    counts: dict[str, int]
    rows: list[PreviewRowOut]
    imported_before: list[int]


class UndoOut(Schema):
    run: RunOut
    deleted: int
    restored: int
    problems: list[dict[str, Any]]


class EntityOut(Schema):
    entity: str
    label: str
    fields: list[FieldOut]
    match_keys: list[str]
    default_match_key: str


@router.get(
    "/imports/entities", response={200: list[EntityOut], **ERRORS}, url_name="imports_entities"
)
def entity_list(request: HttpRequest) -> HttpResponse:
    """What can be imported: each entity's fields and match keys."""
    actor_of(request)
    out = []
    for name in entities():
        adapter = adapter_for(name)
        out.append(
            {
                "entity": name,
                "label": str(adapter.label),
                "fields": [{"name": f.name, "label": str(f.label)} for f in adapter.fields],
                "match_keys": list(adapter.match_keys),
                "default_match_key": adapter.default_match_key,
            }
        )
    return json_response(out)


@router.post("/imports/uploads", response={201: RunOut, **ERRORS}, url_name="imports_upload")
def run_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    entity: Form[str],
    source: Form[str] = "",
) -> HttpResponse:
    """Store a CSV or XLSX file and propose a mapping; nothing is imported yet."""
    run = services.upload(
        actor=actor_of(request), entity=entity, name=file.name or "", stream=file, source=source
    )
    return json_response(dump(RunOut, run), status=201)


@router.get("/imports/runs", response={200: RunListOut, **ERRORS}, url_name="imports_runs")
def run_list(
    request: HttpRequest, before: int | None = None, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    """The runs the caller may see, newest first (``before``: an id, for the next page)."""
    runs = selectors.run_list(actor_of(request), limit=clamp_limit(limit), before=before)
    return json_response({"items": [dump(RunOut, r) for r in runs]})


@router.get("/imports/runs/{run_id}", response={200: RunOut, **ERRORS}, url_name="imports_run")
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """Status, progress and counts of a run."""
    return json_response(dump(RunOut, selectors.run_for(actor_of(request), run_id)))


@router.post(
    "/imports/runs/{run_id}/preview",
    response={200: PreviewOut, **ERRORS},
    url_name="imports_preview",
)
def run_preview(
    request: HttpRequest, run_id: int, body: SettingsIn, rows: int = Query(20, ge=1, le=1000)
) -> HttpResponse:
    """Validate the first rows with the given (or stored) mapping; writes nothing."""
    result = services.preview(
        actor=actor_of(request),
        run_id=run_id,
        columns=body.columns,
        match_key=body.match_key,
        on_match=body.on_match,
        rows=rows,
    )
    data = {
        "run": dump(RunOut, result.run),
        "fields": [{"name": n, "label": label} for n, label in result.fields],
        "match_keys": result.match_keys,
        "columns": result.columns,
        "mapping_error": result.mapping_error,
        "counts": result.counts,
        "rows": [
            {
                "number": r.number,
                "action": r.action,
                "reason": r.reason,
                "values": r.values,
                "errors": [e.__dict__ for e in r.errors],
            }
            for r in result.rows
        ],
        "imported_before": result.imported_before,
    }
    return json_response(data)


@router.post(
    "/imports/runs/{run_id}/start", response={202: RunOut, **ERRORS}, url_name="imports_start"
)
def run_start(request: HttpRequest, run_id: int, body: SettingsIn) -> HttpResponse:
    """Fix the mapping and queue the import as a background job."""
    run = services.start_import(
        actor=actor_of(request),
        run_id=run_id,
        columns=body.columns,
        match_key=body.match_key,
        on_match=body.on_match,
        source=body.source,
    )
    return json_response(dump(RunOut, run), status=202)


@router.get(
    "/imports/runs/{run_id}/errors", response={200: None, **ERRORS}, url_name="imports_errors"
)
def run_errors(request: HttpRequest, run_id: int) -> HttpResponse | FileResponse:
    """The error report: a CSV of row, column, value and reason (formula-safe)."""
    name, handle = services.errors_file(actor=actor_of(request), run_id=run_id)
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/imports/runs/{run_id}/undo", response={200: UndoOut, **ERRORS}, url_name="imports_undo"
)
def run_undo(request: HttpRequest, run_id: int) -> HttpResponse:
    """Delete what the run created and restore what it updated; lists what it could not."""
    result = services.undo_import(actor=actor_of(request), run_id=run_id)
    return json_response(
        {
            "run": dump(RunOut, result.run),
            "deleted": result.deleted,
            "restored": result.restored,
            "problems": [{k: str(v) for k, v in p.items()} for p in result.problems],
        }
    )
