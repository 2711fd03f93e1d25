"""Inbound e-mail in batches (``inbound_process_batch``, what the IMAP poll uses): one
transaction for the batch and a savepoint per message. One bad message never loses the others
and leaves nothing of itself behind; threading, duplicates and automatic mail work within a
batch as across batches; the search index follows once for the whole batch."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.customers.factories import make_customer
from vefa.interactions.models import Attachment, Interaction
from vefa.platform.models import ChangeLogEntry, Notification, SearchEntry
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services import email as email_services
from vefa.service.services.email import BatchAborted, inbound_process_batch

EML = Path(__file__).parent / "eml"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x9a\xa0"
    b"\xa0\x00\x00\x00\x00IEND\xaeB`\x82"
)


def mail(
    *,
    sender: str = "ayse@example.com",
    subject: str = "Kargo",
    message_id: str = "<m-1@mail.example.com>",
    in_reply_to: str = "",
    body: str = "Siparişim hâlâ gelmedi.",
    auto: bool = False,
    png: bool = False,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@vefa.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(body)
    if png:
        message.add_attachment(PNG, maintype="image", subtype="png", filename="foto.png")
    return message.as_bytes()


def fail_on(monkeypatch, subject_part: str, error: BaseException | str) -> None:
    """Storing the message whose subject contains ``subject_part`` raises ``error`` half way:
    after its ticket, contact-history entry, files, change-log rows and notification were
    written, before its message row."""
    from vefa.service.services import tickets

    real = tickets._message

    def flaky(**kwargs):
        if subject_part in kwargs["ticket"].subject:
            if isinstance(error, str):  # a statement the database refuses
                with connection.cursor() as cursor:
                    cursor.execute(error)
            raise error
        return real(**kwargs)

    monkeypatch.setattr(tickets, "_message", flaky)


@pytest.mark.django_db
def test_a_batch_threads_deduplicates_and_ignores_within_itself(queue, agent, customer):
    results = inbound_process_batch(
        [
            mail(message_id="<a@x.example>"),
            mail(message_id="<b@x.example>", in_reply_to="<a@x.example>", subject="Re: Kargo"),
            mail(message_id="<a@x.example>"),  # delivered twice
            mail(message_id="<c@x.example>", auto=True),
            mail(sender="yeni@example.com", message_id="<d@x.example>", subject="Soru"),
        ]
    )
    assert [r.status for r in results] == [
        "created",
        "threaded",
        "duplicate",
        "ignored",
        "created",
    ]
    first, reply, _dup, _auto, other = results
    assert reply.ticket is not None and first.ticket is not None
    assert reply.ticket.pk == first.ticket.pk
    assert other.ticket is not None and other.ticket.customer_id is None
    assert Ticket.objects.count() == 2 and TicketMessage.objects.count() == 3
    # Both messages of the known customer are in their contact history.
    assert Interaction.objects.filter(customer=customer).count() == 2
    # A reference in the subject threads to a ticket opened earlier in the same batch.
    number = first.ticket.number
    again = inbound_process_batch(
        [
            mail(message_id="<e@x.example>", subject="Yeni konu"),
            mail(message_id="<f@x.example>", subject=f"Yine ben [{number}]"),
        ]
    )
    assert [r.status for r in again] == ["created", "threaded"]
    assert again[1].ticket is not None and again[1].ticket.pk == first.ticket.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("disk full"),
        KeyError("x"),
        ZeroDivisionError("half way"),
        # A database error: on PostgreSQL the transaction is unusable until the savepoint
        # is rolled back.
        "INSERT INTO service_ticket (id) VALUES (NULL)",
    ],
)
def test_a_message_failing_half_way_leaves_nothing_and_the_others_are_stored(
    queue, agent, customer, monkeypatch, error
):
    fail_on(monkeypatch, "BOZUK", error)
    before = ChangeLogEntry.objects.count()
    results = inbound_process_batch(
        [
            mail(message_id="<1@x.example>", subject="Birinci", png=True),
            mail(message_id="<2@x.example>", subject="BOZUK ikinci", png=True),
            mail(message_id="<3@x.example>", subject="Üçüncü", png=True),
        ]
    )
    assert [r.status for r in results] == ["created", "failed", "created"]
    failed = results[1]
    if isinstance(error, str):
        assert "Error" in failed.reason
    else:
        assert failed.error is error and type(error).__name__ in failed.reason
    assert failed.ticket is None and failed.message is None
    # Nothing of the failed message: no ticket, no contact-history entry, no file, no
    # notification, no change-log row, and no ticket number used up.
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Birinci", "Üçüncü"]
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]
    assert Interaction.objects.count() == 2 and Attachment.objects.count() == 2
    assert Notification.objects.count() == 2
    assert TicketMessage.objects.count() == 2
    assert not ChangeLogEntry.objects.filter(object_repr__contains="BOZUK").exists()
    assert ChangeLogEntry.objects.count() > before
    # Taking the failed message again later works and threads nothing twice.
    monkeypatch.undo()
    retry = inbound_process_batch([mail(message_id="<2@x.example>", subject="BOZUK ikinci")])
    assert [r.status for r in retry] == ["created"]
    assert Ticket.objects.count() == 3


@pytest.mark.django_db
def test_a_refused_or_unreadable_message_is_reported_and_the_rest_stored(
    queue, agent, customer, settings, monkeypatch
):
    settings.VEFA_SERVICE_INBOUND_MAX_BYTES = 2000
    real_parse = email_services.parse_message

    def parse(raw, **kwargs):
        if b"<broken@x.example>" in raw:
            raise UnicodeError("the parser gave up")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(email_services, "parse_message", parse)
    results = inbound_process_batch(
        [
            mail(message_id="<big@x.example>", body="x" * 5000),
            mail(message_id="<broken@x.example>"),
            mail(message_id="<ok@x.example>"),
            b"",
            b"\x00\xff\xfe garbage \r\n\r\n\x00",
        ]
    )
    assert [r.status for r in results[:3]] == ["refused", "failed", "created"]
    assert "UnicodeError" in results[1].reason
    # Garbage bytes become a ticket from nobody or are refused, never an exception.
    assert all(r.status in ("created", "refused", "ignored") for r in results[3:])
    assert Ticket.objects.filter(message_id="<ok@x.example>").exists()


@pytest.mark.django_db
def test_a_batch_whose_transaction_is_lost_raises_and_stores_nothing(
    queue, agent, customer, monkeypatch
):
    real = email_services._deliver
    calls = {"n": 0}

    def deliver(parsed, **kwargs):
        calls["n"] += 1
        result = real(parsed, **kwargs)
        if calls["n"] == 2:
            transaction.set_rollback(True)  # what Django does when a savepoint cannot roll back
        return result

    monkeypatch.setattr(email_services, "_deliver", deliver)
    # Inside a transaction of the test's own, so the test can go on afterwards.
    with transaction.atomic(), pytest.raises(BatchAborted):
        inbound_process_batch([mail(message_id="<1@x.example>"), mail(message_id="<2@x.example>")])
    assert not Ticket.objects.exists() and not Interaction.objects.exists()


@pytest.mark.django_db
def test_per_batch_lookups_are_read_once(queue, agent):
    for n in range(4):
        make_customer(primary_email=f"c{n}@example.com", owner=agent, team=agent.team)
    raws = [mail(sender=f"c{n}@example.com", message_id=f"<{n}@x.example>") for n in range(4)]
    with CaptureQueriesContext(connection) as ctx:
        results = inbound_process_batch(raws)
    assert [r.status for r in results] == ["created"] * 4
    sql = [q["sql"] for q in ctx.captured_queries]
    definitions = [s for s in sql if "platform_customfielddefinition" in s]
    queues = [s for s in sql if s.startswith('SELECT "service_queue"."id" AS "pk"')]
    # Tickets and interactions each read their definitions once, the queues once.
    assert len(definitions) == 2, definitions
    assert len(queues) == 1, queues


@pytest.mark.django_db(transaction=True)
def test_one_commit_for_the_batch_and_the_search_index_follows(queue, agent, customer):
    raws = [mail(message_id=f"<{n}@x.example>", subject=f"Konu {n}") for n in range(6)]
    with CaptureQueriesContext(connection) as ctx:
        results = inbound_process_batch(raws)
    assert [r.status for r in results] == ["created"] * 6
    commits = [q["sql"] for q in ctx.captured_queries if q["sql"].upper() == "COMMIT"]
    # The batch, then the index once per kind of record (tickets, interactions).
    assert len(commits) <= 3, commits
    tickets = {r.ticket.pk for r in results if r.ticket is not None}
    indexed = set(SearchEntry.objects.filter(model="ticket").values_list("object_id", flat=True))
    assert tickets <= indexed
    interactions = set(Interaction.objects.values_list("pk", flat=True))
    assert len(interactions) == 6
    assert interactions <= set(
        SearchEntry.objects.filter(model="interaction").values_list("object_id", flat=True)
    )
