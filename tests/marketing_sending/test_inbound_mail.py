"""Mail arriving at the help desk mailbox that concerns campaigns: a bounce of a campaign
message suppresses the address, a reply to one marks its recipient; the help desk goes on as
before, and a failing observer costs it nothing."""

from __future__ import annotations

import pytest

from tests.marketing_sending.test_tracking import TOKEN, _dsn, sent  # noqa: F401 (fixture)
from vefa.marketing.choices import MessageEventKind, SuppressionReason
from vefa.marketing.models import MessageEvent, Suppression
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services import email as inbound

pytestmark = pytest.mark.django_db


def _reply(in_reply_to: str, message_id: str = "<answer-1@customer.example>") -> bytes:
    return (
        "From: Customer One <c1@example.com>\r\n"
        "To: help@vefa.example\r\n"
        "Subject: Re: Spring\r\n"
        f"Message-ID: {message_id}\r\n"
        f"In-Reply-To: {in_reply_to}\r\n"
        f"References: {in_reply_to}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Do you have it in blue? \u0622\u06cc\u0627 \u0622\u0628\u06cc \u0647\u0633\u062a\u061f\r\n"
    ).encode()


def _replies(recipient: object) -> int:
    return MessageEvent.objects.filter(recipient=recipient, kind=MessageEventKind.REPLIED).count()


def test_a_bounce_in_the_help_desk_mailbox_suppresses_the_address(sent):  # noqa: F811
    recipient, _link = sent
    result = inbound.inbound_process(
        raw=_dsn("c1@example.com", "failed", "5.1.1", recipient.message_id)
    )
    assert result.status == "ignored"  # no ticket for a bounce
    assert not Ticket.objects.exists()
    row = Suppression.objects.get(channel="email", address="c1@example.com")
    assert row.reason == SuppressionReason.HARD_BOUNCE
    recipient.refresh_from_db()
    assert recipient.bounced_at is not None
    assert MessageEvent.objects.filter(recipient=recipient, kind=MessageEventKind.BOUNCED).exists()


def test_a_reply_to_a_campaign_is_recorded_and_still_becomes_a_ticket(sent):  # noqa: F811
    recipient, _link = sent
    [result] = inbound.inbound_process_batch([_reply(recipient.message_id)])
    assert result.status == "created"
    recipient.refresh_from_db()
    assert recipient.replied_at is not None
    assert _replies(recipient) == 1
    # The same message read again (an interrupted poll) is a duplicate: nothing twice.
    [again] = inbound.inbound_process_batch([_reply(recipient.message_id)])
    assert again.status == "duplicate"
    assert _replies(recipient) == 1
    assert Ticket.objects.count() == 1


def test_mail_that_answers_no_campaign_changes_nothing(sent):  # noqa: F811
    recipient, _link = sent
    result = inbound.inbound_process(raw=_reply("<unknown@elsewhere.example>"))
    assert result.status == "created"
    recipient.refresh_from_db()
    assert recipient.replied_at is None
    assert not MessageEvent.objects.exists()


def test_a_failing_observer_costs_the_help_desk_nothing(sent, monkeypatch):  # noqa: F811
    recipient, _link = sent
    seen: list[str] = []

    def broken(raw: bytes, parsed: object) -> None:
        seen.append("called")
        MessageEvent.objects.create(recipient=recipient, kind=MessageEventKind.CLICKED)
        raise RuntimeError("observer bug")

    monkeypatch.setattr(inbound, "_observers", [(broken, None), *inbound._observers])
    [result] = inbound.inbound_process_batch([_reply(recipient.message_id)])
    assert seen == ["called"]
    assert result.status == "created"
    assert TicketMessage.objects.count() == 1
    # What the failing observer wrote was rolled back; the others still ran.
    assert not MessageEvent.objects.filter(kind=MessageEventKind.CLICKED).exists()
    recipient.refresh_from_db()
    assert recipient.replied_at is not None
