"""The comparable form of a contact point: lower-cased e-mail, E.164 phone, canonical URL.

Each function is pure and idempotent (``normalize(normalize(x)) == normalize(x)``, tested
with hypothesis) and raises ``ValueError`` with a user message for input it cannot accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

DEFAULT_PHONE_REGION = "TR"
MAX_VALUE = 254
_HANDLE = re.compile(r"^[\w.\-]{1,100}$")
_PHONE_KINDS = frozenset({"phone", "mobile", "fax"})


@dataclass(frozen=True)
class Normalized:
    """The normalised value and, for phones, the country the number belongs to."""

    value: str
    country: str = ""


def is_phone_kind(kind: str) -> bool:
    return kind in _PHONE_KINDS


def normalize_email(value: str) -> str:
    """A valid e-mail address, trimmed and lower-cased."""
    text = value.strip().lower()
    local = text.rpartition("@")[0]
    try:
        # RFC 5321 limits: 64 characters before the "@", 254 in all.
        if len(text) > MAX_VALUE or len(local) > 64:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError:
        raise ValueError(_("Enter a valid e-mail address.")) from None
    return text


def normalize_phone(value: str, region: str | None = None) -> Normalized:
    """The number in E.164 and its country; national numbers are read in ``region``.

    ``region`` falls back to ``DEFAULT_PHONE_REGION``. Persian and Arabic-Indic digits are
    accepted (phonenumbers reads any Unicode decimal digit).
    """
    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError(_("Enter a valid phone number, e.g. +90 212 555 00 00."))
    try:
        number = phonenumbers.parse(text, (region or DEFAULT_PHONE_REGION).upper())
    except phonenumbers.NumberParseException:
        raise ValueError(_("Enter a valid phone number, e.g. +90 212 555 00 00.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("This is not a valid phone number for its country."))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Normalized(e164, phonenumbers.region_code_for_number(number) or "")


def normalize_url(value: str) -> str:
    """An http(s) URL with a lower-case scheme and host and no trailing slash on the path."""
    text = value.strip()
    if text and "://" not in text:
        text = "https://" + text
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise ValueError(_("Enter a valid web address.")) from None
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def normalize_handle(value: str) -> str:
    """A social media handle without the leading ``@``, lower-cased; a profile URL as a URL."""
    text = value.strip()
    if "/" in text or "://" in text:
        return normalize_url(text)
    handle = text.lstrip("@").lower()
    if not _HANDLE.match(handle):
        raise ValueError(_("Enter a handle such as @name or a profile address."))
    return handle


def normalize_contact(kind: str, value: str, region: str | None = None) -> Normalized:
    """The normalised form of ``value`` for a contact point of ``kind``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("This field is required."))
    if len(value.strip()) > MAX_VALUE:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_VALUE})
    if kind == "email":
        return Normalized(normalize_email(value))
    if kind in _PHONE_KINDS:
        return normalize_phone(value, region)
    if kind == "website":
        return Normalized(normalize_url(value))
    if kind == "social":
        return Normalized(normalize_handle(value))
    raise ValueError(_("Choose a valid type."))
