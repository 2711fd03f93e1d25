"""The sales side of the customer 360 page: a customer's deals, quotes, orders, contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vefa.accounts.access import can_create, restrict
from vefa.sales.choices import OpportunityStatus, OrderStatus
from vefa.sales.models import Contract, Opportunity, Order, Quote

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

RECENT = 5


@dataclass
class CustomerSales:
    """What the actor may see of one customer's sales, newest first, a few of each."""

    opportunities: list[Opportunity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    # Lifetime revenue per currency of the visible orders that were not cancelled.
    revenue: list[dict[str, Any]] = field(default_factory=list)
    open_pipeline: list[dict[str, Any]] = field(default_factory=list)
    can_add: dict[str, bool] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.opportunities or self.quotes or self.orders or self.contracts)


def customer_sales(*, actor: User, customer: Customer) -> CustomerSales:
    """The customer's recent sales records the actor may see (a fixed number of queries)."""
    from django.db.models import Count, Sum

    result = CustomerSales()
    opportunities = restrict(Opportunity.objects.filter(customer=customer), actor, "view")
    quotes = restrict(Quote.objects.filter(customer=customer), actor, "view")
    orders = restrict(Order.objects.filter(customer=customer), actor, "view")
    contracts = restrict(Contract.objects.filter(customer=customer), actor, "view")
    result.opportunities = list(
        opportunities.select_related("stage", "owner").order_by("-created_at", "-id")[:RECENT]
    )
    result.quotes = list(quotes.order_by("-issued_on", "-id")[:RECENT])
    result.orders = list(orders.order_by("-ordered_at", "-id")[:RECENT])
    result.contracts = list(contracts.order_by("-start_date", "-id")[:RECENT])
    result.revenue = list(
        orders.exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.DRAFT])
        .values("currency")
        .annotate(total=Sum("total"), count=Count("id"))
        .order_by("currency")
    )
    result.open_pipeline = list(
        opportunities.filter(status=OpportunityStatus.OPEN)
        .values("currency")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("currency")
    )
    result.can_add = {
        "opportunity": can_create(actor, Opportunity),
        "quote": can_create(actor, Quote),
        "order": can_create(actor, Order),
        "contract": can_create(actor, Contract),
    }
    return result
