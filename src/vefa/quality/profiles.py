"""Matching profiles of stored customers and leads, loaded in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from vefa.customers.choices import CustomerKind
from vefa.customers.models import Address, ContactPoint, Customer, Lead
from vefa.quality.matching import Profile, profile_of

CUSTOMER_FIELDS = (
    "id",
    "kind",
    "display_name",
    "first_name",
    "last_name",
    "legal_name",
    "trade_name",
    "tax_number",
    "primary_email",
    "primary_phone",
    "country",
    "owner_id",
    "team_id",
    "merged_into_id",
)
LEAD_FIELDS = ("id", "first_name", "last_name", "company_name", "email", "phone", "status")
PHONE_KINDS = ("phone", "mobile")


def customer_profile(
    customer: Any, emails: Iterable[str] = (), phones: Iterable[str] = (), address: Any = None
) -> Profile:
    """The profile of a customer row with its contact points and primary address."""
    organisation = customer.kind == CustomerKind.ORGANISATION
    return profile_of(
        first_name="" if organisation else customer.first_name,
        last_name="" if organisation else customer.last_name,
        names=[] if organisation else [customer.display_name],
        organisation_names=(
            [customer.legal_name, customer.trade_name, customer.display_name]
            if organisation
            else []
        ),
        emails=[customer.primary_email, *emails],
        phones=[customer.primary_phone, *phones],
        tax_number=customer.tax_number,
        postal_code=getattr(address, "postal_code", "") or "",
        street=getattr(address, "line1", "") or "",
        region=getattr(address, "country", None) or customer.country or None,
    )


def lead_profile(lead: Any) -> Profile:
    return profile_of(
        first_name=lead.first_name,
        last_name=lead.last_name,
        organisation_names=[lead.company_name],
        emails=[lead.email],
        phones=[lead.phone],
    )


def customer_profiles(customers: QuerySet[Customer]) -> dict[int, tuple[Customer, Profile]]:
    """Each customer of ``customers`` (already restricted) with its profile: 3 queries."""
    rows = {c.pk: c for c in customers.only(*CUSTOMER_FIELDS)}
    if not rows:
        return {}
    ids = list(rows)
    emails: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, list[str]] = defaultdict(list)
    for customer_id, kind, normalized in ContactPoint.objects.filter(
        customer_id__in=ids, kind__in=("email", *PHONE_KINDS)
    ).values_list("customer_id", "kind", "normalized"):
        (emails if kind == "email" else phones)[customer_id].append(normalized)
    addresses = {
        a.customer_id: a
        for a in Address.objects.filter(customer_id__in=ids, is_primary=True).only(
            "customer_id", "postal_code", "line1", "country"
        )
    }
    return {
        pk: (c, customer_profile(c, emails[pk], phones[pk], addresses.get(pk)))
        for pk, c in rows.items()
    }


def lead_profiles(leads: QuerySet[Lead]) -> dict[int, tuple[Lead, Profile]]:
    return {lead.pk: (lead, lead_profile(lead)) for lead in leads.only(*LEAD_FIELDS)}
