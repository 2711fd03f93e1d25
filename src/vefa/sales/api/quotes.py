"""API of quotes (mounted under /api/v1/sales): list, read, create, change, lines, the PDF,
sending by e-mail, accepting into an order, rejecting and new versions.

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and updates and
412 on a stale ``If-Match``; ``Idempotency-Key`` and ``Location`` on creates; keyset pages
with ``limit`` ≤ 100; a quote the caller may not see (or not change) is 404.
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
    ErrorOut,
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.sales.models import Quote, QuoteLine
from vefa.sales.selectors import quotes as selectors
from vefa.sales.selectors.quotes import QuoteFilters
from vefa.sales.services import quotes as services
from vefa.sales.services.quotes_pdf import pdf_filename, render_quote_pdf

router = Router(tags=["sales"])

SEND_ERRORS: dict[int, Any] = {**ERRORS, 502: ErrorOut}


# --- schemas ---------------------------------------------------------------------------------


class QuoteLineIn(Schema):
    """A line; missing values come from the product (SKU, name, unit, price, tax)."""

    product: int | None = None
    sku: str = ""
    description: str = ""
    quantity: Decimal | str = "1"
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str | None = None
    tax_rate: Decimal | str | None = None


class QuoteLinePatch(Schema):
    product: int | None = None
    sku: str | None = None
    description: str | None = None
    quantity: Decimal | str | None = None
    unit: str | None = None
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str | None = None
    tax_rate: Decimal | str | None = None


class QuoteIn(Schema):
    customer_id: int
    currency: str | None = None
    lines: list[QuoteLineIn] = Field(default=[], max_length=services.MAX_LINES)
    contact_id: int | None = None
    opportunity_id: int | None = None
    price_list_id: int | None = None
    language: str | None = None
    issued_on: datetime.date | None = None
    valid_until: datetime.date | None = None
    notes: str = ""
    terms: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class QuotePatch(Schema):
    """Header fields of a draft; ``lines`` replaces every line."""

    contact_id: int | None = None
    opportunity_id: int | None = None
    price_list_id: int | None = None
    currency: str | None = None
    language: str | None = None
    issued_on: datetime.date | None = None
    valid_until: datetime.date | None = None
    notes: str | None = None
    terms: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None
    lines: list[QuoteLineIn] | None = Field(default=None, max_length=services.MAX_LINES)


class QuoteLineOut(Schema):
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
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


class QuoteSummaryOut(Schema):
    id: int
    number: str
    revision: int
    status: str
    customer_id: int
    customer_name: str
    owner_id: int | None
    team_id: int | None
    currency: str
    issued_on: datetime.date
    valid_until: datetime.date | None
    total: Decimal
    version: int

    @staticmethod
    def resolve_status(obj: Quote) -> str:
        return services.effective_status(obj)

    @staticmethod
    def resolve_customer_name(obj: Quote) -> str:
        return obj.customer.display_name


class QuoteOut(QuoteSummaryOut):
    stored_status: str
    previous_id: int | None
    contact_id: int | None
    opportunity_id: int | None
    price_list_id: int | None
    language: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    notes: str
    terms: str
    sent_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    custom_fields: dict[str, Any]
    tags: list[str]
    lines: list[QuoteLineOut]
    pdf_url: str
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_stored_status(obj: Quote) -> str:
        return obj.status

    @staticmethod
    def resolve_tags(obj: Quote) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_lines(obj: Quote) -> list[QuoteLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_pdf_url(obj: Quote) -> str:
        return reverse("api:sales_quote_pdf", args=[obj.pk])


class QuotePageOut(Schema):
    items: list[QuoteSummaryOut]
    next_cursor: str | None
    previous_cursor: str | None


class QuoteLineListOut(Schema):
    items: list[QuoteLineOut]


class SendIn(Schema):
    to: str | None = Field(default=None, description="Default: the contact's, else the customer's")
    message: str = ""


class RejectIn(Schema):
    reason: str


class AcceptOut(Schema):
    quote: QuoteOut
    order_id: int
    order_number: str


# --- helpers ----------------------------------------------------------------------------------


def _fresh(request: HttpRequest, pk: int) -> HttpResponse:
    quote = selectors.quote_get(actor=actor_of(request), pk=pk)
    return json_response(dump(QuoteOut, quote), instance=quote)


def _header(data: dict[str, Any]) -> dict[str, Any]:
    """API field names (``contact_id`` …) as the service's (``contact`` …)."""
    renamed = {
        "contact_id": "contact",
        "opportunity_id": "opportunity",
        "price_list_id": "price_list",
        "owner_id": "owner",
        "team_id": "team",
    }
    return {renamed.get(k, k): v for k, v in data.items()}


def _lines(lines: list[Any] | None) -> list[dict[str, Any]] | None:
    if lines is None:
        return None
    return [
        {k: v for k, v in dict(line).items() if v not in (None, "")}
        for line in (x.model_dump() if hasattr(x, "model_dump") else x for x in lines)
    ]


# --- quotes -----------------------------------------------------------------------------------


@router.get("/quotes", response={200: QuotePageOut, **ERRORS}, url_name="sales_quote_list")
def quote_list(
    request: HttpRequest,
    filters: Query[QuoteFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Quotes the caller may see, newest first, with the list page's filters."""
    page = selectors.quote_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, QuoteSummaryOut)))


@router.post("/quotes", response={201: QuoteOut, **ERRORS}, url_name="sales_quote_create")
def quote_create(request: HttpRequest, payload: QuoteIn) -> HttpResponse:
    """Write a draft quote; line prices come from the price lists unless given."""
    actor = actor_of(request)
    data = payload.model_dump()
    tags = data.pop("tags")
    lines = _lines(data.pop("lines"))
    customer = data.pop("customer_id")

    def create() -> Any:
        quote = services.quote_create(
            actor=actor, customer=customer, lines=lines, tags=tags, **_header(data)
        )
        return selectors.quote_get(actor=actor, pk=quote.pk)

    return create_response(
        request,
        create=create,
        schema=QuoteOut,
        location=lambda obj: reverse("api:sales_quote_detail", args=[obj.pk]),
    )


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS}, url_name="sales_quote_detail")
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _fresh(request, quote_id)


@router.patch(
    "/quotes/{quote_id}", response={200: QuoteOut, **ERRORS}, url_name="sales_quote_update"
)
def quote_update(request: HttpRequest, quote_id: int, payload: QuotePatch) -> HttpResponse:
    """Change a draft; send ``If-Match`` with the ETag you read to avoid lost updates."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    lines = _lines(data.pop("lines", None))
    with hidden_if_denied():
        services.quote_update(
            actor=actor,
            quote_id=current.pk,
            data=_header(data),
            lines=lines,
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    return _fresh(request, current.pk)


@router.delete("/quotes/{quote_id}", response={204: None, **ERRORS}, url_name="sales_quote_delete")
def quote_delete(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Delete a draft."""
    with hidden_if_denied():
        services.quote_delete(actor=actor_of(request), quote_id=quote_id)
    return HttpResponse(status=204)


# --- lines ------------------------------------------------------------------------------------


@router.get(
    "/quotes/{quote_id}/lines",
    response={200: QuoteLineListOut, **ERRORS},
    url_name="sales_quote_lines",
)
def quote_lines(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(actor=actor_of(request), pk=quote_id)
    items = [dump(QuoteLineOut, line) for line in quote.lines.all()]
    return json_response({"items": items}, instance=quote)


@router.post(
    "/quotes/{quote_id}/lines",
    response={201: QuoteLineOut, **ERRORS},
    url_name="sales_quote_line_add",
)
def quote_line_add(request: HttpRequest, quote_id: int, payload: QuoteLineIn) -> HttpResponse:
    """Add a line to a draft (``If-Match`` with the quote's ETag guards against races)."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    line_data = _lines([payload])
    assert line_data is not None
    with hidden_if_denied():
        line = services.quote_line_add(
            actor=actor,
            quote_id=current.pk,
            line=line_data[0],
            expected_version=if_match_version(request, current),
        )
    response = json_response(dump(QuoteLineOut, line), status=201)
    response["Location"] = reverse("api:sales_quote_lines", args=[current.pk])
    return response


@router.patch(
    "/quotes/{quote_id}/lines/{line_id}",
    response={200: QuoteLineOut, **ERRORS},
    url_name="sales_quote_line_update",
)
def quote_line_update(
    request: HttpRequest, quote_id: int, line_id: int, payload: QuoteLinePatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    data = payload.model_dump(exclude_unset=True)
    with hidden_if_denied():
        line = services.quote_line_update(
            actor=actor,
            quote_id=current.pk,
            line_id=line_id,
            data=data,
            expected_version=if_match_version(request, current),
        )
    return json_response(dump(QuoteLineOut, line))


@router.delete(
    "/quotes/{quote_id}/lines/{line_id}",
    response={204: None, **ERRORS},
    url_name="sales_quote_line_delete",
)
def quote_line_delete(request: HttpRequest, quote_id: int, line_id: int) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        services.quote_line_delete(
            actor=actor,
            quote_id=current.pk,
            line_id=line_id,
            expected_version=if_match_version(request, current),
        )
    return HttpResponse(status=204)


# --- the PDF and the actions --------------------------------------------------------------------


@router.get(
    "/quotes/{quote_id}/pdf",
    response={200: None, **ERRORS},
    url_name="sales_quote_pdf",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The quote as a PDF in its language (English, Turkish, Serbian or Persian)."""
    quote = selectors.quote_get(actor=actor_of(request), pk=quote_id)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(quote)}"'
    return response


@router.post(
    "/quotes/{quote_id}/send", response={200: QuoteOut, **SEND_ERRORS}, url_name="sales_quote_send"
)
def quote_send(request: HttpRequest, quote_id: int, payload: SendIn) -> HttpResponse:
    """E-mail the PDF, mark the quote sent and record the e-mail in the contact history.

    502 when the mail server refuses the message (nothing is changed then).
    """
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        services.quote_send(
            actor=actor,
            quote_id=current.pk,
            to=payload.to,
            message=payload.message,
            expected_version=if_match_version(request, current),
        )
    return _fresh(request, current.pk)


@router.post(
    "/quotes/{quote_id}/mark-sent",
    response={200: QuoteOut, **ERRORS},
    url_name="sales_quote_mark_sent",
)
def quote_mark_sent(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Record that a draft reached the customer some other way."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        services.quote_mark_sent(
            actor=actor, quote_id=current.pk, expected_version=if_match_version(request, current)
        )
    return _fresh(request, current.pk)


@router.post(
    "/quotes/{quote_id}/accept",
    response={200: AcceptOut, **ERRORS},
    url_name="sales_quote_accept",
)
def quote_accept(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Accept a sent quote: its order is created with the same lines and totals."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        order = services.quote_accept(
            actor=actor, quote_id=current.pk, expected_version=if_match_version(request, current)
        )
    quote = selectors.quote_get(actor=actor, pk=current.pk)
    body = {
        "quote": dump(QuoteOut, quote),
        "order_id": order.pk,
        "order_number": order.number,
    }
    return json_response(body, instance=quote)


@router.post(
    "/quotes/{quote_id}/reject", response={200: QuoteOut, **ERRORS}, url_name="sales_quote_reject"
)
def quote_reject(request: HttpRequest, quote_id: int, payload: RejectIn) -> HttpResponse:
    """Mark a sent quote rejected; the reason is recorded in the contact history."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        services.quote_reject(
            actor=actor,
            quote_id=current.pk,
            reason=payload.reason,
            expected_version=if_match_version(request, current),
        )
    return _fresh(request, current.pk)


@router.post(
    "/quotes/{quote_id}/versions",
    response={201: QuoteOut, **ERRORS},
    url_name="sales_quote_new_version",
)
def quote_new_version(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Copy a sent, expired or rejected quote to a new draft version (same number)."""
    actor = actor_of(request)
    current = selectors.quote_get(actor=actor, pk=quote_id)
    with hidden_if_denied():
        new = services.quote_new_version(
            actor=actor, quote_id=current.pk, expected_version=if_match_version(request, current)
        )
    fresh = selectors.quote_get(actor=actor, pk=new.pk)
    response = json_response(dump(QuoteOut, fresh), status=201, instance=fresh)
    response["Location"] = reverse("api:sales_quote_detail", args=[fresh.pk])
    return response
