"""Order services: totals and rounding, the status flow, shipments, payments, purchases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vefa.interactions.models import Interaction
from vefa.sales.models import Order
from vefa.sales.services.orders import order_create

pytestmark = pytest.mark.django_db


def test_create_fills_from_product_and_records_purchase(rep, own_customer, product):
    order = order_create(
        actor=rep,
        customer=own_customer,
        lines=[{"product": product.pk, "quantity": "3"}],
        currency="TRY",
    )
    order.refresh_from_db()
    assert order.number.startswith("O-")
    line = order.lines.get()
    assert line.sku == "KHV-001"
    assert line.unit_price == Decimal("120.00")
    assert line.net == Decimal("360.00")
    assert line.tax == Decimal("72.00")
    assert order.total == Decimal("432.00")
    assert order.cost_total == Decimal("210.00")
    assert order.owner == rep
    purchase = Interaction.objects.get(external_id=f"sales.order:{order.pk}")
    assert purchase.kind == "purchase"
    assert purchase.amount == Decimal("432.00")
    assert purchase.related_model == "sales.order"
    assert purchase.related_id == order.pk
    assert purchase.occurred_at == order.ordered_at
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == order.ordered_at
    assert Order.objects.count() == 1
