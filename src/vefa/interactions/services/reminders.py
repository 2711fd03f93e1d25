"""Sending due activity reminders as notifications, exactly once each."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can
from vefa.interactions.choices import ActivityStatus
from vefa.interactions.models import Reminder

logger = logging.getLogger(__name__)
BATCH = 500


def _local(value: datetime.datetime, zone_name: str) -> str:
    import zoneinfo

    try:
        zone: datetime.tzinfo = zoneinfo.ZoneInfo(zone_name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.UTC
    return formats.date_format(value.astimezone(zone), "SHORT_DATETIME_FORMAT")


def reminders_send_due(*, now: datetime.datetime | None = None) -> int:
    """Send every reminder that is due and not yet sent; return how many notices went out.

    The activity's assignee and the colleagues attending it are each notified.

    Each reminder is claimed with a conditional UPDATE (``sent_at IS NULL``) in the same
    transaction as its notification, and the notification carries a dedupe key: two workers,
    or the job running twice, never send a reminder twice. When several reminders of one
    activity are due at once (it was planned at short notice, or the worker was down), only
    the closest one is sent. A reminder for an activity that has already started is dropped.
    """
    from vefa.platform.notifications import notification_send

    now = now or timezone.now()
    due = list(
        Reminder.objects.filter(
            sent_at__isnull=True,
            remind_at__lte=now,
            activity__status=ActivityStatus.PLANNED,
        )
        .select_related("activity", "activity__owner")
        .prefetch_related("activity__attendees__user")
        .order_by("activity_id", "minutes_before")[:BATCH]
    )
    sent = 0
    seen: set[int] = set()
    for reminder in due:
        activity = reminder.activity
        with transaction.atomic():
            claimed = Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(
                sent_at=now
            )
            if not claimed:
                continue
            if activity.pk in seen or (
                activity.scheduled_at is not None and activity.scheduled_at < now
            ):
                continue
            seen.add(activity.pk)
            assert activity.scheduled_at is not None
            # The assignee and the invited colleagues are reminded, each once; a colleague who
            # may not see the activity is not told about it (a notice must not leak it).
            people = [activity.owner] + [
                a.user for a in activity.attendees.all() if a.user is not None
            ]
            notified: set[int] = set()
            for person in people:
                if not person.is_active or person.pk in notified:
                    continue
                if person.pk != activity.owner_id and not can(person, "view", activity):
                    continue
                notified.add(person.pk)
                with translation.override(person.language or settings.LANGUAGE_CODE):
                    text = _("Reminder: %(subject)s at %(time)s") % {
                        "subject": activity.subject,
                        "time": _local(activity.scheduled_at, person.time_zone),
                    }
                notification_send(
                    recipient=person,
                    verb="activity_reminder",
                    text=text[:300],
                    url=activity.get_absolute_url(),
                    model="interactions.activity",
                    object_id=activity.pk,
                    dedupe_key=f"reminder:{reminder.pk}:{reminder.remind_at.isoformat()}"[:150],
                )
                sent += 1
    return sent
