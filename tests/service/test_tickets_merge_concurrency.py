# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Merges of the same pair at the same moment lose nothing: one wins, the other is refused
(on PostgreSQL it waits on the row locks and is told why), and every message ends on the one
ticket that was not merged."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.common.errors import ValidationFailed
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services.tickets import ticket_merge, ticket_message_add

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def _race(*actions):
    results: list[object] = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = action()
        except Exception as exc:  # a refusal, or "database is locked" on SQLite: both lose
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _pair(agent, customer):
    a = open_ticket(agent, customer=customer.pk, owner=agent.pk, description="birinci")
    b = open_ticket(agent, customer=customer.pk, owner=agent.pk, description="ikinci")
    ticket_message_add(actor=agent, ticket_id=a.pk, kind="note", body="a notu")
    ticket_message_add(actor=agent, ticket_id=b.pk, kind="note", body="b notu")
    return a, b


def _merge(actor, source, target):
    return lambda: ticket_merge(actor=actor, source_id=source.pk, target_id=target.pk)


def _check_nothing_lost(a, b, results):
    won = [r for r in results if isinstance(r, Ticket)]
    assert len(won) == 1, results
    survivor = Ticket.objects.get(pk=won[0].pk)
    duplicate = Ticket.objects.get(pk=({a.pk, b.pk} - {survivor.pk}).pop())
    assert survivor.merged_into_id is None and duplicate.merged_into_id == survivor.pk
    bodies = set(
        TicketMessage.objects.filter(ticket=survivor)
        .exclude(kind="system")
        .values_list("body", flat=True)
    )
    assert bodies == {"birinci", "ikinci", "a notu", "b notu"}
    assert not TicketMessage.objects.filter(ticket=duplicate).exclude(kind="system").exists()
    if connection.vendor == "postgresql":
        loser = next(r for r in results if not isinstance(r, Ticket))
        assert isinstance(loser, ValidationFailed) and "target" in loser.fields, loser


def test_opposite_merges_of_one_pair(agent, agent_same_team, queue, customer):
    a, b = _pair(agent, customer)
    results = _race(_merge(agent, a, b), _merge(agent_same_team, b, a))
    _check_nothing_lost(a, b, results)


def test_the_same_merge_twice(agent, agent_same_team, queue, customer):
    a, b = _pair(agent, customer)
    results = _race(_merge(agent, a, b), _merge(agent_same_team, a, b))
    _check_nothing_lost(a, b, results)


def test_a_message_written_during_the_merge_lands_on_the_survivor(agent, queue, customer):
    a, b = _pair(agent, customer)

    def write():
        return ticket_message_add(actor=None, ticket_id=a.pk, kind="customer", body="yarışta")

    results = _race(_merge(agent, a, b), write)
    written = [r for r in results if isinstance(r, TicketMessage)]
    if connection.vendor == "postgresql":
        assert isinstance(results[0], Ticket) and len(written) == 1, results
    merged = isinstance(results[0], Ticket)
    # On SQLite one of the two may lose to "database is locked"; whatever won, nothing is
    # left on a merged ticket.
    for message in written:
        assert TicketMessage.objects.get(pk=message.pk).ticket_id == (b.pk if merged else a.pk)
    if merged:
        assert not TicketMessage.objects.filter(ticket=a).exclude(kind="system").exists()
