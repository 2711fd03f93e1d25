"""Customers and leads for tests, written straight to the tables with their derived fields.

The services are under test elsewhere; these builders give them a known starting state.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from vefa.common.text import fold
from vefa.customers.models import Customer, Lead


def make_customer(**fields: Any) -> Customer:
    fields.setdefault("kind", "person")
    if fields["kind"] == "person":
        fields.setdefault("first_name", "Ada")
        fields.setdefault("last_name", "Lovelace")
        name = " ".join(p for p in (fields["first_name"], fields["last_name"]) if p)
    else:
        name = fields.get("trade_name") or fields.get("legal_name") or "Org"
        fields.setdefault("trade_name", name)
    fields.setdefault("display_name", name)
    fields.setdefault("name_key", fold(fields["display_name"]))
    fields.setdefault("lifecycle_stage", "customer")
    fields.setdefault("stage_changed_at", timezone.now())
    tags = fields.pop("tags", None)
    customer = Customer.objects.create(**fields)
    if tags:
        from vefa.platform.services import tags_resolve

        customer.tags.set(tags_resolve(list(tags)))
    return customer


def make_lead(**fields: Any) -> Lead:
    from vefa.customers.services.leads import lead_name_key

    lead = Lead(**fields)
    lead.name_key = lead_name_key(fields)
    lead.save()
    return lead
