"""API of field sales and the sales analysis (mounted under /api/v1/sales).

Planning a visit answers like creating any activity (201, ``Location``, ``ETag``,
``Idempotency-Key``); logging it takes ``If-Match`` and answers 412 when the visit changed
since it was read. The analysis answers the page's figures as JSON: amounts as decimal
strings in the reporting currency.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, create_response, if_match_version, json_response
from vefa.common.api import dump as _dump
from vefa.common.errors import ValidationFailed
from vefa.interactions.filters import user_zone
from vefa.interactions.schemas import ActivityOut
from vefa.interactions.selectors import activity_get
from vefa.sales.money import check_currency
from vefa.sales.selectors.analysis import MAX_RANGE_DAYS, sales_analysis
from vefa.sales.selectors.field import my_day, visit_get
from vefa.sales.services.field import visit_log, visit_plan

router = Router(tags=["sales"])


class VisitIn(Schema):
    customer_id: int
    due_at: datetime.datetime
    subject: str | None = Field(None, max_length=300)
    location: str | None = Field(None, max_length=200, description="default: primary address")
    owner_id: int | None = None
    description: str = Field("", max_length=10_000)
    reminder_minutes: list[int] | None = None


class VisitLogIn(Schema):
    outcome: str = Field("", max_length=300)
    notes: str = Field("", max_length=10_000)


class FollowUpOut(Schema):
    id: int
    name: str
    customer_id: int
    stage_id: int
    follow_up_date: datetime.date | None
    next_step: str
    version: int


class MyDayOut(Schema):
    today: datetime.date
    visits: list[ActivityOut]
    calls: list[ActivityOut]
    overdue: list[ActivityOut]
    follow_ups: list[FollowUpOut]


class RankedOut(Schema):
    key: str = Field(description="the id or code of the group; __other__ for the rest")
    label: str
    amount: Decimal
    count: int


class RevenueOut(Schema):
    total: Decimal
    orders: int
    by_rep: list[RankedOut]
    by_team: list[RankedOut]
    by_product: list[RankedOut]
    by_category: list[RankedOut]
    by_country: list[RankedOut]
    by_city: list[RankedOut]
    by_lifecycle: list[RankedOut]
    by_tag: list[RankedOut]


class CompetitorOut(Schema):
    key: int
    label: str
    won: int
    lost: int
    rate: Decimal | None


class ClosedOut(Schema):
    won: int
    lost: int
    win_rate: Decimal | None = Field(description="per cent")
    won_amount: Decimal
    cycle_days: Decimal | None = Field(description="mean days from creation to won")
    lost_reasons: list[RankedOut]
    competitors: list[CompetitorOut]


class FunnelStageOut(Schema):
    key: int
    label: str
    kind: str
    count: int
    share: Decimal | None = Field(description="per cent of the cohort")


class FunnelOut(Schema):
    pipeline: int | None
    cohort: int
    stages: list[FunnelStageOut]


class StaffOut(Schema):
    key: int
    label: str
    interactions: dict[str, int]
    completed: dict[str, int]
    total: int


class MonthOut(Schema):
    month: datetime.date
    forecast: Decimal
    actual: Decimal
    forecast_count: int
    actual_count: int


class AnalysisOut(Schema):
    currency: str
    start: datetime.date
    end: datetime.date
    missing_currencies: list[str]
    revenue: RevenueOut
    closed: ClosedOut
    funnel: FunnelOut
    activities: list[StaffOut]
    forecast: list[MonthOut]
    generated_at: datetime.datetime
    cached: bool


def _visit(actor: Any, pk: int) -> Any:
    return activity_get(actor=actor, pk=pk)


@router.post("/visits", response={201: ActivityOut, **ERRORS}, url_name="sales_visit_create")
def visit_create(request: HttpRequest, payload: VisitIn) -> HttpResponse:
    """Plan a customer visit; the location defaults to the customer's primary address."""
    actor = actor_of(request)
    data = payload.model_dump()

    def create() -> Any:
        created = visit_plan(actor=actor, **data)
        return _visit(actor, created.pk)

    return create_response(
        request,
        create=create,
        schema=ActivityOut,
        location=lambda obj: reverse("api:activity_detail", args=[obj.pk]),
    )


@router.post(
    "/visits/{activity_id}/log", response={200: ActivityOut, **ERRORS}, url_name="sales_visit_log"
)
def visit_log_api(request: HttpRequest, activity_id: int, payload: VisitLogIn) -> HttpResponse:
    """Log a planned visit: it is done and one ``visit`` interaction is recorded."""
    actor = actor_of(request)
    current = visit_get(actor=actor, pk=activity_id)
    visit_log(
        actor=actor,
        activity_id=current.pk,
        outcome=payload.outcome,
        notes=payload.notes,
        expected_version=if_match_version(request, current),
    )
    fresh = _visit(actor, current.pk)
    return json_response(_dump(ActivityOut, fresh), instance=fresh)


@router.get("/my-day", response={200: MyDayOut, **ERRORS}, url_name="sales_my_day")
def my_day_api(request: HttpRequest) -> HttpResponse:
    """The caller's day: today's visits and calls, overdue activities and follow-ups."""
    actor = actor_of(request)
    day = my_day(actor=actor)
    from django.db.models import prefetch_related_objects

    activities = [*day.visits, *day.calls, *day.overdue]
    prefetch_related_objects(activities, "reminders", "attendees", "tags")
    return json_response(
        {
            "today": day.today.isoformat(),
            "visits": [_dump(ActivityOut, a) for a in day.visits],
            "calls": [_dump(ActivityOut, a) for a in day.calls],
            "overdue": [_dump(ActivityOut, a) for a in day.overdue],
            "follow_ups": [_dump(FollowUpOut, o) for o in day.follow_ups],
        }
    )


@router.get("/analysis", response={200: AnalysisOut, **ERRORS}, url_name="sales_analysis")
def analysis_api(
    request: HttpRequest,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    currency: str = Query("TRY", min_length=3, max_length=3),
    pipeline: int | None = None,
) -> HttpResponse:
    """The sales analysis for ``start``–``end`` (inclusive, the caller's days; default the
    last 12 months) in ``currency``. 404 for roles that see no opportunities."""
    actor = actor_of(request)
    today = timezone.now().astimezone(user_zone(actor)).date()
    end = end or today
    start = start or (end - datetime.timedelta(days=364))
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["end"] = [_("The end must not be before the start.")]
    if (end - start).days > MAX_RANGE_DAYS:
        errors["start"] = [_("At most %(n)d days.") % {"n": MAX_RANGE_DAYS}]
    try:
        code = check_currency(currency)
    except ValueError:
        errors["currency"] = [_("Enter an ISO 4217 currency code, e.g. TRY.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    report = sales_analysis(actor=actor, start=start, end=end, currency=code, pipeline_id=pipeline)
    body = dict(report)
    body["revenue"] = {
        k: ([dict(r, key=_key(r["key"])) for r in v] if isinstance(v, list) else v)
        for k, v in report["revenue"].items()
    }
    closed = dict(report["closed"])
    closed["lost_reasons"] = [dict(r, key=_key(r["key"])) for r in closed["lost_reasons"]]
    body["closed"] = closed
    return json_response(_dump(AnalysisOut, body))


def _key(value: Any) -> str:
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    return "" if value is None else str(value)
