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
    assert sum(c.split()[1:3] == ["UID", "STORE"] for c in imap.commands) == 3
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


def test_a_failure_while_storing_stops_before_that_message(imap, queue, agent, monkeypatch):
    from vefa.service.services import email as email_services

    imap.add((EML / "tr_new_ticket.eml").read_bytes())
    imap.add((EML / "tr_windows1254.eml").read_bytes())
    real = email_services.inbound_process
    calls = {"n": 0}

    def flaky(*, raw, mailbox=""):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real(raw=raw, mailbox=mailbox)

    monkeypatch.setattr(email_services, "inbound_process", flaky)
    assert imap_poll() == 1
    state = _state()
    assert state.last_uid == 1 and "database went away" in state.last_error
    # The next run takes the second message again.
    assert imap_poll() == 1
    assert Ticket.objects.count() == 2 and _state().last_error == ""


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
