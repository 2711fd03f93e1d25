"""Properties of ``vefa.sales.money``: rounding per currency, line amounts, totals, ``Money``
and ``RateTable`` — checked with hypothesis over many amounts, never with floats."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vefa.sales.money import (
    MAX_AMOUNT,
    LineAmounts,
    Money,
    MoneyError,
    RateTable,
    check_amount,
    line_amounts,
    minor_digits,
    round_money,
    to_decimal,
    totals,
)

DIGITS = {"TRY": 2, "RSD": 2, "IRR": 0, "KWD": 3}
currencies = st.sampled_from(sorted(DIGITS))
amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal("1000000"), places=4, allow_nan=False)
quantities = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("10000"), places=3, allow_nan=False
)
percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=3, allow_nan=False)


# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "digits"), sorted(DIGITS.items()))
def test_minor_units_of_the_currencies_vefa_users_trade_in(currency, digits):
    assert minor_digits(currency) == digits
    assert minor_digits(currency.lower()) == digits


@given(amount=amounts, currency=currencies)
def test_rounding_keeps_exactly_the_minor_unit_digits(amount, currency):
    rounded = round_money(amount, currency)
    assert isinstance(rounded, Decimal)
    assert rounded.as_tuple().exponent == -DIGITS[currency]
    # Never more than half a minor unit away from the exact amount.
    assert abs(rounded - amount) <= Decimal(1).scaleb(-DIGITS[currency]) / 2


@given(amount=amounts, currency=currencies)
def test_rounding_is_half_away_from_zero_and_symmetric(amount, currency):
    assert round_money(-amount, currency) == -round_money(amount, currency)
    expected = amount.quantize(Decimal(1).scaleb(-DIGITS[currency]), rounding=ROUND_HALF_UP)
    assert round_money(amount, currency) == expected


@given(amount=amounts, currency=currencies)
def test_rounding_twice_changes_nothing(amount, currency):
    once = round_money(amount, currency)
    assert round_money(once, currency) == once


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "TRY", "0.01"),
        ("-0.005", "TRY", "-0.01"),
        ("2.675", "TRY", "2.68"),
        ("1.125", "RSD", "1.13"),
        ("0.5", "IRR", "1"),
        ("-0.5", "IRR", "-1"),
        ("1499.4999", "IRR", "1499"),
        ("0.0005", "KWD", "0.001"),
        ("1.2345", "KWD", "1.235"),
    ],
)
def test_half_is_rounded_away_from_zero(amount, currency, expected):
    assert round_money(Decimal(amount), currency) == Decimal(expected)
    assert round_money(amount, currency) == Decimal(expected)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_never_money(value):
    with pytest.raises(MoneyError):
        to_decimal(value)
    with pytest.raises(MoneyError):
        round_money(value, "TRY")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "", "12a", "1" * 41, None, [], True])
def test_not_numbers_are_refused(value):
    with pytest.raises(MoneyError):
        to_decimal(value)


def test_comma_is_a_decimal_separator_only_without_a_point():
    assert to_decimal("12,50") == Decimal("12.50")
    assert to_decimal(" 1 250.5 ") == Decimal("1250.5")


@given(amount=st.decimals(min_value=MAX_AMOUNT + 1, max_value=MAX_AMOUNT * 10, places=0))
def test_amounts_too_large_for_the_columns_are_refused(amount):
    with pytest.raises(MoneyError):
        check_amount(amount)


@given(amount=st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("-0.0001"), places=4))
def test_negative_amounts_are_refused_unless_allowed(amount):
    with pytest.raises(MoneyError):
        check_amount(amount)
    assert check_amount(amount, allow_negative=True) == amount


@pytest.mark.parametrize("code", ["TR", "TRYY", "12A", "", None, 949])
def test_bad_currency_codes_are_refused(code):
    with pytest.raises(MoneyError):
        minor_digits(code)


# --- line amounts and totals ---------------------------------------------------------------


@given(
    quantity=quantities,
    price=prices,
    discount=percents,
    tax=percents,
    currency=currencies,
)
def test_a_line_adds_up_net_plus_tax_is_total(quantity, price, discount, tax, currency):
    line = line_amounts(
        quantity=quantity,
        unit_price=price,
        currency=currency,
        discount_percent=discount,
        tax_rate=tax,
    )
    exponent = -DIGITS[currency]
    for figure in (line.gross, line.discount, line.net, line.tax, line.total):
        assert isinstance(figure, Decimal)
        assert figure.as_tuple().exponent == exponent
    assert line.net == line.gross - line.discount
    assert line.net + line.tax == line.total
    assert line.gross == round_money(quantity * price, currency)
    assert Decimal(0) <= line.discount <= line.gross
    assert line.tax >= 0


@given(
    lines=st.lists(st.tuples(quantities, prices, percents, percents), min_size=0, max_size=20),
    currency=currencies,
)
def test_totals_are_the_sums_of_the_rounded_lines(lines, currency):
    figures = [
        line_amounts(quantity=q, unit_price=p, currency=currency, discount_percent=d, tax_rate=t)
        for q, p, d, t in lines
    ]
    result = totals(figures, currency)
    assert result.subtotal == sum((f.gross for f in figures), Decimal(0))
    assert result.discount == sum((f.discount for f in figures), Decimal(0))
    assert result.net == sum((f.net for f in figures), Decimal(0))
    assert result.tax == sum((f.tax for f in figures), Decimal(0))
    assert result.total == sum((f.total for f in figures), Decimal(0))
    assert result.net + result.tax == result.total
    assert round_money(result.total, currency) == result.total
    for value in (result.subtotal, result.discount, result.net, result.tax, result.total):
        assert isinstance(value, Decimal)


def test_a_document_with_no_lines_totals_zero_in_its_currency():
    assert totals([], "KWD").total == Decimal("0.000")
    assert totals([], "IRR").total == Decimal("0")


@pytest.mark.parametrize(
    ("field", "value"),
    [("discount_percent", "100.01"), ("discount_percent", "-1"), ("tax_rate", "101")],
)
def test_percentages_outside_0_to_100_are_refused(field, value):
    with pytest.raises(MoneyError):
        line_amounts(quantity="1", unit_price="10", currency="TRY", **{field: value})


def test_line_amounts_refuse_float_prices():
    with pytest.raises(MoneyError):
        line_amounts(quantity=1, unit_price=0.1, currency="TRY")


def test_a_known_line_in_each_currency():
    line = line_amounts(
        quantity="3", unit_price="33.3333", currency="TRY", discount_percent="10", tax_rate="20"
    )
    assert line == LineAmounts(
        gross=Decimal("100.00"),
        discount=Decimal("10.00"),
        net=Decimal("90.00"),
        tax=Decimal("18.00"),
        total=Decimal("108.00"),
    )
    irr = line_amounts(quantity="1", unit_price="12345.5", currency="IRR", tax_rate="9")
    assert (irr.gross, irr.tax, irr.total) == (Decimal("12346"), Decimal("1111"), Decimal("13457"))
    kwd = line_amounts(quantity="2", unit_price="1.2345", currency="KWD")
    assert kwd.total == Decimal("2.469")


# --- Money ---------------------------------------------------------------------------------


@given(a=amounts, b=amounts, currency=currencies)
def test_money_adds_and_subtracts_in_one_currency(a, b, currency):
    total = Money(a, currency) + Money(b, currency)
    assert total == Money(a + b, currency)
    assert (total - Money(b, currency)).amount == a
    assert total.currency == currency


@given(a=amounts, b=amounts, first=currencies, second=currencies)
def test_money_refuses_mixing_currencies(a, b, first, second):
    assume(first != second)
    with pytest.raises(MoneyError):
        Money(a, first) + Money(b, second)
    with pytest.raises(MoneyError):
        Money(a, first) - Money(b, second)


@given(a=amounts, factor=st.integers(min_value=-1000, max_value=1000), currency=currencies)
def test_money_multiplies_by_whole_numbers_and_decimals_not_floats(a, factor, currency):
    assert (Money(a, currency) * factor).amount == a * factor
    assert (factor * Money(a, currency)).amount == a * factor
    with pytest.raises(TypeError):
        Money(a, currency) * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(a, currency) + 1  # type: ignore[operator]


@given(a=amounts, currency=currencies)
def test_money_rounds_and_prints_in_its_currency(a, currency):
    money = Money(a, currency)
    assert money.rounded().amount == round_money(a, currency)
    assert str(money) == f"{round_money(a, currency)} {currency}"


def test_money_refuses_floats_and_bad_currencies():
    with pytest.raises(MoneyError):
        Money(0.1, "TRY")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(Decimal(1), "TL")


# --- RateTable -----------------------------------------------------------------------------

D0 = datetime.date(2026, 1, 1)
days = st.integers(min_value=0, max_value=3650).map(lambda n: D0 + datetime.timedelta(days=n))
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)


@given(history=st.dictionaries(days, rates, min_size=1, max_size=30), day=days)
def test_rate_table_uses_the_latest_rate_on_or_before_the_day(history, day):
    table = RateTable("TRY", {"EUR": list(history.items())})
    earlier = [d for d in history if d <= day]
    expected_day = max(earlier) if earlier else min(history)
    assert table.rate("EUR", day) == history[expected_day]
    assert table.convert(Decimal("10"), "EUR", day) == round_money(
        Decimal("10") * history[expected_day], "TRY"
    )


@given(amount=amounts, day=days)
def test_rate_table_converts_its_own_currency_at_one(amount, day):
    table = RateTable("TRY", {})
    assert table.rate("TRY", day) == Decimal(1)
    assert table.convert(amount, "TRY", day) == round_money(amount, "TRY")


def test_rate_table_reports_currencies_it_cannot_convert():
    table = RateTable("TRY", {"EUR": [(D0, Decimal("36"))]})
    assert table.convert(Decimal(5), "USD", D0) is None
    assert table.missing == {"USD"}


@pytest.mark.django_db
def test_rate_table_loads_direct_rates_and_inverts_the_others():
    from vefa.sales.models import ExchangeRate

    ExchangeRate.objects.create(day=D0, currency="EUR", quote_currency="TRY", rate=Decimal("40"))
    ExchangeRate.objects.create(day=D0, currency="TRY", quote_currency="USD", rate=Decimal("0.025"))
    # A direct rate wins over the inverse of the opposite pair on the same day.
    ExchangeRate.objects.create(day=D0, currency="TRY", quote_currency="EUR", rate=Decimal("0.03"))
    table = RateTable.load("TRY")
    assert table.rate("EUR", D0) == Decimal("40")
    assert table.rate("USD", D0) == Decimal(1) / Decimal("0.025")
    assert table.convert(Decimal("2"), "USD", D0) == Decimal("80.00")
    assert RateTable.load("IRR").convert(Decimal(1), "EUR", D0) is None


def test_an_amount_beyond_decimal_precision_is_a_money_error_not_a_crash():
    from vefa.sales.money import MoneyError, line_amounts, round_money

    with pytest.raises(MoneyError):
        round_money("9" * 40, "TRY")
    with pytest.raises(MoneyError):
        line_amounts(quantity="9" * 20, unit_price="9" * 20, currency="TRY")
