"""API of loyalty points and referrals under /api/v1/marketing (conventions in
``vefa.common.api``).

A customer's points are read by whoever may see the customer; redeeming needs the right to
change the customer, adjusting the right to keep the loyalty programme.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    dump,
    json_response,
    page_json,
    page_out,
)
from vefa.customers.selectors import customer_get
from vefa.marketing.selectors.loyalty import customer_points, points_history
from vefa.marketing.selectors.referrals import referral_list
from vefa.marketing.services import loyalty as services
from vefa.marketing.services.referrals import referral_code, referral_create

router = Router(tags=["marketing"])


class PointsEntryOut(Schema):
    id: int
    kind: str
    points: int
    description: str
    occurred_at: datetime.datetime
    expires_at: datetime.datetime | None
    order_id: int | None


class PointsOut(Schema):
    customer_id: int
    programme: str | None
    balance: int
    value: Decimal
    currency: str | None
    tier: str | None
    referral_code: str
    entries: list[PointsEntryOut]


class PointsPageOut(Schema):
    items: list[PointsEntryOut]
    next_cursor: str | None
    previous_cursor: str | None


class PointsChangeIn(Schema):
    points: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(max_length=300)


class ReferralIn(Schema):
    referred: int
    referrer: int | None = None
    code: str = Field(default="", max_length=32)


class ReferralOut(Schema):
    id: int
    referrer_id: int
    referred_id: int
    code: str
    created_at: datetime.datetime
    rewarded_at: datetime.datetime | None


class ReferralPageOut(Schema):
    items: list[ReferralOut]
    next_cursor: str | None
    previous_cursor: str | None


def _points(request: HttpRequest, customer_id: int, status: int = 200) -> HttpResponse:
    customer, summary = customer_points(actor=actor_of(request), customer_id=customer_id)
    program = summary.program
    return json_response(
        {
            "customer_id": customer.pk,
            "programme": program.name if program else None,
            "balance": summary.balance,
            "value": str(summary.value),
            "currency": program.currency if program else None,
            "tier": summary.tier.name if summary.tier else None,
            "referral_code": referral_code(customer.pk),
            "entries": [dump(PointsEntryOut, entry) for entry in summary.entries],
        },
        status=status,
    )


@router.get(
    "/customers/{customer_id}/points",
    response={200: PointsOut, **ERRORS},
    url_name="marketing_customer_points",
)
def points(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Balance, its value, tier, referral code and the ten latest entries."""
    return _points(request, customer_id)


@router.get(
    "/customers/{customer_id}/points/history",
    response={200: PointsPageOut, **ERRORS},
    url_name="marketing_customer_points_history",
)
def history(
    request: HttpRequest,
    customer_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    page = points_history(
        actor=actor_of(request), customer_id=customer_id, cursor=cursor, limit=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, PointsEntryOut)))


@router.post(
    "/customers/{customer_id}/points/redeem",
    response={200: PointsOut, **ERRORS},
    url_name="marketing_customer_points_redeem",
)
def redeem(request: HttpRequest, customer_id: int, payload: PointsChangeIn) -> HttpResponse:
    """Spend points (refused beyond the balance or below the programme's minimum)."""
    services.points_redeem(
        actor=actor_of(request),
        customer_id=customer_id,
        points=payload.points,
        reason=payload.reason,
    )
    return _points(request, customer_id)


@router.post(
    "/customers/{customer_id}/points/adjust",
    response={200: PointsOut, **ERRORS},
    url_name="marketing_customer_points_adjust",
)
def adjust(request: HttpRequest, customer_id: int, payload: PointsChangeIn) -> HttpResponse:
    """Add (or, negative, take away) points by hand with a reason; written to the change log."""
    customer_get(actor=actor_of(request), pk=customer_id)
    services.points_adjust(
        actor=actor_of(request),
        customer_id=customer_id,
        points=payload.points,
        reason=payload.reason,
    )
    return _points(request, customer_id)


@router.get("/referrals", response={200: ReferralPageOut, **ERRORS}, url_name="marketing_referrals")
def referrals(
    request: HttpRequest,
    rewarded: bool | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    page = referral_list(
        actor=actor_of(request),
        rewarded="" if rewarded is None else ("true" if rewarded else "false"),
        cursor=cursor,
        limit=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, ReferralOut)))


@router.post(
    "/referrals", response={201: ReferralOut, **ERRORS}, url_name="marketing_referral_create"
)
def referral_add(request: HttpRequest, payload: ReferralIn) -> HttpResponse:
    """Record who brought a customer: the referrer by id or by their referral code."""
    referral = referral_create(
        actor=actor_of(request),
        referred_id=payload.referred,
        referrer_id=payload.referrer,
        code=payload.code,
    )
    return json_response(dump(ReferralOut, referral), status=201)
