"""Which domain events a webhook rule can listen to, and the rule's optional condition.

A rule names a record type and an event in the words people use (``order`` /
``status_changed``); this module maps them onto the domain events the services emit
(``sales.order.updated`` whose ``changed`` list holds ``status``), and evaluates the
condition (``field operator value``) against the record's fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from vefa.integrations.choices import Entity, EventKind, Operator

# Record type → the model label of its domain events.
ENTITY_MODELS: dict[str, str] = {
    Entity.CUSTOMER: "customers.customer",
    Entity.LEAD: "customers.lead",
    Entity.ORDER: "sales.order",
    Entity.TICKET: "service.ticket",
    Entity.OPPORTUNITY: "sales.opportunity",
}


@dataclass(frozen=True)
class EventSpec:
    """A rule's event: the domain event verb and, for "… changed", the field that changed."""

    verb: str
    changed_field: str = ""


# (record type, event) → how it maps; a pair missing here is not offered.
EVENTS: dict[tuple[str, str], EventSpec] = {}
for _entity in Entity.values:
    EVENTS[(_entity, EventKind.CREATED)] = EventSpec("created")
    EVENTS[(_entity, EventKind.UPDATED)] = EventSpec("updated")
    EVENTS[(_entity, EventKind.DELETED)] = EventSpec("deleted")
EVENTS[(Entity.CUSTOMER, EventKind.STAGE_CHANGED)] = EventSpec("updated", "lifecycle_stage")
EVENTS[(Entity.LEAD, EventKind.STATUS_CHANGED)] = EventSpec("updated", "status")
EVENTS[(Entity.LEAD, EventKind.ASSIGNED)] = EventSpec("assigned")
EVENTS[(Entity.LEAD, EventKind.CONVERTED)] = EventSpec("converted")
EVENTS[(Entity.ORDER, EventKind.STATUS_CHANGED)] = EventSpec("updated", "status")
EVENTS[(Entity.TICKET, EventKind.STATUS_CHANGED)] = EventSpec("updated", "status")
EVENTS[(Entity.OPPORTUNITY, EventKind.STAGE_CHANGED)] = EventSpec("updated", "stage")
EVENTS[(Entity.OPPORTUNITY, EventKind.STATUS_CHANGED)] = EventSpec("updated", "status")

MAX_CONDITION_VALUE = 200
_FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def domain_event_name(entity: str, event: str) -> str:
    spec = EVENTS[(entity, event)]
    return f"{ENTITY_MODELS[entity]}.{spec.verb}"


def event_choices() -> list[tuple[str, str]]:
    """``entity.event`` pairs for a form's choice list."""
    labels_e = dict(Entity.choices)
    labels_k = dict(EventKind.choices)
    return [
        (f"{entity}.{event}", f"{labels_e[entity]} · {labels_k[event]}") for entity, event in EVENTS
    ]


def model_fields(entity: str) -> set[str]:
    """The field names a condition on ``entity`` may test (concrete fields of its model)."""
    from django.apps import apps

    model = apps.get_model(ENTITY_MODELS[entity])
    return {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }


def check_condition(entity: str, field: str, operator: str, value: str) -> dict[str, list[str]]:
    """Field errors of a condition (empty when it is valid or absent)."""
    errors: dict[str, list[str]] = {}
    if not field and not operator and not value:
        return errors
    if not field:
        errors["condition_field"] = [_("Name the field the condition tests.")]
    elif not set(field) <= _FIELD_CHARS or field not in model_fields(entity):
        errors["condition_field"] = [_("This record type has no such field.")]
    if operator not in Operator.values:
        errors["condition_operator"] = [_("Choose a valid operator.")]
    elif operator in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE):
        try:
            Decimal(value.strip())
        except InvalidOperation:
            errors["condition_value"] = [_("This operator compares numbers; enter a number.")]
    elif operator not in (Operator.EMPTY, Operator.NOT_EMPTY) and value == "":
        errors["condition_value"] = [_("Enter the value to compare with.")]
    if len(value) > MAX_CONDITION_VALUE:
        errors["condition_value"] = [_("At most %(n)d characters.") % {"n": MAX_CONDITION_VALUE}]
    return errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_matches(data: dict[str, Any], field: str, operator: str, value: str) -> bool:
    """Whether the record's values ``data`` satisfy the condition (no condition: always).

    Text compares case-insensitively; ``gt``/``lt``… compare as numbers (a value that is
    not a number never matches); ``in`` takes a comma-separated list.
    """
    if not field:
        return True
    actual = data.get(field)
    if operator == Operator.EMPTY:
        return actual in (None, "", [], {})
    if operator == Operator.NOT_EMPTY:
        return actual not in (None, "", [], {})
    text = _text(actual).casefold()
    wanted = value.casefold()
    if operator == Operator.EQ:
        return text == wanted
    if operator == Operator.NE:
        return text != wanted
    if operator == Operator.CONTAINS:
        return wanted in text
    if operator == Operator.IN:
        return text in {part.strip() for part in wanted.split(",")}
    try:
        left, right = Decimal(_text(actual)), Decimal(value)
    except InvalidOperation:
        return False
    if operator == Operator.GT:
        return left > right
    if operator == Operator.GTE:
        return left >= right
    if operator == Operator.LT:
        return left < right
    if operator == Operator.LTE:
        return left <= right
    return False
