"""API of orders (mounted under /api/v1/sales): list, read, create, update, status, shipments,
payments, and the bulk intake for web shops and tills.

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and updates and
412 on a stale ``If-Match``; ``Idempotency-Key`` and ``Location`` on creates; keyset pages
with ``limit`` ≤ 100; an order the caller may not see (or not change) is 404.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.sales.choices import OrderSource, OrderStatus, PaymentMethod, ShipmentStatus
from vefa.sales.models import Order, OrderLine, Payment, Shipment
from vefa.sales.selectors import orders as selectors
from vefa.sales.selectors.orders import OrderFilters
from vefa.sales.services import orders as services
from vefa.sales.services.orders_bulk import MAX_BATCH, orders_ingest, orders_ingest_total

router = Router(tags=["sales"])


# --- schemas ---------------------------------------------------------------------------------


class OrderLineIn(Schema):
    """A line; missing values come from the product (SKU, name, unit, price, tax, cost)."""

    product: int | None = None
    sku: str = ""
    description: str = ""
    quantity: Decimal | str = "1"
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str | None = None
    tax_rate: Decimal | str | None = None
    unit_cost: Decimal | str | None = None


class OrderIn(Schema):
    customer_id: int
    currency: str
    lines: list[OrderLineIn] = Field(max_length=services.MAX_LINES)
    source: OrderSource = OrderSource.API
    quote_id: int | None = None
    opportunity_id: int | None = None
    external_id: str = ""
    ordered_at: datetime.datetime | None = None
    owner_id: int | None = None
    team_id: int | None = None
    notes: str = ""
    shipping_address: str = ""
    status: OrderStatus = OrderStatus.DRAFT


class OrderPatch(Schema):
    """Header fields; ``lines`` replaces every line (draft orders only)."""

    notes: str | None = None
    shipping_address: str | None = None
    ordered_at: datetime.datetime | None = None
    owner_id: int | None = None
    team_id: int | None = None
    lines: list[OrderLineIn] | None = Field(default=None, max_length=services.MAX_LINES)


class OrderStatusIn(Schema):
    status: OrderStatus


class OrderLineOut(Schema):
    id: int
    position: int
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    unit_cost: Decimal | None
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


class ShipmentIn(Schema):
    carrier: str
    tracking_number: str = ""
    status: ShipmentStatus = ShipmentStatus.PREPARING
    shipped_at: datetime.datetime | None = None
    delivered_at: datetime.datetime | None = None
    notes: str = ""


class ShipmentPatch(Schema):
    carrier: str | None = None
    tracking_number: str | None = None
    status: ShipmentStatus | None = None
    shipped_at: datetime.datetime | None = None
    delivered_at: datetime.datetime | None = None
    notes: str | None = None


class ShipmentOut(Schema):
    id: int
    order_id: int
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    notes: str
    version: int


class PaymentIn(Schema):
    amount: Decimal | str
    method: PaymentMethod = PaymentMethod.TRANSFER
    reference: str = ""
    paid_at: datetime.datetime | None = None


class PaymentOut(Schema):
    id: int
    order_id: int
    amount: Decimal
    currency: str
    paid_at: datetime.datetime
    method: str
    reference: str


class OrderSummaryOut(Schema):
    id: int
    number: str
    source: str
    external_id: str
    customer_id: int
    owner_id: int | None
    team_id: int | None
    status: str
    ordered_at: datetime.datetime
    currency: str
    total: Decimal
    paid_total: Decimal
    version: int


class OrderOut(OrderSummaryOut):
    quote_id: int | None
    opportunity_id: int | None
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    cost_total: Decimal | None
    shipping_address: str
    notes: str
    confirmed_at: datetime.datetime | None
    shipped_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    invoiced_at: datetime.datetime | None
    paid_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    next_statuses: list[str]
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    payments: list[PaymentOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_next_statuses(obj: Order) -> list[str]:
        return services.next_statuses(obj)

    @staticmethod
    def resolve_lines(obj: Order) -> list[OrderLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_shipments(obj: Order) -> list[Shipment]:
        return list(obj.shipments.all())

    @staticmethod
    def resolve_payments(obj: Order) -> list[Payment]:
        return list(obj.payments.all())


class OrderPageOut(Schema):
    items: list[OrderSummaryOut]
    next_cursor: str | None
    previous_cursor: str | None


class BulkOrdersIn(Schema):
    """Up to 1,000 orders from a web shop, till or other system.

    Each item of ``orders`` is an object with ``external_id`` (required, unique per source),
    the customer as ``customer_id``, ``customer_email`` or ``customer_tax_number``,
    ``currency``, optional ``ordered_at``, ``status`` (default ``confirmed``), ``notes``,
    ``shipping_address`` and ``lines``: objects with ``product_id`` or ``sku``,
    ``description``, ``quantity``, ``unit_price``, ``discount_percent``, ``tax_rate``,
    ``unit``, ``unit_cost`` (missing values come from the product; an SKU not in the
    catalogue is kept as a line without product when it has a description and a price).
    """

    source: OrderSource = OrderSource.API
    orders: list[Any] = Field(max_length=MAX_BATCH)


class BulkResultOut(Schema):
    index: int
    external_id: str
    status: str  # created, duplicate, error
    id: int | None
    number: str
    errors: dict[str, list[str]]


class BulkOrdersOut(Schema):
    created: int
    duplicate: int
    error: int
    results: list[BulkResultOut]


def _lines(items: list[OrderLineIn] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [item.model_dump(exclude_none=True) for item in items]


# --- orders ----------------------------------------------------------------------------------


@router.get("/orders", response={200: OrderPageOut, **ERRORS}, url_name="sales_order_list")
def order_list(
    request: HttpRequest,
    filters: Query[OrderFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The orders the caller may see, newest first."""
    page = selectors.order_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, OrderSummaryOut)))


@router.post("/orders", response={201: OrderOut, **ERRORS}, url_name="sales_order_create")
def order_create(request: HttpRequest, payload: OrderIn) -> HttpResponse:
    """Enter an order with its lines (it also appears as a purchase in the contact history)."""
    actor = actor_of(request)

    def create() -> Any:
        order = services.order_create(
            actor=actor,
            customer=payload.customer_id,
            lines=_lines(payload.lines) or [],
            currency=payload.currency,
            source=payload.source,
            quote=payload.quote_id,
            opportunity=payload.opportunity_id,
            external_id=payload.external_id,
            ordered_at=payload.ordered_at,
            owner=payload.owner_id,
            team=payload.team_id,
            notes=payload.notes,
            shipping_address=payload.shipping_address,
            status=payload.status,
        )
        return selectors.order_get(actor=actor, pk=order.pk)

    return create_response(
        request,
        create=create,
        schema=OrderOut,
        location=lambda obj: reverse("api:sales_order_detail", args=[obj.pk]),
    )


@router.post("/orders/bulk", response={200: BulkOrdersOut, **ERRORS}, url_name="sales_order_bulk")
def order_bulk(request: HttpRequest, payload: BulkOrdersIn) -> HttpResponse:
    """Take up to 1,000 orders at once; idempotent on (source, external_id).

    Answers 200 with one result per order, in input order: ``created`` (with the new id and
    number), ``duplicate`` (the order exists already; its id and number) or ``error`` (with
    ``errors`` per field, e.g. ``lines.0.quantity``). Good orders are kept even when others
    in the same request are refused; re-sending the whole request creates nothing twice.
    """
    results = orders_ingest(actor=actor_of(request), orders=payload.orders, source=payload.source)
    counts = orders_ingest_total(results)
    return json_response({**counts, "results": [r.as_dict() for r in results]})


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, url_name="sales_order_detail")
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=actor_of(request), pk=order_id)
    return json_response(dump(OrderOut, order), instance=order)


@router.patch(
    "/orders/{order_id}", response={200: OrderOut, **ERRORS}, url_name="sales_order_update"
)
def order_update(request: HttpRequest, order_id: int, payload: OrderPatch) -> HttpResponse:
    """Change the header; ``lines`` replaces the lines of a draft. Send ``If-Match``."""
    actor = actor_of(request)
    current = selectors.order_get(actor=actor, pk=order_id)
    data = payload.model_dump(exclude_unset=True)
    lines = data.pop("lines", None)
    if "owner_id" in data:
        data["owner"] = data.pop("owner_id")
    if "team_id" in data:
        data["team"] = data.pop("team_id")
    services.order_update(
        actor=actor,
        order_id=current.pk,
        data=data,
        lines=_lines(payload.lines) if lines is not None else None,
        expected_version=if_match_version(request, current),
    )
    fresh = selectors.order_get(actor=actor, pk=current.pk)
    return json_response(dump(OrderOut, fresh), instance=fresh)


@router.post(
    "/orders/{order_id}/status", response={200: OrderOut, **ERRORS}, url_name="sales_order_status"
)
def order_status(request: HttpRequest, order_id: int, payload: OrderStatusIn) -> HttpResponse:
    """Move the order one step on (draft → confirmed → shipped → delivered → invoiced → paid)
    or cancel it before it is paid; other moves are refused with 422."""
    actor = actor_of(request)
    current = selectors.order_get(actor=actor, pk=order_id)
    services.order_set_status(
        actor=actor,
        order_id=current.pk,
        status=payload.status,
        expected_version=if_match_version(request, current),
    )
    fresh = selectors.order_get(actor=actor, pk=current.pk)
    return json_response(dump(OrderOut, fresh), instance=fresh)


# --- shipments and payments ------------------------------------------------------------------


@router.post(
    "/orders/{order_id}/shipments",
    response={201: ShipmentOut, **ERRORS},
    url_name="sales_shipment_create",
)
def shipment_create(request: HttpRequest, order_id: int, payload: ShipmentIn) -> HttpResponse:
    actor = actor_of(request)
    return create_response(
        request,
        create=lambda: services.shipment_create(
            actor=actor, order_id=order_id, **payload.model_dump()
        ),
        schema=ShipmentOut,
        location=lambda obj: reverse("api:sales_order_detail", args=[order_id]),
    )


@router.patch(
    "/shipments/{shipment_id}", response={200: ShipmentOut, **ERRORS}, url_name="sales_shipment"
)
def shipment_update(request: HttpRequest, shipment_id: int, payload: ShipmentPatch) -> HttpResponse:
    actor = actor_of(request)
    current = services.get_for(Shipment.objects.all(), actor=actor, pk=shipment_id, action="view")
    shipment = services.shipment_update(
        actor=actor,
        shipment_id=current.pk,
        data=payload.model_dump(exclude_unset=True),
        expected_version=if_match_version(request, current),
    )
    return json_response(dump(ShipmentOut, shipment), instance=shipment)


@router.post(
    "/orders/{order_id}/payments",
    response={201: PaymentOut, **ERRORS},
    url_name="sales_payment_create",
)
def payment_create(request: HttpRequest, order_id: int, payload: PaymentIn) -> HttpResponse:
    actor = actor_of(request)
    return create_response(
        request,
        create=lambda: services.payment_create(
            actor=actor, order_id=order_id, **payload.model_dump()
        ),
        schema=PaymentOut,
        location=lambda obj: reverse("api:sales_order_detail", args=[order_id]),
    )


@router.delete(
    "/payments/{payment_id}", response={204: None, **ERRORS}, url_name="sales_payment_delete"
)
def payment_delete(request: HttpRequest, payment_id: int) -> HttpResponse:
    services.payment_delete(actor=actor_of(request), payment_id=payment_id)
    return HttpResponse(status=204)
