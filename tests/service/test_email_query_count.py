"""The number of queries one inbound message costs is pinned: a new ticket and a threaded
reply, each with what runs after commit (the search index). A change that adds a query per
message fails here and has to say why."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.customers.factories import make_customer
from vefa.platform.models import ChangeLogEntry
from vefa.service.choices import TicketStatus
from vefa.service.models import Ticket
from vefa.service.services.email import inbound_process, inbound_process_batch

pytestmark = pytest.mark.django_db

# Inside the message's transaction, then after its commit (the search index). PostgreSQL
# takes one more: the advisory lock on the Message-ID.
NEW_TICKET = 50
REPLY = 28


def expected(count: int) -> int:
    return count + 1 if connection.vendor == "postgresql" else count


def mail(*, sender: str, message_id: str, in_reply_to: str = "", subject: str = "Kargo") -> bytes:
    message = EmailMessage()
    message["From"] = f"Ayşe Yılmaz <{sender}>"
    message["To"] = "support@vefa.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content("Siparişim hâlâ gelmedi.\n")
    return message.as_bytes()


def counted(raw: bytes, django_capture_on_commit_callbacks):
    with (
        CaptureQueriesContext(connection) as ctx,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = inbound_process(raw=raw)
    return result, [q["sql"] for q in ctx.captured_queries]


@pytest.fixture
def warm(queue, agent, django_capture_on_commit_callbacks):
    """One message first, so counters and caches made on first use are not counted."""
    make_customer(primary_email="first@example.com", owner=agent, team=agent.team)
    with django_capture_on_commit_callbacks(execute=True):
        inbound_process(raw=mail(sender="first@example.com", message_id="<w-1@example.com>"))
    return queue


def test_a_new_ticket_from_a_known_customer(warm, agent, django_capture_on_commit_callbacks):
    make_customer(primary_email="ayse@example.com", owner=agent, team=agent.team)
    result, queries = counted(
        mail(sender="ayse@example.com", message_id="<n-1@example.com>"),
        django_capture_on_commit_callbacks,
    )
    assert result.status == "created" and result.message is not None
    assert len(queries) == expected(NEW_TICKET), "\n".join(queries)


def test_a_threaded_reply(warm, agent, django_capture_on_commit_callbacks):
    make_customer(primary_email="ayse@example.com", owner=agent, team=agent.team)
    with django_capture_on_commit_callbacks(execute=True):
        opened = inbound_process(
            raw=mail(sender="ayse@example.com", message_id="<n-1@example.com>")
        ).ticket
    assert opened is not None
    result, queries = counted(
        mail(
            sender="ayse@example.com",
            message_id="<n-2@example.com>",
            in_reply_to="<n-1@example.com>",
            subject="Re: Kargo",
        ),
        django_capture_on_commit_callbacks,
    )
    assert result.status == "threaded" and result.ticket is not None
    assert result.ticket.pk == opened.pk
    assert len(queries) == expected(REPLY), "\n".join(queries)


def test_a_reply_to_an_open_ticket_stores_when_the_customer_wrote(
    warm, agent, django_capture_on_commit_callbacks
):
    """The time of the last customer message is outside the change log: it is written
    without a change-log entry or a new version, and it is written."""
    make_customer(primary_email="ayse@example.com", owner=agent, team=agent.team)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = inbound_process(
            raw=mail(sender="ayse@example.com", message_id="<n-1@example.com>")
        ).ticket
    assert ticket is not None
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.OPEN)
    ticket.refresh_from_db()
    first_at, version = ticket.last_customer_message_at, ticket.version
    logged = ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).count()
    with django_capture_on_commit_callbacks(execute=True):
        inbound_process(
            raw=mail(
                sender="ayse@example.com",
                message_id="<n-2@example.com>",
                in_reply_to="<n-1@example.com>",
            )
        )
    ticket.refresh_from_db()
    assert first_at is not None and ticket.last_customer_message_at > first_at
    assert ticket.version == version
    assert ticket.status == TicketStatus.OPEN
    assert (
        ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).count() == logged
    )


# In a batch (one transaction, a savepoint per message), what one more message costs inside
# the batch's transaction; the search index follows once per batch after its commit.
BATCH_NEW_TICKET = 39
BATCH_REPLY = 22


def _batch_queries(raws: list[bytes]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        results = inbound_process_batch(raws)
    assert all(r.status in ("created", "threaded") for r in results), results
    return len(ctx.captured_queries)


def test_one_more_message_in_a_batch(warm, agent):
    for n in range(6):
        make_customer(primary_email=f"c{n}@example.com", owner=agent, team=agent.team)
    one = _batch_queries([mail(sender="c0@example.com", message_id="<b-0@example.com>")])
    five = _batch_queries(
        [mail(sender=f"c{n}@example.com", message_id=f"<b-{n}@example.com>") for n in range(1, 6)]
    )
    assert (five - one) / 4 == expected(BATCH_NEW_TICKET)
    replies = _batch_queries(
        [
            mail(
                sender=f"c{n}@example.com",
                message_id=f"<r-{n}@example.com>",
                in_reply_to=f"<b-{n}@example.com>",
                subject="Re: Kargo",
            )
            for n in range(1, 6)
        ]
    )
    reply = _batch_queries(
        [
            mail(
                sender="c0@example.com",
                message_id="<r-0@example.com>",
                in_reply_to="<b-0@example.com>",
                subject="Re: Kargo",
            )
        ]
    )
    assert (replies - reply) / 4 == expected(BATCH_REPLY)
