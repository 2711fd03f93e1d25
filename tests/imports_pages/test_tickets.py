"""The ticket adapter: tickets opened through the help desk's service, matched on the other
system's id or the ticket number; bad rows listed; idempotent; update; undo."""

from __future__ import annotations

import pytest

from tests.imports_pages.conftest import csv_bytes, error_rows, run_file
from vefa.imports import services
from vefa.interactions.models import Interaction
from vefa.service.models import Ticket

pytestmark = pytest.mark.django_db

HEADER = ["Talep No", "Konu", "Açıklama", "E-posta", "Öncelik", "Tür", "Kanal", "Talep Eden"]


def _rows():
    return [
        [
            "T-100",
            "Kargo gecikti",
            "Siparişim gelmedi",
            "ayse@example.com",
            "yüksek",
            "şikayet",
            "telefon",
            "",
        ],
        ["T-101", "Fatura sorusu", "", "", "normal", "question", "email", "Mehmet"],
        ["T-102", "", "No subject", "", "", "", "", ""],
        ["T-103", "Bad priority", "", "", "whenever", "", "", ""],
        ["T-104", "Unknown customer", "", "nobody@example.com", "", "", "", ""],
        ["bad@id", "At sign", "", "", "", "", "", ""],
    ]


def test_good_and_bad_rows(admin_user, customer):
    run = run_file(admin_user, csv_bytes(_rows(), HEADER), entity="tickets")
    assert (run.created, run.error_rows) == (2, 4)
    first = Ticket.objects.get(subject="Kargo gecikti")
    assert first.customer == customer and first.priority == "high" and first.type == "complaint"
    assert first.number
    second = Ticket.objects.get(subject="Fatura sorusu")
    assert second.customer is None and second.requester_name == "Mehmet"
    assert {int(r[0]) for r in error_rows(run)} == {4, 5, 6, 7}


def test_second_run_update_and_reference(admin_user, customer):
    data = csv_bytes(_rows()[:2], HEADER)
    run_file(admin_user, data, entity="tickets")
    again = run_file(admin_user, data, entity="tickets")
    assert (again.created, again.unchanged) == (0, 2)
    changed = _rows()[:1]
    changed[0][4] = "acil"
    updated = run_file(admin_user, csv_bytes(changed, HEADER), entity="tickets")
    assert updated.updated == 1
    assert Ticket.objects.get(subject="Kargo gecikti").priority == "urgent"
    assert Ticket.objects.count() == 2
    ticket = Ticket.objects.get(subject="Kargo gecikti")
    by_number = run_file(
        admin_user,
        csv_bytes([[ticket.number, "Kargo gecikti (2)"]], ["Ticket number", "Subject"]),
        entity="tickets",
        match_key="reference",
    )
    assert by_number.updated == 1
    assert Ticket.objects.get(pk=ticket.pk).subject == "Kargo gecikti (2)"
    assert Ticket.objects.count() == 2


def test_undo_deletes_tickets_and_touch_points(admin_user, customer):
    run = run_file(admin_user, csv_bytes(_rows()[:2], HEADER), entity="tickets")
    assert Interaction.objects.filter(related_model="service.ticket").exists()
    result = services.undo_import(actor=admin_user, run_id=run.pk)
    assert result.problems == []
    assert Ticket.objects.count() == 0
    assert not Interaction.objects.filter(related_model="service.ticket").exists()


def test_without_an_id_column_rows_open_tickets(admin_user):
    data = csv_bytes([["Printer broken"], ["Screen flickers"]], ["Subject"])
    run = run_file(admin_user, data, entity="tickets")
    assert run.created == 2
    assert run_file(admin_user, data, entity="tickets").unchanged == 2
    missing = run_file(
        admin_user,
        csv_bytes([["", "No id"]], ["Id in the other system", "Subject"]),
        entity="tickets",
    )
    assert missing.error_rows == 1
    assert Ticket.objects.count() == 2


def test_a_role_that_cannot_open_tickets(marketer):
    from vefa.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_file(marketer, csv_bytes(_rows()[:1], HEADER), entity="tickets")
