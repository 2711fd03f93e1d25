"""API of returns (mounted under /api/v1/service): list, rates, read, create, next step.

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and steps and 412
on a stale ``If-Match``; ``Idempotency-Key`` and ``Location`` on create; keyset pages with
``limit`` ≤ 100; a return the caller may not see (or not change) is 404.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router

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
from vefa.service.api.returns_schemas import (
    ReturnIn,
    ReturnOut,
    ReturnPageOut,
    ReturnRatesOut,
    ReturnStepIn,
    ReturnSummaryOut,
)
from vefa.service.models import ReturnRequest
from vefa.service.selectors import returns as selectors
from vefa.service.selectors.returns import ReturnFilters
from vefa.service.services import returns as services

router = Router(tags=["service"])


@router.get("/returns", response={200: ReturnPageOut, **ERRORS}, url_name="service_return_list")
def return_list(
    request: HttpRequest,
    filters: Query[ReturnFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The returns the caller may see, newest first."""
    page = selectors.return_list(
        actor=actor_of(request), filters=filters, cursor=cursor, limit=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, ReturnSummaryOut)))


@router.get(
    "/returns/rates", response={200: ReturnRatesOut, **ERRORS}, url_name="service_return_rates"
)
def return_rates(
    request: HttpRequest,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> HttpResponse:
    """Returned quantity / sold quantity of the orders placed in the period (the last 90
    days by default), overall, by product and by reason."""
    rates = selectors.return_rates(actor=actor_of(request), date_from=date_from, date_to=date_to)
    payload = {
        "date_from": rates.date_from,
        "date_to": rates.date_to,
        "sold": rates.sold,
        "returned": rates.returned,
        "rate": rates.rate,
        "by_product": [row.__dict__ | {"rate": row.rate} for row in rates.by_product],
        "by_reason": [row.__dict__ | {"rate": row.rate} for row in rates.by_reason],
    }
    return json_response(ReturnRatesOut.model_validate(payload).model_dump(mode="json"))


@router.post("/returns", response={201: ReturnOut, **ERRORS}, url_name="service_return_create")
def return_create(request: HttpRequest, payload: ReturnIn) -> HttpResponse:
    """Request the return of lines of one order."""
    actor = actor_of(request)

    def create() -> ReturnRequest:
        data = payload.model_dump(exclude={"lines"}, exclude_none=True)
        lines = [line.model_dump(exclude_none=True) for line in payload.lines]
        created = services.return_create(actor=actor, data=data, lines=lines)
        return selectors.return_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=ReturnOut,
        location=lambda obj: reverse("api:service_return_detail", args=[obj.pk]),
    )


@router.get(
    "/returns/{return_id}", response={200: ReturnOut, **ERRORS}, url_name="service_return_detail"
)
def return_detail(request: HttpRequest, return_id: int) -> HttpResponse:
    record = selectors.return_get(actor=actor_of(request), pk=return_id)
    return json_response(dump(ReturnOut, record), instance=record)


@router.post(
    "/returns/{return_id}/steps",
    response={200: ReturnOut, **ERRORS},
    url_name="service_return_step",
)
def return_step(request: HttpRequest, return_id: int, payload: ReturnStepIn) -> HttpResponse:
    """Move the return to its next step with the step's data. Send ``If-Match``."""
    actor = actor_of(request)
    current = selectors.return_get(actor=actor, pk=return_id)
    services.return_advance(
        actor=actor,
        return_id=current.pk,
        status=payload.status,
        data=payload.data,
        expected_version=if_match_version(request, current),
    )
    fresh = selectors.return_get(actor=actor, pk=current.pk)
    return json_response(dump(ReturnOut, fresh), instance=fresh)
