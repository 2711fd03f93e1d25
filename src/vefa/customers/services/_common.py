"""Helpers shared by the customers services: input checking, access lookups, countries.

Services receive plain values from three places (forms, the API, other services), so every
value is checked for its type here before it reaches the model: a number where text belongs
is an error naming the field, not a silent ``str()``.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from babel import Locale
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import Action, can, restrict
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User

M = TypeVar("M", bound=Model)

# Free text of a TextField (notes) is capped so a pasted book cannot bloat a row.
MAX_LONG_TEXT = 20_000
# Bulk actions on a page selection; larger edits belong in a background job.
MAX_BULK = 500

# Codes Babel knows that are not countries: groupings, private use and reservations.
_NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    """A ``ValidationFailed`` with the usual headline and per-field messages."""
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def not_found() -> NotFound:
    return NotFound(_("Not found."))


def denied() -> PermissionDenied:
    return PermissionDenied(_("You may not change this record."))


def as_pk(value: Any) -> int:
    """A primary key from an int or a digit string; anything else is simply not found."""
    if isinstance(value, bool):
        raise not_found()
    try:
        key = int(value)
    except (TypeError, ValueError):
        raise not_found() from None
    if key <= 0 or key > 2**63 - 1:
        raise not_found()
    return key


def get_visible(queryset: QuerySet[M], *, actor: User, pk: Any) -> M:
    """The record ``pk`` if ``actor`` may see it, else ``NotFound`` (same for missing)."""
    record = restrict(queryset, actor, "view").filter(pk=as_pk(pk)).first()
    if record is None:
        raise not_found()
    return record


def get_for(queryset: QuerySet[M], *, actor: User, pk: Any, action: Action = "change") -> M:
    """The record for ``action``: ``NotFound`` when hidden, ``PermissionDenied`` when seen only.

    The row is locked so concurrent writers of the same record are serialised.
    """
    key = as_pk(pk)
    record = restrict(queryset, actor, "view").filter(pk=key).first()
    if record is None:
        raise not_found()
    if action != "view" and not can(actor, action, record):
        raise denied()
    if action != "view":
        locked = queryset.select_for_update(of=("self",)).filter(pk=key).first()
        if locked is None:
            raise not_found()
        return locked
    return record


# --- values ------------------------------------------------------------------------------


def _text(field: models.Field[Any, Any], raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError(_("Enter text."))
    if "\x00" in raw:
        raise ValidationError(_("Null characters are not allowed."))
    value = raw.strip()
    limit = MAX_LONG_TEXT if isinstance(field, models.TextField) else field.max_length
    if limit is not None and len(value) > limit:
        raise ValidationError(_("At most %(n)d characters.") % {"n": limit})
    return value


def _value(field: models.Field[Any, Any], raw: Any) -> Any:
    """``raw`` as the Python value of ``field``, refusing values of the wrong type."""
    if isinstance(field, models.CharField | models.TextField):
        return _text(field, raw)
    if raw is None or raw == "":
        if field.null:
            return None
        if isinstance(field, models.BooleanField):
            return False
        raise ValidationError(_("This field is required."))
    if isinstance(field, models.BooleanField):
        if not isinstance(raw, bool):
            raise ValidationError(_("Enter yes or no."))
        return raw
    if isinstance(raw, bool):
        raise ValidationError(_("Enter a valid value."))
    if isinstance(field, models.IntegerField):
        if isinstance(raw, float) and not raw.is_integer():
            raise ValidationError(_("Enter a whole number."))
        if not isinstance(raw, int | float | str):
            raise ValidationError(_("Enter a whole number."))
        return field.to_python(str(int(raw)) if isinstance(raw, float) else raw)
    if isinstance(field, models.DecimalField):
        if not isinstance(raw, int | str | Decimal | float):
            raise ValidationError(_("Enter a number."))
        number = field.to_python(str(raw) if isinstance(raw, float) else raw)
        if number is not None and not number.is_finite():
            raise ValidationError(_("Enter a number."))
        return number
    if isinstance(field, models.DateTimeField):
        if not isinstance(raw, datetime.datetime | str) or len(str(raw)) > 64:
            raise ValidationError(_("Enter a valid date and time."))
        return field.to_python(raw)
    if isinstance(field, models.DateField):
        if isinstance(raw, datetime.datetime) or not isinstance(raw, datetime.date | str):
            raise ValidationError(_("Enter a valid date."))
        if isinstance(raw, str) and len(raw) > 32:
            raise ValidationError(_("Enter a valid date."))
        return field.to_python(raw)
    if isinstance(field, models.TimeField):
        if not isinstance(raw, datetime.time | str) or len(str(raw)) > 32:
            raise ValidationError(_("Enter a valid time."))
        return field.to_python(raw)
    if isinstance(field, models.JSONField):
        if not isinstance(raw, dict):
            raise ValidationError(_("Expected an object of field values."))
        return raw
    return field.to_python(raw)


def coerce(model: type[Model], data: Any, allowed: Collection[str]) -> dict[str, Any]:
    """Check and convert ``data`` for the ``allowed`` fields of ``model``.

    Unknown fields, values of the wrong type and text with null characters are reported
    together, one list of messages per field.
    """
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in allowed:
            errors[str(key)] = [_("Unknown field.")]
            continue
        field = model._meta.get_field(key)
        try:
            result[key] = _value(field, raw)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors[key] = [str(m) for m in exc.messages]
    if errors:
        raise invalid(errors)
    return result


def as_text(value: Any, *, field: str, max_length: int | None = None) -> str:
    """``value`` as stripped text; the wrong type, a null character or too long is an error."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid({field: [_("Enter text.")]})
    if "\x00" in value:
        raise invalid({field: [_("Null characters are not allowed.")]})
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise invalid({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return text


def as_names(value: Any, *, field: str) -> list[str]:
    """A list of tag names; a single string is split on commas."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise invalid({field: [_("Expected a list of names.")]})
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or "\x00" in item:
            raise invalid({field: [_("Expected a list of names.")]})
        name = " ".join(item.split())
        if name:
            names.append(name)
    return names


def as_ids(value: Any, *, field: str, maximum: int = MAX_BULK) -> list[int]:
    """A list of distinct record ids (at most ``maximum``)."""
    if not isinstance(value, list | tuple | set | frozenset):
        raise invalid({field: [_("Expected a list of ids.")]})
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool):
            raise invalid({field: [_("Expected a list of ids.")]})
        try:
            key = int(item)
        except (TypeError, ValueError):
            raise invalid({field: [_("Expected a list of ids.")]}) from None
        if key > 0 and key not in ids:
            ids.append(key)
    if not ids:
        raise invalid({field: [_("Select at least one record.")]})
    if len(ids) > maximum:
        raise invalid({field: [_("Select at most %(n)d records at once.") % {"n": maximum}]})
    return ids


def resolve_owner(value: Any, *, field: str = "owner") -> User | None:
    """An active user from a ``User``, an id, or ``None``."""
    from vefa.accounts.models import User

    if value is None or value == "":
        return None
    if isinstance(value, User):
        user: User | None = value if value.is_active else None
    elif isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        user = User.objects.filter(pk=int(value), is_active=True).first()
    else:
        user = None
    if user is None:
        raise invalid({field: [_("Choose an active user.")]})
    return user


def resolve_team(value: Any, *, field: str = "team") -> Team | None:
    """A team from a ``Team``, an id, or ``None``."""
    from vefa.accounts.models import Team

    if value is None or value == "":
        return None
    if isinstance(value, Team):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        team = Team.objects.filter(pk=int(value)).first()
        if team is not None:
            return team
    raise invalid({field: [_("Choose an existing team.")]})


# --- countries, currencies, languages ----------------------------------------------------


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (and XK), as Babel's territory data knows them."""
    codes = (str(code) for code in Locale("en").territories if isinstance(code, str))
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def country_choices(language: str | None) -> list[tuple[str, str]]:
    """(code, localised name) pairs sorted by name, for select inputs."""
    try:
        locale = Locale.parse((language or "en").replace("-", "_"))
    except (ValueError, TypeError):
        locale = Locale("en")
    names = locale.territories
    return sorted(((c, str(names.get(c, c))) for c in country_codes()), key=lambda p: p[1])


def country_name(code: str, language: str | None) -> str:
    if not code:
        return ""
    try:
        locale = Locale.parse((language or "en").replace("-", "_"))
    except (ValueError, TypeError):
        locale = Locale("en")
    return str(locale.territories.get(code, code))


def clean_country(value: Any, *, field: str = "country", required: bool = False) -> str:
    """An upper-case ISO country code; blank when optional."""
    text = as_text(value, field=field, max_length=10).upper()
    if not text:
        if required:
            raise invalid({field: [_("This field is required.")]})
        return ""
    if text not in country_codes():
        raise invalid({field: [_("Enter a two-letter ISO country code, e.g. TR.")]})
    return text


@functools.cache
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(value: str, errors: dict[str, list[str]], *, field: str = "currency") -> None:
    if value not in currency_codes():
        errors.setdefault(field, []).append(_("Enter an ISO 4217 currency code, e.g. TRY."))


def check_language(value: str, errors: dict[str, list[str]], *, field: str = "language") -> None:
    if value and not _LANGUAGE.match(value):
        errors.setdefault(field, []).append(_("Enter a language code, e.g. tr or sr-Latn."))
