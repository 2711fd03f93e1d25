"""SLA clocks on tickets and the periodic evaluation, at fixed instants (``now=``)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.platform.models import ChangeLogEntry, Notification
from vefa.service.choices import EscalationAction, SlaState, TicketPriority, TicketStatus
from vefa.service.models import BusinessCalendar, Holiday, Queue, SlaPolicy, Ticket
from vefa.service.services.sla import (
    policy_for,
    sla_evaluate,
    sla_first_response,
    sla_pause,
    sla_reopen,
    sla_resume,
    sla_start,
    sla_stop,
)
from vefa.service.sla import clear_clock_cache

IST = ZoneInfo("Europe/Istanbul")
BEL = ZoneInfo("Europe/Belgrade")
_numbers = itertools.count(1)


def at(*args, zone=IST) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


@pytest.fixture(autouse=True)
def _fresh_clocks():
    clear_clock_cache()
    yield
    clear_clock_cache()


@pytest.fixture
def policy(db) -> SlaPolicy:
    # First response within 2 business hours, resolution within 10 (two office days less 8h).
    return SlaPolicy.objects.create(
        name="Standard", first_response_minutes=120, resolution_minutes=600, warn_at_percent=80
    )


def open_ticket(queue, owner, now, **fields) -> Ticket:
    ticket = Ticket(
        number=f"T-2026-{next(_numbers):06d}",
        subject=fields.pop("subject", "Printer on fire"),
        queue=queue,
        owner=owner,
        team=queue.team,
        status=TicketStatus.NEW,
        **fields,
    )
    sla_start(ticket, now=now)
    ticket.save()
    return ticket


def save(ticket: Ticket) -> Ticket:
    ticket.save()
    ticket.refresh_from_db()
    return ticket


# --- policy ----------------------------------------------------------------------------------


def test_most_specific_active_policy_wins(db):
    catch_all = SlaPolicy.objects.create(
        name="All", first_response_minutes=240, resolution_minutes=2400
    )
    by_class = SlaPolicy.objects.create(
        name="A", value_class="A", first_response_minutes=60, resolution_minutes=600
    )
    by_priority = SlaPolicy.objects.create(
        name="Urgent", priority="urgent", first_response_minutes=30, resolution_minutes=300
    )
    both = SlaPolicy.objects.create(
        name="Urgent A",
        priority="urgent",
        value_class="A",
        first_response_minutes=15,
        resolution_minutes=120,
    )
    SlaPolicy.objects.create(
        name="Urgent A old",
        priority="urgent",
        value_class="A",
        first_response_minutes=1,
        resolution_minutes=2,
        is_active=False,
    )
    assert policy_for(Ticket(priority="urgent", value_class="A")) == both
    assert policy_for(Ticket(priority="urgent", value_class="B")) == by_priority
    assert policy_for(Ticket(priority="urgent", value_class="")) == by_priority
    assert policy_for(Ticket(priority="low", value_class="A")) == by_class
    assert policy_for(Ticket(priority="low", value_class="C")) == catch_all
    both.is_active = False
    both.save()
    assert policy_for(Ticket(priority="urgent", value_class="A")) == by_priority


def test_no_policy_means_no_clock(queue, agent):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    assert ticket.sla_state == SlaState.NONE
    assert ticket.sla_policy is None
    assert ticket.first_response_due_at is None and ticket.resolution_due_at is None
    sla_pause(ticket, now=at(2026, 11, 24, 11, 0))
    sla_stop(ticket, now=at(2026, 11, 24, 12, 0))
    assert ticket.sla_state == SlaState.NONE


# --- clocks ----------------------------------------------------------------------------------


def test_start_over_a_weekend_on_the_queue_calendar(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 27, 17, 0))  # Friday 17:00
    assert ticket.sla_policy == policy
    assert ticket.sla_state == SlaState.RUNNING
    assert ticket.first_response_due_at == at(2026, 11, 30, 10, 0)  # Monday
    assert ticket.resolution_due_at == at(2026, 11, 30, 18, 0)  # 60 on Friday + 540
    # 80 % of 120 business minutes: 96 minutes in → Monday 09:36.
    assert ticket.first_response_warn_at == at(2026, 11, 30, 9, 36)
    assert ticket.resolution_warn_at == at(2026, 11, 30, 16, 0)  # 480 of 600 minutes


def test_holiday_moves_the_due_time(queue, agent, policy, calendar):
    Holiday.objects.create(calendar=calendar, date=dt.date(2026, 11, 30), name="Holiday")
    ticket = open_ticket(queue, agent, at(2026, 11, 27, 17, 0))
    assert ticket.first_response_due_at == at(2026, 12, 1, 10, 0)  # Tuesday


def test_without_a_calendar_the_clock_runs_around_the_clock(db, team, agent, policy):
    queue = Queue.objects.create(name="Night shift", team=team)
    ticket = open_ticket(queue, agent, at(2026, 11, 28, 23, 0))  # Saturday night
    assert ticket.first_response_due_at == at(2026, 11, 29, 1, 0)


def test_dst_change_in_belgrade(db, team, agent, policy):
    calendar = BusinessCalendar.objects.create(
        name="Belgrade office",
        time_zone="Europe/Belgrade",
        hours={str(d): [["08:00", "16:00"]] for d in range(1, 6)},
    )
    queue = Queue.objects.create(name="Belgrade", team=team, calendar=calendar)
    ticket = open_ticket(queue, agent, at(2026, 3, 27, 15, 0, zone=BEL))  # Friday, CET
    # One hour on Friday, one on Monday, in local office time (now CEST).
    assert ticket.first_response_due_at == at(2026, 3, 30, 9, 0, zone=BEL)
    assert ticket.first_response_due_at.astimezone(dt.UTC).hour == 7


def test_pause_across_a_weekend_keeps_the_minutes_left(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 27, 10, 0))  # Friday 10:00
    assert ticket.resolution_due_at == at(2026, 11, 30, 11, 0)
    sla_first_response(ticket, now=at(2026, 11, 27, 10, 30))
    ticket.status = TicketStatus.WAITING
    sla_pause(ticket, now=at(2026, 11, 27, 16, 0))  # 360 used, 240 left
    ticket = save(ticket)
    assert ticket.sla_state == SlaState.PAUSED
    assert ticket.resolution_left == 240
    assert ticket.resolution_due_at is None and ticket.resolution_warn_at is None
    # Nothing happens while paused, even long past the old due time.
    assert sla_evaluate(now=at(2026, 12, 2, 12, 0))["resolution_breaches"] == 0
    ticket.status = TicketStatus.OPEN
    sla_resume(ticket, now=at(2026, 12, 1, 9, 0))  # the customer answers on Tuesday
    ticket = save(ticket)
    assert ticket.sla_state == SlaState.RUNNING
    assert ticket.resolution_due_at == at(2026, 12, 1, 13, 0)
    assert ticket.resolution_left is None and ticket.sla_paused_at is None
    # 120 minutes' reserve (20 % of 600): warn at 11:00.
    assert ticket.resolution_warn_at == at(2026, 12, 1, 11, 0)


def test_pause_and_resume_are_idempotent(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_pause(ticket, now=at(2026, 11, 24, 11, 0))
    sla_pause(ticket, now=at(2026, 11, 24, 15, 0))
    assert ticket.first_response_left == 60
    sla_resume(ticket, now=at(2026, 11, 25, 9, 0))
    due = ticket.first_response_due_at
    sla_resume(ticket, now=at(2026, 11, 25, 12, 0))
    assert ticket.first_response_due_at == due == at(2026, 11, 25, 10, 0)


def test_first_response_on_time_and_late(queue, agent, policy):
    on_time = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(on_time, now=at(2026, 11, 24, 12, 0))  # exactly at the due time
    assert on_time.first_responded_at == at(2026, 11, 24, 12, 0)
    assert not on_time.first_response_breached
    assert on_time.first_response_warn_at is None
    assert on_time.sla_state == SlaState.RUNNING
    late = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(late, now=at(2026, 11, 24, 12, 1))
    assert late.first_response_breached
    assert late.sla_state == SlaState.BREACHED
    first = late.first_responded_at
    sla_first_response(late, now=at(2026, 11, 24, 15, 0))
    assert late.first_responded_at == first


def test_stop_met_and_breached(queue, agent, policy):
    met = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(met, now=at(2026, 11, 24, 10, 5))
    sla_stop(met, now=at(2026, 11, 24, 17, 0))
    assert met.sla_state == SlaState.MET
    assert met.resolution_left == 180  # kept for a reopen
    assert met.resolution_warn_at is None
    late = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(late, now=at(2026, 11, 24, 10, 5))
    sla_stop(late, now=at(2026, 11, 25, 12, 0))  # due Wed 11:00
    assert late.resolution_breached and late.sla_state == SlaState.BREACHED


def test_reopen_continues_with_the_minutes_left(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(ticket, now=at(2026, 11, 24, 10, 5))
    sla_stop(ticket, now=at(2026, 11, 24, 17, 0))  # 180 left
    ticket = save(ticket)
    sla_reopen(ticket, now=at(2026, 11, 26, 9, 0))
    ticket = save(ticket)
    assert ticket.sla_state == SlaState.RUNNING
    assert ticket.resolution_due_at == at(2026, 11, 26, 12, 0)
    assert not ticket.resolution_breached


def test_reopen_of_a_breached_ticket_stays_breached(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(ticket, now=at(2026, 11, 24, 10, 5))
    sla_stop(ticket, now=at(2026, 11, 26, 10, 0))
    assert ticket.resolution_breached
    sla_reopen(ticket, now=at(2026, 11, 27, 10, 0))
    assert ticket.sla_state == SlaState.BREACHED
    assert ticket.resolution_due_at == at(2026, 11, 27, 10, 0)
    assert ticket.resolution_warn_at is None


# --- evaluation ------------------------------------------------------------------------------


def notices(user, verb=None):
    qs = Notification.objects.filter(recipient=user)
    return qs.filter(verb=verb) if verb else qs


def test_warning_then_breach_once_each(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    # Before the warning instant: nothing.
    counts = sla_evaluate(now=at(2026, 11, 24, 11, 35))
    assert not any(counts.values())
    counts = sla_evaluate(now=at(2026, 11, 24, 11, 36))
    assert counts["first_response_warnings"] == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.WARNING
    assert ticket.sla_warned_at == at(2026, 11, 24, 11, 36)
    assert ticket.first_response_warn_at is None
    assert notices(agent, "sla_warning").count() == 1
    # Twice: no second notice.
    assert not any(sla_evaluate(now=at(2026, 11, 24, 11, 40)).values())
    assert notices(agent, "sla_warning").count() == 1
    # At the due minute it is not yet late; a minute after it is.
    assert sla_evaluate(now=at(2026, 11, 24, 12, 0))["first_response_breaches"] == 0
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 1))
    assert counts["first_response_breaches"] == 1
    ticket.refresh_from_db()
    assert ticket.first_response_breached and ticket.sla_state == SlaState.BREACHED
    assert notices(agent, "sla_breach").count() == 1
    sla_evaluate(now=at(2026, 11, 24, 12, 2))
    assert notices(agent, "sla_breach").count() == 1
    notice = notices(agent, "sla_breach").get()
    assert ticket.number in notice.text
    assert notice.object_id == ticket.pk and notice.model == "service.ticket"


def test_lost_flag_does_not_notify_twice(queue, agent, policy):
    """A ticket saved from a stale copy loses the flag; the next run sets it, no new notice."""
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_evaluate(now=at(2026, 11, 24, 12, 1))
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_breached=False, sla_state=SlaState.RUNNING
    )
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 2))
    assert counts["first_response_breaches"] == 1
    assert counts["notifications"] == 0  # de-duplicated by the notification key
    assert notices(agent, "sla_breach").count() == 1


def test_resolution_warning_after_first_response(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(ticket, now=at(2026, 11, 24, 10, 30))
    save(ticket)
    counts = sla_evaluate(now=at(2026, 11, 25, 9, 0))  # 480 of 600 minutes: warn
    assert counts["resolution_warnings"] == 1
    assert counts["first_response_warnings"] == 0
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.WARNING
    counts = sla_evaluate(now=at(2026, 11, 25, 11, 1))
    assert counts["resolution_breaches"] == 1
    assert notices(agent).count() == 2


def test_evaluation_skips_paused_resolved_and_policy_less_tickets(queue, agent, policy):
    waiting = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    waiting.status = TicketStatus.WAITING
    sla_pause(waiting, now=at(2026, 11, 24, 10, 10))
    save(waiting)
    resolved = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_stop(resolved, now=at(2026, 11, 24, 10, 20))
    resolved.status = TicketStatus.RESOLVED
    save(resolved)
    policy.is_active = False
    policy.save()
    open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    counts = sla_evaluate(now=at(2026, 12, 24, 10, 0))
    assert not any(counts.values())
    assert Notification.objects.count() == 0


def test_escalation_notifies_the_escalation_contact_once(queue, agent, policy, team):
    manager = UserFactory(role=Role.ADMIN, team=team, full_name="Head of Service")
    policy.escalate_to = manager
    policy.save()
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 1))
    assert counts["escalations"] == 1
    ticket.refresh_from_db()
    assert ticket.escalated_at == at(2026, 11, 24, 12, 1)
    assert ticket.owner == agent
    assert notices(manager, "sla_escalation").count() == 1
    # The resolution breach later does not escalate again.
    counts = sla_evaluate(now=at(2026, 11, 26, 10, 0))
    assert counts["resolution_breaches"] == 1 and counts["escalations"] == 0
    assert notices(manager, "sla_escalation").count() == 1


def test_escalation_reassigns_through_the_change_log(queue, agent, policy, team):
    manager = UserFactory(role=Role.SERVICE_AGENT, team=team, full_name="Senior Agent")
    policy.escalation = EscalationAction.REASSIGN
    policy.escalate_to = manager
    policy.save()
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0), priority=TicketPriority.HIGH)
    version = ticket.version
    sla_evaluate(now=at(2026, 11, 24, 12, 1))
    ticket.refresh_from_db()
    assert ticket.owner == manager
    assert ticket.version == version + 1
    entry = ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).latest("id")
    assert entry.actor_id is None
    assert entry.before["owner"] == agent.pk and entry.after["owner"] == manager.pk
    assert notices(manager, "sla_escalation").count() == 1
    assert notices(agent, "sla_breach").count() == 1
    sla_evaluate(now=at(2026, 11, 24, 12, 2))
    assert ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).count() == 1


def test_reassign_without_an_escalation_contact_only_notifies(queue, agent, policy):
    policy.escalation = EscalationAction.REASSIGN
    policy.save()
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 1))
    ticket.refresh_from_db()
    assert ticket.owner == agent and ticket.escalated_at is not None
    assert counts["escalations"] == 1


def test_reopened_ticket_warns_again(queue, agent, policy):
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_first_response(ticket, now=at(2026, 11, 24, 10, 5))
    save(ticket)
    sla_evaluate(now=at(2026, 11, 25, 9, 0))
    assert notices(agent, "sla_warning").count() == 1
    ticket.refresh_from_db()
    sla_stop(ticket, now=at(2026, 11, 25, 9, 30))
    ticket.status = TicketStatus.RESOLVED
    save(ticket)
    ticket.status = TicketStatus.OPEN
    ticket.reopen_count = 1
    sla_reopen(ticket, now=at(2026, 11, 26, 9, 0))
    save(ticket)
    sla_evaluate(now=at(2026, 11, 26, 9, 0))
    assert notices(agent, "sla_warning").count() == 2


def test_hostile_subject_is_kept_as_text_in_the_notice(queue, agent, policy):
    from tests.service.conftest import HOSTILE

    open_ticket(queue, agent, at(2026, 11, 24, 10, 0), subject=HOSTILE[0])
    sla_evaluate(now=at(2026, 11, 24, 12, 1))
    assert HOSTILE[0] in notices(agent, "sla_breach").get().text


def test_notices_are_emailed_after_commit_when_mail_is_configured(
    queue, agent, policy, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from vefa.service.services import sla as module

    settings.EMAIL_HOST = "smtp.vefa.example"
    queued: list[list[int]] = []
    monkeypatch.setattr(module, "_enqueue_emails", lambda ids: queued.append(list(ids)))
    open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        sla_evaluate(now=at(2026, 11, 24, 12, 1))
    notice = notices(agent, "sla_breach").get()
    assert queued == [[notice.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        sla_evaluate(now=at(2026, 11, 24, 12, 2))
    assert queued == [[notice.pk]]


def test_reassignments_are_bounded_per_run_and_finish_later(
    queue, agent, agent_same_team, policy, monkeypatch
):
    from vefa.service.services import sla as module

    monkeypatch.setattr(module, "REASSIGN_PER_RUN", 1)
    policy.escalation = EscalationAction.REASSIGN
    policy.escalate_to = agent_same_team
    policy.save()
    first = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    second = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 1))
    assert counts["first_response_breaches"] == 2 and counts["escalations"] == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.owner == agent_same_team and first.escalated_at is not None
    assert second.owner == agent and second.escalated_at is None
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 2))
    assert counts["escalations"] == 1 and counts["first_response_breaches"] == 0
    second.refresh_from_db()
    assert second.owner == agent_same_team
    assert not any(sla_evaluate(now=at(2026, 11, 24, 12, 3)).values())
    assert notices(agent_same_team, "sla_escalation").count() == 2


def test_resolved_ticket_waiting_for_reassignment_is_left_alone(
    queue, agent, agent_same_team, policy, monkeypatch
):
    from vefa.service.services import sla as module

    monkeypatch.setattr(module, "REASSIGN_PER_RUN", 0)
    policy.escalation = EscalationAction.REASSIGN
    policy.escalate_to = agent_same_team
    policy.save()
    ticket = open_ticket(queue, agent, at(2026, 11, 24, 10, 0))
    sla_evaluate(now=at(2026, 11, 24, 12, 1))
    ticket.refresh_from_db()
    sla_stop(ticket, now=at(2026, 11, 24, 12, 5))
    ticket.status = TicketStatus.RESOLVED
    save(ticket)
    monkeypatch.setattr(module, "REASSIGN_PER_RUN", 10)
    assert sla_evaluate(now=at(2026, 11, 24, 12, 6))["escalations"] == 0
    ticket.refresh_from_db()
    assert ticket.owner == agent
