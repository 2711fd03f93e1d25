"""Return rate by product and by reason over a period, on known data."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.service.returns_helpers import make_order, make_product
from vefa.service.selectors.returns import return_rates
from vefa.service.services.returns import return_advance, return_cancel, return_create

pytestmark = pytest.mark.django_db


def _return(actor, order, quantities, reason="defective", line_reasons=None):
    lines = list(order.lines.order_by("position"))
    line_reasons = line_reasons or [""] * len(lines)
    return return_create(
        actor=actor,
        data={"order": order.pk, "reason": reason},
        lines=[
            {"order_line": line.pk, "quantity": qty, "reason": why}
            for line, qty, why in zip(lines, quantities, line_reasons, strict=False)
            if qty
        ],
    )


def test_rates_by_product_and_reason(agent, customer):
    kahve = make_product("KHV-001", "Türk kahvesi")
    cezve = make_product("CZV-001", "Bakır cezve")
    now = timezone.now()
    # In the period: 10 coffee + 4 cezve sold, then 4 coffee more.
    first = make_order(customer, [(kahve, "10", "10"), (cezve, "4", "50")])
    second = make_order(customer, [(kahve, "4", "10")])
    # Outside the period (and its returns): must not count.
    old = make_order(
        customer, [(kahve, "100", "10")], ordered_at=now - datetime.timedelta(days=200)
    )
    # Not counted as sold: a draft and a cancelled order.
    make_order(customer, [(kahve, "50", "10")], status="draft")
    make_order(customer, [(kahve, "50", "10")], status="cancelled")

    _return(agent, first, ["2", "1"], reason="defective", line_reasons=["", "damaged"])
    _return(agent, second, ["1"], reason="wrong_item")
    _return(agent, old, ["30"], reason="defective")
    cancelled = _return(agent, first, ["3"], reason="late")
    return_cancel(actor=agent, return_id=cancelled.pk)
    rejected = _return(agent, first, ["1"], reason="late")
    return_advance(actor=agent, return_id=rejected.pk, status="rejected", data={"note": "No"})

    rates = return_rates(actor=agent)
    assert rates.sold == Decimal("18")
    assert rates.returned == Decimal("4")
    assert rates.rate == Decimal("0.2222")
    by_product = {row.label: row for row in rates.by_product}
    assert set(by_product) == {"Türk kahvesi", "Bakır cezve"}
    assert by_product["Türk kahvesi"].sold == Decimal("14")
    assert by_product["Türk kahvesi"].returned == Decimal("3")
    assert by_product["Türk kahvesi"].rate == Decimal("0.2143")
    assert by_product["Bakır cezve"].rate == Decimal("0.25")
    assert by_product["Bakır cezve"].percent == Decimal("25.00")
    # Highest rate first.
    assert [row.label for row in rates.by_product] == ["Bakır cezve", "Türk kahvesi"]
    by_reason = {row.key: row for row in rates.by_reason}
    # A line's own reason wins over the return's.
    assert by_reason["defective"].returned == Decimal("2")
    assert by_reason["damaged"].returned == Decimal("1")
    assert by_reason["wrong_item"].returned == Decimal("1")
    assert "late" not in by_reason
    assert by_reason["defective"].rate == Decimal("0.1111")

    older = return_rates(
        actor=agent,
        date_from=(now - datetime.timedelta(days=210)).date(),
        date_to=(now - datetime.timedelta(days=190)).date(),
    )
    assert older.sold == Decimal("100") and older.returned == Decimal("30")
    assert older.rate == Decimal("0.3")


def test_rates_of_an_empty_period_are_zero(agent):
    rates = return_rates(
        actor=agent, date_from=datetime.date(2001, 1, 1), date_to=datetime.date(2000, 1, 1)
    )
    assert rates.date_from == datetime.date(2000, 1, 1)
    assert rates.sold == 0 and rates.returned == 0 and rates.rate == 0
    assert rates.by_product == [] and rates.by_reason == []
