"""The order adapter: orders with lines from one row per line, bad rows listed (and their
order's other rows not imported), orders split over batches, idempotent runs, undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.imports_pages.conftest import csv_bytes, error_rows, run_file
from vefa.imports import services
from vefa.interactions.models import Interaction
from vefa.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

HEADER = [
    "Sipariş No",
    "Tarih",
    "E-posta",
    "Para Birimi",
    "Stok Kodu",
    "Açıklama",
    "Miktar",
    "Birim Fiyat",
]


def _rows():
    return [
        ["W-1", "01.05.2026", "ayse@example.com", "TRY", "TEA-1", "", "2", ""],
        ["W-1", "", "", "", "", "Hediye paketi", "1", "15,50"],
        ["W-2", "2026-05-02", "ayse@example.com", "TRY", "TEA-1", "", "1", "45"],
        ["W-3", "03.05.2026", "ayse@example.com", "TRY", "TEA-1", "", "abc", ""],
        ["W-3", "", "", "", "TEA-1", "", "1", ""],
        ["W-4", "03.05.2026", "nobody@example.com", "TRY", "TEA-1", "", "1", ""],
        ["W-5", "03.05.2026", "ayse@example.com", "TRY", "", "", "1", ""],
        ["W-6", "03.05.2026", "ayse@example.com", "TRY", "TEA-1", "", "1", ""],
        ["W-6", "04.05.2026", "", "", "TEA-1", "", "1", ""],
    ]


def test_orders_with_lines_and_errors(manager, customer, product):
    run = run_file(manager, csv_bytes(_rows(), HEADER), entity="orders")
    w1 = Order.objects.get(external_id="W-1")
    assert w1.customer == customer
    lines = list(w1.lines.order_by("position"))
    assert [line.quantity for line in lines] == [Decimal("2"), Decimal("1")]
    assert lines[0].product == product and lines[0].unit_price == Decimal("50")
    assert lines[1].product is None and lines[1].unit_price == Decimal("15.50")
    assert w1.total > 0
    assert Order.objects.get(external_id="W-2").lines.get().unit_price == Decimal("45")
    assert set(Order.objects.values_list("external_id", flat=True)) == {"W-1", "W-2"}
    assert run.created == 3  # rows: W-1 ×2, W-2
    errors = error_rows(run)
    by_row = {}
    for row, _column, _value, reason in errors:
        by_row.setdefault(int(row), []).append(reason)
    assert set(by_row) == {5, 6, 7, 8, 9, 10}
    assert any("row 5" in r for r in by_row[6])  # W-3's good row names the bad one
    assert any("Differs" in r for r in by_row[10])  # W-6's second row: another date
    # The purchase of each order is in the contact history.
    assert Interaction.objects.filter(customer=customer, kind="purchase").count() == 2


def test_second_run_creates_nothing(manager, customer, product):
    data = csv_bytes(_rows()[:3], HEADER)
    first = run_file(manager, data, entity="orders")
    assert first.created == 3
    again = run_file(manager, data, entity="orders")
    assert (again.created, again.unchanged, again.error_rows) == (0, 3, 0)
    # The same orders in another file (other column order): matched, left as they are.
    other = csv_bytes(
        [[r[0], r[2], r[3], r[4], r[5], r[6], r[7]] for r in _rows()[:3]],
        [HEADER[0], HEADER[2], HEADER[3], HEADER[4], HEADER[5], HEADER[6], HEADER[7]],
    )
    third = run_file(manager, other, entity="orders")
    assert third.created == 0 and third.error_rows == 0
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 3


def test_order_split_over_batches(manager, customer, product):
    rows = [
        ["W-9", "01.05.2026", "ayse@example.com", "TRY", "TEA-1", "", str(i + 1), ""]
        for i in range(5)
    ]
    run = run_file(manager, csv_bytes(rows, HEADER), entity="orders", batch_rows=2)
    assert run.created == 5 and run.error_rows == 0
    order = Order.objects.get(external_id="W-9")
    assert [line.quantity for line in order.lines.order_by("position")] == [
        Decimal(n) for n in range(1, 6)
    ]
    assert order.subtotal == Decimal(15 * 50)
    purchase = Interaction.objects.get(customer=customer, kind="purchase")
    assert purchase.amount == order.total


def test_undo_removes_orders_lines_and_purchases(manager, customer, product):
    run = run_file(manager, csv_bytes(_rows()[:3], HEADER), entity="orders")
    assert Order.objects.count() == 2
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.problems == []
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert not Interaction.objects.filter(kind="purchase").exists()


def test_undo_keeps_an_order_with_a_payment(manager, customer, product):
    from vefa.sales.services.orders import payment_create

    run = run_file(manager, csv_bytes(_rows()[2:3], HEADER), entity="orders")
    order = Order.objects.get()
    payment_create(actor=manager, order_id=order.pk, amount="10", method="cash")
    result = services.undo_import(actor=manager, run_id=run.pk)
    assert result.problems
    assert "payment" in str(result.problems[0]["reason"]).lower()
    assert Order.objects.filter(pk=order.pk).exists()
    assert order.lines.count() == 1


def test_a_rep_cannot_import_orders_of_others(rep, customer, product):
    """Orders for a customer the rep cannot see are errors, never created."""
    from vefa.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_file(rep, csv_bytes(_rows()[:1], HEADER), entity="orders")
