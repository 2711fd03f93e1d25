"""API schemas of tags and custom-field definitions (inputs separate from outputs)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from vefa.platform.models import CustomFieldDefinition


class TagIn(Schema):
    name: str = Field(max_length=200)
    color: str = Field("", max_length=7, description="#rrggbb")


class TagOut(Schema):
    id: int
    name: str
    slug: str
    color: str


class TagPageOut(Schema):
    items: list[TagOut]
    next_cursor: str | None
    previous_cursor: str | None


FieldTypeLiteral = CustomFieldDefinition.FieldType


class CustomFieldIn(Schema):
    model: str = Field(max_length=100, description="record type, e.g. customers.customer")
    key: str = Field(max_length=50)
    label: str = Field(max_length=100)
    field_type: FieldTypeLiteral
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=200)
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_length: int | None = Field(None, ge=1)
    regex: str = Field("", max_length=200)
    help_text: str = Field("", max_length=200)
    show_in_list: bool = False
    searchable: bool = True
    order: int = Field(100, ge=0, le=100_000)


class CustomFieldPatch(Schema):
    """Every field optional; the record type and the key never change."""

    label: str | None = Field(None, max_length=100)
    field_type: FieldTypeLiteral | None = None
    required: bool | None = None
    choices: list[str] | None = Field(None, max_length=200)
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_length: int | None = Field(None, ge=1)
    regex: str | None = Field(None, max_length=200)
    help_text: str | None = Field(None, max_length=200)
    show_in_list: bool | None = None
    searchable: bool | None = None
    order: int | None = Field(None, ge=0, le=100_000)


class CustomFieldOut(Schema):
    id: int
    model: str
    key: str
    label: str
    field_type: str
    required: bool
    choices: list[Any]
    min_value: Decimal | None
    max_value: Decimal | None
    max_length: int | None
    regex: str
    help_text: str
    show_in_list: bool
    searchable: bool
    order: int
    version: int
    updated_at: datetime.datetime
