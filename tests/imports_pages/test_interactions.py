"""The interaction adapter: contact history linked to customers by e-mail, tax number or id,
matched on the other system's id; bad rows listed; idempotent; update; undo."""

from __future__ import annotations

import pytest

from tests.imports_pages.conftest import HOSTILE, csv_bytes, error_rows, run_file
from vefa.imports import services
from vefa.interactions.models import Interaction

pytestmark = pytest.mark.django_db

HEADER = ["Kayıt No", "E-posta", "Vergi No", "Tür", "Tarih", "Konu", "Açıklama", "Süre"]


def _rows(customer):
    return [
        [
            "H-1",
            "ayse@example.com",
            "",
            "arama",
            "2026-05-01 10:30",
            "İlk görüşme",
            "Fiyat sordu",
            "5",
        ],
        ["H-2", "", "1234567890", "email", "02.05.2026", "Teklif", "", ""],
        ["H-3", "nobody@example.com", "", "call", "02.05.2026", "Lost", "", ""],
        ["H-4", "ayse@example.com", "", "telepathy", "02.05.2026", "Odd", "", ""],
        ["H-5", "ayse@example.com", "", "call", "05/06/2026", "Ambiguous", "", ""],
        ["H-6", "ayse@example.com", "", "call", "02.05.2026", "", "", ""],
        ["", "ayse@example.com", "", "call", "02.05.2026", "No id", "", ""],
        ["H-8", "", "", "call", "02.05.2026", "No customer", "", ""],
        ["H-9", "ayse@example.com", "", "call", "02.05.2026", "Long", "", "-3"],
    ]


def test_good_and_bad_rows(manager, customer):
    run = run_file(manager, csv_bytes(_rows(customer), HEADER), entity="interactions")
    assert (run.created, run.error_rows) == (2, 7)
    first = Interaction.objects.get(external_id="H-1")
    assert first.customer == customer and first.kind == "call"
    assert first.subject == "İlk görüşme" and first.duration_minutes == 5
    assert Interaction.objects.get(external_id="H-2").kind == "email"
    customer.refresh_from_db()
    assert customer.last_interaction_at is not None
    assert {int(r[0]) for r in error_rows(run)} == {4, 5, 6, 7, 8, 9, 10}


def test_second_run_and_update(manager, customer):
    data = csv_bytes(_rows(customer)[:2], HEADER)
    run_file(manager, data, entity="interactions")
    again = run_file(manager, data, entity="interactions")
    assert (again.created, again.unchanged) == (0, 2)
    changed = _rows(customer)[:1]
    changed[0][5] = "İlk görüşme (düzeltildi)"
    updated = run_file(manager, csv_bytes(changed, HEADER), entity="interactions")
    assert updated.updated == 1
    assert Interaction.objects.get(external_id="H-1").subject == "İlk görüşme (düzeltildi)"
    assert Interaction.objects.filter(external_id="H-1").count() == 1
    other = _rows(customer)[:1]
    other[0][5] = "Another subject"
    skipped = run_file(manager, csv_bytes(other, HEADER), entity="interactions", on_match="skip")
    assert skipped.skipped == 1
    assert Interaction.objects.get(external_id="H-1").subject == "İlk görüşme (düzeltildi)"
    # Undo of the update puts the old subject back.
    services.undo_import(actor=manager, run_id=updated.pk)
    assert Interaction.objects.get(external_id="H-1").subject == "İlk görüşme"


def test_undo_deletes(manager, customer):
    run = run_file(manager, csv_bytes(_rows(customer)[:2], HEADER), entity="interactions")
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.deleted == 2 and result.problems == []
    assert not Interaction.objects.filter(external_id__in=["H-1", "H-2"]).exists()


def test_an_id_taken_by_another_customer_is_an_error(manager, customer):
    from tests.factories import CustomerFactory

    other = CustomerFactory(owner=manager, team=manager.team, primary_email="other@example.com")
    run_file(manager, csv_bytes(_rows(customer)[:1], HEADER), entity="interactions")
    moved = _rows(customer)[:1]
    moved[0][1] = other.primary_email
    run = run_file(manager, csv_bytes(moved, HEADER), entity="interactions")
    assert run.error_rows == 1 and run.updated == 0
    assert Interaction.objects.get(external_id="H-1").customer == customer


def test_hostile_text_kept_as_text(manager, customer):
    rows = [
        [f"X-{i}", "ayse@example.com", "", "comment", "2026-05-01", text, text, ""]
        for i, text in enumerate(HOSTILE)
    ]
    run = run_file(manager, csv_bytes(rows, HEADER), entity="interactions")
    assert run.created == len(HOSTILE)
    assert set(Interaction.objects.values_list("subject", flat=True)) >= set(HOSTILE)
