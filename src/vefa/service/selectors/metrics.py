"""Complaint management metrics for the service dashboard and its API.

Every figure is an aggregate query (a fixed number of queries, whatever the number of tickets);
Python only fills empty days and months and names the groups.

Definitions (the page shows them too):

- **Cohort**: the tickets opened in the period (``created_at`` in the actor's days ``start`` …
  ``end``), not merged into another ticket, narrowed to a team (the ticket's team) or an agent
  (the ticket's owner) when asked. Every rate below is over the cohort.
- **Complaints per day**: tickets of type complaint opened on each day.
- **Time to first response**: wall-clock hours from opening to the first public reply, over
  the cohort's answered tickets; **time to resolution**: hours from opening to resolution
  over its resolved and closed tickets. Median and 90th percentile.
- **Resolved at first contact**: resolved (or closed) with at most one public reply before the
  resolution and never reopened, as a share of the resolved tickets.
- **Reopen rate**: reopened at least once, as a share of the tickets resolved at least once
  (resolved or closed now, or reopened).
- **SLA compliance**: resolution — the share of resolved tickets under an SLA policy that were
  resolved without a resolution breach; first response — the share of tickets under a policy
  that were answered, or are overdue for an answer, without a first-response breach.
- **Returns per month**: return requests opened per month of the period; the change compares
  the period's total with the same number of days just before it.
- **High-value customers with open complaints**: open complaints (new, open, waiting) of
  customers in value class A (the class recorded on the ticket when it was opened), newest
  first; these, and **open tickets by status and priority**, are as of now, not of the period.
- **Top categories**: the cohort's tickets per root-cause category, most frequent first.
- **Per team / per agent**: the cohort per team and per owner with their resolution figures;
  the mean resolution time there (a median per group would cost one query per group on
  SQLite).

Percentiles are ``percentile_cont`` (linear interpolation between the closest ranks) in one
query on PostgreSQL. SQLite has no percentile aggregate: there the cohort is counted and the
one or two values around each rank are read in one sorted pass that numbers the rows with
``ROW_NUMBER()`` and returns only those ranks — the same interpolated value, in bounded
memory, one query per measured time.

Scope: ``restrict`` on ``POLICIES["service.ticket"]`` (and ``service.returnrequest`` for the
returns) decides — administrators and service agents see every ticket, sales reps their
own and their team's. A role that sees no tickets gets ``NotFound``. The report is cached per
(scope, period, team, agent, time zone) for ``CACHE_SECONDS``.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import Team, User
from vefa.common.errors import NotFound, ValidationFailed
from vefa.interactions.filters import day_start, user_zone
from vefa.service.choices import OPEN_STATUSES, TicketStatus, TicketType
from vefa.service.models import Category, ReturnRequest, Ticket

if TYPE_CHECKING:
    from collections.abc import Sequence

CACHE_SECONDS = 120
CACHE_VERSION = 1
MAX_RANGE_DAYS = 3 * 366
PERIODS = (30, 90, 365)
TOP_CATEGORIES = 10
TOP_GROUPS = 50
HIGH_VALUE_LIMIT = 20
HIGH_VALUE_CLASS = "A"
FRACTIONS = (0.5, 0.9)

DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
IS_COMPLAINT = Q(type=TicketType.COMPLAINT)
IS_DONE = Q(status__in=DONE)
IS_FIRST_CONTACT = IS_DONE & Q(reply_count__lte=1, reopen_count=0)
EVER_RESOLVED = IS_DONE | Q(reopen_count__gt=0)
UNDER_SLA = Q(sla_policy__isnull=False)
RESOLUTION_MEASURED = IS_DONE & UNDER_SLA
RESOLUTION_MET = RESOLUTION_MEASURED & Q(resolution_breached=False)
FIRST_RESPONSE_MEASURED = UNDER_SLA & (
    Q(first_responded_at__isnull=False) | Q(first_response_breached=True)
)
FIRST_RESPONSE_MET = FIRST_RESPONSE_MEASURED & Q(first_response_breached=False)


@dataclass(frozen=True)
class MetricsScope:
    """Whose tickets the dashboard covers (the cache key part)."""

    scope: Scope
    actor_id: int
    team_id: int | None

    @property
    def key(self) -> str:
        if self.scope == Scope.ALL:
            return "all"
        if self.scope == Scope.TEAM and self.team_id is not None:
            return f"team:{self.team_id}:{self.actor_id}"
        return f"own:{self.actor_id}"


def metrics_scope(actor: User) -> MetricsScope:
    """The actor's ticket scope, or ``NotFound`` for roles that see no tickets."""
    scope = scope_for(actor, "service.ticket", "view")
    if scope == Scope.NONE:
        raise NotFound("Not found.")
    return MetricsScope(scope=scope, actor_id=actor.pk, team_id=actor.team_id)


def period_range(days: int, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last ``days`` days up to and including ``today``."""
    return today - datetime.timedelta(days=days - 1), today


def resolve_period(
    *,
    period: str,
    start: datetime.date | None,
    end: datetime.date | None,
    today: datetime.date,
) -> tuple[datetime.date, datetime.date]:
    """The days a dashboard request asks for: ``period`` "30", "90" or "365" (the last so
    many days), or "custom" with ``start`` and ``end``; blank means 30 days. The page and the
    API both read their filters through here; a bad value is a ``ValidationFailed`` naming
    the field."""
    period = (period or "").strip() or str(PERIODS[0])
    if period != "custom":
        if period not in {str(p) for p in PERIODS}:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={"period": [_("Choose 30, 90 or 365 days, or a custom period.")]},
            )
        return period_range(int(period), today)
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["start"] = [_("Enter the first day of the period.")]
    if end is None:
        errors["end"] = [_("Enter the last day of the period.")]
    if start is not None and end is not None:
        if end < start:
            errors["end"] = [_("The end must not be before the start.")]
        elif (end - start).days > MAX_RANGE_DAYS:
            errors["start"] = [_("At most %(n)d days.") % {"n": MAX_RANGE_DAYS + 1}]
    if errors or start is None or end is None:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return start, end


# --- percentiles ----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must lie between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _duration(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _epoch_seconds(start: str, end: str) -> Func:
    return Func(
        _duration(start, end),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


def _hours(value: Any) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    return round(seconds / 3600, 2)


def percentiles(
    queryset: QuerySet[Ticket],
    start: str,
    end: str,
    count: int,
    fractions: Sequence[float] = FRACTIONS,
) -> dict[float, float | None]:
    """The ``fractions`` percentiles of ``end - start`` (in hours) over ``queryset``, whose
    rows all have both times; ``count`` is their number (known from the summary query)."""
    if count <= 0:
        return dict.fromkeys(fractions)
    if connection.vendor == "postgresql":
        seconds = _epoch_seconds(start, end)
        row = queryset.aggregate(
            **{f"p{i}": PercentileCont(seconds, f) for i, f in enumerate(fractions)}
        )
        return {f: _hours(row[f"p{i}"]) for i, f in enumerate(fractions)}
    # Every rank needed (0-based, two around each fraction), read in one sorted pass: the
    # rows are numbered by a window function and only those ranks come back.
    ranks = {f: f * (count - 1) for f in fractions}
    wanted = sorted({n + 1 for r in ranks.values() for n in (math.floor(r), math.ceil(r))})
    rows = (
        queryset.annotate(
            elapsed=_duration(start, end),
            rank=Window(RowNumber(), order_by=[F("elapsed").asc(), F("id").asc()]),
        )
        .filter(rank__in=wanted)
        .values_list("rank", "elapsed")
    )
    at = {int(rank) - 1: value.total_seconds() for rank, value in rows}
    out: dict[float, float | None] = {}
    for fraction, rank in ranks.items():
        low, high = math.floor(rank), math.ceil(rank)
        if low not in at or high not in at:
            out[fraction] = None
            continue
        out[fraction] = _hours(at[low] + (at[high] - at[low]) * (rank - low))
    return out


# --- the parts of the report ------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _tickets(actor: User, team_id: int | None, owner_id: int | None) -> QuerySet[Ticket]:
    tickets = restrict(Ticket.objects.filter(merged_into__isnull=True), actor, "view")
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    if owner_id is not None:
        tickets = tickets.filter(owner_id=owner_id)
    return tickets


ANSWERED = Q(first_responded_at__isnull=False)
RESOLVED = IS_DONE & Q(resolved_at__isnull=False)


# The cohort's counts: name → the tickets it counts.
_COUNTS: dict[str, Q] = {
    "complaints": IS_COMPLAINT,
    "responded": ANSWERED,
    "resolved": RESOLVED,
    "done": IS_DONE,
    "first_contact": IS_FIRST_CONTACT,
    "ever_resolved": EVER_RESOLVED,
    "reopened": Q(reopen_count__gt=0),
    "resolution_measured": RESOLUTION_MEASURED,
    "resolution_met": RESOLUTION_MET,
    "first_response_measured": FIRST_RESPONSE_MEASURED,
    "first_response_met": FIRST_RESPONSE_MET,
    "open": Q(status__in=OPEN_STATUSES),
}


def _summary(cohort: QuerySet[Ticket]) -> dict[str, int]:
    row = cohort.aggregate(
        opened=Count("id"),
        **{name: Count("id", filter=condition) for name, condition in _COUNTS.items()},
    )
    return {k: int(v or 0) for k, v in row.items()}


def _summary_with_percentiles(
    cohort: QuerySet[Ticket],
) -> tuple[dict[str, int], dict[float, float | None], dict[float, float | None]]:
    """PostgreSQL: the counts and both times' percentiles in one scan of the cohort
    (``percentile_cont … FILTER (WHERE …)``), instead of three."""
    extra: dict[str, PercentileCont] = {}
    for i, fraction in enumerate(FRACTIONS):
        extra[f"first_p{i}"] = PercentileCont(
            _epoch_seconds("created_at", "first_responded_at"), fraction, filter=ANSWERED
        )
        extra[f"resolution_p{i}"] = PercentileCont(
            _epoch_seconds("created_at", "resolved_at"), fraction, filter=RESOLVED
        )
    row = cohort.aggregate(
        **extra,
        **{name: Count("id", filter=condition) for name, condition in _COUNTS.items()},
        opened=Count("id"),
    )
    counts = {k: int(row[k] or 0) for k in (*_COUNTS, "opened")}
    first = {f: _hours(row[f"first_p{i}"]) for i, f in enumerate(FRACTIONS)}
    resolution = {f: _hours(row[f"resolution_p{i}"]) for i, f in enumerate(FRACTIONS)}
    return counts, first, resolution


def _local_day(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


def _per_day(
    cohort: QuerySet[Ticket], start: datetime.date, end: datetime.date, zone: datetime.tzinfo
) -> list[dict[str, Any]]:
    rows = (
        cohort.filter(IS_COMPLAINT)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {_local_day(r["day"]): int(r["n"]) for r in rows}
    days = (end - start).days + 1
    return [
        {"day": day, "count": counts.get(day, 0)}
        for day in (start + datetime.timedelta(days=i) for i in range(days))
    ]


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    out = []
    index = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1
    while index <= last:
        out.append(datetime.date(index // 12, index % 12 + 1, 1))
        index += 1
    return out


def _returns(
    actor: User,
    team_id: int | None,
    owner_id: int | None,
    start: datetime.date,
    end: datetime.date,
    zone: datetime.tzinfo,
) -> dict[str, Any]:
    returns = restrict(ReturnRequest.objects.all(), actor, "view")
    if team_id is not None:
        returns = returns.filter(team_id=team_id)
    if owner_id is not None:
        returns = returns.filter(owner_id=owner_id)
    t0 = day_start(start, zone)
    t1 = day_start(end + datetime.timedelta(days=1), zone)
    days = (end - start).days + 1
    p0 = day_start(start - datetime.timedelta(days=days), zone)
    rows = (
        returns.filter(created_at__gte=t0, created_at__lt=t1)
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {_local_day(r["month"]).replace(day=1): int(r["n"]) for r in rows}
    months = [{"month": m, "count": counts.get(m, 0)} for m in _months(start, end)]
    total = sum(counts.values())
    previous = returns.filter(created_at__gte=p0, created_at__lt=t0).count()
    return {
        "months": months,
        "total": total,
        "previous_total": previous,
        "previous_start": start - datetime.timedelta(days=days),
        "previous_end": start - datetime.timedelta(days=1),
        "change": round((total - previous) / previous, 4) if previous else None,
    }


def _high_value(tickets: QuerySet[Ticket]) -> list[dict[str, Any]]:
    rows = (
        tickets.filter(IS_COMPLAINT, status__in=OPEN_STATUSES, value_class=HIGH_VALUE_CLASS)
        .order_by("-id")
        .values(
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "created_at",
            "customer_id",
            "customer__display_name",
            "owner__full_name",
            "first_response_breached",
            "resolution_breached",
        )[:HIGH_VALUE_LIMIT]
    )
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "subject": r["subject"],
            "status": r["status"],
            "priority": r["priority"],
            "created_at": r["created_at"],
            "customer_id": r["customer_id"],
            "customer_name": r["customer__display_name"] or "",
            "owner_name": r["owner__full_name"] or "",
            "breached": bool(r["first_response_breached"] or r["resolution_breached"]),
        }
        for r in rows
    ]


def _open_matrix(tickets: QuerySet[Ticket]) -> list[dict[str, Any]]:
    rows = (
        tickets.filter(status__in=OPEN_STATUSES)
        .values("status", "priority")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [{"status": r["status"], "priority": r["priority"], "count": int(r["n"])} for r in rows]


def _categories(cohort: QuerySet[Ticket]) -> list[dict[str, Any]]:
    rows = list(
        cohort.values("category_id")
        .annotate(n=Count("id"), complaints=Count("id", filter=IS_COMPLAINT))
        .order_by("-n", "category_id")[:TOP_CATEGORIES]
    )
    ids = [r["category_id"] for r in rows if r["category_id"] is not None]
    labels = {c.pk: c.path or c.name for c in Category.objects.filter(pk__in=ids)}
    return [
        {
            "category_id": r["category_id"],
            "label": labels.get(r["category_id"], "") if r["category_id"] else "",
            "count": int(r["n"]),
            "complaints": int(r["complaints"]),
        }
        for r in rows
    ]


def _groups(cohort: QuerySet[Ticket], field: str) -> list[dict[str, Any]]:
    rows = list(
        cohort.values(field)
        .annotate(
            opened=Count("id"),
            complaints=Count("id", filter=IS_COMPLAINT),
            resolved=Count("id", filter=IS_DONE),
            first_contact=Count("id", filter=IS_FIRST_CONTACT),
            reopened=Count("id", filter=Q(reopen_count__gt=0)),
            ever_resolved=Count("id", filter=EVER_RESOLVED),
            measured=Count("id", filter=RESOLUTION_MEASURED),
            met=Count("id", filter=RESOLUTION_MET),
            mean_resolution=Avg(
                _duration("created_at", "resolved_at"),
                filter=IS_DONE & Q(resolved_at__isnull=False),
            ),
        )
        .order_by("-opened", field)[:TOP_GROUPS]
    )
    ids = [r[field] for r in rows if r[field] is not None]
    if field == "owner_id":
        names = dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name"))
    else:
        names = dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [
        {
            "id": r[field],
            "name": names.get(r[field], "") if r[field] is not None else "",
            "opened": int(r["opened"]),
            "complaints": int(r["complaints"]),
            "resolved": int(r["resolved"]),
            "first_contact_share": _share(int(r["first_contact"]), int(r["resolved"])),
            "reopen_rate": _share(int(r["reopened"]), int(r["ever_resolved"])),
            "sla_compliance": _share(int(r["met"]), int(r["measured"])),
            "mean_resolution_hours": _hours(r["mean_resolution"]),
        }
        for r in rows
    ]


# --- the report ----------------------------------------------------------------------------


def service_metrics(
    *,
    actor: User,
    start: datetime.date,
    end: datetime.date,
    team_id: int | None = None,
    owner_id: int | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The dashboard's figures as a plain dict (ints, floats, strings, dates).

    ``start`` and ``end`` are inclusive days in the actor's time zone, at most
    ``MAX_RANGE_DAYS`` apart (a longer range is cut at the start). ``NotFound`` for roles
    that see no tickets. Shares are fractions (0.25 = 25 %), ``None`` when nothing to divide.
    """
    scope = metrics_scope(actor)
    if end < start:
        start, end = end, start
    if (end - start).days > MAX_RANGE_DAYS:
        start = end - datetime.timedelta(days=MAX_RANGE_DAYS)
    zone = user_zone(actor)
    key = ":".join(
        [
            f"service-metrics:v{CACHE_VERSION}",
            scope.key,
            start.isoformat(),
            end.isoformat(),
            str(team_id or 0),
            str(owner_id or 0),
            str(zone),
        ]
    )
    if use_cache:
        cached = cache.get(key)
        if cached is not None:
            return dict(cached, cached=True)
    t0 = day_start(start, zone)
    t1 = day_start(end + datetime.timedelta(days=1), zone)
    tickets = _tickets(actor, team_id, owner_id)
    cohort = tickets.filter(created_at__gte=t0, created_at__lt=t1)
    if connection.vendor == "postgresql":
        summary, first, resolution = _summary_with_percentiles(cohort)
    else:
        summary = _summary(cohort)
        first = percentiles(
            cohort.filter(ANSWERED), "created_at", "first_responded_at", summary["responded"]
        )
        resolution = percentiles(
            cohort.filter(RESOLVED), "created_at", "resolved_at", summary["resolved"]
        )
    report: dict[str, Any] = {
        "start": start,
        "end": end,
        "team_id": team_id,
        "owner_id": owner_id,
        "scope": str(scope.scope),
        "generated_at": timezone.now(),
        "summary": summary,
        "first_response_hours": {
            "count": summary["responded"],
            "median": first[0.5],
            "p90": first[0.9],
        },
        "resolution_hours": {
            "count": summary["resolved"],
            "median": resolution[0.5],
            "p90": resolution[0.9],
        },
        "first_contact_resolution": {
            "resolved": summary["done"],
            "first_contact": summary["first_contact"],
            "share": _share(summary["first_contact"], summary["done"]),
        },
        "reopen": {
            "resolved": summary["ever_resolved"],
            "reopened": summary["reopened"],
            "rate": _share(summary["reopened"], summary["ever_resolved"]),
        },
        "sla": {
            "first_response": {
                "measured": summary["first_response_measured"],
                "met": summary["first_response_met"],
                "share": _share(summary["first_response_met"], summary["first_response_measured"]),
            },
            "resolution": {
                "measured": summary["resolution_measured"],
                "met": summary["resolution_met"],
                "share": _share(summary["resolution_met"], summary["resolution_measured"]),
            },
        },
        "complaints_per_day": _per_day(cohort, start, end, zone),
        "returns": _returns(actor, team_id, owner_id, start, end, zone),
        "high_value_open_complaints": _high_value(tickets),
        "open_by_status_priority": _open_matrix(tickets),
        "top_categories": _categories(cohort),
        "by_team": _groups(cohort, "team_id"),
        "by_agent": _groups(cohort, "owner_id"),
    }
    if use_cache:
        cache.set(key, report, CACHE_SECONDS)
    return dict(report, cached=False)
