"""API of the suppressed addresses under /api/v1/marketing/suppressions.

Everyone may read the list; marketers and administrators add and remove addresses
(``POLICIES["marketing.settings"]``), anyone else gets 404 on writes. Removing needs a
reason, kept in the change log.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, clamp_limit, dump, json_response, page_json, page_out
from vefa.common.errors import NotFound, PermissionDenied
from vefa.marketing.selectors.sending import suppression_page
from vefa.marketing.services import suppressions as services

router = Router(tags=["marketing"])


class SuppressionIn(Schema):
    channel: str
    address: str
    note: str = ""


class SuppressionRemoveIn(Schema):
    reason: str


class SuppressionOut(Schema):
    id: int
    channel: str
    address: str
    reason: str
    soft_bounces: int
    customer_id: int | None
    campaign_id: int | None
    note: str
    created_at: datetime.datetime


class SuppressionPageOut(Schema):
    items: list[SuppressionOut]
    next_cursor: str | None
    previous_cursor: str | None


@router.get(
    "/suppressions",
    response={200: SuppressionPageOut, **ERRORS},
    url_name="marketing_suppressions",
)
def suppression_list(
    request: HttpRequest,
    q: str = Query("", max_length=254),
    channel: str = Query("", max_length=8),
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Suppressed addresses, newest first; ``q`` matches the beginning of the address."""
    page = suppression_page(
        actor=actor_of(request), cursor=cursor, query=q, channel=channel, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, SuppressionOut)))


@router.post(
    "/suppressions",
    response={201: SuppressionOut, **ERRORS},
    url_name="marketing_suppression_add",
)
def suppression_add(request: HttpRequest, body: SuppressionIn) -> HttpResponse:
    """Suppress an address by hand (e-mail lower-cased, phone numbers in E.164)."""
    try:
        row = services.suppression_add(
            actor=actor_of(request), channel=body.channel, address=body.address, note=body.note
        )
    except PermissionDenied:
        raise NotFound("Not found.") from None
    return json_response(dump(SuppressionOut, row), status=201)


@router.post(
    "/suppressions/{suppression_id}/remove",
    response={204: None, **ERRORS},
    url_name="marketing_suppression_remove",
)
def suppression_remove(
    request: HttpRequest, suppression_id: int, body: SuppressionRemoveIn
) -> HttpResponse:
    """Let the address receive messages again; ``reason`` is required."""
    try:
        services.suppression_remove(
            actor=actor_of(request), suppression_id=suppression_id, reason=body.reason
        )
    except PermissionDenied:
        raise NotFound("Not found.") from None
    return HttpResponse(status=204)
