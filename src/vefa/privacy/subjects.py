"""The data subject of a request and what identifies them."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from vefa.common.errors import NotFound
from vefa.common.text import fold
from vefa.privacy.choices import SubjectKind
from vefa.privacy.discovery import SUBJECT_MODELS, Found, Identifiers, model_of

# A name shorter than this is not looked for in free texts (it would match everywhere).
MIN_NAME = 4
_SPACES = re.compile(r"\s+")


def subject_model(kind: str) -> type[models.Model]:
    try:
        return model_of(SUBJECT_MODELS[SubjectKind(kind)])
    except ValueError:
        raise NotFound(_("Not found.")) from None


def subject_row(kind: str, subject_id: Any, *, lock: bool = False) -> models.Model:
    """The subject's row, or ``NotFound``."""
    model = subject_model(kind)
    try:
        pk = int(subject_id)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    qs = model._base_manager.filter(pk=pk)
    if lock:
        qs = qs.select_for_update()
    row = qs.first()
    if row is None:
        raise NotFound(_("Not found."))
    return row


def subject_label(kind: str, subject_id: int) -> str:
    """How the subject is shown to administrators (its current name, or that it is gone)."""
    try:
        row = subject_row(kind, subject_id)
    except NotFound:
        return _("%(kind)s #%(id)s (no longer exists)") % {
            "kind": SubjectKind(kind).label if kind in SubjectKind.values else kind,
            "id": subject_id,
        }
    return str(row)


def _add_email(ids: Identifiers, value: Any) -> None:
    text = str(value or "").strip().lower()
    if "@" in text and len(text) >= 5:
        ids.emails.add(text)


def _add_phone(ids: Identifiers, value: Any) -> None:
    text = str(value or "").strip()
    if not text:
        return
    try:
        number = phonenumbers.parse(text, "TR")
    except phonenumbers.NumberParseException:
        return
    if phonenumbers.is_possible_number(number):
        ids.phones.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _add_name(ids: Identifiers, *parts: Any) -> None:
    text = _SPACES.sub(" ", " ".join(str(p or "") for p in parts)).strip()
    if len(text) >= MIN_NAME:
        ids.names.add(text)


def _customer_identifiers(ids: Identifiers, customer: Any) -> None:
    if customer.kind == "person":
        _add_name(ids, customer.first_name, customer.last_name)
        _add_name(ids, customer.display_name)
    else:
        _add_name(ids, customer.display_name)
        _add_name(ids, customer.legal_name)
        _add_name(ids, customer.trade_name)
    _add_email(ids, customer.primary_email)
    _add_phone(ids, customer.primary_phone)


def identifiers_of(found: Found) -> Identifiers:
    """The e-mail addresses, phone numbers and names on the reached rows that identify the
    person: the customer rows, their contact points, leads and portal accounts, and the
    addresses marketing sent to or suppressed for them."""
    ids = Identifiers()
    if found.ids("customers.customer"):
        for customer in found.queryset("customers.customer"):
            _customer_identifiers(ids, customer)
    if found.ids("customers.contactpoint"):
        for kind, value, normalized in found.queryset("customers.contactpoint").values_list(
            "kind", "value", "normalized"
        ):
            if kind == "email":
                _add_email(ids, normalized or value)
            elif kind in ("phone", "mobile", "fax"):
                _add_phone(ids, normalized or value)
    if found.ids("customers.lead"):
        for lead in found.queryset("customers.lead"):
            _add_name(ids, lead.first_name, lead.last_name)
            _add_email(ids, lead.email)
            _add_phone(ids, lead.phone)
    if found.ids("portal.portalaccount"):
        for email in found.queryset("portal.portalaccount").values_list("email", flat=True):
            _add_email(ids, email)
    for label in ("marketing.campaignrecipient", "marketing.suppression"):
        if found.ids(label):
            model = model_of(label)
            customer_ids = found.ids("customers.customer")
            for address in (
                model._base_manager.filter(pk__in=found.ids(label), customer_id__in=customer_ids)
                .values_list("address", flat=True)
                .distinct()
            ):
                if "@" in address:
                    _add_email(ids, address)
                elif address.startswith("+"):
                    _add_phone(ids, address)
    return ids


def phone_forms(e164: str) -> set[str]:
    """The ways a number is written: E.164, international and national, spaced or not."""
    forms = {e164, e164.lstrip("+")}
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    for style in (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    ):
        text = phonenumbers.format_number(number, style)
        forms.add(text)
        forms.add(re.sub(r"[^\d+]", "", text))
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 6}


def search_terms(ids: Identifiers) -> list[str]:
    """Every written form to look for, longest first (so a longer form is replaced whole)."""
    terms: set[str] = set()
    terms |= ids.emails
    for phone in ids.phones:
        terms |= phone_forms(phone)
    terms |= name_terms(ids)
    return sorted(terms, key=lambda t: (-len(t), t))


def name_terms(ids: Identifiers) -> set[str]:
    terms: set[str] = set()
    for name in ids.names:
        for form in (name, name.casefold(), fold(name), name.upper()):
            if len(form) >= MIN_NAME:
                terms.add(form)
    return terms


def keyed_hash(value: str) -> str:
    """A keyed hash of ``value`` (HMAC-SHA256 with a key derived from the secret key)."""
    key = hashlib.sha256(("vefa.privacy:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def address_hash(address: str) -> str:
    """The keyed hash an erased e-mail address or phone number is remembered by."""
    text = address.strip()
    text = text.lower() if "@" in text else text
    return keyed_hash(text)
