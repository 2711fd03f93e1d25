"""Helpers shared by the interactions services: access lookups and input coercion."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from vefa.accounts.access import Action, restrict
from vefa.common.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

M = TypeVar("M", bound=Model)

INVALID = "Please correct the errors below."


def invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    """A ``ValidationFailed`` with the usual headline and per-field messages."""
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def not_found() -> NotFound:
    return NotFound(_("Not found."))


def get_for(queryset: QuerySet[M], *, actor: User, pk: Any, action: Action) -> M:
    """The record ``pk`` if ``actor`` may ``action`` it, else ``NotFound``.

    "Not allowed" and "does not exist" raise the same error, so no surface can tell them
    apart. Locks the row when changing so two writers are serialised.
    """
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise not_found() from None
    qs = restrict(queryset, actor, action).filter(pk=key)
    if action != "view":
        qs = qs.select_for_update(of=("self",))
    record = qs.first()
    if record is None:
        raise not_found()
    return record


def customer_visible(*, actor: User, customer_id: Any, field: str = "customer") -> Customer:
    """The customer ``customer_id`` if ``actor`` may see it.

    A hidden customer is reported as a field error that reads exactly like a missing one.
    """
    from vefa.customers.models import Customer

    try:
        key = int(customer_id)
    except (TypeError, ValueError):
        raise invalid({field: [_("Choose an existing customer.")]}) from None
    customer = restrict(Customer.objects.all(), actor, "view").filter(pk=key).first()
    if customer is None:
        raise invalid({field: [_("Choose an existing customer.")]})
    return customer


def as_datetime(value: Any, *, field: str, required: bool = False) -> datetime.datetime | None:
    """``value`` (a datetime or an ISO 8601 string) as an aware datetime.

    A naive value is read in the current time zone (the user's, on pages).
    """
    if value is None or value == "":
        if required:
            raise invalid({field: [_("This field is required.")]})
        return None
    result: datetime.datetime | None
    if isinstance(value, datetime.datetime):
        result = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            result = parse_datetime(value.strip())
        except ValueError:
            result = None
    else:
        result = None
    if result is None:
        raise invalid({field: [_("Enter a valid date and time.")]})
    if timezone.is_naive(result):
        result = timezone.make_aware(result, timezone.get_current_timezone())
    return result


@overload
def as_int(
    value: Any,
    *,
    field: str,
    minimum: int | None = ...,
    maximum: int | None = ...,
    required: Literal[True],
) -> int: ...


@overload
def as_int(
    value: Any,
    *,
    field: str,
    minimum: int | None = ...,
    maximum: int | None = ...,
    required: bool = ...,
) -> int | None: ...


def as_int(
    value: Any,
    *,
    field: str,
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = False,
) -> int | None:
    """``value`` as a whole number within bounds, or ``None`` when empty and optional."""
    if value is None or value == "":
        if required:
            raise invalid({field: [_("This field is required.")]})
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise invalid({field: [_("Enter a whole number.")]})
    try:
        number = int(str(value).strip()) if not isinstance(value, int | float) else int(value)
    except ValueError:
        raise invalid({field: [_("Enter a whole number.")]}) from None
    if minimum is not None and number < minimum:
        raise invalid({field: [_("At least %(n)d.") % {"n": minimum}]})
    if maximum is not None and number > maximum:
        raise invalid({field: [_("At most %(n)d.") % {"n": maximum}]})
    return number


def as_text(value: Any, *, field: str) -> str:
    """``value`` as trimmed text; anything but text (or nothing) is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid({field: [_("Enter text.")]})
    return value.strip()
