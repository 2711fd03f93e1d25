"""Field sales: planned customer visits, logging a visit, postponing a follow-up.

A planned visit is an ``interactions.Activity`` of kind ``visit`` with the customer, a due
time and a location (by default the customer's primary address), so it sits on the
activities calendar next to calls and meetings and gets the usual reminders. Logging the
visit completes the activity and records one interaction of kind ``visit`` (face to face) in
the customer's contact history, in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.interactions.choices import (
    ActivityKind,
    ActivityStatus,
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    Priority,
)
from vefa.interactions.models import Activity
from vefa.interactions.services._common import as_int, customer_visible
from vefa.interactions.services.activities import activity_create, reminders_sync
from vefa.interactions.services.interactions import interaction_insert
from vefa.platform.records import record_update
from vefa.sales.services._common import get_for, invalid

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

LOCATION_MAX = 200  # Activity.location
OUTCOME_MAX = 300  # Activity.outcome and Interaction.outcome
NOTES_MAX = 10_000
MAX_POSTPONE_DAYS = 365


def address_text(customer: Customer) -> str:
    """The customer's primary address (else their first, else their city and country) as
    one line that a maps search understands; empty when nothing is known."""
    address = customer.addresses.order_by("-is_primary", "id").first()
    if address is not None:
        city = " ".join(p for p in (address.postal_code, address.city) if p)
        parts = [
            address.line1,
            address.line2,
            address.district,
            city,
            address.region,
            address.country,
        ]
    else:
        parts = [customer.city, customer.country]
    return ", ".join(p.strip() for p in parts if p and p.strip())[:LOCATION_MAX]


def visit_plan(
    *,
    actor: User,
    customer_id: Any,
    due_at: datetime.datetime | str,
    subject: str | None = None,
    location: str | None = None,
    owner_id: int | None = None,
    description: str = "",
    priority: str = Priority.NORMAL,
    reminder_minutes: Sequence[int] | None = None,
) -> Activity:
    """Plan a visit to a customer the actor may see, at ``due_at``.

    ``location`` defaults to the customer's primary address; ``subject`` to "Visit: <name>".
    Everything else (permission to plan, assignee, reminders, change log) is
    ``activity_create``'s.
    """
    customer = customer_visible(actor=actor, customer_id=customer_id)
    if location is None or (isinstance(location, str) and not location.strip()):
        location = address_text(customer)
    if not isinstance(location, str):
        raise invalid({"location": [_("Enter the address as text.")]})
    location = location.strip()
    if len(location) > LOCATION_MAX:
        raise invalid({"location": [_("At most %(n)d characters.") % {"n": LOCATION_MAX}]})
    if subject is None or (isinstance(subject, str) and not subject.strip()):
        subject = (_("Visit: %(customer)s") % {"customer": customer.display_name})[:300]
    if not isinstance(subject, str):
        raise invalid({"subject": [_("Enter a subject.")]})
    return activity_create(
        actor=actor,
        kind=ActivityKind.VISIT,
        subject=subject,
        owner_id=owner_id,
        customer_id=customer.pk,
        due_at=due_at,
        location=location,
        description=description,
        priority=priority,
        reminder_minutes=reminder_minutes,
    )


def visit_log(
    *,
    actor: User,
    activity_id: Any,
    outcome: str = "",
    notes: str = "",
    expected_version: int | None = None,
) -> Activity:
    """Mark a planned visit done and record it as a ``visit`` interaction on the customer.

    Exactly one interaction is written; logging the same visit twice (a double tap, two
    devices) is refused because the activity is no longer planned, and an out-of-date
    ``expected_version`` raises ``Conflict``.
    """
    if not isinstance(outcome, str) or not isinstance(notes, str):
        raise invalid({"outcome": [_("Enter text.")]})
    outcome = outcome.strip()
    if len(outcome) > OUTCOME_MAX:
        raise invalid({"outcome": [_("At most %(n)d characters.") % {"n": OUTCOME_MAX}]})
    if len(notes) > NOTES_MAX:
        raise invalid({"notes": [_("At most %(n)d characters.") % {"n": NOTES_MAX}]})
    version = as_int(expected_version, field="version")
    with transaction.atomic():
        current = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="change")
        if current.kind != ActivityKind.VISIT:
            raise invalid({"kind": [_("This activity is not a customer visit.")]})
        if current.status == ActivityStatus.DONE:
            raise invalid({"status": [_("This visit is already logged.")]})
        if current.status != ActivityStatus.PLANNED:
            raise invalid({"status": [_("Only a planned visit can be logged.")]})
        now = timezone.now()
        interaction = None
        if current.customer_id is not None:
            from vefa.customers.models import Customer

            interaction = interaction_insert(
                actor=actor,
                customer=Customer.objects.get(pk=current.customer_id),
                kind=InteractionKind.VISIT,
                channel=InteractionChannel.FACE_TO_FACE,
                direction=Direction.OUTBOUND,
                initiated_by=InitiatedBy.COMPANY,
                occurred_at=now,
                subject=current.subject,
                body="\n\n".join(
                    p for p in [current.location, current.description, notes.strip()] if p
                ),
                outcome=outcome,
            )
        updated = record_update(
            current,
            actor=actor,
            data={
                "status": ActivityStatus.DONE,
                "completed_at": now,
                "outcome": outcome,
                "interaction": interaction,
            },
            expected_version=version,
        )
        reminders_sync(updated)
    return updated


def follow_up_postpone(
    *, actor: User, opportunity_id: Any, days: Any = 7, expected_version: int | None = None
) -> Any:
    """Move an open opportunity's follow-up date ``days`` after today (the actor's day)."""
    from vefa.interactions.filters import user_zone
    from vefa.sales.choices import OpportunityStatus
    from vefa.sales.models import Opportunity
    from vefa.sales.services.opportunities import opportunity_update

    count = as_int(days, field="days", minimum=1, maximum=MAX_POSTPONE_DAYS, required=True)
    version = as_int(expected_version, field="version")
    with transaction.atomic():
        current = get_for(
            Opportunity.objects.all(), actor=actor, pk=opportunity_id, action="change"
        )
        if current.status != OpportunityStatus.OPEN:
            raise invalid({"status": [_("Only an open opportunity has follow-ups.")]})
        today = timezone.now().astimezone(user_zone(actor)).date()
        # The opportunities service moves the follow-up activity (and its reminders) too.
        return opportunity_update(
            actor=actor,
            opportunity_id=current.pk,
            data={"follow_up_date": today + datetime.timedelta(days=count)},
            expected_version=version,
        )
