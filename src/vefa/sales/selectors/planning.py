"""Reads of sales targets and their attainment to date, always for an actor.

Attainment of a target is the won opportunities closed within its period (by ``closed_at``,
in the installation's time zone): their amounts for a revenue target, their number for a
count target. A user's target counts the deals they own, a team's target the deals booked to
the team. Amounts in other currencies are converted into the target's currency with the
exchange rate of the day the deal was closed (``RateTable``); a currency without any rate is
not guessed at: it is left out and listed in ``missing``.

The whole page is computed with one grouped query, however many targets it shows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.sales.choices import OpportunityStatus, PeriodKind, TargetMetric
from vefa.sales.models import Opportunity, SalesTarget
from vefa.sales.money import RateTable, round_money
from vefa.sales.services._common import as_pk, not_found

if TYPE_CHECKING:
    from vefa.accounts.models import User

HUNDRED = Decimal(100)


def default_currency() -> str:
    return str(getattr(settings, "VEFA_DEFAULT_CURRENCY", "TRY"))


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the installation's time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_current_timezone()
    )


class TargetFilters(Schema):
    """Filters of the target list: whose, period kind, a year, the measure."""

    scope: Literal["mine", "all"] = "all"
    user: int | None = Field(default=None, ge=1)
    team: int | None = Field(default=None, ge=1)
    period_kind: PeriodKind | None = None
    year: int | None = Field(default=None, ge=1900, le=9999)
    metric: TargetMetric | None = None

    def apply(self, queryset: QuerySet[SalesTarget], *, actor: User) -> QuerySet[SalesTarget]:
        qs = queryset
        if self.scope == "mine":
            qs = qs.filter(user=actor)
        if self.user:
            qs = qs.filter(user_id=self.user)
        if self.team:
            qs = qs.filter(team_id=self.team)
        if self.period_kind:
            qs = qs.filter(period_kind=self.period_kind)
        if self.year:
            qs = qs.filter(
                period_start__lte=datetime.date(self.year, 12, 31),
                period_end__gte=datetime.date(self.year, 1, 1),
            )
        if self.metric:
            qs = qs.filter(metric=self.metric)
        return qs


@dataclass
class Attainment:
    """How far one target is reached: ``achieved`` in the target's currency (or deals)."""

    target: SalesTarget
    achieved: Decimal
    missing: list[str] = field(default_factory=list)

    @property
    def percent(self) -> Decimal:
        if not self.target.amount:
            return Decimal(0)
        return (self.achieved * HUNDRED / self.target.amount).quantize(Decimal("0.1"))

    @property
    def bar_percent(self) -> int:
        """The width of the progress bar (0–100)."""
        return max(0, min(100, int(self.percent)))

    @property
    def is_count(self) -> bool:
        return self.target.metric == TargetMetric.COUNT


def _targets_qs(actor: User) -> QuerySet[SalesTarget]:
    return restrict(SalesTarget.objects.all(), actor, "view").select_related("user", "team")


def target_get(*, actor: User, pk: Any) -> SalesTarget:
    target = _targets_qs(actor).filter(pk=as_pk(pk)).first()
    if target is None:
        raise not_found()
    return target


def target_page(
    *,
    actor: User,
    filters: TargetFilters | None = None,
    cursor: str | None = None,
    size: int = 50,
) -> Page[SalesTarget]:
    """One keyset page of the targets the actor may see, latest period first."""
    qs = _targets_qs(actor)
    if filters is not None:
        qs = filters.apply(qs, actor=actor)
    return keyset_page(qs, ordering="-period_start", cursor=cursor, size=max(1, min(size, 100)))


def attainments(targets: list[SalesTarget]) -> list[Attainment]:
    """The attainment to date of each target, from one grouped query over won deals.

    Rate tables are loaded once per target currency. A target whose period has not started
    has attained nothing.
    """
    if not targets:
        return []
    user_ids = {t.user_id for t in targets if t.user_id}
    team_ids = {t.team_id for t in targets if t.team_id}
    start = min(t.period_start for t in targets)
    end = max(t.period_end for t in targets)
    who = Q(owner_id__in=user_ids) | Q(team_id__in=team_ids)
    rows = list(
        Opportunity.objects.filter(
            who,
            status=OpportunityStatus.WON,
            closed_at__gte=day_start(start),
            closed_at__lt=day_start(end + datetime.timedelta(days=1)),
        )
        .annotate(day=TruncDate("closed_at"))
        .values("owner_id", "team_id", "currency", "day")
        .annotate(total=Sum("amount"), deals=Count("id"))
        .order_by()
    )
    tables: dict[str, RateTable] = {}
    result: list[Attainment] = []
    for target in targets:
        achieved = Decimal(0)
        missing: set[str] = set()
        is_count = target.metric == TargetMetric.COUNT
        table = None
        if not is_count:
            code = target.currency or default_currency()
            table = tables.get(code)
            if table is None:
                table = tables[code] = RateTable.load(code)
        for row in rows:
            day = row["day"]
            if day is None or not target.period_start <= day <= target.period_end:
                continue
            if target.user_id is not None and row["owner_id"] != target.user_id:
                continue
            if target.team_id is not None and row["team_id"] != target.team_id:
                continue
            if is_count:
                achieved += row["deals"]
                continue
            assert table is not None
            converted = table.convert(Decimal(row["total"] or 0), row["currency"], day)
            if converted is None:
                missing.add(row["currency"])
            else:
                achieved += converted
        if table is not None:
            achieved = round_money(achieved, table.target)
        result.append(Attainment(target=target, achieved=achieved, missing=sorted(missing)))
    return result
