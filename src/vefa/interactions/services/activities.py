"""Planned work: tasks, calls to make, meetings and appointments, with their reminders.

Completing a call or a meeting records the matching interaction on the customer, so the
contact history is filled by doing the work, not by typing it twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import PermissionDenied
from vefa.interactions.choices import (
    ActivityKind,
    ActivityStatus,
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    Priority,
)
from vefa.interactions.models import Activity, ActivityAttendee, Interaction, Reminder
from vefa.interactions.services._common import (
    as_datetime,
    as_int,
    customer_visible,
    get_for,
    invalid,
)
from vefa.interactions.services.interactions import interaction_insert
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer, Lead
    from vefa.platform.models import Tag

TIMED_KINDS = frozenset({ActivityKind.MEETING, ActivityKind.APPOINTMENT})
MAX_EVENT_LENGTH = datetime.timedelta(days=31)
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
MAX_REMINDERS = 5
MAX_ATTENDEES = 100


def default_reminder_minutes() -> list[int]:
    """Minutes before an activity its reminders go out (default: 1 day and 1 hour)."""
    return [int(m) for m in getattr(settings, "VEFA_ACTIVITY_REMINDER_MINUTES", (24 * 60, 60))]


class ActivityData(TypedDict, total=False):
    """The fields of an activity that ``activity_update`` may change."""

    kind: str
    subject: str
    description: str
    customer_id: int | None
    lead_id: int | None
    owner_id: int
    due_at: datetime.datetime | str | None
    start_at: datetime.datetime | str | None
    end_at: datetime.datetime | str | None
    all_day: bool
    location: str
    priority: str
    custom_fields: dict[str, Any]


EDITABLE = frozenset(ActivityData.__annotations__)


# --- validation ----------------------------------------------------------------------------


def _schedule(
    kind: str, due_at: Any, start_at: Any, end_at: Any
) -> tuple[datetime.datetime | None, datetime.datetime | None, datetime.datetime | None]:
    """Check the times for ``kind``: (due, start, end). Irrelevant times are dropped."""
    if kind in TIMED_KINDS:
        start = as_datetime(start_at, field="start_at", required=True)
        end = as_datetime(end_at, field="end_at", required=True)
        assert start is not None and end is not None
        if end <= start:
            raise invalid({"end_at": [_("The end must be after the start.")]})
        if end - start > MAX_EVENT_LENGTH:
            raise invalid({"end_at": [_("An appointment lasts at most 31 days.")]})
        return None, start, end
    if kind in ActivityKind.values:
        return as_datetime(due_at, field="due_at", required=True), None, None
    raise invalid({"kind": [_("Choose a valid kind.")]})


def _reminder_list(minutes: Iterable[Any] | None) -> list[int] | None:
    if minutes is None:
        return None
    if isinstance(minutes, str | bytes) or not isinstance(minutes, Iterable):
        raise invalid({"reminder_minutes": [_("Give a list of minutes.")]})
    values = sorted(
        {
            as_int(
                m, field="reminder_minutes", minimum=0, maximum=MAX_REMINDER_MINUTES, required=True
            )
            for m in minutes
        },
        reverse=True,
    )
    if len(values) > MAX_REMINDERS:
        raise invalid({"reminder_minutes": [_("At most %(n)d reminders.") % {"n": MAX_REMINDERS}]})
    return values


def _assignee(actor: User, owner_id: Any) -> User:
    """The user the activity is assigned to, if the actor may assign work to them.

    Anyone may plan their own work; a team-wide role may assign to its team, an all-records
    role to anyone. Others would create a record they could no longer see.
    """
    from vefa.accounts.models import User

    if owner_id is None or owner_id == "" or owner_id == actor.pk:
        return actor
    key = as_int(owner_id, field="owner_id", required=True)
    owner = User.objects.filter(pk=key, is_active=True).select_related("team").first()
    if owner is None:
        raise invalid({"owner_id": [_("Choose an active user.")]})
    if owner.pk == actor.pk:
        return actor
    scope = scope_for(actor, "interactions.activity", "change")
    if scope == Scope.ALL or (
        scope == Scope.TEAM and actor.team_id is not None and owner.team_id == actor.team_id
    ):
        return owner
    raise invalid({"owner_id": [_("You cannot assign work to this user.")]})


def _lead_visible(actor: User, lead_id: Any) -> Lead:
    from vefa.customers.models import Lead

    key = as_int(lead_id, field="lead_id", required=True)
    lead = restrict(Lead.objects.all(), actor, "view").filter(pk=key).first()
    if lead is None:
        raise invalid({"lead_id": [_("Choose an existing lead.")]})
    return lead


# --- reminders and attendees -------------------------------------------------------------------


def reminders_sync(activity: Activity, minutes: Sequence[int] | None = None) -> None:
    """Make the activity's reminders match ``minutes`` (``None``: keep the current set).

    A reminder whose time moved is due again (``sent_at`` cleared); a done or cancelled
    activity has none.
    """
    existing = {r.minutes_before: r for r in activity.reminders.all()}
    if activity.status != ActivityStatus.PLANNED or activity.scheduled_at is None:
        activity.reminders.all().delete()
        return
    wanted = list(existing) if minutes is None else list(minutes)
    activity.reminders.exclude(minutes_before__in=wanted).delete()
    for value in wanted:
        remind_at = activity.scheduled_at - datetime.timedelta(minutes=value)
        reminder = existing.get(value)
        if reminder is None:
            Reminder.objects.create(activity=activity, minutes_before=value, remind_at=remind_at)
        elif reminder.remind_at != remind_at:
            Reminder.objects.filter(pk=reminder.pk).update(remind_at=remind_at, sent_at=None)


def _attendees_set(
    activity: Activity, user_ids: Iterable[Any] | None, emails: Iterable[Any] | None
) -> None:
    from vefa.accounts.models import User

    if user_ids is None and emails is None:
        return
    ids = sorted({as_int(u, field="attendee_user_ids", required=True) for u in user_ids or ()})
    addresses: list[str] = []
    for raw in emails or ():
        address = str(raw).strip().lower() if isinstance(raw, str) else ""
        try:
            validate_email(address)
        except ValidationError:
            raise invalid({"attendee_emails": [_("Enter valid e-mail addresses.")]}) from None
        if address not in addresses:
            addresses.append(address)
    if len(ids) + len(addresses) > MAX_ATTENDEES:
        raise invalid({"attendee_user_ids": [_("At most %(n)d attendees.") % {"n": MAX_ATTENDEES}]})
    users = list(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if len(users) != len(ids):
        raise invalid({"attendee_user_ids": [_("Choose active users.")]})
    if user_ids is not None:
        activity.attendees.filter(user__isnull=False).exclude(user_id__in=ids).delete()
        have = set(activity.attendees.filter(user__isnull=False).values_list("user_id", flat=True))
        ActivityAttendee.objects.bulk_create(
            [ActivityAttendee(activity=activity, user_id=u) for u in ids if u not in have]
        )
    if emails is not None:
        activity.attendees.exclude(email="").exclude(email__in=addresses).delete()
        have_mail = set(activity.attendees.exclude(email="").values_list("email", flat=True))
        ActivityAttendee.objects.bulk_create(
            [ActivityAttendee(activity=activity, email=a) for a in addresses if a not in have_mail]
        )


def _notify_assigned(activity: Activity, actor: User) -> None:
    """Tell the assignee (after commit) that someone else gave them this activity."""
    if activity.owner_id == actor.pk:
        return
    owner = activity.owner
    key = f"activity-assigned:{activity.pk}:{owner.pk}:{activity.version}"

    def send() -> None:
        from vefa.platform.notifications import notification_send

        with translation.override(owner.language or settings.LANGUAGE_CODE):
            text = _("%(actor)s assigned you: %(subject)s") % {
                "actor": str(actor),
                "subject": activity.subject,
            }
        notification_send(
            recipient=owner,
            verb="activity_assigned",
            text=text[:300],
            url=activity.get_absolute_url(),
            model="interactions.activity",
            object_id=activity.pk,
            dedupe_key=key,
        )

    transaction.on_commit(send)


# --- services -------------------------------------------------------------------------------


def activity_create(
    *,
    actor: User,
    kind: str,
    subject: str,
    owner_id: int | None = None,
    customer_id: int | None = None,
    lead_id: int | None = None,
    due_at: datetime.datetime | str | None = None,
    start_at: datetime.datetime | str | None = None,
    end_at: datetime.datetime | str | None = None,
    all_day: bool = False,
    location: str = "",
    description: str = "",
    priority: str = Priority.NORMAL,
    reminder_minutes: Sequence[int] | None = None,
    attendee_user_ids: Sequence[int] | None = None,
    attendee_emails: Sequence[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Activity:
    """Plan a task or call (``due_at``) or a meeting/appointment (``start_at`` < ``end_at``).

    Reminders default to ``VEFA_ACTIVITY_REMINDER_MINUTES`` (1 day and 1 hour before). The
    assignee (``owner_id``, default the actor) is told when it is someone else.
    """
    if not can_create(actor, Activity):
        raise PermissionDenied(_("Your role cannot plan activities."))
    due, start, end = _schedule(kind, due_at, start_at, end_at)
    minutes = _reminder_list(reminder_minutes)
    owner = _assignee(actor, owner_id)
    customer: Customer | None = None
    if customer_id not in (None, ""):
        customer = customer_visible(actor=actor, customer_id=customer_id)
    lead = _lead_visible(actor, lead_id) if lead_id not in (None, "") else None
    activity = Activity(
        kind=kind,
        subject=subject.strip() if isinstance(subject, str) else subject,
        description=description,
        customer=customer,
        lead=lead,
        owner=owner,
        team_id=owner.team_id,
        due_at=due,
        start_at=start,
        end_at=end,
        all_day=bool(all_day),
        location=location,
        priority=priority,
        scheduled_at=start or due,
        custom_fields=custom_fields or {},
    )
    with transaction.atomic():
        activity = record_create(activity, actor=actor, tags=tags)
        reminders_sync(activity, default_reminder_minutes() if minutes is None else minutes)
        _attendees_set(activity, attendee_user_ids, attendee_emails)
        _notify_assigned(activity, actor)
    return activity


def activity_update(
    *,
    actor: User,
    activity_id: int,
    data: ActivityData,
    expected_version: int | None = None,
    reminder_minutes: Sequence[int] | None = None,
    attendee_user_ids: Sequence[int] | None = None,
    attendee_emails: Sequence[str] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Activity:
    """Change a planned activity; reminders follow its new time; a new assignee is told."""
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise invalid({key: [_("This field cannot be changed.")] for key in unknown})
    minutes = _reminder_list(reminder_minutes)
    with transaction.atomic():
        current = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="change")
        values: dict[str, Any] = {
            k: v for k, v in data.items() if k not in {"customer_id", "lead_id", "owner_id"}
        }
        kind = values.get("kind", current.kind)
        due, start, end = _schedule(
            kind,
            values.get("due_at", current.due_at),
            values.get("start_at", current.start_at),
            values.get("end_at", current.end_at),
        )
        values.update(due_at=due, start_at=start, end_at=end, scheduled_at=start or due)
        if isinstance(values.get("subject"), str):
            values["subject"] = values["subject"].strip()
        if "customer_id" in data:
            values["customer"] = (
                customer_visible(actor=actor, customer_id=data["customer_id"])
                if data["customer_id"] not in (None, "")
                else None
            )
        if "lead_id" in data:
            values["lead"] = (
                _lead_visible(actor, data["lead_id"]) if data["lead_id"] not in (None, "") else None
            )
        old_owner = current.owner_id
        if "owner_id" in data:
            owner = (
                current.owner
                if data["owner_id"] == current.owner_id
                else _assignee(actor, data["owner_id"])
            )
            values["owner"] = owner
            values["team"] = owner.team
        updated = record_update(
            current, actor=actor, data=values, expected_version=expected_version, tags=tags
        )
        reminders_sync(updated, minutes)
        _attendees_set(updated, attendee_user_ids, attendee_emails)
        if updated.owner_id != old_owner:
            _notify_assigned(updated, actor)
    return updated


def activity_cancel(
    *, actor: User, activity_id: int, expected_version: int | None = None
) -> Activity:
    """Cancel a planned activity; its reminders are removed."""
    with transaction.atomic():
        current = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="change")
        if current.status != ActivityStatus.PLANNED:
            raise invalid({"status": [_("Only a planned activity can be cancelled.")]})
        updated = record_update(
            current,
            actor=actor,
            data={"status": ActivityStatus.CANCELLED},
            expected_version=expected_version,
        )
        reminders_sync(updated)
    return updated


def activity_complete(
    *,
    actor: User,
    activity_id: int,
    outcome: str = "",
    notes: str = "",
    duration_minutes: int | None = None,
    expected_version: int | None = None,
) -> Activity:
    """Mark a planned activity done; a call or meeting with a customer records the interaction.

    The interaction is a ``call`` (for calls), a ``visit`` (customer visits) or a ``meeting``
    (meetings, appointments) with
    the outcome, and a duration from ``duration_minutes`` or else from start to end. It is
    linked to the activity. Completing an activity that is not planned any more (done twice,
    or cancelled) is refused.
    """
    outcome = outcome.strip() if isinstance(outcome, str) else outcome
    minutes = as_int(duration_minutes, field="duration_minutes", minimum=1, maximum=24 * 60)
    with transaction.atomic():
        current = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="change")
        if current.status == ActivityStatus.DONE:
            raise invalid({"status": [_("This activity is already done.")]})
        if current.status != ActivityStatus.PLANNED:
            raise invalid({"status": [_("Only a planned activity can be completed.")]})
        now = timezone.now()
        interaction: Interaction | None = None
        if current.customer_id is not None and current.kind != ActivityKind.TASK:
            if current.kind == ActivityKind.CALL:
                kind, channel, when = InteractionKind.CALL, InteractionChannel.PHONE, now
            else:
                # A customer visit is recorded as a visit, meetings and appointments as meetings.
                kind = (
                    InteractionKind.VISIT
                    if current.kind == ActivityKind.VISIT
                    else InteractionKind.MEETING
                )
                channel = InteractionChannel.FACE_TO_FACE
                when = current.start_at if current.start_at and current.start_at <= now else now
                if minutes is None and current.start_at and current.end_at:
                    minutes = min(
                        int((current.end_at - current.start_at).total_seconds() // 60), 24 * 60
                    )
            from vefa.customers.models import Customer

            interaction = interaction_insert(
                actor=actor,
                customer=Customer.objects.get(pk=current.customer_id),
                kind=kind,
                channel=channel,
                direction=Direction.OUTBOUND,
                initiated_by=InitiatedBy.COMPANY,
                occurred_at=when,
                subject=current.subject,
                body="\n\n".join(p for p in [current.description, notes] if p),
                outcome=outcome,
                duration_minutes=minutes,
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
            expected_version=expected_version,
        )
        reminders_sync(updated)
    return updated


def activity_delete(*, actor: User, activity_id: int) -> None:
    """Delete an activity the actor may delete (its reminders and attendees go with it;
    an interaction it recorded stays in the contact history)."""
    with transaction.atomic():
        activity = get_for(Activity.objects.all(), actor=actor, pk=activity_id, action="delete")
        record_delete(activity, actor=actor)
