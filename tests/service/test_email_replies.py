"""Replies by e-mail: a real SMTP server on loopback receives the agent's public reply with the
threading headers; the customer's answer to it threads back; failures are kept and retried."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from vefa.service.choices import DeliveryStatus, MessageKind
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services.email import (
    inbound_process,
    inbound_receive,
    reply_send,
    reply_subject,
)
from vefa.service.services.tickets import ticket_create, ticket_message_add

EML = Path(__file__).parent / "eml"

pytestmark = [pytest.mark.django_db, pytest.mark.smtp]


def _received(envelope):
    return email.message_from_bytes(envelope.content, policy=policy.default)


def _reply(agent, ticket_id, body, capture, **kwargs):
    with capture(execute=True):
        return ticket_message_add(
            actor=agent, ticket_id=ticket_id, kind=MessageKind.REPLY, body=body, **kwargs
        )


def test_a_reply_goes_out_with_threading_headers_and_the_answer_threads_back(
    smtp_server,
    queue,
    agent,
    customer,
    django_capture_on_commit_callbacks,
):
    first = inbound_receive(raw=(EML / "tr_new_ticket.eml").read_bytes())
    assert first is not None
    ticket = first.ticket
    reply = _reply(
        agent, ticket.pk, "Merhaba Ayşe Hanım,\nsiparişiniz yarın teslim edilecek.",
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["ayse@example.com"]
    sent = _received(envelope)
    reply.refresh_from_db()
    assert sent["Message-ID"] == reply.message_id
    assert reply.message_id.endswith("@vefa.example>")
    assert sent["In-Reply-To"] == "<CAK7x9Ayse-0001@mail.example.com>"
    assert sent["References"].split() == ["<CAK7x9Ayse-0001@mail.example.com>"]
    assert (
        sent["Subject"].strip() == f"Re: Siparişim hâlâ gelmedi — İĞÜŞÖÇ ığüşöç [{ticket.number}]"
    )
    assert sent["Reply-To"] == "support@vefa.example"
    assert "siparişiniz yarın teslim edilecek" in sent.get_body(("plain",)).get_content()
    assert (reply.delivery, reply.delivery_error) == (DeliveryStatus.SENT, "")
    assert reply.sent_at is not None

    # The customer answers the e-mail: it threads by In-Reply-To / References.
    raw = (
        (EML / "tr_reply_references.eml")
        .read_bytes()
        .replace(b"<REPLY-ID-PLACEHOLDER@vefa.example>", reply.message_id.encode())
    )
    answer = inbound_process(raw=raw)
    assert answer.status == "threaded" and answer.ticket.pk == ticket.pk

    # The second reply answers the customer's latest message and carries the whole chain.
    second = _reply(agent, ticket.pk, "Özür dileriz.", django_capture_on_commit_callbacks)
    smtp_server.wait_for(2)
    second.refresh_from_db()
    headers = _received(smtp_server.messages[1])
    assert headers["In-Reply-To"] == "<CAK7x9Ayse-0002@mail.example.com>"
    assert headers["References"].split() == [
        "<CAK7x9Ayse-0001@mail.example.com>",
        reply.message_id,
        "<CAK7x9Ayse-0002@mail.example.com>",
    ]
    assert headers["Message-ID"] == second.message_id != reply.message_id


def test_internal_notes_and_replies_without_an_address_are_never_mailed(
    smtp_server,
    queue,
    agent,
    django_capture_on_commit_callbacks,
):
    ticket = ticket_create(actor=agent, data={"subject": "Telefon", "description": "x"})
    with django_capture_on_commit_callbacks(execute=True):
        note = ticket_message_add(
            actor=agent, ticket_id=ticket.pk, kind=MessageKind.NOTE, body="iç not"
        )
        reply = ticket_message_add(
            actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="cevap"
        )
    assert not smtp_server.messages
    assert TicketMessage.objects.get(pk=note.pk).delivery == ""
    assert TicketMessage.objects.get(pk=reply.pk).delivery == ""
    assert reply_send(message_id=note.pk) is False


def test_a_refusing_server_is_recorded_and_a_later_try_sends(
    settings, queue, agent, customer, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens
    settings.EMAIL_TIMEOUT = 2
    first = inbound_receive(raw=(EML / "tr_new_ticket.eml").read_bytes())
    assert first is not None
    reply = _reply(agent, first.ticket_id, "Merhaba", django_capture_on_commit_callbacks)
    reply.refresh_from_db()
    assert reply.delivery == DeliveryStatus.FAILED
    assert "Connection" in reply.delivery_error or "refused" in reply.delivery_error.lower()
    message_id = reply.message_id
    # The mail server is back: the next try sends it, with the same Message-ID.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    mail.outbox = []
    assert reply_send(message_id=reply.pk) is True
    reply.refresh_from_db()
    assert (reply.delivery, reply.delivery_error) == (DeliveryStatus.SENT, "")
    assert mail.outbox[0].extra_headers["Message-ID"] == message_id
    # Sent once: a repeated task does nothing.
    assert reply_send(message_id=reply.pk) is False
    assert len(mail.outbox) == 1


def test_the_task_schedules_a_retry_when_the_backend_can_defer(
    settings, queue, agent, customer, monkeypatch, django_capture_on_commit_callbacks
):
    from vefa.service import tasks_email
    from vefa.service.services import email as email_services

    first = inbound_receive(raw=(EML / "tr_new_ticket.eml").read_bytes())
    assert first is not None
    scheduled: list[tuple[int, int, object]] = []
    monkeypatch.setattr(
        email_services,
        "reply_schedule",
        lambda message_id, attempt=1, delay=None: scheduled.append((message_id, attempt, delay)),
    )
    reply = ticket_message_add(
        actor=agent, ticket_id=first.ticket_id, kind=MessageKind.REPLY, body="x"
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9
    settings.EMAIL_TIMEOUT = 2
    assert tasks_email.send_ticket_reply.call(message_id=reply.pk, attempt=1) is False
    assert scheduled == [(reply.pk, 2, tasks_email.RETRY_DELAYS[0])]
    # The last attempt gives up.
    scheduled.clear()
    last = len(tasks_email.RETRY_DELAYS) + 1
    assert tasks_email.send_ticket_reply.call(message_id=reply.pk, attempt=last) is False
    assert scheduled == []


def test_reply_subjects_do_not_pile_up_prefixes_or_references(queue, agent):
    ticket = ticket_create(actor=agent, data={"subject": "Re: YNT: Fwd: Kargo [T-2026-000001]"})
    subject = reply_subject(ticket)
    assert subject == f"Re: Kargo [{ticket.number}]"
    Ticket.objects.filter(pk=ticket.pk).update(subject="Satır\r\nBcc: victim@example.com")
    ticket.refresh_from_db()
    assert "\n" not in reply_subject(ticket) and "\r" not in reply_subject(ticket)


def test_a_hostile_subject_cannot_inject_headers_into_the_reply(
    queue, agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    ticket = ticket_create(
        actor=agent,
        data={
            "subject": "<script>alert(1)</script>",
            "customer": customer.pk,
            "requester_email": "ayse@example.com",
        },
    )
    Ticket.objects.filter(pk=ticket.pk).update(subject="Hi\nBcc: victim@example.com")
    _reply(agent, ticket.pk, "Merhaba", django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    message = mailoutbox[0].message()
    assert message["Bcc"] is None
    assert mailoutbox[0].recipients() == ["ayse@example.com"]


def test_files_attached_to_a_reply_are_mailed_with_it(
    smtp_server,
    queue,
    agent,
    customer,
    django_capture_on_commit_callbacks,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = inbound_receive(raw=(EML / "tr_new_ticket.eml").read_bytes())
    assert first is not None
    pdf = SimpleUploadedFile("iade_formu.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    _reply(
        agent,
        first.ticket_id,
        "İade formunu ekte bulabilirsiniz.",
        django_capture_on_commit_callbacks,
        attachments=[pdf],
    )
    smtp_server.wait_for(1)
    sent = _received(smtp_server.messages[0])
    files = [(p.get_filename(), p.get_content_type()) for p in sent.iter_attachments()]
    assert files == [("iade_formu.pdf", "application/pdf")]
    assert next(sent.iter_attachments()).get_content().startswith(b"%PDF-1.4")
