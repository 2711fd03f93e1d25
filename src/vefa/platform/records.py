"""The one way domain services create, update and delete records.

Each helper runs in a transaction, validates (``full_clean`` plus custom fields), checks the
optimistic-concurrency version, writes one change-log row and queues a domain event that is
dispatched after commit. Domain services (``customer_create`` …) add their own rules around
these; views, the API and tasks never call ``save()`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from vefa.common.errors import Conflict, ValidationFailed, validation_error_from_django
from vefa.common.events import DomainEvent, emit
from vefa.platform.audit import log_change, snapshot
from vefa.platform.custom_fields import clean_custom_fields
from vefa.platform.models import ChangeLogEntry, Tag

if TYPE_CHECKING:
    from vefa.accounts.models import User

M = TypeVar("M", bound=models.Model)


def event_name(instance: models.Model, verb: str) -> str:
    return f"{instance._meta.label_lower}.{verb}"


def _has_field(instance: models.Model, name: str) -> bool:
    return any(f.name == name for f in instance._meta.get_fields())


def _known_relations(instance: models.Model, unchanged: Iterable[str] = ()) -> set[str]:
    """Foreign keys whose target is known to exist, so ``full_clean`` need not ask.

    The related object was read from the database and is cached on the instance, or (on
    update) the value was read from the database and is not being changed: the database's
    own foreign keys keep such a value valid. Keys with ``limit_choices_to`` are always
    checked, since their rule can change under a stored value.
    """
    keep = set(unchanged)
    known: set[str] = set()
    for field in instance._meta.concrete_fields:
        if not field.is_relation or getattr(field.remote_field, "limit_choices_to", None):
            continue
        value = getattr(instance, field.attname)
        if value is None:
            continue
        if field.name in keep:
            known.add(field.name)
            continue
        if field.is_cached(instance):  # type: ignore[attr-defined]
            related = field.get_cached_value(instance)  # type: ignore[attr-defined]
            target = field.target_field.attname  # type: ignore[attr-defined]
            if (
                related is not None
                and not related._state.adding
                and getattr(related, target, None) == value
            ):
                known.add(field.name)
    return known


def _full_clean(
    instance: models.Model, exclude: Iterable[str] = (), *, known: Iterable[str] = ()
) -> None:
    """``instance.full_clean()``; the fields in ``known`` skip only their own field check
    (a foreign key's existence query), never the unique and constraint checks."""
    skip = set(known)
    if not skip:
        try:
            instance.full_clean(exclude=list(exclude), validate_unique=True)
        except ValidationError as exc:
            raise validation_error_from_django(exc) from exc
        return
    # The steps of ``Model.full_clean``, with ``known`` added to the field checks' exclusions.
    excluded = set(exclude)
    errors: dict[str, Any] = {}
    try:
        instance.clean_fields(exclude=excluded | skip)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for check in (instance.validate_unique, instance.validate_constraints):
        excluded |= {name for name in errors if name != NON_FIELD_ERRORS}
        try:
            check(exclude=excluded)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise validation_error_from_django(ValidationError(errors))


def _set_tags(instance: models.Model, tags: Iterable[Tag | str] | None) -> list[str]:
    """Set the record's tags; their sorted names (none when ``tags`` is ``None``)."""
    if tags is None:
        return []
    from vefa.platform.services import tags_resolve

    resolved = tags_resolve(list(tags))
    instance.tags.set(resolved)  # type: ignore[attr-defined]
    return sorted(t.name for t in resolved)


def _emit(instance: models.Model, verb: str, actor: User | None, **payload: Any) -> None:
    emit(
        DomainEvent(
            name=event_name(instance, verb),
            model=instance._meta.label_lower,
            object_id=int(instance.pk),
            actor_id=actor.pk if actor is not None else None,
            payload=payload,
        )
    )


def record_create(
    instance: M,
    *,
    actor: User | None,
    tags: Iterable[Tag | str] | None = None,
    clean_exclude: Iterable[str] = (),
) -> M:
    """Validate and insert ``instance``; log it and queue ``<model>.created``."""
    with transaction.atomic():
        if _has_field(instance, "custom_fields"):
            instance.custom_fields = clean_custom_fields(  # type: ignore[attr-defined]
                instance._meta.label_lower,
                instance.custom_fields or {},  # type: ignore[attr-defined]
            )
        if _has_field(instance, "created_by"):
            instance.created_by = actor  # type: ignore[attr-defined]
            instance.updated_by = actor  # type: ignore[attr-defined]
        _full_clean(instance, clean_exclude, known=_known_relations(instance))
        instance.save()
        names = _set_tags(instance, tags)
        after = snapshot(instance, tag_names=names)  # a new record has only the tags just set
        log_change(
            actor=actor,
            instance=instance,
            action=ChangeLogEntry.Action.CREATE,
            before=None,
            after=after,
        )
        _emit(instance, "created", actor)
    return instance


def record_update(
    instance: M,
    *,
    actor: User | None,
    data: dict[str, Any],
    expected_version: int | None = None,
    tags: Iterable[Tag | str] | None = None,
    clean_exclude: Iterable[str] = (),
) -> M:
    """Apply ``data`` to ``instance`` if its version is still ``expected_version``.

    Raises ``Conflict`` (HTTP 412) when someone else saved the record first, and
    ``ValidationFailed`` naming each bad field. A change that changes nothing writes nothing.
    """
    model = type(instance)
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=instance.pk)
        current_version = getattr(current, "version", None)
        if expected_version is not None and current_version != expected_version:
            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=int(current_version or 0),
            )
        before = snapshot(current)
        unknown = [key for key in data if not _has_field(current, key)]
        if unknown:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={key: [_("Unknown field.")] for key in unknown},
            )
        for key, value in data.items():
            if key == "custom_fields":
                value = clean_custom_fields(
                    model._meta.label_lower,
                    value,
                    existing=current.custom_fields,  # type: ignore[attr-defined]
                )
            setattr(current, key, value)
        unchanged = [
            f.name
            for f in current._meta.concrete_fields
            if f.name not in data and f.attname not in data
        ]
        _full_clean(current, clean_exclude, known=_known_relations(current, unchanged))
        names = _set_tags(current, tags) if tags is not None else before.get("tags")
        if hasattr(current, "_prefetched_objects_cache"):
            current._prefetched_objects_cache.pop("tags", None)
        after = snapshot(current, tag_names=names)
        if after == before:
            return current
        if current_version is not None:
            current.version = current_version + 1  # type: ignore[attr-defined]
            after["version"] = current.version  # type: ignore[attr-defined]
        if _has_field(current, "updated_by"):
            current.updated_by = actor  # type: ignore[attr-defined]
            after["updated_by"] = actor.pk if actor else None
        current.save()
        log_change(
            actor=actor,
            instance=current,
            action=ChangeLogEntry.Action.UPDATE,
            before=before,
            after=after,
        )
        changed = sorted(k for k in after if before.get(k) != after.get(k))
        _emit(current, "updated", actor, changed=changed)
    return current


def record_delete(instance: models.Model, *, actor: User | None) -> None:
    """Delete ``instance``; the change log keeps its last state."""
    with transaction.atomic():
        before = snapshot(instance)
        pk = instance.pk
        log_change(
            actor=actor,
            instance=instance,
            action=ChangeLogEntry.Action.DELETE,
            before=before,
            after=None,
        )
        instance.delete()
        instance.pk = pk
        _emit(instance, "deleted", actor)
