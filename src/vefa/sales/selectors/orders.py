"""Reads of orders, always for an actor (``restrict`` hides what the actor may not see)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.interactions.filters import day_start, user_zone
from vefa.interactions.models import Interaction
from vefa.sales.choices import OrderSource, OrderStatus
from vefa.sales.models import Order, OrderLine, Payment, Shipment
from vefa.sales.services._common import as_pk, not_found

if TYPE_CHECKING:
    from vefa.accounts.models import User


class OrderFilters(Schema):
    """Filters of the order list: status, source, owner, customer and an ordered-on range."""

    status: OrderStatus | None = None
    source: OrderSource | None = None
    owner: int | None = Field(default=None, ge=1, le=2**63 - 1)
    customer: int | None = Field(default=None, ge=1, le=2**63 - 1)
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def apply(self, queryset: QuerySet[Order], *, actor: User) -> QuerySet[Order]:
        zone = user_zone(actor)
        qs = queryset
        if self.status:
            qs = qs.filter(status=self.status)
        if self.source:
            qs = qs.filter(source=self.source)
        if self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.date_from:
            qs = qs.filter(ordered_at__gte=day_start(self.date_from, zone))
        if self.date_to:
            end = day_start(self.date_to + datetime.timedelta(days=1), zone)
            qs = qs.filter(ordered_at__lt=end)
        return qs


def order_list(*, actor: User, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """The orders the actor may see, filtered; newest first."""
    qs = restrict(Order.objects.all(), actor, "view").select_related("customer", "owner")
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return qs.order_by("-ordered_at", "-id")


def order_page(
    *,
    actor: User,
    filters: OrderFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[Order]:
    """One keyset page of ``order_list`` (an indexed range scan, no COUNT)."""
    qs = order_list(actor=actor, filters=filters).only(
        "id",
        "number",
        "source",
        "external_id",
        "status",
        "ordered_at",
        "currency",
        "total",
        "paid_total",
        "version",
        "owner_id",
        "team_id",
        "customer_id",
        "customer__display_name",
        "owner__full_name",
        "owner__email",
    )
    return keyset_page(qs, ordering="-ordered_at", cursor=cursor, size=size)


def order_get(*, actor: User, pk: Any) -> Order:
    """One order with its lines, shipments and payments, or ``NotFound``."""
    order = (
        restrict(Order.objects.all(), actor, "view")
        .select_related("customer", "owner", "team", "quote", "opportunity")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
            Prefetch("shipments", queryset=Shipment.objects.order_by("id")),
            Prefetch("payments", queryset=Payment.objects.order_by("paid_at", "id")),
        )
        .filter(pk=as_pk(pk))
        .first()
    )
    if order is None:
        raise not_found()
    return order


def order_purchase(order: Order) -> Interaction | None:
    """The order's purchase in the customer's contact history (none once cancelled)."""
    return Interaction.objects.filter(external_id=f"sales.order:{order.pk}").first()
