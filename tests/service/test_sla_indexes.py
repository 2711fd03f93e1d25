"""The ticket table's indexes the SLA evaluation relies on, and the ones it must not pay for.

The evaluation finds what falls due with range scans on partial indexes that hold only the
clocks still watched; a ticket it marks leaves them. Both engines must use those indexes for
the evaluation's queries (SQLite only when a query repeats each term of an index's condition).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import IntegrityError, connection, models, transaction

from vefa.service.choices import OPEN_STATUSES, SlaState, TicketStatus
from vefa.service.models import (
    AWAITING_ESCALATION,
    SLA_ACTIVE_STATES,
    WATCHED_FIRST_RESPONSE,
    WATCHED_RESOLUTION,
    SlaPolicy,
    Ticket,
)
from vefa.service.services.sla import (
    awaiting_reassignment,
    due_breaches,
    due_warnings,
    sla_evaluate,
    sla_start,
)

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def ticket(**fields) -> Ticket:
    values = {
        "number": f"T-IDX-{next(_numbers):06d}",
        "subject": "Index",
        "status": TicketStatus.OPEN,
        "sla_state": SlaState.RUNNING,
        "first_response_due_at": NOW - dt.timedelta(hours=1),
        "resolution_due_at": NOW - dt.timedelta(hours=1),
    }
    values.update(fields)
    return Ticket.objects.create(**values)


def watched(condition: models.Q, t: Ticket) -> bool:
    return Ticket.objects.filter(condition, pk=t.pk).exists()


# --- the conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", [value for value, _label in SlaState.choices])
def test_watched_clocks_follow_the_sla_state(db, state):
    t = ticket(sla_state=state)
    active = state in SLA_ACTIVE_STATES
    assert watched(WATCHED_FIRST_RESPONSE, t) is active
    assert watched(WATCHED_RESOLUTION, t) is active


def test_a_settled_clock_is_not_watched(db):
    breached_first = ticket(first_response_breached=True, sla_state=SlaState.BREACHED)
    answered = ticket(first_responded_at=NOW - dt.timedelta(hours=2))
    breached_resolution = ticket(resolution_breached=True, sla_state=SlaState.BREACHED)
    assert not watched(WATCHED_FIRST_RESPONSE, breached_first)
    assert watched(WATCHED_RESOLUTION, breached_first)
    assert not watched(WATCHED_FIRST_RESPONSE, answered)
    assert watched(WATCHED_RESOLUTION, answered)
    assert not watched(WATCHED_RESOLUTION, breached_resolution)
    assert watched(WATCHED_FIRST_RESPONSE, breached_resolution)


@pytest.mark.parametrize("status", [value for value, _label in TicketStatus.choices])
def test_awaiting_escalation_is_open_breached_and_not_escalated(db, status):
    t = ticket(status=status, sla_state=SlaState.BREACHED)
    assert watched(AWAITING_ESCALATION, t) is (status in OPEN_STATUSES)
    escalated = ticket(status=status, sla_state=SlaState.BREACHED, escalated_at=NOW)
    running = ticket(status=status, sla_state=SlaState.RUNNING)
    assert not watched(AWAITING_ESCALATION, escalated)
    assert not watched(AWAITING_ESCALATION, running)


def test_a_marked_ticket_leaves_the_watched_indexes(db, queue, agent):
    SlaPolicy.objects.create(name="Standard", first_response_minutes=60, resolution_minutes=120)
    opened = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)  # 10:00 in Istanbul, a Tuesday
    t = Ticket(number="T-IDX-MARK", subject="Late", queue=queue, owner=agent, team=queue.team)
    sla_start(t, now=opened)
    t.save()
    assert watched(WATCHED_FIRST_RESPONSE, t) and watched(WATCHED_RESOLUTION, t)
    counts = sla_evaluate(now=opened + dt.timedelta(hours=3))
    assert counts["first_response_breaches"] == 1 and counts["resolution_breaches"] == 1
    t.refresh_from_db()
    assert t.sla_state == SlaState.BREACHED and t.escalated_at is not None
    assert t.first_response_warn_at is None and t.resolution_warn_at is None
    for condition in (WATCHED_FIRST_RESPONSE, WATCHED_RESOLUTION, AWAITING_ESCALATION):
        assert not watched(condition, t)


# --- the plans ---------------------------------------------------------------------------------


def plan(qs) -> str:
    """The plan of ``qs``; on PostgreSQL with sequential scans priced out (tiny tables)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        return qs.explain()


def test_evaluation_queries_use_the_partial_indexes(db):
    first, resolution = due_breaches(NOW)
    assert "ticket_sla_first_due" in plan(first.values("pk"))
    assert "ticket_sla_resolution_due" in plan(resolution.values("pk"))
    assert "ticket_sla_first_warn" in plan(due_warnings(NOW, first=True).values("pk"))
    assert "ticket_sla_warn" in plan(due_warnings(NOW, first=False).values("pk"))
    assert "ticket_sla_escalate" in plan(awaiting_reassignment().values("pk")[:100])


def test_a_query_without_the_watched_terms_cannot_use_them(db):
    """The check above can fail: the partial index is out of reach without its condition."""
    assert "ticket_sla_first_due" not in plan(
        Ticket.objects.filter(first_response_due_at__lt=NOW).values("pk")
    )
    assert "ticket_sla_escalate" not in plan(
        Ticket.objects.filter(sla_state=SlaState.BREACHED, escalated_at__isnull=True)
        .order_by("pk")
        .values("pk")[:100]
    )


# --- no index the ticket's writes pay for twice ------------------------------------------------


def test_no_foreign_key_index_duplicates_a_composite_one():
    leading = {index.fields[0].lstrip("-") for index in Ticket._meta.indexes}
    doubled = [
        field.name
        for field in Ticket._meta.concrete_fields
        if field.db_index and not field.unique and field.name in leading
    ]
    assert doubled == []


def test_no_text_column_gets_a_pattern_index():
    """``db_index``/``unique`` on a CharField adds a ``LIKE`` pattern copy on PostgreSQL."""
    pattern = [
        field.name
        for field in Ticket._meta.concrete_fields
        if isinstance(field, models.CharField) and (field.db_index or field.unique)
    ]
    assert pattern == []


def test_the_database_has_no_pattern_index_on_tickets(db):
    if connection.vendor != "postgresql":
        pytest.skip("pattern indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'service_ticket' "
            "AND indexdef LIKE '%%pattern_ops%%'"
        )
        assert cursor.fetchall() == []


def test_ticket_numbers_stay_unique(db):
    ticket(number="T-2026-000001")
    with pytest.raises(IntegrityError), transaction.atomic():
        ticket(number="T-2026-000001")
    assert Ticket.objects.filter(number="T-2026-000001").count() == 1
