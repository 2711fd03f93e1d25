# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Ticket services: create (number, routing, SLA start, first message and contact history),
messages, every status transition allowed and refused, reopen, assign, merge, access."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.models import Attachment, Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.service.choices import MessageKind, TicketStatus
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services.tickets import (
    MAX_BODY_BYTES,
    TRANSITIONS,
    ticket_assign,
    ticket_create,
    ticket_merge,
    ticket_message_add,
    ticket_reference,
    ticket_set_status,
    ticket_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def test_create_numbers_routes_starts_sla_and_records_history(agent, queue, customer, sla_calls):
    ticket = ticket_create(
        actor=agent,
        data={
            "subject": "Ürün kırık geldi",
            "description": "Kutu ezikti.",
            "customer": customer.pk,
            "type": "complaint",
            "channel": "email",
        },
    )
    assert ticket.number.startswith("T-") and len(ticket.number) == 13
    assert ticket_reference(ticket) == f"[{ticket.number}]"
    assert ticket.status == TicketStatus.NEW
    assert ticket.queue == queue and ticket.team_id == queue.team_id
    assert ticket.owner is not None and ticket.owner.team_id == queue.team_id
    assert ("sla_start", None) in sla_calls or ("sla_start", ticket.pk) in sla_calls
    message = TicketMessage.objects.get(ticket=ticket)
    assert message.kind == MessageKind.CUSTOMER and message.body == "Kutu ezikti."
    interaction = message.interaction
    assert interaction is not None and interaction.customer_id == customer.pk
    assert interaction.kind == "complaint" and interaction.direction == "inbound"
    assert interaction.related_model == "service.ticket" and interaction.related_id == ticket.pk
    assert ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).count() == 1


def test_numbers_are_consecutive(agent, queue):
    first = open_ticket(agent)
    second = open_ticket(agent)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_system_create_without_customer_keeps_requester(queue):
    ticket = ticket_create(
        actor=None,
        data={"subject": "Merhaba", "description": "Bir sorum var", "channel": "web_form"},
        author_email="yeni@example.com",
        author_name="Yeni Kişi",
        message_id="<abc@example.com>",
    )
    assert ticket.requester_email == "yeni@example.com"
    assert ticket.requester_name == "Yeni Kişi"
    assert ticket.message_id == "<abc@example.com>"
    message = ticket.messages.get()
    assert message.interaction is None and message.author is None
    entry = ChangeLogEntry.objects.get(model="service.ticket", object_id=ticket.pk)
    assert entry.actor_name == "system"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": 12}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"subject": "ok", "type": "anger"}, "type"),
        ({"subject": "ok", "priority": 3}, "priority"),
        ({"subject": "ok", "channel": "pigeon"}, "channel"),
        ({"subject": "ok", "customer": "abc"}, "customer"),
        ({"subject": "ok", "customer": 999999}, "customer"),
        ({"subject": "ok", "queue": 999999}, "queue"),
        ({"subject": "ok", "category": [1]}, "category"),
        ({"subject": "ok", "requester_email": "not an address"}, "requester_email"),
        ({"subject": "ok", "tags": "a,b"}, "tags"),
        ({"subject": "ok", "custom_fields": []}, "custom_fields"),
        ({"subject": "ok", "description": "x" * (MAX_BODY_BYTES + 1)}, "description"),
        ({"subject": "ok", "colour": "red"}, "colour"),
    ],
)
def test_create_refuses_bad_input_per_field(agent, queue, data, field):
    with pytest.raises(ValidationFailed) as exc:
        ticket_create(actor=agent, data=data)
    assert field in exc.value.fields
    assert not Ticket.objects.exists()


def test_create_refuses_a_role_without_change(read_only, queue):
    with pytest.raises(PermissionDenied):
        open_ticket(read_only)


def test_hidden_customer_reads_like_a_missing_one(rep, queue, other_customer, agent):
    # A sales rep cannot open tickets at all; an agent sees every customer.
    with pytest.raises(PermissionDenied):
        ticket_create(actor=rep, data={"subject": "x", "customer": other_customer.pk})
    ticket = ticket_create(actor=agent, data={"subject": "x", "customer": other_customer.pk})
    assert ticket.customer_id == other_customer.pk


def test_hostile_text_is_stored_as_is(agent, queue):
    for text in HOSTILE:
        ticket = ticket_create(actor=agent, data={"subject": text, "description": text})
        assert ticket.subject == text.strip()


# --- messages ---------------------------------------------------------------------------------


def test_reply_stamps_first_response_opens_and_is_emailed(
    agent, queue, customer, sla_calls, sent_replies, django_capture_on_commit_callbacks
):
    ticket = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_message_add(
            actor=agent, ticket_id=ticket.pk, kind="reply", body="Kargoya verdik."
        )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_responded_at is not None
    assert ticket.reply_count == 1
    assert ("sla_first_response", ticket.pk) in sla_calls
    assert sent_replies == [reply.pk]
    reply.refresh_from_db()
    assert reply.delivery == "queued"
    assert reply.interaction is not None and reply.interaction.direction == "outbound"
    # A second reply does not stamp the first response again.
    first = ticket.first_responded_at
    ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="reply", body="Bir şey daha.")
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first and ticket.reply_count == 2


def test_reply_without_address_or_send_email_is_not_sent(agent, queue, sent_replies):
    ticket = open_ticket(agent)
    message = ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="reply", body="Tamam")
    assert sent_replies == [] and message.delivery == ""
    with_address = open_ticket(agent, requester_email="a@example.com")
    ticket_message_add(
        actor=agent, ticket_id=with_address.pk, kind="reply", body="x", send_email=False
    )
    assert sent_replies == []


def test_note_is_internal(agent, queue, customer, sent_replies):
    ticket = open_ticket(agent, customer=customer.pk)
    before = Interaction.objects.count()
    note = ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="note", body="İç not")
    assert note.kind == MessageKind.NOTE and note.interaction is None
    assert Interaction.objects.count() == before
    assert sent_replies == []
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and ticket.first_responded_at is None


def test_customer_message_resumes_waiting(agent, queue, sla_calls):
    ticket = open_ticket(agent, owner=agent.pk)
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="waiting")
    ticket_message_add(actor=None, ticket_id=ticket.pk, kind="customer", body="Cevabım")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ("sla_pause", ticket.pk) in sla_calls and ("sla_resume", ticket.pk) in sla_calls
    assert ticket.last_customer_message_at is not None


@pytest.mark.parametrize("final", ["resolved", "closed"])
def test_customer_message_reopens(agent, queue, sla_calls, final):
    ticket = open_ticket(agent, owner=agent.pk)
    ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    if final == "closed":
        ticket_set_status(actor=agent, ticket_id=ticket.pk, status="closed")
    ticket_message_add(actor=None, ticket_id=ticket.pk, kind="customer", body="Hâlâ bozuk")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.reopen_count == 1 and ticket.resolved_at is None and ticket.closed_at is None
    assert ("sla_reopen", ticket.pk) in sla_calls


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("system", "x", "kind"),
        ("shout", "x", "kind"),
        ("reply", "", "body"),
        ("reply", 42, "body"),
        ("reply", "é" * (MAX_BODY_BYTES // 2 + 1), "body"),
    ],
)
def test_message_refuses_bad_input(agent, queue, kind, body, field):
    ticket = open_ticket(agent, owner=agent.pk)
    with pytest.raises(ValidationFailed) as exc:
        ticket_message_add(actor=agent, ticket_id=ticket.pk, kind=kind, body=body)
    assert field in exc.value.fields


def test_system_may_only_add_customer_messages(agent, queue):
    ticket = open_ticket(agent)
    with pytest.raises(ValidationFailed) as exc:
        ticket_message_add(actor=None, ticket_id=ticket.pk, kind="reply", body="x")
    assert "kind" in exc.value.fields


def test_agent_of_other_team_cannot_write(agent, agent_other_team, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    with pytest.raises(NotFound):
        ticket_message_add(actor=agent_other_team, ticket_id=ticket.pk, kind="note", body="x")
    with pytest.raises(NotFound):
        ticket_set_status(actor=agent_other_team, ticket_id=ticket.pk, status="open")
    with pytest.raises(NotFound):
        ticket_update(actor=agent_other_team, ticket_id=ticket.pk, data={"subject": "y"})


def test_attachments_go_on_the_interaction(agent, queue, customer):
    upload = SimpleUploadedFile("not.txt", b"Fatura bilgisi\n", "text/plain")
    ticket = ticket_create(
        actor=None,
        data={"subject": "Ek", "description": "ekte", "customer": customer.pk},
        attachments=[upload],
    )
    message = ticket.messages.get()
    attachment = Attachment.objects.get()
    assert attachment.interaction_id == message.interaction_id
    assert attachment.original_name == "not.txt"


def test_bad_attachment_refuses_the_whole_message(agent, queue, customer):
    ticket = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    count = TicketMessage.objects.count()
    html = SimpleUploadedFile("page.txt", b"<html><script>x</script>", "text/plain")
    with pytest.raises(ValidationFailed) as exc:
        ticket_message_add(
            actor=agent, ticket_id=ticket.pk, kind="reply", body="ek", attachments=[html]
        )
    assert "attachments" in exc.value.fields
    assert TicketMessage.objects.count() == count
    no_customer = open_ticket(agent, owner=agent.pk)
    with pytest.raises(ValidationFailed):
        ticket_message_add(
            actor=agent,
            ticket_id=no_customer.pk,
            kind="reply",
            body="x",
            attachments=[SimpleUploadedFile("a.txt", b"ok", "text/plain")],
        )


# --- status workflow --------------------------------------------------------------------------

ALL = [s.value for s in TicketStatus]
PATHS = {
    "new": [],
    "open": ["open"],
    "waiting": ["waiting"],
    "resolved": ["resolved"],
    "closed": ["resolved", "closed"],
}


def _at(agent, start):
    ticket = open_ticket(agent, owner=agent.pk)
    for step in PATHS[start]:
        ticket_set_status(actor=agent, ticket_id=ticket.pk, status=step)
    return ticket


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("target", ALL)
def test_every_transition(agent, queue, start, target, csat_requests, sla_calls):
    ticket = _at(agent, start)
    if target in TRANSITIONS[start]:
        moved = ticket_set_status(actor=agent, ticket_id=ticket.pk, status=target)
        assert moved.status == target
        if target == "resolved":
            assert moved.resolved_at is not None
            assert ("sla_stop", ticket.pk) in sla_calls
        if target == "closed":
            assert moved.closed_at is not None
        if target == "open" and start in ("resolved", "closed"):
            assert moved.reopen_count == 1 and moved.resolved_at is None
    else:
        with pytest.raises(ValidationFailed) as exc:
            ticket_set_status(actor=agent, ticket_id=ticket.pk, status=target)
        assert "status" in exc.value.fields
        ticket.refresh_from_db()
        assert ticket.status == start


def test_unknown_status_is_refused(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    for bad in ("done", "", None, 3):
        with pytest.raises(ValidationFailed):
            ticket_set_status(actor=agent, ticket_id=ticket.pk, status=bad)  # type: ignore[arg-type]


def test_resolution_asks_for_csat_after_commit(
    agent, queue, csat_requests, django_capture_on_commit_callbacks
):
    ticket = open_ticket(agent, owner=agent.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(actor=agent, ticket_id=ticket.pk, status="resolved")
    assert csat_requests == [ticket.pk]


def test_status_with_stale_version_conflicts(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    with pytest.raises(Conflict):
        ticket_set_status(
            actor=agent, ticket_id=ticket.pk, status="open", expected_version=ticket.version + 5
        )


# --- update, assign, merge ------------------------------------------------------------------


def test_update_changes_details_and_logs(agent, queue, customer):
    ticket = open_ticket(agent, owner=agent.pk)
    updated = ticket_update(
        actor=agent,
        ticket_id=ticket.pk,
        data={"subject": "Yeni konu", "priority": "high", "customer": customer.pk},
        expected_version=ticket.version,
    )
    assert updated.subject == "Yeni konu" and updated.priority == "high"
    assert updated.version == ticket.version + 1
    with pytest.raises(Conflict):
        ticket_update(
            actor=agent,
            ticket_id=ticket.pk,
            data={"subject": "Eski"},
            expected_version=ticket.version,
        )
    with pytest.raises(ValidationFailed) as exc:
        ticket_update(actor=agent, ticket_id=ticket.pk, data={"status": "closed"})
    assert "status" in exc.value.fields


def test_assign_to_a_colleague_and_refuse_outsiders(
    agent, agent_same_team, agent_other_team, rep, queue
):
    ticket = open_ticket(agent, owner=agent.pk)
    moved = ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=agent_same_team.pk)
    assert moved.owner_id == agent_same_team.pk
    with pytest.raises(ValidationFailed) as exc:
        ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=agent_other_team.pk)
    assert "owner_id" in exc.value.fields
    with pytest.raises(ValidationFailed):
        ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=rep.pk)


def test_assign_to_another_queue_picks_its_agent(agent, agent_other_team, queue, other_queue):
    ticket = open_ticket(agent, owner=agent.pk)
    moved = ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=None, queue_id=other_queue.pk)
    assert moved.queue_id == other_queue.pk
    assert moved.team_id == other_queue.team_id
    assert moved.owner_id == agent_other_team.pk
    # The team of the new queue works it now; the previous agent no longer may.
    with pytest.raises(NotFound):
        ticket_set_status(actor=agent, ticket_id=ticket.pk, status="open")


def test_merge_moves_messages_and_closes_the_source(agent, queue, customer):
    target = ticket_create(
        actor=agent, data={"subject": "Asıl", "description": "ilk", "customer": customer.pk}
    )
    source = ticket_create(
        actor=agent, data={"subject": "Kopya", "description": "ikinci", "customer": customer.pk}
    )
    ticket_message_add(actor=agent, ticket_id=source.pk, kind="note", body="not")
    result = ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    assert result.pk == target.pk
    source.refresh_from_db()
    assert source.status == TicketStatus.CLOSED and source.merged_into_id == target.pk
    bodies = list(target.messages.values_list("kind", "body"))
    assert ("customer", "ikinci") in bodies and ("note", "not") in bodies
    assert source.messages.get().kind == MessageKind.SYSTEM
    assert target.messages.filter(kind=MessageKind.SYSTEM).count() == 1
    assert ChangeLogEntry.objects.filter(model="service.ticket", object_id=target.pk).count() == 2
    # A message on the merged ticket lands on the target.
    late = ticket_message_add(actor=None, ticket_id=source.pk, kind="customer", body="geç")
    assert late.ticket_id == target.pk


def test_merge_refusals(agent, agent_other_team, queue, other_queue):
    a = open_ticket(agent, owner=agent.pk)
    b = open_ticket(agent, owner=agent.pk)
    with pytest.raises(ValidationFailed):
        ticket_merge(actor=agent, source_id=a.pk, target_id=a.pk)
    ticket_merge(actor=agent, source_id=a.pk, target_id=b.pk)
    with pytest.raises(ValidationFailed):
        ticket_merge(actor=agent, source_id=a.pk, target_id=b.pk)
    c = open_ticket(agent, owner=agent.pk)
    with pytest.raises(ValidationFailed):
        ticket_merge(actor=agent, source_id=c.pk, target_id=a.pk)
    foreign = open_ticket(agent_other_team, queue=other_queue.pk)
    with pytest.raises(ValidationFailed) as exc:
        ticket_merge(actor=agent, source_id=c.pk, target_id=foreign.pk)
    assert "target" in exc.value.fields


def test_admin_may_give_a_ticket_to_anyone(admin_user, agent_other_team, queue):
    ticket = open_ticket(admin_user)
    moved = ticket_assign(actor=admin_user, ticket_id=ticket.pk, owner_id=agent_other_team.pk)
    assert moved.owner_id == agent_other_team.pk


def test_inactive_owner_is_refused(agent, team, queue):
    gone = UserFactory(role=Role.SERVICE_AGENT, team=team, is_active=False)
    ticket = open_ticket(agent, owner=agent.pk)
    with pytest.raises(ValidationFailed):
        ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=gone.pk)


def test_upload_stream_is_read_once(agent, queue, customer):
    data = io.BytesIO(b"%PDF-1.4\n%%EOF\n")
    upload = SimpleUploadedFile("fatura.pdf", data.getvalue(), "application/pdf")
    ticket = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    message = ticket_message_add(
        actor=agent, ticket_id=ticket.pk, kind="reply", body="fatura ekte", attachments=[upload]
    )
    assert message.interaction.attachments.get().content_type == "application/pdf"


def test_new_owner_is_notified_once(agent, agent_same_team, queue):
    from vefa.platform.models import Notification

    ticket = ticket_create(actor=None, data={"subject": "Gelen e-posta", "owner": agent.pk})
    notice = Notification.objects.get(recipient=agent)
    assert ticket.number in notice.text and notice.url == ticket.get_absolute_url()
    ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=agent_same_team.pk)
    assert Notification.objects.filter(recipient=agent_same_team).count() == 1
    # Taking a ticket oneself notifies nobody.
    ticket_assign(actor=agent, ticket_id=ticket.pk, owner_id=agent.pk)
    assert Notification.objects.filter(recipient=agent).count() == 1
    assert Notification.objects.count() == 2


def test_a_message_may_be_only_files(agent, queue, customer):
    ticket = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    upload = SimpleUploadedFile("foto.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    message = ticket_message_add(
        actor=None, ticket_id=ticket.pk, kind="customer", body="", attachments=[upload]
    )
    assert message.body == "" and message.interaction.attachments.count() == 1
    only_files = ticket_create(
        actor=None,
        data={"subject": "Fotoğraf", "customer": customer.pk},
        attachments=[SimpleUploadedFile("a.txt", b"metin", "text/plain")],
    )
    assert only_files.messages.get().interaction.attachments.count() == 1
    with pytest.raises(ValidationFailed) as exc:
        ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="note", body="")
    assert "body" in exc.value.fields
