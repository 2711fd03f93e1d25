# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Tickets in the global search: found by number, subject and customer, linked to the ticket
page, hidden from people who may not see them."""

from __future__ import annotations

import pytest

from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.platform.search import search

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def _ticket_hits(actor, query):
    results = search(actor=actor, query=query)
    return [hit for group in results.groups for hit in group.items if hit.model == "service.ticket"]


def test_ticket_is_found_and_linked(
    agent, rep_other_team, queue, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(
            agent, subject="Buzdolabı soğutmuyor", customer=customer.pk, owner=agent.pk
        )
    hits = _ticket_hits(agent, "buzdolabi")
    assert [h.object_id for h in hits] == [ticket.pk]
    assert hits[0].url == f"/service/tickets/{ticket.pk}/"
    assert ticket.number in hits[0].title
    assert [h.object_id for h in _ticket_hits(agent, ticket.number)] == [ticket.pk]
    assert [h.object_id for h in _ticket_hits(agent, "ayşe")] == [ticket.pk]
    # A sales rep of another team reads only their team's tickets.
    assert _ticket_hits(rep_other_team, "buzdolabi") == []
