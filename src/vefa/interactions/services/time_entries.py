"""Time tracking: minutes a user spent, per customer and activity."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import PermissionDenied
from vefa.interactions.models import Activity, TimeEntry
from vefa.interactions.services._common import (
    as_datetime,
    as_int,
    as_text,
    customer_visible,
    get_for,
    invalid,
)
from vefa.platform.records import record_create, record_delete

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_MINUTES = 24 * 60


def time_entry_create(
    *,
    actor: User,
    minutes: int,
    started_at: datetime.datetime | str | None = None,
    customer_id: int | None = None,
    activity_id: int | None = None,
    note: str = "",
    billable: bool = False,
) -> TimeEntry:
    """Record time the actor spent (1 minute to 24 hours), on a customer and/or activity.

    Time is always the actor's own. The activity must be one the actor may see; its
    customer is used when none is given.
    """
    if not can_create(actor, TimeEntry):
        raise PermissionDenied(_("Your role cannot record time."))
    amount = as_int(minutes, field="minutes", minimum=1, maximum=MAX_MINUTES, required=True)
    start = as_datetime(started_at, field="started_at") or timezone.now()
    text = as_text(note, field="note")
    if not isinstance(billable, bool):
        raise invalid({"billable": [_("Enter yes or no.")]})
    activity = None
    if activity_id not in (None, ""):
        activity = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="view")
    customer = None
    if customer_id not in (None, ""):
        customer = customer_visible(actor=actor, customer_id=customer_id)
        if activity is not None and activity.customer_id not in (None, customer.pk):
            raise invalid({"customer_id": [_("The activity belongs to another customer.")]})
    elif activity is not None and activity.customer_id is not None:
        customer = activity.customer
    if customer is None and activity is None:
        raise invalid({"customer_id": [_("Choose a customer or an activity.")]})
    entry = TimeEntry(
        user=actor,
        customer=customer,
        activity=activity,
        started_at=start,
        minutes=amount,
        note=text,
        billable=billable,
    )
    return record_create(entry, actor=actor)


def time_entry_delete(*, actor: User, time_entry_id: int) -> None:
    """Delete a time entry the actor may delete (their own, or wider by role)."""
    with transaction.atomic():
        entry = get_for(TimeEntry.objects.all(), actor=actor, pk=time_entry_id, action="delete")
        record_delete(entry, actor=actor)
