"""Money: Decimal amounts with an ISO 4217 currency, rounded the way each currency is.

Every amount in Vefa is a ``Decimal`` next to a three-letter currency code; floats never
touch money. Amounts are stored with four decimals (unit prices can be finer than a cent)
and rounded to the currency's minor unit wherever a figure is shown or totalled: a line's
net, tax and total are each rounded, and a document's totals are the sums of rounded lines,
so the printed lines always add up to the printed total.

Rounding is commercial (half away from zero), the rule Turkish, Serbian and Iranian
invoices use. The minor units follow ISO 4217 except where practice differs: the Iranian
rial is written without decimals.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Storage shape of every money column: 20 digits, 4 after the point.
MONEY_DIGITS = 20
MONEY_PLACES = 4
MAX_AMOUNT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES) - 1

_CODE = re.compile(r"^[A-Z]{3}$")

# Minor-unit digits of the currencies Vefa's users trade in; any other valid code has 2.
MINOR_UNITS: dict[str, int] = {
    "TRY": 2,
    "RSD": 2,
    "IRR": 0,
    "IRT": 0,
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "BAM": 2,
    "MKD": 2,
    "ALL": 2,
    "BGN": 2,
    "RON": 2,
    "HUF": 2,
    "CZK": 2,
    "PLN": 2,
    "RUB": 2,
    "UAH": 2,
    "GEL": 2,
    "AZN": 2,
    "AED": 2,
    "SAR": 2,
    "AFN": 2,
    "CNY": 2,
    "INR": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}

# Currencies offered in forms, most used first.
COMMON_CURRENCIES: tuple[str, ...] = ("TRY", "EUR", "USD", "RSD", "IRR", "GBP", "CHF", "BAM")


class MoneyError(ValueError):
    """An amount or currency that is not valid money."""


def check_currency(code: Any) -> str:
    """``code`` as an upper-case ISO 4217 code, or ``MoneyError``."""
    if not isinstance(code, str) or not _CODE.match(code.strip().upper()):
        raise MoneyError("not a three-letter ISO 4217 currency code")
    return code.strip().upper()


def minor_digits(currency: str) -> int:
    """How many decimals ``currency`` is written with (TRY 2, IRR 0, KWD 3 …)."""
    return MINOR_UNITS.get(check_currency(currency), 2)


def to_decimal(value: Any) -> Decimal:
    """``value`` (Decimal, int or a numeric string) as a finite ``Decimal``.

    Floats are refused: ``0.1 + 0.2`` is not money. Strings may use a comma as the decimal
    separator when they have no point ("12,50").
    """
    if isinstance(value, bool | float):
        raise MoneyError("give amounts as text or Decimal, not floating point")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        if not text or len(text) > 40:
            raise MoneyError("not a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise MoneyError("not a number") from None
    else:
        raise MoneyError("not a number")
    if not number.is_finite():
        raise MoneyError("not a finite number")
    return number


def round_money(amount: Any, currency: str) -> Decimal:
    """``amount`` rounded half away from zero to ``currency``'s minor unit."""
    exponent = Decimal(1).scaleb(-minor_digits(currency))
    try:
        return to_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        # More digits than Decimal's precision: far beyond any amount the columns hold.
        raise MoneyError("too large") from None


def check_amount(amount: Any, *, allow_negative: bool = False) -> Decimal:
    """``amount`` as a Decimal that fits the money columns, or ``MoneyError``."""
    number = to_decimal(amount)
    if not allow_negative and number < 0:
        raise MoneyError("must not be negative")
    if abs(number) > MAX_AMOUNT:
        raise MoneyError("too large")
    if number.as_tuple().exponent < -MONEY_PLACES:  # type: ignore[operator]
        number = number.quantize(Decimal(1).scaleb(-MONEY_PLACES), rounding=ROUND_HALF_UP)
    return number


@dataclass(frozen=True)
class LineAmounts:
    """The figures of one document line, each rounded to the currency."""

    gross: Decimal  # quantity × unit price
    discount: Decimal
    net: Decimal  # gross − discount
    tax: Decimal
    total: Decimal  # net + tax


def line_amounts(
    *,
    quantity: Any,
    unit_price: Any,
    currency: str,
    discount_percent: Any = 0,
    tax_rate: Any = 0,
) -> LineAmounts:
    """The gross, discount, net, tax and total of a line, each rounded to ``currency``."""
    qty = to_decimal(quantity)
    price = to_decimal(unit_price)
    discount_pct = to_decimal(discount_percent or 0)
    rate = to_decimal(tax_rate or 0)
    if not Decimal(0) <= discount_pct <= Decimal(100):
        raise MoneyError("a discount is between 0 and 100 per cent")
    if not Decimal(0) <= rate <= Decimal(100):
        raise MoneyError("a tax rate is between 0 and 100 per cent")
    gross = round_money(qty * price, currency)
    discount = round_money(gross * discount_pct / 100, currency)
    net = gross - discount
    tax = round_money(net * rate / 100, currency)
    return LineAmounts(gross=gross, discount=discount, net=net, tax=tax, total=net + tax)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # sum of line gross
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


def totals(lines: Iterable[LineAmounts], currency: str) -> Totals:
    """The sums of rounded lines (so printed lines add up to the printed total)."""
    zero = round_money(0, currency)
    subtotal = discount = net = tax = total = zero
    for line in lines:
        subtotal += line.gross
        discount += line.discount
        net += line.net
        tax += line.tax
        total += line.total
    return Totals(subtotal=subtotal, discount=discount, net=net, tax=tax, total=total)


@dataclass(frozen=True)
class Money:
    """An amount in a currency. Adding different currencies is an error, not a guess."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", check_currency(self.currency))
        object.__setattr__(self, "amount", to_decimal(self.amount))

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise MoneyError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise MoneyError(f"cannot subtract {other.currency} from {self.currency}")
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{round_money(self.amount, self.currency)} {self.currency}"


class RateTable:
    """Exchange rates into one reporting currency, loaded once for a whole report.

    ``convert(amount, currency, day)`` uses the latest rate on or before ``day`` (or the
    earliest known rate for days before it). A currency with no rate at all gives ``None``,
    and reports say which currencies could not be converted instead of guessing.
    """

    def __init__(self, target: str, rates: dict[str, list[tuple[datetime.date, Decimal]]]):
        self.target = check_currency(target)
        self._days = {c: [d for d, _ in sorted(r)] for c, r in rates.items()}
        self._rates = {c: [v for _, v in sorted(r)] for c, r in rates.items()}
        self.missing: set[str] = set()

    @classmethod
    def load(cls, target: str) -> RateTable:
        """Every stored rate that converts into ``target`` (directly or inverted)."""
        from vefa.sales.models import ExchangeRate

        target = check_currency(target)
        rates: dict[str, list[tuple[datetime.date, Decimal]]] = {}
        rows = ExchangeRate.objects.filter(quote_currency=target).values_list(
            "currency", "day", "rate"
        )
        for currency, day, rate in rows:
            rates.setdefault(currency, []).append((day, rate))
        direct = {(c, d) for c, days in rates.items() for d, _ in days}
        inverse = ExchangeRate.objects.filter(currency=target).values_list(
            "quote_currency", "day", "rate"
        )
        for currency, day, rate in inverse:
            if rate and (currency, day) not in direct:
                rates.setdefault(currency, []).append((day, Decimal(1) / rate))
        return cls(target, rates)

    def rate(self, currency: str, day: datetime.date) -> Decimal | None:
        if currency == self.target:
            return Decimal(1)
        days = self._days.get(currency)
        if not days:
            self.missing.add(currency)
            return None
        i = bisect.bisect_right(days, day) - 1
        return self._rates[currency][max(i, 0)]

    def convert(self, amount: Decimal, currency: str, day: datetime.date) -> Decimal | None:
        rate = self.rate(currency, day)
        if rate is None:
            return None
        return round_money(amount * rate, self.target)
