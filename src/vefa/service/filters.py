"""The one filter definition of the ticket list, used by the list page and the API.

The page binds ``request.GET`` to ``TicketFilters`` with
``vefa.interactions.filters.filters_from_query`` (a bad value is dropped and reported); the API
declares it as its query parameters. ``apply`` narrows a queryset the selector has already
restricted to what the actor may see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from django.db.models import Q, QuerySet
from ninja import Schema
from pydantic import Field

from vefa.common.text import fold
from vefa.service.choices import (
    OPEN_STATUSES,
    SlaState,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketType,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import Ticket

# "active" is every status that still needs work (new, open, waiting).
StatusFilter = TicketStatus | Literal["active"]
SlaFilter = Literal["running", "paused", "warning", "breached", "met", "none"]


class TicketFilters(Schema):
    """Filters of the ticket list: status, type, priority, queue, owner, category, channel,
    SLA state, customer and text (number, subject, requester, customer name)."""

    status: StatusFilter | None = None
    type: TicketType | None = None
    priority: TicketPriority | None = None
    queue: int | None = Field(default=None, ge=1)
    owner: Literal["mine", "none"] | int | None = None
    category: int | None = Field(default=None, ge=1)
    channel: TicketChannel | None = None
    sla: SlaFilter | None = None
    customer: int | None = Field(default=None, ge=1)
    q: str | None = Field(default=None, max_length=200)

    def apply(self, queryset: QuerySet[Ticket], *, actor: User) -> QuerySet[Ticket]:
        qs = queryset
        if self.status == "active":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif self.status:
            qs = qs.filter(status=self.status)
        if self.type:
            qs = qs.filter(type=self.type)
        if self.priority:
            qs = qs.filter(priority=self.priority)
        if self.queue:
            qs = qs.filter(queue_id=self.queue)
        if self.owner == "mine":
            qs = qs.filter(owner=actor)
        elif self.owner == "none":
            qs = qs.filter(owner__isnull=True)
        elif isinstance(self.owner, int):
            qs = qs.filter(owner_id=self.owner)
        if self.category:
            qs = qs.filter(Q(category_id=self.category) | Q(category__parent_id=self.category))
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.sla == "none":
            qs = qs.filter(sla_state=SlaState.NONE)
        elif self.sla:
            qs = qs.filter(sla_state=self.sla)
        if self.customer:
            qs = qs.filter(Q(customer_id=self.customer) | Q(contact_id=self.customer))
        if self.q and self.q.strip():
            text = self.q.strip()
            folded = fold(text)
            condition = Q(number=text.upper())
            if folded:
                condition |= Q(search_text__contains=folded)
            qs = qs.filter(condition)
        return qs
