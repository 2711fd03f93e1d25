"""Contact points (e-mail, phone, social, web) and postal addresses of a customer.

A customer has at most one primary contact point per type and one primary address; the
first of each becomes primary by itself, and deleting the primary promotes the next oldest.
The customer's list columns (primary e-mail, phone, city, country) follow the primaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.customers.choices import AddressKind, ContactPointKind
from vefa.customers.models import Address, ContactPoint, Customer
from vefa.customers.normalize import is_phone_kind, normalize_contact
from vefa.customers.services._common import (
    clean_country,
    coerce,
    get_for,
    invalid,
)
from vefa.customers.services.customers import customer_refresh_contact_summary
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

CONTACT_POINT_FIELDS = ("kind", "value", "country", "label", "network", "is_primary")
ADDRESS_FIELDS = (
    "kind",
    "line1",
    "line2",
    "district",
    "city",
    "region",
    "postal_code",
    "country",
    "is_primary",
)


def _customer_for_change(actor: User, customer_id: Any) -> Customer:
    """The customer whose children are changed: hidden → 404, read-only → 403, locked."""
    return get_for(Customer.objects.all(), actor=actor, pk=customer_id)


def _normalize(customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    """Add ``normalized`` (and a phone's country) to ``values``, or name the bad field."""
    kind = values.get("kind")
    if kind not in ContactPointKind.values:
        raise invalid({"kind": [_("Choose a valid type.")]})
    region = values.get("country") or customer.country or None
    try:
        result = normalize_contact(kind, values.get("value") or "", region)
    except ValueError as exc:
        raise invalid({"value": [str(exc)]}) from None
    if len(result.value) > 254:
        raise invalid({"value": [_("At most %(n)d characters.") % {"n": 254}]})
    values["normalized"] = result.value
    if is_phone_kind(kind):
        values["country"] = result.country
    elif kind != ContactPointKind.SOCIAL:
        values["network"] = ""
    return values


def _same_group(kind: str) -> list[str]:
    """Kinds compared for duplicates: a number is the same whether called phone or mobile."""
    if is_phone_kind(kind):
        return [ContactPointKind.PHONE, ContactPointKind.MOBILE, ContactPointKind.FAX]
    return [kind]


def _check_duplicate(customer: Customer, values: dict[str, Any], exclude: int | None) -> None:
    qs = ContactPoint.objects.filter(
        customer=customer, kind__in=_same_group(values["kind"]), normalized=values["normalized"]
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise invalid({"value": [_("This customer already has this contact point.")]})


def _demote_primary_contact(
    customer: Customer, kind: str, actor: User, exclude: int | None
) -> None:
    qs = ContactPoint.objects.select_for_update().filter(
        customer=customer, kind=kind, is_primary=True
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    for other in qs:
        record_update(other, actor=actor, data={"is_primary": False})


def _promote_first_contact(customer_id: int, kind: str, actor: User) -> None:
    if ContactPoint.objects.filter(customer_id=customer_id, kind=kind, is_primary=True).exists():
        return
    first = ContactPoint.objects.filter(customer_id=customer_id, kind=kind).order_by("pk").first()
    if first is not None:
        record_update(first, actor=actor, data={"is_primary": True})


def contact_point_create(*, actor: User, customer_id: int, data: Mapping[str, Any]) -> ContactPoint:
    """Add an e-mail address, phone number, social handle or web site to a customer.

    E-mails are validated and lower-cased into ``normalized``; phone numbers are parsed in
    ``country`` (else the customer's country, else TR) and stored in E.164, invalid ones are
    refused on ``value``. The same address or number twice on one customer is refused.
    """
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        values = coerce(ContactPoint, data, CONTACT_POINT_FIELDS)
        if "country" in values:
            values["country"] = clean_country(values["country"])
        values = _normalize(customer, values)
        _check_duplicate(customer, values, None)
        has_primary = ContactPoint.objects.filter(
            customer=customer, kind=values["kind"], is_primary=True
        ).exists()
        values["is_primary"] = bool(values.get("is_primary")) or not has_primary
        if values["is_primary"] and has_primary:
            _demote_primary_contact(customer, values["kind"], actor, None)
        point = record_create(ContactPoint(customer=customer, **values), actor=actor)
        customer_refresh_contact_summary(customer_id=customer.pk, actor=actor)
    return point


def contact_point_update(
    *,
    actor: User,
    contact_point_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> ContactPoint:
    """Change a contact point; the value is normalised again and checked for duplicates."""
    with transaction.atomic():
        point = get_for(
            ContactPoint.objects.select_related("customer"), actor=actor, pk=contact_point_id
        )
        customer = point.customer
        changes = coerce(ContactPoint, data, CONTACT_POINT_FIELDS)
        if "country" in changes:
            changes["country"] = clean_country(changes["country"])
        merged = {f: getattr(point, f) for f in CONTACT_POINT_FIELDS} | changes
        if "kind" in changes or "value" in changes or "country" in changes:
            if "country" not in changes and "value" in changes and is_phone_kind(merged["kind"]):
                # A new number is read in the customer's country, not the old number's.
                merged["country"] = ""
            merged = _normalize(customer, merged)
            _check_duplicate(customer, merged, point.pk)
            changes.update(
                {k: merged[k] for k in ("normalized", "country", "network") if k in merged}
            )
        old_kind = point.kind
        if changes.get("is_primary") is False and point.is_primary:
            others = ContactPoint.objects.filter(customer=customer, kind=merged["kind"])
            if not others.exclude(pk=point.pk).exists():
                # The only one of its type stays primary.
                changes.pop("is_primary")
        if changes.get("is_primary") or (merged["kind"] != old_kind and point.is_primary):
            changes["is_primary"] = True
            _demote_primary_contact(customer, merged["kind"], actor, point.pk)
        updated = record_update(point, actor=actor, data=changes, expected_version=expected_version)
        _promote_first_contact(customer.pk, old_kind, actor)
        _promote_first_contact(customer.pk, updated.kind, actor)
        customer_refresh_contact_summary(customer_id=customer.pk, actor=actor)
    return updated


def contact_point_delete(*, actor: User, contact_point_id: int) -> None:
    """Remove a contact point; the next oldest of its type becomes primary."""
    with transaction.atomic():
        point = get_for(
            ContactPoint.objects.select_related("customer"), actor=actor, pk=contact_point_id
        )
        customer_id, kind = point.customer_id, point.kind
        record_delete(point, actor=actor)
        _promote_first_contact(customer_id, kind, actor)
        customer_refresh_contact_summary(customer_id=customer_id, actor=actor)


# --- addresses ---------------------------------------------------------------------------


def _clean_address(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if (not partial or "kind" in values) and values.get("kind") not in AddressKind.values:
        errors["kind"] = [_("Choose a valid type.")]
    for key in ("line1", "city"):
        if (not partial or key in values) and not values.get(key):
            errors[key] = [_("This field is required.")]
    if not partial or "country" in values:
        try:
            values["country"] = clean_country(values.get("country"), required=True)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    return values


def _demote_primary_address(customer: Customer, actor: User, exclude: int | None) -> None:
    qs = Address.objects.select_for_update().filter(customer=customer, is_primary=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    for other in qs:
        record_update(other, actor=actor, data={"is_primary": False})


def address_create(*, actor: User, customer_id: int, data: Mapping[str, Any]) -> Address:
    """Add a postal address (billing, shipping, home, office) to a customer.

    The first address, or one marked primary, becomes the primary address; its city and
    country become the customer's.
    """
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        values = _clean_address(coerce(Address, data, ADDRESS_FIELDS), partial=False)
        has_primary = Address.objects.filter(customer=customer, is_primary=True).exists()
        values["is_primary"] = bool(values.get("is_primary")) or not has_primary
        if values["is_primary"] and has_primary:
            _demote_primary_address(customer, actor, None)
        address = record_create(Address(customer=customer, **values), actor=actor)
        customer_refresh_contact_summary(customer_id=customer.pk, actor=actor)
    return address


def address_update(
    *,
    actor: User,
    address_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Address:
    """Change an address; marking it primary makes the previous primary an ordinary one."""
    with transaction.atomic():
        address = get_for(Address.objects.select_related("customer"), actor=actor, pk=address_id)
        changes = _clean_address(coerce(Address, data, ADDRESS_FIELDS), partial=True)
        others = Address.objects.filter(customer_id=address.customer_id).exclude(pk=address.pk)
        if changes.get("is_primary") is False and address.is_primary and not others.exists():
            # The only address stays primary: there is nothing else to ship or bill to.
            changes.pop("is_primary")
        if changes.get("is_primary") and not address.is_primary:
            _demote_primary_address(address.customer, actor, address.pk)
        updated = record_update(
            address, actor=actor, data=changes, expected_version=expected_version
        )
        if not updated.is_primary:
            _promote_first_address(updated.customer_id, actor)
        customer_refresh_contact_summary(customer_id=updated.customer_id, actor=actor)
    return updated


def _promote_first_address(customer_id: int, actor: User) -> None:
    if Address.objects.filter(customer_id=customer_id, is_primary=True).exists():
        return
    first = Address.objects.filter(customer_id=customer_id).order_by("pk").first()
    if first is not None:
        record_update(first, actor=actor, data={"is_primary": True})


def address_delete(*, actor: User, address_id: int) -> None:
    """Remove an address; the next oldest becomes primary when the primary goes."""
    with transaction.atomic():
        address = get_for(Address.objects.select_related("customer"), actor=actor, pk=address_id)
        customer_id = address.customer_id
        record_delete(address, actor=actor)
        _promote_first_address(customer_id, actor)
        customer_refresh_contact_summary(customer_id=customer_id, actor=actor)
