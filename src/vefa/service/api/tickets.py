"""API of tickets under /api/v1/service/tickets (conventions in ``vefa.common.api``).

Agents read every ticket and work their team's; a ticket the caller may not reach is 404, and
so is a write to a ticket they may read but not change. Creates take an ``Idempotency-Key``;
updates, status changes and assignments honour ``If-Match`` (412 when stale).

Files: a message with files is sent as ``multipart/form-data`` to ``…/messages/upload``
under the upload rules of the pages and inbound e-mail (``attachment_add``); the ticket's
files are listed and downloaded under ``…/attachments``, for callers who may see the ticket.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.common.errors import ValidationFailed
from vefa.interactions.views._files import attachment_response
from vefa.platform.models import IdempotencyRecord
from vefa.service.api.tickets_schemas import (
    AssignIn,
    AttachmentListOut,
    AttachmentOut,
    CsatListOut,
    CsatOut,
    MergeIn,
    MessageIn,
    MessageListOut,
    MessageOut,
    MessageUploadIn,
    StatusIn,
    TicketIn,
    TicketOut,
    TicketPageOut,
    TicketPatch,
    service_data,
)
from vefa.service.filters import TicketFilters
from vefa.service.selectors import tickets as selectors
from vefa.service.services import tickets as services

router = Router(tags=["service"])


@router.get("/tickets", response={200: TicketPageOut, **ERRORS}, url_name="service_tickets")
def ticket_list(
    request: HttpRequest,
    filters: Query[TicketFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Tickets the caller may see, newest first; ``status=active`` for new, open and waiting."""
    page = selectors.ticket_list(
        actor=actor_of(request), filters=filters, cursor=cursor, limit=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, TicketOut)))


@router.post("/tickets", response={201: TicketOut, **ERRORS}, url_name="service_ticket_create")
def ticket_create(request: HttpRequest, payload: TicketIn) -> HttpResponse:
    """Open a ticket; Vefa gives the number and routes it to a queue and an agent unless
    ``queue_id`` / ``owner_id`` are given. The description becomes the first message."""
    actor = actor_of(request)
    data = service_data(payload.model_dump())

    def create() -> Any:
        with hidden_if_denied():
            created = services.ticket_create(actor=actor, data=data)
        return selectors.ticket_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=TicketOut,
        location=lambda obj: reverse("api:service_ticket_detail", args=[obj.pk]),
    )


@router.get(
    "/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, url_name="service_ticket_detail"
)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor_of(request), pk=ticket_id)
    return json_response(dump(TicketOut, ticket), instance=ticket)


@router.patch(
    "/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, url_name="service_ticket_update"
)
def ticket_update(request: HttpRequest, ticket_id: int, payload: TicketPatch) -> HttpResponse:
    """Change a ticket's details; send ``If-Match`` with the ETag you read (412 when stale).
    Status, queue and owner change through their own operations."""
    actor = actor_of(request)
    current = selectors.ticket_get(actor=actor, pk=ticket_id)
    data = service_data(payload.model_dump(exclude_unset=True))
    with hidden_if_denied():
        services.ticket_update(
            actor=actor,
            ticket_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.ticket_get(actor=actor, pk=current.pk)
    return json_response(dump(TicketOut, fresh), instance=fresh)


@router.get(
    "/tickets/{ticket_id}/messages",
    response={200: MessageListOut, **ERRORS},
    url_name="service_ticket_messages",
)
def ticket_messages(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The conversation, oldest first: customer messages, replies, internal notes and system
    messages, with the attachments' names."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    messages = selectors.ticket_messages(actor=actor, ticket=ticket)
    return json_response({"items": [dump(MessageOut, m) for m in messages]})


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut, **ERRORS},
    url_name="service_ticket_message_add",
)
def ticket_message_add(request: HttpRequest, ticket_id: int, payload: MessageIn) -> HttpResponse:
    """Add a public reply (e-mailed unless ``send_email`` is false), an internal note or a
    customer's message taken by phone. A body above 100 kB is refused."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    with hidden_if_denied():
        message = services.ticket_message_add(
            actor=actor,
            ticket_id=ticket.pk,
            kind=payload.kind,
            body=payload.body,
            send_email=payload.send_email,
        )
    return json_response(dump(MessageOut, message), status=201)


def _upload_hash(ticket_id: int, payload: MessageUploadIn, files: list[UploadedFile]) -> str:
    """What identifies an upload for ``Idempotency-Key`` (a multipart body cannot be read
    again once parsed): the ticket, the form fields, and each file's name and content."""
    parts = [str(ticket_id), payload.kind, payload.body, str(payload.send_email)]
    for upload in files:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        parts += [str(upload.name or ""), digest.hexdigest()]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> HttpResponse:
    if record.request_hash != request_hash:
        raise ValidationFailed(
            _("This Idempotency-Key was already used for a different request."),
            fields={"Idempotency-Key": [_("Reused with a different request body.")]},
        )
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


@router.post(
    "/tickets/{ticket_id}/messages/upload",
    response={201: MessageOut, **ERRORS},
    url_name="service_ticket_message_upload",
)
def ticket_message_upload(
    request: HttpRequest,
    ticket_id: int,
    payload: Form[MessageUploadIn],
    attachments: File[list[UploadedFile]],
) -> HttpResponse:
    """Add a customer's message or a public reply with files, as ``multipart/form-data``:
    the fields ``kind``, ``body`` and ``send_email`` and one ``attachments`` part per file.

    The upload rules of the pages and inbound e-mail apply to every file (at most 20, each
    within the size limit, an allowed type whose content really is that type; the name is
    kept for display only, without directories or control characters); one refused file
    refuses the whole message, with its name, on ``attachments``. The ticket needs a
    customer. ``Idempotency-Key`` works as on creates; the request is identified by the
    ticket, the fields and the files' names and content."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 200:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"Idempotency-Key": [_("At most 200 characters.")]},
        )
    request_hash = _upload_hash(ticket.pk, payload, attachments)
    if key:
        existing = IdempotencyRecord.objects.filter(user=actor, key=key).first()
        if existing is not None:
            return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            with hidden_if_denied():
                message = services.ticket_message_add(
                    actor=actor,
                    ticket_id=ticket.pk,
                    kind=payload.kind,
                    body=payload.body,
                    attachments=attachments,
                    send_email=payload.send_email,
                )
            body = dump(MessageOut, message)
            if key:
                IdempotencyRecord.objects.create(
                    user=actor,
                    key=key,
                    method="POST",
                    path=request.path[:300],
                    request_hash=request_hash,
                    status_code=201,
                    response_body=json.dumps(body, ensure_ascii=False),
                )
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its response.
        existing = IdempotencyRecord.objects.filter(user=actor, key=key).first() if key else None
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return json_response(body, status=201)


@router.get(
    "/tickets/{ticket_id}/attachments",
    response={200: AttachmentListOut, **ERRORS},
    url_name="service_ticket_attachments",
)
def ticket_attachments(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The files of the ticket's messages, oldest first, each with its message and download
    link (a ticket merged into this one brought its files along)."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    files = selectors.ticket_attachments(actor=actor, ticket=ticket)
    return json_response({"items": [dump(AttachmentOut, f) for f in files]})


@router.get(
    "/tickets/{ticket_id}/attachments/{attachment_id}",
    response={200: AttachmentOut, **ERRORS},
    url_name="service_ticket_attachment_detail",
)
def ticket_attachment_detail(
    request: HttpRequest, ticket_id: int, attachment_id: int
) -> HttpResponse:
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    attachment = selectors.ticket_attachment_get(actor=actor, ticket=ticket, pk=attachment_id)
    return json_response(dump(AttachmentOut, attachment), instance=attachment)


@router.get(
    "/tickets/{ticket_id}/attachments/{attachment_id}/download",
    response={200: bytes, **ERRORS},
    url_name="service_ticket_attachment_download",
)
def ticket_attachment_download(
    request: HttpRequest, ticket_id: int, attachment_id: int
) -> FileResponse:
    """The file itself, for callers who may see the ticket; always a download (never shown
    inline), with its type from the allow-list, ``nosniff`` and a sandboxing CSP."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    attachment = selectors.ticket_attachment_get(actor=actor, ticket=ticket, pk=attachment_id)
    return attachment_response(attachment)


@router.get(
    "/tickets/{ticket_id}/csat",
    response={200: CsatListOut, **ERRORS},
    url_name="service_ticket_csat",
)
def ticket_csat(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The CSAT invitations and answers of the ticket and of the tickets merged into it (a
    duplicate keeps its own when this ticket had one: one per ticket)."""
    actor = actor_of(request)
    ticket = selectors.ticket_get(actor=actor, pk=ticket_id)
    items = selectors.ticket_csat(actor=actor, ticket=ticket)
    return json_response({"items": [dump(CsatOut, i) for i in items]})


@router.post(
    "/tickets/{ticket_id}/status",
    response={200: TicketOut, **ERRORS},
    url_name="service_ticket_status",
)
def ticket_status(request: HttpRequest, ticket_id: int, payload: StatusIn) -> HttpResponse:
    """Move the ticket along new → open → waiting → resolved → closed (or reopen)."""
    actor = actor_of(request)
    current = selectors.ticket_get(actor=actor, pk=ticket_id)
    with hidden_if_denied():
        services.ticket_set_status(
            actor=actor,
            ticket_id=current.pk,
            status=payload.status,
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.ticket_get(actor=actor, pk=current.pk)
    return json_response(dump(TicketOut, fresh), instance=fresh)


@router.post(
    "/tickets/{ticket_id}/assign",
    response={200: TicketOut, **ERRORS},
    url_name="service_ticket_assign",
)
def ticket_assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> HttpResponse:
    """Give the ticket to an agent and/or move it to a queue; without ``owner_id`` the queue's
    method picks the agent."""
    actor = actor_of(request)
    current = selectors.ticket_get(actor=actor, pk=ticket_id)
    with hidden_if_denied():
        services.ticket_assign(
            actor=actor,
            ticket_id=current.pk,
            owner_id=payload.owner_id,
            queue_id=payload.queue_id,
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.ticket_get(actor=actor, pk=current.pk)
    return json_response(dump(TicketOut, fresh), instance=fresh)


@router.post(
    "/tickets/{ticket_id}/merge",
    response={200: TicketOut, **ERRORS},
    url_name="service_ticket_merge",
)
def ticket_merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> HttpResponse:
    """Merge this duplicate into ``target_id``; returns the target."""
    actor = actor_of(request)
    source = selectors.ticket_get(actor=actor, pk=ticket_id)
    with hidden_if_denied():
        target = services.ticket_merge(
            actor=actor, source_id=source.pk, target_id=payload.target_id
        )
    fresh = selectors.ticket_get(actor=actor, pk=target.pk)
    return json_response(dump(TicketOut, fresh), instance=fresh)
