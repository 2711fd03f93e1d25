"""API input and output schemas of the sales catalogue.

Money goes in as text or a whole number (``"1250.50"``, ``1250``), never as a JSON float,
and comes out as text, so no amount passes through binary floating point.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from vefa.sales.models import PriceListItem, Product, Stage
from vefa.sales.money import round_money

Amount = str | int


def product_margin(product: Product) -> tuple[Decimal | None, Decimal | None]:
    """List price − unit cost, rounded to the currency, and that as a percentage of the
    list price (``None`` without a unit cost; the percentage also without a price)."""
    if product.unit_cost is None:
        return None, None
    margin = round_money(product.list_price - product.unit_cost, product.currency)
    if not product.list_price:
        return margin, None
    percent = (margin / product.list_price * 100).quantize(Decimal("0.1"))
    return margin, percent


# --- categories --------------------------------------------------------------------------


class CategoryIn(Schema):
    name: str
    parent_id: int | None = None


class CategoryPatch(Schema):
    name: str | None = None
    parent_id: int | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    version: int


class CategoryListOut(Schema):
    items: list[CategoryOut]


# --- products ----------------------------------------------------------------------------


class ProductIn(Schema):
    sku: str
    name: str
    description: str = ""
    category_id: int | None = None
    unit: str = "piece"
    list_price: Amount = "0"
    unit_cost: Amount | None = None
    currency: str = "TRY"
    tax_rate: Amount = "0"
    is_active: bool = True
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class ProductPatch(Schema):
    sku: str | None = None
    name: str | None = None
    description: str | None = None
    category_id: int | None = None
    unit: str | None = None
    list_price: Amount | None = None
    unit_cost: Amount | None = None
    currency: str | None = None
    tax_rate: Amount | None = None
    is_active: bool | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    category_id: int | None
    category_name: str | None
    unit: str
    list_price: Decimal
    unit_cost: Decimal | None
    currency: str
    tax_rate: Decimal
    margin: Decimal | None
    margin_percent: Decimal | None
    is_active: bool
    custom_fields: dict[str, Any]
    tags: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_category_name(obj: Product) -> str | None:
        return obj.category.name if obj.category_id and obj.category else None

    @staticmethod
    def resolve_margin(obj: Product) -> Decimal | None:
        return product_margin(obj)[0]

    @staticmethod
    def resolve_margin_percent(obj: Product) -> Decimal | None:
        return product_margin(obj)[1]

    @staticmethod
    def resolve_tags(obj: Product) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class ProductPageOut(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    previous_cursor: str | None


class PriceOut(Schema):
    product_id: int
    currency: str
    quantity: Decimal
    unit_price: Decimal | None = Field(
        description="Null when no price list and no list price in this currency applies."
    )
    source: str = Field(description="price_list, list_price or none")
    price_list_id: int | None
    price_list_name: str | None
    tax_rate: Decimal


# --- price lists -------------------------------------------------------------------------


class PriceListIn(Schema):
    name: str
    currency: str
    customer_group_id: int | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    is_active: bool = True


class PriceListPatch(Schema):
    name: str | None = None
    currency: str | None = None
    customer_group_id: int | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    is_active: bool | None = None


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    customer_group_id: int | None
    customer_group_name: str | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    is_active: bool
    version: int

    @staticmethod
    def resolve_customer_group_name(obj: Any) -> str | None:
        return obj.customer_group.name if obj.customer_group_id else None


class PriceListPageOut(Schema):
    items: list[PriceListOut]
    next_cursor: str | None
    previous_cursor: str | None


class PriceListItemIn(Schema):
    product_id: int
    unit_price: Amount
    min_quantity: Amount = "1"


class PriceListItemPatch(Schema):
    unit_price: Amount | None = None
    min_quantity: Amount | None = None


class PriceListItemOut(Schema):
    id: int
    price_list_id: int
    product_id: int
    product_sku: str
    min_quantity: Decimal
    unit_price: Decimal
    version: int

    @staticmethod
    def resolve_product_sku(obj: PriceListItem) -> str:
        return obj.product.sku


class PriceListItemPageOut(Schema):
    items: list[PriceListItemOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- exchange rates ----------------------------------------------------------------------


class ExchangeRateIn(Schema):
    day: datetime.date
    currency: str
    quote_currency: str
    rate: Amount


class ExchangeRateOut(Schema):
    id: int
    day: datetime.date
    currency: str
    quote_currency: str
    rate: Decimal
    version: int


class ExchangeRatePageOut(Schema):
    items: list[ExchangeRateOut]
    next_cursor: str | None
    previous_cursor: str | None


class DayRateIn(Schema):
    currency: str
    quote_currency: str
    rate: Amount


class DayRatesIn(Schema):
    rates: list[DayRateIn] = Field(max_length=500)


class DayRatesOut(Schema):
    day: datetime.date
    items: list[ExchangeRateOut]


# --- competitors -------------------------------------------------------------------------


class CompetitorIn(Schema):
    name: str
    website: str = ""
    notes: str = ""


class CompetitorPatch(Schema):
    name: str | None = None
    website: str | None = None
    notes: str | None = None


class CompetitorOut(Schema):
    id: int
    name: str
    website: str
    notes: str
    version: int


class CompetitorPageOut(Schema):
    items: list[CompetitorOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- pipelines ---------------------------------------------------------------------------


class StageIn(Schema):
    name: str
    kind: str = "open"
    probability: int | None = None
    stale_after_days: int = 30


class StagePatch(Schema):
    name: str | None = None
    kind: str | None = None
    probability: int | None = None
    stale_after_days: int | None = None


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    order: int
    kind: str
    probability: int
    stale_after_days: int
    version: int


class StageOrderIn(Schema):
    stage_ids: list[int] = Field(max_length=100)


class PipelineIn(Schema):
    name: str
    kind: str = "new_business"
    is_default: bool = False
    is_active: bool = True
    order: int | None = None


class PipelinePatch(Schema):
    name: str | None = None
    kind: str | None = None
    is_default: bool | None = None
    is_active: bool | None = None
    order: int | None = None


class PipelineOut(Schema):
    id: int
    name: str
    kind: str
    is_default: bool
    is_active: bool
    order: int
    version: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Stage]:
        return list(obj.stages.all())


class PipelineListOut(Schema):
    items: list[PipelineOut]
