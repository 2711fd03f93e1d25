"""Ticket reads: the agent's queue ordered by the next SLA target, the customer's tickets,
lookup by number; and the SLA clocks as the ticket services drive them (real SLA services)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from vefa.service.models import SlaPolicy, Ticket
from vefa.service.selectors.tickets import (
    customer_tickets,
    next_due,
    ticket_by_number,
    ticket_get,
    ticket_queue,
)
from vefa.service.services.tickets import ticket_create, ticket_message_add, ticket_set_status

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# A Monday, 10:00 in Istanbul.
MONDAY = datetime.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


class Clock:
    """``timezone.now`` at a fixed instant the test moves (the services read it)."""

    def __init__(self, monkeypatch) -> None:
        self.now = MONDAY
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, minutes: int) -> Clock:
        self.now = MONDAY + datetime.timedelta(minutes=minutes)
        return self


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def policies(db):
    SlaPolicy.objects.create(name="Normal", first_response_minutes=120, resolution_minutes=960)
    SlaPolicy.objects.create(
        name="Urgent", priority="urgent", first_response_minutes=30, resolution_minutes=240
    )


def test_sla_clocks_follow_the_workflow(agent, queue, policies, clock):
    ticket = ticket_create(actor=agent, data={"subject": "Acil", "priority": "urgent"})
    assert ticket.sla_state == "running"
    assert ticket.first_response_due_at == MONDAY + datetime.timedelta(minutes=30)
    assert ticket.resolution_due_at == MONDAY + datetime.timedelta(minutes=240)
    clock.at(10)
    ticket_message_add(
        actor=agent, ticket_id=ticket.pk, kind="reply", body="Bakıyoruz", send_email=False
    )
    ticket.refresh_from_db()
    assert ticket.first_responded_at == MONDAY + datetime.timedelta(minutes=10)
    assert not ticket.first_response_breached
    clock.at(60)
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="waiting")
    ticket.refresh_from_db()
    assert ticket.sla_state == "paused" and ticket.resolution_due_at is None
    assert ticket.resolution_left == 180
    # The customer answers two business hours later: the clock continues with 180 minutes.
    answered = clock.at(180).now
    ticket_message_add(actor=None, ticket_id=ticket.pk, kind="customer", body="Cevap")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.resolution_due_at == answered + datetime.timedelta(minutes=180)
    clock.at(210)
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    ticket.refresh_from_db()
    assert ticket.sla_state == "met"


def test_queue_orders_by_the_next_target(agent, agent_same_team, queue, policies, clock):
    normal = ticket_create(actor=agent, data={"subject": "Normal", "owner": agent.pk})
    clock.at(5)
    urgent = ticket_create(
        actor=agent, data={"subject": "Acil", "priority": "urgent", "owner": agent.pk}
    )
    ticket_create(actor=agent, data={"subject": "Başkası", "owner": agent_same_team.pk})
    result = ticket_queue(actor=agent)
    assert [t.pk for t in result.mine] == [urgent.pk, normal.pk]
    assert next_due(result.mine[0]) == urgent.first_response_due_at
    assert result.unassigned == [] and not result.mine_more


def test_queue_lists_the_team_unassigned(agent, agent_other_team, queue, other_queue):
    queue.assignment = "manual"
    queue.save()
    other_queue.assignment = "manual"
    other_queue.save()
    mine = ticket_create(actor=agent, data={"subject": "Bizim"})
    ticket_create(actor=agent, data={"subject": "Onların", "queue": other_queue.pk})
    result = ticket_queue(actor=agent)
    assert [t.pk for t in result.unassigned] == [mine.pk]


def test_customer_tickets_and_lookup(agent, rep_other_team, queue, customer):
    first = ticket_create(actor=agent, data={"subject": "Bir", "customer": customer.pk})
    second = ticket_create(actor=agent, data={"subject": "İki", "customer": customer.pk})
    ticket_set_status(actor=agent, ticket_id=first.pk, status="resolved")
    assert [t.pk for t in customer_tickets(actor=agent, customer=customer)] == [
        second.pk,
        first.pk,
    ]
    assert [t.pk for t in customer_tickets(actor=agent, customer=customer, open_only=True)] == [
        second.pk
    ]
    assert customer_tickets(actor=rep_other_team, customer=customer) == []
    assert ticket_by_number(actor=agent, number=f" {second.number.lower()} ").pk == second.pk
    from vefa.common.errors import NotFound

    with pytest.raises(NotFound):
        ticket_by_number(actor=rep_other_team, number=second.number)
    with pytest.raises(NotFound):
        ticket_get(actor=agent, pk="abc")
    assert Ticket.objects.count() == 2


def test_active_list_pages_merge_statuses_and_access(
    agent, agent_other_team, rep, queue, other_queue
):
    from vefa.service.filters import TicketFilters
    from vefa.service.selectors.tickets import ticket_list

    ours = []
    for i in range(7):
        ticket = ticket_create(actor=agent, data={"subject": f"Bizim {i}", "owner": agent.pk})
        if i % 3 == 1:
            ticket_set_status(actor=agent, ticket_id=ticket.pk, status="waiting")
        if i % 3 == 2:
            ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
        else:
            ours.append(ticket.pk)
    ticket_create(actor=agent_other_team, data={"subject": "Onların", "queue": other_queue.pk})
    for reader, expected in ((rep, ours), (agent, None)):
        seen: list[int] = []
        cursor = None
        while True:
            page = ticket_list(
                actor=reader, filters=TicketFilters(status="active"), cursor=cursor, limit=2
            )
            seen += [t.pk for t in page.items]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        wanted = expected or list(
            Ticket.objects.filter(status__in=["new", "open", "waiting"]).values_list(
                "pk", flat=True
            )
        )
        assert seen == sorted(wanted, reverse=True)


def test_customer_tickets_include_those_as_contact_person(agent, queue, customer, team):
    from tests.customers.factories import make_customer

    company = make_customer(kind="organisation", trade_name="Acme A.Ş.", owner=agent, team=team)
    ticket = ticket_create(
        actor=agent, data={"subject": "Kişi adına", "customer": company.pk, "contact": customer.pk}
    )
    assert [t.pk for t in customer_tickets(actor=agent, customer=customer)] == [ticket.pk]
    assert [t.pk for t in customer_tickets(actor=agent, customer=company)] == [ticket.pk]


def test_a_new_priority_retargets_the_sla_from_the_opening(agent, queue, policies, clock):
    from vefa.service.services.tickets import ticket_update

    ticket = ticket_create(actor=agent, data={"subject": "Yavaş", "owner": agent.pk})
    assert ticket.first_response_due_at == MONDAY + datetime.timedelta(minutes=120)
    clock.at(20)
    updated = ticket_update(actor=agent, ticket_id=ticket.pk, data={"priority": "urgent"})
    assert updated.sla_policy.name == "Urgent"
    assert updated.first_response_due_at == MONDAY + datetime.timedelta(minutes=30)
    assert updated.resolution_due_at == MONDAY + datetime.timedelta(minutes=240)
    # After the first response the targets no longer move.
    ticket_message_add(
        actor=agent, ticket_id=ticket.pk, kind="reply", body="Bakıyoruz", send_email=False
    )
    clock.at(40)
    kept = Ticket.objects.get(pk=ticket.pk)
    again = ticket_update(actor=agent, ticket_id=ticket.pk, data={"priority": "low"})
    assert again.sla_policy_id == kept.sla_policy_id
    assert again.resolution_due_at == kept.resolution_due_at
    assert again.priority == "low"


def test_queue_merges_both_targets_within_the_limit(
    agent, queue, policies, clock, django_assert_num_queries
):
    from vefa.service.selectors.tickets import ROW_FIELDS

    # Created a minute apart: the first-response targets run 120 minutes from each opening.
    waiting_reply = []
    for minute in range(3):
        clock.at(minute)
        waiting_reply.append(
            ticket_create(actor=agent, data={"subject": f"Yanıt {minute}", "owner": agent.pk})
        )
    clock.at(3)
    answered = ticket_create(
        actor=agent, data={"subject": "Yanıtlandı", "owner": agent.pk, "priority": "urgent"}
    )
    ticket_message_add(
        actor=agent, ticket_id=answered.pk, kind="reply", body="Tamam", send_email=False
    )
    answered.refresh_from_db()
    # The answered (urgent) one works towards its resolution, 240 minutes after its opening:
    # later than the three first-response targets (120 minutes after theirs).
    result = ticket_queue(actor=agent, limit=3, fields=ROW_FIELDS)
    assert [t.pk for t in result.mine] == [t.pk for t in waiting_reply]
    assert result.mine_more
    wider = ticket_queue(actor=agent, limit=10, fields=ROW_FIELDS)
    assert [t.pk for t in wider.mine] == [*(t.pk for t in waiting_reply), answered.pk]
    assert not wider.mine_more
    assert [next_due(t) for t in wider.mine][-1] == answered.resolution_due_at
    # The columns the page shows are read with the row: no query per attribute.
    with django_assert_num_queries(0):
        shown = [
            (
                t.number,
                t.subject,
                t.status,
                t.priority,
                t.sla_state,
                t.customer_id,
                t.requester_name,
                t.queue.name,
                t.owner.email,
            )
            for t in wider.mine
        ]
    assert shown[0][:2] == (waiting_reply[0].number, "Yanıt 0")
    assert shown[-1][-2:] == ("Support", agent.email)


def test_queue_of_another_reader_is_bounded_by_access(agent, agent_other_team, queue):
    ticket_create(actor=agent, data={"subject": "Bizim", "owner": agent.pk})
    result = ticket_queue(actor=agent_other_team)
    assert result.mine == [] and result.unassigned == []
    assert not result.mine_more and not result.unassigned_more


def test_list_with_row_fields_reads_the_same_page(agent, rep, queue, customer):
    from vefa.service.filters import TicketFilters
    from vefa.service.selectors.tickets import ROW_FIELDS, ticket_list

    for i in range(5):
        ticket_create(
            actor=agent, data={"subject": f"Liste {i}", "owner": agent.pk, "customer": customer.pk}
        )
    for reader in (agent, rep):
        for filters in (None, TicketFilters(status="active"), TicketFilters(customer=customer.pk)):
            whole = ticket_list(actor=reader, filters=filters, limit=3)
            slim = ticket_list(actor=reader, filters=filters, limit=3, fields=ROW_FIELDS)
            assert [t.pk for t in slim.items] == [t.pk for t in whole.items]
            assert slim.next_cursor == whole.next_cursor
            assert len(whole.items) == 3


def test_text_filter_finds_part_of_a_word_or_the_number(agent, queue):
    from django.db import connection

    from tests.service.conftest import HOSTILE
    from vefa.service.filters import TicketFilters
    from vefa.service.selectors.tickets import ROW_FIELDS, ticket_list

    late = ticket_create(actor=agent, data={"subject": "Kargo gecikti"})
    broken = ticket_create(actor=agent, data={"subject": "Ekran kırık"})

    def found(text: str) -> list[int]:
        page = ticket_list(actor=agent, filters=TicketFilters(q=text), fields=ROW_FIELDS)
        return [t.pk for t in page.items]

    assert found("ARGO GEC") == [late.pk]
    assert found("kirik") == [broken.pk]
    assert found(broken.number.lower()) == [broken.pk]
    assert found("iade") == []
    assert found(HOSTILE[0]) == [] and found("%") == [] and found("_") == []
    if connection.vendor == "postgresql":
        # The trigram index that keeps a rare word from reading every ticket.
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ticket_search_trgm'")
            assert "gin_trgm_ops" in cursor.fetchone()[0]
