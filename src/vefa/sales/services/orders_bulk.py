"""Orders from outside systems in bulk: web shops, tills and file imports.

``orders_ingest`` takes a batch of order dicts, checks each one on its own and writes the
good ones with one ``bulk_create`` per table (orders, lines, purchase interactions, change
log) in one transaction; numbers come from one ``reserve_numbers`` call. Bad orders are
reported with their reasons and do not stop the others.

An order dict::

    {
      "external_id": "WEB-1001",            # required; (source, external_id) is unique
      "customer_id": 42,                    # or "customer_email": "ayse@example.com"
                                            # or "customer_tax_number": "1234567890"
      "currency": "TRY",                    # required, ISO 4217
      "ordered_at": "2026-05-01T10:00:00+03:00",  # optional, default now
      "status": "confirmed",                # optional: draft, confirmed, shipped, delivered,
                                            # invoiced (default confirmed)
      "notes": "", "shipping_address": "",  # optional
      "lines": [{"sku": "KHV-001", "quantity": "2", "unit_price": "120.00",
                 "discount_percent": "0", "tax_rate": "20", "description": "…"}]
    }

Customers are looked up among those the caller may see: by id, by e-mail (any of the
customer's e-mail addresses, case-insensitive; an address shared by several customers is
refused as ambiguous) or by tax number (the external customer number of most shops and
accounting systems; also refused when ambiguous).

A line names its product by ``product_id`` or ``sku``. An SKU that is not in the catalogue
is kept as a line without product (the SKU text is stored) when the line has a description
and a unit price, and refused otherwise: a shop's shipping fee or gift wrap is not a
catalogue product, yet the order total must match what the customer paid.

The order's owner is the customer's owner (and team) when the caller may manage that
owner's orders, otherwise the caller.

Idempotency: an order whose ``(source, external_id)`` exists already, or that appears twice
in the batch, is reported as ``duplicate`` with the existing order's id and number and
nothing is written. Two concurrent batches racing for the same external id are resolved by
the unique constraint: the loser's batch is re-checked and its copy reported as duplicate.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from vefa.accounts.access import can, can_create, restrict, scope_for
from vefa.common.context import current_request_id
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.interactions.choices import Direction, InitiatedBy, InteractionKind
from vefa.interactions.models import Interaction
from vefa.interactions.services._common import as_datetime
from vefa.platform.models import ChangeLogEntry
from vefa.sales.choices import ORDER_FLOW, OrderSource, OrderStatus
from vefa.sales.models import Order, OrderLine, Product
from vefa.sales.money import LineAmounts, round_money, totals
from vefa.sales.numbering import reserve_numbers
from vefa.sales.pricing import customer_tag_ids
from vefa.sales.services._common import as_currency, as_text, invalid
from vefa.sales.services.orders import (
    INITIAL_STATUSES,
    MAX_LINES,
    SOURCE_CHANNEL,
    STATUS_STAMP,
    interaction_status_for,
    line_values,
    purchase_external_id,
    purchase_subject,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_BATCH = 1_000
ORDER_KEYS = frozenset(
    {
        "external_id",
        "customer_id",
        "customer_email",
        "customer_tax_number",
        "currency",
        "ordered_at",
        "status",
        "notes",
        "shipping_address",
        "lines",
    }
)
LINE_KEYS = frozenset(
    {
        "product_id",
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
BULK_SOURCES = (OrderSource.ECOMMERCE, OrderSource.EPOS, OrderSource.API, OrderSource.IMPORT)


@dataclass
class OrderResult:
    """What happened to one order of a batch."""

    index: int
    external_id: str
    status: str  # created, duplicate or error
    id: int | None = None
    number: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "external_id": self.external_id,
            "status": self.status,
            "id": self.id,
            "number": self.number,
            "errors": self.errors,
        }


@dataclass
class _Ready:
    """A checked order as column values (by attribute name), with its lines."""

    index: int
    order: dict[str, Any]
    lines: list[dict[str, Any]]


class _Lookups:
    """Customers and products of a batch, each read with one query per kind of key."""

    def __init__(self, actor: User, orders: Sequence[Any]) -> None:
        from vefa.customers.models import ContactPoint, Customer

        ids: set[int] = set()
        emails: set[str] = set()
        taxes: set[str] = set()
        skus: set[str] = set()
        product_ids: set[int] = set()
        for raw in orders:
            if not isinstance(raw, Mapping):
                continue
            key = _int_or_none(raw.get("customer_id"))
            if key is not None:
                ids.add(key)
            if isinstance(raw.get("customer_email"), str):
                emails.add(raw["customer_email"].strip().lower()[:254])
            if isinstance(raw.get("customer_tax_number"), str):
                taxes.add(raw["customer_tax_number"].strip()[:40])
            raw_lines = raw.get("lines")
            for line in raw_lines if isinstance(raw_lines, list) else ():
                if not isinstance(line, Mapping):
                    continue
                if isinstance(line.get("sku"), str) and line["sku"].strip():
                    skus.add(line["sku"].strip()[:64])
                pid = _int_or_none(line.get("product_id"))
                if pid is not None:
                    product_ids.add(pid)
        visible = restrict(Customer.objects.all(), actor, "view").filter(merged_into__isnull=True)
        fields = ("id", "owner_id", "team_id", "currency", "display_name")
        self.by_id: dict[int, Customer] = (
            {c.pk: c for c in visible.filter(pk__in=ids).only(*fields)} if ids else {}
        )
        self.by_email: dict[str, list[Customer]] = {}
        if emails:
            points = ContactPoint.objects.filter(
                kind="email", normalized__in=emails, customer__in=visible
            ).select_related("customer")
            for point in points:
                bucket = self.by_email.setdefault(point.normalized, [])
                if all(c.pk != point.customer_id for c in bucket):
                    bucket.append(point.customer)
        self.by_tax: dict[str, list[Customer]] = {}
        if taxes:
            for customer in visible.filter(tax_number__in=taxes).only(*fields, "tax_number"):
                self.by_tax.setdefault(customer.tax_number, []).append(customer)
        self.products_by_sku: dict[str, Product] = (
            {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
        )
        self.products_by_id: dict[int, Product] = (
            {p.pk: p for p in Product.objects.filter(pk__in=product_ids)} if product_ids else {}
        )

    def customer(self, raw: Mapping[str, Any]) -> Customer:
        if raw.get("customer_id") not in (None, ""):
            key = _int_or_none(raw.get("customer_id"))
            found = self.by_id.get(key) if key is not None else None
            if found is None:
                raise invalid({"customer_id": [_("Choose an existing customer.")]})
            return found
        for name, table in (
            ("customer_email", self.by_email),
            ("customer_tax_number", self.by_tax),
        ):
            value = raw.get(name)
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                raise invalid({name: [_("Enter text.")]})
            normal = value.strip().lower() if name == "customer_email" else value.strip()
            matches = table.get(normal, [])
            if not matches:
                raise invalid({name: [_("No customer has this value.")]})
            if len(matches) > 1:
                raise invalid({name: [_("Several customers have this value; use customer_id.")]})
            return matches[0]
        raise invalid(
            {"customer_id": [_("Give customer_id, customer_email or customer_tax_number.")]}
        )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def _line_dict(raw: Any, index: int, lookups: _Lookups) -> dict[str, Any]:
    """An ``order_create`` line dict from an outside line (product by id or SKU)."""
    prefix = f"lines.{index}"
    if not isinstance(raw, Mapping):
        raise invalid({prefix: [_("Expected an object of line values.")]})
    unknown = sorted(str(k) for k in raw if k not in LINE_KEYS)
    if unknown:
        raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
    line = {k: raw[k] for k in raw if k not in ("product_id",)}
    product: Product | None = None
    if raw.get("product_id") not in (None, ""):
        key = _int_or_none(raw.get("product_id"))
        product = lookups.products_by_id.get(key) if key is not None else None
        if product is None:
            raise invalid({f"{prefix}.product_id": [_("Choose an existing product.")]})
    elif isinstance(raw.get("sku"), str) and raw["sku"].strip():
        product = lookups.products_by_sku.get(raw["sku"].strip())
        if product is None and (
            raw.get("unit_price") in (None, "") or raw.get("description") in (None, "")
        ):
            raise invalid(
                {
                    f"{prefix}.sku": [
                        _("Unknown SKU; give a description and a unit price to keep the line.")
                    ]
                }
            )
    line["product"] = product
    return line


class _Owners:
    """Who gets an order of a customer: the customer's owner and team when the actor may
    manage that owner's orders, otherwise the actor (decided once per owner and team)."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.scope = scope_for(actor, "sales.order", "change")
        self.cache: dict[tuple[Any, Any], tuple[Any, Any]] = {}

    def __call__(self, customer: Customer) -> tuple[Any, Any]:
        key = (customer.owner_id, customer.team_id)
        found = self.cache.get(key)
        if found is None:
            found = (self.actor.pk, self.actor.team_id)
            if customer.owner_id is not None:
                probe = Order(owner_id=customer.owner_id, team_id=customer.team_id)
                if can(self.actor, "change", probe):
                    found = key
            self.cache[key] = found
        return found


def prepare_order(
    raw: Any,
    *,
    index: int,
    actor: User,
    source: str,
    lookups: _Lookups,
    owners: _Owners,
    now: datetime.datetime,
) -> _Ready:
    """Check one outside order and return its column values and lines; ``ValidationFailed``
    names every field that is wrong."""
    if not isinstance(raw, Mapping):
        raise invalid({"__all__": [_("Expected an object of order values.")]})
    unknown = sorted(str(k) for k in raw if k not in ORDER_KEYS)
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    external = as_text(raw.get("external_id"), field="external_id", max_length=100)
    if not external:
        raise invalid({"external_id": [_("This field is required.")]})
    customer = lookups.customer(raw)
    currency = as_currency(raw.get("currency"))
    status = raw.get("status") or OrderStatus.CONFIRMED
    if status not in INITIAL_STATUSES:
        raise invalid({"status": [_("Choose a valid value.")]})
    when = as_datetime(raw.get("ordered_at"), field="ordered_at") or now
    lines_raw = raw.get("lines")
    if not isinstance(lines_raw, list) or not lines_raw:
        raise invalid({"lines": [_("Add at least one line.")]})
    if len(lines_raw) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines per order.") % {"n": MAX_LINES}]})
    day = timezone.localdate(when)
    items = [_line_dict(item, i, lookups) for i, item in enumerate(lines_raw)]
    needs_price = any(x["product"] is not None and x.get("unit_price") in (None, "") for x in items)
    tags: set[int] | frozenset[int] = customer_tag_ids(customer.pk) if needs_price else frozenset()
    lines = [
        line_values(item, index=i, currency=currency, tag_ids=tags, on=day)
        for i, item in enumerate(items)
    ]
    owner_id, team_id = owners(customer)
    figures = totals(
        (
            LineAmounts(
                gross=x["gross"],
                discount=x["discount"],
                net=x["net"],
                tax=x["tax"],
                total=x["total"],
            )
            for x in lines
        ),
        currency,
    )
    cost: Decimal | None = Decimal(0)
    for line in lines:
        product = line.pop("product")
        line["product_id"] = product.pk if product is not None else None
        if cost is not None and line["unit_cost"] is not None:
            cost += line["quantity"] * line["unit_cost"]
        else:
            cost = None
    order: dict[str, Any] = {
        "source": source,
        "external_id": external,
        "customer_id": customer.pk,
        "owner_id": owner_id,
        "team_id": team_id,
        "status": status,
        "ordered_at": when,
        "currency": currency,
        "subtotal": figures.subtotal,
        "discount_total": figures.discount,
        "tax_total": figures.tax,
        "total": round_money(figures.total, currency),
        "paid_total": Decimal(0),
        "cost_total": round_money(cost, currency) if cost is not None else None,
        "notes": as_text(raw.get("notes"), field="notes", max_length=20_000),
        "shipping_address": as_text(
            raw.get("shipping_address"), field="shipping_address", max_length=2_000
        ),
    }
    for step in ORDER_FLOW[1 : ORDER_FLOW.index(status) + 1]:
        order[STATUS_STAMP[step]] = now
    return _Ready(index=index, order=order, lines=lines)


def _error(index: int, raw: Any, exc: ValidationFailed) -> OrderResult:
    external = ""
    if isinstance(raw, Mapping) and isinstance(raw.get("external_id"), str):
        external = raw["external_id"][:100]
    return OrderResult(index=index, external_id=external, status="error", errors=exc.fields)


def orders_ingest(
    *,
    actor: User,
    orders: Sequence[Any],
    source: str = OrderSource.API,
    after_write: Callable[[list[OrderResult]], None] | None = None,
) -> list[OrderResult]:
    """Create the good orders of ``orders`` (at most ``MAX_BATCH``) in one transaction.

    Returns one result per input, in input order. ``after_write`` runs inside the
    transaction after the rows are written (the file import stores its checkpoint there, so
    a checkpoint is committed together with the orders it counts).
    """
    if not can_create(actor, Order):
        raise PermissionDenied(_("Your role cannot enter orders."))
    if source not in BULK_SOURCES:
        raise invalid({"source": [_("Choose a valid value.")]})
    if not isinstance(orders, list | tuple):
        raise invalid({"orders": [_("Expected a list of orders.")]})
    if len(orders) > MAX_BATCH:
        raise invalid({"orders": [_("At most %(n)d orders at once.") % {"n": MAX_BATCH}]})
    for attempt in range(3):
        try:
            return _ingest_once(actor, orders, source, after_write)
        except IntegrityError:
            # Another writer created one of these external ids meanwhile; check again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    actor: User,
    orders: Sequence[Any],
    source: str,
    after_write: Callable[[list[OrderResult]], None] | None,
) -> list[OrderResult]:
    now = timezone.now()
    lookups = _Lookups(actor, orders)
    owners = _Owners(actor)
    results: list[OrderResult | None] = [None] * len(orders)
    ready: list[_Ready] = []
    for index, raw in enumerate(orders):
        try:
            ready.append(
                prepare_order(
                    raw,
                    index=index,
                    actor=actor,
                    source=source,
                    lookups=lookups,
                    owners=owners,
                    now=now,
                )
            )
        except ValidationFailed as exc:
            results[index] = _error(index, raw, exc)
    with transaction.atomic():
        externals = [r.order["external_id"] for r in ready]
        existing = dict(
            Order.objects.filter(source=source, external_id__in=externals).values_list(
                "external_id", "pk"
            )
        )
        numbers_of: dict[int, str] = {}
        if existing:
            numbers_of = dict(
                Order.objects.filter(pk__in=existing.values()).values_list("pk", "number")
            )
        fresh: list[_Ready] = []
        first_in_batch: dict[str, _Ready] = {}
        for item in ready:
            external = item.order["external_id"]
            if external in existing:
                pk = existing[external]
                results[item.index] = OrderResult(
                    index=item.index,
                    external_id=external,
                    status="duplicate",
                    id=pk,
                    number=numbers_of.get(pk, ""),
                )
            elif external in first_in_batch:
                results[item.index] = OrderResult(
                    index=item.index, external_id=external, status="duplicate"
                )
            else:
                first_in_batch[external] = item
                fresh.append(item)
        _write(actor, fresh, now)
        for item in fresh:
            results[item.index] = OrderResult(
                index=item.index,
                external_id=item.order["external_id"],
                status="created",
                id=item.order["id"],
                number=item.order["number"],
            )
        for result in results:
            if result is not None and result.status == "duplicate" and result.id is None:
                first = first_in_batch[result.external_id]
                result.id = first.order["id"]
                result.number = first.order["number"]
        final = [r for r in results if r is not None]
        if after_write is not None:
            after_write(final)
        ids = [item.order["id"] for item in fresh]
        if ids:
            transaction.on_commit(lambda: _index_soon(ids))
    return final


class _Table:
    """Plain multi-row inserts into one model's table: the values of each row by attribute
    name, every other column its default. Bulk intake only; the values are checked before."""

    def __init__(self, model: type[Any]) -> None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.model = model
        self.fields = fields
        self.attnames = [f.attname for f in fields]
        self.defaults: dict[str, Any] = {}
        for f in fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            else:
                self.defaults[f.attname] = None if f.null else ""
        self.auto_now = {
            f.attname
            for f in fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }

    def insert(self, rows: Iterable[dict[str, Any]], now: datetime.datetime) -> int:
        ops = connection.ops
        decimal_as_is = (
            type(ops).adapt_decimalfield_value is BaseDatabaseOperations.adapt_decimalfield_value
        )
        adapters: list[tuple[int, Any]] = []
        for i, f in enumerate(self.fields):
            if isinstance(f, models.DateTimeField):
                adapters.append((i, _memo(ops.adapt_datetimefield_value)))
            elif isinstance(f, models.DecimalField) and not decimal_as_is:
                adapters.append(
                    (
                        i,
                        lambda v, f=f: ops.adapt_decimalfield_value(
                            v, f.max_digits, f.decimal_places
                        ),
                    )
                )
            elif isinstance(f, models.JSONField):
                adapters.append((i, lambda v, f=f: f.get_db_prep_save(v, connection)))
        pick = operator.itemgetter(*self.attnames)
        defaults = self.defaults
        stamps = dict.fromkeys(self.auto_now, now)
        values = []
        for row in rows:
            full = pick({**defaults, **stamps, **row})
            if adapters:
                full = list(full)
                for i, adapt in adapters:
                    if full[i] is not None:
                        full[i] = adapt(full[i])
            values.append(full)
        if not values:
            return 0
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
        return len(values)


def _memo(adapt: Any) -> Any:
    """``adapt`` remembering its results: a batch repeats the same few times (its "now")."""
    cache: dict[Any, Any] = {}

    def adapted(value: Any) -> Any:
        found = cache.get(value)
        if found is None:
            found = cache[value] = adapt(value)
        return found

    return adapted


_tables: dict[type[Any], _Table] = {}


def _table(model: type[Any]) -> _Table:
    if model not in _tables:
        _tables[model] = _Table(model)
    return _tables[model]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _write(actor: User, fresh: list[_Ready], now: datetime.datetime) -> None:
    """Insert orders, lines, purchases and change-log rows: one statement per table."""
    if not fresh:
        return
    numbers = reserve_numbers("order", len(fresh))
    stamp = {
        "created_by_id": actor.pk,
        "updated_by_id": actor.pk,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    orders = []
    for item, number in zip(fresh, numbers, strict=True):
        item.order.update(stamp, number=number, custom_fields={})
        orders.append(item.order)
    _table(Order).insert(orders, now)
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        ids.update(Order.objects.filter(number__in=chunk).values_list("number", "pk"))
    lines: list[dict[str, Any]] = []
    purchases: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    request_id = current_request_id() or ""
    actor_name = str(actor)[:200]
    label = "sales.order"
    audited = [
        (f.name, f.attname)
        for f in Order._meta.concrete_fields
        if f.name not in Order.audit_exclude
    ]
    for item in fresh:
        order = item.order
        pk = ids[order["number"]]
        order["id"] = pk
        for line in item.lines:
            line.update(stamp, order_id=pk)
            lines.append(line)
        purchases.append(
            {
                **stamp,
                "customer_id": order["customer_id"],
                "kind": InteractionKind.PURCHASE,
                "direction": Direction.INBOUND,
                "initiated_by": InitiatedBy.CUSTOMER,
                "channel": SOURCE_CHANNEL.get(order["source"], ""),
                "occurred_at": order["ordered_at"],
                "subject": purchase_subject(order["number"]),
                "status": interaction_status_for(order["status"]),
                "amount": order["total"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                "currency": order["currency"],
                "user_id": actor.pk,
                "related_model": label,
                "related_id": pk,
                "external_id": purchase_external_id(pk),
                "custom_fields": {},
            }
        )
        after = {name: _jsonable(order.get(attname)) for name, attname in audited}
        after["tags"] = []
        entries.append(
            {
                "time": now,
                "action": ChangeLogEntry.Action.CREATE,
                "model": label,
                "object_id": pk,
                "object_repr": order["number"],
                "customer_id": order["customer_id"],
                "actor_id": actor.pk,
                "actor_name": actor_name,
                "request_id": request_id,
                "before": None,
                "after": after,
            }
        )
    _table(OrderLine).insert(lines, now)
    _table(Interaction).insert(purchases, now)
    _table(ChangeLogEntry).insert(entries, now)
    touch_customers((o["customer_id"], o["ordered_at"]) for o in orders)


def touch_customers(pairs: Iterable[tuple[int, datetime.datetime]]) -> None:
    """Move each customer's ``last_interaction_at`` forward to its newest order (never back;
    see ``customer_touch_last_interaction``), with one statement for the batch."""
    from vefa.customers.models import Customer

    newest: dict[int, datetime.datetime] = {}
    for customer_id, when in pairs:
        current = newest.get(customer_id)
        if current is None or when > current:
            newest[customer_id] = when
    if not newest:
        return
    table = connection.ops.quote_name(Customer._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(adapt(when), pk, adapt(when)) for pk, when in sorted(newest.items())]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET last_interaction_at = %s WHERE id = %s "  # noqa: S608
            "AND (last_interaction_at IS NULL OR last_interaction_at < %s)",
            rows,
        )


@task()
def index_bulk_orders(*, order_ids: list[int]) -> None:
    """Put orders written in bulk, and their purchases, into the search index (a background
    task, so a web shop's request does not wait for it)."""
    from vefa.platform.search.indexer import index_records

    index_records("sales.order", order_ids)
    purchases = Interaction.objects.filter(
        external_id__in=[purchase_external_id(pk) for pk in order_ids]
    ).values_list("pk", flat=True)
    index_records("interactions.interaction", list(purchases))


def _index_soon(order_ids: list[int]) -> None:
    index_bulk_orders.enqueue(order_ids=order_ids)


def orders_ingest_total(results: Iterable[OrderResult]) -> dict[str, int]:
    """Counts of created, duplicate and error results."""
    counts = {"created": 0, "duplicate": 0, "error": 0}
    for result in results:
        counts[result.status] += 1
    return counts


__all__ = [
    "MAX_BATCH",
    "OrderResult",
    "orders_ingest",
    "orders_ingest_total",
    "prepare_order",
    "touch_customers",
]
