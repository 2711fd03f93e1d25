"""API of tickets under /api/v1/service/tickets (conventions in ``vefa.common.api``).

Agents read every ticket and work their team's; a ticket the caller may not reach is 404, and
so is a write to a ticket they may read but not change. Creates take an ``Idempotency-Key``;
updates, status changes and assignments honour ``If-Match`` (412 when stale).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router

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
from vefa.service.api.tickets_schemas import (
    AssignIn,
    MergeIn,
    MessageIn,
    MessageListOut,
    MessageOut,
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
