"""Every read of the exports app for a person: their own exports and schedules (all of them
for administrators); another person's is not found."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.exports.models import Export, ScheduledExport

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_LIST = 200


def _pk(value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    if not 0 < pk < 2**63:
        raise NotFound(_("Not found."))
    return pk


def export_list(*, actor: User, limit: int = 50) -> list[Export]:
    """The actor's most recent exports (an administrator's list shows everyone's)."""
    qs: QuerySet[Export] = restrict(Export.objects.all(), actor, "view")
    limit = max(1, min(int(limit), MAX_LIST))
    return list(qs.select_related("owner", "job", "schedule").order_by("-id")[:limit])


def export_get(*, actor: User, pk: Any) -> Export:
    export = (
        restrict(Export.objects.all(), actor, "view")
        .select_related("owner", "job")
        .filter(pk=_pk(pk))
        .first()
    )
    if export is None:
        raise NotFound(_("Not found."))
    return export


def schedule_list(*, actor: User) -> list[ScheduledExport]:
    qs = restrict(ScheduledExport.objects.all(), actor, "view").select_related("owner")
    return list(qs.order_by("name", "id")[:MAX_LIST])


def schedule_get(*, actor: User, pk: Any) -> ScheduledExport:
    schedule = (
        restrict(ScheduledExport.objects.all(), actor, "view")
        .select_related("owner")
        .filter(pk=_pk(pk))
        .first()
    )
    if schedule is None:
        raise NotFound(_("Not found."))
    return schedule
