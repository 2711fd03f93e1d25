"""Writing the change log. Services call ``log_change``; nothing else writes it."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.fields.files import FieldFile

from vefa.common.context import current_request_id
from vefa.platform.models import ChangeLogEntry

if TYPE_CHECKING:
    from vefa.accounts.models import User


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    return value


def snapshot(instance: models.Model, *, tag_names: list[str] | None = None) -> dict[str, Any]:
    """The record's field values as JSON (foreign keys as ids, tags as sorted names).

    ``tag_names`` gives the tag names when the caller knows them (a record just created), so they
    are not read again."""
    exclude = set(getattr(instance, "audit_exclude", ()))
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    if instance.pk is not None and any(f.name == "tags" for f in instance._meta.many_to_many):
        if tag_names is not None:
            data["tags"] = sorted(tag_names)
            return data
        prefetched = getattr(instance, "_prefetched_objects_cache", {}).get("tags")
        tags = prefetched if prefetched is not None else instance.tags.all()  # type: ignore[attr-defined]
        data["tags"] = sorted(t.name for t in tags)
    return data


def customer_id_of(instance: models.Model) -> int | None:
    """The customer a record belongs to, for the customer's timeline."""
    label = instance._meta.label_lower
    if label == "customers.customer":
        return int(instance.pk)
    for attr in ("customer_id", "from_customer_id"):
        value = getattr(instance, attr, None)
        if value is not None:
            return int(value)
    interaction = getattr(instance, "interaction", None)
    if label == "interactions.attachment" and interaction is not None:
        return int(interaction.customer_id)
    return None


def log_change(
    *,
    actor: User | None,
    instance: models.Model,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ChangeLogEntry:
    """Append one change-log row for ``instance``."""
    return ChangeLogEntry.objects.create(
        action=action,
        model=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        customer_id=customer_id_of(instance),
        actor_id=actor.pk if actor is not None else None,
        actor_name=(str(actor) if actor is not None else "system")[:200],
        request_id=current_request_id() or "",
        before=before,
        after=after,
    )
