"""Schemas of the returns API."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from vefa.service.choices import ReturnReason, ReturnStatus
from vefa.service.models import ReturnRequest
from vefa.service.services.returns import MAX_LINES, next_statuses

ID = Field(ge=1, le=2**63 - 1)


class ReturnLineIn(Schema):
    order_line: int = ID
    quantity: Decimal | str = Field(description="Above zero, at most three decimals")
    reason: ReturnReason | None = None
    condition: str = Field(default="", max_length=200)


class ReturnIn(Schema):
    """A return of lines of one order (each at most the ordered quantity minus what active
    returns already take back)."""

    order: int = ID
    reason: ReturnReason
    reason_detail: str = Field(default="", max_length=20_000)
    contact: int | None = Field(default=None, ge=1, le=2**63 - 1)
    ticket: int | None = Field(default=None, ge=1, le=2**63 - 1)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_LINES)


class ReturnStepIn(Schema):
    """The next step and its data.

    ``pickup``: ``carrier`` (required), ``tracking_number``, ``pickup_at``;
    ``in_transit``: ``carrier``, ``tracking_number``; ``received``: ``storage_location``
    (required); ``inspected``: ``inspection_notes`` and ``disposition`` (required), ``lines``
    (``[{id, condition, disposition}]``); ``completed``: ``refund_amount`` (required when the
    disposition is refund; at most the returned lines' value); ``rejected``: ``note``
    (required). Every step takes a ``note`` for the contact history.
    """

    status: ReturnStatus
    data: dict[str, Any] = Field(default_factory=dict)


class ReturnLineOut(Schema):
    id: int
    order_line_id: int
    product_id: int | None
    quantity: Decimal
    reason: str
    condition: str
    disposition: str


class ReturnSummaryOut(Schema):
    id: int
    number: str
    status: str
    reason: str
    customer_id: int
    order_id: int
    owner_id: int | None
    team_id: int | None
    refund_amount: Decimal
    currency: str
    created_at: datetime.datetime
    version: int


class ReturnOut(ReturnSummaryOut):
    contact_id: int | None
    ticket_id: int | None
    reason_detail: str
    carrier: str
    tracking_number: str
    pickup_at: datetime.datetime | None
    received_at: datetime.datetime | None
    inspected_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    storage_location: str
    inspection_notes: str
    disposition: str
    next_statuses: list[str]
    lines: list[ReturnLineOut]
    updated_at: datetime.datetime

    @staticmethod
    def resolve_next_statuses(obj: ReturnRequest) -> list[str]:
        return next_statuses(obj)

    @staticmethod
    def resolve_lines(obj: ReturnRequest) -> list[Any]:
        return list(obj.lines.all())


class ReturnPageOut(Schema):
    items: list[ReturnSummaryOut]
    next_cursor: str | None
    previous_cursor: str | None


class RateRowOut(Schema):
    key: str
    label: str
    sold: Decimal
    returned: Decimal
    rate: Decimal


class ReturnRatesOut(Schema):
    date_from: datetime.date
    date_to: datetime.date
    sold: Decimal
    returned: Decimal
    rate: Decimal
    by_product: list[RateRowOut]
    by_reason: list[RateRowOut]
