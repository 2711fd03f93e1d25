"""The sales forecast: the next twelve months by expected close date, for an actor.

Per month (of ``expected_close_date``, open opportunities not marked "omitted"):

- **weighted**: Σ amount × probability / 100;
- **commit**: Σ amount of the "commit" category; **best case**: commit + "best case";
- **closed won**: won deals closed in the month (so far, for the current month);
- **target**: revenue targets of the scope, a quarter's or a year's spread evenly over its
  months (a user's targets when one owner is chosen, a team's for a team, the actor's own for
  a rep, the actor's team's for a manager, every team's for an all-records role);
- **forecast** = closed won + weighted, and the gap and share against the target.

**History-based check** (the last twelve months of the same scope, closed by ``closed_at``):

- *win rate* per pipeline = won ÷ (won + lost) deals; a pipeline with fewer than
  ``MIN_HISTORY`` closed deals has no history to go by, and its weighted figure (own
  probability, expected close month) stands in the history row;
- *days per stage* from timestamps, not from the change log: opportunities created in the
  last twelve months give, per open stage, the mean time from creation to entering it
  (``stage_changed_at − created_at`` of those now in the stage, 0 for the first stage) and,
  for won deals, the mean time to close (``closed_at − created_at``); the days spent in a
  stage are the difference to the next stage's mean (never negative). The change log would
  give exact stays but is JSON that cannot be grouped within the one-second budget at 200,000
  opportunities, and bulk-imported or API-loaded deals have no stage history at all, while
  every opportunity has these three timestamps.
- each open opportunity is predicted to close after the rest of its current stage (the
  stage's days minus the days already spent in it, at least 0) plus the days of the later
  stages, with the pipeline's win rate; the **history** row sums amount × that rate by
  predicted month, next to the weighted row.

Every sum is computed in SQL. The open pipeline is grouped by the ``expected_close_date``
column itself (at most ~400 days × currencies × categories rows) and folded into months here:
a month expression (``TruncMonth``) is a Python function per row on SQLite and alone took
seconds at 200,000 rows. Durations use ``DaysBetween`` (``julianday`` / ``EXTRACT(EPOCH)``)
for the same reason. Sums are converted into the reporting currency with ``RateTable`` at
the first of the month (closed deals at their close day). Currencies without a rate are
listed in ``missing``, never guessed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from ninja import Schema
from pydantic import Field, field_validator

from vefa.accounts.access import restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.customers.services._common import currency_codes
from vefa.sales.choices import ForecastCategory, OpportunityStatus, StageKind, TargetMetric
from vefa.sales.models import Opportunity, Pipeline, SalesTarget, Stage
from vefa.sales.money import RateTable, round_money
from vefa.sales.selectors.planning import day_start, default_currency

if TYPE_CHECKING:
    from vefa.accounts.models import User

MONTHS = 12
MIN_HISTORY = 10
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class ForecastFilters(Schema):
    """The forecast's scope and reporting currency."""

    pipeline: int | None = Field(default=None, ge=1)
    owner: int | None = Field(default=None, ge=1)
    team: int | None = Field(default=None, ge=1)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code not in currency_codes():
            raise ValueError("not an ISO 4217 currency code")
        return code


class DaysBetween(Func):
    """Days from ``start`` to ``end`` (``DaysBetween(end, start)``), computed by the database.

    Django's own datetime subtraction runs a Python function per row on SQLite; over
    200,000 rows that alone takes seconds, so the forecast uses ``julianday`` there and
    ``EXTRACT(EPOCH …)`` on PostgreSQL. With ``whole`` the result is rounded down to days.
    """

    arity = 2
    output_field = FloatField()

    def __init__(self, end: Any, start: Any, *, whole: bool = False) -> None:
        super().__init__(end, start)
        self.whole = whole
        if whole:
            self.output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "(julianday(%(expressions)s))"
        if self.whole:
            template = "CAST((julianday(%(expressions)s)) AS INTEGER)"
        return self.as_sql(
            compiler, connection, template=template, arg_joiner=") - julianday(", **extra
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        if "template" not in extra:
            extra["arg_joiner"] = " - "
            extra["template"] = (
                "FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)::integer"
                if self.whole
                else "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
            )
        return super().as_sql(compiler, connection, **extra)


def month_add(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    return datetime.date(day.year + year, month + 1, 1)


@dataclass
class ForecastMonth:
    month: datetime.date
    weighted: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    closed_won: Decimal = ZERO
    target: Decimal | None = None
    history: Decimal = ZERO
    open_deals: int = 0

    @property
    def forecast(self) -> Decimal:
        return self.closed_won + self.weighted

    @property
    def gap(self) -> Decimal | None:
        return None if self.target is None else self.forecast - self.target

    @property
    def percent_of_target(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.forecast * HUNDRED / self.target).quantize(Decimal("0.1"))


@dataclass
class StageHistory:
    stage_id: int
    name: str
    pipeline_id: int
    days: Decimal
    deals: int


@dataclass
class PipelineHistory:
    pipeline_id: int
    name: str
    won: int
    lost: int
    cycle_days: Decimal | None

    @property
    def win_rate(self) -> Decimal | None:
        total = self.won + self.lost
        if total == 0:
            return None
        return (Decimal(self.won) * HUNDRED / total).quantize(Decimal("0.1"))

    @property
    def enough(self) -> bool:
        return self.won + self.lost >= MIN_HISTORY


@dataclass
class Forecast:
    currency: str
    start: datetime.date
    months: list[ForecastMonth]
    missing: list[str]
    pipelines: list[PipelineHistory]
    stages: list[StageHistory]
    undated_open: int
    target_scope: str
    totals: ForecastMonth = field(init=False)

    def __post_init__(self) -> None:
        total = ForecastMonth(month=self.start)
        targets = [m.target for m in self.months if m.target is not None]
        total.target = sum(targets, ZERO) if targets else None
        for m in self.months:
            total.weighted += m.weighted
            total.commit += m.commit
            total.best_case += m.best_case
            total.closed_won += m.closed_won
            total.history += m.history
            total.open_deals += m.open_deals
        self.totals = total


def _days(value: Any) -> Decimal | None:
    """An average of ``DaysBetween`` as days to a tenth."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"))


def scoped_opportunities(actor: User, filters: ForecastFilters) -> QuerySet[Opportunity]:
    qs = restrict(Opportunity.objects.all(), actor, "view")
    if filters.pipeline:
        qs = qs.filter(pipeline_id=filters.pipeline)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team:
        qs = qs.filter(team_id=filters.team)
    return qs


def _targets(actor: User, filters: ForecastFilters) -> tuple[QuerySet[SalesTarget], str]:
    qs = restrict(SalesTarget.objects.all(), actor, "view").filter(metric=TargetMetric.REVENUE)
    if filters.owner:
        return qs.filter(user_id=filters.owner), "user"
    if filters.team:
        return qs.filter(team_id=filters.team), "team"
    scope = scope_for(actor, "sales.opportunity", "view")
    if scope == Scope.ALL:
        return qs.filter(team__isnull=False), "all_teams"
    if scope == Scope.TEAM and actor.team_id is not None:
        return qs.filter(team_id=actor.team_id), "team"
    return qs.filter(user=actor), "user"


def forecast(
    *,
    actor: User,
    filters: ForecastFilters | None = None,
    today: datetime.date | None = None,
) -> Forecast:
    """The forecast of the next twelve months for the scope the actor may see."""
    filters = filters or ForecastFilters()
    today = today or timezone.localdate()
    currency = (filters.currency or default_currency()).upper()
    rates = RateTable.load(currency)
    start = today.replace(day=1)
    end = month_add(start, MONTHS)
    months = {month_add(start, i): ForecastMonth(month=month_add(start, i)) for i in range(MONTHS)}
    base = scoped_opportunities(actor, filters)

    def convert(amount: Any, code: str, day: datetime.date) -> Decimal:
        value = rates.convert(Decimal(amount or 0), code, day)
        return ZERO if value is None else value

    # Open pipeline by month of expected close.
    open_qs = base.filter(status=OpportunityStatus.OPEN).exclude(
        forecast_category=ForecastCategory.OMITTED
    )
    # Grouped by the date column itself (no per-row function), summed per month here.
    rows = (
        open_qs.filter(expected_close_date__gte=start, expected_close_date__lt=end)
        .values("expected_close_date", "currency", "forecast_category", "pipeline_id")
        .annotate(
            total=Sum("amount"),
            weighted=Sum(F("amount") * F("probability")),
            deals=Count("id"),
        )
        .order_by()
    )
    sums: dict[tuple[datetime.date, str, str, int], list[Decimal]] = {}
    for row in rows:
        key = (
            row["expected_close_date"].replace(day=1),
            row["currency"],
            row["forecast_category"],
            row["pipeline_id"],
        )
        entry = sums.setdefault(key, [ZERO, ZERO, ZERO])
        entry[0] += Decimal(row["total"] or 0)
        entry[1] += Decimal(row["weighted"] or 0)
        entry[2] += row["deals"]
    # Weighted amounts per pipeline and month, for the history row of pipelines without
    # enough history (there it repeats the weighted figure rather than guess).
    weighted_by_pipeline: dict[tuple[int, datetime.date], Decimal] = defaultdict(Decimal)
    for (month, code, category, pipeline_id), (total, weighted, deals) in sums.items():
        bucket = months.get(month)
        if bucket is None:
            continue
        bucket.open_deals += int(deals)
        converted = convert(weighted / HUNDRED, code, month)
        bucket.weighted += converted
        weighted_by_pipeline[(pipeline_id, month)] += converted
        amount = convert(total, code, month)
        if category == ForecastCategory.COMMIT:
            bucket.commit += amount
            bucket.best_case += amount
        elif category == ForecastCategory.BEST_CASE:
            bucket.best_case += amount
    undated = open_qs.filter(
        Q(expected_close_date__isnull=True) | Q(expected_close_date__lt=start)
    ).count()

    # Closed won in the window, converted at the close day.
    won = (
        base.filter(
            status=OpportunityStatus.WON,
            closed_at__gte=day_start(start),
            closed_at__lt=day_start(end),
        )
        .annotate(day=TruncDate("closed_at"))
        .values("day", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in won:
        day = row["day"]
        bucket = months.get(day.replace(day=1)) if day else None
        if bucket is not None:
            bucket.closed_won += convert(row["total"], row["currency"], day)

    # Targets, spread evenly over the months of their period.
    target_qs, target_scope = _targets(actor, filters)
    for target in target_qs.filter(period_start__lt=end, period_end__gte=start).only(
        "period_start", "period_end", "amount", "currency"
    ):
        first = target.period_start.replace(day=1)
        count = 0
        while first <= target.period_end:
            count += 1
            first = month_add(first, 1)
        share = convert(
            Decimal(target.amount) / max(count, 1),
            target.currency or currency,
            target.period_start,
        )
        first = target.period_start.replace(day=1)
        while first <= target.period_end:
            bucket = months.get(first)
            if bucket is not None:
                bucket.target = (bucket.target or ZERO) + share
            first = month_add(first, 1)

    pipelines, stages, open_rows = _history(base, today, timezone.now())
    _history_forecast(open_rows, months, pipelines, stages, today, convert)
    for (pipeline_id, month), value in weighted_by_pipeline.items():
        history = pipelines.get(pipeline_id)
        if history is None or not history.enough:
            months[month].history += value

    for bucket in months.values():
        bucket.weighted = round_money(bucket.weighted, currency)
        bucket.commit = round_money(bucket.commit, currency)
        bucket.best_case = round_money(bucket.best_case, currency)
        bucket.closed_won = round_money(bucket.closed_won, currency)
        bucket.history = round_money(bucket.history, currency)
        if bucket.target is not None:
            bucket.target = round_money(bucket.target, currency)
    return Forecast(
        currency=currency,
        start=start,
        months=list(months.values()),
        missing=sorted(rates.missing),
        pipelines=list(pipelines.values()),
        stages=[s for per in stages.values() for s in per],
        undated_open=undated,
        target_scope=target_scope,
    )


def _history(
    base: QuerySet[Opportunity], today: datetime.date, now: datetime.datetime
) -> tuple[dict[int, PipelineHistory], dict[int, list[StageHistory]], list[dict[str, Any]]]:
    """Win rate and cycle per pipeline, days per open stage (see the module notes), and the
    open deals grouped by pipeline, stage, currency and whole days in their stage.

    Two scans: one over the deals closed in the last year (count by pipeline and status,
    mean cycle of the won), one over the open deals (the mean time to reach each stage,
    with conditional aggregates, and the amounts the history row needs).
    """
    since = day_start(today) - datetime.timedelta(days=365)
    names = dict(Pipeline.objects.values_list("pk", "name"))
    pipelines: dict[int, PipelineHistory] = {}
    recent = Q(created_at__gte=since)
    closed = (
        base.filter(
            status__in=(OpportunityStatus.WON, OpportunityStatus.LOST), closed_at__gte=since
        )
        .values("pipeline_id", "status")
        .annotate(
            deals=Count("id"),
            days=Avg(DaysBetween(F("closed_at"), F("created_at")), filter=recent),
        )
        .order_by()
    )
    for row in closed:
        entry = pipelines.setdefault(
            row["pipeline_id"],
            PipelineHistory(row["pipeline_id"], names.get(row["pipeline_id"], ""), 0, 0, None),
        )
        if row["status"] == OpportunityStatus.WON:
            entry.won += row["deals"]
            entry.cycle_days = _days(row["days"])
        else:
            entry.lost += row["deals"]
    counted = ~Q(forecast_category=ForecastCategory.OMITTED)
    open_rows = list(
        base.filter(status=OpportunityStatus.OPEN)
        .annotate(spent=DaysBetween(Value(now), F("stage_changed_at"), whole=True))
        .values("pipeline_id", "stage_id", "currency", "spent")
        .annotate(
            total=Sum("amount", filter=counted),
            reach=Sum(DaysBetween(F("stage_changed_at"), F("created_at")), filter=recent),
            reached=Count("id", filter=recent),
        )
        .order_by()
    )
    sums: dict[int, list[Any]] = {}
    for row in open_rows:
        stage_sums = sums.setdefault(row["stage_id"], [0.0, 0])
        stage_sums[0] += float(row["reach"] or 0)
        stage_sums[1] += int(row["reached"] or 0)
    reached: dict[int, tuple[Decimal, int]] = {
        stage_id: (_days(total / count) or ZERO, count)
        for stage_id, (total, count) in sums.items()
        if count
    }
    stages: dict[int, list[StageHistory]] = defaultdict(list)
    open_stages = Stage.objects.filter(kind=StageKind.OPEN).order_by("pipeline_id", "order", "id")
    by_pipeline: dict[int, list[Stage]] = defaultdict(list)
    for stage in open_stages:
        by_pipeline[stage.pipeline_id].append(stage)
    for pipeline_id, ordered in by_pipeline.items():
        history = pipelines.get(pipeline_id)
        if history is None and not any(s.pk in reached for s in ordered):
            continue
        marks: list[Decimal] = []
        for i, stage in enumerate(ordered):
            mark = ZERO if i == 0 else reached.get(stage.pk, (None, 0))[0]
            marks.append(mark if mark is not None else (marks[-1] if marks else ZERO))
        end_mark = history.cycle_days if history and history.cycle_days is not None else None
        for i, stage in enumerate(ordered):
            following = marks[i + 1] if i + 1 < len(marks) else end_mark
            days = ZERO if following is None else max(ZERO, following - marks[i])
            stages[pipeline_id].append(
                StageHistory(
                    stage_id=stage.pk,
                    name=stage.name,
                    pipeline_id=pipeline_id,
                    days=days.quantize(Decimal("0.1")),
                    deals=reached.get(stage.pk, (ZERO, 0))[1],
                )
            )
    return pipelines, stages, open_rows


def _history_forecast(
    open_rows: list[dict[str, Any]],
    months: dict[datetime.date, ForecastMonth],
    pipelines: dict[int, PipelineHistory],
    stages: dict[int, list[StageHistory]],
    today: datetime.date,
    convert: Any,
) -> None:
    """Add amount × historic win rate to the month each open deal is predicted to close."""
    remaining: dict[int, tuple[Decimal, Decimal]] = {}  # stage → (own days, later days)
    for per in stages.values():
        for i, stage in enumerate(per):
            later = sum((s.days for s in per[i + 1 :]), ZERO)
            remaining[stage.stage_id] = (stage.days, later)
    for row in open_rows:
        history = pipelines.get(row["pipeline_id"])
        if history is None or not history.enough or not row["total"]:
            continue  # the weighted figure stands in (added by ``forecast``)
        own, later = remaining.get(row["stage_id"], (ZERO, ZERO))
        spent = Decimal(max(0, int(row["spent"] or 0)))
        days = max(ZERO, own - spent) + later
        predicted = today + datetime.timedelta(days=int(days.to_integral_value()))
        bucket = months.get(predicted.replace(day=1))
        if bucket is None:
            continue
        rate = history.won / Decimal(history.won + history.lost)
        value = Decimal(row["total"] or 0) * rate
        bucket.history += convert(value, row["currency"], bucket.month)
