"""Service visits: a technician's visit or an appointment for a ticket, on the calendar.

The time, place, owner and reminders live on an ``interactions.Activity`` (so the visit is on
the owner's calendar and in the ICS feed); ``ServiceVisit`` links it to the ticket.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound, ValidationFailed
from vefa.interactions.choices import ActivityKind
from vefa.interactions.services import activity_cancel, activity_create
from vefa.platform.records import record_create
from vefa.service.models import ServiceVisit, Ticket

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_LOCATION = 200


def _ticket_for_change(actor: User, ticket_id: Any) -> Ticket:
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such ticket.")) from None
    ticket = (
        restrict(Ticket.objects.select_related("customer"), actor, "change").filter(pk=pk).first()
    )
    if ticket is None:
        raise NotFound(_("No such ticket."))
    if ticket.merged_into_id is not None:
        # A merged ticket's work goes on in its survivor (merges keep chains one step long).
        return _ticket_for_change(actor, ticket.merged_into_id)
    return ticket


def visit_schedule(
    *,
    actor: User,
    ticket_id: int,
    start_at: datetime.datetime | str | None,
    end_at: datetime.datetime | str | None,
    location: str = "",
    owner_id: int | None = None,
    description: str = "",
) -> ServiceVisit:
    """Plan a visit or appointment for a ticket; it lands on the owner's calendar.

    It is an appointment (a start and an end) whose subject names the ticket and whose
    customer is the ticket's customer. The visitor defaults to the actor; planning it for
    someone else needs the right to assign activities to them. Times, owner and
    location are validated by the activity service (end after start, at most 31 days).
    """
    if not isinstance(location, str) or len(location) > MAX_LOCATION:
        message = _("At most %(n)d characters.") % {"n": MAX_LOCATION}
        raise ValidationFailed(message, fields={"location": [message]})
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        activity = activity_create(
            actor=actor,
            kind=ActivityKind.APPOINTMENT,
            subject=_("%(number)s: %(subject)s")
            % {"number": ticket.number, "subject": ticket.subject},
            owner_id=owner_id if owner_id not in (None, "") else actor.pk,
            customer_id=ticket.customer_id,
            start_at=start_at,
            end_at=end_at,
            location=location.strip(),
            description=description,
        )
        return record_create(ServiceVisit(ticket=ticket, activity=activity), actor=actor)


def visit_cancel(*, actor: User, visit_id: int) -> ServiceVisit:
    """Cancel a planned visit (its calendar activity is cancelled; the link stays)."""
    with transaction.atomic():
        visit = (
            restrict(ServiceVisit.objects.select_related("activity"), actor, "change")
            .filter(pk=visit_id)
            .first()
        )
        if visit is None:
            raise NotFound(_("No such visit."))
        activity_cancel(actor=actor, activity_id=visit.activity_id)
        visit.activity.refresh_from_db()
    return visit
