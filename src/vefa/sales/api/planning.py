"""API of sales targets (with attainment to date) and the forecast, under /api/v1/sales.

Targets: a rep reads their own, a manager reads and sets their team's, an administrator
everyone's. The forecast covers what the caller may see (``sales.opportunity``).
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
    hidden_if_denied,
    if_match_version,
    json_response,
)
from vefa.sales.choices import PeriodKind, TargetMetric
from vefa.sales.selectors.planning import (
    Attainment,
    TargetFilters,
    attainments,
    target_get,
    target_page,
)
from vefa.sales.selectors.planning_forecast import Forecast, ForecastFilters, forecast
from vefa.sales.services import planning as services

router = Router(tags=["sales"])


class TargetIn(Schema):
    user_id: int | None = None
    team_id: int | None = None
    period_kind: PeriodKind = PeriodKind.MONTH
    period_start: datetime.date
    metric: TargetMetric = TargetMetric.REVENUE
    amount: Decimal
    currency: str = Field(default="", max_length=3)


class TargetPatch(Schema):
    amount: Decimal | None = None
    currency: str | None = Field(default=None, max_length=3)


class TargetOut(Schema):
    id: int
    user_id: int | None
    team_id: int | None
    period_kind: str
    period_start: datetime.date
    period_end: datetime.date
    metric: str
    amount: Decimal
    currency: str
    achieved: Decimal
    percent: Decimal
    missing_currencies: list[str]
    version: int


class TargetPageOut(Schema):
    items: list[TargetOut]
    next_cursor: str | None
    previous_cursor: str | None


class ForecastMonthOut(Schema):
    month: datetime.date
    weighted: Decimal
    commit: Decimal
    best_case: Decimal
    closed_won: Decimal
    forecast: Decimal
    target: Decimal | None
    gap: Decimal | None
    percent_of_target: Decimal | None
    history: Decimal
    open_deals: int


class PipelineHistoryOut(Schema):
    pipeline_id: int
    name: str
    won: int
    lost: int
    win_rate: Decimal | None
    cycle_days: Decimal | None


class StageHistoryOut(Schema):
    stage_id: int
    pipeline_id: int
    name: str
    days: Decimal
    deals: int


class ForecastOut(Schema):
    currency: str
    months: list[ForecastMonthOut]
    totals: ForecastMonthOut
    missing_currencies: list[str]
    undated_open: int
    pipelines: list[PipelineHistoryOut]
    stages: list[StageHistoryOut]


def _target_json(item: Attainment) -> dict[str, Any]:
    target = item.target
    return TargetOut(
        id=target.pk,
        user_id=target.user_id,
        team_id=target.team_id,
        period_kind=target.period_kind,
        period_start=target.period_start,
        period_end=target.period_end,
        metric=target.metric,
        amount=target.amount,
        currency=target.currency,
        achieved=item.achieved,
        percent=item.percent,
        missing_currencies=item.missing,
        version=target.version,
    ).model_dump(mode="json")


def _month_json(month: Any) -> dict[str, Any]:
    return {
        "month": month.month,
        "weighted": month.weighted,
        "commit": month.commit,
        "best_case": month.best_case,
        "closed_won": month.closed_won,
        "forecast": month.forecast,
        "target": month.target,
        "gap": month.gap,
        "percent_of_target": month.percent_of_target,
        "history": month.history,
        "open_deals": month.open_deals,
    }


def forecast_json(result: Forecast) -> dict[str, Any]:
    return ForecastOut(
        currency=result.currency,
        months=[_month_json(m) for m in result.months],  # type: ignore[misc]
        totals=_month_json(result.totals),  # type: ignore[arg-type]
        missing_currencies=result.missing,
        undated_open=result.undated_open,
        pipelines=[
            {  # type: ignore[misc]
                "pipeline_id": p.pipeline_id,
                "name": p.name,
                "won": p.won,
                "lost": p.lost,
                "win_rate": p.win_rate,
                "cycle_days": p.cycle_days,
            }
            for p in result.pipelines
        ],
        stages=[
            {  # type: ignore[misc]
                "stage_id": s.stage_id,
                "pipeline_id": s.pipeline_id,
                "name": s.name,
                "days": s.days,
                "deals": s.deals,
            }
            for s in result.stages
        ],
    ).model_dump(mode="json")


@router.get("/targets", response={200: TargetPageOut, **ERRORS}, url_name="sales_targets")
def target_list(
    request: HttpRequest,
    filters: Query[TargetFilters],
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Targets the caller may see, latest period first, each with its attainment to date."""
    page = target_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(
        {
            "items": [_target_json(a) for a in attainments(page.items)],
            "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor,
        }
    )


class _TargetView:
    """``create_response`` dumps through ``TargetOut.from_orm``; this adapter gives it the
    attainment fields."""

    def __init__(self, item: Attainment) -> None:
        self.pk = item.target.pk
        self.version = item.target.version
        self._data = _target_json(item)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None


@router.post("/targets", response={201: TargetOut, **ERRORS}, url_name="sales_target_create")
def target_create(request: HttpRequest, payload: TargetIn) -> HttpResponse:
    """Set a target for a user or a team (exactly one); ``period_start`` may be any day of
    the period."""
    actor = actor_of(request)
    data = payload.model_dump()
    data["amount"] = str(data["amount"])

    def create() -> Any:
        with hidden_if_denied():
            created = services.target_create(actor=actor, **data)
        return _TargetView(attainments([target_get(actor=actor, pk=created.pk)])[0])

    return create_response(
        request,
        create=create,
        schema=TargetOut,
        location=lambda obj: reverse("api:sales_target_detail", args=[obj.pk]),
    )


@router.get(
    "/targets/{target_id}", response={200: TargetOut, **ERRORS}, url_name="sales_target_detail"
)
def target_detail(request: HttpRequest, target_id: int) -> HttpResponse:
    target = target_get(actor=actor_of(request), pk=target_id)
    return json_response(_target_json(attainments([target])[0]), instance=target)


@router.patch(
    "/targets/{target_id}", response={200: TargetOut, **ERRORS}, url_name="sales_target_update"
)
def target_update(request: HttpRequest, target_id: int, payload: TargetPatch) -> HttpResponse:
    """Change a target's amount or currency; send ``If-Match`` (412 when stale)."""
    actor = actor_of(request)
    current = target_get(actor=actor, pk=target_id)
    data = {
        k: (str(v) if k == "amount" else v)
        for k, v in payload.model_dump(exclude_unset=True).items()
        if v is not None
    }
    with hidden_if_denied():
        services.target_update(
            actor=actor,
            target_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
        )
    fresh = target_get(actor=actor, pk=current.pk)
    return json_response(_target_json(attainments([fresh])[0]), instance=fresh)


@router.delete(
    "/targets/{target_id}", response={204: None, **ERRORS}, url_name="sales_target_delete"
)
def target_delete(request: HttpRequest, target_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.target_delete(actor=actor_of(request), target_id=target_id)
    return HttpResponse(status=204)


@router.get("/forecast", response={200: ForecastOut, **ERRORS}, url_name="sales_forecast")
def forecast_api(request: HttpRequest, filters: Query[ForecastFilters]) -> HttpResponse:
    """The next twelve months by expected close month: weighted pipeline, commit, best case,
    closed won, target, forecast against target and the history-based forecast, in the
    reporting ``currency`` (converted by exchange rate; currencies without one are listed in
    ``missing_currencies``)."""
    return json_response(forecast_json(forecast(actor=actor_of(request), filters=filters)))
