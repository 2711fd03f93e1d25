"""API input and output schemas of opportunities, their lines and competing bids."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from vefa.customers.choices import Source
from vefa.sales.choices import ForecastCategory, LostReason
from vefa.sales.models import Opportunity

# API names (``…_id``) of the relations and the service's field names.
RELATIONS = {
    "customer_id": "customer",
    "contact_id": "contact",
    "pipeline_id": "pipeline",
    "stage_id": "stage",
    "owner_id": "owner",
    "team_id": "team",
    "lost_to_id": "lost_to",
}


def service_data(data: dict[str, Any]) -> dict[str, Any]:
    """Schema fields as the services name them; amounts as text (never floats)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            value = str(value)
        values[RELATIONS.get(key, key)] = value
    return values


class LineIn(Schema):
    product_id: int | None = None
    description: str = Field(default="", max_length=300)
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount_percent: Decimal = Decimal(0)

    def service(self) -> dict[str, Any]:
        data = self.model_dump()
        values = {
            "product": data["product_id"],
            "description": data["description"],
            "quantity": str(data["quantity"]),
            "discount_percent": str(data["discount_percent"]),
        }
        if data["unit_price"] is not None:
            values["unit_price"] = str(data["unit_price"])
        return values


class LineOut(Schema):
    id: int
    position: int
    product_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    total: Decimal


class BidIn(Schema):
    competitor_id: int
    price: Decimal | None = None
    currency: str = Field(default="", max_length=3)
    notes: str = Field(default="", max_length=300)


class BidOut(Schema):
    id: int
    competitor_id: int
    competitor_name: str
    price: Decimal | None
    currency: str
    notes: str

    @staticmethod
    def resolve_competitor_name(obj: Any) -> str:
        return str(obj.competitor.name)


class OpportunityIn(Schema):
    name: str = Field(max_length=200)
    customer_id: int
    contact_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: Decimal | None = None
    currency: str | None = Field(default=None, max_length=3)
    expected_close_date: datetime.date | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    forecast_category: ForecastCategory = ForecastCategory.PIPELINE
    owner_id: int | None = None
    team_id: int | None = None
    source: Source | None = None
    next_step: str = Field(default="", max_length=300)
    follow_up_date: datetime.date | None = None
    follow_up_kind: str | None = Field(default=None, max_length=10)
    lost_reason: LostReason | None = None
    lost_note: str = Field(default="", max_length=500)
    lost_to_id: int | None = None
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None
    lines: list[LineIn] | None = Field(default=None, max_length=200)


class OpportunityPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    customer_id: int | None = None
    contact_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: Decimal | None = None
    currency: str | None = Field(default=None, max_length=3)
    expected_close_date: datetime.date | None = None
    probability: int | None = Field(default=None, ge=0, le=100)
    forecast_category: ForecastCategory | None = None
    owner_id: int | None = None
    team_id: int | None = None
    source: Source | None = None
    next_step: str | None = Field(default=None, max_length=300)
    follow_up_date: datetime.date | None = None
    follow_up_kind: str | None = Field(default=None, max_length=10)
    lost_reason: LostReason | None = None
    lost_note: str | None = Field(default=None, max_length=500)
    lost_to_id: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class MoveIn(Schema):
    stage_id: int
    probability: int | None = Field(default=None, ge=0, le=100)
    lost_reason: LostReason | None = None
    lost_note: str | None = Field(default=None, max_length=500)
    lost_to_id: int | None = None


class OpportunityOut(Schema):
    id: int
    name: str
    customer_id: int
    customer_name: str
    contact_id: int | None
    pipeline_id: int
    stage_id: int
    stage_name: str
    status: str
    amount: Decimal
    currency: str
    expected_close_date: datetime.date | None
    probability: int
    forecast_category: str
    owner_id: int | None
    team_id: int | None
    source: str
    next_step: str
    follow_up_date: datetime.date | None
    follow_up_activity_id: int | None
    lost_reason: str
    lost_note: str
    lost_to_id: int | None
    stage_changed_at: datetime.datetime
    closed_at: datetime.datetime | None
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_customer_name(obj: Opportunity) -> str:
        return str(obj.customer.display_name)

    @staticmethod
    def resolve_stage_name(obj: Opportunity) -> str:
        return str(obj.stage.name)


class OpportunityDetailOut(OpportunityOut):
    tags: list[str]
    lines: list[LineOut]
    competitor_bids: list[BidOut]

    @staticmethod
    def resolve_tags(obj: Opportunity) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_lines(obj: Opportunity) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_competitor_bids(obj: Opportunity) -> list[Any]:
        return list(obj.competitor_bids.all())


class OpportunityPageOut(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None
    previous_cursor: str | None
