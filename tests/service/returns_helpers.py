"""Orders to return, for the returns and call-centre tests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.sales.models import Order, Product
from vefa.sales.services.orders import order_create


def make_product(sku: str = "KHV-001", name: str = "Türk kahvesi 250 g") -> Product:
    return Product.objects.create(
        sku=sku,
        name=name,
        list_price=Decimal("100.00"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )


def make_order(
    customer: Any,
    lines: list[tuple[Product | None, str, str]],
    *,
    status: str = "delivered",
    currency: str = "TRY",
    ordered_at: datetime.datetime | None = None,
) -> Order:
    """An order of ``customer`` with (product, quantity, unit price) lines, moved to
    ``status`` directly (the order flow is tested in the sales app)."""
    clerk = UserFactory(role=Role.ADMIN, is_superuser=True)
    order = order_create(
        actor=clerk,
        customer=customer.pk,
        lines=[
            {
                "product": product.pk if product else None,
                "description": "" if product else "Service line",
                "quantity": quantity,
                "unit_price": price,
                "tax_rate": "20",
            }
            for product, quantity, price in lines
        ],
        currency=currency,
        ordered_at=ordered_at,
    )
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order
