"""Reads of the contact history and activities, always for an actor.

Every function applies ``vefa.accounts.access.restrict`` so a record the actor may not see
is never returned, counted or merged into a timeline; a single record the actor may not see
raises ``NotFound`` exactly like a missing one.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.interactions.choices import ActivityStatus, InteractionKind
from vefa.interactions.filters import (
    ActivityFilters,
    InteractionFilters,
    day_start,
    user_zone,
)
from vefa.interactions.models import Activity, Attachment, Interaction, TimeEntry
from vefa.platform.models import ChangeLogEntry

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

CHANGES = "changes"
TIMELINE_KINDS = (*InteractionKind.values, CHANGES)
MAX_TIMELINE_PAGE = 100
# Change-log rows of these record types are shown on the customer's timeline: they share the
# customer's access rules, so whoever sees the customer may see their history. Activities and
# time entries have their own owners and are shown only when the actor may see them.
TIMELINE_CUSTOMER_MODELS = (
    "customers.customer",
    "customers.customerrelationship",
    "customers.address",
    "customers.contactpoint",
    "customers.consent",
    "interactions.interaction",
    "interactions.attachment",
)


def _not_found() -> NotFound:
    return NotFound(_("Not found."))


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _not_found() from None


def customer_get(*, actor: User, pk: Any) -> Customer:
    """The customer ``pk`` if the actor may see it, through the customers app's selector so
    both apps hide exactly the same customers."""
    from vefa.customers.selectors import customer_get as customers_customer_get

    return customers_customer_get(actor=actor, pk=_pk(pk))


# --- interactions --------------------------------------------------------------------------


def _interaction_qs(actor: User) -> QuerySet[Interaction]:
    return restrict(Interaction.objects.all(), actor, "view").select_related("customer", "user")


def interaction_list(
    *, actor: User, filters: InteractionFilters | None = None
) -> QuerySet[Interaction]:
    """The interactions the actor may see, filtered; newest first."""
    qs = _interaction_qs(actor)
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return qs.order_by("-occurred_at", "-id")


def interaction_page(
    *,
    actor: User,
    filters: InteractionFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Interaction]:
    """One keyset page of ``interaction_list`` (constant queries, no COUNT)."""
    qs = interaction_list(actor=actor, filters=filters).prefetch_related(
        "tags", Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id"))
    )
    return keyset_page(qs, ordering="-occurred_at", cursor=cursor, size=size)


def interaction_get(*, actor: User, pk: Any) -> Interaction:
    """One interaction with its attachments and tags, or ``NotFound``."""
    interaction = (
        _interaction_qs(actor)
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id")),
            "tags",
        )
        .filter(pk=_pk(pk))
        .first()
    )
    if interaction is None:
        raise _not_found()
    return interaction


def attachment_get(*, actor: User, pk: Any) -> Attachment:
    """An attachment, only if the actor may see its interaction (else ``NotFound``)."""
    attachment = (
        restrict(Attachment.objects.all(), actor, "view")
        .select_related("interaction")
        .filter(pk=_pk(pk))
        .first()
    )
    if attachment is None:
        raise _not_found()
    return attachment


# --- activities ----------------------------------------------------------------------------


def _activity_qs(actor: User) -> QuerySet[Activity]:
    return restrict(Activity.objects.all(), actor, "view").select_related(
        "customer", "lead", "owner"
    )


def activity_list(*, actor: User, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    """The activities the actor may see, filtered; by scheduled time."""
    qs = _activity_qs(actor)
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return qs.order_by("scheduled_at", "id")


def activity_page(
    *,
    actor: User,
    filters: ActivityFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
    detailed: bool = False,
) -> Page[Activity]:
    """One keyset page of ``activity_list`` ordered by scheduled time (soonest first).

    ``detailed`` also loads reminders, attendees and tags (for the API), three more queries
    whatever the page size.
    """
    qs = activity_list(actor=actor, filters=filters).filter(scheduled_at__isnull=False)
    if detailed:
        qs = qs.prefetch_related(
            Prefetch("attendees", queryset=_attendees()),
            Prefetch("reminders", queryset=_reminders()),
            "tags",
        )
    return keyset_page(qs, ordering="scheduled_at", cursor=cursor, size=size)


def activity_get(*, actor: User, pk: Any) -> Activity:
    """One activity with attendees, reminders, time entries and its interaction."""
    activity = (
        _activity_qs(actor)
        .select_related("interaction", "team")
        .prefetch_related(
            Prefetch("attendees", queryset=_attendees()),
            Prefetch("reminders", queryset=_reminders()),
            Prefetch(
                "time_entries",
                queryset=TimeEntry.objects.select_related("user").order_by("-started_at", "-id"),
            ),
            "tags",
        )
        .filter(pk=_pk(pk))
        .first()
    )
    if activity is None:
        raise _not_found()
    return activity


def _attendees() -> QuerySet[Any]:
    from vefa.interactions.models import ActivityAttendee

    return ActivityAttendee.objects.select_related("user", "customer").order_by("id")


def _reminders() -> QuerySet[Any]:
    from vefa.interactions.models import Reminder

    return Reminder.objects.order_by("-minutes_before")


def activity_agenda(
    *, actor: User, now: datetime.datetime | None = None, limit: int = 20
) -> dict[str, list[Activity]]:
    """The actor's own planned work: ``overdue``, due ``today`` and ``upcoming`` (7 days).

    Days are the actor's local days. Each list holds at most ``limit`` activities; three
    queries in all, whatever the number of rows.
    """
    now = now or timezone.now()
    zone = user_zone(actor)
    today = now.astimezone(zone).date()
    tomorrow = day_start(today + datetime.timedelta(days=1), zone)
    week = day_start(today + datetime.timedelta(days=8), zone)
    mine = (
        _activity_qs(actor)
        .filter(owner=actor, status=ActivityStatus.PLANNED, scheduled_at__isnull=False)
        .order_by("scheduled_at", "id")
    )
    return {
        "overdue": list(mine.filter(scheduled_at__lt=now)[:limit]),
        "today": list(mine.filter(scheduled_at__gte=now, scheduled_at__lt=tomorrow)[:limit]),
        "upcoming": list(mine.filter(scheduled_at__gte=tomorrow, scheduled_at__lt=week)[:limit]),
    }


def activities_for_customer(
    *, actor: User, customer_id: Any, limit: int = 20
) -> dict[str, list[Activity]]:
    """The customer's planned activities (soonest first) and recent finished ones that the
    actor may see, ``limit`` each; ``NotFound`` when the customer is hidden."""
    customer = customer_get(actor=actor, pk=customer_id)
    qs = _activity_qs(actor).filter(customer_id=customer.pk)
    return {
        "planned": list(
            qs.filter(status=ActivityStatus.PLANNED).order_by("scheduled_at", "id")[:limit]
        ),
        "finished": list(
            qs.exclude(status=ActivityStatus.PLANNED).order_by("-updated_at", "-id")[:limit]
        ),
    }


def activities_between(
    *, actor: User, start: datetime.datetime, end: datetime.datetime, limit: int = 2000
) -> list[Activity]:
    """The actor's own activities (not cancelled) overlapping ``[start, end)`` for the
    calendar: timed ones by their span, tasks and calls by their due time."""
    qs = (
        _activity_qs(actor)
        .filter(owner=actor)
        .exclude(status=ActivityStatus.CANCELLED)
        .filter(
            Q(start_at__lt=end, end_at__gt=start)
            | Q(start_at__isnull=True, scheduled_at__gte=start, scheduled_at__lt=end)
        )
        .order_by("scheduled_at", "id")
    )
    return list(qs[:limit])


def ics_feed_user(*, token: str) -> User:
    """The active user whose private feed ``token`` is, or ``NotFound``."""
    from vefa.accounts.models import User

    if not token or len(token) > 64:
        raise _not_found()
    user = User.objects.filter(ics_token=token, is_active=True).first()
    if user is None:
        raise _not_found()
    return user


def ics_feed_activities(
    *, user: User, now: datetime.datetime | None = None, limit: int = 2000
) -> list[Activity]:
    """The activities in a user's feed: their own, not cancelled, from 90 days back on.

    The feed is the user's own calendar, so only activities the user owns appear; access
    is re-applied so a changed role takes effect at once.
    """
    since = (now or timezone.now()) - datetime.timedelta(days=90)
    qs = (
        restrict(Activity.objects.all(), user, "view")
        .filter(owner=user, scheduled_at__gte=since)
        .exclude(status=ActivityStatus.CANCELLED)
        .select_related("customer", "owner")
        .prefetch_related(Prefetch("reminders", queryset=_reminders()))
        .order_by("scheduled_at", "id")
    )
    return list(qs[:limit])


def time_entry_page(
    *,
    actor: User,
    customer_id: int | None = None,
    activity_id: int | None = None,
    mine: bool = False,
    cursor: str | None = None,
    size: int = 50,
) -> Page[TimeEntry]:
    """Time entries the actor may see, newest first, optionally of one customer/activity."""
    qs = restrict(TimeEntry.objects.all(), actor, "view")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if activity_id is not None:
        qs = qs.filter(activity_id=activity_id)
    if mine:
        qs = qs.filter(user=actor)
    return keyset_page(qs, ordering="-started_at", cursor=cursor, size=size)


def time_entry_get(*, actor: User, pk: Any) -> TimeEntry:
    entry = restrict(TimeEntry.objects.all(), actor, "view").filter(pk=_pk(pk)).first()
    if entry is None:
        raise _not_found()
    return entry


def time_entries_for_customer(*, actor: User, customer_id: Any, limit: int = 20) -> list[TimeEntry]:
    """Recent time entries on a visible customer that the actor may see."""
    customer = customer_get(actor=actor, pk=customer_id)
    qs = (
        restrict(TimeEntry.objects.all(), actor, "view")
        .filter(customer_id=customer.pk)
        .select_related("user", "activity")
        .order_by("-started_at", "-id")
    )
    return list(qs[:limit])


# --- the customer's timeline ------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the customer's timeline: an interaction or a recorded change."""

    time: datetime.datetime
    kind: str  # an InteractionKind value, or "changes"
    interaction: Interaction | None = None
    change: ChangeLogEntry | None = None

    @property
    def key(self) -> tuple[datetime.datetime, int, int]:
        obj: Any = self.interaction if self.interaction is not None else self.change
        return (self.time, 1 if self.interaction is not None else 0, int(obj.pk))


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None
    customer: Customer


def _encode(key: tuple[datetime.datetime, int, int]) -> str:
    raw = json.dumps([key[0].isoformat(), key[1], key[2]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[datetime.datetime, int, int] | None:
    if not cursor or len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        when, typ, pk = json.loads(raw)
        moment = datetime.datetime.fromisoformat(str(when))
        if timezone.is_naive(moment) or typ not in (0, 1) or not isinstance(pk, int):
            return None
        return moment, int(typ), pk
    except (ValueError, TypeError, binascii.Error):
        return None


def timeline_for_customer(
    *,
    actor: User,
    customer_id: Any,
    kinds: list[str] | None = None,
    before: str | None = None,
    limit: int = 25,
) -> TimelinePage:
    """The customer's interactions and recorded changes merged, newest first.

    ``kinds`` keeps only those interaction kinds and/or ``"changes"``; ``before`` is the
    opaque cursor of the previous page ("load more"). Interactions and changes are each read
    with one bounded query and merged in Python, so the query count does not depend on the
    number of rows. Raises ``NotFound`` when the customer is hidden from the actor.
    """
    customer = customer_get(actor=actor, pk=customer_id)
    limit = max(1, min(int(limit), MAX_TIMELINE_PAGE))
    wanted = [k for k in (kinds or []) if k in TIMELINE_KINDS]
    interaction_kinds = [k for k in wanted if k != CHANGES]
    show_interactions = not wanted or bool(interaction_kinds)
    show_changes = not wanted or CHANGES in wanted
    cursor = _decode(before)

    entries: list[TimelineEntry] = []
    if show_interactions:
        qs = (
            restrict(Interaction.objects.all(), actor, "view")
            .filter(customer_id=customer.pk)
            .select_related("user")
            .prefetch_related(
                Prefetch("attachments", queryset=Attachment.objects.order_by("id")),
            )
        )
        if interaction_kinds:
            qs = qs.filter(kind__in=interaction_kinds)
        if cursor is not None:
            when, typ, pk = cursor
            # Interactions sort after changes at the same instant (type 1 > type 0).
            qs = qs.filter(
                Q(occurred_at__lt=when) | Q(occurred_at=when, id__lt=pk)
                if typ == 1
                else Q(occurred_at__lt=when)
            )
        for interaction in qs.order_by("-occurred_at", "-id")[: limit + 1]:
            entries.append(
                TimelineEntry(
                    time=interaction.occurred_at, kind=interaction.kind, interaction=interaction
                )
            )
    if show_changes:
        visible_activities = restrict(Activity.objects.all(), actor, "view").filter(
            customer_id=customer.pk
        )
        visible_time = restrict(TimeEntry.objects.all(), actor, "view").filter(
            customer_id=customer.pk
        )
        changes = (
            ChangeLogEntry.objects.filter(customer_id=customer.pk)
            .filter(
                Q(model__in=TIMELINE_CUSTOMER_MODELS)
                | Q(model="interactions.activity", object_id__in=visible_activities.values("pk"))
                | Q(model="interactions.timeentry", object_id__in=visible_time.values("pk"))
            )
            # The interaction itself is on the timeline; its creation row would repeat it.
            .exclude(model="interactions.interaction", action=ChangeLogEntry.Action.CREATE)
        )
        if cursor is not None:
            when, typ, pk = cursor
            changes = changes.filter(
                Q(time__lt=when) | Q(time=when, id__lt=pk) if typ == 0 else Q(time__lte=when)
            )
        for change in changes.order_by("-time", "-id")[: limit + 1]:
            entries.append(TimelineEntry(time=change.time, kind=CHANGES, change=change))

    entries.sort(key=lambda e: e.key, reverse=True)
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = _encode(entries[-1].key) if more and entries else None
    return TimelinePage(entries=entries, next_cursor=next_cursor, customer=customer)
