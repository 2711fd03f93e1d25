"""API input and output schemas of customers, their child records and leads.

Inputs are separate from outputs; a ``…Patch`` schema has every field optional and only the
fields sent are changed (``null`` clears a text field). Lengths, formats and the rules across
fields are checked by the services, which name each bad field.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field, create_model

from vefa.customers.choices import (
    AddressKind,
    Channel,
    ConsentPurpose,
    ContactPointKind,
    CustomerKind,
    Gender,
    HomeOwnership,
    IncomeBand,
    LeadStatus,
    LifecycleStage,
    MaritalStatus,
    RelationshipKind,
    Source,
)
from vefa.customers.filters import ListFilterForm, filter_extensions
from vefa.customers.models import Consent, Customer, CustomerRelationship, Lead

# --- filters -------------------------------------------------------------------------------


def filter_query_schema(form_class: type[ListFilterForm], name: str) -> type[Schema]:
    """The query parameters of a list, generated from its filter form (the one definition).

    Every parameter is optional text here: the form validates it and reports errors in the
    API error shape. Custom fields (``cf_<key>``) are read as well but not listed, because
    administrators define them at run time.
    """
    fields: dict[str, Any] = {}
    form_fields = dict(form_class.base_fields)
    for extension in filter_extensions(form_class.model_label):
        form_fields.update(extension.form_fields())
    for field_name, field in form_fields.items():
        description = str(field.label or field_name)
        if field_name == "sort":
            description += ": " + ", ".join(form_class.SORTS)
        elif field.help_text:
            description += f" ({field.help_text})"
        fields[field_name] = (str | None, Field(None, description=description))
    return create_model(name, __base__=Schema, **fields)


# --- customers -----------------------------------------------------------------------------


class CustomerFieldsIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    birth_date: datetime.date | None = None
    gender: Gender | None = None
    income_band: IncomeBand | None = None
    marital_status: MaritalStatus | None = None
    children_count: int | None = Field(None, ge=0, le=100)
    home_ownership: HomeOwnership | None = None
    pets: str | None = None
    hobbies: str | None = None
    sports_interests: str | None = None
    legal_name: str | None = None
    trade_name: str | None = None
    employee_count: int | None = Field(None, ge=0)
    annual_revenue: Decimal | None = Field(None, ge=0)
    nace_code: str | None = None
    sic_code: str | None = None
    tax_number: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    source: Source | None = None
    language: str | None = None
    currency: str | None = Field(None, description="ISO 4217 code, e.g. TRY")
    notes: str | None = None
    preferred_channel: Channel | None = None
    contact_frequency_days: int | None = Field(None, ge=1, le=3650)
    quiet_hours_start: datetime.time | None = None
    quiet_hours_end: datetime.time | None = None
    owner: int | None = Field(None, description="User id of the owner")
    team: int | None = Field(None, description="Team id")
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class CustomerIn(CustomerFieldsIn):
    kind: CustomerKind
    email: str = Field("", description="Primary e-mail address (becomes a contact point)")
    phone: str = Field("", description="Primary phone number (becomes a contact point)")


class CustomerPatch(CustomerFieldsIn):
    pass


class CustomerOut(Schema):
    id: int
    kind: str
    display_name: str
    first_name: str
    last_name: str
    birth_date: datetime.date | None
    age: int | None
    next_birthday: datetime.date | None
    gender: str
    income_band: str
    marital_status: str
    children_count: int | None
    home_ownership: str
    pets: str
    hobbies: str
    sports_interests: str
    legal_name: str
    trade_name: str
    employee_count: int | None
    annual_revenue: Decimal | None
    nace_code: str
    sic_code: str
    tax_number: str
    lifecycle_stage: str
    stage_changed_at: datetime.datetime
    became_customer_at: datetime.datetime | None
    lost_at: datetime.datetime | None
    source: str
    owner_id: int | None
    team_id: int | None
    language: str
    currency: str
    notes: str
    preferred_channel: str
    contact_frequency_days: int | None
    quiet_hours_start: datetime.time | None
    quiet_hours_end: datetime.time | None
    last_interaction_at: datetime.datetime | None
    primary_email: str
    primary_phone: str
    city: str
    country: str
    custom_fields: dict[str, Any]
    tags: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    url: str

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_url(obj: Customer) -> str:
        return obj.get_absolute_url()


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None
    previous_cursor: str | None


class BulkAssignIn(Schema):
    customer_ids: list[int] = Field(..., max_length=500)
    owner: int | None = None
    team: int | None = None
    set_owner: bool = True
    set_team: bool = False


class BulkTagIn(Schema):
    customer_ids: list[int] = Field(..., max_length=500)
    add: list[str] = []
    remove: list[str] = []


class BulkResultOut(Schema):
    changed: int
    unchanged: int
    refused: int


# --- relationships -------------------------------------------------------------------------


class RelationshipIn(Schema):
    to_customer: int
    kind: RelationshipKind
    job_title: str = ""
    role: str = ""
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    notes: str = ""


class RelationshipPatch(Schema):
    job_title: str | None = None
    role: str | None = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    notes: str | None = None


class RelationshipOut(Schema):
    id: int
    kind: str
    from_customer_id: int
    from_customer_name: str
    to_customer_id: int
    to_customer_name: str
    job_title: str
    role: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    notes: str
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_from_customer_name(obj: CustomerRelationship) -> str:
        return obj.from_customer.display_name

    @staticmethod
    def resolve_to_customer_name(obj: CustomerRelationship) -> str:
        return obj.to_customer.display_name


class RelationshipPageOut(Schema):
    items: list[RelationshipOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- addresses -----------------------------------------------------------------------------


class AddressIn(Schema):
    kind: AddressKind
    line1: str
    line2: str = ""
    district: str = ""
    city: str
    region: str = ""
    postal_code: str = ""
    country: str = Field(..., description="ISO 3166-1 alpha-2, e.g. TR")
    is_primary: bool = False


class AddressPatch(Schema):
    kind: AddressKind | None = None
    line1: str | None = None
    line2: str | None = None
    district: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    is_primary: bool | None = None


class AddressOut(Schema):
    id: int
    customer_id: int
    kind: str
    line1: str
    line2: str
    district: str
    city: str
    region: str
    postal_code: str
    country: str
    is_primary: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AddressPageOut(Schema):
    items: list[AddressOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- contact points ------------------------------------------------------------------------


class ContactPointIn(Schema):
    kind: ContactPointKind
    value: str
    country: str = Field("", description="Country to read a national phone number in")
    label: str = ""
    network: str = ""
    is_primary: bool = False


class ContactPointPatch(Schema):
    kind: ContactPointKind | None = None
    value: str | None = None
    country: str | None = None
    label: str | None = None
    network: str | None = None
    is_primary: bool | None = None


class ContactPointOut(Schema):
    id: int
    customer_id: int
    kind: str
    value: str
    normalized: str
    country: str
    label: str
    network: str
    is_primary: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ContactPointPageOut(Schema):
    items: list[ContactPointOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- consent -------------------------------------------------------------------------------


class ConsentIn(Schema):
    channel: Channel
    purpose: ConsentPurpose
    source: str = Field("crm", description="Where it was given: web form, call, paper …")
    text_version: str = Field("", description="Version of the consent text; default: last")
    recorded_at: datetime.datetime | None = Field(None, description="Default: now")


class ConsentOut(Schema):
    id: int
    customer_id: int
    channel: str
    purpose: str
    status: str
    source: str
    text_version: str
    recorded_at: datetime.datetime
    recorded_by_id: int | None
    recorded_by: str

    @staticmethod
    def resolve_recorded_by_id(obj: Consent) -> int | None:
        return obj.created_by_id

    @staticmethod
    def resolve_recorded_by(obj: Consent) -> str:
        return str(obj.created_by) if obj.created_by_id else ""


class ConsentPageOut(Schema):
    items: list[ConsentOut]
    next_cursor: str | None
    previous_cursor: str | None


# --- leads ---------------------------------------------------------------------------------


class LeadFieldsIn(Schema):
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    job_title: str | None = None
    email: str | None = None
    phone: str | None = None
    source: Source | None = None
    status: LeadStatus | None = None
    score: int | None = Field(None, ge=0, le=100)
    notes: str | None = None
    owner: int | None = Field(None, description="User id; empty: assignment rules decide")
    team: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class LeadIn(LeadFieldsIn):
    pass


class LeadPatch(LeadFieldsIn):
    pass


class LeadOut(Schema):
    id: int
    display_name: str
    first_name: str
    last_name: str
    company_name: str
    job_title: str
    email: str
    phone: str
    source: str
    status: str
    score: int
    notes: str
    owner_id: int | None
    team_id: int | None
    converted_customer_id: int | None
    converted_at: datetime.datetime | None
    custom_fields: dict[str, Any]
    tags: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    url: str

    @staticmethod
    def resolve_display_name(obj: Lead) -> str:
        return str(obj)

    @staticmethod
    def resolve_tags(obj: Lead) -> list[str]:
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_url(obj: Lead) -> str:
        return reverse("customers:lead_detail", args=[obj.pk])


class LeadPageOut(Schema):
    items: list[LeadOut]
    next_cursor: str | None
    previous_cursor: str | None


class LeadConvertIn(Schema):
    lifecycle_stage: LifecycleStage = LifecycleStage.PROSPECT
    organisation_id: int | None = Field(
        None, description="Link the person to this existing organisation instead of a new one"
    )
    create_organisation: bool = True
    custom_fields: dict[str, Any] = {}


class LeadConversionOut(Schema):
    lead: LeadOut
    customer: CustomerOut
    organisation: CustomerOut | None
    relationship_id: int | None
