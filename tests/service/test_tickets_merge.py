# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Merging a duplicate ticket keeps everything: messages and their files, contact-history
entries, visits, returns, the CSAT invitation (one per ticket), earlier merges and tags all
end on the survivor; the change log says what moved; bad and hostile merges are refused
without writing anything."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.service.returns_helpers import make_order, make_product
from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.accounts import access
from vefa.accounts.choices import Role, Scope
from vefa.accounts.services import api_token_create
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.models import CustomerRelationship
from vefa.interactions.models import Attachment, Interaction
from vefa.interactions.services.interactions import interaction_insert
from vefa.platform.models import ChangeLogEntry
from vefa.service.choices import MessageKind, TicketStatus
from vefa.service.models import ReturnRequest, ServiceVisit, SurveyInvitation, Ticket
from vefa.service.selectors.tickets import ticket_csat
from vefa.service.services.returns import return_create
from vefa.service.services.surveys import _new_token
from vefa.service.services.tickets import ticket_merge, ticket_message_add, ticket_set_status
from vefa.service.services.visits import visit_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def _invitation(ticket, *, score=None):
    now = timezone.now()
    return SurveyInvitation.objects.create(
        kind="csat",
        ticket=ticket,
        customer=ticket.customer,
        token_hash=_new_token()[1],
        expires_at=now + datetime.timedelta(days=30),
        responded_at=now if score is not None else None,
        score=score,
        owner=ticket.owner,
        team=ticket.team,
    )


def _pdf(name="fatura.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", "application/pdf")


def _merge_entry(ticket, key="merged_from"):
    """The change-log entry of the last merge into (``merged_from``) or of (``merged_into``)
    ``ticket``."""
    return (
        ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk)
        .filter(after__has_key=key)
        .latest("id")
    )


def test_everything_that_pointed_at_the_duplicate_moves(agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk, description="asıl")
    source = open_ticket(
        agent, customer=customer.pk, owner=agent.pk, description="kopya", tags=["kargo"]
    )
    reply = ticket_message_add(
        actor=agent, ticket_id=source.pk, kind="reply", body="ekte", attachments=[_pdf()]
    )
    note = ticket_message_add(actor=agent, ticket_id=source.pk, kind="note", body="iç not")
    call = interaction_insert(
        actor=agent,
        customer=customer,
        kind="call",
        subject="Arama",
        related_model="service.ticket",
        related_id=source.pk,
    )
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    visit = visit_schedule(
        actor=agent,
        ticket_id=source.pk,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
    )
    order = make_order(customer, [(make_product(), "2", "100")])
    ret = return_create(
        actor=agent,
        data={"order": order.pk, "reason": "defective", "ticket": source.pk},
        lines=[{"order_line": order.lines.get().pk, "quantity": "1"}],
    )
    invitation = _invitation(source, score=2)
    earlier = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    ticket_merge(actor=agent, source_id=earlier.pk, target_id=source.pk)
    other_version = ReturnRequest.objects.get(pk=ret.pk).version

    result = ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)

    assert result.pk == target.pk
    source.refresh_from_db()
    assert source.status == TicketStatus.CLOSED and source.merged_into_id == target.pk
    assert source.closed_at is not None
    # Only the system line saying where it went stays on the duplicate.
    assert list(source.messages.values_list("kind", flat=True)) == [MessageKind.SYSTEM]
    assert set(target.messages.values_list("pk", flat=True)) >= {reply.pk, note.pk}
    attachment = Attachment.objects.get()
    assert attachment.interaction.ticket_message.ticket_id == target.pk
    assert Interaction.objects.get(pk=call.pk).related_id == target.pk
    assert not Interaction.objects.filter(related_model="service.ticket", related_id=source.pk)
    assert ServiceVisit.objects.get(pk=visit.pk).ticket_id == target.pk
    moved_return = ReturnRequest.objects.get(pk=ret.pk)
    assert moved_return.ticket_id == target.pk and moved_return.version == other_version + 1
    assert SurveyInvitation.objects.get(pk=invitation.pk).ticket_id == target.pk
    # A ticket merged into the duplicate earlier now points at the survivor directly.
    assert Ticket.objects.get(pk=earlier.pk).merged_into_id == target.pk
    assert list(target.tags.values_list("name", flat=True)) == ["kargo"]

    entry = _merge_entry(target)
    assert entry.actor_id == agent.pk
    assert entry.after["merged_from"] == [source.number]
    moved = entry.after["moved"]
    assert reply.pk in moved["messages"] and note.pk in moved["messages"]
    assert call.pk in moved["interactions"]
    assert moved["attachments"] == [attachment.pk]
    assert moved["visits"] == [visit.pk]
    assert moved["returns"] == [ret.pk]
    assert moved["surveys"] == [invitation.pk] and moved["surveys_kept"] == []
    assert moved["merged_tickets"] == [earlier.pk]
    assert moved["tags_added"] == ["kargo"]
    assert _merge_entry(source, "merged_into").after["merged_into"] == target.number


def test_the_one_csat_per_ticket_rule_holds_and_both_stay_readable(agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    kept = _invitation(source, score=5)
    own = _invitation(target, score=3)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    assert SurveyInvitation.objects.get(pk=kept.pk).ticket_id == source.pk
    assert SurveyInvitation.objects.get(pk=own.pk).ticket_id == target.pk
    assert _merge_entry(target).after["moved"]["surveys_kept"] == [kept.pk]
    assert [i.pk for i in ticket_csat(actor=agent, ticket=target)] == [kept.pk, own.pk]


def test_the_survivor_page_shows_the_duplicates_answer(client, agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    _invitation(source, score=4)
    _invitation(target, score=1)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    client.force_login(agent)
    page = client.get(reverse("service:ticket_detail", args=[target.pk])).content.decode()
    assert 'id="ticket-csat"' in page and "1/5" in page and "4/5" in page
    assert source.number in page


def test_a_survivor_without_customer_takes_the_duplicates(agent, queue, customer):
    target = open_ticket(agent, owner=agent.pk, requester_email="ayse@example.com")
    order = make_order(customer, [(make_product(), "1", "100")])
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk, order=order.pk)
    ret = return_create(
        actor=agent,
        data={"order": order.pk, "reason": "defective", "ticket": source.pk},
        lines=[{"order_line": order.lines.get().pk, "quantity": "1"}],
    )
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    assert target.customer_id == customer.pk and target.order_id == order.pk
    assert "ayse" in target.search_text
    # The return still concerns its order's customer, who is now the survivor's customer.
    assert ReturnRequest.objects.get(pk=ret.pk).ticket.customer_id == customer.pk


def test_a_return_started_from_a_merged_ticket_goes_to_the_survivor(agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    order = make_order(customer, [(make_product(), "1", "100")])
    ret = return_create(
        actor=agent,
        data={"order": order.pk, "reason": "defective", "ticket": source.pk},
        lines=[{"order_line": order.lines.get().pk, "quantity": "1"}],
    )
    assert ret.ticket_id == target.pk


def test_a_visit_planned_on_a_merged_ticket_goes_to_the_survivor(agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    start = timezone.now() + datetime.timedelta(days=1)
    visit = visit_schedule(
        actor=agent,
        ticket_id=source.pk,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        location="Moda",
    )
    assert visit.ticket_id == target.pk
    assert target.number in visit.activity.subject


# --- refusals -------------------------------------------------------------------------------


def _refused(actor, source, target):
    with pytest.raises(ValidationFailed) as exc:
        ticket_merge(actor=actor, source_id=source, target_id=target)
    assert "target" in exc.value.fields, exc.value.fields
    return " ".join(exc.value.fields["target"])


def test_merge_into_itself_merged_or_unreachable_tickets_is_refused(
    agent, agent_other_team, queue, other_queue
):
    a = open_ticket(agent, owner=agent.pk)
    b = open_ticket(agent, owner=agent.pk)
    c = open_ticket(agent, owner=agent.pk)
    assert "itself" in _refused(agent, a.pk, a.pk)
    ticket_merge(actor=agent, source_id=a.pk, target_id=b.pk)
    assert "already merged" in _refused(agent, a.pk, c.pk)
    assert "merged into another" in _refused(agent, c.pk, a.pk)
    foreign = open_ticket(agent_other_team, queue=other_queue.pk)
    _refused(agent, c.pk, foreign.pk)
    # A duplicate the actor may not work on is simply not found.
    with pytest.raises(NotFound):
        ticket_merge(actor=agent, source_id=foreign.pk, target_id=c.pk)
    assert Ticket.objects.get(pk=foreign.pk).merged_into_id is None


@pytest.mark.parametrize(
    "hostile", ["1 OR 1=1", None, "", "-1", "9" * 40, [1], {"id": 1}, "١٢", 1.5j]
)
def test_hostile_ids_are_not_found(agent, queue, hostile):
    ticket = open_ticket(agent, owner=agent.pk)
    with pytest.raises((NotFound, ValidationFailed)):
        ticket_merge(actor=agent, source_id=ticket.pk, target_id=hostile)
    with pytest.raises((NotFound, ValidationFailed)):
        ticket_merge(actor=agent, source_id=hostile, target_id=ticket.pk)
    assert Ticket.objects.get(pk=ticket.pk).merged_into_id is None


def test_unrelated_customers_are_refused_and_nothing_moves(agent, queue, customer):
    stranger = make_customer(owner=agent, team=agent.team, first_name="Mehmet", last_name="Kaya")
    target = open_ticket(agent, customer=stranger.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk, description="özel bilgi")
    _invitation(source)
    text = _refused(agent, source.pk, target.pk)
    assert "different customers" in text
    source.refresh_from_db()
    assert source.merged_into_id is None and source.status == TicketStatus.NEW
    assert source.messages.filter(body="özel bilgi").exists()
    assert SurveyInvitation.objects.get().ticket_id == source.pk
    assert not target.messages.exists()


def test_related_customers_may_be_merged(agent, queue, customer):
    company = make_customer(owner=agent, team=agent.team, kind="organisation", trade_name="Acme")
    CustomerRelationship.objects.create(
        from_customer=customer, to_customer=company, kind="works_at"
    )
    order = make_order(customer, [(make_product(), "1", "100")])
    target = open_ticket(agent, customer=company.pk, owner=agent.pk)
    source = open_ticket(
        agent, customer=customer.pk, owner=agent.pk, description="x", order=order.pk
    )
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    target.refresh_from_db()
    # The survivor keeps its own customer and takes no order of another customer; the moved
    # entries keep their customer.
    assert target.customer_id == company.pk and target.order_id is None
    assert target.messages.filter(body="x").get().interaction.customer_id == customer.pk


def test_a_customer_the_actor_cannot_see_blocks_the_merge(
    monkeypatch, agent, queue, customer, other_customer
):
    # Agents who see only their team's customers (a stricter policy than the default).
    policy = dict(access.POLICIES["customers.customer"])
    policy[Role.SERVICE_AGENT] = (Scope.TEAM, Scope.TEAM, Scope.NONE)
    monkeypatch.setitem(access.POLICIES, "customers.customer", policy)
    CustomerRelationship.objects.create(
        from_customer=customer, to_customer=other_customer, kind="works_at"
    )
    hidden = Ticket.objects.get(pk=open_ticket(agent, owner=agent.pk).pk)
    Ticket.objects.filter(pk=hidden.pk).update(customer=other_customer)
    mine = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    assert "cannot see" in _refused(agent, mine.pk, hidden.pk)
    assert "cannot see" in _refused(agent, hidden.pk, mine.pk)


def test_a_merged_ticket_cannot_be_reopened_and_messages_follow(agent, queue, customer):
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    with pytest.raises(ValidationFailed):
        ticket_set_status(actor=agent, ticket_id=source.pk, status="open")
    late = ticket_message_add(actor=None, ticket_id=source.pk, kind="customer", body="geç")
    assert late.ticket_id == target.pk


def test_merge_page_and_api_name_the_field(client, agent, queue, customer):
    stranger = make_customer(owner=agent, team=agent.team, first_name="Mehmet", last_name="Kaya")
    target = open_ticket(agent, customer=stranger.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    client.force_login(agent)
    page = client.post(
        reverse("service:ticket_merge", args=[source.pk]),
        {"target": target.number},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 422
    assert "different customers" in page.content.decode()
    _, key = api_token_create(actor=agent, user=agent, name="tests")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
        f"/api/v1/service/tickets/{source.pk}/merge",
        {"target_id": target.pk},
        content_type="application/json",
    )
    assert api.status_code == 422
    assert "target" in api.json()["fields"]
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
