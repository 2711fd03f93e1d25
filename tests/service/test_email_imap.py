"""Polling the help desk's mailbox over a real IMAP connection (a test server on loopback)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from tests.service.imap_server import ImapServer
from vefa.service.models import MailboxState, Ticket, TicketMessage
from vefa.service.services.email import imap_poll
from vefa.service.tasks_email import poll_mailbox

EML = Path(__file__).parent / "eml"

pytestmark = pytest.mark.django_db


@pytest.fixture
def imap(settings):
    server = ImapServer(user="support@vefa.example", password='p@ss "word"\\x')
    port = server.start()
    settings.VEFA_SERVICE_IMAP_HOST = "127.0.0.1"
    settings.VEFA_SERVICE_IMAP_PORT = port
    settings.VEFA_SERVICE_IMAP_USER = "support@vefa.example"
    settings.VEFA_SERVICE_IMAP_PASSWORD = 'p@ss "word"\\x'
    settings.VEFA_SERVICE_IMAP_SSL = False
    settings.VEFA_SERVICE_IMAP_MAILBOX = "INBOX"
    try:
        yield server
    finally:
        server.stop()


def _state() -> MailboxState:
    return MailboxState.objects.get()


def test_new_mail_is_taken_in_once_and_marked_seen(imap, queue, agent, customer):
    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "fa_persian.eml").read_bytes())
    imap.add((EML / "auto_reply.eml").read_bytes())
    now = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)
    assert imap_poll(now=now) == 3
    # Two tickets; the auto-reply was read and marked seen but opened nothing.
    assert Ticket.objects.count() == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == sorted(
        ["Siparişim hâlâ gelmedi — İĞÜŞÖÇ ığüşöç", "شکایت درباره سفارش ۱۲۳"]
    )
    assert imap.seen() == [1, 2, 3]
    # Read without marking (BODY.PEEK), then marked seen at once after the batch committed.
    fetches = [c for c in imap.commands if c.split()[1:3] == ["UID", "FETCH"]]
    assert all("RFC822)" not in c for c in fetches), fetches
    assert any(c.endswith("1,2,3 (UID BODY.PEEK[])") for c in fetches), fetches
    stores = [c for c in imap.commands if c.split()[1:3] == ["UID", "STORE"]]
    assert [c.split()[3] for c in stores] == ["1,2,3"]
    state = _state()
    assert (state.uid_validity, state.last_uid, state.polled_at, state.last_error) == (
        1,
        3,
        now,
        "",
    )
    # The next poll asks only for newer UIDs and finds none.
    assert imap_poll() == 0
    assert any("UID SEARCH UID 4:*" in c for c in imap.commands)
    assert Ticket.objects.count() == 2

    imap.add((EML / "sr_windows1250.eml").read_bytes())
    assert imap_poll() == 1
    assert Ticket.objects.count() == 3 and _state().last_uid == 4


def test_a_new_uidvalidity_starts_over_without_duplicates(imap, queue, agent, customer):
    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    assert imap_poll() == 1
    imap.renumber()
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    assert imap_poll() == 2
    state = _state()
    assert (state.uid_validity, state.last_uid) == (2, 2)
    # The first message came again but its Message-ID was known.
    assert Ticket.objects.count() == 2 and TicketMessage.objects.count() == 2


def test_an_oversized_message_is_skipped_and_the_rest_taken(imap, queue, agent, settings):
    settings.VEFA_SERVICE_INBOUND_MAX_BYTES = 1000
    imap.add((EML / "attachments_pdf_png.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    assert imap_poll() == 2
    assert list(Ticket.objects.values_list("subject", flat=True)) == [
        "Fatura adresi düzeltme - Eskişehir"
    ]
    assert _state().last_uid == 2


def test_wrong_credentials_are_recorded_and_nothing_moves(imap, queue, settings):
    settings.VEFA_SERVICE_IMAP_PASSWORD = "wrong"
    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    assert imap_poll() == 0
    state = _state()
    assert state.last_uid == 0 and "AUTHENTICATIONFAILED" in state.last_error
    assert not Ticket.objects.exists() and imap.seen() == []


def _failing_on(monkeypatch, subject_part: str, error: BaseException):
    """Make storing the message whose subject contains ``subject_part`` raise ``error``
    after the ticket services have written part of it."""
    from vefa.service.services import tickets

    real = tickets._message

    def flaky(**kwargs):
        if subject_part in kwargs["ticket"].subject:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(tickets, "_message", flaky)


def test_a_failure_while_storing_keeps_the_others_and_is_taken_again(
    imap, queue, agent, customer, monkeypatch
):
    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())  # "Fatura adresi düzeltme …"
    imap.add((EML / "fa_persian.eml").read_bytes())
    _failing_on(monkeypatch, "Fatura", RuntimeError("database went away"))
    assert imap_poll() == 1
    state = _state()
    assert state.last_uid == 1 and "database went away" in state.last_error
    assert "UID 2" in state.last_error
    # The other two are stored and marked seen; the failed one is neither stored (no ticket,
    # no contact-history entry, no number used) nor marked.
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == sorted(
        ["Siparişim hâlâ gelmedi — İĞÜŞÖÇ ığüşöç", "شکایت درباره سفارش ۱۲۳"]
    )
    assert TicketMessage.objects.count() == 2
    assert imap.seen() == [1, 3]
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]
    # The next run takes the second message again; the third is recognised as known.
    monkeypatch.undo()
    assert imap_poll() == 2
    assert Ticket.objects.count() == 3 and TicketMessage.objects.count() == 3
    state = _state()
    assert state.last_uid == 3 and state.last_error == ""
    assert imap.seen() == [1, 2, 3]


def test_a_refused_message_is_marked_seen_and_skipped(imap, queue, agent, monkeypatch):
    from vefa.common.errors import ValidationFailed

    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    _failing_on(monkeypatch, "Siparişim", ValidationFailed("no", fields={"body": ["Bad."]}))
    assert imap_poll() == 2
    assert list(Ticket.objects.values_list("subject", flat=True)) == [
        "Fatura adresi düzeltme - Eskişehir"
    ]
    assert imap.seen() == [1, 2] and _state().last_uid == 2 and _state().last_error == ""


def test_a_batch_that_cannot_commit_stores_and_marks_nothing(imap, queue, agent, monkeypatch):
    from vefa.service.services import email as email_services

    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    real = email_services._deliver
    calls = {"n": 0}

    def deliver(parsed, **kwargs):
        calls["n"] += 1
        result = real(parsed, **kwargs)
        if calls["n"] == 2:
            # The database connection broke after the first message: the transaction as a
            # whole is lost (Django marks it for rollback).
            from django.db import transaction

            transaction.set_rollback(True)
        return result

    monkeypatch.setattr(email_services, "_deliver", deliver)
    assert imap_poll() == 0
    state = _state()
    assert state.last_uid == 0 and "BatchAborted" in state.last_error
    assert not Ticket.objects.exists() and imap.seen() == []
    monkeypatch.undo()
    assert imap_poll() == 2 and Ticket.objects.count() == 2


def test_a_process_stopped_before_marking_loses_nothing(imap, queue, agent, monkeypatch):
    """Killed after the commit, before the messages were marked and the UID moved on: the
    next run fetches them again and recognises them (no second ticket)."""
    from vefa.service.services import email as email_services

    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    real_batch = email_services.inbound_process_batch

    def committed_then_killed(raws, **kwargs):
        real_batch(raws, **kwargs)
        raise KeyboardInterrupt  # the process stops here

    monkeypatch.setattr(email_services, "inbound_process_batch", committed_then_killed)
    with pytest.raises(KeyboardInterrupt):
        imap_poll()
    assert Ticket.objects.count() == 2 and imap.seen() == []
    assert _state().last_uid == 0
    monkeypatch.undo()
    assert imap_poll() == 2
    assert Ticket.objects.count() == 2 and TicketMessage.objects.count() == 2
    assert imap.seen() == [1, 2] and _state().last_uid == 2


def test_many_messages_go_in_batches(imap, queue, agent, monkeypatch):
    from email.message import EmailMessage

    from vefa.service.services import email as email_services

    monkeypatch.setattr(email_services, "IMAP_COMMIT_MESSAGES", 3)
    for n in range(7):
        message = EmailMessage()
        message["From"] = f"sender{n}@example.com"
        message["To"] = "support@vefa.example"
        message["Subject"] = f"Soru {n}"
        message["Message-ID"] = f"<batch-{n}@example.com>"
        message.set_content("Merhaba")
        imap.add(message.as_bytes())
    assert imap_poll() == 7
    assert Ticket.objects.count() == 7 and imap.seen() == list(range(1, 8))
    stores = [c.split()[3] for c in imap.commands if c.split()[1:3] == ["UID", "STORE"]]
    assert stores == ["1,2,3", "4,5,6", "7"]


def test_batches_by_size():
    from vefa.service.services.email import IMAP_COMMIT_BYTES, _batches

    big = IMAP_COMMIT_BYTES
    assert _batches([1, 2, 3, 4], {1: 10, 2: big, 3: 10, 4: 10}) == [[1], [2], [3, 4]]
    assert _batches([], {}) == []


def test_nothing_configured_means_no_polling(settings):
    settings.VEFA_SERVICE_IMAP_HOST = ""
    assert imap_poll() == 0
    assert not MailboxState.objects.exists()


def test_an_unreachable_server_is_recorded(settings):
    settings.VEFA_SERVICE_IMAP_HOST = "127.0.0.1"
    settings.VEFA_SERVICE_IMAP_PORT = 9
    settings.VEFA_SERVICE_IMAP_SSL = False
    settings.VEFA_SERVICE_IMAP_USER = "x"
    assert imap_poll() == 0
    assert "ConnectionRefused" in _state().last_error


def test_the_periodic_job_polls(imap, queue, agent):
    from vefa.platform.periodic import jobs

    assert jobs()["service.poll_mailbox"].func is poll_mailbox
    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    poll_mailbox()
    assert Ticket.objects.count() == 1
