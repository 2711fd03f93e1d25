"""The charts of the analytics dashboard.

The SVG builders and the number formatting live in ``vefa.common.charts`` (other dashboards
use them too); this module adds the money formatting, which follows the sales rounding rules,
and re-exports the rest so the analytics pages keep one import.
"""

from __future__ import annotations

from babel.core import UnknownLocaleError
from babel.numbers import format_currency

from vefa.common.charts import (
    BABEL_LOCALES,
    BLUE,
    DASH,
    FONT,
    MIN_CELL,
    NEGATIVE,
    PALE,
    SERIES_COLORS,
    SMALL,
    WIDTH,
    Bar,
    BarRow,
    Cell,
    babel_locale,
    bar_chart,
    cents_to_units,
    empty_state,
    finite,
    fmt_change,
    fmt_compact_money,
    fmt_date,
    fmt_decimal,
    fmt_int,
    fmt_month,
    fmt_share,
    funnel,
    heat_map,
    histogram,
    ink,
    isolate,
    kpi_tile,
    matrix_table,
    pareto_line,
    shade,
)
from vefa.sales.money import MoneyError, round_money

__all__ = [
    "BABEL_LOCALES",
    "BLUE",
    "DASH",
    "FONT",
    "MIN_CELL",
    "NEGATIVE",
    "PALE",
    "SERIES_COLORS",
    "SMALL",
    "WIDTH",
    "Bar",
    "BarRow",
    "Cell",
    "babel_locale",
    "bar_chart",
    "cents_to_units",
    "empty_state",
    "finite",
    "fmt_change",
    "fmt_compact_money",
    "fmt_date",
    "fmt_decimal",
    "fmt_int",
    "fmt_money",
    "fmt_month",
    "fmt_share",
    "funnel",
    "heat_map",
    "histogram",
    "ink",
    "isolate",
    "kpi_tile",
    "matrix_table",
    "pareto_line",
    "shade",
]


def fmt_money(cents: object, currency: str) -> str:
    """Cents of ``currency`` written as money in the active language (``₺1,234.50``).

    Rounded to the currency's minor unit (IRR none, TRY two) as the sales pages do.
    """
    amount = cents_to_units(cents, currency)
    if amount is None:
        return DASH
    try:
        amount = round_money(amount, currency)
        return str(format_currency(amount, currency, locale=babel_locale()))
    except (MoneyError, UnknownLocaleError, ValueError):
        return f"{amount} {currency}"
