"""Importing customers: mapping, validation, match keys, idempotency, undo."""

from __future__ import annotations

import pytest

from tests.imports.conftest import HOSTILE, csv_bytes, error_rows, run_file, upload, xlsx_bytes
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.models import ContactPoint, Customer
from vefa.imports import services
from vefa.imports.models import ImportMapping, ImportRowRecord, RunStatus
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

TR_HEADER = ["Ad Soyad", "E-posta", "Telefon", "Şehir", "Doğum Tarihi"]


def tr_rows(n: int, start: int = 0) -> list[list[object]]:
    return [
        [f"Ayşe Yılmaz{i}", f"ayse{i}@example.com", f"+90 532 555 {i:04d}", "İzmir", "01.02.1990"]
        for i in range(start, start + n)
    ]


def test_turkish_headers_map_themselves_and_rows_import(manager):
    run = run_file(manager, csv_bytes(tr_rows(3), TR_HEADER, delimiter=";"))
    assert run.status == RunStatus.DONE
    assert (run.created, run.error_rows) == (3, 0)
    assert run.columns == {
        "Ad Soyad": "full_name",
        "E-posta": "email",
        "Telefon": "phone",
        "Şehir": "city",
        "Doğum Tarihi": "birth_date",
    }
    ayse = Customer.objects.get(primary_email="ayse1@example.com")
    assert (ayse.first_name, ayse.last_name) == ("Ayşe", "Yılmaz1")
    assert ayse.primary_phone == "+905325550001"
    assert str(ayse.birth_date) == "1990-02-01"
    assert ayse.owner == manager
    assert ContactPoint.objects.filter(customer=ayse, is_primary=True).count() == 2
    assert ChangeLogEntry.objects.filter(model="customers.customer", object_id=ayse.pk).exists()


def test_persian_and_serbian_headers_map(manager):
    run = upload(manager, csv_bytes([], ["نام", "نام خانوادگی", "ایمیل", "تلفن"]))
    assert run.columns == {
        "نام": "first_name",
        "نام خانوادگی": "last_name",
        "ایمیل": "email",
        "تلفن": "phone",
    }
    run = upload(manager, csv_bytes([], ["Ime", "Prezime", "E-pošta", "PIB", "Naziv"]))
    assert run.columns["E-pošta"] == "email"
    assert run.columns["PIB"] == "tax_number"
    assert run.columns["Naziv"] == "legal_name"


def test_same_file_twice_creates_nothing_new(manager):
    data = csv_bytes(tr_rows(5), TR_HEADER)
    first = run_file(manager, data)
    second = run_file(manager, data)
    assert first.created == 5
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert Customer.objects.count() == 5
    assert ContactPoint.objects.count() == 10


def test_match_on_email_updates_or_skips(manager):
    run_file(manager, csv_bytes(tr_rows(2), TR_HEADER))
    changed = [["Ayşe Kaya", "ayse0@example.com", "", "Ankara", ""]]
    skipped = run_file(manager, csv_bytes(changed, TR_HEADER), on_match="skip")
    assert (skipped.skipped, skipped.updated) == (1, 0)
    assert Customer.objects.get(primary_email="ayse0@example.com").city == "İzmir"
    run = run_file(manager, csv_bytes(changed, TR_HEADER), on_match="update")
    assert (run.updated, run.created) == (1, 0)
    ayse = Customer.objects.get(primary_email="ayse0@example.com")
    assert (ayse.city, ayse.last_name, ayse.display_name) == ("Ankara", "Kaya", "Ayşe Kaya")
    # An empty cell never blanks a field.
    assert ayse.primary_phone == "+905325550000"
    record = ImportRowRecord.objects.get(run=run, object_type="customers.customer")
    assert record.previous["city"] == "İzmir"


def test_match_on_tax_number_and_phone(manager):
    header = ["Unvan", "Vergi No", "Telefon"]
    run_file(manager, csv_bytes([["Acme AŞ", "1234567890", "0212 555 00 00"]], header))
    again = run_file(
        manager,
        csv_bytes([["Acme Anonim Şirketi", "1234567890", ""]], header),
        match_key="tax_number",
    )
    assert again.updated == 1
    acme = Customer.objects.get(tax_number="1234567890")
    assert acme.kind == "organisation" and acme.legal_name == "Acme Anonim Şirketi"
    by_phone = run_file(
        manager, csv_bytes([["Acme", "", "+90 212 555 00 00"]], header), match_key="phone"
    )
    assert by_phone.updated == 1
    assert Customer.objects.count() == 1


def test_bad_rows_listed_good_rows_imported(manager):
    rows = [
        ["Ali Veli", "not-an-email", "", "", ""],
        ["", "", "", "Bursa", ""],
        ["Can Ak", "can@example.com", "", "", "03/04/1990"],
        ["Deniz Su", "deniz@example.com", "", "", "1990-13-45"],
        ["Ece Naz", "ece@example.com", "", "", "33333"],
        ["Ece Naz", "ece@example.com", "", "", ""],
        ["Fatma", "fatma@example.com", "12", "", ""],
    ]
    run = run_file(manager, csv_bytes(rows, TR_HEADER))
    assert run.created == 1  # Ece Naz (Excel serial birth date)
    errors = error_rows(run)
    by_row = {int(r[0]): r for r in errors}
    assert set(by_row) == {2, 3, 4, 5, 7, 8}
    assert by_row[2][1] == "E-posta" and by_row[2][2] == "not-an-email"
    assert "Ambiguous" in by_row[4][3]
    assert by_row[5][1] == "Doğum Tarihi"
    assert "row 6" in by_row[7][3]
    assert by_row[8][1] == "Telefon"
    assert run.error_rows == 6
    ece = Customer.objects.get(primary_email="ece@example.com")
    assert str(ece.birth_date) == "1991-04-05"


def test_hostile_values_kept_as_text_and_error_file_formula_safe(manager):
    rows = [
        [f"Ad{i} {value}", f"h{i}@example.com", "", value[:100], ""]
        for i, value in enumerate(HOSTILE)
    ]
    rows.append(["=1+1", "bad", "", "", ""])
    run = run_file(manager, csv_bytes(rows, TR_HEADER))
    assert run.created == len(HOSTILE)
    for i, value in enumerate(HOSTILE):
        customer = Customer.objects.get(primary_email=f"h{i}@example.com")
        assert customer.city == value.strip()
    [bad] = error_rows(run)
    assert bad[2] == "'bad" or bad[2] == "bad"
    from django.core.files.storage import default_storage

    with default_storage.open(run.errors_file, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "-", "@"))


def test_formula_in_error_value_is_prefixed(manager):
    run = run_file(
        manager, csv_bytes([["=cmd|' /C calc'!A0", "=HYPERLINK(1)", "", "", ""]], TR_HEADER)
    )
    [bad] = error_rows(run)
    assert bad[2].startswith("'=")


def test_huge_cell_is_a_row_error_not_a_crash(manager):
    rows = [
        ["Büyük Hücre", "big@example.com", "", "x" * 50_000_000, ""],
        ["Normal Kişi", "n@example.com", "", "Van", ""],
    ]
    run = run_file(manager, csv_bytes(rows, TR_HEADER))
    assert run.created == 1
    [bad] = error_rows(run)
    assert bad[0] == "2" and bad[1] == "Şehir" and len(bad[2]) < 100


def test_unmapped_and_wrongly_mapped_columns(manager):
    run = upload(manager, csv_bytes([["x", "y"]], ["Foo", "Bar"]))
    result = services.preview(actor=manager, run_id=run.pk)
    [row] = result.rows
    assert row.action == "error" and row.errors[0].column == "first_name"
    result = services.preview(actor=manager, run_id=run.pk, columns={"Foo": "first_name"})
    assert result.counts == {"create": 1}
    bad = services.preview(actor=manager, run_id=run.pk, columns={"Foo": "nonsense"})
    assert bad.mapping_error and "nonsense" in bad.mapping_error[0]
    twice = services.preview(
        actor=manager, run_id=run.pk, columns={"Foo": "first_name", "Bar": "first_name"}
    )
    assert twice.mapping_error
    missing = services.preview(actor=manager, run_id=run.pk, columns={"Nope": "first_name"})
    assert missing.mapping_error
    with pytest.raises(ValidationFailed):
        services.start_import(
            actor=manager, run_id=run.pk, columns={"Foo": "nonsense"}, background=False
        )
    with pytest.raises(ValidationFailed):
        services.preview(actor=manager, run_id=run.pk, columns=["Foo"])  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        services.preview(actor=manager, run_id=run.pk, match_key="shoe size")


def test_short_and_long_rows(manager):
    data = (
        "Ad Soyad,E-posta,Şehir\n"
        "Kısa Satır,kisa@example.com\n"
        "Uzun Satır,uzun@example.com,Rize,extra,more\n"
    )
    run = run_file(manager, data.encode())
    assert run.created == 2
    assert Customer.objects.get(primary_email="uzun@example.com").city == "Rize"


def test_preview_writes_nothing_and_predicts_the_run(manager):
    run_file(manager, csv_bytes(tr_rows(1), TR_HEADER))
    data = csv_bytes([*tr_rows(3), ["", "bad", "", "", ""]], TR_HEADER)
    run = upload(manager, data)
    before = (
        Customer.objects.count(),
        ContactPoint.objects.count(),
        ImportRowRecord.objects.count(),
    )
    result = services.preview(actor=manager, run_id=run.pk, match_key="email")
    assert [r.action for r in result.rows] == ["unchanged", "create", "create", "error"]
    assert before == (
        Customer.objects.count(),
        ContactPoint.objects.count(),
        ImportRowRecord.objects.count(),
    )
    run.refresh_from_db()
    assert run.status == RunStatus.UPLOADED
    services.start_import(actor=manager, run_id=run.pk, background=False)
    done = services.execute_run(run.pk)
    assert (done.created, done.unchanged, done.error_rows) == (2, 1, 1)


def test_mapping_saved_per_source_and_reused(manager):
    data = csv_bytes([["Zeynep", "z@example.com"]], ["Kolon A", "Kolon B"])
    run = upload(manager, data, source="Fuar 2026")
    assert run.columns == {"Kolon A": "", "Kolon B": ""}
    services.start_import(
        actor=manager,
        run_id=run.pk,
        columns={"Kolon A": "first_name", "Kolon B": "email"},
        background=False,
    )
    assert ImportMapping.objects.filter(source="Fuar 2026", entity="customers").count() == 1
    again = upload(manager, data, source="Fuar 2026")
    assert again.columns == {"Kolon A": "first_name", "Kolon B": "email"}
    other = upload(manager, data, source="Başka")
    assert other.columns == {"Kolon A": "", "Kolon B": ""}


def test_xlsx_with_dates_numbers_and_formulas(manager):
    import datetime

    rows = [
        [
            "Deniz Yıldız",
            "deniz@example.com",
            905325550011,
            "Muğla",
            datetime.datetime(1985, 5, 17),
        ],
        ["Formül Kişi", "formul@example.com", "", "=1+2", 31000],
    ]
    run = run_file(manager, xlsx_bytes(rows, TR_HEADER), name="people.xlsx")
    assert run.created == 2, services.summary(run)
    deniz = Customer.objects.get(primary_email="deniz@example.com")
    assert str(deniz.birth_date) == "1985-05-17"
    assert deniz.primary_phone == "+905325550011"
    formula = Customer.objects.get(primary_email="formul@example.com")
    assert formula.city == "=1+2"
    assert str(formula.birth_date) == "1984-11-14"


def test_undo_deletes_created_and_restores_updated(manager):
    run_file(manager, csv_bytes(tr_rows(2), TR_HEADER))
    data = csv_bytes(
        [["Ayşe Kaya", "ayse0@example.com", "", "Ankara", ""], *tr_rows(2, start=10)], TR_HEADER
    )
    run = run_file(manager, data)
    assert (run.created, run.updated) == (2, 1)
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert (result.deleted, result.restored, result.problems) == (2, 1, [])
    assert ContactPoint.objects.count() == 4
    assert Customer.objects.count() == 2
    ayse = Customer.objects.get(primary_email="ayse0@example.com")
    assert (ayse.city, ayse.display_name) == ("İzmir", "Ayşe Yılmaz0")
    run.refresh_from_db()
    assert run.status == RunStatus.UNDONE
    with pytest.raises(ValidationFailed):
        services.undo_import(actor=manager, run_id=run.pk)
    # Undone rows may be imported again.
    again = run_file(manager, data)
    assert again.created == 2


def test_undo_refuses_records_that_gained_related_records(manager):
    from tests.factories import CustomerFactory
    from vefa.customers.models import CustomerRelationship

    run = run_file(manager, csv_bytes(tr_rows(2), TR_HEADER))
    kept = Customer.objects.get(primary_email="ayse0@example.com")
    friend = CustomerFactory()
    CustomerRelationship.objects.create(from_customer=friend, to_customer=kept, kind="referred_by")
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.deleted == 1  # the other customer (and its two contact points)
    assert len(result.problems) == 1 and result.problems[0]["id"] == kept.pk
    assert Customer.objects.filter(pk=kept.pk).exists()
    assert ContactPoint.objects.filter(customer=kept).count() == 2
    run.refresh_from_db()
    assert run.status == RunStatus.PARTLY_UNDONE and run.undo_problems


def test_undo_does_not_restore_records_changed_since(manager):
    from django.utils import timezone

    run_file(manager, csv_bytes(tr_rows(1), TR_HEADER))
    run = run_file(
        manager, csv_bytes([["Ayşe Kaya", "ayse0@example.com", "", "Ankara", ""]], TR_HEADER)
    )
    Customer.objects.filter(primary_email="ayse0@example.com").update(
        city="Trabzon", updated_at=timezone.now() + __import__("datetime").timedelta(seconds=5)
    )
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.restored == 0 and len(result.problems) == 1
    assert Customer.objects.get(primary_email="ayse0@example.com").city == "Trabzon"


def test_undo_goes_through_the_adapters_hooks(manager, monkeypatch):
    from vefa.imports.entities.customers import CustomerAdapter

    run_file(manager, csv_bytes(tr_rows(1), TR_HEADER))
    run = run_file(
        manager,
        csv_bytes(
            [["Ayşe Kaya", "ayse0@example.com", "", "Ankara", ""], *tr_rows(1, start=5)], TR_HEADER
        ),
    )
    calls: list[tuple[str, object]] = []
    created = CustomerAdapter.undo_created

    def undo_created(self, object_type, ids, ctx):
        calls.append((object_type, sorted(ids)))
        return created(self, object_type, ids, ctx)

    def undo_updated(self, object_type, pk, previous, ctx):
        calls.append((object_type, pk))
        return "Kept by this adapter."

    monkeypatch.setattr(CustomerAdapter, "undo_created", undo_created)
    monkeypatch.setattr(CustomerAdapter, "undo_updated", undo_updated)
    result = services.undo_import(actor=manager, run_id=run.pk)
    ayse = Customer.objects.get(primary_email="ayse0@example.com")
    deletions = [object_type for object_type, ids in calls if isinstance(ids, list)]
    assert ("customers.customer", ayse.pk) in calls
    assert deletions == ["customers.contactpoint", "customers.customer"]  # children first
    assert result.deleted == 1 and result.restored == 0
    assert [p["reason"] for p in result.problems] == ["Kept by this adapter."]
    assert ayse.city == "Ankara"


def test_imported_customers_are_found_by_the_duplicate_check_until_undone(manager):
    from vefa.quality.models import MatchKey, RecordKind
    from vefa.quality.selectors import duplicate_check

    run = run_file(manager, csv_bytes(tr_rows(3), TR_HEADER))
    ayse = Customer.objects.get(primary_email="ayse1@example.com")
    typed = {"first_name": "Ayse", "last_name": "Yilmaz1", "email": "AYSE1@example.com"}
    assert [m.id for m in duplicate_check(actor=manager, data=typed).matches][:1] == [ayse.pk]
    # An update through an import rewrites the keys (a new phone).
    again = run_file(
        manager,
        csv_bytes([["Ayşe Yılmaz1", "ayse1@example.com", "+90 533 999 0000", "", ""]], TR_HEADER),
    )
    assert again.updated == 1
    found = duplicate_check(actor=manager, data={"phone": "0533 999 00 00"}).matches
    assert [m.id for m in found] == [ayse.pk]
    services.undo_import(actor=manager, run_id=again.pk)
    assert not duplicate_check(actor=manager, data={"phone": "0533 999 00 00"}).matches
    assert not MatchKey.objects.filter(key="p:905339990000").exists()
    services.undo_import(actor=manager, run_id=run.pk)
    assert not MatchKey.objects.filter(kind=RecordKind.CUSTOMER).exists()
    assert not duplicate_check(actor=manager, data=typed).matches


def test_runs_are_hidden_from_others(manager, marketer, other_marketer, rep):
    run = run_file(marketer, csv_bytes(tr_rows(1), TR_HEADER), entity="leads")
    assert run.created == 1
    from vefa.imports.selectors import run_for, runs_for

    assert run_for(marketer, run.pk) == run
    assert run_for(manager, run.pk) == run
    with pytest.raises(NotFound):
        run_for(other_marketer, run.pk)
    with pytest.raises(NotFound):
        run_for(rep, run.pk)
    assert list(runs_for(other_marketer)) == []
    with pytest.raises(NotFound):
        run_for(marketer, "1; DROP TABLE x")


def test_queries_per_batch_do_not_grow_with_rows(manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(rows: int, start: int) -> int:
        run = upload(manager, csv_bytes(tr_rows(rows, start=start), TR_HEADER))
        services.start_import(actor=manager, run_id=run.pk, background=False)
        with CaptureQueriesContext(connection) as captured:
            services.execute_run(run.pk)
        return len(captured.captured_queries)

    small, large = count(5, 0), count(120, 100)
    assert Customer.objects.count() == 125
    # Multi-row inserts are chunked by the database's parameter limit; allow for that only.
    assert large <= small + 12, (small, large)


def test_keys_of_new_customers_equal_the_keys_read_back(manager):
    """The import writes a new customer's keys from the objects in hand; they are the keys
    the duplicate check's own rebuild reads from the database."""
    from vefa.quality.models import MatchKey, RecordKind
    from vefa.quality.services import customer_keys_rebuild, new_customer_keys

    rows = [
        ["Ayşe Yılmaz", "ayse@example.com", "0532 111 22 33", "İzmir", "01.02.1990"],
        ["Ђорђе Јовановић", "", "+381 64 123 4567", "Beograd", ""],
        ["علی رضایی", "ali@example.ir", "", "", ""],
    ]
    run_file(manager, csv_bytes(rows, TR_HEADER))
    organisation = run_file(
        manager,
        csv_bytes([["Acme A.Ş.", "1234567890", "info@acme.example"]], ["Şirket", "VKN", "E-posta"]),
    )
    assert organisation.created == 1
    customers = list(Customer.objects.all())
    keys = MatchKey.objects.filter(kind=RecordKind.CUSTOMER)

    def written() -> set[tuple[int, str]]:
        return set(keys.values_list("record_id", "key"))

    from_import = written()
    assert len({pk for pk, _k in from_import}) == 4
    keys.delete()
    assert new_customer_keys(customers) == len(from_import)
    assert written() == from_import
    keys.delete()
    customer_keys_rebuild([c.pk for c in customers])
    assert written() == from_import
