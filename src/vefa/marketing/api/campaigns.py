"""API of campaigns under /api/v1/marketing/campaigns (conventions in ``vefa.common.api``):
the campaign with its audience and A/B variants, its costs, the audience size, the sending
progress and the actions launch / pause / resume / cancel."""

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
from vefa.customers.choices import ConsentPurpose
from vefa.marketing.choices import CampaignChannel, CampaignObjective, CampaignStatus
from vefa.marketing.downloads import letters_response
from vefa.marketing.selectors import campaigns as selectors
from vefa.marketing.selectors.reports import progress
from vefa.marketing.services import campaigns as services

router = Router(tags=["marketing"])


class VariantIn(Schema):
    code: str = Field(max_length=8)
    template: int
    subject: str = Field(default="", max_length=300)
    weight: int = Field(ge=1, le=100)


class CampaignIn(Schema):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    objective: CampaignObjective
    channel: CampaignChannel = CampaignChannel.EMAIL
    purpose: ConsentPurpose = ConsentPurpose.MARKETING
    segments: list[int] = []
    exclusions: list[int] = []
    control_percent: int = Field(default=10, ge=0, le=50)
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    budget: Decimal | None = Field(default=None, ge=0)
    currency: str = Field(default="TRY", max_length=3)
    attribution_days: int | None = Field(default=None, ge=1, le=365)
    from_name: str = Field(default="", max_length=100)
    from_email: str = Field(default="", max_length=254)
    reply_to: str = Field(default="", max_length=254)
    variants: list[VariantIn] = []
    tags: list[str] | None = None


class CampaignPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    objective: CampaignObjective | None = None
    channel: CampaignChannel | None = None
    purpose: ConsentPurpose | None = None
    segments: list[int] | None = None
    exclusions: list[int] | None = None
    control_percent: int | None = Field(default=None, ge=0, le=50)
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    budget: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, max_length=3)
    attribution_days: int | None = Field(default=None, ge=1, le=365)
    from_name: str | None = Field(default=None, max_length=100)
    from_email: str | None = Field(default=None, max_length=254)
    reply_to: str | None = Field(default=None, max_length=254)
    variants: list[VariantIn] | None = None
    tags: list[str] | None = None


class VariantOut(Schema):
    code: str
    template_id: int
    subject: str
    weight: int


class CostOut(Schema):
    id: int
    incurred_on: datetime.date
    description: str
    amount: Decimal
    currency: str


class CampaignOut(Schema):
    id: int
    name: str
    description: str
    objective: str
    channel: str
    purpose: str
    status: str
    segments: list[int]
    exclusions: list[int]
    control_percent: int
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    budget: Decimal | None
    currency: str
    attribution_days: int | None
    from_name: str
    from_email: str
    reply_to: str
    owner_id: int | None
    variants: list[VariantOut]
    costs: list[CostOut]
    version: int
    updated_at: datetime.datetime

    @staticmethod
    def resolve_segments(obj: Any) -> list[int]:
        return sorted(s.pk for s in obj.segments.all())

    @staticmethod
    def resolve_exclusions(obj: Any) -> list[int]:
        return sorted(s.pk for s in obj.exclusions.all())

    @staticmethod
    def resolve_variants(obj: Any) -> list[dict[str, Any]]:
        return [
            {"code": v.code, "template_id": v.template_id, "subject": v.subject, "weight": v.weight}
            for v in obj.variants.all()
        ]

    @staticmethod
    def resolve_costs(obj: Any) -> list[Any]:
        return list(obj.costs.all())


class CampaignPageOut(Schema):
    items: list[CampaignOut]
    next_cursor: str | None
    previous_cursor: str | None


class CostIn(Schema):
    incurred_on: datetime.date
    description: str = Field(max_length=200)
    amount: Decimal = Field(ge=0)
    currency: str = Field(default="", max_length=3)


class AudienceOut(Schema):
    customers: int
    control_group: int


class ProgressOut(Schema):
    status: str
    recipients: dict[str, int]


def _data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    for key in ("objective", "channel", "purpose"):
        if data.get(key) is not None:
            data[key] = str(data[key])
    if partial:
        data = {
            k: v
            for k, v in data.items()
            if v is not None or k in ("starts_at", "ends_at", "budget", "attribution_days")
        }
    if data.get("tags") is None:
        data.pop("tags", None)
    return data


@router.get("/campaigns", response={200: CampaignPageOut, **ERRORS}, url_name="marketing_campaigns")
def campaign_list(
    request: HttpRequest,
    q: str = Query("", max_length=200),
    status: CampaignStatus | None = None,
    channel: CampaignChannel | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Campaigns, newest first."""
    page = selectors.campaign_list(
        actor=actor_of(request),
        q=q,
        status=str(status or ""),
        channel=str(channel or ""),
        cursor=cursor,
        size=clamp_limit(limit),
    )
    items = [selectors.campaign_get(actor=actor_of(request), pk=c.pk) for c in page.items]
    page.items = items
    return json_response(page_json(page_out(page, CampaignOut)))


@router.post(
    "/campaigns", response={201: CampaignOut, **ERRORS}, url_name="marketing_campaign_create"
)
def campaign_create(request: HttpRequest, payload: CampaignIn) -> HttpResponse:
    """A new draft campaign; the variants' shares must add up to 100."""
    actor = actor_of(request)
    data = _data(payload, partial=False)

    def create() -> Any:
        with hidden_if_denied():
            created = services.campaign_create(actor=actor, data=data)
        return selectors.campaign_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=CampaignOut,
        location=lambda obj: reverse("api:marketing_campaign_detail", args=[obj.pk]),
    )


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_detail",
)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(actor=actor_of(request), pk=campaign_id)
    return json_response(dump(CampaignOut, campaign), instance=campaign)


@router.patch(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_update",
)
def campaign_update(request: HttpRequest, campaign_id: int, payload: CampaignPatch) -> HttpResponse:
    """Change a draft or scheduled campaign (422 otherwise). ``variants`` replaces them all.
    Send ``If-Match`` with the ETag you read (412 when stale)."""
    actor = actor_of(request)
    current = selectors.campaign_get(actor=actor, pk=campaign_id)
    with hidden_if_denied():
        services.campaign_update(
            actor=actor,
            campaign_id=current.pk,
            data=_data(payload, partial=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.campaign_get(actor=actor, pk=current.pk)
    return json_response(dump(CampaignOut, fresh), instance=fresh)


@router.delete(
    "/campaigns/{campaign_id}",
    response={204: None, **ERRORS},
    url_name="marketing_campaign_delete",
)
def campaign_delete(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Delete a draft that never sent; anything else is cancelled instead."""
    actor = actor_of(request)
    current = selectors.campaign_get(actor=actor, pk=campaign_id)
    with hidden_if_denied():
        services.campaign_delete(actor=actor, campaign_id=current.pk)
    return HttpResponse(status=204)


@router.post(
    "/campaigns/{campaign_id}/costs",
    response={201: CostOut, **ERRORS},
    url_name="marketing_campaign_cost_add",
)
def cost_add(request: HttpRequest, campaign_id: int, payload: CostIn) -> HttpResponse:
    """Record an actual cost (in the campaign currency unless ``currency`` is given)."""
    actor = actor_of(request)
    current = selectors.campaign_get(actor=actor, pk=campaign_id)
    data = payload.model_dump()
    if not data.get("currency"):
        data.pop("currency")
    with hidden_if_denied():
        cost = services.cost_add(actor=actor, campaign_id=current.pk, data=data)
    return json_response(dump(CostOut, cost), status=201)


@router.delete(
    "/campaigns/{campaign_id}/costs/{cost_id}",
    response={204: None, **ERRORS},
    url_name="marketing_campaign_cost_remove",
)
def cost_remove(request: HttpRequest, campaign_id: int, cost_id: int) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.campaign_get(actor=actor, pk=campaign_id)
    with hidden_if_denied():
        services.cost_remove(actor=actor, campaign_id=current.pk, cost_id=cost_id)
    return HttpResponse(status=204)


@router.get(
    "/campaigns/{campaign_id}/audience",
    response={200: AudienceOut, **ERRORS},
    url_name="marketing_campaign_audience",
)
def campaign_audience(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """How many customers the audience holds now, and about how many are held out."""
    campaign = selectors.campaign_get(actor=actor_of(request), pk=campaign_id)
    size = selectors.audience_size(campaign)
    return json_response(
        {"customers": size, "control_group": size * campaign.control_percent // 100}
    )


@router.get(
    "/campaigns/{campaign_id}/progress",
    response={200: ProgressOut, **ERRORS},
    url_name="marketing_campaign_progress",
)
def campaign_progress(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Recipients per status while (and after) the campaign sends."""
    campaign = selectors.campaign_get(actor=actor_of(request), pk=campaign_id)
    return json_response({"status": campaign.status, "recipients": progress(campaign=campaign)})


@router.get(
    "/campaigns/{campaign_id}/letters",
    response={200: None, **ERRORS},
    url_name="marketing_campaign_letters",
)
def campaign_letters(request: HttpRequest, campaign_id: int, format: str = "csv") -> HttpResponse:
    """The print (mail-merge) file of a letter campaign's approved recipients, CSV or XLSX;
    needs the right to change the campaign (postal addresses are personal data)."""
    return letters_response(actor_of(request), campaign_id, format)


def _action(request: HttpRequest, campaign_id: int, name: str) -> HttpResponse:
    from vefa.marketing.services import sending

    actor = actor_of(request)
    current = selectors.campaign_get(actor=actor, pk=campaign_id)
    run = getattr(sending, f"campaign_{name}")
    with hidden_if_denied():
        run(actor=actor, campaign_id=current.pk)
    fresh = selectors.campaign_get(actor=actor, pk=current.pk)
    return json_response(dump(CampaignOut, fresh), instance=fresh)


@router.post(
    "/campaigns/{campaign_id}/launch",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_launch",
)
def campaign_launch(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Draw the audience and start sending (or schedule it for ``starts_at``)."""
    return _action(request, campaign_id, "launch")


@router.post(
    "/campaigns/{campaign_id}/pause",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_pause",
)
def campaign_pause(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _action(request, campaign_id, "pause")


@router.post(
    "/campaigns/{campaign_id}/resume",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_resume",
)
def campaign_resume(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _action(request, campaign_id, "resume")


@router.post(
    "/campaigns/{campaign_id}/cancel",
    response={200: CampaignOut, **ERRORS},
    url_name="marketing_campaign_cancel",
)
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _action(request, campaign_id, "cancel")
