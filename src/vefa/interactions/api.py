"""API of the contact history, activities and time entries (mounted under /api/v1).

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and updates and
412 on a stale ``If-Match``; ``Idempotency-Key`` and ``Location`` on creates; keyset pages
with ``limit`` ≤ 100; a record the caller may not see is 404, exactly like a missing one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Query, Router
from ninja.files import UploadedFile

from vefa.common.api import (
    API_ERRORS as ERRORS,
)
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    if_match_version,
    json_response,
    page_out,
)
from vefa.common.api import (
    dump as _dump,
)
from vefa.common.api import (
    page_json as _page,
)
from vefa.common.errors import ValidationFailed
from vefa.interactions import selectors, services
from vefa.interactions.filters import ActivityFilters, InteractionFilters
from vefa.interactions.schemas import (
    ActivityCompleteIn,
    ActivityIn,
    ActivityOut,
    ActivityPageOut,
    ActivityPatch,
    AttachmentOut,
    InteractionIn,
    InteractionOut,
    InteractionPageOut,
    InteractionPatch,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryPageOut,
)
from vefa.interactions.views._files import attachment_response
from vefa.platform.models import IdempotencyRecord

router = Router(tags=["interactions"])


# --- interactions ------------------------------------------------------------------------------


@router.get(
    "/interactions", response={200: InteractionPageOut, **ERRORS}, url_name="interaction_list"
)
def interaction_list(
    request: HttpRequest,
    filters: Query[InteractionFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The contact history the caller may see, newest first, with the list page's filters."""
    page = selectors.interaction_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(_page(page_out(page, InteractionOut)))


@router.post(
    "/interactions", response={201: InteractionOut, **ERRORS}, url_name="interaction_create"
)
def interaction_create(request: HttpRequest, payload: InteractionIn) -> HttpResponse:
    """Record an interaction on a customer the caller can see."""
    actor = actor_of(request)
    data = payload.model_dump()
    tags = data.pop("tags")
    data["channel"] = data["channel"] or ""

    def create() -> Any:
        created = services.interaction_create(actor=actor, tags=tags, **data)
        return selectors.interaction_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=InteractionOut,
        location=lambda obj: reverse("api:interaction_detail", args=[obj.pk]),
    )


@router.get(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    url_name="interaction_detail",
)
def interaction_detail(request: HttpRequest, interaction_id: int) -> HttpResponse:
    interaction = selectors.interaction_get(actor=actor_of(request), pk=interaction_id)
    return json_response(_dump(InteractionOut, interaction), instance=interaction)


@router.patch(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    url_name="interaction_update",
)
def interaction_update(
    request: HttpRequest, interaction_id: int, payload: InteractionPatch
) -> HttpResponse:
    """Change an interaction; send ``If-Match`` with the ETag you read to avoid lost updates."""
    actor = actor_of(request)
    current = selectors.interaction_get(actor=actor, pk=interaction_id)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    if "channel" in data and data["channel"] is None:
        data["channel"] = ""
    services.interaction_update(
        actor=actor,
        interaction_id=current.pk,
        data=data,  # type: ignore[arg-type]
        expected_version=if_match_version(request, current),
        tags=tags,
    )
    fresh = selectors.interaction_get(actor=actor, pk=current.pk)
    return json_response(_dump(InteractionOut, fresh), instance=fresh)


@router.delete(
    "/interactions/{interaction_id}", response={204: None, **ERRORS}, url_name="interaction_delete"
)
def interaction_delete(request: HttpRequest, interaction_id: int) -> HttpResponse:
    services.interaction_delete(actor=actor_of(request), interaction_id=interaction_id)
    return HttpResponse(status=204)


# --- attachments --------------------------------------------------------------------------------


@router.post(
    "/interactions/{interaction_id}/attachments",
    response={201: AttachmentOut, **ERRORS},
    url_name="attachment_create",
)
def attachment_create(
    request: HttpRequest, interaction_id: int, file: File[UploadedFile]
) -> HttpResponse:
    """Upload a file (multipart field ``file``) to an interaction the caller may change.

    ``Idempotency-Key`` works as on other creates; the request is identified by the
    interaction and the file's content (a multipart body cannot be re-read once parsed).
    """
    actor = actor_of(request)
    key = (request.headers.get("Idempotency-Key") or "").strip()[:200]
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    request_hash = hashlib.sha256(
        f"{interaction_id}:{file.name}:{digest.hexdigest()}".encode()
    ).hexdigest()
    if key:
        existing = IdempotencyRecord.objects.filter(user=actor, key=key).first()
        if existing is not None:
            if existing.request_hash != request_hash:
                raise ValidationFailed(
                    _("This Idempotency-Key was already used for a different request."),
                    fields={"Idempotency-Key": [_("Reused with a different request body.")]},
                )
            replay = HttpResponse(
                existing.response_body, status=existing.status_code, content_type="application/json"
            )
            replay["Location"] = existing.location
            replay["Idempotent-Replayed"] = "true"
            return replay
    with transaction.atomic():
        attachment = services.attachment_add(
            actor=actor, interaction_id=interaction_id, file=file, name=file.name
        )
        body = _dump(AttachmentOut, attachment)
        location = reverse("api:attachment_detail", args=[attachment.pk])
        if key:
            IdempotencyRecord.objects.create(
                user=actor,
                key=key,
                method="POST",
                path=request.path[:300],
                request_hash=request_hash,
                status_code=201,
                response_body=json.dumps(body, ensure_ascii=False),
                location=location,
            )
    response = json_response(body, status=201, instance=attachment)
    response["Location"] = location
    return response


@router.get(
    "/attachments/{attachment_id}",
    response={200: AttachmentOut, **ERRORS},
    url_name="attachment_detail",
)
def attachment_detail(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = selectors.attachment_get(actor=actor_of(request), pk=attachment_id)
    return json_response(_dump(AttachmentOut, attachment), instance=attachment)


@router.get(
    "/attachments/{attachment_id}/download",
    response={200: bytes, **ERRORS},
    url_name="attachment_download",
)
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """The file itself, only for callers who may see its interaction."""
    attachment = selectors.attachment_get(actor=actor_of(request), pk=attachment_id)
    return attachment_response(attachment)


@router.delete(
    "/attachments/{attachment_id}", response={204: None, **ERRORS}, url_name="attachment_delete"
)
def attachment_delete(request: HttpRequest, attachment_id: int) -> HttpResponse:
    services.attachment_delete(actor=actor_of(request), attachment_id=attachment_id)
    return HttpResponse(status=204)


# --- activities --------------------------------------------------------------------------------


def _activity(actor: Any, pk: int) -> Any:
    return selectors.activity_get(actor=actor, pk=pk)


@router.get("/activities", response={200: ActivityPageOut, **ERRORS}, url_name="activity_list")
def activity_list(
    request: HttpRequest,
    filters: Query[ActivityFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Activities by scheduled time (``scope`` mine/team/all and the list page's filters)."""
    page = selectors.activity_page(
        actor=actor_of(request),
        filters=filters,
        cursor=cursor,
        size=clamp_limit(limit),
        detailed=True,
    )
    return json_response(_page(page_out(page, ActivityOut)))


@router.post("/activities", response={201: ActivityOut, **ERRORS}, url_name="activity_create")
def activity_create(request: HttpRequest, payload: ActivityIn) -> HttpResponse:
    """Plan a task or call (``due_at``) or a meeting/appointment (``start_at``, ``end_at``)."""
    actor = actor_of(request)
    data = payload.model_dump()
    tags = data.pop("tags")

    def create() -> Any:
        created = services.activity_create(actor=actor, tags=tags, **data)
        return _activity(actor, created.pk)

    return create_response(
        request,
        create=create,
        schema=ActivityOut,
        location=lambda obj: reverse("api:activity_detail", args=[obj.pk]),
    )


@router.get(
    "/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, url_name="activity_detail"
)
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(actor_of(request), activity_id)
    return json_response(_dump(ActivityOut, activity), instance=activity)


@router.patch(
    "/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, url_name="activity_update"
)
def activity_update(request: HttpRequest, activity_id: int, payload: ActivityPatch) -> HttpResponse:
    """Change an activity; reminders follow its time. Send ``If-Match`` to avoid lost updates."""
    actor = actor_of(request)
    current = _activity(actor, activity_id)
    data = payload.model_dump(exclude_unset=True)
    extra = {
        key: data.pop(key, None)
        for key in ("reminder_minutes", "attendee_user_ids", "attendee_emails", "tags")
    }
    services.activity_update(
        actor=actor,
        activity_id=current.pk,
        data=data,  # type: ignore[arg-type]
        expected_version=if_match_version(request, current),
        **extra,
    )
    fresh = _activity(actor, current.pk)
    return json_response(_dump(ActivityOut, fresh), instance=fresh)


@router.post(
    "/activities/{activity_id}/complete",
    response={200: ActivityOut, **ERRORS},
    url_name="activity_complete",
)
def activity_complete(
    request: HttpRequest, activity_id: int, payload: ActivityCompleteIn
) -> HttpResponse:
    """Mark done; a call or meeting with a customer records the interaction (linked)."""
    actor = actor_of(request)
    current = _activity(actor, activity_id)
    services.activity_complete(
        actor=actor,
        activity_id=current.pk,
        outcome=payload.outcome,
        notes=payload.notes,
        duration_minutes=payload.duration_minutes,
        expected_version=if_match_version(request, current),
    )
    fresh = _activity(actor, current.pk)
    return json_response(_dump(ActivityOut, fresh), instance=fresh)


@router.post(
    "/activities/{activity_id}/cancel",
    response={200: ActivityOut, **ERRORS},
    url_name="activity_cancel",
)
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    actor = actor_of(request)
    current = _activity(actor, activity_id)
    services.activity_cancel(
        actor=actor, activity_id=current.pk, expected_version=if_match_version(request, current)
    )
    fresh = _activity(actor, current.pk)
    return json_response(_dump(ActivityOut, fresh), instance=fresh)


@router.delete(
    "/activities/{activity_id}", response={204: None, **ERRORS}, url_name="activity_delete"
)
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_delete(actor=actor_of(request), activity_id=activity_id)
    return HttpResponse(status=204)


# --- time entries ------------------------------------------------------------------------------


@router.get("/time-entries", response={200: TimeEntryPageOut, **ERRORS}, url_name="time_entry_list")
def time_entry_list(
    request: HttpRequest,
    customer: int | None = None,
    activity: int | None = None,
    mine: bool = False,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Time entries the caller may see, newest first."""
    page = selectors.time_entry_page(
        actor=actor_of(request),
        customer_id=customer,
        activity_id=activity,
        mine=mine,
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(_page(page_out(page, TimeEntryOut)))


@router.post("/time-entries", response={201: TimeEntryOut, **ERRORS}, url_name="time_entry_create")
def time_entry_create(request: HttpRequest, payload: TimeEntryIn) -> HttpResponse:
    """Record the caller's own time on a customer and/or activity (1 minute to 24 hours)."""
    actor = actor_of(request)
    return create_response(
        request,
        create=lambda: services.time_entry_create(actor=actor, **payload.model_dump()),
        schema=TimeEntryOut,
        location=lambda obj: reverse("api:time_entry_detail", args=[obj.pk]),
    )


@router.get(
    "/time-entries/{entry_id}", response={200: TimeEntryOut, **ERRORS}, url_name="time_entry_detail"
)
def time_entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.time_entry_get(actor=actor_of(request), pk=entry_id)
    return json_response(_dump(TimeEntryOut, entry), instance=entry)


@router.delete(
    "/time-entries/{entry_id}", response={204: None, **ERRORS}, url_name="time_entry_delete"
)
def time_entry_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    services.time_entry_delete(actor=actor_of(request), time_entry_id=entry_id)
    return HttpResponse(status=204)
