"""Reads of returns, always for an actor (``restrict`` hides what the actor may not see).

The return rate over a period is read for the orders placed in it: the quantity their
active returns (every status but rejected and cancelled) take back, divided by the quantity
sold on them (orders confirmed and not cancelled). Grouped by product, or by the reason (a
line's own reason, else the return's).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet, Sum
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.common.text import fold
from vefa.customers.services._common import as_pk, not_found
from vefa.interactions.filters import day_start, local_today, user_zone
from vefa.interactions.models import Interaction
from vefa.sales.models import Order, OrderLine, Product
from vefa.service.choices import ReturnReason, ReturnStatus
from vefa.service.models import ReturnLine, ReturnRequest
from vefa.service.services.returns import (
    ACTIVE_STATUSES,
    INTERACTION_MODEL,
    RETURNABLE_ORDER_STATUSES,
    returned_quantities,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_PAGE = 100
# A whole return number (R-2026-000042) is looked up on its unique index.
NUMBER = re.compile(r"^[Rr]-\d{4}-\d{6}$")
ID = Field(default=None, ge=1, le=2**63 - 1)


class ReturnFilters(Schema):
    """Filters of the return list: status, reason, customer, order, owner, a created-on range
    and the start of a number, carrier or tracking number."""

    status: ReturnStatus | None = None
    reason: ReturnReason | None = None
    customer: int | None = ID
    order: int | None = ID
    owner: int | None = ID
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    q: str | None = Field(default=None, max_length=100)

    def apply(self, queryset: QuerySet[ReturnRequest], *, actor: User) -> QuerySet[ReturnRequest]:
        zone = user_zone(actor)
        qs = queryset
        if self.status:
            qs = qs.filter(status=self.status)
        if self.reason:
            qs = qs.filter(reason=self.reason)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.order:
            qs = qs.filter(order_id=self.order)
        if self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.date_from:
            qs = qs.filter(created_at__gte=day_start(self.date_from, zone))
        if self.date_to:
            end = day_start(self.date_to + datetime.timedelta(days=1), zone)
            qs = qs.filter(created_at__lt=end)
        text = (self.q or "").strip()
        if NUMBER.match(text):
            qs = qs.filter(number=text.upper())
        elif text:
            qs = qs.filter(search_text__contains=fold(text))
        return qs


def return_queryset(actor: User | None) -> QuerySet[ReturnRequest]:
    return restrict(ReturnRequest.objects.all(), actor, "view")


def return_list(
    *,
    actor: User,
    filters: ReturnFilters | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ReturnRequest]:
    """One keyset page of the returns the actor may see, newest first (no COUNT)."""
    qs = return_queryset(actor).select_related("customer", "order", "owner")
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    qs = qs.only(
        "id",
        "number",
        "status",
        "reason",
        "created_at",
        "refund_amount",
        "currency",
        "version",
        "customer_id",
        "order_id",
        "owner_id",
        "team_id",
        "customer__display_name",
        "order__number",
        "owner__full_name",
        "owner__email",
    )
    size = max(1, min(int(limit), MAX_PAGE))
    return keyset_page(qs, ordering="-id", cursor=cursor, size=size)


def return_get(*, actor: User, pk: Any) -> ReturnRequest:
    """One return with its lines, order, customer and ticket, or ``NotFound``."""
    record = (
        return_queryset(actor)
        .select_related("customer", "contact", "order", "ticket", "owner", "team")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnLine.objects.select_related("order_line", "product").order_by(
                    "order_line__position", "id"
                ),
            )
        )
        .filter(pk=as_pk(pk))
        .first()
    )
    if record is None:
        raise not_found()
    return record


def customer_returns(*, actor: User, customer: Customer, limit: int = 20) -> list[ReturnRequest]:
    """The customer's latest returns the actor may see."""
    return list(
        return_queryset(actor)
        .filter(customer_id=customer.pk)
        .select_related("order")
        .order_by("-id")[: max(1, min(int(limit), MAX_PAGE))]
    )


def return_steps(return_request: ReturnRequest) -> list[Interaction]:
    """The return's steps as recorded in the contact history, oldest first."""
    return list(
        Interaction.objects.filter(
            related_model=INTERACTION_MODEL, related_id=return_request.pk
        ).order_by("occurred_at", "id")
    )


@dataclass(frozen=True)
class ReturnableLine:
    """An order line and how much of it can still be returned."""

    line: OrderLine
    ordered: Decimal
    returned: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.ordered - self.returned, Decimal(0))


def returnable_order(*, actor: User, pk: Any) -> Order:
    """An order the actor may see and whose goods can come back, or ``NotFound``."""
    order = (
        restrict(Order.objects.all(), actor, "view")
        .select_related("customer")
        .filter(pk=as_pk(pk), status__in=RETURNABLE_ORDER_STATUSES)
        .first()
    )
    if order is None:
        raise not_found()
    return order


def returnable_order_or_none(*, actor: User, pk: Any) -> Order | None:
    try:
        return returnable_order(actor=actor, pk=pk)
    except NotFound:
        return None


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """The order's lines with the quantity active returns already take back."""
    lines = list(OrderLine.objects.filter(order=order).select_related("product"))
    returned = returned_quantities([line.pk for line in lines])
    return [
        ReturnableLine(
            line=line,
            ordered=Decimal(line.quantity),
            returned=returned.get(line.pk, Decimal(0)),
        )
        for line in lines
    ]


def find_order(*, actor: User, number: str) -> Order | None:
    """The returnable order with this number (e.g. ``O-2026-000042``) the actor may see."""
    text = (number or "").strip().upper()
    if not text or len(text) > 32:
        return None
    return (
        restrict(Order.objects.all(), actor, "view")
        .filter(number=text, status__in=RETURNABLE_ORDER_STATUSES)
        .first()
    )


# --- return rate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    key: str
    label: str
    sold: Decimal
    returned: Decimal

    @property
    def rate(self) -> Decimal:
        """Returned quantity / sold quantity, as a fraction with four decimals."""
        if self.sold <= 0:
            return Decimal(0)
        return (self.returned / self.sold).quantize(Decimal("0.0001"))

    @property
    def percent(self) -> Decimal:
        return (self.rate * 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class ReturnRates:
    date_from: datetime.date
    date_to: datetime.date
    sold: Decimal
    returned: Decimal
    by_product: list[RateRow]
    by_reason: list[RateRow]

    @property
    def rate(self) -> Decimal:
        return RateRow("", "", self.sold, self.returned).rate

    @property
    def percent(self) -> Decimal:
        return RateRow("", "", self.sold, self.returned).percent


def default_period(actor: User | None) -> tuple[datetime.date, datetime.date]:
    today = local_today(actor)
    return today - datetime.timedelta(days=89), today


def return_rates(
    *,
    actor: User,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    limit: int = 20,
) -> ReturnRates:
    """Return rates of the orders placed from ``date_from`` to ``date_to`` (the actor's
    days, both included; the last 90 days by default): overall, by product (the ``limit``
    products with the most returned, each against its sold quantity) and by reason."""
    default_from, default_to = default_period(actor)
    start_day = date_from or default_from
    end_day = date_to or default_to
    if end_day < start_day:
        start_day, end_day = end_day, start_day
    zone = user_zone(actor)
    start = day_start(start_day, zone)
    end = day_start(end_day + datetime.timedelta(days=1), zone)
    orders = restrict(Order.objects.all(), actor, "view").filter(
        ordered_at__gte=start, ordered_at__lt=end, status__in=RETURNABLE_ORDER_STATUSES
    )
    # Two grouped reads, each one pass over the period's lines: sold per product, and
    # returned per (product, line reason, return reason); the rest is summed here.
    sold_by_product: dict[int | None, Decimal] = {
        row["product_id"]: Decimal(row["total"] or 0)
        for row in OrderLine.objects.filter(order__in=orders.values("pk"))
        .order_by()
        .values("product_id")
        .annotate(total=Sum("quantity"))
    }
    returned_rows = list(
        restrict(ReturnLine.objects.all(), actor, "view")
        .filter(
            return_request__status__in=ACTIVE_STATUSES,
            return_request__order__in=orders.values("pk"),
        )
        .order_by()
        .values("product_id", "reason", "return_request__reason")
        .annotate(total=Sum("quantity"))
    )
    sold = sum(sold_by_product.values(), Decimal(0))
    returned = Decimal(0)
    returned_by_product: dict[int, Decimal] = {}
    returned_by_reason: dict[str, Decimal] = {}
    for row in returned_rows:
        quantity = Decimal(row["total"] or 0)
        returned += quantity
        if row["product_id"] is not None:
            pid = row["product_id"]
            returned_by_product[pid] = returned_by_product.get(pid, Decimal(0)) + quantity
        why = row["reason"] or row["return_request__reason"]
        returned_by_reason[why] = returned_by_reason.get(why, Decimal(0)) + quantity
    top = sorted(returned_by_product.items(), key=lambda item: (-item[1], item[0]))
    top = top[: max(1, limit)]
    names = dict(Product.objects.filter(pk__in=[pid for pid, _ in top]).values_list("pk", "name"))
    by_product = [
        RateRow(
            key=str(pid),
            label=str(names.get(pid, pid)),
            sold=sold_by_product.get(pid, Decimal(0)),
            returned=quantity,
        )
        for pid, quantity in top
    ]
    by_product.sort(key=lambda r: (-r.rate, -r.returned, r.label))
    labels = dict(ReturnReason.choices)
    by_reason = [
        RateRow(key=str(why), label=str(labels.get(why, why)), sold=sold, returned=quantity)
        for why, quantity in returned_by_reason.items()
    ]
    by_reason.sort(key=lambda r: (-r.returned, r.key))
    return ReturnRates(
        date_from=start_day,
        date_to=end_day,
        sold=sold,
        returned=returned,
        by_product=by_product,
        by_reason=by_reason,
    )
