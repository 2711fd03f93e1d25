"""Importing leads and contact people."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory
from tests.imports.conftest import csv_bytes, error_rows, run_file
from vefa.customers.models import Customer, CustomerRelationship, Lead
from vefa.imports import services

pytestmark = pytest.mark.django_db


def test_leads_import_match_and_undo(marketer):
    header = ["Ad Soyad", "Firma", "E-posta", "Telefon", "Puan", "Durum"]
    rows = [
        ["Ali Can", "Acme", "ali@example.com", "0532 111 22 33", "40", "yeni"],
        ["", "Beta Ltd", "", "", "", ""],
        ["Veli", "", "veli@example.com", "", "150", ""],
        ["Kaan", "", "kaan@example.com", "", "", "converted"],
    ]
    run = run_file(marketer, csv_bytes(rows, header), entity="leads")
    assert (run.created, run.error_rows) == (2, 2)
    ali = Lead.objects.get(email="ali@example.com")
    assert (ali.first_name, ali.last_name, ali.company_name) == ("Ali", "Can", "Acme")
    assert (ali.phone, ali.score, ali.status, ali.owner) == ("+905321112233", 40, "new", marketer)
    assert ali.source == "import"
    reasons = {int(r[0]): r[1] for r in error_rows(run)}
    assert reasons == {4: "Puan", 5: "Durum"}
    again = run_file(
        marketer,
        csv_bytes([["Ali Can", "Acme Holding", "ali@example.com", "", "", ""]], header),
        entity="leads",
    )
    assert again.updated == 1
    assert Lead.objects.get(pk=ali.pk).company_name == "Acme Holding"
    services.undo_import(actor=marketer, run_id=again.pk)
    assert Lead.objects.get(pk=ali.pk).company_name == "Acme"
    from vefa.quality.models import MatchKey, RecordKind

    assert MatchKey.objects.filter(kind=RecordKind.LEAD, record_id=ali.pk).exists()
    services.undo_import(actor=marketer, run_id=run.pk)
    assert Lead.objects.count() == 0
    assert not MatchKey.objects.filter(kind=RecordKind.LEAD).exists()


def test_contacts_link_to_organisations(manager):
    acme = CustomerFactory(
        kind="organisation",
        legal_name="Acme AŞ",
        display_name="Acme AŞ",
        name_key="acme as",
        tax_number="1111111111",
        owner=manager,
        team=manager.team,
    )
    twin_a = CustomerFactory(
        kind="organisation", legal_name="Twin", display_name="Twin", name_key="twin"
    )
    CustomerFactory(kind="organisation", legal_name="Twin", display_name="Twin", name_key="twin")
    header = ["Ad Soyad", "E-posta", "Görev", "Vergi No", "Şirket"]
    rows = [
        ["Ayşe Demir", "ayse@acme.test", "Satın alma müdürü", "1111111111", ""],
        ["Mehmet Kaya", "mehmet@acme.test", "", "", "ACME aş"],
        ["Can Yücel", "can@twin.test", "", "", "Twin"],
        ["Nur Ak", "nur@x.test", "", "9999999999", ""],
        ["Yok Şirket", "yok@x.test", "", "", ""],
    ]
    run = run_file(manager, csv_bytes(rows, header), entity="contacts")
    assert run.created == 2, error_rows(run)
    assert {int(r[0]) for r in error_rows(run)} == {4, 5, 6}
    ayse = Customer.objects.get(primary_email="ayse@acme.test")
    relation = CustomerRelationship.objects.get(from_customer=ayse)
    assert (relation.to_customer, relation.kind, relation.job_title) == (
        acme,
        "works_at",
        "Satın alma müdürü",
    )
    assert CustomerRelationship.objects.filter(to_customer=acme).count() == 2
    assert not CustomerRelationship.objects.filter(to_customer=twin_a).exists()
    same = run_file(manager, csv_bytes(rows[:2], header), entity="contacts")
    assert same.created == 0 and CustomerRelationship.objects.count() == 2
    services.undo_import(actor=manager, run_id=run.pk)
    assert not CustomerRelationship.objects.exists()
    assert not Customer.objects.filter(kind="person").exists()
