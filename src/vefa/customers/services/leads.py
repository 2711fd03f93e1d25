"""Leads: potential customers, their round-robin assignment and their conversion."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind, LeadStatus, LifecycleStage, RelationshipKind
from vefa.customers.models import Customer, CustomerRelationship, Lead, LeadAssignmentRule
from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.customers.services._common import (
    as_names,
    coerce,
    get_for,
    get_visible,
    invalid,
    resolve_owner,
    resolve_team,
)
from vefa.customers.services.contact_points import contact_point_create
from vefa.customers.services.customers import customer_create
from vefa.platform.custom_fields import definitions_for
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User

LEAD_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "email",
    "phone",
    "source",
    "status",
    "score",
    "notes",
    "custom_fields",
)
SCORE_RANGE = (0, 100)
ASSIGNABLE_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)
_NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class LeadConversion:
    """What converting a lead made: the customer, and the organisation when there was one."""

    lead: Lead
    customer: Customer
    organisation: Customer | None
    relationship: CustomerRelationship | None


def lead_name_key(values: Mapping[str, Any]) -> str:
    """The folded sort and search key of a lead: the person, else the company, else e-mail."""
    person = " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
    return fold(person or values.get("company_name") or values.get("email") or "")[:300]


def _clean_lead(values: dict[str, Any], *, merged: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise e-mail and phone and check the rules across fields; name each bad field."""
    errors: dict[str, list[str]] = {}
    if values.get("email"):
        try:
            values["email"] = normalize_email(values["email"])
        except ValueError as exc:
            errors["email"] = [str(exc)]
    if values.get("phone"):
        try:
            values["phone"] = normalize_phone(values["phone"]).value
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if "score" in values and not SCORE_RANGE[0] <= values["score"] <= SCORE_RANGE[1]:
        errors["score"] = [_("Enter a score from 0 to 100.")]
    if values.get("status") == LeadStatus.CONVERTED:
        errors["status"] = [_("A lead becomes converted only by converting it.")]
    full = {**merged, **values}
    if not any(full.get(k) for k in ("first_name", "last_name", "company_name", "email", "phone")):
        errors["last_name"] = [_("Enter a name, a company, an e-mail address or a phone number.")]
    if errors:
        raise invalid(errors)
    return values


def _assign_round_robin(source: str) -> tuple[User, Team] | None:
    """The owner the first matching active rule picks: least recently assigned first.

    The candidates' rows are locked (in id order, so two assigners never deadlock) before
    the choice is made, so concurrent leads go to different people.
    """
    from vefa.accounts.models import User

    rules = (
        LeadAssignmentRule.objects.filter(is_active=True)
        .filter(Q(source=source) | Q(source=""))
        .select_related("team")
        .order_by("order", "id")
    )
    for rule in rules:
        candidates = list(
            User.objects.select_for_update()
            .filter(team=rule.team, is_active=True, role__in=ASSIGNABLE_ROLES)
            .order_by("pk")
        )
        if not candidates:
            continue
        chosen = min(candidates, key=lambda u: (u.last_assigned_at or _NEVER, u.pk))
        now = timezone.now()
        User.objects.filter(pk=chosen.pk).update(last_assigned_at=now)
        chosen.last_assigned_at = now
        return chosen, rule.team
    return None


def lead_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    tags: Sequence[str] | str | None = None,
) -> Lead:
    """Record a new lead.

    Without an ``owner`` in ``data`` the first active assignment rule matching the lead's
    source picks one round robin among its team's active sales people (the least recently
    assigned first); with no matching rule the actor owns the lead. An explicit owner and
    team must be ones the actor could then work with.
    """
    if not can_create(actor, Lead):
        raise PermissionDenied(_("You may not create leads."))
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    fields = dict(data)
    owner_given = fields.get("owner") not in (None, "")
    owner = resolve_owner(fields.pop("owner", None))
    team = resolve_team(fields.pop("team", None))
    values = coerce(Lead, fields, LEAD_FIELDS)
    values = _clean_lead(values, merged={})
    names = as_names(tags, field="tags")
    with transaction.atomic():
        assigned = False
        if owner is None:
            picked = _assign_round_robin(values.get("source") or "")
            if picked is not None:
                owner, rule_team = picked
                team = team or rule_team
                assigned = True
            else:
                owner = actor
        if team is None and owner is not None:
            team = owner.team
        lead = Lead(owner=owner, team=team, name_key=lead_name_key(values), **values)
        if owner_given and not can(actor, "change", lead):
            raise PermissionDenied(
                _("You may not create a lead for this owner or team."),
                fields={"owner": [_("You may not create a lead for this owner or team.")]},
            )
        record_create(lead, actor=actor, tags=names)
        if assigned and owner is not None:
            emit(
                DomainEvent(
                    name="customers.lead.assigned",
                    model="customers.lead",
                    object_id=lead.pk,
                    actor_id=actor.pk,
                    payload={"owner_id": owner.pk, "team_id": team.pk if team else None},
                )
            )
    return lead


def lead_update(
    *,
    actor: User,
    lead_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    tags: Sequence[str] | str | None = None,
) -> Lead:
    """Change a lead. A converted lead is closed: its history stays as it was."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    with transaction.atomic():
        lead = get_for(Lead.objects.all(), actor=actor, pk=lead_id)
        if lead.status == LeadStatus.CONVERTED:
            raise invalid({"__all__": [_("A converted lead can no longer be changed.")]})
        fields = dict(data)
        changes: dict[str, Any] = {}
        if "owner" in fields:
            changes["owner"] = resolve_owner(fields.pop("owner"))
        if "team" in fields:
            changes["team"] = resolve_team(fields.pop("team"))
        values = coerce(Lead, fields, LEAD_FIELDS)
        merged = {f: getattr(lead, f) for f in LEAD_FIELDS}
        changes.update(_clean_lead(values, merged=merged))
        changes["name_key"] = lead_name_key({**merged, **changes})
        names = None if tags is None else as_names(tags, field="tags")
        return record_update(
            lead, actor=actor, data=changes, expected_version=expected_version, tags=names
        )


def lead_delete(*, actor: User, lead_id: int) -> None:
    """Delete a lead (a converted lead's customer stays)."""
    with transaction.atomic():
        lead = get_for(Lead.objects.all(), actor=actor, pk=lead_id, action="delete")
        record_delete(lead, actor=actor)


def _customer_custom_fields(lead: Lead, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """The lead's custom-field values whose keys customers also have, then ``extra``."""
    keys = {d.key for d in definitions_for("customers.customer")}
    values = {k: v for k, v in (lead.custom_fields or {}).items() if k in keys}
    values.update(extra or {})
    return values


def _usable_owner(lead: Lead, actor: User) -> User:
    owner = lead.owner
    return owner if owner is not None and owner.is_active else actor


def lead_convert(
    *,
    actor: User,
    lead_id: int,
    expected_version: int | None = None,
    lifecycle_stage: str = LifecycleStage.PROSPECT,
    organisation_id: int | None = None,
    create_organisation: bool = True,
    custom_fields: Mapping[str, Any] | None = None,
) -> LeadConversion:
    """Turn a qualified lead into a customer, in one transaction.

    Creates a person from the lead's names (with its e-mail and phone as primary contact
    points, its tags, notes, owner and team) and, when the lead names a company, links the
    person to an organisation with a *works at* relationship: the existing organisation
    ``organisation_id`` or a new one. A lead with a company but no person's name becomes
    the organisation itself. The lead is marked converted (``converted_customer``,
    ``converted_at``) and keeps its history; its activities move to the new customer.
    Converting a lead twice is refused.
    """
    from vefa.interactions.models import Activity

    if lifecycle_stage not in LifecycleStage.values:
        raise invalid({"lifecycle_stage": [_("Choose a valid lifecycle stage.")]})
    with transaction.atomic():
        lead = get_for(Lead.objects.select_related("owner"), actor=actor, pk=lead_id)
        if lead.status == LeadStatus.CONVERTED or lead.converted_customer_id is not None:
            raise invalid({"__all__": [_("This lead has already been converted.")]})
        if expected_version is not None and lead.version != expected_version:
            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=lead.version,
            )
        if not can_create(actor, Customer):
            raise PermissionDenied(_("You may not create customers."))
        has_person = bool(lead.first_name or lead.last_name)
        if not has_person and not lead.company_name and organisation_id is None:
            raise invalid(
                {"__all__": [_("Give the lead a name or a company before converting it.")]}
            )
        owner = _usable_owner(lead, actor)
        common: dict[str, Any] = {
            "owner": owner,
            "team": lead.team if lead.team_id else owner.team,
            "source": lead.source,
            "lifecycle_stage": lifecycle_stage,
        }
        tag_names = [t.name for t in lead.tags.all()]
        organisation: Customer | None = None
        new_organisation = False
        if organisation_id is not None:
            try:
                organisation = get_visible(Customer.objects.all(), actor=actor, pk=organisation_id)
            except NotFound:
                raise invalid({"organisation": [_("Choose an existing organisation.")]}) from None
            if organisation.kind != CustomerKind.ORGANISATION:
                raise invalid({"organisation": [_("Choose an existing organisation.")]})
        elif lead.company_name and create_organisation:
            org_data = {
                **common,
                "kind": CustomerKind.ORGANISATION,
                "trade_name": lead.company_name,
                # Required custom fields apply to every customer, the organisation too.
                "custom_fields": _customer_custom_fields(lead, custom_fields),
            }
            if not has_person:
                org_data["notes"] = lead.notes
            organisation = customer_create(
                actor=actor,
                data=org_data,
                tags=tag_names if not has_person else None,
                email="" if has_person else lead.email,
                phone="" if has_person else lead.phone,
            )
            new_organisation = True
        if has_person:
            customer = customer_create(
                actor=actor,
                data={
                    **common,
                    "kind": CustomerKind.PERSON,
                    "first_name": lead.first_name,
                    "last_name": lead.last_name,
                    "notes": lead.notes,
                    "custom_fields": _customer_custom_fields(lead, custom_fields),
                },
                tags=tag_names,
                email=lead.email,
                phone=lead.phone,
            )
        elif organisation is not None:
            customer = organisation
            if not new_organisation:
                _add_contacts_quietly(actor, organisation, lead)
        else:
            raise invalid(
                {"__all__": [_("Give the lead a name or a company before converting it.")]}
            )
        relationship = None
        if has_person and organisation is not None:
            relationship = record_create(
                CustomerRelationship(
                    from_customer=customer,
                    to_customer=organisation,
                    kind=RelationshipKind.WORKS_AT,
                    job_title=lead.job_title,
                ),
                actor=actor,
            )
        now = timezone.now()
        lead = record_update(
            lead,
            actor=actor,
            data={
                "status": LeadStatus.CONVERTED,
                "converted_customer": customer,
                "converted_at": now,
            },
        )
        for activity in Activity.objects.select_for_update().filter(
            lead=lead, customer__isnull=True
        ):
            record_update(activity, actor=actor, data={"customer": customer})
        emit(
            DomainEvent(
                name="customers.lead.converted",
                model="customers.lead",
                object_id=lead.pk,
                actor_id=actor.pk,
                payload={
                    "customer_id": customer.pk,
                    "organisation_id": organisation.pk if organisation else None,
                },
            )
        )
    return LeadConversion(
        lead=lead, customer=customer, organisation=organisation, relationship=relationship
    )


def _add_contacts_quietly(actor: User, organisation: Customer, lead: Lead) -> None:
    """Add the lead's e-mail and phone to an existing organisation unless it has them."""
    for kind, value in (("email", lead.email), ("phone", lead.phone)):
        if not value:
            continue
        try:
            contact_point_create(
                actor=actor, customer_id=organisation.pk, data={"kind": kind, "value": value}
            )
        except ValidationFailed:
            # Already there (or not valid for the organisation's country): nothing to add.
            continue


# --- assignment rules (administrators) ---------------------------------------------------

RULE_FIELDS = ("name", "source", "is_active", "order")


def _require_admin(actor: User) -> None:
    if not (actor.is_active and actor.is_admin):
        raise PermissionDenied(_("Only administrators manage assignment rules."))


def lead_assignment_rule_create(
    *, actor: User, data: Mapping[str, Any], team: Team | int
) -> LeadAssignmentRule:
    """Add a rule that hands new leads (of one source, or any) round robin to ``team``."""
    _require_admin(actor)
    values = coerce(LeadAssignmentRule, data, RULE_FIELDS)
    rule_team = resolve_team(team)
    if rule_team is None:
        raise invalid({"team": [_("This field is required.")]})
    return record_create(LeadAssignmentRule(team=rule_team, **values), actor=actor)


def lead_assignment_rule_update(
    *, actor: User, rule_id: int, data: Mapping[str, Any]
) -> LeadAssignmentRule:
    """Change an assignment rule (name, source, order, active, team)."""
    _require_admin(actor)
    fields = dict(data)
    changes: dict[str, Any] = {}
    if "team" in fields:
        team = resolve_team(fields.pop("team"))
        if team is None:
            raise invalid({"team": [_("This field is required.")]})
        changes["team"] = team
    changes.update(coerce(LeadAssignmentRule, fields, RULE_FIELDS))
    rule = LeadAssignmentRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise invalid({"__all__": [_("Not found.")]})
    return record_update(rule, actor=actor, data=changes)


def lead_assignment_rule_delete(*, actor: User, rule_id: int) -> None:
    """Remove an assignment rule."""
    _require_admin(actor)
    rule = LeadAssignmentRule.objects.filter(pk=rule_id).first()
    if rule is not None:
        record_delete(rule, actor=actor)
