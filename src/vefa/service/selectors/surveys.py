"""Reads of surveys and their answers, always for an actor (``POLICIES["service.survey"]``).

The figures are computed in the database with one aggregate per question: the answer count
split into promoters (9–10), passives (7–8) and detractors (0–6) for NPS, satisfied (4–5)
and the rest for CSAT, and the same by month for the trend. Comments are read a keyset page
at a time, newest first.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.customers.services._common import get_visible
from vefa.service.choices import SurveyKind
from vefa.service.models import Survey, SurveyInvitation

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

TREND_MONTHS = 12
MAX_PAGE = 100


def _percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def nps_value(promoters: int, detractors: int, answers: int) -> int | None:
    """NPS = % promoters − % detractors, rounded half away from zero; ``None`` without answers."""
    if answers <= 0:
        return None
    exact = Decimal(100 * (promoters - detractors)) / Decimal(answers)
    return int(exact.quantize(Decimal("1"), ROUND_HALF_UP))


def csat_value(satisfied: int, answers: int) -> int | None:
    """CSAT = share of 4–5 answers in per cent, rounded half up; ``None`` without answers."""
    if answers <= 0:
        return None
    exact = Decimal(100 * satisfied) / Decimal(answers)
    return int(exact.quantize(Decimal("1"), ROUND_HALF_UP))


@dataclass
class MonthPoint:
    month: datetime.date
    answers: int
    score: int | None


@dataclass
class Figures:
    """The answers of a survey (or of all CSAT invitations) in numbers."""

    kind: str
    invited: int = 0
    answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    satisfied: int = 0
    trend: list[MonthPoint] = field(default_factory=list)

    @property
    def score(self) -> int | None:
        if self.kind == SurveyKind.NPS:
            return nps_value(self.promoters, self.detractors, self.answers)
        return csat_value(self.satisfied, self.answers)

    @property
    def response_rate(self) -> Decimal | None:
        return _percent(self.answers, self.invited)

    @property
    def promoter_share(self) -> Decimal | None:
        return _percent(self.promoters, self.answers)

    @property
    def passive_share(self) -> Decimal | None:
        return _percent(self.passives, self.answers)

    @property
    def detractor_share(self) -> Decimal | None:
        return _percent(self.detractors, self.answers)

    @property
    def satisfied_share(self) -> Decimal | None:
        return _percent(self.satisfied, self.answers)


def _counts() -> dict[str, Any]:
    answered = Q(responded_at__isnull=False)
    return {
        "answers": Count("pk", filter=answered),
        "promoters": Count("pk", filter=answered & Q(score__gte=9)),
        "passives": Count("pk", filter=answered & Q(score__gte=7, score__lte=8)),
        "detractors": Count("pk", filter=answered & Q(score__lte=6)),
        "satisfied": Count("pk", filter=answered & Q(score__gte=4)),
    }


def _month_starts(now: datetime.datetime, months: int) -> list[datetime.datetime]:
    """The starts of the last ``months`` local months and of the current one, oldest first,
    and the start of the next month (aware datetimes in the current time zone)."""
    local = timezone.localtime(now)
    year, month = local.year, local.month
    starts: list[tuple[int, int]] = []
    for _step in range(months + 1):
        starts.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()
    last_year, last_month = starts[-1]
    starts.append((last_year + 1, 1) if last_month == 12 else (last_year, last_month + 1))
    zone = timezone.get_current_timezone()
    return [datetime.datetime(y, m, 1, tzinfo=zone) for y, m in starts]


def _by_month(
    invitations: QuerySet[SurveyInvitation], *, months: int, now: datetime.datetime
) -> list[tuple[datetime.date, int, int, int, int]]:
    """(month, answers, promoters, detractors, satisfied) per month, in one aggregate of
    plain range conditions (no date functions per row, so the database stays fast)."""
    bounds = _month_starts(now, months)
    aggregates: dict[str, Any] = {}
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        within = Q(responded_at__gte=start, responded_at__lt=end)
        aggregates[f"a{index}"] = Count("pk", filter=within)
        aggregates[f"p{index}"] = Count("pk", filter=within & Q(score__gte=9))
        aggregates[f"d{index}"] = Count("pk", filter=within & Q(score__lte=6))
        aggregates[f"s{index}"] = Count("pk", filter=within & Q(score__gte=4))
    row = invitations.filter(responded_at__gte=bounds[0], responded_at__lt=bounds[-1]).aggregate(
        **aggregates
    )
    return [
        (
            bounds[index].date(),
            int(row[f"a{index}"] or 0),
            int(row[f"p{index}"] or 0),
            int(row[f"d{index}"] or 0),
            int(row[f"s{index}"] or 0),
        )
        for index in range(len(bounds) - 1)
    ]


def figures_of(
    invitations: QuerySet[SurveyInvitation],
    kind: str,
    *,
    months: int = TREND_MONTHS,
    now: datetime.datetime | None = None,
) -> Figures:
    """Counts, score and the monthly trend of ``invitations`` (all of one kind)."""
    totals = invitations.aggregate(invited=Count("pk"), **_counts())
    figures = Figures(
        kind=kind,
        invited=int(totals["invited"] or 0),
        answers=int(totals["answers"] or 0),
        promoters=int(totals["promoters"] or 0),
        passives=int(totals["passives"] or 0),
        detractors=int(totals["detractors"] or 0),
        satisfied=int(totals["satisfied"] or 0),
    )
    for month, answers, promoters, detractors, satisfied in _by_month(
        invitations, months=months, now=now or timezone.now()
    ):
        if not answers:
            continue
        score = (
            nps_value(promoters, detractors, answers)
            if kind == SurveyKind.NPS
            else csat_value(satisfied, answers)
        )
        figures.trend.append(MonthPoint(month=month, answers=answers, score=score))
    return figures


# --- surveys -------------------------------------------------------------------------------


def survey_list(*, actor: User, cursor: str | None = None, limit: int = 50) -> Page[Survey]:
    """The surveys ``actor`` may see, newest first."""
    qs = restrict(Survey.objects.all(), actor, "view").select_related("owner")
    return keyset_page(
        qs, ordering="-created_at", cursor=cursor, size=max(1, min(int(limit), MAX_PAGE))
    )


def survey_get(*, actor: User, pk: Any) -> Survey:
    return get_visible(Survey.objects.select_related("owner", "team"), actor=actor, pk=pk)


def _invitations(actor: User) -> QuerySet[SurveyInvitation]:
    return restrict(SurveyInvitation.objects.all(), actor, "view")


def survey_figures(*, actor: User, survey: Survey) -> Figures:
    """The figures of one survey's invitations that ``actor`` may see."""
    return figures_of(_invitations(actor).filter(survey=survey), survey.kind)


def csat_figures(*, actor: User, days: int = 365) -> Figures:
    """The CSAT figures of tickets' invitations over the last ``days`` days."""
    since = timezone.now() - datetime.timedelta(days=max(1, min(days, 3660)))
    qs = _invitations(actor).filter(kind=SurveyKind.CSAT, created_at__gte=since)
    return figures_of(qs, SurveyKind.CSAT)


def survey_comments(
    *,
    actor: User,
    survey: Survey | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> Page[SurveyInvitation]:
    """Answers with a comment, newest first (one survey's, or every CSAT answer)."""
    qs = _invitations(actor).filter(responded_at__isnull=False).exclude(comment="")
    if survey is not None:
        qs = qs.filter(survey=survey)
    elif kind:
        qs = qs.filter(kind=kind)
    qs = qs.select_related("customer", "ticket")
    return keyset_page(
        qs, ordering="-responded_at", cursor=cursor, size=max(1, min(int(limit), MAX_PAGE))
    )


def customer_latest_answers(*, actor: User, customer: Customer) -> dict[str, SurveyInvitation]:
    """The customer's latest answered CSAT and NPS invitation (keys "csat", "nps")."""
    latest: dict[str, SurveyInvitation] = {}
    for kind in (SurveyKind.CSAT, SurveyKind.NPS):
        answer = (
            _invitations(actor)
            .filter(customer=customer, kind=kind, responded_at__isnull=False)
            .select_related("ticket")
            .order_by("-responded_at", "-id")
            .first()
        )
        if answer is not None:
            latest[str(kind)] = answer
    return latest
