"""The exports API: start an export of a list, read the actor's exports, download a file."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.exports import selectors, services

router = Router(tags=["exports"])


class ExportIn(Schema):
    entity: str = Field(max_length=40)
    format: str = Field(default="csv", max_length=8)
    filters: dict[str, Any] = Field(default_factory=dict)


class ExportOut(Schema):
    id: int
    entity: str
    format: str
    filters: dict[str, Any]
    status: str
    rows: int
    size: int
    job_id: int | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


@router.post("/exports", response={201: ExportOut, **ERRORS}, url_name="export_create")
def export_create(request: HttpRequest, payload: ExportIn) -> Status[Any]:
    """Start an export (always written to a file in the background; poll ``GET
    /exports/{id}`` and download it when ``status`` is ``done``)."""
    export = services.export_create(
        actor=request.auth,  # type: ignore[attr-defined]
        entity=payload.entity,
        format=payload.format,
        filters=payload.filters,
        background=True,
    )
    export.refresh_from_db()
    return Status(201, export)


@router.get("/exports", response={200: list[ExportOut], **ERRORS}, url_name="export_list")
def export_list(request: HttpRequest, limit: int = 50) -> Any:
    return selectors.export_list(actor=request.auth, limit=limit)  # type: ignore[attr-defined]


@router.get("/exports/{int:pk}", response={200: ExportOut, **ERRORS}, url_name="export_get")
def export_get(request: HttpRequest, pk: int) -> Any:
    return selectors.export_get(actor=request.auth, pk=pk)  # type: ignore[attr-defined]


@router.get("/exports/{int:pk}/file", response=ERRORS, url_name="export_file")
def export_file(request: HttpRequest, pk: int) -> FileResponse:
    """The export's file (only the owner's or an administrator's)."""
    from vefa.exports.views.exports import _file_response

    export = selectors.export_get(actor=request.auth, pk=pk)  # type: ignore[attr-defined]
    if export.status != "done":
        from django.utils.translation import gettext as _

        from vefa.common.errors import NotFound

        raise NotFound(_("Not found."))
    return _file_response(export)
