"""The same message delivered twice at the same moment (the IMAP poll and the endpoint, or a
relay retrying) opens one ticket. Two real connections are needed, so this runs on PostgreSQL
(SQLite takes one writer at a time by design)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from vefa.service.models import Ticket, TicketMessage
from vefa.service.services.email import inbound_process

EML = Path(__file__).parent / "eml"

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_deliveries_make_one_ticket(queue, agent, customer):
    if connection.vendor != "postgresql":
        pytest.skip("an in-memory SQLite test database has one writer; run on PostgreSQL")
    raw = (EML / "tr_new_ticket.eml").read_bytes()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(5)
            outcomes.append(inbound_process(raw=raw).status)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1
