"""The price of a product for a customer: price lists, customer groups, quantity tiers.

Rules, in order:

1. Only active price lists in the document's currency whose validity covers the day.
2. A list for one of the customer's groups (tags) beats a list for everyone.
3. Within a list, the tier with the highest "from quantity" not above the quantity.
4. No list price: the product's own list price when it is in the same currency.
5. Otherwise ``None``: the user enters the price (nothing is converted behind their back).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from vefa.sales.models import PriceList, PriceListItem, Product


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    price_list: PriceList | None  # None: the product's own list price


def price_for(
    product: Product,
    *,
    currency: str,
    quantity: Decimal = Decimal(1),
    customer_tag_ids: set[int] | frozenset[int] = frozenset(),
    on: datetime.date | None = None,
) -> Price | None:
    """The unit price of ``product`` in ``currency`` for a customer carrying the given tags."""
    on = on or datetime.date.today()
    lists = PriceList.objects.filter(is_active=True, currency=currency).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_until__isnull=True) | Q(valid_until__gte=on),
    )
    group_filter = Q(price_list__customer_group__isnull=True)
    if customer_tag_ids:
        group_filter |= Q(price_list__customer_group_id__in=list(customer_tag_ids))
    items = (
        PriceListItem.objects.filter(product=product, min_quantity__lte=quantity)
        .filter(price_list__in=lists)
        .filter(group_filter)
        .select_related("price_list")
    )
    best: PriceListItem | None = None
    for item in items:
        if best is None or _rank(item) > _rank(best):
            best = item
    if best is not None:
        return Price(unit_price=best.unit_price, price_list=best.price_list)
    if product.currency == currency:
        return Price(unit_price=product.list_price, price_list=None)
    return None


def _rank(item: PriceListItem) -> tuple[int, Decimal, int]:
    # Group lists first, then the highest tier reached, then the newest list.
    return (
        1 if item.price_list.customer_group_id is not None else 0,
        item.min_quantity,
        item.price_list_id,
    )


def customer_tag_ids(customer_id: int) -> set[int]:
    """The tags (customer groups) of a customer, for ``price_for``."""
    from vefa.customers.models import Customer

    through = Customer.tags.through
    return set(through.objects.filter(customer_id=customer_id).values_list("tag_id", flat=True))
