"""The SLA clocks through the ticket services: created, waiting, answered, resolved, reopened."""

from __future__ import annotations

import pytest

from vefa.service.choices import MessageKind, SlaState, TicketStatus
from vefa.service.models import SlaPolicy, Ticket
from vefa.service.services.sla import sla_evaluate
from vefa.service.services.tickets import (
    ticket_create,
    ticket_message_add,
    ticket_set_status,
)
from vefa.service.sla import clear_clock_cache


@pytest.fixture(autouse=True)
def _fresh_clocks():
    clear_clock_cache()


@pytest.fixture
def policy(db) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard", first_response_minutes=120, resolution_minutes=600
    )


def test_clocks_follow_the_ticket_workflow(agent, queue, customer, policy):
    ticket = ticket_create(
        actor=agent,
        data={
            "subject": "Broken",
            "description": "It broke",
            "customer": customer.pk,
            "queue": queue.pk,
        },
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy == policy
    assert ticket.sla_state == SlaState.RUNNING
    assert ticket.first_response_due_at and ticket.resolution_due_at
    # The warning instants are stored on the row, not only on the instance.
    assert ticket.first_response_warn_at is not None
    assert ticket.resolution_warn_at is not None
    assert ticket.first_response_warn_at < ticket.first_response_due_at

    ticket_message_add(
        actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="On it", send_email=False
    )
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.first_response_warn_at is None

    ticket_set_status(actor=agent, ticket_id=ticket.pk, status=TicketStatus.WAITING)
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.PAUSED
    assert ticket.resolution_due_at is None and ticket.resolution_left is not None
    assert ticket.resolution_warn_at is None

    ticket_message_add(actor=None, ticket_id=ticket.pk, kind=MessageKind.CUSTOMER, body="More")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.sla_state == SlaState.RUNNING
    assert ticket.resolution_due_at is not None and ticket.resolution_warn_at is not None

    ticket_set_status(actor=agent, ticket_id=ticket.pk, status=TicketStatus.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.MET
    assert ticket.resolution_warn_at is None and ticket.resolution_left is not None
    assert not any(sla_evaluate().values())

    ticket_message_add(actor=None, ticket_id=ticket.pk, kind=MessageKind.CUSTOMER, body="Again")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.reopen_count == 1
    assert ticket.sla_state == SlaState.RUNNING
    assert Ticket.objects.filter(pk=ticket.pk, resolution_warn_at__isnull=False).exists()
