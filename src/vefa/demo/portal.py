"""A demo portal account: a contact person of an organisation with orders and tickets.

It signs in at ``/portal/`` with a password, so the portal can be tried without an e-mail
server. Written after the customers, sales and help desk are in place.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db.models import Count

from vefa.customers.choices import RelationshipKind
from vefa.customers.models import CustomerRelationship
from vefa.portal.models import PortalAccount

PORTAL_EMAIL = "portal@vefa.example"
PORTAL_PASSWORD = "vefa-portal-demo"  # noqa: S105 (the published demo login)


def load_portal_account() -> PortalAccount | None:
    """The contact person of the organisation with the most tickets and orders gets the
    account (None when no organisation has a contact person)."""
    existing = PortalAccount.objects.filter(email__iexact=PORTAL_EMAIL).first()
    if existing is not None:
        return existing
    link = (
        CustomerRelationship.objects.filter(
            kind=RelationshipKind.WORKS_AT,
            end_date__isnull=True,
            to_customer__merged_into__isnull=True,
        )
        .annotate(
            tickets=Count("to_customer__tickets", distinct=True),
            orders=Count("to_customer__orders", distinct=True),
        )
        .order_by("-tickets", "-orders", "pk")
        .select_related("from_customer", "to_customer")
        .first()
    )
    if link is None:
        return None
    return PortalAccount.objects.create(
        contact=link.from_customer,
        customer=link.to_customer,
        email=PORTAL_EMAIL,
        password=make_password(PORTAL_PASSWORD),
        language=link.from_customer.language or link.to_customer.language or "",
    )
