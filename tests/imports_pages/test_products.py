"""The product adapter: good rows, bad rows listed, a second run changes nothing, undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.imports_pages.conftest import HOSTILE, csv_bytes, error_rows, run_file
from vefa.imports import services
from vefa.sales.models import Product, ProductCategory

pytestmark = pytest.mark.django_db

HEADER = ["Stok Kodu", "Ürün Adı", "Fiyat", "Para Birimi", "KDV", "Birim", "Kategori"]


@pytest.fixture
def category(db):
    return ProductCategory.objects.create(name="İçecekler")


def test_good_and_bad_rows(manager, category):
    data = csv_bytes(
        [
            ["TEA-1", "Çay 500 g", "120,50", "TRY", "20", "adet", "içecekler"],
            ["COF-1", "Kahve", "1.250,00", "EUR", "10", "kg", ""],
            ["BAD 1", "Spaced SKU", "1", "TRY", "", "", ""],
            ["NEG-1", "Negative", "-5", "TRY", "", "", ""],
            ["TAX-1", "Tax", "5", "TRY", "150", "", ""],
            ["CAT-1", "Unknown category", "5", "TRY", "", "", "Nope"],
            ["UNIT-1", "Unit", "5", "XXX", "", "parsec", ""],
            ["", "No SKU", "5", "TRY", "", "", ""],
        ],
        HEADER,
    )
    run = run_file(manager, data, entity="products")
    assert (run.created, run.error_rows) == (2, 6)
    tea = Product.objects.get(sku="TEA-1")
    assert tea.name == "Çay 500 g"
    assert tea.list_price == Decimal("120.50")
    assert tea.category == category
    assert tea.unit == "piece"
    assert Product.objects.get(sku="COF-1").list_price == Decimal("1250.00")
    errors = error_rows(run)
    assert {int(r[0]) for r in errors} == {4, 5, 6, 7, 8, 9}
    text = " ".join(r[3] for r in errors)
    assert "SKU" in text and "percentage" in text and "category" in text


def test_second_run_changes_nothing_and_update_on_match(manager):
    rows = [["TEA-1", "Çay", "50", "TRY", "20", "", ""]]
    first = run_file(manager, csv_bytes(rows, HEADER), entity="products")
    assert first.created == 1
    again = run_file(manager, csv_bytes(rows, HEADER), entity="products")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = run_file(
        manager,
        csv_bytes([["TEA-1", "Çay (yeni)", "55", "TRY", "20", "", ""]], HEADER),
        entity="products",
    )
    assert changed.updated == 1
    tea = Product.objects.get(sku="TEA-1")
    assert (tea.name, tea.list_price) == ("Çay (yeni)", Decimal("55.0000"))
    skipped = run_file(
        manager,
        csv_bytes([["TEA-1", "Çay (other)", "60", "TRY", "20", "", ""]], HEADER),
        entity="products",
        on_match="skip",
    )
    assert skipped.skipped == 1
    assert Product.objects.get(sku="TEA-1").name == "Çay (yeni)"
    assert Product.objects.count() == 1


def test_undo_deletes_created_and_restores_updated(manager):
    run_file(
        manager, csv_bytes([["TEA-1", "Çay", "50", "TRY", "", "", ""]], HEADER), entity="products"
    )
    run = run_file(
        manager,
        csv_bytes(
            [
                ["TEA-1", "Çay 2", "70", "TRY", "", "", ""],
                ["NEW-1", "Yeni", "1", "TRY", "", "", ""],
            ],
            HEADER,
        ),
        entity="products",
    )
    assert (run.created, run.updated) == (1, 1)
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.problems == []
    assert not Product.objects.filter(sku="NEW-1").exists()
    tea = Product.objects.get(sku="TEA-1")
    assert (tea.name, tea.list_price) == ("Çay", Decimal("50.0000"))


def test_hostile_text_is_stored_as_typed(manager):
    rows = [[f"H-{i}", text, "1", "TRY", "", "", ""] for i, text in enumerate(HOSTILE)]
    run = run_file(manager, csv_bytes(rows, HEADER), entity="products")
    assert run.created == len(HOSTILE)
    names = set(Product.objects.values_list("name", flat=True))
    assert set(HOSTILE) <= names


def test_roles_that_do_not_keep_the_catalogue_cannot_import(marketer):
    from tests.imports_pages.conftest import upload
    from vefa.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload(marketer, csv_bytes([["A", "B", "1", "TRY", "", "", ""]], HEADER), entity="products")
