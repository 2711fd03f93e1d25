"""Reads of tickets, always for an actor (``POLICIES["service.ticket"]``: agents read every
ticket and work their team's, sales reps read their team's, others read all or nothing).

Lists are keyset pages (newest first) with a query count that does not grow with the page.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Prefetch, Q, QuerySet

from vefa.accounts.access import access_branches, restrict
from vefa.common.paging import Page, either_of, keyset_page
from vefa.customers.services._common import as_pk, not_found
from vefa.service.choices import OPEN_STATUSES
from vefa.service.filters import TicketFilters
from vefa.service.models import Queue, SurveyInvitation, Ticket, TicketMessage

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.interactions.models import Attachment

MAX_LIMIT = 100
# The most files one ticket's list returns (a ticket takes at most 20 per message).
MAX_ATTACHMENTS = 1000
QUEUE_LIMIT = 50

# The columns a row of the list and queue pages shows, with the badges' SLA fields and the
# names of the customer, owner and queue. Reading only these (instead of every column of
# four joined tables) halves the time a page of fifty rows spends building objects.
ROW_FIELDS: tuple[str, ...] = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "type",
    "channel",
    "customer_id",
    "contact_id",
    "requester_name",
    "requester_email",
    "owner_id",
    "team_id",
    "queue_id",
    "category_id",
    "sla_state",
    "first_responded_at",
    "first_response_due_at",
    "resolution_due_at",
    "created_at",
    "version",
    "customer__display_name",
    "owner__full_name",
    "owner__email",
    "queue__name",
)


def _ticket_qs(actor: User) -> QuerySet[Ticket]:
    return restrict(Ticket.objects.all(), actor, "view").select_related(
        "customer", "owner", "queue", "category"
    )


def _only(qs: QuerySet[Ticket], fields: Sequence[str] | None) -> QuerySet[Ticket]:
    """``qs`` with every related row of the list joined, or only ``fields`` (and only the
    relations they name)."""
    if fields is None:
        return qs.select_related("customer", "owner", "queue", "category")
    relations = sorted({name.split("__", 1)[0] for name in fields if "__" in name})
    return qs.select_related(*relations).only(*fields)


def ticket_list(
    *,
    actor: User,
    filters: TicketFilters | None = None,
    cursor: str | None = None,
    limit: int = 50,
    fields: Sequence[str] | None = None,
) -> Page[Ticket]:
    """One keyset page of the tickets the actor may see, newest first.

    ``fields`` (e.g. ``ROW_FIELDS``) reads only those columns; by default whole rows with
    their customer, owner, queue and category."""
    base = restrict(Ticket.objects.all(), actor, "view")
    qs = _only(base, fields)
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    # Each OR the list needs (the access scope's owner or team, the statuses that still need
    # work) is read as its own range of an index in id order, then merged (``keyset_page``).
    access = access_branches(Ticket, actor, "view")
    statuses = (
        [Q(status=status) for status in OPEN_STATUSES]
        if filters is not None and filters.status == "active"
        else []
    )
    branches = either_of(access, statuses)
    branch_base = None
    if access:
        unrestricted = Ticket.objects.all()
        branch_base = filters.apply(unrestricted, actor=actor) if filters else unrestricted
    return keyset_page(
        qs,
        ordering="-id",
        cursor=cursor,
        size=max(1, min(int(limit), MAX_LIMIT)),
        any_of=branches or None,
        branch_base=branch_base,
    )


def ticket_get(*, actor: User, pk: Any) -> Ticket:
    """One ticket the actor may see, or ``NotFound`` (the same for a missing one)."""
    ticket = (
        _ticket_qs(actor)
        .select_related("contact", "team", "order", "product", "merged_into", "sla_policy")
        .prefetch_related("tags")
        .filter(pk=as_pk(pk))
        .first()
    )
    if ticket is None:
        raise not_found()
    return ticket


def ticket_messages(*, actor: User, ticket: Ticket) -> list[TicketMessage]:
    """The ticket's conversation, oldest first, with authors and attachments (a few queries
    whatever its length)."""
    from vefa.interactions.models import Attachment

    return list(
        restrict(TicketMessage.objects.all(), actor, "view")
        .filter(ticket=ticket)
        .select_related("author", "author_contact", "interaction")
        .prefetch_related(
            Prefetch(
                "interaction__attachments",
                queryset=Attachment.objects.order_by("id"),
            )
        )
        .order_by("created_at", "id")
    )


def _ticket_interactions(actor: User, ticket: Ticket) -> QuerySet[TicketMessage, Any]:
    """The contact-history entries of the ticket's messages the actor may read."""
    return (
        restrict(TicketMessage.objects.all(), actor, "view")
        .filter(ticket=ticket, interaction__isnull=False)
        .values("interaction_id")
    )


def _marked(attachment: Attachment, ticket: Ticket) -> Attachment:
    """The attachment with the message and ticket it belongs to (``message_id``,
    ``ticket_id``), which the API's output and download link use."""
    attachment.message_id = attachment.interaction.ticket_message.pk  # type: ignore[attr-defined]
    attachment.ticket_id = ticket.pk  # type: ignore[attr-defined]
    return attachment


def ticket_attachments(*, actor: User, ticket: Ticket) -> list[Attachment]:
    """The files of the ticket's messages (customer messages and replies carry them on their
    contact-history entries), oldest first, each with ``message_id`` set."""
    from vefa.interactions.models import Attachment

    files = list(
        Attachment.objects.filter(interaction_id__in=_ticket_interactions(actor, ticket))
        .select_related("interaction__ticket_message")
        .order_by("id")[:MAX_ATTACHMENTS]
    )
    return [_marked(attachment, ticket) for attachment in files]


def ticket_attachment_get(*, actor: User, ticket: Ticket, pk: Any) -> Attachment:
    """One file of one of the ticket's messages, or ``NotFound`` (also for a file of another
    ticket or of a record the actor may not read)."""
    from vefa.interactions.models import Attachment

    attachment = (
        Attachment.objects.filter(
            pk=as_pk(pk), interaction_id__in=_ticket_interactions(actor, ticket)
        )
        .select_related("interaction__ticket_message")
        .first()
    )
    if attachment is None:
        raise not_found()
    return _marked(attachment, ticket)


def ticket_csat(*, actor: User, ticket: Ticket) -> list[SurveyInvitation]:
    """The CSAT invitations of the ticket and of the tickets merged into it that the actor may
    see, oldest first. A merge moves a duplicate's invitation to the survivor unless the
    survivor has its own (one per ticket); the duplicate's then stays on the duplicate and is
    read here with the survivor's."""
    return list(
        restrict(SurveyInvitation.objects.all(), actor, "view")
        .filter(Q(ticket=ticket) | Q(ticket__merged_into=ticket))
        .select_related("ticket")
        .order_by("created_at", "id")[:MAX_LIMIT]
    )


def customer_tickets(
    *, actor: User, customer: Customer, open_only: bool = False, limit: int = 20
) -> list[Ticket]:
    """The customer's tickets (as customer or contact person) the actor may see, newest first."""
    qs = _ticket_qs(actor).filter(Q(customer=customer) | Q(contact=customer))
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return list(qs.order_by("-id")[: max(1, min(int(limit), MAX_LIMIT))])


@dataclass
class AgentQueue:
    """The agent's queue page: their open tickets by SLA due time, and their team's unassigned
    tickets, oldest first. Each list is bounded; ``*_more`` says there are more."""

    mine: list[Ticket]
    mine_more: bool
    unassigned: list[Ticket]
    unassigned_more: bool


def next_due(ticket: Ticket) -> datetime.datetime | None:
    """The SLA target the ticket works towards now: the first response while none was given,
    else the resolution."""
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        return ticket.first_response_due_at
    return ticket.resolution_due_at


def _due_key(row: tuple[int, datetime.datetime | None]) -> tuple[int, datetime.datetime, int]:
    pk, due = row
    return (0, due, pk) if due is not None else (1, _NEVER, pk)


_NEVER = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def ticket_queue(
    *, actor: User, limit: int = QUEUE_LIMIT, fields: Sequence[str] | None = None
) -> AgentQueue:
    """The agent's open tickets by the SLA target due next, and the team's unassigned ones.

    The next target is the first response while none was given, else the resolution. Both
    kinds are read as their own ordered, bounded range of keys (``limit + 1`` ids and due
    times each, no joins), merged, and only the rows shown are then read with ``fields``
    (the columns the queue page shows; ``None`` for whole rows): four queries, a few dozen
    rows, however many tickets the agent holds.
    """
    visible = restrict(Ticket.objects.all(), actor, "view")
    mine_keys = visible.filter(owner=actor, status__in=OPEN_STATUSES)
    awaiting = Q(first_responded_at__isnull=True, first_response_due_at__isnull=False)
    first = mine_keys.filter(awaiting).order_by("first_response_due_at", "id")
    rest = mine_keys.exclude(awaiting).order_by(F("resolution_due_at").asc(nulls_last=True), "id")
    keys = sorted(
        [
            *first.values_list("id", "first_response_due_at")[: limit + 1],
            *rest.values_list("id", "resolution_due_at")[: limit + 1],
        ],
        key=_due_key,
    )
    chosen = [pk for pk, _ in keys[:limit]]
    rows = {t.pk: t for t in _only(visible, fields).filter(pk__in=chosen)} if chosen else {}
    mine = [rows[pk] for pk in chosen if pk in rows]
    unassigned: list[Ticket] = []
    if actor.team_id is not None:
        # The tickets nobody owns in the queues of the actor's team. Asked through the queues
        # (not the ticket's team column), the database starts from the few rows without an
        # owner (index ``ticket_unassigned``) instead of walking every ticket the team had.
        team_queues = Queue.objects.filter(team_id=actor.team_id).values("pk")
        unassigned = list(
            _only(visible, fields)
            .filter(queue__in=team_queues, owner__isnull=True, status__in=OPEN_STATUSES)
            .order_by("id")[: limit + 1]
        )
    return AgentQueue(
        mine=mine,
        mine_more=len(keys) > limit,
        unassigned=unassigned[:limit],
        unassigned_more=len(unassigned) > limit,
    )


def ticket_by_number(*, actor: User, number: str) -> Ticket:
    """The ticket with this number (e.g. T-2026-000123) the actor may see."""
    text = str(number or "").strip().upper()[:20]
    ticket = _ticket_qs(actor).filter(number=text).first() if text else None
    if ticket is None:
        raise not_found()
    return ticket
