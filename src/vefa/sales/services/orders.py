"""Orders: entering them, moving them through their statuses, shipments and payments.

Every order is also a purchase in the customer's contact history (MISSION §2): creating an
order records an ``interactions.Interaction`` of kind ``purchase`` in the same transaction,
linked back with ``related_model="sales.order"`` and ``external_id="sales.order:<id>"``.
Changes to the order's total or status are copied onto it; cancelling the order removes it
(an interaction has no "cancelled" status, and a purchase that never happened is not
contact history), and the customer's last-contact time is recomputed.

Rules decided here:

* Lines are only changed while the order is a draft; after confirmation the order is a
  commitment and only its header (notes, shipping address, owner) changes.
* A line's missing values come from its product: SKU, name as description, unit, price
  (``vefa.sales.pricing.price_for`` for the customer's groups), tax rate and unit cost. The
  product's unit cost is only taken when the product is priced in the order's currency
  (nothing is converted behind the user's back).
* ``cost_total`` is the sum of quantity × unit cost, rounded to the currency; it stays empty
  when any line has no unit cost (a partial cost would overstate the margin).
* The status moves one step at a time along ``ORDER_FLOW``; cancelling is possible from any
  status before "paid". Each status reached is time stamped.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can, can_create, restrict
from vefa.common.errors import PermissionDenied
from vefa.interactions.choices import (
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
)
from vefa.interactions.models import Interaction
from vefa.interactions.services._common import as_datetime
from vefa.interactions.services.interactions import (
    customer_recompute_last_interaction,
    customer_touch_last_interaction,
)
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import (
    ORDER_FLOW,
    OrderSource,
    OrderStatus,
    PaymentMethod,
    ShipmentStatus,
    Unit,
)
from vefa.sales.models import Opportunity, Order, OrderLine, Payment, Product, Quote, Shipment
from vefa.sales.money import MAX_AMOUNT, minor_digits, round_money
from vefa.sales.numbering import next_number
from vefa.sales.pricing import customer_tag_ids, price_for
from vefa.sales.services._common import (
    as_currency,
    as_money,
    as_percent,
    as_quantity,
    as_text,
    customer_visible,
    invalid,
    not_found,
    resolve_owner,
    resolve_team,
    set_document_totals,
)

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User
    from vefa.customers.models import Customer

MAX_LINES = 500
INTERACTION_MODEL = "sales.order"

# The timestamp column of each status.
STATUS_STAMP: dict[str, str] = {
    OrderStatus.CONFIRMED: "confirmed_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.INVOICED: "invoiced_at",
    OrderStatus.PAID: "paid_at",
    OrderStatus.CANCELLED: "cancelled_at",
}

# Statuses an order may be created in (a web shop sends orders already confirmed or
# shipped); "paid" needs payments and "cancelled" makes no sense for a new order.
INITIAL_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
)

# The contact-history channel of an order from each source.
SOURCE_CHANNEL: dict[str, str] = {
    OrderSource.ECOMMERCE: InteractionChannel.WEB,
    OrderSource.EPOS: InteractionChannel.POINT_OF_SALE,
}

LINE_KEYS = frozenset(
    {
        "product",
        "sku",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "unit_cost",
    }
)

HEADER_FIELDS = frozenset({"notes", "shipping_address", "ordered_at", "owner", "team"})


# --- purchase interaction --------------------------------------------------------------------


def interaction_status_for(order_status: str) -> str:
    """How far along the purchase is, in the contact history's terms."""
    if order_status == OrderStatus.DRAFT:
        return InteractionStatus.OPEN
    if order_status == OrderStatus.PAID:
        return InteractionStatus.DONE
    return InteractionStatus.IN_PROGRESS


def purchase_external_id(order_id: int) -> str:
    return f"{INTERACTION_MODEL}:{order_id}"


def purchase_subject(number: str) -> str:
    return _("Order %(number)s") % {"number": number}


def purchase_amount(order: Order) -> Decimal:
    """The order total as the interaction stores it (two decimals)."""
    return Decimal(order.total or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def purchase_interaction(order: Order, actor: User | None) -> Interaction:
    """The unsaved purchase interaction of a saved order."""
    return Interaction(
        customer_id=order.customer_id,
        kind=InteractionKind.PURCHASE,
        direction=Direction.INBOUND,
        initiated_by=InitiatedBy.CUSTOMER,
        channel=SOURCE_CHANNEL.get(order.source, ""),
        occurred_at=order.ordered_at,
        subject=purchase_subject(order.number),
        status=interaction_status_for(order.status),
        amount=purchase_amount(order),
        currency=order.currency,
        user=actor,
        related_model=INTERACTION_MODEL,
        related_id=order.pk,
        external_id=purchase_external_id(order.pk),
        created_by=actor,
        updated_by=actor,
    )


def _purchase_record(order: Order, actor: User | None) -> None:
    interaction = record_create(purchase_interaction(order, actor), actor=actor)
    customer_touch_last_interaction(
        customer_id=order.customer_id, occurred_at=interaction.occurred_at
    )


def _purchase_sync(order: Order, actor: User | None) -> None:
    """Copy the order's total, status and time onto its purchase (or remove it if cancelled)."""
    current = Interaction.objects.filter(external_id=purchase_external_id(order.pk)).first()
    if order.status == OrderStatus.CANCELLED:
        if current is not None:
            record_delete(current, actor=actor)
            customer_recompute_last_interaction(customer_id=order.customer_id)
        return
    if current is None:
        _purchase_record(order, actor)
        return
    old_time = current.occurred_at
    record_update(
        current,
        actor=actor,
        data={
            "amount": purchase_amount(order),
            "currency": order.currency,
            "status": interaction_status_for(order.status),
            "occurred_at": order.ordered_at,
        },
    )
    if order.ordered_at > old_time:
        customer_touch_last_interaction(customer_id=order.customer_id, occurred_at=order.ordered_at)
    elif order.ordered_at < old_time:
        customer_recompute_last_interaction(customer_id=order.customer_id)


# --- input ---------------------------------------------------------------------------------------


def _product(value: Any, *, field: str) -> Product | None:
    if value is None or value == "":
        return None
    if isinstance(value, Product):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({field: [_("Choose an existing product.")]})
    try:
        key = int(value)
    except ValueError:
        raise invalid({field: [_("Choose an existing product.")]}) from None
    product = Product.objects.filter(pk=key).first()
    if product is None:
        raise invalid({field: [_("Choose an existing product.")]})
    return product


@functools.cache
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_digits(currency))


def build_line(
    raw: Any,
    *,
    index: int,
    currency: str,
    tag_ids: set[int] | frozenset[int] = frozenset(),
    on: datetime.date | None = None,
) -> OrderLine:
    """An unsaved order line from a line dict, with its amounts filled.

    Field errors are named ``lines.<index>.<field>`` so a form or API client can point at
    the line.
    """
    return OrderLine(**line_values(raw, index=index, currency=currency, tag_ids=tag_ids, on=on))


def line_values(
    raw: Any,
    *,
    index: int,
    currency: str,
    tag_ids: set[int] | frozenset[int] = frozenset(),
    on: datetime.date | None = None,
) -> dict[str, Any]:
    """The checked values of an order line (``build_line`` without the model instance; the
    bulk intake writes these rows directly)."""
    prefix = f"lines.{index}"
    if not isinstance(raw, Mapping):
        raise invalid({prefix: [_("Expected an object of line values.")]})
    unknown = sorted(str(k) for k in raw if k not in LINE_KEYS)
    if unknown:
        raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
    product = _product(raw.get("product"), field=f"{prefix}.product")
    quantity = as_quantity(
        raw.get("quantity") if raw.get("quantity") not in (None, "") else "1",
        field=f"{prefix}.quantity",
    )
    sku = as_text(raw.get("sku"), field=f"{prefix}.sku", max_length=64)
    description = as_text(raw.get("description"), field=f"{prefix}.description", max_length=300)
    unit = as_text(raw.get("unit"), field=f"{prefix}.unit", max_length=10)
    if unit and unit not in Unit.values:
        raise invalid({f"{prefix}.unit": [_("Choose a valid unit.")]})
    unit_price = as_money(raw.get("unit_price"), field=f"{prefix}.unit_price", required=False)
    unit_cost = as_money(raw.get("unit_cost"), field=f"{prefix}.unit_cost", required=False)
    discount = as_percent(raw.get("discount_percent"), field=f"{prefix}.discount_percent")
    tax_given = raw.get("tax_rate") not in (None, "")
    tax_rate = as_percent(raw.get("tax_rate"), field=f"{prefix}.tax_rate")
    if product is not None:
        sku = sku or product.sku
        description = description or product.name[:300]
        unit = unit or product.unit
        if not tax_given:
            tax_rate = product.tax_rate
        if unit_price is None:
            price = price_for(
                product, currency=currency, quantity=quantity, customer_tag_ids=tag_ids, on=on
            )
            if price is None:
                raise invalid(
                    {
                        f"{prefix}.unit_price": [
                            _("This product has no price in %(currency)s; enter a unit price.")
                            % {"currency": currency}
                        ]
                    }
                )
            unit_price = price.unit_price
        if unit_cost is None and product.currency == currency:
            unit_cost = product.unit_cost
    if not description:
        raise invalid({f"{prefix}.description": [_("Describe the line or choose a product.")]})
    if unit_price is None:
        raise invalid({f"{prefix}.unit_price": [_("This field is required.")]})
    # The amounts of ``vefa.sales.money.line_amounts`` (each rounded half up to the currency),
    # computed here with the currency's exponent looked up once: the bulk intake runs this
    # for every line it takes.
    gross = quantity * unit_price
    if gross > MAX_AMOUNT:
        raise invalid({f"{prefix}.quantity": [_("The line amount is too large.")]})
    exponent = _exponent(currency)
    gross = gross.quantize(exponent, rounding=ROUND_HALF_UP)
    discount_amount = (gross * discount / 100).quantize(exponent, rounding=ROUND_HALF_UP)
    net = gross - discount_amount
    tax = (net * tax_rate / 100).quantize(exponent, rounding=ROUND_HALF_UP)
    return {
        "position": index,
        "product": product,
        "sku": sku,
        "description": description,
        "quantity": quantity,
        "unit": unit or Unit.PIECE,
        "unit_price": unit_price,
        "discount_percent": discount,
        "tax_rate": tax_rate,
        "unit_cost": unit_cost,
        "gross": gross,
        "discount": discount_amount,
        "net": net,
        "tax": tax,
        "total": net + tax,
    }


def build_lines(
    lines: Any,
    *,
    currency: str,
    customer_id: int,
    on: datetime.date | None = None,
) -> list[OrderLine]:
    if not isinstance(lines, list | tuple):
        raise invalid({"lines": [_("Expected a list of lines.")]})
    if not lines:
        raise invalid({"lines": [_("Add at least one line.")]})
    if len(lines) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines per order.") % {"n": MAX_LINES}]})
    needs_price = any(
        isinstance(x, Mapping) and x.get("product") and x.get("unit_price") in (None, "")
        for x in lines
    )
    tags = customer_tag_ids(customer_id) if needs_price else set()
    return [
        build_line(raw, index=i, currency=currency, tag_ids=tags, on=on)
        for i, raw in enumerate(lines)
    ]


def cost_total(lines: Iterable[OrderLine], currency: str) -> Decimal | None:
    """Quantity × unit cost over the lines; ``None`` when any line has no unit cost."""
    total = Decimal(0)
    for line in lines:
        if line.unit_cost is None:
            return None
        total += Decimal(line.quantity) * Decimal(line.unit_cost)
    return round_money(total, currency)


def _set_figures(order: Order, lines: list[OrderLine]) -> None:
    set_document_totals(order, lines)  # type: ignore[arg-type]
    order.cost_total = cost_total(lines, order.currency)


def _choice(value: Any, choices: Iterable[str], *, field: str) -> str:
    if not isinstance(value, str) or value not in set(choices):
        raise invalid({field: [_("Choose a valid value.")]})
    return value


def _linked(model: type[Quote] | type[Opportunity], value: Any, actor: User, field: str) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        key = int(value)
    except (TypeError, ValueError):
        raise invalid({field: [_("Choose an existing record.")]}) from None
    record = restrict(model.objects.all(), actor, "view").filter(pk=key).first()
    if record is None:
        raise invalid({field: [_("Choose an existing record.")]})
    return record


def _check_assignment(actor: User, order: Order) -> None:
    """The actor must be able to change the order they assign (else it would vanish)."""
    if not can(actor, "change", order):
        raise invalid({"owner": [_("You cannot assign orders to this user or team.")]})


def _customer(actor: User, customer: Any) -> Customer:
    from vefa.customers.models import Customer

    key = customer.pk if isinstance(customer, Customer) else customer
    return customer_visible(actor=actor, customer_id=key)


def _assign_owner(actor: User, owner: Any, team: Any) -> tuple[User | None, Team | None]:
    owner_user = resolve_owner(owner) if owner not in (None, "") else actor
    team_obj = resolve_team(team) if team not in (None, "") else None
    if team_obj is None and owner_user is not None:
        team_obj = owner_user.team
    return owner_user, team_obj


# --- create and update ---------------------------------------------------------------------------


def order_create(
    *,
    actor: User,
    customer: Customer | int,
    lines: list[dict[str, Any]],
    currency: str,
    source: str = OrderSource.MANUAL,
    quote: Quote | int | None = None,
    opportunity: Opportunity | int | None = None,
    external_id: str = "",
    ordered_at: datetime.datetime | str | None = None,
    owner: User | int | None = None,
    team: Team | int | None = None,
    notes: str = "",
    shipping_address: str = "",
    status: str = OrderStatus.DRAFT,
) -> Order:
    """Enter an order with its lines, number it and record it as a purchase.

    ``owner`` defaults to the actor and ``team`` to the owner's team; an actor may only
    assign orders they could change themselves. A re-sent order (same ``source`` and
    ``external_id``) is refused with a field error on ``external_id``.
    """
    if not can_create(actor, Order):
        raise PermissionDenied(_("Your role cannot enter orders."))
    customer_obj = _customer(actor, customer)
    code = as_currency(currency)
    source = _choice(source, OrderSource.values, field="source")
    status = _choice(status, INITIAL_STATUSES, field="status")
    external = as_text(external_id, field="external_id", max_length=100)
    when = as_datetime(ordered_at, field="ordered_at") or timezone.now()
    owner_user, team_obj = _assign_owner(actor, owner, team)
    order = Order(
        source=source,
        external_id=external,
        customer=customer_obj,
        quote=_linked(Quote, quote, actor, "quote"),
        opportunity=_linked(Opportunity, opportunity, actor, "opportunity"),
        owner=owner_user,
        team=team_obj,
        status=status,
        ordered_at=when,
        currency=code,
        notes=as_text(notes, field="notes", max_length=20_000),
        shipping_address=as_text(shipping_address, field="shipping_address", max_length=2_000),
    )
    _check_assignment(actor, order)
    built = build_lines(
        lines, currency=code, customer_id=customer_obj.pk, on=timezone.localdate(when)
    )
    _set_figures(order, built)
    now = timezone.now()
    for step in ORDER_FLOW[1 : ORDER_FLOW.index(status) + 1]:
        setattr(order, STATUS_STAMP[step], now)
    with transaction.atomic():
        if external and Order.objects.filter(source=source, external_id=external).exists():
            raise invalid({"external_id": [_("An order with this external number exists.")]})
        order.number = next_number("order")
        record_create(order, actor=actor, clean_exclude=("number",))
        for line in built:
            line.order = order
            line.created_by = actor
            line.updated_by = actor
        OrderLine.objects.bulk_create(built)
        _purchase_record(order, actor)
    return order


M = TypeVar("M", bound=Model)


def get_for(queryset: QuerySet[M], *, actor: User, pk: Any, action: str = "change") -> M:
    """The record if ``actor`` may ``action`` it (locked for a change), else ``NotFound``:
    a record one may only see is refused exactly like a missing one."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise not_found() from None
    qs = restrict(queryset, actor, action).filter(pk=key)  # type: ignore[arg-type]
    if action != "view":
        qs = qs.select_for_update(of=("self",))
    record = qs.first()
    if record is None:
        raise not_found()
    return record


def _order_for(actor: User, order_id: Any) -> Order:
    """The order for a change by ``actor`` (locked), or ``NotFound``."""
    return get_for(Order.objects.all(), actor=actor, pk=order_id, action="change")


def order_update(
    *,
    actor: User,
    order_id: int,
    data: Mapping[str, Any],
    lines: list[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Order:
    """Change an order's header (``notes``, ``shipping_address``, ``ordered_at``, ``owner``,
    ``team``) and, while it is a draft, replace its lines (``lines`` not ``None``).

    Raises ``Conflict`` on a stale ``expected_version``.
    """
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in HEADER_FIELDS)
    if unknown:
        raise invalid({k: [_("This field cannot be changed.")] for k in unknown})
    with transaction.atomic():
        order = _order_for(actor, order_id)
        values: dict[str, Any] = {}
        if "notes" in data:
            values["notes"] = as_text(data["notes"], field="notes", max_length=20_000)
        if "shipping_address" in data:
            values["shipping_address"] = as_text(
                data["shipping_address"], field="shipping_address", max_length=2_000
            )
        if "ordered_at" in data:
            values["ordered_at"] = as_datetime(
                data["ordered_at"], field="ordered_at", required=True
            )
        if "owner" in data or "team" in data:
            owner_user, team_obj = _assign_owner(
                actor, data.get("owner", order.owner_id), data.get("team")
            )
            values["owner"] = owner_user
            values["team"] = team_obj
            probe = Order(owner=owner_user, team=team_obj)
            _check_assignment(actor, probe)
        built: list[OrderLine] | None = None
        if lines is not None:
            if order.status != OrderStatus.DRAFT:
                raise invalid({"lines": [_("Only a draft order's lines can be changed.")]})
            when = values.get("ordered_at") or order.ordered_at
            built = build_lines(
                lines,
                currency=order.currency,
                customer_id=order.customer_id,
                on=timezone.localdate(when),
            )
            probe = Order(currency=order.currency)
            _set_figures(probe, built)
            for key in ("subtotal", "discount_total", "tax_total", "total", "cost_total"):
                values[key] = getattr(probe, key)
        before_version = order.version
        updated = record_update(order, actor=actor, data=values, expected_version=expected_version)
        if built is not None:
            OrderLine.objects.filter(order=updated).delete()
            for line in built:
                line.order = updated
                line.created_by = actor
                line.updated_by = actor
            OrderLine.objects.bulk_create(built)
            if updated.version == before_version:
                # Same figures, different lines: still a change of the order.
                Order.objects.filter(pk=updated.pk).update(version=before_version + 1)
                updated.version = before_version + 1
        _purchase_sync(updated, actor)
    return updated


def next_statuses(order: Order) -> list[str]:
    """The statuses ``order`` may move to now: the next step and, before paid, cancelled."""
    if order.status in (OrderStatus.PAID, OrderStatus.CANCELLED):
        return []
    index = ORDER_FLOW.index(order.status)
    result = [ORDER_FLOW[index + 1]] if index + 1 < len(ORDER_FLOW) else []
    if result == [OrderStatus.PAID] and order.paid_total < order.total:
        # Paid follows from payments covering the total, not from a button.
        result = []
    return [*result, OrderStatus.CANCELLED]


def _move(order: Order, status: str, actor: User, expected_version: int | None) -> Order:
    if status not in next_statuses(order):
        raise invalid(
            {
                "status": [
                    _("An order cannot move from %(old)s to %(new)s.")
                    % {
                        "old": OrderStatus(order.status).label,
                        "new": OrderStatus(status).label
                        if status in OrderStatus.values
                        else status,
                    }
                ]
            }
        )
    data: dict[str, Any] = {"status": status, STATUS_STAMP[status]: timezone.now()}
    updated = record_update(order, actor=actor, data=data, expected_version=expected_version)
    _purchase_sync(updated, actor)
    return updated


def order_set_status(
    *, actor: User, order_id: int, status: str, expected_version: int | None = None
) -> Order:
    """Move an order one step along ``ORDER_FLOW`` or cancel it (before it is paid).

    Skipping a step, going back and leaving "paid" or "cancelled" are refused; "paid" is
    only reached when the payments cover the total.
    """
    if not isinstance(status, str) or status not in OrderStatus.values:
        raise invalid({"status": [_("Choose a valid value.")]})
    with transaction.atomic():
        order = _order_for(actor, order_id)
        return _move(order, status, actor, expected_version)


def order_cancel(*, actor: User, order_id: int, expected_version: int | None = None) -> Order:
    return order_set_status(
        actor=actor,
        order_id=order_id,
        status=OrderStatus.CANCELLED,
        expected_version=expected_version,
    )


# --- shipments ----------------------------------------------------------------------------------

SHIPPABLE = (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def _touch(order: Order, actor: User) -> Order:
    """Bump the order's version after a change to its children (shipments, payments)."""
    Order.objects.filter(pk=order.pk).update(
        version=order.version + 1, updated_by=actor, updated_at=timezone.now()
    )
    order.version += 1
    return order


def shipment_create(
    *,
    actor: User,
    order_id: int,
    carrier: str,
    tracking_number: str = "",
    status: str = ShipmentStatus.PREPARING,
    shipped_at: datetime.datetime | str | None = None,
    delivered_at: datetime.datetime | str | None = None,
    notes: str = "",
) -> Shipment:
    """Add a shipment to a confirmed order.

    A shipment in transit (or delivered) moves a confirmed order to shipped; when every
    shipment is delivered the shipped order moves to delivered.
    """
    with transaction.atomic():
        order = _order_for(actor, order_id)
        if order.status not in SHIPPABLE:
            raise invalid({"__all__": [_("Only a confirmed order can be shipped.")]})
        status = _choice(status, ShipmentStatus.values, field="status")
        shipment = Shipment(
            order=order,
            carrier=as_text(carrier, field="carrier", max_length=100),
            tracking_number=as_text(tracking_number, field="tracking_number", max_length=100),
            status=status,
            shipped_at=as_datetime(shipped_at, field="shipped_at"),
            delivered_at=as_datetime(delivered_at, field="delivered_at"),
            notes=as_text(notes, field="notes", max_length=300),
        )
        if not shipment.carrier:
            raise invalid({"carrier": [_("This field is required.")]})
        _stamp_shipment(shipment)
        record_create(shipment, actor=actor)
        _after_shipment(order, actor)
    return shipment


def _stamp_shipment(shipment: Shipment) -> None:
    now = timezone.now()
    if shipment.status in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED):
        shipment.shipped_at = shipment.shipped_at or now
    if shipment.status == ShipmentStatus.DELIVERED:
        shipment.delivered_at = shipment.delivered_at or now
    if (
        shipment.delivered_at
        and shipment.shipped_at
        and shipment.delivered_at < shipment.shipped_at
    ):
        raise invalid({"delivered_at": [_("Delivery cannot be before shipping.")]})


def _after_shipment(order: Order, actor: User) -> Order:
    statuses = list(order.shipments.values_list("status", flat=True))
    moving = {ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED}
    if order.status == OrderStatus.CONFIRMED and any(s in moving for s in statuses):
        order = _move(order, OrderStatus.SHIPPED, actor, None)
    live = [s for s in statuses if s != ShipmentStatus.RETURNED]
    if (
        order.status == OrderStatus.SHIPPED
        and live
        and all(s == ShipmentStatus.DELIVERED for s in live)
    ):
        order = _move(order, OrderStatus.DELIVERED, actor, None)
    return order


def shipment_update(
    *,
    actor: User,
    shipment_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Shipment:
    """Change a shipment (status, tracking number, dates …); delivering the last open
    shipment moves the order to delivered."""
    allowed = {"carrier", "tracking_number", "status", "shipped_at", "delivered_at", "notes"}
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise invalid({k: [_("This field cannot be changed.")] for k in unknown})
    with transaction.atomic():
        shipment = get_for(Shipment.objects.all(), actor=actor, pk=shipment_id, action="change")
        order = _order_for(actor, shipment.order_id)
        values: dict[str, Any] = {}
        for key in ("carrier", "tracking_number"):
            if key in data:
                values[key] = as_text(data[key], field=key, max_length=100)
        if "carrier" in values and not values["carrier"]:
            raise invalid({"carrier": [_("This field is required.")]})
        if "notes" in data:
            values["notes"] = as_text(data["notes"], field="notes", max_length=300)
        if "status" in data:
            values["status"] = _choice(data["status"], ShipmentStatus.values, field="status")
        for key in ("shipped_at", "delivered_at"):
            if key in data:
                values[key] = as_datetime(data[key], field=key)
        probe = Shipment(
            status=values.get("status", shipment.status),
            shipped_at=values.get("shipped_at", shipment.shipped_at),
            delivered_at=values.get("delivered_at", shipment.delivered_at),
        )
        _stamp_shipment(probe)
        values["shipped_at"] = probe.shipped_at
        values["delivered_at"] = probe.delivered_at
        updated = record_update(
            shipment, actor=actor, data=values, expected_version=expected_version
        )
        _after_shipment(order, actor)
    return updated


# --- payments -------------------------------------------------------------------------------------

PAYABLE = (
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
)


def payment_create(
    *,
    actor: User,
    order_id: int,
    amount: Decimal | str | int,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    paid_at: datetime.datetime | str | None = None,
) -> Payment:
    """Record a payment in the order's currency.

    ``paid_total`` grows by the amount (rounded to the currency); an invoiced order whose
    payments cover its total becomes paid. Paying more than the open balance is refused.
    """
    with transaction.atomic():
        order = _order_for(actor, order_id)
        if order.status not in PAYABLE:
            raise invalid({"__all__": [_("Payments can be recorded from confirmation on.")]})
        value = as_money(amount, field="amount")
        assert value is not None
        value = round_money(value, order.currency)
        if value <= 0:
            raise invalid({"amount": [_("Enter an amount above zero.")]})
        if order.paid_total + value > order.total:
            raise invalid(
                {
                    "amount": [
                        _("The open balance is %(amount)s %(currency)s.")
                        % {"amount": order.total - order.paid_total, "currency": order.currency}
                    ]
                }
            )
        payment = Payment(
            order=order,
            amount=value,
            currency=order.currency,
            method=_choice(method, PaymentMethod.values, field="method"),
            reference=as_text(reference, field="reference", max_length=100),
            paid_at=as_datetime(paid_at, field="paid_at") or timezone.now(),
        )
        record_create(payment, actor=actor)
        _after_payment(order, actor)
    return payment


def _after_payment(order: Order, actor: User) -> Order:
    paid = sum((p for p in order.payments.values_list("amount", flat=True)), Decimal(0))
    paid = round_money(paid, order.currency)
    order = record_update(order, actor=actor, data={"paid_total": paid})
    if order.status == OrderStatus.INVOICED and order.paid_total >= order.total:
        order = _move(order, OrderStatus.PAID, actor, None)
    return order


def payment_delete(*, actor: User, payment_id: int) -> None:
    """Remove a payment recorded by mistake (not once the order is paid)."""
    with transaction.atomic():
        payment = get_for(Payment.objects.all(), actor=actor, pk=payment_id, action="change")
        order = _order_for(actor, payment.order_id)
        if order.status == OrderStatus.PAID:
            raise invalid({"__all__": [_("A paid order's payments cannot be removed.")]})
        record_delete(payment, actor=actor)
        _after_payment(order, actor)
