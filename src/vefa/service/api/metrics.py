"""API of the service dashboard (mounted under /api/v1/service): the page's figures as JSON.

``GET /service/metrics?period=30|90|365|custom&start=&end=&team=&agent=`` answers the same
numbers as the dashboard: hours as decimal numbers, shares as fractions (0.25 = 25 %),
``null`` when there is nothing to divide. 404 for users who see no tickets.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from vefa.accounts.models import Team, User
from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, json_response
from vefa.common.api import dump as _dump
from vefa.common.errors import ValidationFailed
from vefa.interactions.filters import user_zone
from vefa.service.selectors.metrics import resolve_period, service_metrics

router = Router(tags=["service"])


class PercentilesOut(Schema):
    count: int
    median: float | None
    p90: float | None


class ShareOut(Schema):
    measured: int
    met: int
    share: float | None


class SlaOut(Schema):
    first_response: ShareOut
    resolution: ShareOut


class FirstContactOut(Schema):
    resolved: int
    first_contact: int
    share: float | None


class ReopenOut(Schema):
    resolved: int
    reopened: int
    rate: float | None


class DayOut(Schema):
    day: datetime.date
    count: int


class MonthOut(Schema):
    month: datetime.date
    count: int


class ReturnsOut(Schema):
    months: list[MonthOut]
    total: int
    previous_total: int
    previous_start: datetime.date
    previous_end: datetime.date
    change: float | None


class HighValueOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    priority: str
    created_at: datetime.datetime
    customer_id: int | None
    customer_name: str
    owner_name: str
    breached: bool


class OpenCellOut(Schema):
    status: str
    priority: str
    count: int


class CategoryOut(Schema):
    category_id: int | None
    label: str
    count: int
    complaints: int


class GroupOut(Schema):
    id: int | None
    name: str
    opened: int
    complaints: int
    resolved: int
    first_contact_share: float | None
    reopen_rate: float | None
    sla_compliance: float | None
    mean_resolution_hours: float | None


class SummaryOut(Schema):
    opened: int
    complaints: int
    responded: int
    resolved: int
    open: int


class MetricsOut(Schema):
    start: datetime.date
    end: datetime.date
    team_id: int | None
    owner_id: int | None
    summary: SummaryOut
    first_response_hours: PercentilesOut
    resolution_hours: PercentilesOut
    first_contact_resolution: FirstContactOut
    reopen: ReopenOut
    sla: SlaOut
    complaints_per_day: list[DayOut]
    returns: ReturnsOut
    high_value_open_complaints: list[HighValueOut]
    open_by_status_priority: list[OpenCellOut]
    top_categories: list[CategoryOut]
    by_team: list[GroupOut]
    by_agent: list[GroupOut]
    generated_at: datetime.datetime
    cached: bool


@router.get("/metrics", response={200: MetricsOut, **ERRORS}, url_name="service_metrics")
def metrics_api(
    request: HttpRequest,
    period: str = Query("30", max_length=10),
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    team: int | None = None,
    agent: int | None = None,
) -> HttpResponse:
    """Complaint management metrics of the tickets opened in the period (the last 30, 90 or
    365 days, or ``custom`` from ``start`` to ``end``, the caller's days), for a team and an
    agent (the ticket's owner)."""
    actor = actor_of(request)
    today = timezone.now().astimezone(user_zone(actor)).date()
    first, last = resolve_period(period=period, start=start, end=end, today=today)
    unknown: dict[str, list[str]] = {}
    if team is not None and not Team.objects.filter(pk=team).exists():
        unknown["team"] = [_("No such team.")]
    if agent is not None and not User.objects.filter(pk=agent).exists():
        unknown["agent"] = [_("No such user.")]
    if unknown:
        raise ValidationFailed(_("Please correct the errors below."), fields=unknown)
    report = service_metrics(actor=actor, start=first, end=last, team_id=team, owner_id=agent)
    return json_response(_dump(MetricsOut, report))
