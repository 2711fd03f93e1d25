"""Reads of field sales: the rep's day.

Everything here is the signed-in user's own work (``owner = actor``) and also passes
``restrict``, so a colleague's visits, calls or deals never show up, whatever the role.
A fixed number of queries whatever the number of rows; each list is bounded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from vefa.accounts.access import restrict
from vefa.interactions.choices import ActivityKind, ActivityStatus
from vefa.interactions.filters import day_start, user_zone
from vefa.interactions.models import Activity
from vefa.sales.choices import OpportunityStatus
from vefa.sales.models import Opportunity

if TYPE_CHECKING:
    from vefa.accounts.models import User

DAY_LIMIT = 50


@dataclass
class MyDay:
    today: datetime.date
    now: datetime.datetime
    visits: list[Activity] = field(default_factory=list)
    calls: list[Activity] = field(default_factory=list)
    overdue: list[Activity] = field(default_factory=list)
    follow_ups: list[Opportunity] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.visits or self.calls or self.overdue or self.follow_ups)


def my_day(*, actor: User, now: datetime.datetime | None = None, limit: int = DAY_LIMIT) -> MyDay:
    """The actor's day in their time zone.

    - ``visits``: today's customer visits (planned and already logged, not cancelled);
    - ``calls``: today's calls to make (planned and done);
    - ``overdue``: planned activities past due — anything due before today, and today's
      tasks, meetings and appointments whose time has passed (today's visits and calls are
      in their own lists);
    - ``follow_ups``: open opportunities whose follow-up date is today or earlier.
    """
    now = now or timezone.now()
    zone = user_zone(actor)
    today = now.astimezone(zone).date()
    start = day_start(today, zone)
    end = day_start(today + datetime.timedelta(days=1), zone)
    mine = (
        restrict(Activity.objects.all(), actor, "view")
        .filter(owner=actor)
        .select_related("customer")
        .order_by("scheduled_at", "id")
    )
    todays = mine.filter(scheduled_at__gte=start, scheduled_at__lt=end).exclude(
        status=ActivityStatus.CANCELLED
    )
    overdue = mine.filter(status=ActivityStatus.PLANNED).filter(
        Q(scheduled_at__lt=start)
        | Q(scheduled_at__lt=now, scheduled_at__gte=start)
        & ~Q(kind__in=[ActivityKind.VISIT, ActivityKind.CALL])
    )
    follow_ups = (
        restrict(Opportunity.objects.all(), actor, "view")
        .filter(owner=actor, status=OpportunityStatus.OPEN, follow_up_date__lte=today)
        .select_related("customer", "stage")
        .order_by("follow_up_date", "id")
    )
    return MyDay(
        today=today,
        now=now,
        visits=list(todays.filter(kind=ActivityKind.VISIT)[:limit]),
        calls=list(todays.filter(kind=ActivityKind.CALL)[:limit]),
        overdue=list(overdue[:limit]),
        follow_ups=list(follow_ups[:limit]),
    )


def visit_get(*, actor: User, pk: object) -> Activity:
    """One of the actor's visible visits, or ``NotFound``."""
    from vefa.sales.services._common import not_found

    try:
        key = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise not_found() from None
    visit = (
        restrict(Activity.objects.all(), actor, "view")
        .filter(pk=key, kind=ActivityKind.VISIT)
        .select_related("customer")
        .first()
    )
    if visit is None:
        raise not_found()
    return visit
