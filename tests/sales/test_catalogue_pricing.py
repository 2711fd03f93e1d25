"""The price of a line (``vefa.sales.pricing.price_for``): which list and which tier wins."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from vefa.platform.models import Tag
from vefa.sales.models import PriceList, PriceListItem
from vefa.sales.pricing import customer_tag_ids, price_for

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def wholesale(db) -> Tag:
    return Tag.objects.create(name="Toptan", slug="toptan")


def make_list(name="Genel", currency="TRY", group=None, **kwargs) -> PriceList:
    return PriceList.objects.create(name=name, currency=currency, customer_group=group, **kwargs)


def add(price_list, product, price, from_quantity="1") -> PriceListItem:
    return PriceListItem.objects.create(
        price_list=price_list,
        product=product,
        min_quantity=Decimal(from_quantity),
        unit_price=Decimal(price),
    )


def test_without_lists_the_list_price_in_the_same_currency_applies(product):
    price = price_for(product, currency="TRY", on=TODAY)
    assert price is not None
    assert price.unit_price == Decimal("120.00")
    assert price.price_list is None


def test_without_lists_another_currency_has_no_price(product):
    assert price_for(product, currency="EUR", on=TODAY) is None


def test_a_general_list_beats_the_list_price(product):
    general = make_list()
    add(general, product, "110")
    price = price_for(product, currency="TRY", on=TODAY)
    assert (price.unit_price, price.price_list) == (Decimal("110"), general)


def test_a_list_in_another_currency_gives_that_currency_a_price(product):
    euro = make_list(name="Euro", currency="EUR")
    add(euro, product, "3.10")
    assert price_for(product, currency="EUR", on=TODAY).unit_price == Decimal("3.10")
    assert price_for(product, currency="TRY", on=TODAY).price_list is None


def test_the_customer_group_list_beats_the_general_list(product, wholesale):
    general = make_list()
    add(general, product, "110")
    group_list = make_list(name="Toptan", group=wholesale)
    add(group_list, product, "95")
    price = price_for(product, currency="TRY", customer_tag_ids={wholesale.pk}, on=TODAY)
    assert (price.unit_price, price.price_list) == (Decimal("95"), group_list)
    # A customer outside the group gets the general list.
    other = price_for(product, currency="TRY", customer_tag_ids=set(), on=TODAY)
    assert other.price_list == general


def test_the_group_list_wins_even_when_the_general_list_is_cheaper(product, wholesale):
    add(make_list(), product, "50")
    add(make_list(name="Toptan", group=wholesale), product, "95")
    price = price_for(product, currency="TRY", customer_tag_ids={wholesale.pk}, on=TODAY)
    assert price.unit_price == Decimal("95")


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("1", "100"), ("9.999", "100"), ("10", "90"), ("49", "90"), ("50", "80"), ("1000", "80")],
)
def test_the_highest_tier_reached_applies(product, quantity, expected):
    general = make_list()
    add(general, product, "100", "1")
    add(general, product, "90", "10")
    add(general, product, "80", "50")
    price = price_for(product, currency="TRY", quantity=Decimal(quantity), on=TODAY)
    assert price.unit_price == Decimal(expected)


def test_below_the_lowest_tier_the_list_price_applies(product):
    general = make_list()
    add(general, product, "90", "10")
    price = price_for(product, currency="TRY", quantity=Decimal("2"), on=TODAY)
    assert (price.unit_price, price.price_list) == (Decimal("120.00"), None)


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "applies"),
    [
        (None, None, True),
        (TODAY, None, True),
        (None, TODAY, True),
        (TODAY, TODAY, True),
        (TODAY + datetime.timedelta(days=1), None, False),
        (None, TODAY - datetime.timedelta(days=1), False),
    ],
)
def test_validity_dates_include_both_ends(product, valid_from, valid_until, applies):
    seasonal = make_list(valid_from=valid_from, valid_until=valid_until)
    add(seasonal, product, "99")
    price = price_for(product, currency="TRY", on=TODAY)
    assert (price.price_list == seasonal) is applies
    assert price.unit_price == (Decimal("99") if applies else Decimal("120.00"))


def test_inactive_lists_are_ignored(product, wholesale):
    add(make_list(is_active=False), product, "10")
    add(make_list(name="Toptan", group=wholesale, is_active=False), product, "5")
    price = price_for(product, currency="TRY", customer_tag_ids={wholesale.pk}, on=TODAY)
    assert (price.unit_price, price.price_list) == (Decimal("120.00"), None)


def test_an_inactive_list_in_another_currency_gives_no_price(product):
    add(make_list(currency="EUR", is_active=False), product, "3")
    assert price_for(product, currency="EUR", on=TODAY) is None


def test_a_group_list_of_another_group_is_ignored(product, wholesale):
    retail = Tag.objects.create(name="Perakende", slug="perakende")
    add(make_list(name="Toptan", group=wholesale), product, "70")
    price = price_for(product, currency="TRY", customer_tag_ids={retail.pk}, on=TODAY)
    assert price.price_list is None


def test_customer_tag_ids_are_the_customers_tags(own_customer, wholesale):
    own_customer.tags.add(wholesale)
    assert customer_tag_ids(own_customer.pk) == {wholesale.pk}
