"""Returns (RMA): requesting the return of order lines and moving it through its steps.

Rules decided here:

* A return belongs to one order; its lines are lines of that order. A line's quantity is
  never more than the ordered quantity minus what active returns (every status but rejected
  and cancelled) already take back. The order row is locked while the quantities are
  checked, so two returns written at the same moment cannot together over-return.
* Only an order that was confirmed and not cancelled can be returned.
* The steps run ``requested → approved → pickup → in_transit → received → inspected →
  completed``. A request can be rejected (from requested, or after an inspection that does
  not confirm the claim) and cancelled until the goods are on their way (requested,
  approved, pickup). Each step takes its own data (``STEP_FIELDS``), stamps its time where
  the return has a column for it, writes the change log and records an interaction of kind
  "return" in the customer's contact history (one per step, ``external_id``
  ``service.returnrequest:<id>:<status>``); the step times on the return page come from
  these.
* The refund (at completion) is in the order's currency, rounded to it, and never more than
  the value of the returned lines: each line's share of its order line's total (with tax),
  rounded to the currency.
* Owner and team: the agent who records the return; for a request from the customer
  (``actor=None``, the portal) the customer's owner and team.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict
from vefa.common.errors import PermissionDenied
from vefa.common.text import fold
from vefa.customers.services._common import MAX_LONG_TEXT, as_text, invalid, not_found
from vefa.interactions.choices import (
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
)
from vefa.interactions.models import Interaction
from vefa.interactions.services._common import as_datetime
from vefa.interactions.services.interactions import customer_touch_last_interaction
from vefa.platform.records import record_create, record_update
from vefa.sales.choices import OrderStatus
from vefa.sales.models import Order, OrderLine
from vefa.sales.money import MoneyError, check_amount, round_money
from vefa.sales.numbering import next_number
from vefa.service.choices import Disposition, ReturnReason, ReturnStatus
from vefa.service.models import ReturnLine, ReturnRequest, Ticket

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_LINES = 200
MAX_MERGE_DEPTH = 10
INTERACTION_MODEL = "service.returnrequest"

# Statuses whose lines count as returned (or on their way back).
INACTIVE_STATUSES = (ReturnStatus.REJECTED, ReturnStatus.CANCELLED)
ACTIVE_STATUSES = tuple(s for s in ReturnStatus.values if s not in INACTIVE_STATUSES)
FINAL_STATUSES = (ReturnStatus.COMPLETED, ReturnStatus.REJECTED, ReturnStatus.CANCELLED)

# Orders whose goods can come back.
RETURNABLE_ORDER_STATUSES = (
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
    OrderStatus.PAID,
)

# The steps each status may move to.
FLOW: dict[str, tuple[str, ...]] = {
    ReturnStatus.REQUESTED: (
        ReturnStatus.APPROVED,
        ReturnStatus.REJECTED,
        ReturnStatus.CANCELLED,
    ),
    ReturnStatus.APPROVED: (ReturnStatus.PICKUP, ReturnStatus.CANCELLED),
    ReturnStatus.PICKUP: (ReturnStatus.IN_TRANSIT, ReturnStatus.CANCELLED),
    ReturnStatus.IN_TRANSIT: (ReturnStatus.RECEIVED,),
    ReturnStatus.RECEIVED: (ReturnStatus.INSPECTED,),
    ReturnStatus.INSPECTED: (ReturnStatus.COMPLETED, ReturnStatus.REJECTED),
    ReturnStatus.COMPLETED: (),
    ReturnStatus.REJECTED: (),
    ReturnStatus.CANCELLED: (),
}

# The data each step takes ("note" goes into the step's contact-history entry).
STEP_FIELDS: dict[str, frozenset[str]] = {
    ReturnStatus.APPROVED: frozenset({"note"}),
    ReturnStatus.PICKUP: frozenset({"carrier", "tracking_number", "pickup_at", "note"}),
    ReturnStatus.IN_TRANSIT: frozenset({"carrier", "tracking_number", "note"}),
    ReturnStatus.RECEIVED: frozenset({"storage_location", "note"}),
    ReturnStatus.INSPECTED: frozenset({"inspection_notes", "disposition", "lines", "note"}),
    ReturnStatus.COMPLETED: frozenset({"refund_amount", "note"}),
    ReturnStatus.REJECTED: frozenset({"note"}),
    ReturnStatus.CANCELLED: frozenset({"note"}),
}

# The timestamp column of the steps that have one.
STATUS_STAMP: dict[str, str] = {
    ReturnStatus.PICKUP: "pickup_at",
    ReturnStatus.RECEIVED: "received_at",
    ReturnStatus.INSPECTED: "inspected_at",
    ReturnStatus.COMPLETED: "completed_at",
}

CREATE_FIELDS = frozenset({"order", "reason", "reason_detail", "contact", "ticket"})
LINE_FIELDS = frozenset({"order_line", "quantity", "reason", "condition"})


# --- small checks --------------------------------------------------------------------------------


def _key(value: Any, *, field: str, message: str) -> int:
    """A record id from an int or a digit string; anything else is a field error."""
    if isinstance(value, bool) or value is None or value == "":
        raise invalid({field: [message]})
    if isinstance(value, int):
        key = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        key = int(value.strip())
    else:
        raise invalid({field: [message]})
    if key <= 0 or key > 2**63 - 1:
        raise invalid({field: [message]})
    return key


def _choice(value: Any, choices: Sequence[str], *, field: str, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise invalid({field: [_("This field is required.")]})
        return ""
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid value.")]})
    return value


def as_return_quantity(value: Any, *, field: str) -> Decimal:
    """A quantity above zero with at most three decimals (no floats)."""
    if value is None or value == "":
        raise invalid({field: [_("This field is required.")]})
    try:
        number = check_amount(value)
    except MoneyError:
        raise invalid({field: [_("Enter a quantity above zero.")]}) from None
    if number <= 0:
        raise invalid({field: [_("Enter a quantity above zero.")]})
    if number >= Decimal(10) ** 11:
        raise invalid({field: [_("Enter a smaller quantity.")]})
    if number != number.quantize(Decimal("0.001")):
        raise invalid({field: [_("Enter at most three decimals.")]})
    return number.quantize(Decimal("0.001"))


# --- quantities and values ---------------------------------------------------------------------


def returned_quantities(
    order_line_ids: Sequence[int], *, exclude: int | None = None
) -> dict[int, Decimal]:
    """Quantity per order line that active returns already take back."""
    qs = ReturnLine.objects.filter(
        order_line_id__in=list(order_line_ids),
        return_request__status__in=ACTIVE_STATUSES,
    )
    if exclude is not None:
        qs = qs.exclude(return_request_id=exclude)
    rows = qs.order_by().values("order_line_id").annotate(total=Sum("quantity"))
    return {row["order_line_id"]: Decimal(row["total"] or 0) for row in rows}


def line_value(order_line: OrderLine, quantity: Decimal, currency: str) -> Decimal:
    """The share of ``order_line``'s total (with tax) that ``quantity`` stands for."""
    ordered = Decimal(order_line.quantity)
    if ordered <= 0:
        return Decimal(0)
    return round_money(Decimal(order_line.total) * Decimal(quantity) / ordered, currency)


def returned_value(return_request: ReturnRequest) -> Decimal:
    """The value of the return's lines in the order's currency (the refund's ceiling)."""
    total = Decimal(0)
    for line in return_request.lines.select_related("order_line"):
        total += line_value(line.order_line, line.quantity, return_request.currency)
    return round_money(total, return_request.currency)


def next_statuses(return_request: ReturnRequest) -> list[str]:
    """The statuses the return may move to now."""
    return list(FLOW.get(return_request.status, ()))


# --- contact history ---------------------------------------------------------------------------


def step_subject(number: str, status: str) -> str:
    return _("Return %(number)s: %(step)s") % {
        "number": number,
        "step": ReturnStatus(status).label,
    }


def step_external_id(return_id: int, status: str) -> str:
    return f"{INTERACTION_MODEL}:{return_id}:{status}"


def _record_step(
    return_request: ReturnRequest,
    *,
    actor: User | None,
    status: str,
    note: str = "",
    when: datetime.datetime | None = None,
) -> Interaction:
    """The step's entry in the customer's contact history."""
    from_customer = actor is None
    amount = None
    currency = ""
    if status == ReturnStatus.COMPLETED and return_request.refund_amount:
        amount = Decimal(return_request.refund_amount).quantize(Decimal("0.01"))
        currency = return_request.currency
    body_parts = [note] if note else []
    if status == ReturnStatus.REQUESTED and return_request.reason_detail:
        body_parts.insert(0, return_request.reason_detail)
    interaction = Interaction(
        customer_id=return_request.customer_id,
        kind=InteractionKind.RETURN,
        direction=Direction.INBOUND if from_customer else Direction.INTERNAL,
        initiated_by=InitiatedBy.CUSTOMER if from_customer else InitiatedBy.COMPANY,
        channel=InteractionChannel.WEB if from_customer else "",
        occurred_at=when or timezone.now(),
        subject=step_subject(return_request.number, status)[:300],
        body="\n\n".join(body_parts),
        status=(
            InteractionStatus.DONE if status in FINAL_STATUSES else InteractionStatus.IN_PROGRESS
        ),
        amount=amount,
        currency=currency,
        user=actor,
        related_model=INTERACTION_MODEL,
        related_id=return_request.pk,
        external_id=step_external_id(return_request.pk, status),
    )
    interaction = record_create(interaction, actor=actor)
    customer_touch_last_interaction(
        customer_id=return_request.customer_id, occurred_at=interaction.occurred_at
    )
    return interaction


def _search_text(return_request: ReturnRequest, order: Order, customer: Customer) -> str:
    parts = [
        return_request.number,
        order.number,
        customer.display_name,
        return_request.carrier,
        return_request.tracking_number,
        return_request.storage_location,
    ]
    return fold(" ".join(p for p in parts if p))[:2000]


# --- create ------------------------------------------------------------------------------------


def _order_for(actor: User | None, value: Any) -> Order:
    """The order, locked: its lines' returned quantities are checked under this lock."""
    key = _key(value, field="order", message=_("Choose an existing order."))
    qs = Order.objects.all()
    if actor is not None:
        qs = restrict(qs, actor, "view")
    if not qs.filter(pk=key).exists():
        raise invalid({"order": [_("Choose an existing order.")]})
    order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=key)
    if order.status not in RETURNABLE_ORDER_STATUSES:
        raise invalid(
            {"order": [_("Only a confirmed order that was not cancelled can be returned.")]}
        )
    return order


def _related(contact_id: int, customer_id: int) -> bool:
    """Whether the contact is the customer or linked to it (works at it, or the like)."""
    from vefa.customers.models import CustomerRelationship

    if contact_id == customer_id:
        return True
    return CustomerRelationship.objects.filter(
        Q(from_customer_id=contact_id, to_customer_id=customer_id)
        | Q(from_customer_id=customer_id, to_customer_id=contact_id)
    ).exists()


def _contact(
    actor: User | None, value: Any, author_contact: Customer | None, order: Order
) -> Customer | None:
    from vefa.customers.models import Customer

    if author_contact is not None:
        contact: Customer | None = author_contact
    elif value is None or value == "":
        return None
    else:
        key = _key(value, field="contact", message=_("Choose an existing customer."))
        qs = Customer.objects.filter(merged_into__isnull=True)
        if actor is not None:
            qs = restrict(qs, actor, "view")
        contact = qs.filter(pk=key).first()
        if contact is None:
            raise invalid({"contact": [_("Choose an existing customer.")]})
    assert contact is not None
    if not _related(contact.pk, order.customer_id):
        raise invalid({"contact": [_("The contact person does not belong to this customer.")]})
    return contact


def _ticket(actor: User | None, value: Any, order: Order) -> Ticket | None:
    if value is None or value == "":
        return None
    key = _key(value, field="ticket", message=_("Choose an existing ticket."))
    qs = Ticket.objects.all()
    if actor is not None:
        qs = restrict(qs, actor, "view")
    # Locked, so a merge of the ticket running now finishes first and is seen here.
    qs = qs.select_for_update(of=("self",))
    ticket = qs.filter(pk=key).first()
    if ticket is None:
        raise invalid({"ticket": [_("Choose an existing ticket.")]})
    # A duplicate merged into another ticket: the return goes with the conversation.
    depth = 0
    while ticket.merged_into_id is not None and depth < MAX_MERGE_DEPTH:
        survivor = qs.filter(pk=ticket.merged_into_id).first()
        if survivor is None:
            break
        ticket, depth = survivor, depth + 1
    if ticket.customer_id != order.customer_id:
        raise invalid({"ticket": [_("The ticket is about another customer.")]})
    return ticket


def _build_lines(raw_lines: Any, order: Order) -> list[ReturnLine]:
    """Unsaved return lines, each within what is still returnable of its order line."""
    if not isinstance(raw_lines, list | tuple):
        raise invalid({"lines": [_("Expected a list of lines.")]})
    if not raw_lines:
        raise invalid({"lines": [_("Choose at least one line to return.")]})
    if len(raw_lines) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines per return.") % {"n": MAX_LINES}]})
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    returned = returned_quantities(list(order_lines))
    built: list[ReturnLine] = []
    seen: set[int] = set()
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(raw_lines):
        prefix = f"lines.{index}"
        if not isinstance(raw, Mapping):
            raise invalid({prefix: [_("Expected an object of line values.")]})
        unknown = sorted(str(k) for k in raw if k not in LINE_FIELDS)
        if unknown:
            raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
        key = _key(
            raw.get("order_line"),
            field=f"{prefix}.order_line",
            message=_("Choose a line of this order."),
        )
        order_line = order_lines.get(key)
        if order_line is None:
            raise invalid({f"{prefix}.order_line": [_("Choose a line of this order.")]})
        if key in seen:
            raise invalid({f"{prefix}.order_line": [_("This line is listed twice.")]})
        seen.add(key)
        quantity = as_return_quantity(raw.get("quantity"), field=f"{prefix}.quantity")
        available = Decimal(order_line.quantity) - returned.get(key, Decimal(0))
        if quantity > available:
            errors[f"{prefix}.quantity"] = [
                _("At most %(n)s can still be returned of this line.")
                % {"n": _quantity_text(max(available, Decimal(0)))}
            ]
            continue
        built.append(
            ReturnLine(
                order_line=order_line,
                product_id=order_line.product_id,
                quantity=quantity,
                reason=_choice(
                    raw.get("reason"),
                    ReturnReason.values,
                    field=f"{prefix}.reason",
                    required=False,
                ),
                condition=as_text(
                    raw.get("condition"), field=f"{prefix}.condition", max_length=200
                ),
            )
        )
    if errors:
        raise invalid(errors)
    return built


def _quantity_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def return_create(
    *,
    actor: User | None,
    data: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    author_contact: Customer | None = None,
) -> ReturnRequest:
    """Request the return of lines of one order.

    ``data``: ``order`` (id, required), ``reason`` (required), ``reason_detail``,
    ``contact`` (id of the customer's contact person), ``ticket`` (id of a ticket about the
    same customer). ``lines``: objects with ``order_line`` (id), ``quantity``, optional
    ``reason`` and ``condition``. ``actor=None`` is the customer asking (the portal; the
    caller has checked the order is theirs) with ``author_contact`` the person asking.
    """
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in CREATE_FIELDS)
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    if actor is not None and not can_create(actor, ReturnRequest):
        raise PermissionDenied(_("Your role cannot record returns."))
    reason = _choice(data.get("reason"), ReturnReason.values, field="reason")
    detail = as_text(data.get("reason_detail"), field="reason_detail", max_length=MAX_LONG_TEXT)
    with transaction.atomic():
        order = _order_for(actor, data.get("order"))
        customer = order.customer
        contact = _contact(actor, data.get("contact"), author_contact, order)
        ticket = _ticket(actor, data.get("ticket"), order)
        built = _build_lines(lines, order)
        owner: User | None
        team_id: int | None
        if actor is not None:
            owner, team_id = actor, actor.team_id
        else:
            owner, team_id = customer.owner, customer.team_id
        return_request = ReturnRequest(
            customer=customer,
            contact=contact,
            order=order,
            ticket=ticket,
            reason=reason,
            reason_detail=detail,
            currency=order.currency,
            owner=owner,
            team_id=team_id,
        )
        return_request.number = next_number("return")
        return_request.search_text = _search_text(return_request, order, customer)
        record_create(return_request, actor=actor, clean_exclude=("number",))
        for line in built:
            line.return_request = return_request
            line.created_by = actor
            line.updated_by = actor
            record_create(line, actor=actor)
        _record_step(return_request, actor=actor, status=ReturnStatus.REQUESTED)
    return return_request


# --- steps ------------------------------------------------------------------------------------


def _return_for(actor: User, return_id: Any) -> ReturnRequest:
    """The return for a change by ``actor`` (locked), or ``NotFound``: hidden or only
    visible is refused like missing."""
    if isinstance(return_id, bool):
        raise not_found()
    try:
        key = int(return_id)
    except (TypeError, ValueError):
        raise not_found() from None
    record = (
        restrict(ReturnRequest.objects.all(), actor, "change")
        .select_for_update(of=("self",))
        .filter(pk=key)
        .first()
    )
    if record is None:
        raise not_found()
    return record


def _step_values(
    return_request: ReturnRequest, status: str, data: Mapping[str, Any]
) -> tuple[dict[str, Any], str, list[tuple[ReturnLine, dict[str, str]]]]:
    """The fields the step sets, its note and any per-line inspection results."""
    allowed = STEP_FIELDS[status]
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise invalid({k: [_("This step does not take this field.")] for k in unknown})
    note = as_text(data.get("note"), field="note", max_length=MAX_LONG_TEXT)
    values: dict[str, Any] = {}
    per_line: list[tuple[ReturnLine, dict[str, str]]] = []
    now = timezone.now()
    if status in STATUS_STAMP:
        values[STATUS_STAMP[status]] = now
    if status == ReturnStatus.PICKUP:
        carrier = as_text(data.get("carrier"), field="carrier", max_length=100)
        if not carrier:
            raise invalid({"carrier": [_("This field is required.")]})
        values["carrier"] = carrier
        values["tracking_number"] = as_text(
            data.get("tracking_number"), field="tracking_number", max_length=100
        )
        when = as_datetime(data.get("pickup_at"), field="pickup_at")
        if when is not None:
            values["pickup_at"] = when
    elif status == ReturnStatus.IN_TRANSIT:
        for key in ("carrier", "tracking_number"):
            if key in data:
                text = as_text(data.get(key), field=key, max_length=100)
                if text:
                    values[key] = text
    elif status == ReturnStatus.RECEIVED:
        location = as_text(data.get("storage_location"), field="storage_location", max_length=100)
        if not location:
            raise invalid({"storage_location": [_("This field is required.")]})
        values["storage_location"] = location
    elif status == ReturnStatus.INSPECTED:
        notes = as_text(
            data.get("inspection_notes"), field="inspection_notes", max_length=MAX_LONG_TEXT
        )
        disposition = _choice(data.get("disposition"), Disposition.values, field="disposition")
        if not notes:
            raise invalid({"inspection_notes": [_("This field is required.")]})
        values["inspection_notes"] = notes
        values["disposition"] = disposition
        per_line = _inspected_lines(return_request, data.get("lines"), default=disposition)
    elif status == ReturnStatus.COMPLETED:
        values["refund_amount"] = _refund(return_request, data.get("refund_amount"))
    elif status == ReturnStatus.REJECTED and not note:
        raise invalid({"note": [_("Give the reason for the rejection.")]})
    return values, note, per_line


def _inspected_lines(
    return_request: ReturnRequest, raw: Any, *, default: str
) -> list[tuple[ReturnLine, dict[str, str]]]:
    """Each line's condition and disposition (the return's disposition unless given)."""
    lines = {line.pk: line for line in return_request.lines.all()}
    given: dict[int, dict[str, str]] = {}
    if raw not in (None, ""):
        if not isinstance(raw, list | tuple) or len(raw) > MAX_LINES:
            raise invalid({"lines": [_("Expected a list of lines.")]})
        for index, item in enumerate(raw):
            prefix = f"lines.{index}"
            if not isinstance(item, Mapping):
                raise invalid({prefix: [_("Expected an object of line values.")]})
            unknown = sorted(str(k) for k in item if k not in {"id", "condition", "disposition"})
            if unknown:
                raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
            key = _key(
                item.get("id"), field=f"{prefix}.id", message=_("Choose a line of this return.")
            )
            if key not in lines:
                raise invalid({f"{prefix}.id": [_("Choose a line of this return.")]})
            given[key] = {
                "condition": as_text(
                    item.get("condition"), field=f"{prefix}.condition", max_length=200
                ),
                "disposition": _choice(
                    item.get("disposition"),
                    Disposition.values,
                    field=f"{prefix}.disposition",
                    required=False,
                ),
            }
    result: list[tuple[ReturnLine, dict[str, str]]] = []
    for key, line in lines.items():
        values = given.get(key, {})
        change = {"disposition": values.get("disposition") or line.disposition or default}
        if values.get("condition"):
            change["condition"] = values["condition"]
        result.append((line, change))
    return result


def _refund(return_request: ReturnRequest, raw: Any) -> Decimal:
    currency = return_request.currency
    if raw is None or raw == "":
        if return_request.disposition == Disposition.REFUND:
            raise invalid({"refund_amount": [_("Enter the amount refunded.")]})
        return Decimal(0)
    try:
        amount = round_money(check_amount(raw), currency)
    except MoneyError:
        raise invalid(
            {"refund_amount": [_("Enter an amount of zero or more, e.g. 1250.50.")]}
        ) from None
    ceiling = returned_value(return_request)
    if amount > ceiling:
        raise invalid(
            {
                "refund_amount": [
                    _("At most %(amount)s %(currency)s: the value of the returned lines.")
                    % {"amount": ceiling, "currency": currency}
                ]
            }
        )
    if return_request.disposition == Disposition.REFUND and amount <= 0:
        raise invalid({"refund_amount": [_("Enter the amount refunded.")]})
    return amount


def return_advance(
    *,
    actor: User,
    return_id: int,
    status: str,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> ReturnRequest:
    """Move a return to its next step with the step's data (``STEP_FIELDS``).

    A step not allowed from the current status is refused on ``status``; a stale
    ``expected_version`` raises ``Conflict``; a return the actor may not change is
    ``NotFound``.
    """
    if not isinstance(status, str) or status not in ReturnStatus.values:
        raise invalid({"status": [_("Choose a valid value.")]})
    data = data or {}
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    with transaction.atomic():
        current = _return_for(actor, return_id)
        if status not in FLOW.get(current.status, ()):
            raise invalid(
                {
                    "status": [
                        _("A return cannot move from %(old)s to %(new)s.")
                        % {
                            "old": ReturnStatus(current.status).label,
                            "new": ReturnStatus(status).label,
                        }
                    ]
                }
            )
        values, note, per_line = _step_values(current, status, data)
        values["status"] = status
        if {"carrier", "tracking_number", "storage_location"} & set(values):
            probe = ReturnRequest(
                number=current.number,
                carrier=values.get("carrier", current.carrier),
                tracking_number=values.get("tracking_number", current.tracking_number),
                storage_location=values.get("storage_location", current.storage_location),
            )
            values["search_text"] = _search_text(probe, current.order, current.customer)
        updated = record_update(
            current, actor=actor, data=values, expected_version=expected_version
        )
        for line, change in per_line:
            record_update(line, actor=actor, data=change)
        _record_step(updated, actor=actor, status=status, note=note)
    return updated


def return_cancel(
    *, actor: User, return_id: int, note: str = "", expected_version: int | None = None
) -> ReturnRequest:
    return return_advance(
        actor=actor,
        return_id=return_id,
        status=ReturnStatus.CANCELLED,
        data={"note": note},
        expected_version=expected_version,
    )
