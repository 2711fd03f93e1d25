"""The marketing settings (one row, ``pk=1``): the contact cap, quiet hours and their time
zone, the sender, the postal address every message carries, the send rate, the conversion
window, the soft-bounce limit and open tracking.

Everyone reads them; administrators and marketers change them
(``POLICIES["marketing.settings"]``); anyone else is told "not found".
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import ValidationFailed
from vefa.customers.services._common import as_text, invalid, not_found
from vefa.marketing.models import MarketingSettings
from vefa.platform.records import record_create, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

SETTINGS_PK = 1
LIMITS: dict[str, tuple[int, int]] = {
    "cap_messages": (1, 1000),
    "cap_days": (1, 365),
    "send_rate": (1, 100_000),
    "attribution_days": (1, 365),
    "soft_bounce_limit": (1, 100),
}
FIELDS = frozenset(
    {
        *LIMITS,
        "quiet_hours_start",
        "quiet_hours_end",
        "time_zone",
        "from_name",
        "from_email",
        "reply_to",
        "postal_address",
        "track_opens",
    }
)


def marketing_settings() -> MarketingSettings:
    """The settings row, written with the defaults the first time it is asked for."""
    row = MarketingSettings.objects.filter(pk=SETTINGS_PK).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return record_create(MarketingSettings(pk=SETTINGS_PK), actor=None)
    except (IntegrityError, ValidationFailed):
        # Written by a concurrent request in between.
        return MarketingSettings.objects.get(pk=SETTINGS_PK)


def _whole(name: str, value: Any) -> int:
    low, high = LIMITS[name]
    if isinstance(value, bool | float) or value is None or value == "":
        raise invalid({name: [_("Enter a whole number.")]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid({name: [_("Enter a whole number.")]}) from None
    if not low <= number <= high:
        raise invalid(
            {name: [_("Enter a number from %(min)d to %(max)d.") % {"min": low, "max": high}]}
        )
    return number


def _time(name: str, value: Any) -> datetime.time:
    if isinstance(value, datetime.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str):
        try:
            return datetime.time.fromisoformat(value.strip()).replace(second=0, microsecond=0)
        except ValueError:
            pass
    raise invalid({name: [_("Enter a time such as 21:00.")]})


def _zone(value: Any) -> str:
    text = as_text(value, field="time_zone", max_length=64)
    if text not in zoneinfo.available_timezones():
        raise invalid({"time_zone": [_("Choose a time zone such as Europe/Istanbul.")]})
    return text


def _email(name: str, value: Any) -> str:
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    text = as_text(value, field=name, max_length=254)
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise invalid({name: [_("Enter a valid e-mail address.")]}) from None
    return text


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, value in data.items():
        try:
            if name in LIMITS:
                values[name] = _whole(name, value)
            elif name in ("quiet_hours_start", "quiet_hours_end"):
                values[name] = _time(name, value)
            elif name == "time_zone":
                values[name] = _zone(value)
            elif name in ("from_email", "reply_to"):
                values[name] = _email(name, value)
            elif name == "from_name":
                values[name] = as_text(value, field=name, max_length=100)
            elif name == "postal_address":
                values[name] = " ".join(as_text(value, field=name, max_length=300).split())
            elif name == "track_opens":
                if not isinstance(value, bool):
                    raise invalid({name: [_("Enter yes or no.")]})
                values[name] = value
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    return values


def settings_update(
    *, actor: User, data: Mapping[str, Any], expected_version: int | None = None
) -> MarketingSettings:
    """Change the settings named in ``data``."""
    if not can_create(actor, MarketingSettings):
        raise not_found()
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in FIELDS]
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    values = _clean(data)
    row = marketing_settings()
    return record_update(row, actor=actor, data=values, expected_version=expected_version)
