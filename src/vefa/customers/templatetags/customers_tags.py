"""Template filters of the customers pages: countries, money, custom fields, consent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.core import UnknownLocaleError
from babel.numbers import format_currency
from django import template
from django.utils import translation

from vefa.customers.services._common import country_name as _country_name
from vefa.platform.custom_fields import display_value
from vefa.platform.models import CustomFieldDefinition

register = template.Library()


def _babel_locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


@register.filter
def country_name(code: str) -> str:
    """The country's name in the page's language (``TR`` → "Türkiye" / "ترکیه" …)."""
    return _country_name(code or "", translation.get_language())


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """An amount in its ISO 4217 currency, formatted for the page's language."""
    if amount is None:
        return ""
    try:
        return format_currency(amount, currency or "TRY", locale=_babel_locale())
    except (UnknownLocaleError, ValueError):
        return f"{amount} {currency}"


@register.filter
def cf(record: Any, definition: CustomFieldDefinition) -> str:
    """The display value of one custom field of ``record``."""
    return display_value(
        definition, (getattr(record, "custom_fields", None) or {}).get(definition.key)
    )


@register.filter
def has_cf(record: Any, definition: CustomFieldDefinition) -> bool:
    value = (getattr(record, "custom_fields", None) or {}).get(definition.key)
    return value not in (None, "", [])


@register.filter
def other_end(relationship: Any, customer: Any) -> Any:
    """The customer at the other end of ``relationship`` seen from ``customer``."""
    if relationship.from_customer_id == customer.pk:
        return relationship.to_customer
    return relationship.from_customer


@register.filter
def is_outgoing(relationship: Any, customer: Any) -> bool:
    return bool(relationship.from_customer_id == customer.pk)


def _inverse_labels() -> dict[str, str]:
    from django.utils.translation import gettext as _

    return {
        "works_at": _("Employs"),
        "spouse": _("Spouse"),
        "household": _("Same household"),
        "parent_of": _("Child of"),
        "parent_company": _("Subsidiary of"),
        "referred_by": _("Referred"),
    }


@register.filter
def relationship_label(relationship: Any, customer: Any) -> str:
    """How the relationship reads from ``customer``'s page ("Works at" / "Employs" …)."""
    if relationship.from_customer_id == customer.pk:
        return str(relationship.get_kind_display())
    return _inverse_labels().get(relationship.kind, str(relationship.get_kind_display()))
