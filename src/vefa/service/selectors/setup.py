"""Reads of the service configuration for a person (``POLICIES["service.queue"]``).

The configuration tables are small (tens to hundreds of rows), so each section is read
whole, capped at ``MAX_ROWS``, with its references joined in one query per section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Prefetch, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound
from vefa.service.models import (
    SERVICE_SETUP_POLICY,
    AssignmentRule,
    BusinessCalendar,
    Category,
    Holiday,
    Queue,
    SlaPolicy,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_ROWS = 500

KINDS: dict[str, type[Model]] = {
    "queue": Queue,
    "category": Category,
    "calendar": BusinessCalendar,
    "policy": SlaPolicy,
    "rule": AssignmentRule,
}


def _queryset(kind: str) -> QuerySet[Any]:
    if kind == "queue":
        return Queue.objects.select_related("team", "calendar").order_by("name", "pk")
    if kind == "category":
        return Category.objects.select_related("parent", "queue").order_by("path", "pk")
    if kind == "calendar":
        return BusinessCalendar.objects.prefetch_related(
            Prefetch("holidays", queryset=Holiday.objects.order_by("date"))
        ).order_by("name", "pk")
    if kind == "policy":
        return SlaPolicy.objects.select_related("escalate_to").order_by("name", "pk")
    if kind == "rule":
        return AssignmentRule.objects.select_related("category", "queue", "assignee").order_by(
            "position", "pk"
        )
    raise NotFound(_("No such page."))


@dataclass(frozen=True)
class SetupOverview:
    queues: list[Queue]
    categories: list[Category]
    calendars: list[BusinessCalendar]
    policies: list[SlaPolicy]
    rules: list[AssignmentRule]
    can_change: bool


def setup_list(*, actor: User, kind: str) -> list[Any]:
    """One section's rows the actor may see (empty for someone without access)."""
    return list(restrict(_queryset(kind), actor, "view")[:MAX_ROWS])


def setup_overview(*, actor: User) -> SetupOverview:
    """Every section of the settings page; ``NotFound`` for someone who may not see it."""
    if scope_for(actor, SERVICE_SETUP_POLICY, "view") == Scope.NONE:
        raise NotFound(_("No such page."))
    return SetupOverview(
        queues=setup_list(actor=actor, kind="queue"),
        categories=setup_list(actor=actor, kind="category"),
        calendars=setup_list(actor=actor, kind="calendar"),
        policies=setup_list(actor=actor, kind="policy"),
        rules=setup_list(actor=actor, kind="rule"),
        can_change=can_create(actor, Queue),
    )


def setup_get(*, actor: User, kind: str, pk: Any) -> Any:
    """One row the actor may see; ``NotFound`` when missing or hidden."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such record.")) from None
    found = restrict(_queryset(kind), actor, "view").filter(pk=key).first()
    if found is None:
        raise NotFound(_("No such record."))
    return found
