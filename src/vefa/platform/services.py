"""Writes of platform records: tags, custom-field definitions, notifications, saved views."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from vefa.accounts.access import PERSONAL_POLICIES, POLICIES, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    validation_error_from_django,
)
from vefa.platform.audit import log_change, snapshot
from vefa.platform.models import CustomFieldDefinition, SavedView, Tag

if TYPE_CHECKING:
    from vefa.accounts.models import User

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

MAX_TAG_LENGTH = 60


def tags_resolve(names: list[Tag | str]) -> list[Tag]:
    """Return the tags named, creating the missing ones (names are trimmed, case kept)."""
    result: list[Tag] = []
    seen: set[str] = set()
    for item in names:
        if isinstance(item, Tag):
            if item.pk not in seen:
                seen.add(str(item.pk))
                result.append(item)
            continue
        name = " ".join(str(item).split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={"tags": [_("A tag has at most %(n)d characters.") % {"n": MAX_TAG_LENGTH}]},
            )
        slug = slugify(name, allow_unicode=True) or name.casefold()
        if slug in seen:
            continue
        seen.add(slug)
        tag = Tag.objects.filter(slug=slug).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name, slug=slug)
            except IntegrityError:
                tag = Tag.objects.get(slug=slug)
        result.append(tag)
    return result


# --- tags ---------------------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_active or not actor.is_admin:
        raise PermissionDenied(_("Only administrators can do this."))


def _may_write_anything(actor: User) -> bool:
    return actor.is_active and any(
        scope_for(actor, key, "change") != Scope.NONE
        for key in POLICIES
        if key not in PERSONAL_POLICIES
    )


def tag_create(*, actor: User, name: str, color: str = "") -> Tag:
    """Create a tag, or return the existing one of that name; needs some write access."""
    if not _may_write_anything(actor):
        raise PermissionDenied(_("Your role cannot create tags."))
    errors: dict[str, list[str]] = {}
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > MAX_TAG_LENGTH:
        errors["name"] = [_("A tag has at most %(n)d characters.") % {"n": MAX_TAG_LENGTH}]
    if color and not _COLOR.match(color):
        errors["color"] = [_("Enter a colour as #rrggbb.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    slug = slugify(name, allow_unicode=True) or name.casefold()
    existing = Tag.objects.filter(slug=slug).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            tag = Tag.objects.create(name=name, slug=slug, color=color or "#6c757d")
            log_change(actor=actor, instance=tag, action="create", before=None, after=snapshot(tag))
    except IntegrityError:
        return Tag.objects.get(slug=slug)
    return tag


def tag_delete(*, actor: User, tag_id: int) -> None:
    """Delete a tag everywhere it is used (administrators only); the change log keeps it."""
    _require_admin(actor)
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(_("Not found."))
    with transaction.atomic():
        log_change(actor=actor, instance=tag, action="delete", before=snapshot(tag), after=None)
        tag.delete()


# --- custom-field definitions ----------------------------------------------------------------

DEFINITION_FIELDS = (
    "model",
    "key",
    "label",
    "field_type",
    "required",
    "choices",
    "min_value",
    "max_value",
    "max_length",
    "regex",
    "help_text",
    "show_in_list",
    "searchable",
    "order",
)
# What a definition keeps for good: its values are stored under the key in every record.
IMMUTABLE_DEFINITION_FIELDS = ("model", "key")


def _definition_clean(definition: CustomFieldDefinition) -> None:
    try:
        definition.full_clean()
    except DjangoValidationError as exc:
        raise validation_error_from_django(exc) from exc


def _definition_values(data: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"__all__": [_("Expected an object of field values.")]},
        )
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={str(key): [_("Unknown field.")] for key in unknown},
        )
    return dict(data)


def custom_field_create(*, actor: User, data: Mapping[str, Any]) -> CustomFieldDefinition:
    """Define a new custom field of a record type (administrators only)."""
    _require_admin(actor)
    values = _definition_values(data, DEFINITION_FIELDS)
    definition = CustomFieldDefinition(**values)
    with transaction.atomic():
        _definition_clean(definition)
        definition.save()
        log_change(
            actor=actor,
            instance=definition,
            action="create",
            before=None,
            after=snapshot(definition),
        )
    return definition


def custom_field_update(
    *,
    actor: User,
    definition_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> CustomFieldDefinition:
    """Change a custom field's label, rules or display (not its record type or key)."""
    _require_admin(actor)
    allowed = tuple(f for f in DEFINITION_FIELDS if f not in IMMUTABLE_DEFINITION_FIELDS)
    values = _definition_values(data, allowed)
    with transaction.atomic():
        definition = (
            CustomFieldDefinition.objects.select_for_update().filter(pk=definition_id).first()
        )
        if definition is None:
            raise NotFound(_("Not found."))
        if expected_version is not None and definition.version != expected_version:
            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=definition.version,
            )
        before = snapshot(definition)
        for key, value in values.items():
            setattr(definition, key, value)
        _definition_clean(definition)
        after = snapshot(definition)
        if after == before:
            return definition
        definition.version += 1
        definition.save()
        log_change(
            actor=actor,
            instance=definition,
            action="update",
            before=before,
            after=snapshot(definition),
        )
    return definition


def custom_field_delete(*, actor: User, definition_id: int) -> None:
    """Remove a custom field definition; values already stored in records are kept."""
    _require_admin(actor)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.filter(pk=definition_id).first()
        if definition is None:
            raise NotFound(_("Not found."))
        log_change(
            actor=actor,
            instance=definition,
            action="delete",
            before=snapshot(definition),
            after=None,
        )
        definition.delete()


# --- saved views ------------------------------------------------------------------------------

MAX_VIEW_NAME = 100
MAX_FILTERS = 40
MAX_FILTER_KEY = 50
MAX_FILTER_VALUE = 500
MAX_COLUMNS = 40
MAX_SORT = 50
LIST_KEY = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
# Parameters that belong to one visit of a list, not to a view.
TRANSIENT_PARAMETERS = frozenset({"cursor", "view", "csrfmiddlewaretoken", "page"})


def _check_view(
    *, list_key: str, name: str, filters: Any, columns: Any, sort: Any
) -> tuple[str, str, dict[str, str], list[str], str]:
    errors: dict[str, list[str]] = {}
    if not isinstance(list_key, str) or not LIST_KEY.match(list_key):
        errors["list_key"] = [_("Unknown list.")]
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > MAX_VIEW_NAME:
        errors["name"] = [_("At most %(n)d characters.") % {"n": MAX_VIEW_NAME}]
    clean_filters: dict[str, str] = {}
    if not isinstance(filters, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in filters.items()
    ):
        errors["filters"] = [_("Filters must be pairs of a name and a text value.")]
    elif len(filters) > MAX_FILTERS:
        errors["filters"] = [_("At most %(n)d filters.") % {"n": MAX_FILTERS}]
    elif any(len(k) > MAX_FILTER_KEY or not k for k in filters):
        errors["filters"] = [_("A filter name has 1 to %(n)d characters.") % {"n": MAX_FILTER_KEY}]
    elif any(len(v) > MAX_FILTER_VALUE for v in filters.values()):
        errors["filters"] = [
            _("A filter value has at most %(n)d characters.") % {"n": MAX_FILTER_VALUE}
        ]
    else:
        clean_filters = {k: v for k, v in filters.items() if k not in TRANSIENT_PARAMETERS}
    if not isinstance(columns, list) or not all(
        isinstance(c, str) and 0 < len(c) <= MAX_FILTER_KEY for c in columns
    ):
        errors["columns"] = [_("Columns must be a list of column names.")]
    elif len(columns) > MAX_COLUMNS:
        errors["columns"] = [_("At most %(n)d columns.") % {"n": MAX_COLUMNS}]
    if not isinstance(sort, str) or len(sort) > MAX_SORT:
        errors["sort"] = [_("At most %(n)d characters.") % {"n": MAX_SORT}]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return list_key, name, clean_filters, list(dict.fromkeys(columns)), sort


def saved_view_create(
    *,
    actor: User,
    list_key: str,
    name: str,
    filters: dict[str, str],
    columns: list[str],
    sort: str,
    share_with_team: bool,
) -> SavedView:
    """Save a list's filters, columns and sort under a name, optionally for the actor's team."""
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("Sign in first."))
    list_key, name, filters, columns, sort = _check_view(
        list_key=list_key, name=name, filters=filters, columns=columns, sort=sort
    )
    if share_with_team and actor.team_id is None:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"share_with_team": [_("You are not in a team.")]},
        )
    return SavedView.objects.create(
        owner=actor,
        team_id=actor.team_id if share_with_team else None,
        list_key=list_key,
        name=name,
        filters=filters,
        columns=columns,
        sort=sort,
    )


def saved_view_delete(*, actor: User, pk: Any) -> None:
    """Delete one of the actor's own saved views (a colleague's shared view is not found)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    deleted, _detail = SavedView.objects.filter(pk=pk, owner=actor).delete()
    if not deleted:
        raise NotFound(_("Not found."))
