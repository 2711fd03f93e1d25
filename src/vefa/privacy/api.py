"""API of the privacy requests under /api/v1/privacy/ (administrators only; 404 otherwise)."""

from __future__ import annotations

import datetime

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Query, Router, Schema

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, clamp_limit, dump, json_response, page_json, page_out
from vefa.common.errors import NotFound
from vefa.common.paging import keyset_page
from vefa.privacy import selectors, services

router = Router(tags=["privacy"])


class RequestIn(Schema):
    kind: str
    subject_kind: str
    subject_id: int
    note: str = ""


class EraseIn(Schema):
    confirmation: str


class RejectIn(Schema):
    reason: str


class DeletionLogOut(Schema):
    id: int
    erased_at: datetime.datetime
    actor_name: str
    subject_kind: str
    subject_id: int
    identifiers_hash: str
    counts: dict[str, int]
    files_removed: int


class RequestOut(Schema):
    id: int
    kind: str
    subject_kind: str
    subject_id: int
    status: str
    received_at: datetime.datetime
    due_at: datetime.datetime
    completed_at: datetime.datetime | None
    note: str
    export_job_id: int | None
    export_ready: bool
    erase_job_id: int | None
    deletion_log: DeletionLogOut | None

    @staticmethod
    def resolve_export_ready(obj: object) -> bool:
        return bool(getattr(obj, "export_file", ""))


class RequestPageOut(Schema):
    items: list[RequestOut]
    next_cursor: str | None
    previous_cursor: str | None


class JobOut(Schema):
    id: int
    kind: str
    status: str


def _get(request: HttpRequest, request_id: int) -> object:
    return selectors.request_get(actor=actor_of(request), pk=request_id)


@router.get(
    "/privacy/requests", response={200: RequestPageOut, **ERRORS}, url_name="privacy_requests"
)
def request_list(
    request: HttpRequest,
    status: str = Query("", max_length=12),
    subject_kind: str = Query("", max_length=20),
    subject_id: int | None = Query(None, ge=1),
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Privacy requests, newest first."""
    actor = actor_of(request)
    services._require_admin(actor)
    qs = selectors.request_list(
        actor=actor, status=status, subject_kind=subject_kind, subject_id=subject_id
    ).select_related("deletion_log")
    page = keyset_page(qs, ordering="-received_at", cursor=cursor, size=clamp_limit(limit))
    return json_response(page_json(page_out(page, RequestOut)))


@router.post(
    "/privacy/requests", response={201: RequestOut, **ERRORS}, url_name="privacy_request_create"
)
def request_create(request: HttpRequest, body: RequestIn) -> HttpResponse:
    """Record a request (``kind``: export or erasure; ``subject_kind``: customer, lead or
    portal_account); due 30 days later."""
    row = services.request_create(
        actor=actor_of(request),
        kind=body.kind,
        subject_kind=body.subject_kind,
        subject_id=body.subject_id,
        note=body.note,
    )
    return json_response(dump(RequestOut, row), status=201)


@router.get(
    "/privacy/requests/{request_id}",
    response={200: RequestOut, **ERRORS},
    url_name="privacy_request",
)
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return json_response(dump(RequestOut, _get(request, request_id)))


@router.post(
    "/privacy/requests/{request_id}/export",
    response={202: JobOut, **ERRORS},
    url_name="privacy_request_export",
)
def request_export(request: HttpRequest, request_id: int) -> HttpResponse:
    """Start preparing the ZIP; poll the job (``/jobs/{id}``), then download it."""
    job = services.export_prepare(actor=actor_of(request), request_id=request_id)
    return json_response(dump(JobOut, job), status=202)


@router.get(
    "/privacy/requests/{request_id}/export.zip",
    response={200: None, **ERRORS},
    url_name="privacy_request_download",
)
def request_download(request: HttpRequest, request_id: int) -> HttpResponseBase:
    """The prepared ZIP (404 until it is ready)."""
    row = selectors.request_get(actor=actor_of(request), pk=request_id)
    path = services.export_file_path(row)
    if path is None:
        raise NotFound("Not found.")
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"data-subject-export-{row.pk}.zip",
        content_type="application/zip",
    )


@router.post(
    "/privacy/requests/{request_id}/erase",
    response={202: JobOut, **ERRORS},
    url_name="privacy_request_erase",
)
def request_erase(request: HttpRequest, request_id: int, body: EraseIn) -> HttpResponse:
    """Erase the subject; ``confirmation`` must be ``ERASE <subject id>``."""
    job = services.erasure_start(
        actor=actor_of(request), request_id=request_id, confirmation=body.confirmation
    )
    return json_response(dump(JobOut, job), status=202)


@router.post(
    "/privacy/requests/{request_id}/reject",
    response={200: RequestOut, **ERRORS},
    url_name="privacy_request_reject",
)
def request_reject(request: HttpRequest, request_id: int, body: RejectIn) -> HttpResponse:
    row = services.request_reject(
        actor=actor_of(request), request_id=request_id, reason=body.reason
    )
    return json_response(dump(RequestOut, row))
