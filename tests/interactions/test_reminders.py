"""Reminders become notifications exactly once; assignment notifies the assignee."""

from __future__ import annotations

import datetime

import pytest

from vefa.interactions.models import Reminder
from vefa.interactions.services import (
    activity_complete,
    activity_create,
    activity_update,
    reminders_send_due,
)
from vefa.interactions.tasks import send_due_reminders
from vefa.platform.models import Notification
from vefa.platform.periodic import jobs

pytestmark = pytest.mark.django_db

START = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.UTC)
H = datetime.timedelta(hours=1)


def test_due_reminder_is_sent_once_even_when_the_job_runs_twice(rep):
    activity = activity_create(actor=rep, kind="call", subject="Call Ali", due_at=START)
    # a day before: only the 1-day reminder is due
    assert reminders_send_due(now=START - 24 * H) == 1
    assert reminders_send_due(now=START - 24 * H) == 0
    assert reminders_send_due(now=START - 23 * H) == 0
    notices = list(Notification.objects.filter(recipient=rep))
    assert len(notices) == 1
    assert notices[0].verb == "activity_reminder"
    assert notices[0].url == activity.get_absolute_url()
    assert "Call Ali" in notices[0].text
    # an hour before: the 1-hour reminder
    assert reminders_send_due(now=START - H) == 1
    assert reminders_send_due(now=START - H + datetime.timedelta(minutes=1)) == 0
    assert Notification.objects.filter(recipient=rep).count() == 2
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0


def test_a_second_claim_of_the_same_reminder_sends_nothing(rep):
    activity_create(actor=rep, kind="task", subject="x", due_at=START, reminder_minutes=[60])
    reminder = Reminder.objects.get()
    assert reminders_send_due(now=START - H) == 1
    # a crash after the notice but before the mark: the dedupe key still stops a second notice
    Reminder.objects.filter(pk=reminder.pk).update(sent_at=None)
    reminders_send_due(now=START - H)
    assert Notification.objects.count() == 1
    assert Reminder.objects.get().sent_at is not None


def test_several_due_at_once_send_only_the_closest(rep):
    activity_create(actor=rep, kind="task", subject="short notice", due_at=START)
    assert reminders_send_due(now=START - 30 * datetime.timedelta(minutes=1)) == 1
    assert Notification.objects.count() == 1
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0


def test_reminders_of_started_done_or_rescheduled_activities(rep, own_customer):
    started = activity_create(actor=rep, kind="task", subject="started", due_at=START)
    assert reminders_send_due(now=START + H) == 0
    assert Notification.objects.count() == 0
    done = activity_create(
        actor=rep, kind="call", subject="done", due_at=START + 5 * H, customer_id=own_customer.pk
    )
    activity_complete(actor=rep, activity_id=done.pk)
    moved = activity_create(actor=rep, kind="task", subject="moved", due_at=START + 10 * H)
    assert reminders_send_due(now=START + 9 * H) == 1
    activity_update(actor=rep, activity_id=moved.pk, data={"due_at": START + 30 * H})
    assert reminders_send_due(now=START + 29 * H) == 1
    assert Notification.objects.filter(object_id=moved.pk).count() == 2
    assert Notification.objects.filter(object_id__in=[started.pk, done.pk]).count() == 0


def test_inactive_owner_gets_no_reminder(rep):
    activity_create(actor=rep, kind="task", subject="x", due_at=START)
    rep.is_active = False
    rep.save()
    assert reminders_send_due(now=START - H) == 0
    assert Notification.objects.count() == 0


def test_reminder_text_is_in_the_owners_language_and_zone(rep):
    rep.language = "tr"
    rep.time_zone = "Europe/Istanbul"
    rep.save()
    activity_create(actor=rep, kind="task", subject="Teklif", due_at=START, reminder_minutes=[60])
    reminders_send_due(now=START - H)
    assert "15:00" in Notification.objects.get().text


def test_periodic_job_is_declared_every_minute(rep):
    job = jobs()["interactions.send_due_reminders"]
    assert job.every == datetime.timedelta(minutes=1)
    assert job.func is send_due_reminders


def test_assigning_to_someone_else_notifies_them_once(
    manager, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        activity = activity_create(
            actor=manager, kind="task", subject="<b>Follow up</b>", due_at=START, owner_id=rep.pk
        )
    notice = Notification.objects.get(recipient=rep)
    assert (notice.verb, notice.object_id) == ("activity_assigned", activity.pk)
    assert "<b>Follow up</b>" in notice.text
    with django_capture_on_commit_callbacks(execute=True):
        activity_update(actor=manager, activity_id=activity.pk, data={"subject": "Follow up"})
    assert Notification.objects.filter(recipient=rep).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        activity_create(actor=rep, kind="task", subject="own", due_at=START)
    assert Notification.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        activity_update(actor=manager, activity_id=activity.pk, data={"owner_id": manager.pk})
        activity_update(actor=manager, activity_id=activity.pk, data={"owner_id": rep.pk})
    assert Notification.objects.filter(recipient=rep).count() == 2


def test_attending_colleagues_are_reminded_only_if_they_may_see_it(
    rep, rep_same_team, rep_other_team
):
    activity_create(
        actor=rep,
        kind="meeting",
        subject="Board",
        start_at=START,
        end_at=START + H,
        reminder_minutes=[60],
        attendee_user_ids=[rep_same_team.pk, rep_other_team.pk],
    )
    assert reminders_send_due(now=START - H) == 2
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(
        [rep.pk, rep_same_team.pk]
    )
    assert reminders_send_due(now=START - H) == 0
