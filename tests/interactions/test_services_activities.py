"""Planning, changing, cancelling and completing activities; their reminders."""

from __future__ import annotations

import datetime

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.models import Activity, Interaction, Reminder
from vefa.interactions.services import (
    activity_cancel,
    activity_complete,
    activity_create,
    activity_update,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def _reminders(activity: Activity) -> list[tuple[int, datetime.datetime, bool]]:
    return [
        (r.minutes_before, r.remind_at, r.sent_at is not None)
        for r in Reminder.objects.filter(activity=activity).order_by("-minutes_before")
    ]


def test_task_has_due_time_and_default_reminders(rep, own_customer, soon):
    # when a rep plans a call for a customer
    activity = activity_create(
        actor=rep, kind="call", subject="Call back", due_at=soon, customer_id=own_customer.pk
    )
    # then it is theirs, scheduled at the due time, with reminders 1 day and 1 hour before
    activity.refresh_from_db()
    assert (activity.owner_id, activity.team_id, activity.status) == (
        rep.pk,
        rep.team_id,
        "planned",
    )
    assert (activity.due_at, activity.start_at, activity.scheduled_at) == (soon, None, soon)
    assert _reminders(activity) == [(1440, soon - 24 * H, False), (60, soon - H, False)]
    assert (
        ChangeLogEntry.objects.filter(model="interactions.activity", action="create").count() == 1
    )


def test_meeting_keeps_start_as_schedule_and_drops_due(rep, soon):
    activity = activity_create(
        actor=rep,
        kind="meeting",
        subject="Visit",
        due_at=soon,
        start_at=soon,
        end_at=soon + H,
        location="Kadıköy",
        reminder_minutes=[15],
    )
    assert (activity.due_at, activity.start_at, activity.end_at) == (None, soon, soon + H)
    assert activity.scheduled_at == soon
    assert _reminders(activity) == [(15, soon - datetime.timedelta(minutes=15), False)]


def test_reminder_minutes_follow_settings(rep, soon, settings):
    settings.VEFA_ACTIVITY_REMINDER_MINUTES = [30]
    activity = activity_create(actor=rep, kind="task", subject="Send offer", due_at=soon)
    assert [m for m, _, _ in _reminders(activity)] == [30]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "meeting", "start_at": "S", "end_at": "S"}, "end_at"),
        ({"kind": "meeting", "start_at": "S", "end_at": "S-1h"}, "end_at"),
        ({"kind": "meeting", "start_at": "S"}, "end_at"),
        ({"kind": "appointment", "end_at": "S"}, "start_at"),
        ({"kind": "meeting", "start_at": "S", "end_at": "S+40d"}, "end_at"),
        ({"kind": "task"}, "due_at"),
        ({"kind": "call", "due_at": "not a time"}, "due_at"),
        ({"kind": "call", "due_at": ["S"]}, "due_at"),
        ({"kind": "party", "due_at": "S"}, "kind"),
        ({"kind": "task", "due_at": "S", "subject": ""}, "subject"),
        ({"kind": "task", "due_at": "S", "subject": "x" * 10_000}, "subject"),
        ({"kind": "task", "due_at": "S", "priority": "urgent!!"}, "priority"),
        ({"kind": "task", "due_at": "S", "reminder_minutes": [-1]}, "reminder_minutes"),
        ({"kind": "task", "due_at": "S", "reminder_minutes": "60"}, "reminder_minutes"),
        (
            {"kind": "task", "due_at": "S", "reminder_minutes": [1, 2, 3, 4, 5, 6]},
            "reminder_minutes",
        ),
        ({"kind": "task", "due_at": "S", "owner_id": 999_999}, "owner_id"),
        ({"kind": "task", "due_at": "S", "customer_id": 999_999}, "customer"),
        ({"kind": "task", "due_at": "S", "attendee_emails": ["not-an-email"]}, "attendee_emails"),
    ],
)
def test_invalid_activity_names_the_field_and_writes_nothing(rep, soon, kwargs, field):
    times = {"S": soon, "S-1h": soon - H, "S+40d": soon + datetime.timedelta(days=40)}

    def resolve(value):
        if isinstance(value, list):
            return [times.get(v, v) if isinstance(v, str) else v for v in value]
        return times.get(value, value) if isinstance(value, str) else value

    values = {"subject": "Plan"} | {k: resolve(v) for k, v in kwargs.items()}
    with pytest.raises(ValidationFailed) as exc:
        activity_create(actor=rep, **values)
    assert field in exc.value.fields
    assert Activity.objects.count() == 0
    assert Reminder.objects.count() == 0
    assert ChangeLogEntry.objects.count() == 0


def test_read_only_cannot_plan(read_only, soon):
    with pytest.raises(PermissionDenied):
        activity_create(actor=read_only, kind="task", subject="x", due_at=soon)
    assert Activity.objects.count() == 0


def test_rep_cannot_assign_to_colleague_but_manager_can(rep, rep_same_team, manager, soon):
    # a rep (own scope) may plan only their own work
    with pytest.raises(ValidationFailed) as exc:
        activity_create(actor=rep, kind="task", subject="x", due_at=soon, owner_id=rep_same_team.pk)
    assert set(exc.value.fields) == {"owner_id"}
    # a manager (team scope) may assign within the team, not outside it
    outsider = UserFactory(role=Role.SALES_REP)
    with pytest.raises(ValidationFailed):
        activity_create(actor=manager, kind="task", subject="x", due_at=soon, owner_id=outsider.pk)
    activity = activity_create(
        actor=manager, kind="task", subject="Call the bank", due_at=soon, owner_id=rep.pk
    )
    assert (activity.owner_id, activity.team_id) == (rep.pk, rep.team_id)


def test_moving_the_time_recomputes_reminders_and_makes_them_due_again(rep, soon):
    activity = activity_create(actor=rep, kind="task", subject="x", due_at=soon)
    Reminder.objects.filter(activity=activity, minutes_before=1440).update(sent_at=soon - 24 * H)
    later = soon + 2 * H
    activity_update(actor=rep, activity_id=activity.pk, data={"due_at": later})
    assert _reminders(activity) == [(1440, later - 24 * H, False), (60, later - H, False)]


def test_update_without_time_change_keeps_sent_reminders(rep, soon):
    activity = activity_create(actor=rep, kind="task", subject="x", due_at=soon)
    Reminder.objects.filter(activity=activity, minutes_before=1440).update(sent_at=soon - 24 * H)
    activity_update(actor=rep, activity_id=activity.pk, data={"subject": "y"})
    assert _reminders(activity) == [(1440, soon - 24 * H, True), (60, soon - H, False)]


def test_changing_kind_to_meeting_needs_start_and_end(rep, soon):
    activity = activity_create(actor=rep, kind="task", subject="x", due_at=soon)
    with pytest.raises(ValidationFailed) as exc:
        activity_update(actor=rep, activity_id=activity.pk, data={"kind": "meeting"})
    assert "start_at" in exc.value.fields
    updated = activity_update(
        actor=rep,
        activity_id=activity.pk,
        data={"kind": "meeting", "start_at": soon, "end_at": soon + H},
        reminder_minutes=[10],
    )
    assert (updated.due_at, updated.scheduled_at) == (None, soon)
    assert [m for m, _, _ in _reminders(activity)] == [10]


def test_cancel_removes_reminders_and_cannot_repeat(rep, soon):
    activity = activity_create(actor=rep, kind="task", subject="x", due_at=soon)
    cancelled = activity_cancel(actor=rep, activity_id=activity.pk)
    assert cancelled.status == "cancelled"
    assert Reminder.objects.filter(activity=activity).count() == 0
    with pytest.raises(ValidationFailed):
        activity_cancel(actor=rep, activity_id=activity.pk)


def test_completing_a_call_records_the_interaction(rep, own_customer, soon):
    # given a planned call with a customer
    activity = activity_create(
        actor=rep,
        kind="call",
        subject="Renewal call",
        description="Ask about the renewal",
        due_at=soon,
        customer_id=own_customer.pk,
    )
    # when the rep completes it with an outcome and 12 minutes
    done = activity_complete(
        actor=rep, activity_id=activity.pk, outcome="Will renew", duration_minutes=12
    )
    # then the activity is done, its reminders gone, and a call interaction is linked
    assert done.status == "done"
    assert done.completed_at is not None
    assert Reminder.objects.filter(activity=activity).count() == 0
    interaction = Interaction.objects.get()
    assert done.interaction_id == interaction.pk
    assert (interaction.kind, interaction.channel, interaction.outcome) == (
        "call",
        "phone",
        "Will renew",
    )
    assert (interaction.duration_minutes, interaction.user_id) == (12, rep.pk)
    assert interaction.customer_id == own_customer.pk
    assert interaction.body == "Ask about the renewal"
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == interaction.occurred_at


def test_completing_a_past_meeting_takes_duration_from_start_and_end(rep, own_customer, soon):
    start = soon - datetime.timedelta(days=5)
    activity = activity_create(
        actor=rep,
        kind="meeting",
        subject="Workshop",
        start_at=start,
        end_at=start + datetime.timedelta(minutes=90),
        customer_id=own_customer.pk,
    )
    activity_complete(actor=rep, activity_id=activity.pk, outcome="Good", notes="Met the CFO")
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.duration_minutes, interaction.occurred_at) == (
        "meeting",
        90,
        start,
    )


def test_completing_a_visit_records_a_visit(rep, own_customer, soon):
    activity = activity_create(
        actor=rep, kind="visit", subject="Visit", due_at=soon, customer_id=own_customer.pk
    )
    activity_complete(actor=rep, activity_id=activity.pk, outcome="Showed the samples")
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.channel) == ("visit", "face_to_face")


def test_completing_twice_is_refused_and_records_once(rep, own_customer, soon):
    activity = activity_create(
        actor=rep, kind="call", subject="x", due_at=soon, customer_id=own_customer.pk
    )
    activity_complete(actor=rep, activity_id=activity.pk)
    with pytest.raises(ValidationFailed) as exc:
        activity_complete(actor=rep, activity_id=activity.pk)
    assert set(exc.value.fields) == {"status"}
    assert Interaction.objects.count() == 1


def test_completing_a_task_records_no_interaction(rep, own_customer, soon):
    activity = activity_create(
        actor=rep, kind="task", subject="x", due_at=soon, customer_id=own_customer.pk
    )
    activity_complete(actor=rep, activity_id=activity.pk, outcome="Sent")
    assert Interaction.objects.count() == 0


def test_others_cannot_complete_or_change_and_nothing_changes(
    rep, rep_same_team, rep_other_team, read_only, own_customer, soon
):
    activity = activity_create(
        actor=rep, kind="call", subject="mine", due_at=soon, customer_id=own_customer.pk
    )
    logs = ChangeLogEntry.objects.count()
    for intruder in (rep_same_team, rep_other_team, read_only):
        with pytest.raises(NotFound):
            activity_complete(actor=intruder, activity_id=activity.pk)
        with pytest.raises(NotFound):
            activity_update(actor=intruder, activity_id=activity.pk, data={"subject": "theirs"})
        with pytest.raises(NotFound):
            activity_cancel(actor=intruder, activity_id=activity.pk)
    activity.refresh_from_db()
    assert (activity.subject, activity.status, activity.version) == ("mine", "planned", 1)
    assert Interaction.objects.count() == 0
    assert ChangeLogEntry.objects.count() == logs


def test_attendees_are_users_and_emails(rep, rep_same_team, soon):
    activity = activity_create(
        actor=rep,
        kind="meeting",
        subject="Kick-off",
        start_at=soon,
        end_at=soon + H,
        attendee_user_ids=[rep_same_team.pk],
        attendee_emails=["Buyer@Example.com", "buyer@example.com"],
    )
    got = sorted((a.user_id or 0, a.email) for a in activity.attendees.all())
    assert got == [(0, "buyer@example.com"), (rep_same_team.pk, "")]
    activity_update(
        actor=rep, activity_id=activity.pk, data={}, attendee_user_ids=[], attendee_emails=None
    )
    assert [a.email for a in activity.attendees.all()] == ["buyer@example.com"]
