"""Relationships between customers: works at, spouse, household, parent, parent company,
referred by.

Rules: a person works at an organisation (with job title and role); a parent company and its
subsidiary are organisations; spouses, household members, parent and child are persons;
anyone can be referred by anyone. No one relates to himself, the same link is not recorded
twice (for spouse and household in either direction), and parent links never form a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from vefa.accounts.access import can
from vefa.common.errors import NotFound
from vefa.customers.choices import CustomerKind, RelationshipKind
from vefa.customers.models import Customer, CustomerRelationship
from vefa.customers.services._common import (
    as_pk,
    coerce,
    denied,
    get_visible,
    invalid,
    not_found,
)
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

RELATIONSHIP_FIELDS = ("kind", "job_title", "role", "start_date", "end_date", "notes")
SYMMETRIC = frozenset({RelationshipKind.SPOUSE, RelationshipKind.HOUSEHOLD})
HIERARCHICAL = frozenset({RelationshipKind.PARENT_OF, RelationshipKind.PARENT_COMPANY})
# (from kind, to kind) each relationship allows; None means either.
ENDS: dict[str, tuple[str | None, str | None]] = {
    RelationshipKind.WORKS_AT: (CustomerKind.PERSON, CustomerKind.ORGANISATION),
    RelationshipKind.PARENT_COMPANY: (CustomerKind.ORGANISATION, CustomerKind.ORGANISATION),
    RelationshipKind.SPOUSE: (CustomerKind.PERSON, CustomerKind.PERSON),
    RelationshipKind.HOUSEHOLD: (CustomerKind.PERSON, CustomerKind.PERSON),
    RelationshipKind.PARENT_OF: (CustomerKind.PERSON, CustomerKind.PERSON),
    RelationshipKind.REFERRED_BY: (None, None),
}
MAX_HIERARCHY_DEPTH = 100


def _check_ends(kind: str, source: Customer, target: Customer) -> None:
    from_kind, to_kind = ENDS[kind]
    errors: dict[str, list[str]] = {}
    if from_kind is not None and source.kind != from_kind:
        errors["from_customer"] = [
            _("Must be a person.")
            if from_kind == CustomerKind.PERSON
            else _("Must be an organisation.")
        ]
    if to_kind is not None and target.kind != to_kind:
        errors["to_customer"] = [
            _("Must be a person.")
            if to_kind == CustomerKind.PERSON
            else _("Must be an organisation.")
        ]
    if errors:
        raise invalid(errors)


def _check_details(kind: str, values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if kind != RelationshipKind.WORKS_AT:
        for key in ("job_title", "role"):
            if values.get(key):
                errors[key] = [_("Only for a person who works at an organisation.")]
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        errors["end_date"] = [_("The end cannot be before the start.")]
    if errors:
        raise invalid(errors)


def _creates_cycle(kind: str, source_id: int, target_id: int) -> bool:
    """Whether ``source`` is already below ``target`` in the ``kind`` hierarchy."""
    frontier = {source_id}
    seen: set[int] = set()
    for _step in range(MAX_HIERARCHY_DEPTH):
        parents = set(
            CustomerRelationship.objects.filter(kind=kind, to_customer_id__in=frontier).values_list(
                "from_customer_id", flat=True
            )
        )
        if target_id in parents:
            return True
        frontier = parents - seen
        if not frontier:
            return False
        seen |= frontier
    return True


def relationship_create(
    *,
    actor: User,
    from_customer_id: int,
    to_customer_id: int,
    data: Mapping[str, Any],
) -> CustomerRelationship:
    """Record that ``from`` <kind> ``to`` (e.g. Ayşe works at Acme as buyer).

    The actor must be allowed to change ``from`` and to see ``to``; a hidden customer on
    either end is not found.
    """
    values = coerce(CustomerRelationship, data, RELATIONSHIP_FIELDS)
    kind = values.get("kind")
    if kind not in RelationshipKind.values:
        raise invalid({"kind": [_("Choose a valid relationship.")]})
    with transaction.atomic():
        source = get_visible(Customer.objects.all(), actor=actor, pk=from_customer_id)
        try:
            target = get_visible(Customer.objects.all(), actor=actor, pk=to_customer_id)
        except NotFound:
            raise invalid({"to_customer": [_("Choose an existing customer.")]}) from None
        if not can(actor, "change", source):
            raise denied()
        if source.pk == target.pk:
            raise invalid({"to_customer": [_("A customer cannot be related to himself.")]})
        _check_ends(kind, source, target)
        _check_details(kind, values)
        same = Q(from_customer=source, to_customer=target, kind=kind)
        if kind in SYMMETRIC or kind in HIERARCHICAL:
            same |= Q(from_customer=target, to_customer=source, kind=kind)
        if CustomerRelationship.objects.filter(same).exists():
            raise invalid({"to_customer": [_("This relationship is already recorded.")]})
        if kind in HIERARCHICAL and _creates_cycle(kind, source.pk, target.pk):
            raise invalid({"to_customer": [_("This would make a company its own parent.")]})
        relationship = record_create(
            CustomerRelationship(from_customer=source, to_customer=target, **values),
            actor=actor,
        )
    return relationship


def _relationship_for_change(actor: User, relationship_id: Any) -> CustomerRelationship:
    """The relationship if both ends are visible (else 404) and the actor may change it."""
    relationship = (
        CustomerRelationship.objects.select_related("from_customer", "to_customer")
        .select_for_update(of=("self",))
        .filter(pk=as_pk(relationship_id))
        .first()
    )
    if relationship is None:
        raise not_found()
    for end in (relationship.from_customer_id, relationship.to_customer_id):
        get_visible(Customer.objects.all(), actor=actor, pk=end)
    if not can(actor, "change", relationship):
        raise denied()
    return relationship


def relationship_update(
    *,
    actor: User,
    relationship_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> CustomerRelationship:
    """Change the details of a relationship (job title, role, dates, notes), not its ends."""
    with transaction.atomic():
        relationship = _relationship_for_change(actor, relationship_id)
        changes = coerce(
            CustomerRelationship, data, ("job_title", "role", "start_date", "end_date", "notes")
        )
        merged = {f: getattr(relationship, f) for f in RELATIONSHIP_FIELDS} | changes
        _check_details(relationship.kind, merged)
        return record_update(
            relationship, actor=actor, data=changes, expected_version=expected_version
        )


def relationship_delete(*, actor: User, relationship_id: int) -> None:
    """Remove a relationship between two customers."""
    with transaction.atomic():
        relationship = _relationship_for_change(actor, relationship_id)
        record_delete(relationship, actor=actor)
