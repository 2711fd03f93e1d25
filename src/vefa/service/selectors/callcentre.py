"""The call-centre lookup: who is calling, found by phone number in any format.

The number is read with the customers app's normalisation (``normalize_phone``: E.164, with
national numbers read as Turkish) and compared with the customers' primary phones and
their phone, mobile and fax contact points. While the agent is still typing, the part typed
so far is matched as a prefix (``phone_prefix``, the customer list's search).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

from vefa.accounts.access import restrict
from vefa.customers.filters import phone_prefix, prefix_q
from vefa.customers.models import ContactPoint, Customer, CustomerRelationship
from vefa.customers.normalize import normalize_phone
from vefa.interactions.models import Interaction
from vefa.sales.models import Order

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import Ticket

PHONE_KINDS = ("phone", "mobile", "fax")
MAX_MATCHES = 5
MIN_PREFIX_DIGITS = 6


@dataclass
class CallerMatch:
    """One customer the number belongs to, with what an agent needs on the phone."""

    customer: Customer
    people: list[tuple[Customer, str]] = field(default_factory=list)
    open_tickets: list[Ticket] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)


@dataclass
class CallerLookup:
    term: str
    e164: str
    exact: bool
    matches: list[CallerMatch]
    more: bool = False

    @property
    def searched(self) -> bool:
        return bool(self.e164)


def phone_key(term: str) -> tuple[str, bool]:
    """The E.164 number ``term`` stands for and whether it is complete (else a prefix, or
    empty when too little is typed)."""
    text = (term or "").strip()[:64]
    if not text:
        return "", False
    try:
        return normalize_phone(text).value, True
    except ValueError:
        pass
    prefix = phone_prefix(text)
    if prefix is None or len(prefix.lstrip("+")) < MIN_PREFIX_DIGITS:
        return "", False
    return prefix, False


def _matching_customers(actor: User, key: str, exact: bool, limit: int) -> list[Customer]:
    if exact:
        points = ContactPoint.objects.filter(kind__in=PHONE_KINDS, normalized=key)
        condition = Q(primary_phone=key)
    else:
        points = ContactPoint.objects.filter(kind__in=PHONE_KINDS).filter(
            prefix_q("normalized", key)
        )
        condition = prefix_q("primary_phone", key)
    point_ids = list(points.values_list("customer_id", flat=True).distinct()[: limit * 4])
    qs = restrict(Customer.objects.filter(merged_into__isnull=True), actor, "view")
    return list(
        qs.filter(condition | Q(pk__in=point_ids))
        .select_related("owner")
        .order_by("name_key", "id")[: limit + 1]
    )


def _people(actor: User, customer: Customer) -> list[tuple[Customer, str]]:
    """The people who work at the customer and the organisations the customer works at."""
    visible = restrict(Customer.objects.all(), actor, "view").values("pk")
    rows = (
        CustomerRelationship.objects.filter(
            Q(to_customer=customer, from_customer__in=visible)
            | Q(from_customer=customer, to_customer__in=visible)
        )
        .select_related("from_customer", "to_customer")
        .order_by("id")[:20]
    )
    people: list[tuple[Customer, str]] = []
    for row in rows:
        other = row.from_customer if row.to_customer_id == customer.pk else row.to_customer
        people.append((other, row.job_title or row.get_kind_display()))
    return people


def caller_lookup(*, actor: User, phone: str, limit: int = MAX_MATCHES) -> CallerLookup:
    """The customers whose number is ``phone`` (or starts with it, while being typed),
    each with contact people, open tickets, recent orders and latest interactions."""
    from vefa.service.selectors.tickets import customer_tickets

    key, exact = phone_key(phone)
    if not key:
        return CallerLookup(term=phone, e164="", exact=False, matches=[])
    customers = _matching_customers(actor, key, exact, limit)
    more = len(customers) > limit
    matches: list[CallerMatch] = []
    orders_qs = restrict(Order.objects.all(), actor, "view")
    interactions_qs = restrict(Interaction.objects.all(), actor, "view")
    for customer in customers[:limit]:
        matches.append(
            CallerMatch(
                customer=customer,
                people=_people(actor, customer),
                open_tickets=customer_tickets(
                    actor=actor, customer=customer, open_only=True, limit=5
                ),
                orders=list(orders_qs.filter(customer=customer).order_by("-ordered_at", "-id")[:5]),
                interactions=list(
                    interactions_qs.filter(customer=customer)
                    .select_related("user")
                    .order_by("-occurred_at", "-id")[:5]
                ),
            )
        )
    return CallerLookup(term=phone, e164=key, exact=exact, matches=matches, more=more)
