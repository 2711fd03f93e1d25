"""Helpers of the integrations services: input checks and administrator-only lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from vefa.accounts.models import User

M = TypeVar("M", bound=Model)


def invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def not_found() -> NotFound:
    return NotFound(_("Not found."))


def as_pk(value: Any) -> int:
    if isinstance(value, bool):
        raise not_found()
    try:
        key = int(value)
    except (TypeError, ValueError, OverflowError):
        raise not_found() from None
    if key <= 0 or key > 2**63 - 1:
        raise not_found()
    return key


def get_visible(queryset: QuerySet[M], *, actor: User, pk: Any, action: str = "view") -> M:
    """The record if ``actor`` may reach it; hidden and missing both raise ``NotFound``."""
    record = restrict(queryset, actor, action).filter(pk=as_pk(pk)).first()  # type: ignore[arg-type]
    if record is None:
        raise not_found()
    return record


def require_admin(actor: User, model: type[Model]) -> None:
    if not can_create(actor, model):
        raise PermissionDenied(_("Only administrators manage integrations."))


def as_text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid({field: [_("Enter text.")]})
    value = value.strip()
    if "\x00" in value:
        raise invalid({field: [_("Remove the null character.")]})
    if required and not value:
        raise invalid({field: [_("This field is required.")]})
    if len(value) > max_length:
        raise invalid({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return value


def as_bool(value: Any, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise invalid({field: [_("Enter true or false.")]})
