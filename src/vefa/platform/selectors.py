"""Reads of platform records for a person: saved views, the change log, tags, custom fields."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition, SavedView, Tag

if TYPE_CHECKING:
    from vefa.accounts.models import User


def _not_found() -> NotFound:
    return NotFound(_("Not found."))


def _as_pk(value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise _not_found() from None
    if pk <= 0 or pk > 2**63 - 1:
        raise _not_found()
    return pk


def _active(actor: User | None) -> bool:
    return actor is not None and actor.is_authenticated and actor.is_active


# --- saved views ------------------------------------------------------------------------------


def _visible_views(actor: User) -> QuerySet[SavedView]:
    q = Q(owner=actor)
    if actor.team_id is not None:
        q |= Q(team_id=actor.team_id)
    return SavedView.objects.filter(q)


def saved_views_for(*, actor: User, list_key: str) -> list[SavedView]:
    """The actor's own views of a list and those shared with the actor's team, by name."""
    if not _active(actor):
        return []
    return list(
        _visible_views(actor)
        .filter(list_key=list_key)
        .select_related("owner")
        .order_by("name", "pk")[:200]
    )


def saved_view_get(*, actor: User, pk: Any) -> SavedView:
    """A saved view the actor may use (own or shared with the team); otherwise not found."""
    pk = _as_pk(pk)
    if not _active(actor):
        raise _not_found()
    view = _visible_views(actor).filter(pk=pk).first()
    if view is None:
        raise _not_found()
    return view


# --- change log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLogFilters:
    model: str = ""
    actor_id: int | None = None
    action: str = ""
    date_from: datetime.datetime | None = None
    date_to: datetime.datetime | None = None
    object_id: int | None = None


def changelog_list(
    *, actor: User, filters: ChangeLogFilters, cursor: str | None, size: int = 50
) -> Page[ChangeLogEntry]:
    """The whole change log, newest first, for administrators only."""
    if not _active(actor) or not actor.is_admin:
        raise _not_found()
    qs = ChangeLogEntry.objects.all()
    if filters.model:
        qs = qs.filter(model=filters.model)
    if filters.object_id is not None:
        qs = qs.filter(object_id=filters.object_id)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.date_from is not None:
        qs = qs.filter(time__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(time__lt=filters.date_to)
    return keyset_page(qs, ordering="-time", cursor=cursor, size=max(1, min(size, 200)))


def changelog_models() -> list[str]:
    """The record types the change log can hold (every installed model of Vefa's apps)."""
    return sorted(
        m._meta.label_lower for m in apps.get_models() if m.__module__.startswith("vefa.")
    )


def resolve_model(label: str) -> type[Model]:
    """The model of ``app_label.model``, or not found."""
    if not isinstance(label, str) or label.count(".") != 1 or len(label) > 100:
        raise _not_found()
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise _not_found() from None
    if not model.__module__.startswith("vefa."):
        raise _not_found()
    return model


def record_for_changes(*, actor: User, label: str, pk: Any) -> Model:
    """The record whose changes the actor asks for, if the actor may view it.

    Records governed by an access policy go through ``restrict``; records outside any policy
    (users, tags, definitions …) are visible to administrators only. A record that no longer
    exists shows its history to administrators only (nobody else can be checked against it).
    """
    model = resolve_model(label)
    pk = _as_pk(pk)
    if not _active(actor):
        raise _not_found()
    from vefa.accounts.access import POLICIES, policy_key_of

    governed = policy_key_of(model) in POLICIES
    if not governed and not actor.is_admin:
        raise _not_found()
    qs: QuerySet[Any] = model._default_manager.filter(pk=pk)
    record = restrict(qs, actor, "view").first() if governed else qs.first()
    if record is None:
        raise _not_found()
    return record


def record_changes(
    *, actor: User, label: str, pk: Any, cursor: str | None = None, size: int = 50
) -> tuple[Model, Page[ChangeLogEntry]]:
    """The change-log entries of one record the actor may view, newest first."""
    record = record_for_changes(actor=actor, label=label, pk=pk)
    qs = ChangeLogEntry.objects.filter(model=record._meta.label_lower, object_id=record.pk)
    return record, keyset_page(qs, ordering="-time", cursor=cursor, size=max(1, min(size, 200)))


# --- tags and custom fields -----------------------------------------------------------------


def tag_list(*, actor: User, q: str = "", cursor: str | None = None, size: int = 50) -> Page[Tag]:
    """Tags by name (every signed-in user may see the tag names)."""
    if not _active(actor):
        return Page(items=[], next_cursor=None, previous_cursor=None, size=size)
    qs = Tag.objects.all()
    if q:
        qs = qs.filter(name__icontains=q[:60])
    return keyset_page(qs, ordering="name", cursor=cursor, size=max(1, min(size, 100)))


def tag_get(*, actor: User, pk: Any) -> Tag:
    pk = _as_pk(pk)
    tag = Tag.objects.filter(pk=pk).first() if _active(actor) else None
    if tag is None:
        raise _not_found()
    return tag


def custom_field_list(*, actor: User, model: str = "") -> list[CustomFieldDefinition]:
    """Definitions of custom fields (every signed-in user needs them to fill in forms)."""
    if not _active(actor):
        return []
    qs = CustomFieldDefinition.objects.all()
    if model:
        qs = qs.filter(model=model)
    return list(qs.order_by("model", "order", "key")[:1000])


def custom_field_get(*, actor: User, pk: Any) -> CustomFieldDefinition:
    pk = _as_pk(pk)
    definition = CustomFieldDefinition.objects.filter(pk=pk).first() if _active(actor) else None
    if definition is None:
        raise _not_found()
    return definition
