"""The SLA evaluation's digests: one notice per ticket up to a handful, one digest above,
each ticket and event still announced exactly once; e-mails queued in bulk."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.platform.models import ChangeLogEntry, Notification
from vefa.service.choices import EscalationAction, SlaState, TicketStatus
from vefa.service.models import SlaPolicy, Ticket
from vefa.service.services import sla as module
from vefa.service.services.sla import DIGEST_AFTER, sla_evaluate, sla_first_response, sla_start
from vefa.service.sla import clear_clock_cache

IST = ZoneInfo("Europe/Istanbul")
_numbers = itertools.count(1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=IST)


# Opened Tuesday 10:00: the first response (120 business minutes) is due at 12:00, the
# warning (80 %) falls at 11:36; the resolution (600 minutes) is due Wednesday 11:00.
OPENED = at(2026, 11, 24, 10, 0)
FIRST_BREACHED = at(2026, 11, 24, 12, 1)
FIRST_WARNED = at(2026, 11, 24, 11, 36)


@pytest.fixture(autouse=True)
def _fresh_clocks():
    clear_clock_cache()
    yield
    clear_clock_cache()


@pytest.fixture
def policy(db) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard", first_response_minutes=120, resolution_minutes=600, warn_at_percent=80
    )


def open_tickets(queue, owner, n, now=OPENED, **fields) -> list[Ticket]:
    tickets = []
    for _i in range(n):
        ticket = Ticket(
            number=f"T-2026-{next(_numbers):06d}",
            subject=fields.get("subject", "Printer on fire"),
            queue=queue,
            owner=owner,
            team=queue.team,
            status=TicketStatus.NEW,
        )
        sla_start(ticket, now=now)
        ticket.save()
        tickets.append(ticket)
    return tickets


def notices(user, verb=None):
    qs = Notification.objects.filter(recipient=user)
    return qs.filter(verb=verb) if verb else qs


def test_up_to_the_threshold_one_notice_per_ticket(queue, agent, policy):
    tickets = open_tickets(queue, agent, DIGEST_AFTER)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == DIGEST_AFTER
    assert counts["notifications"] == DIGEST_AFTER and counts["digests"] == 0
    assert sorted(notices(agent, "sla_breach").values_list("object_id", flat=True)) == sorted(
        t.pk for t in tickets
    )


def test_above_the_threshold_one_digest_linking_to_the_filtered_list(queue, agent, policy):
    tickets = open_tickets(queue, agent, DIGEST_AFTER + 1)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == DIGEST_AFTER + 1
    assert counts["notifications"] == 1 and counts["digests"] == 1
    digest = notices(agent, "sla_breach").get()
    assert digest.text == f"{DIGEST_AFTER + 1} tickets missed their first-response target."
    assert digest.object_id is None and digest.model == "service.ticket"
    assert digest.url.startswith("/") and "/tickets/?" in digest.url
    assert "sla=breached" in digest.url and "owner=mine" in digest.url
    assert "status=active" in digest.url
    # Every ticket in the digest carries its flag: none is announced again.
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.first_response_breached and ticket.sla_state == SlaState.BREACHED
    again = sla_evaluate(now=FIRST_BREACHED + dt.timedelta(minutes=1))
    assert not any(again.values())
    assert notices(agent).count() == 1


def test_the_threshold_counts_per_recipient(queue, agent, agent_same_team, policy):
    open_tickets(queue, agent, DIGEST_AFTER + 2)
    open_tickets(queue, agent_same_team, 2)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == DIGEST_AFTER + 4
    assert notices(agent, "sla_breach").count() == 1
    assert notices(agent, "sla_breach").get().object_id is None
    assert notices(agent_same_team, "sla_breach").count() == 2
    assert not notices(agent_same_team).filter(object_id__isnull=True).exists()


def test_a_later_breach_after_a_digest_is_notified_alone(queue, agent, policy):
    open_tickets(queue, agent, DIGEST_AFTER + 1)
    sla_evaluate(now=FIRST_BREACHED)
    late = open_tickets(queue, agent, 1, now=at(2026, 11, 24, 10, 30))[0]
    counts = sla_evaluate(now=at(2026, 11, 24, 12, 31))
    assert counts["first_response_breaches"] == 1 and counts["digests"] == 0
    assert notices(agent, "sla_breach").count() == 2
    assert notices(agent, "sla_breach").filter(object_id=late.pk).exists()


def test_warning_digest_links_to_the_tickets_breaching_soon(queue, agent, policy):
    open_tickets(queue, agent, DIGEST_AFTER + 3)
    counts = sla_evaluate(now=FIRST_WARNED)
    assert counts["first_response_warnings"] == DIGEST_AFTER + 3
    digest = notices(agent, "sla_warning").get()
    assert digest.text == f"{DIGEST_AFTER + 3} tickets will miss their first-response target soon."
    assert "sla=warning" in digest.url
    assert Ticket.objects.filter(sla_state=SlaState.WARNING).count() == DIGEST_AFTER + 3
    assert not any(sla_evaluate(now=FIRST_WARNED + dt.timedelta(minutes=1)).values())
    assert notices(agent).count() == 1


def test_resolution_breach_digest(queue, agent, policy):
    tickets = open_tickets(queue, agent, DIGEST_AFTER + 1)
    for ticket in tickets:
        sla_first_response(ticket, now=at(2026, 11, 24, 10, 30))
        ticket.save()
    counts = sla_evaluate(now=at(2026, 11, 25, 11, 1))
    assert counts["resolution_breaches"] == DIGEST_AFTER + 1
    digest = notices(agent, "sla_breach").get()
    assert digest.text == f"{DIGEST_AFTER + 1} tickets breached their resolution target."


def test_escalation_contact_gets_one_digest_over_all_owners(
    queue, agent, agent_same_team, policy, team
):
    manager = UserFactory(role=Role.ADMIN, team=team, full_name="Head of Service")
    policy.escalate_to = manager
    policy.save()
    open_tickets(queue, agent, 4)
    open_tickets(queue, agent_same_team, 3)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["escalations"] == 7
    assert notices(agent, "sla_breach").count() == 4
    assert notices(agent_same_team, "sla_breach").count() == 3
    digest = notices(manager, "sla_escalation").get()
    assert digest.text == "7 tickets missed their SLA and are escalated to you."
    assert "sla=breached" in digest.url and "owner=mine" not in digest.url
    assert Ticket.objects.filter(escalated_at=FIRST_BREACHED).count() == 7
    # The resolution breaches later escalate nothing again.
    counts = sla_evaluate(now=at(2026, 11, 26, 10, 0))
    assert counts["resolution_breaches"] == 7 and counts["escalations"] == 0
    assert notices(manager, "sla_escalation").count() == 1


def test_reassignments_of_a_run_come_as_one_digest(queue, agent, agent_same_team, policy):
    policy.escalation = EscalationAction.REASSIGN
    policy.escalate_to = agent_same_team
    policy.save()
    tickets = open_tickets(queue, agent, DIGEST_AFTER + 1)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["escalations"] == DIGEST_AFTER + 1
    assert Ticket.objects.filter(owner=agent_same_team).count() == DIGEST_AFTER + 1
    # Each reassignment is in the change log; the new owner gets one digest.
    assert (
        ChangeLogEntry.objects.filter(
            model="service.ticket", object_id__in=[t.pk for t in tickets]
        ).count()
        == DIGEST_AFTER + 1
    )
    digest = notices(agent_same_team, "sla_escalation").get()
    assert digest.text == f"{DIGEST_AFTER + 1} tickets missed their SLA and were reassigned to you."
    assert "owner=mine" in digest.url
    assert not any(sla_evaluate(now=FIRST_BREACHED + dt.timedelta(minutes=1)).values())
    assert notices(agent_same_team).count() == 1


def test_inactive_owner_gets_nothing_but_tickets_are_marked(queue, agent, policy):
    open_tickets(queue, agent, DIGEST_AFTER + 1)
    agent.is_active = False
    agent.save()
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == DIGEST_AFTER + 1
    assert counts["notifications"] == 0
    assert Ticket.objects.filter(first_response_breached=True).count() == DIGEST_AFTER + 1


def test_rolled_back_run_marks_and_notifies_nothing(queue, agent, policy, monkeypatch):
    open_tickets(queue, agent, DIGEST_AFTER + 1)

    def crash(rows):
        raise RuntimeError("database went away")

    monkeypatch.setattr(module, "_insert_notices", crash)
    with pytest.raises(RuntimeError):
        sla_evaluate(now=FIRST_BREACHED)
    assert not Ticket.objects.filter(first_response_breached=True).exists()
    monkeypatch.undo()
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == DIGEST_AFTER + 1
    assert notices(agent).count() == 1


def test_query_count_does_not_grow_with_the_tickets(queue, agent, agent_same_team, policy):
    open_tickets(queue, agent, 10)
    with CaptureQueriesContext(connection) as few:
        sla_evaluate(now=FIRST_BREACHED)
    open_tickets(queue, agent_same_team, 40, now=at(2026, 11, 24, 10, 30))
    with CaptureQueriesContext(connection) as many:
        counts = sla_evaluate(now=at(2026, 11, 24, 12, 31))
    assert counts["first_response_breaches"] == 40
    assert len(many.captured_queries) == len(few.captured_queries)


def test_digest_e_mail_is_queued_after_commit(
    queue, agent, policy, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_HOST = "smtp.vefa.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    open_tickets(queue, agent, DIGEST_AFTER + 1)
    with django_capture_on_commit_callbacks(execute=True):
        sla_evaluate(now=FIRST_BREACHED)
    digest = notices(agent, "sla_breach").get()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [agent.email]
    assert digest.text in mail.outbox[0].body
    digest.refresh_from_db()
    assert digest.emailed_at is not None


def test_e_mails_are_queued_in_batches(db, monkeypatch):
    from vefa.service import tasks

    batches: list[list[int]] = []
    monkeypatch.setattr(module, "EMAILS_PER_TASK", 3)
    monkeypatch.setattr(
        tasks,
        "send_notification_emails",
        SimpleNamespace(enqueue=lambda *, notification_ids: batches.append(notification_ids)),
    )
    module._enqueue_emails(list(range(1, 8)))
    assert batches == [[1, 2, 3], [4, 5, 6], [7]]


def test_a_failing_queue_is_logged_not_raised(db, monkeypatch, caplog):
    from vefa.service import tasks

    def broken(**kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "send_notification_emails", SimpleNamespace(enqueue=broken))
    module._enqueue_emails([1, 2])
    assert "could not queue e-mails" in caplog.text


def test_e_mail_task_sends_each_notification_once(db, agent, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from vefa.service.tasks import send_notification_emails

    first = Notification.objects.create(recipient=agent, verb="sla_breach", text="one")
    second = Notification.objects.create(recipient=agent, verb="sla_breach", text="two")
    result = send_notification_emails.enqueue(notification_ids=[first.pk, second.pk, 10**9])
    assert result.return_value == 2
    result = send_notification_emails.enqueue(notification_ids=[first.pk, second.pk])
    assert result.return_value == 0
    assert [m.body.split("\n")[0] for m in mail.outbox] == ["one", "two"]


def test_reassignments_wait_when_the_run_is_out_of_time(
    queue, agent, agent_same_team, policy, monkeypatch
):
    policy.escalation = EscalationAction.REASSIGN
    policy.escalate_to = agent_same_team
    policy.save()
    ticket = open_tickets(queue, agent, 1)[0]
    monkeypatch.setattr(module, "REASSIGN_AFTER_SECONDS", 0.0)
    counts = sla_evaluate(now=FIRST_BREACHED)
    assert counts["first_response_breaches"] == 1 and counts["escalations"] == 0
    ticket.refresh_from_db()
    assert ticket.owner == agent and ticket.escalated_at is None
    monkeypatch.undo()
    counts = sla_evaluate(now=FIRST_BREACHED + dt.timedelta(minutes=1))
    assert counts["escalations"] == 1
    ticket.refresh_from_db()
    assert ticket.owner == agent_same_team
    assert notices(agent_same_team, "sla_escalation").count() == 1
