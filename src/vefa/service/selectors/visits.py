"""Reads of service visits for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vefa.accounts.access import restrict
from vefa.service.models import ServiceVisit, Ticket

if TYPE_CHECKING:
    from vefa.accounts.models import User


def ticket_visits(*, actor: User, ticket: Ticket) -> list[ServiceVisit]:
    """The ticket's visits the actor may see, soonest first."""
    return list(
        restrict(ServiceVisit.objects.filter(ticket=ticket), actor)
        .select_related("activity", "activity__owner")
        .order_by("activity__start_at", "id")[:50]
    )
