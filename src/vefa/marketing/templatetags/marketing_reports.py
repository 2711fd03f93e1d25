"""Filters of the campaign report and the marketing dashboard: shares, counts and ratios
for the page's language, "—" where a figure is undefined."""

from __future__ import annotations

from decimal import Decimal

from django import template

from vefa.common import charts
from vefa.customers.templatetags.customers_tags import money

register = template.Library()


@register.filter
def share(value: Decimal | float | None) -> str:
    """A fraction (0.256) as a percentage for the language; "—" when undefined."""
    return charts.fmt_share(value)


@register.filter
def change(value: Decimal | float | None) -> str:
    """A signed fraction (+0.12) as "+12.0%"; "—" when undefined."""
    return charts.fmt_change(value)


@register.filter
def count(value: int | None) -> str:
    return charts.fmt_int(value)


@register.filter
def ratio(value: Decimal | None) -> str:
    """A ratio such as ROI (1.5 = 150 %); "—" when undefined."""
    return charts.fmt_share(value, 0) if value is not None else charts.DASH


@register.filter
def amount(value: Decimal | None, currency: str) -> str:
    """Money in its currency for the language; "—" when undefined."""
    if value is None:
        return charts.DASH
    return money(value, currency)
