"""Importing orders with their lines, matched on the shop's (or till's) order number.

The file has one row per order line; the rows of one order share its
``external_order_number`` (the layout of the sales app's order file import). The order-level
values (date, customer, currency) are read from the order's first row; a later row of the
same order that gives a different value is an error.

Orders are written by the sales app's bulk intake (``orders_ingest``, source ``import``), so
numbering, prices from the price list, totals, the purchase in the contact history and the
search index are the same as for orders arriving from a web shop. An order is created only
when every one of its rows is good (a partial order would have a wrong total): each bad row
is reported and the order's good rows are reported as not imported, naming the bad row.

Matching: an order whose number is already in the CRM is never changed by an import (its
rows count as unchanged). The engine writes a file in batches, so the rows of one order may
arrive in two batches (or lie apart in the file): rows for an order that *this run* created
from earlier rows are added to it as further lines and its totals recomputed. A bad row that
comes in a later batch than its order's first rows cannot stop the order any more; it is
reported like any bad row.

Each row records the order line it created (and the first row the order too), so importing
the same file again is a no-op and undo deletes the lines and the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.common.errors import ApplicationError, ValidationFailed
from vefa.imports.entities import register
from vefa.imports.entities.base import (
    EntityAdapter,
    Field,
    ImportContext,
    Outcome,
    Row,
    RowError,
    Written,
)
from vefa.imports.entities.products import errors_from_failure
from vefa.sales.choices import OrderSource
from vefa.sales.models import Order, OrderLine

ORDER_FIELDS = ("ordered_at", "currency", "customer_email", "customer_id", "customer_tax_number")
LINE_FIELDS = ("sku", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
CUSTOMER_FIELDS = ("customer_email", "customer_id", "customer_tax_number")
# Service field names (``orders_ingest``) back to the adapter's fields.
SERVICE_NAMES = {"external_id": "external_order_number", "lines": "sku"}
SEPARATOR = "\x1f"


@register
class OrderAdapter(EntityAdapter):
    entity = "orders"
    label = gettext_lazy("Orders with lines")
    model = Order
    fields = (
        Field(
            "external_order_number",
            gettext_lazy("Order number in the shop"),
            required=True,
            max_length=100,
            aliases=(
                "order number",
                "order no",
                "order",
                "external id",
                "sipariş no",
                "sipariş numarası",
                "broj porudžbine",
                "شماره سفارش",
            ),
        ),
        Field(
            "ordered_at",
            gettext_lazy("Order date"),
            kind="datetime",
            aliases=("date", "order date", "tarih", "sipariş tarihi", "datum", "تاریخ"),
        ),
        Field(
            "customer_email",
            gettext_lazy("Customer e-mail"),
            kind="email",
            aliases=("email", "e-mail", "e-posta", "eposta", "ایمیل"),
        ),
        Field("customer_id", gettext_lazy("Customer id"), kind="int", aliases=("müşteri no",)),
        Field(
            "customer_tax_number",
            gettext_lazy("Customer tax number"),
            max_length=40,
            aliases=("tax number", "vergi no", "vergi numarası", "pib", "کد اقتصادی"),
        ),
        Field(
            "currency",
            gettext_lazy("Currency"),
            kind="currency",
            aliases=("para birimi", "döviz", "valuta", "ارز"),
        ),
        Field(
            "sku",
            gettext_lazy("SKU"),
            max_length=64,
            aliases=("product code", "stok kodu", "ürün kodu", "šifra", "کد کالا"),
        ),
        Field(
            "description",
            gettext_lazy("Description"),
            max_length=2_000,
            aliases=("product", "ürün", "açıklama", "opis", "naziv", "شرح"),
        ),
        Field(
            "quantity",
            gettext_lazy("Quantity"),
            kind="decimal",
            required=True,
            aliases=("qty", "miktar", "adet", "količina", "تعداد"),
        ),
        Field(
            "unit_price",
            gettext_lazy("Unit price"),
            kind="decimal",
            aliases=("price", "birim fiyat", "fiyat", "cena", "قیمت واحد"),
        ),
        Field(
            "discount_percent",
            gettext_lazy("Discount (%)"),
            kind="decimal",
            aliases=("discount", "iskonto", "indirim", "popust", "تخفیف"),
        ),
        Field(
            "tax_rate",
            gettext_lazy("Tax rate (%)"),
            kind="decimal",
            aliases=("tax", "vat", "kdv", "pdv", "مالیات"),
        ),
    )
    match_keys = {"external_order_number": "external_order_number"}
    default_match_key = "external_order_number"
    owned_children = ("sales.orderline",)

    # -- checks ------------------------------------------------------------------------------

    def clean(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        if not values.get("sku") and not values.get("description"):
            row.error("sku", _("Give the product's SKU or a description."), value="")
        quantity = values.get("quantity")
        if quantity is not None and quantity <= 0:
            row.error("quantity", _("The quantity must be above zero."))
        for name in ("unit_price",):
            amount = values.get(name)
            if amount is not None and amount < 0:
                row.error(name, _("The amount cannot be negative."))
        for name in ("discount_percent", "tax_rate"):
            rate = values.get(name)
            if rate is not None and not (0 <= rate <= 100):
                row.error(name, _("Enter a percentage between 0 and 100."))
        if row.errors:
            _mark_bad(row, ctx)

    # -- matching ------------------------------------------------------------------------------

    def match_value(self, row: Row, key: str) -> str:
        """The order number plus the row number: the rows of one order share the order
        number, and the engine treats one match value appearing twice as a mistake."""
        external = super().match_value(row, key)
        return f"{external}{SEPARATOR}{row.number}" if external else ""

    def find_existing(self, key: str, values: Sequence[str], ctx: ImportContext) -> dict[str, int]:
        if key not in self.match_keys or not values:
            return {}
        externals = {v.split(SEPARATOR, 1)[0] for v in values}
        found = dict(
            Order.objects.filter(
                source=OrderSource.IMPORT, external_id__in=sorted(externals)
            ).values_list("external_id", "pk")
        )
        return {
            v: found[v.split(SEPARATOR, 1)[0]] for v in values if v.split(SEPARATOR, 1)[0] in found
        }

    def parse(self, row: Row, ctx: ImportContext) -> None:
        super().parse(row, ctx)
        if row.errors:
            _mark_bad(row, ctx)

    # -- writes --------------------------------------------------------------------------------

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        return _write(rows, ctx, matched=False)

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        """An existing order stays as it is, unless this run created it from other rows of
        the file (an earlier batch): then these rows' lines are added to it."""
        return _write(rows, ctx, matched=True)


def _purchases(order_ids: list[int]) -> dict[int, int]:
    """``{order pk: pk of its purchase in the contact history}``, so undo removes both."""
    from vefa.interactions.models import Interaction
    from vefa.sales.services.orders import purchase_external_id

    if not order_ids:
        return {}
    wanted = {purchase_external_id(pk): pk for pk in order_ids}
    return {
        wanted[external]: pk
        for external, pk in Interaction.objects.filter(external_id__in=list(wanted)).values_list(
            "external_id", "pk"
        )
    }


def _mark_bad(row: Row, ctx: ImportContext) -> None:
    """Remember the first bad row of each order, so its good rows are not imported either."""
    external = row.raw.get("external_order_number", "")
    if external:
        bad: dict[str, int] = ctx.cache.setdefault("orders_bad", {})
        bad.setdefault(external, row.number)


def _created_here(externals: set[str], ctx: ImportContext) -> dict[str, int]:
    """``{order number: pk}`` of the orders this run created (from other rows of the file)."""
    if ctx.run is None or not externals:
        return {}
    from vefa.imports.models import ImportRowRecord

    found = dict(
        Order.objects.filter(
            source=OrderSource.IMPORT, external_id__in=sorted(externals)
        ).values_list("external_id", "pk")
    )
    mine = set(
        ImportRowRecord.objects.filter(
            run=ctx.run, object_type="sales.order", object_id__in=list(found.values())
        ).values_list("object_id", flat=True)
    )
    return {ext: pk for ext, pk in found.items() if pk in mine}


def _write(rows: Sequence[Row], ctx: ImportContext, *, matched: bool) -> list[Outcome]:
    from vefa.sales.services.orders_bulk import MAX_BATCH, orders_ingest

    outcomes: dict[int, Outcome] = {}
    groups = _groups(rows)
    bad: dict[str, int] = ctx.cache.get("orders_bad", {})
    for group in groups:
        if group.external in bad and not group.errors:
            _fail(group, [], outcomes, first=bad[group.external])
        elif group.errors:
            _fail(group, group.errors, outcomes)
    live = [g for g in groups if g.rows[0].number not in outcomes]
    mine = _created_here({g.external for g in live}, ctx)
    fresh: list[_Group] = []
    for group in live:
        if group.external in mine:
            _append_lines(group, mine[group.external], ctx, outcomes)
        elif matched:
            for row in group.rows:
                outcomes[row.number] = Outcome("unchanged")
        elif not any(group.header.get(name) not in (None, "") for name in CUSTOMER_FIELDS):
            first = group.rows[0]
            _fail(
                group,
                [
                    RowError(
                        first.number,
                        first.columns.get("customer_email", "customer_email"),
                        "",
                        _("The first row of an order names its customer (e-mail, id, tax number)."),
                    )
                ],
                outcomes,
            )
        else:
            fresh.append(group)
    for start in range(0, len(fresh), MAX_BATCH):
        chunk = fresh[start : start + MAX_BATCH]
        try:
            with transaction.atomic():
                results = orders_ingest(
                    actor=ctx.actor,
                    orders=[g.order_dict() for g in chunk],
                    source=OrderSource.IMPORT,
                )
        except ApplicationError as exc:
            for group in chunk:
                _fail(group, errors_from_failure(group.rows[0], exc, SERVICE_NAMES), outcomes)
            continue
        created = [r.id for r in results if r.status == "created" and r.id is not None]
        lines: dict[int, list[int]] = {}
        for order_id, line_id in (
            OrderLine.objects.filter(order_id__in=created)
            .order_by("order_id", "position", "pk")
            .values_list("order_id", "pk")
        ):
            lines.setdefault(order_id, []).append(line_id)
        purchases = _purchases(created)
        for group, result in zip(chunk, results, strict=True):
            if result.status == "created" and result.id is not None:
                ids = lines.get(result.id, [])
                for i, row in enumerate(group.rows):
                    records = []
                    if i == 0:
                        records.append(Written("sales.order", result.id, "created"))
                        if result.id in purchases:
                            records.append(
                                Written("interactions.interaction", purchases[result.id], "created")
                            )
                    if i < len(ids):
                        records.append(Written("sales.orderline", ids[i], "created"))
                    outcomes[row.number] = Outcome("created", records=records)
            elif result.status == "duplicate":
                for row in group.rows:
                    outcomes[row.number] = Outcome("unchanged")
            else:
                _fail(group, _service_errors(group, result.errors), outcomes)
    return [outcomes[row.number] for row in rows]


class _Group:
    """The consecutive rows of one order."""

    def __init__(self, external: str) -> None:
        self.external = external
        self.rows: list[Row] = []
        self.header: dict[str, Any] = {}
        self.errors: list[RowError] = []

    def add(self, row: Row) -> None:
        values = row.values
        if not self.rows:
            self.header = {name: values.get(name) for name in ORDER_FIELDS}
        else:
            for name in ORDER_FIELDS:
                value = values.get(name)
                if value not in (None, "") and value != self.header.get(name):
                    self.errors.append(
                        RowError(
                            row.number,
                            row.columns.get(name, name),
                            row.raw.get(name, ""),
                            _("Differs from the first row of this order."),
                        )
                    )
        self.rows.append(row)

    def line_dicts(self) -> list[dict[str, Any]]:
        lines = []
        for row in self.rows:
            line = {}
            for name in LINE_FIELDS:
                value = row.values.get(name)
                if value not in (None, ""):
                    line[name] = str(value)
            lines.append(line)
        return lines

    def order_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"external_id": self.external, "lines": self.line_dicts()}
        for name in ORDER_FIELDS:
            value: Any = self.header.get(name)
            if value is None or value == "":
                continue
            data[name] = value.isoformat() if name == "ordered_at" else value
        return data


def _groups(rows: Sequence[Row]) -> list[_Group]:
    """The rows of each order (wherever they are in the batch), in file order."""
    groups: dict[str, _Group] = {}
    for row in rows:
        external = str(row.values.get("external_order_number", ""))
        group = groups.get(external)
        if group is None:
            group = groups[external] = _Group(external)
        group.add(row)
    return list(groups.values())


def _fail(
    group: _Group,
    errors: list[RowError],
    outcomes: dict[int, Outcome],
    first: int | None = None,
) -> None:
    """Every row of a bad order: its own errors, or "not imported" naming the bad row."""
    bad = {e.row for e in errors}
    if first is None:
        first = min(bad) if bad else group.rows[0].number
    for row in group.rows:
        own = [e for e in errors if e.row == row.number]
        if not own:
            own = [
                RowError(
                    row.number,
                    "",
                    "",
                    _("Not imported: row %(row)d of this order has an error.") % {"row": first},
                )
            ]
        outcomes[row.number] = Outcome("error", errors=own)


def _service_errors(group: _Group, errors: dict[str, list[str]]) -> list[RowError]:
    """``orders_ingest``'s field errors (``lines.2.sku``, ``currency`` …) on the file's rows."""
    found: list[RowError] = []
    first = group.rows[0]
    for name, messages in errors.items():
        reason = " ".join(str(m) for m in messages)
        parts = name.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            row = group.rows[index] if index < len(group.rows) else first
            field_name = parts[2] if len(parts) > 2 else ""
            field_name = "sku" if field_name == "product_id" else field_name
        else:
            row = first
            field_name = SERVICE_NAMES.get(name, name if name != "__all__" else "")
        found.append(
            RowError(
                row.number,
                row.columns.get(field_name, field_name),
                row.raw.get(field_name, ""),
                reason,
            )
        )
    return found or [RowError(first.number, "", "", _("The order could not be imported."))]


def _with_products(group: _Group) -> list[dict[str, Any]]:
    """The group's line dicts with the product found by SKU (as the bulk intake does)."""
    from vefa.sales.models import Product

    lines = group.line_dicts()
    skus = {line["sku"] for line in lines if line.get("sku")}
    products = {p.sku: p for p in Product.objects.filter(sku__in=sorted(skus))} if skus else {}
    problems: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        sku = line.get("sku")
        product = products.get(sku) if sku else None
        if sku and product is None and (not line.get("unit_price") or not line.get("description")):
            problems[f"lines.{index}.sku"] = [
                _("Unknown SKU; give a description and a unit price to keep the line.")
            ]
        line["product"] = product
    if problems:
        raise ValidationFailed(_("Please correct the errors below."), fields=problems)
    return lines


def _append_lines(
    group: _Group, order_id: int, ctx: ImportContext, outcomes: dict[int, Outcome]
) -> None:
    """Add the rest of an order's lines to the order this run created from its first rows."""
    from vefa.platform.records import record_update
    from vefa.sales.services._common import set_document_totals
    from vefa.sales.services.orders import _purchase_sync, build_lines, cost_total

    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.external_id != group.external:
                raise ApplicationError(_("The order could not be imported."))
            new = build_lines(
                _with_products(group),
                currency=order.currency,
                customer_id=order.customer_id,
                on=timezone.localdate(order.ordered_at),
            )
            old = list(OrderLine.objects.filter(order=order).order_by("position", "pk"))
            start = max((line.position for line in old), default=0)
            for i, line in enumerate(new, start=1):
                line.order = order
                line.position = start + i
                line.created_by = ctx.actor
                line.updated_by = ctx.actor
            created = OrderLine.objects.bulk_create(new)
            probe = Order(currency=order.currency)
            set_document_totals(probe, [*old, *created])
            figures = {
                key: getattr(probe, key)
                for key in ("subtotal", "discount_total", "tax_total", "total")
            }
            figures["cost_total"] = cost_total([*old, *created], order.currency)
            order = record_update(order, actor=ctx.actor, data=figures)
            _purchase_sync(order, ctx.actor)
    except ApplicationError as exc:
        errors = (
            _service_errors(group, exc.fields)
            if exc.fields
            else [RowError(group.rows[0].number, "", "", str(exc.message))]
        )
        _fail(group, errors, outcomes)
        return
    ids = [line.pk for line in created]
    if len(ids) != len(group.rows):
        ids = list(
            OrderLine.objects.filter(order_id=order_id)
            .order_by("-position", "-pk")
            .values_list("pk", flat=True)[: len(group.rows)]
        )[::-1]
    for row, line_id in zip(group.rows, ids, strict=False):
        outcomes[row.number] = Outcome(
            "created", records=[Written("sales.orderline", line_id, "created")]
        )
