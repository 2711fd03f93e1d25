"""How customers, leads and contact points appear in the global search index.

A contact point's document points at its customer (``customer_id``) and carries the
customer's owner and team, so a search for a phone number finds the customer and shows it
only to those who may see that customer.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from vefa.customers.models import ContactPoint, Customer, Lead
from vefa.platform import search
from vefa.platform.models import CustomFieldDefinition

# Definitions change rarely; documents are built on every write. The cache is cleared when
# a definition is saved or deleted in this process and expires after a minute elsewhere.
_CACHE_SECONDS = 60.0
_searchable: dict[str, tuple[float, list[str]]] = {}


def _searchable_keys(model_label: str) -> list[str]:
    cached = _searchable.get(model_label)
    if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    keys = list(
        CustomFieldDefinition.objects.filter(model=model_label, searchable=True)
        .order_by("order", "key")
        .values_list("key", flat=True)
    )
    _searchable[model_label] = (time.monotonic(), keys)
    return keys


def _forget_definitions(**kwargs: Any) -> None:
    _searchable.clear()


post_save.connect(_forget_definitions, sender=CustomFieldDefinition, dispatch_uid="cust_cf_save")
post_delete.connect(_forget_definitions, sender=CustomFieldDefinition, dispatch_uid="cust_cf_del")


def custom_field_text(model_label: str, values: dict[str, Any] | None) -> list[str]:
    """The values of the searchable custom fields, as words."""
    words: list[str] = []
    for key in _searchable_keys(model_label):
        value = (values or {}).get(key)
        if value is None or value == "" or isinstance(value, bool):
            continue
        if isinstance(value, list):
            words.extend(str(v) for v in value)
        else:
            words.append(str(value))
    return words


def customer_document(customer: Customer) -> search.SearchDocument | None:
    if customer.merged_into_id is not None:
        return None
    place = ", ".join(p for p in (customer.city, customer.country) if p)
    subtitle = " · ".join(p for p in (customer.primary_email, customer.primary_phone, place) if p)
    text = [
        customer.first_name,
        customer.last_name,
        customer.legal_name,
        customer.trade_name,
        customer.tax_number,
        customer.primary_email,
        customer.primary_phone,
        customer.primary_phone.lstrip("+"),
        customer.city,
        *custom_field_text("customers.customer", customer.custom_fields),
    ]
    return search.SearchDocument(
        title=customer.display_name,
        subtitle=subtitle,
        text=" ".join(t for t in text if t),
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        customer_id=customer.pk,
    )


def lead_document(lead: Lead) -> search.SearchDocument | None:
    subtitle = " · ".join(p for p in (lead.company_name, lead.email, lead.phone) if p)
    text = [
        lead.first_name,
        lead.last_name,
        lead.company_name,
        lead.job_title,
        lead.email,
        lead.phone,
        lead.phone.lstrip("+"),
        *custom_field_text("customers.lead", lead.custom_fields),
    ]
    return search.SearchDocument(
        title=str(lead),
        subtitle=subtitle,
        text=" ".join(t for t in text if t),
        owner_id=lead.owner_id,
        team_id=lead.team_id,
        customer_id=None,
    )


def contact_point_document(point: ContactPoint) -> search.SearchDocument | None:
    customer = point.customer
    return search.SearchDocument(
        title=point.value,
        subtitle=customer.display_name,
        text=" ".join(
            p for p in (point.normalized, point.normalized.lstrip("+"), point.label) if p
        ),
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        customer_id=customer.pk,
    )


search.register("customers.customer", customer_document)
search.register("customers.lead", lead_document)
search.register("customers.contactpoint", contact_point_document, select_related=("customer",))
