"""One filter definition per model, used by the list pages and the API alike.

Each filter set is a typed schema: the API declares it as its query parameters (so the
OpenAPI document lists them), the pages bind ``request.GET`` to it with ``filters_from_query``.
``apply`` narrows a queryset the selector has already restricted to what the actor may see.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Schema
from pydantic import Field, ValidationError

from vefa.interactions.choices import (
    ActivityKind,
    ActivityStatus,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from vefa.interactions.models import Activity, Interaction

if TYPE_CHECKING:
    from vefa.accounts.models import User

F = TypeVar("F", bound=Schema)


def zone_named(name: str | None) -> datetime.tzinfo:
    """The time zone called ``name``; UTC when it is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def user_zone(actor: User | None) -> datetime.tzinfo:
    """The actor's time zone (their day decides what "today" means)."""
    return zone_named(getattr(actor, "time_zone", "") or "UTC")


def day_start(day: datetime.date, zone: datetime.tzinfo) -> datetime.datetime:
    """Midnight at the start of ``day`` in ``zone``, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def local_today(actor: User | None, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(user_zone(actor)).date()


class ActivityFilters(Schema):
    """Filters of the activity list: whose, kind, status, when, customer, text."""

    scope: Literal["mine", "team", "all"] = "mine"
    kind: ActivityKind | None = None
    status: ActivityStatus | None = None
    when: Literal["overdue", "today", "upcoming"] | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    customer: int | None = Field(default=None, ge=1)
    q: str | None = Field(default=None, max_length=200)

    def apply(
        self,
        queryset: QuerySet[Activity],
        *,
        actor: User,
        now: datetime.datetime | None = None,
    ) -> QuerySet[Activity]:
        now = now or timezone.now()
        zone = user_zone(actor)
        today = now.astimezone(zone).date()
        qs = queryset
        if self.scope == "mine":
            qs = qs.filter(owner=actor)
        elif self.scope == "team":
            qs = (
                qs.filter(Q(team_id=actor.team_id) | Q(owner=actor))
                if actor.team_id
                else qs.filter(owner=actor)
            )
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.when == "overdue":
            qs = qs.filter(status=ActivityStatus.PLANNED, scheduled_at__lt=now)
        elif self.when == "today":
            qs = qs.filter(
                scheduled_at__gte=day_start(today, zone),
                scheduled_at__lt=day_start(today + datetime.timedelta(days=1), zone),
            )
        elif self.when == "upcoming":
            qs = qs.filter(scheduled_at__gte=day_start(today + datetime.timedelta(days=1), zone))
        if self.date_from:
            qs = qs.filter(scheduled_at__gte=day_start(self.date_from, zone))
        if self.date_to:
            end = day_start(self.date_to + datetime.timedelta(days=1), zone)
            qs = qs.filter(scheduled_at__lt=end)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.q and self.q.strip():
            qs = qs.filter(subject__icontains=self.q.strip())
        return qs


class InteractionFilters(Schema):
    """Filters of the contact history: kind, direction, channel, who, customer, dates, text."""

    kind: InteractionKind | None = None
    direction: Direction | None = None
    channel: InteractionChannel | None = None
    user: int | None = Field(default=None, ge=1)
    customer: int | None = Field(default=None, ge=1)
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    q: str | None = Field(default=None, max_length=200)

    def apply(
        self, queryset: QuerySet[Interaction], *, actor: User, now: datetime.datetime | None = None
    ) -> QuerySet[Interaction]:
        zone = user_zone(actor)
        qs = queryset
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.direction:
            qs = qs.filter(direction=self.direction)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.user:
            qs = qs.filter(user_id=self.user)
        if self.customer:
            qs = qs.filter(customer_id=self.customer)
        if self.date_from:
            qs = qs.filter(occurred_at__gte=day_start(self.date_from, zone))
        if self.date_to:
            end = day_start(self.date_to + datetime.timedelta(days=1), zone)
            qs = qs.filter(occurred_at__lt=end)
        if self.q and self.q.strip():
            text = self.q.strip()
            qs = qs.filter(
                Q(subject__icontains=text) | Q(body__icontains=text) | Q(outcome__icontains=text)
            )
        return qs


def filters_from_query(schema: type[F], query: Mapping[str, Any]) -> tuple[F, dict[str, list[str]]]:
    """Bind a page's query string to ``schema``; bad values are dropped and reported.

    A list page never fails on a bad parameter: it shows the list without that filter and
    says which one was ignored.
    """
    data = {
        name: query.get(name) for name in schema.model_fields if query.get(name) not in (None, "")
    }
    errors: dict[str, list[str]] = {}
    while True:
        try:
            return schema.model_validate(data), errors
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err.get("loc")}
            for err in exc.errors():
                if err.get("loc"):
                    errors.setdefault(str(err["loc"][0]), []).append(str(err["msg"]))
            if not bad or not bad & set(data):
                return schema.model_validate({}), errors
            for name in bad:
                data.pop(name, None)
