"""Creating, changing and deleting customers; bulk assignment and tagging."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind, LifecycleStage
from vefa.customers.models import Address, ContactPoint, Customer
from vefa.customers.services._common import (
    MAX_BULK,
    as_ids,
    as_names,
    check_currency,
    check_language,
    coerce,
    get_for,
    invalid,
    resolve_owner,
    resolve_team,
)
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "income_band",
    "marital_status",
    "children_count",
    "home_ownership",
    "pets",
    "hobbies",
    "sports_interests",
)
ORGANISATION_FIELDS = (
    "legal_name",
    "trade_name",
    "employee_count",
    "annual_revenue",
    "nace_code",
    "sic_code",
    "tax_number",
)
COMMON_FIELDS = (
    "lifecycle_stage",
    "source",
    "language",
    "currency",
    "notes",
    "preferred_channel",
    "contact_frequency_days",
    "quiet_hours_start",
    "quiet_hours_end",
    "custom_fields",
)
EDITABLE_FIELDS = (*PERSON_FIELDS, *ORGANISATION_FIELDS, *COMMON_FIELDS)

_NACE = re.compile(r"^[A-U]?\d{2}(\.\d{1,2}){0,2}$")
_SIC = re.compile(r"^\d{2,4}$")
_OLDEST_BIRTH = datetime.date(1900, 1, 1)


@dataclass(frozen=True)
class BulkResult:
    """How a bulk action went: records changed, already as asked, and refused (or hidden)."""

    changed: int
    unchanged: int
    refused: int


def derive_display_name(kind: str, values: Mapping[str, Any]) -> str:
    """The name shown everywhere: "first last" for a person, trade or legal name otherwise."""
    if kind == CustomerKind.PERSON:
        return " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
    return str(values.get("trade_name") or values.get("legal_name") or "")


def _check_rules(kind: str, values: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    """Rules that span fields or that the model field alone does not express."""
    if kind == CustomerKind.PERSON:
        if not values.get("first_name") and not values.get("last_name"):
            errors.setdefault("first_name", []).append(_("Enter a first or a last name."))
        born = values.get("birth_date")
        if isinstance(born, datetime.date) and (
            born > timezone.localdate() or born < _OLDEST_BIRTH
        ):
            errors.setdefault("birth_date", []).append(_("Enter a birth date in the past."))
    elif not values.get("legal_name") and not values.get("trade_name"):
        errors.setdefault("legal_name", []).append(_("Enter a legal or a trade name."))
    nace = values.get("nace_code") or ""
    if nace and not _NACE.match(nace):
        errors.setdefault("nace_code", []).append(_("Enter a NACE code such as 47.11."))
    sic = values.get("sic_code") or ""
    if sic and not _SIC.match(sic):
        errors.setdefault("sic_code", []).append(_("Enter a SIC code of 2 to 4 digits."))
    check_currency(values.get("currency") or "", errors)
    check_language(values.get("language") or "", errors)
    if values.get("contact_frequency_days") == 0:
        errors.setdefault("contact_frequency_days", []).append(_("At least 1."))
    if (values.get("quiet_hours_start") is None) != (values.get("quiet_hours_end") is None):
        errors.setdefault("quiet_hours_end", []).append(
            _("Give both the start and the end of the quiet hours.")
        )


def _check_kind_fields(kind: str, data: Mapping[str, Any]) -> None:
    """A person has no legal name and an organisation no birth date."""
    foreign = ORGANISATION_FIELDS if kind == CustomerKind.PERSON else PERSON_FIELDS
    errors = {
        key: [
            _("Only for organisations.") if kind == CustomerKind.PERSON else _("Only for persons.")
        ]
        for key in foreign
        if key in data and data[key] not in (None, "")
    }
    if errors:
        raise invalid(errors)


def _stage_stamps(old: str | None, new: str, current: Customer | None) -> dict[str, Any]:
    """The dates a move from ``old`` to ``new`` stage sets."""
    if old == new:
        return {}
    now = timezone.now()
    stamps: dict[str, Any] = {"stage_changed_at": now}
    if new == LifecycleStage.CUSTOMER and (current is None or current.became_customer_at is None):
        stamps["became_customer_at"] = now
    if new == LifecycleStage.LOST:
        stamps["lost_at"] = now
    elif old == LifecycleStage.LOST:
        # Won back: "lost on" describes the current state; the change log keeps the old date.
        stamps["lost_at"] = None
    return stamps


def _check_may_hold(actor: User, customer: Customer) -> None:
    """The actor may only create a record he could then change (no planting on others)."""
    if not can(actor, "change", customer):
        raise PermissionDenied(
            _("You may not create a customer for this owner or team."),
            fields={"owner": [_("You may not create a customer for this owner or team.")]},
        )


def customer_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    tags: Sequence[str] | str | None = None,
    email: str = "",
    phone: str = "",
) -> Customer:
    """Create a person or an organisation and, when given, its primary e-mail and phone.

    ``data`` holds the fields of ``EDITABLE_FIELDS`` plus ``kind`` (required), ``owner`` and
    ``team`` (a user/team or an id; the owner defaults to the actor, the team to the owner's
    team). The display name and its folded key are derived; the lifecycle stage dates are
    stamped. Raises ``PermissionDenied`` when the actor may not create customers, or not for
    the owner and team asked, and ``ValidationFailed`` naming each bad field.
    """
    from vefa.customers.services.contact_points import contact_point_create

    if not can_create(actor, Customer):
        raise PermissionDenied(_("You may not create customers."))
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    kind = data.get("kind")
    if kind not in CustomerKind.values:
        raise invalid({"kind": [_("Choose person or organisation.")]})
    fields = dict(data)
    fields.pop("kind")
    owner_given = "owner" in fields
    owner = resolve_owner(fields.pop("owner", None))
    team = resolve_team(fields.pop("team", None))
    _check_kind_fields(str(kind), fields)
    values = coerce(Customer, fields, EDITABLE_FIELDS)
    values.setdefault("lifecycle_stage", LifecycleStage.PROSPECT)
    values.setdefault("currency", "TRY")
    names = as_names(tags, field="tags")
    errors: dict[str, list[str]] = {}
    _check_rules(str(kind), values, errors)
    if errors:
        raise invalid(errors)
    if owner is None and not owner_given:
        owner = actor
    if team is None and "team" not in data and owner is not None:
        team = owner.team
    display_name = derive_display_name(str(kind), values)
    customer = Customer(
        kind=kind,
        display_name=display_name,
        name_key=fold(display_name)[:300],
        owner=owner,
        team=team,
        **values,
    )
    for key, value in _stage_stamps(None, customer.lifecycle_stage, None).items():
        setattr(customer, key, value)
    _check_may_hold(actor, customer)
    with transaction.atomic():
        record_create(customer, actor=actor, tags=names)
        # The contact points are checked as part of the create: a bad phone leaves no customer.
        for cp_kind, value in (
            ("email", email),
            ("mobile" if kind == "person" else "phone", phone),
        ):
            if value is None or value == "":
                continue
            try:
                contact_point_create(
                    actor=actor,
                    customer_id=customer.pk,
                    data={"kind": cp_kind, "value": value, "is_primary": True},
                )
            except ValidationFailed as exc:
                key = "email" if cp_kind == "email" else "phone"
                raise invalid({key: exc.fields.get("value", [exc.message])}) from exc
        if email or phone:
            customer.refresh_from_db()
    return customer


def customer_update(
    *,
    actor: User,
    customer_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    tags: Sequence[str] | str | None = None,
) -> Customer:
    """Change a customer's fields (only those in ``data``) and, when given, its tags.

    The display name follows the name fields; a lifecycle stage change stamps
    ``stage_changed_at`` (and ``became_customer_at`` the first time the record becomes a
    customer, ``lost_at`` when lost). With ``expected_version`` a stale write raises
    ``Conflict``. The kind of a customer cannot change.
    """
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    with transaction.atomic():
        current = get_for(Customer.objects.all(), actor=actor, pk=customer_id)
        fields = dict(data)
        if "kind" in fields and fields.pop("kind") != current.kind:
            raise invalid({"kind": [_("The kind of a customer cannot be changed.")]})
        changes: dict[str, Any] = {}
        if "owner" in fields:
            changes["owner"] = resolve_owner(fields.pop("owner"))
        if "team" in fields:
            changes["team"] = resolve_team(fields.pop("team"))
        _check_kind_fields(current.kind, fields)
        changes.update(coerce(Customer, fields, EDITABLE_FIELDS))
        names = None if tags is None else as_names(tags, field="tags")
        merged = {f: getattr(current, f) for f in EDITABLE_FIELDS} | changes
        errors: dict[str, list[str]] = {}
        _check_rules(current.kind, merged, errors)
        if errors:
            raise invalid(errors)
        display_name = derive_display_name(current.kind, merged)
        changes["display_name"] = display_name
        changes["name_key"] = fold(display_name)[:300]
        changes.update(_stage_stamps(current.lifecycle_stage, merged["lifecycle_stage"], current))
        updated = record_update(
            current,
            actor=actor,
            data=changes,
            expected_version=expected_version,
            tags=names,
        )
    return updated


def customer_delete(*, actor: User, customer_id: int) -> None:
    """Delete a customer with its contact points, addresses, consent and relationships.

    The change log keeps the customer's last state. Needs the delete scope.
    """
    with transaction.atomic():
        customer = get_for(Customer.objects.all(), actor=actor, pk=customer_id, action="delete")
        record_delete(customer, actor=actor)


def _id(record: Any) -> int | None:
    return None if record is None else int(record.pk)


def customer_bulk_assign(
    *,
    actor: User,
    customer_ids: Sequence[int],
    owner: User | int | None = None,
    team: Team | int | None = None,
    set_owner: bool = True,
    set_team: bool = False,
) -> BulkResult:
    """Give the customers ``customer_ids`` a new owner and/or team.

    Only the records the actor may change are changed (one change-log row each); the others,
    hidden or not, are counted as refused without saying which.
    """
    ids = as_ids(customer_ids, field="customer_ids", maximum=MAX_BULK)
    if not set_owner and not set_team:
        raise invalid({"owner": [_("Choose an owner or a team.")]})
    data: dict[str, Any] = {}
    if set_owner:
        data["owner"] = resolve_owner(owner)
    if set_team:
        data["team"] = resolve_team(team)
    changed = unchanged = 0
    with transaction.atomic():
        allowed = restrict(Customer.objects.filter(pk__in=ids), actor, "change")
        for customer in allowed.select_for_update(of=("self",)).order_by("pk"):
            if all(getattr(customer, f"{k}_id") == _id(v) for k, v in data.items()):
                unchanged += 1
                continue
            # The search index moves the contact points along (owner/team "updated" event).
            record_update(customer, actor=actor, data=data)
            changed += 1
    return BulkResult(changed=changed, unchanged=unchanged, refused=len(ids) - changed - unchanged)


def customer_bulk_tag(
    *,
    actor: User,
    customer_ids: Sequence[int],
    add: Sequence[str] | str | None = None,
    remove: Sequence[str] | str | None = None,
) -> BulkResult:
    """Add and remove tags on the customers ``customer_ids`` the actor may change."""
    from vefa.platform.services import tags_resolve

    ids = as_ids(customer_ids, field="customer_ids", maximum=MAX_BULK)
    to_add = as_names(add, field="add")
    to_remove = {fold(n) for n in as_names(remove, field="remove")}
    if not to_add and not to_remove:
        raise invalid({"add": [_("Name a tag to add or to remove.")]})
    changed = unchanged = 0
    with transaction.atomic():
        added = tags_resolve(list(to_add))
        allowed = restrict(Customer.objects.filter(pk__in=ids), actor, "change")
        for customer in (
            allowed.select_for_update(of=("self",)).order_by("pk").prefetch_related("tags")
        ):
            current = list(customer.tags.all())
            keep = [t for t in current if fold(t.name) not in to_remove]
            new = keep + [t for t in added if t.pk not in {k.pk for k in keep}]
            if sorted(t.pk for t in new) == sorted(t.pk for t in current):
                unchanged += 1
                continue
            record_update(customer, actor=actor, data={}, tags=new)
            changed += 1
    return BulkResult(changed=changed, unchanged=unchanged, refused=len(ids) - changed - unchanged)


def customer_refresh_contact_summary(*, customer_id: int, actor: User | None) -> None:
    """Copy the primary e-mail, phone and address into the customer's list columns.

    The columns are derived, so the customer's version is not bumped (an open edit form stays
    valid) and no change-log row is written (the contact point's own row says what changed);
    an ``updated`` event still tells the search index.
    """
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        return
    points = {
        cp.kind: cp.normalized
        for cp in ContactPoint.objects.filter(customer_id=customer_id, is_primary=True)
    }
    phone_order = (
        ("mobile", "phone") if customer.kind == CustomerKind.PERSON else ("phone", "mobile")
    )
    phone = next((points[k] for k in phone_order if k in points), "")
    address = Address.objects.filter(customer_id=customer_id, is_primary=True).first()
    values = {
        "primary_email": points.get("email", "")[:254],
        "primary_phone": phone[:32],
        "city": address.city[:100] if address else "",
        "country": address.country if address else "",
    }
    changed = [k for k, v in values.items() if getattr(customer, k) != v]
    if not changed:
        return
    Customer.objects.filter(pk=customer_id).update(updated_at=timezone.now(), **values)
    emit(
        DomainEvent(
            name="customers.customer.updated",
            model="customers.customer",
            object_id=customer_id,
            actor_id=actor.pk if actor else None,
            payload={"changed": changed},
        )
    )
