"""Helpers shared by the sales services: access lookups, input coercion and money values.

The generic pieces (``coerce``, ``get_for``, owner and team lookups) are the customers app's,
so every app refuses bad input with the same messages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from vefa.customers.services._common import (
    as_ids,
    as_pk,
    as_text,
    coerce,
    currency_codes,
    denied,
    get_for,
    get_visible,
    invalid,
    not_found,
    resolve_owner,
    resolve_team,
)
from vefa.interactions.services._common import customer_visible
from vefa.sales.money import MoneyError, check_amount, line_amounts, round_money, totals

if TYPE_CHECKING:
    from vefa.sales.models import DocumentLine

__all__ = [
    "as_currency",
    "as_date",
    "as_ids",
    "as_money",
    "as_percent",
    "as_pk",
    "as_quantity",
    "as_text",
    "coerce",
    "customer_visible",
    "denied",
    "fill_line_amounts",
    "get_for",
    "get_visible",
    "invalid",
    "not_found",
    "resolve_owner",
    "resolve_team",
    "set_document_totals",
]


def as_currency(value: Any, *, field: str = "currency") -> str:
    """An ISO 4217 code Babel knows (TRY, EUR, RSD, IRR …), upper-cased."""
    text = as_text(value, field=field, max_length=3).upper()
    if text not in currency_codes():
        raise invalid({field: [_("Enter an ISO 4217 currency code, e.g. TRY.")]})
    return text


def as_money(
    value: Any, *, field: str, required: bool = True, allow_negative: bool = False
) -> Decimal | None:
    """An amount that fits the money columns; floats, text that is no number and
    amounts too large for the columns are refused with a field message."""
    if value is None or value == "":
        if required:
            raise invalid({field: [_("This field is required.")]})
        return None
    try:
        return check_amount(value, allow_negative=allow_negative)
    except MoneyError:
        if not allow_negative and _is_negative(value):
            raise invalid({field: [_("Enter an amount of zero or more.")]}) from None
        raise invalid({field: [_("Enter an amount, e.g. 1250.50.")]}) from None


def _is_negative(value: Any) -> bool:
    try:
        return Decimal(str(value).strip().replace(",", ".")) < 0
    except Exception:
        return False


def as_percent(value: Any, *, field: str) -> Decimal:
    """A percentage between 0 and 100 (empty is 0)."""
    if value is None or value == "":
        return Decimal(0)
    number = as_money(value, field=field)
    assert number is not None
    if number > 100:
        raise invalid({field: [_("Enter a percentage between 0 and 100.")]})
    return number.quantize(Decimal("0.001"))


def as_quantity(value: Any, *, field: str = "quantity") -> Decimal:
    """A quantity above zero with at most three decimals."""
    number = as_money(value, field=field)
    assert number is not None
    if number <= 0:
        raise invalid({field: [_("Enter a quantity above zero.")]})
    if number >= Decimal(10) ** 11:
        raise invalid({field: [_("Enter a smaller quantity.")]})
    return number.quantize(Decimal("0.001"))


def as_date(value: Any, *, field: str, required: bool = False) -> datetime.date | None:
    """A date from a ``date`` or an ISO 8601 string (YYYY-MM-DD)."""
    if value is None or value == "":
        if required:
            raise invalid({field: [_("This field is required.")]})
        return None
    if isinstance(value, datetime.datetime):
        raise invalid({field: [_("Enter a valid date.")]})
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and len(value) <= 32:
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise invalid({field: [_("Enter a valid date.")]})


def fill_line_amounts(line: DocumentLine, currency: str) -> None:
    """Compute a quote or order line's gross, discount, net, tax and total, rounded."""
    try:
        amounts = line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=currency,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )
    except MoneyError as exc:
        raise invalid({"lines": [str(exc)]}) from None
    line.gross = amounts.gross
    line.discount = amounts.discount
    line.net = amounts.net
    line.tax = amounts.tax
    line.total = amounts.total


def set_document_totals(document: Any, lines: list[DocumentLine]) -> None:
    """Set a quote's or order's subtotal, discount, tax and total from its filled lines."""
    from vefa.sales.money import LineAmounts

    figures = totals(
        (
            LineAmounts(gross=x.gross, discount=x.discount, net=x.net, tax=x.tax, total=x.total)
            for x in lines
        ),
        document.currency,
    )
    document.subtotal = figures.subtotal
    document.discount_total = figures.discount
    document.tax_total = figures.tax
    document.total = round_money(figures.total, document.currency)
