"""Writes of price lists, their prices (quantity tiers) and exchange rates.

A price list holds prices in one currency, for every customer or for the customers carrying
one tag (a customer group), optionally within validity dates; ``vefa.sales.pricing`` picks
the price. Exchange rates say what one unit of a currency was worth in another on a day;
reports convert with ``vefa.sales.money.RateTable``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.platform.models import Tag
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.models import ExchangeRate, PriceList, PriceListItem, Product
from vefa.sales.money import MoneyError, to_decimal
from vefa.sales.services._common import (
    as_currency,
    as_date,
    as_money,
    as_pk,
    as_quantity,
    get_for,
    invalid,
)
from vefa.sales.services.catalogue import (
    Cleaner,
    as_bool,
    as_required_text,
    clean_values,
    require_catalogue_manager,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_RATES_PER_CALL = 500
MAX_RATE = Decimal(10) ** 14
RATE_PLACES = Decimal(1).scaleb(-10)


# --- price lists -------------------------------------------------------------------------


def _customer_group(value: Any) -> Tag | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"customer_group_id": [_("Choose an existing tag.")]})
    try:
        key = as_pk(value)
    except Exception:
        raise invalid({"customer_group_id": [_("Choose an existing tag.")]}) from None
    tag = Tag.objects.filter(pk=key).first()
    if tag is None:
        raise invalid({"customer_group_id": [_("Choose an existing tag.")]})
    return tag


PRICE_LIST_CLEANERS: dict[str, Cleaner] = {
    "name": lambda v: as_required_text(v, field="name", max_length=120),
    "currency": as_currency,
    "customer_group_id": _customer_group,
    "valid_from": lambda v: as_date(v, field="valid_from"),
    "valid_until": lambda v: as_date(v, field="valid_until"),
    "is_active": lambda v: as_bool(v, field="is_active"),
}


def _check_validity(valid_from: datetime.date | None, valid_until: datetime.date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise invalid({"valid_until": [_("The end of validity must not be before its start.")]})


def price_list_create(
    *,
    actor: User,
    name: Any,
    currency: Any,
    customer_group_id: Any = None,
    valid_from: Any = None,
    valid_until: Any = None,
    is_active: Any = True,
) -> PriceList:
    """Add a price list in ``currency``, for everyone or for one customer group (a tag)."""
    require_catalogue_manager(actor, PriceList)
    values = clean_values(
        {
            "name": name,
            "currency": currency,
            "customer_group_id": customer_group_id,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "is_active": is_active,
        },
        PRICE_LIST_CLEANERS,
    )
    values["customer_group"] = values.pop("customer_group_id")
    _check_validity(values["valid_from"], values["valid_until"])
    return record_create(PriceList(**values), actor=actor)


def price_list_update(
    *,
    actor: User,
    price_list_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> PriceList:
    """Change a price list. Its currency is fixed once it holds prices (they are in it)."""
    values = clean_values(data, PRICE_LIST_CLEANERS)
    if "customer_group_id" in values:
        values["customer_group"] = values.pop("customer_group_id")
    with transaction.atomic():
        current = get_for(PriceList.objects.all(), actor=actor, pk=price_list_id)
        if (
            "currency" in values
            and values["currency"] != current.currency
            and current.items.exists()
        ):
            raise invalid(
                {"currency": [_("The currency of a price list with prices cannot change.")]}
            )
        _check_validity(
            values.get("valid_from", current.valid_from),
            values.get("valid_until", current.valid_until),
        )
        return record_update(current, actor=actor, data=values, expected_version=expected_version)


def price_list_delete(*, actor: User, price_list_id: Any) -> None:
    """Delete a price list with its prices (documents keep the prices they copied)."""
    with transaction.atomic():
        price_list = get_for(
            PriceList.objects.all(), actor=actor, pk=price_list_id, action="delete"
        )
        record_delete(price_list, actor=actor)


# --- prices (items) ----------------------------------------------------------------------


def _product(value: Any) -> Product:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise invalid({"product_id": [_("Choose an existing product.")]})
    try:
        key = as_pk(value)
    except Exception:
        raise invalid({"product_id": [_("Choose an existing product.")]}) from None
    product = Product.objects.filter(pk=key).first()
    if product is None:
        raise invalid({"product_id": [_("Choose an existing product.")]})
    return product


def _min_quantity(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("1.000")
    return as_quantity(value, field="min_quantity")


ITEM_CLEANERS: dict[str, Cleaner] = {
    "product_id": _product,
    "min_quantity": _min_quantity,
    "unit_price": lambda v: as_money(v, field="unit_price"),
}


def _tier_taken() -> ValidationFailed:
    return invalid(
        {"min_quantity": [_("This product already has a price from this quantity in this list.")]}
    )


def price_list_item_add(
    *,
    actor: User,
    price_list_id: Any,
    product_id: Any,
    unit_price: Any,
    min_quantity: Any = None,
) -> PriceListItem:
    """Give a product a price in the list from ``min_quantity`` on (one price per tier)."""
    values = clean_values(
        {"product_id": product_id, "min_quantity": min_quantity, "unit_price": unit_price},
        ITEM_CLEANERS,
    )
    try:
        with transaction.atomic():
            price_list = get_for(PriceList.objects.all(), actor=actor, pk=price_list_id)
            if PriceListItem.objects.filter(
                price_list=price_list,
                product=values["product_id"],
                min_quantity=values["min_quantity"],
            ).exists():
                raise _tier_taken()
            item = PriceListItem(
                price_list=price_list,
                product=values["product_id"],
                min_quantity=values["min_quantity"],
                unit_price=values["unit_price"],
            )
            return record_create(item, actor=actor)
    except IntegrityError:
        raise _tier_taken() from None


def price_list_item_update(
    *,
    actor: User,
    item_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> PriceListItem:
    """Change a price's amount or its from-quantity."""
    cleaners = {k: v for k, v in ITEM_CLEANERS.items() if k != "product_id"}
    values = clean_values(data, cleaners)
    try:
        with transaction.atomic():
            current = get_for(PriceListItem.objects.all(), actor=actor, pk=item_id)
            if "min_quantity" in values and (
                PriceListItem.objects.filter(
                    price_list_id=current.price_list_id,
                    product_id=current.product_id,
                    min_quantity=values["min_quantity"],
                )
                .exclude(pk=current.pk)
                .exists()
            ):
                raise _tier_taken()
            return record_update(
                current, actor=actor, data=values, expected_version=expected_version
            )
    except IntegrityError:
        raise _tier_taken() from None


def price_list_item_remove(*, actor: User, item_id: Any) -> None:
    with transaction.atomic():
        item = get_for(PriceListItem.objects.all(), actor=actor, pk=item_id, action="delete")
        record_delete(item, actor=actor)


# --- exchange rates ----------------------------------------------------------------------


def as_rate(value: Any, *, field: str = "rate") -> Decimal:
    """A positive exchange rate with at most ten decimals (floats are refused)."""
    if value is None or value == "":
        raise invalid({field: [_("This field is required.")]})
    try:
        number = to_decimal(value)
    except MoneyError:
        raise invalid({field: [_("Enter a rate, e.g. 36.4250.")]}) from None
    if number <= 0:
        raise invalid({field: [_("Enter a rate above zero.")]})
    if number >= MAX_RATE:
        raise invalid({field: [_("Enter a smaller rate.")]})
    rounded = number.quantize(RATE_PLACES)
    if rounded <= 0:
        raise invalid({field: [_("Enter a rate above zero.")]})
    return rounded


def _rate_values(
    *, day: Any, currency: Any, quote_currency: Any, rate: Any, prefix: str = ""
) -> dict[str, Any]:
    values = clean_values(
        {"day": day, "currency": currency, "quote_currency": quote_currency, "rate": rate},
        {
            "day": lambda v: as_date(v, field=f"{prefix}day", required=True),
            "currency": lambda v: as_currency(v, field=f"{prefix}currency"),
            "quote_currency": lambda v: as_currency(v, field=f"{prefix}quote_currency"),
            "rate": lambda v: as_rate(v, field=f"{prefix}rate"),
        },
    )
    if values["currency"] == values["quote_currency"]:
        raise invalid({f"{prefix}quote_currency": [_("Choose two different currencies.")]})
    return values


def _rate_taken() -> ValidationFailed:
    return invalid({"day": [_("A rate for this pair of currencies and day exists already.")]})


def exchange_rate_create(
    *, actor: User, day: Any, currency: Any, quote_currency: Any, rate: Any
) -> ExchangeRate:
    """Record that on ``day`` one ``currency`` was worth ``rate`` ``quote_currency``."""
    require_catalogue_manager(actor, ExchangeRate)
    values = _rate_values(day=day, currency=currency, quote_currency=quote_currency, rate=rate)
    try:
        with transaction.atomic():
            if ExchangeRate.objects.filter(
                day=values["day"],
                currency=values["currency"],
                quote_currency=values["quote_currency"],
            ).exists():
                raise _rate_taken()
            return record_create(ExchangeRate(**values), actor=actor)
    except IntegrityError:
        raise _rate_taken() from None


def exchange_rate_delete(*, actor: User, rate_id: Any) -> None:
    with transaction.atomic():
        rate = get_for(ExchangeRate.objects.all(), actor=actor, pk=rate_id, action="delete")
        record_delete(rate, actor=actor)


def exchange_rates_upsert(
    *, actor: User, day: Any, rates: Sequence[Mapping[str, Any]]
) -> list[ExchangeRate]:
    """Set the rates of one day in one go (a daily feed): new pairs are added, known pairs
    get the new rate, unchanged ones write nothing. All rows are checked first; one bad row
    refuses the whole call and names the row (``rates.3.rate``)."""
    require_catalogue_manager(actor, ExchangeRate)
    the_day = as_date(day, field="day", required=True)
    assert the_day is not None
    if isinstance(rates, str | bytes) or not isinstance(rates, Sequence):
        raise invalid({"rates": [_("Give a list of rates.")]})
    if not rates:
        raise invalid({"rates": [_("Give at least one rate.")]})
    if len(rates) > MAX_RATES_PER_CALL:
        raise invalid({"rates": [_("At most %(n)d rates at once.") % {"n": MAX_RATES_PER_CALL}]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[tuple[str, str], dict[str, Any]] = {}
    for index, row in enumerate(rates):
        prefix = f"rates.{index}."
        if not isinstance(row, Mapping):
            errors[f"rates.{index}"] = [_("Expected an object of field values.")]
            continue
        unknown = set(row) - {"currency", "quote_currency", "rate"}
        if unknown:
            for key in sorted(map(str, unknown)):
                errors[f"{prefix}{key}"] = [_("Unknown field.")]
            continue
        try:
            values = _rate_values(
                day=the_day,
                currency=row.get("currency"),
                quote_currency=row.get("quote_currency"),
                rate=row.get("rate"),
                prefix=prefix,
            )
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        pair = (values["currency"], values["quote_currency"])
        if pair in cleaned:
            errors[f"{prefix}currency"] = [_("This pair of currencies is listed twice.")]
            continue
        cleaned[pair] = values
    if errors:
        raise invalid(errors)
    result: list[ExchangeRate] = []
    with transaction.atomic():
        existing = {
            (r.currency, r.quote_currency): r
            for r in ExchangeRate.objects.select_for_update().filter(day=the_day)
        }
        for pair, values in cleaned.items():
            known = existing.get(pair)
            if known is None:
                result.append(record_create(ExchangeRate(**values), actor=actor))
            else:
                result.append(record_update(known, actor=actor, data={"rate": values["rate"]}))
    return result
