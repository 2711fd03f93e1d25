"""API of opportunities (mounted under /api/v1/sales).

Conventions (see ``vefa.common.api``): ``ETag`` on reads and writes, 412 on a stale
``If-Match``; ``Idempotency-Key`` and ``Location`` on creates; keyset pages with ``limit``
≤ 100; a record the caller may not see (or may see but not change) is 404. A stage change
goes through ``POST /sales/opportunities/{id}/move`` (or a PATCH with ``stage_id``), the
same service the board and the edit form use.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
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
from vefa.common.errors import NotFound
from vefa.sales.api.opportunities_schemas import (
    BidIn,
    BidOut,
    LineIn,
    LineOut,
    MoveIn,
    OpportunityDetailOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPageOut,
    OpportunityPatch,
    service_data,
)
from vefa.sales.selectors import opportunities as selectors
from vefa.sales.selectors.opportunities import OpportunityFilters
from vefa.sales.services import opportunities as services

router = Router(tags=["sales"])


def _fresh(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=actor_of(request), pk=pk)
    return json_response(dump(OpportunityDetailOut, opportunity), instance=opportunity)


@router.get(
    "/opportunities",
    response={200: OpportunityPageOut, **ERRORS},
    url_name="sales_opportunity_list",
)
def opportunity_list(
    request: HttpRequest,
    filters: Query[OpportunityFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
    sort: Literal["newest", "oldest", "amount", "name"] = "newest",
) -> HttpResponse:
    """The opportunities the caller may see, with the list page's filters."""
    page = selectors.opportunity_page(
        actor=actor_of(request),
        filters=filters,
        cursor=cursor,
        size=clamp_limit(limit),
        sort=sort,
    )
    return json_response(page_json(page_out(page, OpportunityOut)))


@router.post(
    "/opportunities",
    response={201: OpportunityDetailOut, **ERRORS},
    url_name="sales_opportunity_create",
)
def opportunity_create(request: HttpRequest, payload: OpportunityIn) -> HttpResponse:
    """Create an opportunity; without ``stage_id`` it starts in the pipeline's first stage,
    without ``amount`` (and with ``lines``) its amount is the lines' total."""
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    lines = [line.service() for line in payload.lines] if payload.lines is not None else None
    data.pop("lines", None)

    def create() -> Any:
        created = services.opportunity_create(
            actor=actor, data=service_data(data), lines=lines, tags=tags
        )
        return selectors.opportunity_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=OpportunityDetailOut,
        location=lambda obj: reverse("api:sales_opportunity_detail", args=[obj.pk]),
    )


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityDetailOut, **ERRORS},
    url_name="sales_opportunity_detail",
)
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    return _fresh(request, opportunity_id)


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityDetailOut, **ERRORS},
    url_name="sales_opportunity_update",
)
def opportunity_update(
    request: HttpRequest, opportunity_id: int, payload: OpportunityPatch
) -> HttpResponse:
    """Change fields; send ``If-Match`` with the ETag you read. ``stage_id`` moves it."""
    actor = actor_of(request)
    current = selectors.opportunity_get(actor=actor, pk=opportunity_id, detailed=False)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    with hidden_if_denied():
        services.opportunity_update(
            actor=actor,
            opportunity_id=current.pk,
            data=service_data(data),
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    return _fresh(request, current.pk)


@router.post(
    "/opportunities/{opportunity_id}/move",
    response={200: OpportunityDetailOut, **ERRORS},
    url_name="sales_opportunity_move",
)
def opportunity_move(request: HttpRequest, opportunity_id: int, payload: MoveIn) -> HttpResponse:
    """Move to another stage of the pipeline (the board's drag and drop). A lost stage
    needs ``lost_reason``; send ``If-Match`` to be told (412) when someone moved it first."""
    actor = actor_of(request)
    current = selectors.opportunity_get(actor=actor, pk=opportunity_id, detailed=False)
    with hidden_if_denied():
        services.opportunity_move(
            actor=actor,
            opportunity_id=current.pk,
            stage_id=payload.stage_id,
            expected_version=if_match_version(request, current),
            probability=payload.probability,
            lost_reason=payload.lost_reason,
            lost_note=payload.lost_note,
            lost_to=payload.lost_to_id,
        )
    return _fresh(request, current.pk)


@router.delete(
    "/opportunities/{opportunity_id}",
    response={204: None, **ERRORS},
    url_name="sales_opportunity_delete",
)
def opportunity_delete(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.opportunity_delete(actor=actor_of(request), opportunity_id=opportunity_id)
    return HttpResponse(status=204)


@router.post(
    "/opportunities/{opportunity_id}/lines",
    response={201: LineOut, **ERRORS},
    url_name="sales_opportunity_line_create",
)
def opportunity_line_create(
    request: HttpRequest, opportunity_id: int, payload: LineIn
) -> HttpResponse:
    """Add a product line; without ``unit_price`` the price lists decide."""
    actor = actor_of(request)
    with hidden_if_denied():
        line = services.opportunity_line_add(
            actor=actor, opportunity_id=opportunity_id, data=payload.service()
        )
    response = json_response(dump(LineOut, line), status=201)
    response["Location"] = reverse("api:sales_opportunity_detail", args=[opportunity_id])
    return response


@router.delete(
    "/opportunities/{opportunity_id}/lines/{line_id}",
    response={204: None, **ERRORS},
    url_name="sales_opportunity_line_delete",
)
def opportunity_line_delete(
    request: HttpRequest, opportunity_id: int, line_id: int
) -> HttpResponse:
    actor = actor_of(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    if not opportunity.lines.filter(pk=line_id).exists():
        raise NotFound(_("Not found."))
    with hidden_if_denied():
        services.opportunity_line_delete(actor=actor, line_id=line_id)
    return HttpResponse(status=204)


@router.post(
    "/opportunities/{opportunity_id}/bids",
    response={201: BidOut, **ERRORS},
    url_name="sales_opportunity_bid_create",
)
def opportunity_bid_create(
    request: HttpRequest, opportunity_id: int, payload: BidIn
) -> HttpResponse:
    """Record a competitor bidding for the opportunity, and their price."""
    actor = actor_of(request)
    with hidden_if_denied():
        bid = services.opportunity_bid_add(
            actor=actor,
            opportunity_id=opportunity_id,
            competitor_id=payload.competitor_id,
            price=str(payload.price) if payload.price is not None else None,
            currency=payload.currency,
            notes=payload.notes,
        )
    response = json_response(dump(BidOut, bid), status=201)
    response["Location"] = reverse("api:sales_opportunity_detail", args=[opportunity_id])
    return response


@router.delete(
    "/opportunities/{opportunity_id}/bids/{bid_id}",
    response={204: None, **ERRORS},
    url_name="sales_opportunity_bid_delete",
)
def opportunity_bid_delete(request: HttpRequest, opportunity_id: int, bid_id: int) -> HttpResponse:
    actor = actor_of(request)
    opportunity = selectors.opportunity_get(actor=actor, pk=opportunity_id)
    if not opportunity.competitor_bids.filter(pk=bid_id).exists():
        raise NotFound(_("Not found."))
    with hidden_if_denied():
        services.opportunity_bid_delete(actor=actor, bid_id=bid_id)
    return HttpResponse(status=204)
