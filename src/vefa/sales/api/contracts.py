"""API of contracts under /api/v1/sales/contracts (conventions in ``vefa.common.api``).

Reps reach their own contracts, managers their team's, service agents read all; marketing
none. A contract the caller may not reach is 404, also when they may read but not change it.
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
    hidden_if_denied,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.sales.choices import BillingPeriod, ContractStatus
from vefa.sales.selectors import contracts as selectors
from vefa.sales.selectors.contracts import ContractFilters
from vefa.sales.services import contracts as services

router = Router(tags=["sales"])


class ContractIn(Schema):
    customer_id: int
    title: str = Field(max_length=200)
    start_date: datetime.date
    end_date: datetime.date
    value: Decimal = Decimal(0)
    currency: str = Field(default="TRY", max_length=3)
    billing_period: BillingPeriod = BillingPeriod.YEARLY
    renewal_date: datetime.date | None = None
    remind_days_before: int = Field(default=30, ge=0, le=365)
    auto_renew: bool = False
    status: ContractStatus = ContractStatus.DRAFT
    owner_id: int | None = None
    team_id: int | None = None
    notes: str = Field(default="", max_length=20_000)
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class ContractPatch(Schema):
    title: str | None = Field(default=None, max_length=200)
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    value: Decimal | None = None
    currency: str | None = Field(default=None, max_length=3)
    billing_period: BillingPeriod | None = None
    renewal_date: datetime.date | None = None
    remind_days_before: int | None = Field(default=None, ge=0, le=365)
    auto_renew: bool | None = None
    status: ContractStatus | None = None
    owner_id: int | None = None
    team_id: int | None = None
    notes: str | None = Field(default=None, max_length=20_000)
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class ContractOut(Schema):
    id: int
    number: str
    title: str
    customer_id: int
    owner_id: int | None
    team_id: int | None
    status: str
    start_date: datetime.date
    end_date: datetime.date
    value: Decimal
    currency: str
    billing_period: str
    renewal_date: datetime.date | None
    remind_days_before: int
    auto_renew: bool
    reminded_at: datetime.datetime | None
    renewed_by_id: int | None
    notes: str
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContractPageOut(Schema):
    items: list[ContractOut]
    next_cursor: str | None
    previous_cursor: str | None


class RenewalOpportunityOut(Schema):
    id: int
    name: str
    pipeline_id: int
    stage_id: int
    status: str
    amount: Decimal
    currency: str
    expected_close_date: datetime.date | None
    owner_id: int | None
    team_id: int | None
    renewal_of_id: int | None


@router.get("/contracts", response={200: ContractPageOut, **ERRORS}, url_name="sales_contracts")
def contract_list(
    request: HttpRequest,
    filters: Query[ContractFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Contracts the caller may see, newest first (by renewal date with ``renewal_within``)."""
    page = selectors.contract_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, ContractOut)))


@router.post("/contracts", response={201: ContractOut, **ERRORS}, url_name="sales_contract_create")
def contract_create(request: HttpRequest, payload: ContractIn) -> HttpResponse:
    """Create a contract; the number is given out by Vefa, the renewal date defaults to the
    end date."""
    actor = actor_of(request)
    data = payload.model_dump()
    data["value"] = str(data["value"])

    def create() -> Any:
        with hidden_if_denied():
            created = services.contract_create(actor=actor, **data)
        return selectors.contract_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=ContractOut,
        location=lambda obj: reverse("api:sales_contract_detail", args=[obj.pk]),
    )


@router.get(
    "/contracts/{contract_id}",
    response={200: ContractOut, **ERRORS},
    url_name="sales_contract_detail",
)
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = selectors.contract_get(actor=actor_of(request), pk=contract_id)
    return json_response(dump(ContractOut, contract), instance=contract)


@router.patch(
    "/contracts/{contract_id}",
    response={200: ContractOut, **ERRORS},
    url_name="sales_contract_update",
)
def contract_update(request: HttpRequest, contract_id: int, payload: ContractPatch) -> HttpResponse:
    """Change a contract; send ``If-Match`` with the ETag you read (412 when stale)."""
    actor = actor_of(request)
    current = selectors.contract_get(actor=actor, pk=contract_id)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    if data.get("value") is not None:
        data["value"] = str(data["value"])
    with hidden_if_denied():
        services.contract_update(
            actor=actor,
            contract_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    fresh = selectors.contract_get(actor=actor, pk=current.pk)
    return json_response(dump(ContractOut, fresh), instance=fresh)


@router.post(
    "/contracts/{contract_id}/renew-now",
    response={200: RenewalOpportunityOut, **ERRORS},
    url_name="sales_contract_renew_now",
)
def contract_renew_now(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Open the contract's renewal opportunity now; returns the one already open if any."""
    with hidden_if_denied():
        opportunity = services.contract_renew_now(actor=actor_of(request), contract_id=contract_id)
    return json_response(dump(RenewalOpportunityOut, opportunity))


@router.post(
    "/contracts/{contract_id}/renew",
    response={201: ContractOut, **ERRORS},
    url_name="sales_contract_renew",
)
def contract_renew(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Create the next term after the renewal opportunity was won; the old contract becomes
    renewed. Send ``If-Match`` with the contract's ETag to be sure it did not change."""
    actor = actor_of(request)
    current = selectors.contract_get(actor=actor, pk=contract_id)
    with hidden_if_denied():
        successor = services.contract_renew(
            actor=actor,
            contract_id=current.pk,
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.contract_get(actor=actor, pk=successor.pk)
    response = json_response(dump(ContractOut, fresh), status=201, instance=fresh)
    response["Location"] = reverse("api:sales_contract_detail", args=[fresh.pk])
    return response
