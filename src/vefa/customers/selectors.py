"""Every read of the customers app for a person, limited to what that person may see.

Each selector applies ``vefa.accounts.access.restrict``: a record the actor may not see is
"not found", exactly like one that does not exist. Lists are keyset pages whose query count
does not depend on their length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from vefa.accounts.access import Action, access_branches, can, restrict
from vefa.common.errors import NotFound, PermissionDenied
from vefa.common.paging import Page, either_of, keyset_page
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind
from vefa.customers.filters import CustomerFilterForm, LeadFilterForm, ListFilterForm, clean_filters
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
)
from vefa.customers.services._common import as_pk

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100
DEFAULT_PAGE = 50


def _size(size: int) -> int:
    return max(1, min(int(size), MAX_PAGE))


def page_of(
    queryset: QuerySet[Any],
    ordering: str,
    cursor: str | None,
    size: int,
    *,
    any_of: list[Q] | None = None,
    branch_base: QuerySet[Any] | None = None,
) -> Page[Any]:
    """A keyset page; a cursor made for another sort (or tampered with) starts at page one."""
    options: dict[str, Any] = {"size": _size(size), "any_of": any_of, "branch_base": branch_base}
    try:
        return keyset_page(queryset, ordering=ordering, cursor=cursor, **options)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        return keyset_page(queryset, ordering=ordering, cursor=None, **options)


def _not_found() -> NotFound:
    from django.utils.translation import gettext as _

    return NotFound(_("Not found."))


def _check_action(actor: User, record: Any, action: Action) -> None:
    if action != "view" and not can(actor, action, record):
        from django.utils.translation import gettext as _

        raise PermissionDenied(_("You may not change this record."))


# --- customers ---------------------------------------------------------------------------


def customer_queryset() -> QuerySet[Customer]:
    """Customers that are records of their own (merged ones are hidden)."""
    return Customer.objects.filter(merged_into__isnull=True)


def visible_customers(actor: User) -> QuerySet[Customer]:
    return restrict(customer_queryset(), actor, "view")


def customer_list(
    *,
    actor: User,
    filters: ListFilterForm | Mapping[str, Any] | None = None,
    cursor: str | None = None,
    size: int = DEFAULT_PAGE,
) -> Page[Customer]:
    """One keyset page of the customers ``actor`` may see, filtered and sorted.

    ``filters`` is a valid ``CustomerFilterForm`` or the raw query parameters (an invalid
    value raises ``ValidationFailed`` naming the parameter).
    """
    form = (
        filters
        if isinstance(filters, ListFilterForm)
        else clean_filters(CustomerFilterForm, filters, actor=actor)
    )
    qs = form.apply(visible_customers(actor)).select_related("owner", "team")
    qs = qs.prefetch_related(tag_prefetch())
    access = access_branches(Customer, actor, "view")
    branches = either_of(form.search_branches(), access)
    # With the access scope among the branches, each branch is read without the scope's OR
    # (every branch carries one of its conditions); the page is read from ``qs``.
    base = form.apply(customer_queryset()) if access else None
    return page_of(qs, form.ordering, cursor, size, any_of=branches, branch_base=base)


def customer_get(*, actor: User, pk: Any, action: Action = "view") -> Customer:
    """One customer: ``NotFound`` when hidden, ``PermissionDenied`` when only visible."""
    customer = (
        visible_customers(actor)
        .select_related("owner", "team")
        .prefetch_related(tag_prefetch())
        .filter(pk=as_pk(pk))
        .first()
    )
    if customer is None:
        raise _not_found()
    _check_action(actor, customer, action)
    return customer


def customer_recent(*, actor: User, limit: int = 10) -> list[Customer]:
    """The actor's customers most recently updated or contacted (for the dashboard).

    "The actor's" are those he owns or last changed, among those he may see.
    """
    limit = max(1, min(int(limit), 50))
    recent = Greatest("updated_at", Coalesce("last_interaction_at", "updated_at"))
    return list(
        visible_customers(actor)
        .filter(Q(owner=actor) | Q(updated_by=actor))
        .select_related("owner", "team")
        .annotate(recent_at=recent)
        .order_by("-recent_at", "-pk")[:limit]
    )


def customer_picker(
    *, actor: User, q: str, kind: str | None = None, exclude: int | None = None, limit: int = 20
) -> list[Customer]:
    """Visible customers whose name starts with ``q`` (for choosing one in a form)."""
    from vefa.customers.filters import prefix_q

    term = fold(q)[:100]
    if not term:
        return []
    qs = visible_customers(actor).filter(prefix_q("name_key", term))
    if kind in CustomerKind.values:
        qs = qs.filter(kind=kind)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.order_by("name_key", "pk")[: max(1, min(limit, 50))])


def organisation_matches(*, actor: User, name: str, limit: int = 10) -> list[Customer]:
    """Visible organisations whose folded name equals ``name``'s (to avoid duplicates)."""
    key = fold(name)[:300]
    if not key:
        return []
    return list(
        visible_customers(actor)
        .filter(kind=CustomerKind.ORGANISATION, name_key=key)
        .order_by("pk")[:limit]
    )


# --- child records -----------------------------------------------------------------------


def _child_get(queryset: QuerySet[Any], *, actor: User, pk: Any, action: Action) -> Any:
    record = restrict(queryset, actor, "view").filter(pk=as_pk(pk)).first()
    if record is None:
        raise _not_found()
    _check_action(actor, record, action)
    return record


def contact_point_list(*, customer: Customer) -> list[ContactPoint]:
    """The contact points of a customer the caller already holds through ``customer_get``."""
    return list(
        ContactPoint.objects.filter(customer=customer).order_by("kind", "-is_primary", "pk")
    )


def contact_point_get(*, actor: User, pk: Any, action: Action = "view") -> ContactPoint:
    return _child_get(
        ContactPoint.objects.select_related("customer"), actor=actor, pk=pk, action=action
    )


def address_list(*, customer: Customer) -> list[Address]:
    return list(Address.objects.filter(customer=customer).order_by("-is_primary", "kind", "pk"))


def address_get(*, actor: User, pk: Any, action: Action = "view") -> Address:
    return _child_get(Address.objects.select_related("customer"), actor=actor, pk=pk, action=action)


def relationship_list(*, actor: User, customer: Customer) -> list[CustomerRelationship]:
    """Both directions of a customer's relationships whose other end the actor may see.

    The customer's relationships are read first (two indexed lookups) and only their other
    ends are checked for visibility: filtering by "other end in all visible customers" makes
    the database materialise every visible customer, seconds at a million rows.
    """
    rows = list(
        CustomerRelationship.objects.select_related("from_customer", "to_customer")
        .filter(Q(from_customer=customer) | Q(to_customer=customer))
        .order_by("kind", "pk")
    )

    def other_end(row: CustomerRelationship) -> int:
        return row.to_customer_id if row.from_customer_id == customer.pk else row.from_customer_id

    others = {other_end(row) for row in rows}
    visible = set(visible_customers(actor).filter(pk__in=others).values_list("pk", flat=True))
    return [row for row in rows if other_end(row) in visible]


def relationship_get(*, actor: User, pk: Any, action: Action = "view") -> CustomerRelationship:
    """A relationship whose two ends the actor may see."""
    relationship = (
        CustomerRelationship.objects.select_related("from_customer", "to_customer")
        .filter(pk=as_pk(pk))
        .first()
    )
    if relationship is None:
        raise _not_found()
    visible = visible_customers(actor).filter(
        pk__in=[relationship.from_customer_id, relationship.to_customer_id]
    )
    if visible.count() != 2:
        raise _not_found()
    _check_action(actor, relationship, action)
    return relationship


def consent_current(customer: Customer) -> dict[tuple[str, str], Consent]:
    """The latest grant or withdrawal per (channel, purpose) of a customer."""
    current: dict[tuple[str, str], Consent] = {}
    rows = Consent.objects.filter(customer=customer).select_related("created_by")
    for row in rows.order_by("-recorded_at", "-pk"):
        current.setdefault((row.channel, row.purpose), row)
    return current


def consent_history(customer: Customer, *, limit: int = 100) -> list[Consent]:
    """Every grant and withdrawal of a customer, newest first."""
    return list(
        Consent.objects.filter(customer=customer)
        .select_related("created_by")
        .order_by("-recorded_at", "-pk")[: max(1, min(limit, 500))]
    )


def customer_children(*, actor: User, customer: Customer) -> dict[str, Any]:
    """Everything the customer page shows besides the customer, in a fixed number of queries."""
    return {
        "contact_points": contact_point_list(customer=customer),
        "addresses": address_list(customer=customer),
        "relationships": relationship_list(actor=actor, customer=customer),
        "consent": consent_current(customer),
        "leads": list(
            restrict(Lead.objects.filter(converted_customer=customer), actor, "view").order_by(
                "-converted_at", "-pk"
            )[:10]
        ),
    }


# --- leads -------------------------------------------------------------------------------


def visible_leads(actor: User) -> QuerySet[Lead]:
    return restrict(Lead.objects.all(), actor, "view")


def lead_list(
    *,
    actor: User,
    filters: ListFilterForm | Mapping[str, Any] | None = None,
    cursor: str | None = None,
    size: int = DEFAULT_PAGE,
) -> Page[Lead]:
    """One keyset page of the leads ``actor`` may see, filtered and sorted."""
    form = (
        filters
        if isinstance(filters, ListFilterForm)
        else clean_filters(LeadFilterForm, filters, actor=actor)
    )
    qs = form.apply(visible_leads(actor)).select_related("owner", "team", "converted_customer")
    qs = qs.prefetch_related(tag_prefetch())
    return page_of(qs, form.ordering, cursor, size)


def lead_get(*, actor: User, pk: Any, action: Action = "view") -> Lead:
    """One lead: ``NotFound`` when hidden, ``PermissionDenied`` when only visible."""
    lead = (
        visible_leads(actor)
        .select_related("owner", "team", "converted_customer")
        .prefetch_related(tag_prefetch())
        .filter(pk=as_pk(pk))
        .first()
    )
    if lead is None:
        raise _not_found()
    _check_action(actor, lead, action)
    return lead


def lead_recent(*, actor: User, limit: int = 10) -> list[Lead]:
    """The actor's open leads most recently created or changed."""
    from vefa.customers.choices import LeadStatus

    limit = max(1, min(int(limit), 50))
    return list(
        visible_leads(actor)
        .filter(owner=actor)
        .exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED])
        .select_related("owner", "team")
        .order_by("-updated_at", "-pk")[:limit]
    )


def tag_prefetch() -> Prefetch[Any]:
    from vefa.platform.models import Tag

    return Prefetch("tags", queryset=Tag.objects.order_by("name"))
