"""Orders posted by web shops and tills: signature check, customer match, idempotent intake.

A source posts one order as JSON to ``/api/v1/integrations/orders/<key>`` with
``X-Vefa-Timestamp`` and ``X-Vefa-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." +
body)>``. An unknown or inactive source and a wrong or stale signature get the same 401 and
nothing is read. The order::

    {
      "external_number": "WEB-1001",               # required, the shop's order number
      "ordered_at": "2026-05-01T10:00:00+03:00",  # optional, default now
      "currency": "TRY",                           # optional, default the source's
      "status": "confirmed",                       # optional: draft, confirmed, shipped,
                                                   # delivered, invoiced
      "customer": {"external_id": "C-77", "email": "ayse@example.com",
                   "phone": "+905321112233", "first_name": "Ayşe", "last_name": "Yılmaz"},
      "lines": [{"sku": "KHV-001", "quantity": "2", "unit_price": "120.00",
                 "discount_percent": "0", "tax_rate": "20"},
                {"description": "Shipping", "unit_price": "30.00", "tax_rate": "20"}],
      "totals": {"total": "324.00"},              # optional: checked against the lines
      "notes": "", "shipping_address": ""
    }

The customer is found by the source's external id, then by e-mail, then by phone (E.164),
among the customers the source's owner may see (the oldest when several share an address);
a customer found nowhere is created, owned by the source's owner. A line's SKU must be in the
catalogue (else a clear error names the line); a line without SKU (a fee) needs a description
and a unit price. A line without a unit price takes the source's price list, then the usual
catalogue price. The order is written through ``sales.services.orders.order_create``, so it
is numbered, logged and emits ``sales.order.created`` like any other order.

Idempotency: ``(source, external_number)`` is unique; a retried request returns the order
made the first time (HTTP 200) and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.common.errors import ApplicationError
from vefa.integrations.models import InboundOrder, OrderSource, SourceCustomer
from vefa.integrations.services._common import as_text, invalid
from vefa.integrations.signing import verify

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.sales.models import Order

MAX_BODY_BYTES = 1_000_000
MAX_LINES = 500
ORDER_KEYS = frozenset(
    {
        "external_number",
        "ordered_at",
        "currency",
        "status",
        "customer",
        "lines",
        "totals",
        "notes",
        "shipping_address",
    }
)
CUSTOMER_KEYS = frozenset(
    {"external_id", "email", "phone", "first_name", "last_name", "language", "country"}
)
LINE_KEYS = frozenset(
    {"sku", "description", "quantity", "unit_price", "discount_percent", "tax_rate", "unit"}
)


class Unauthorized(ApplicationError):
    status_code = 401
    code = "unauthorized"


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class InboundResult:
    status: str  # created or duplicate
    order: Order
    customer_created: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "order_id": self.order.pk,
            "number": self.order.number,
            "customer_id": self.order.customer_id,
            "customer_created": self.customer_created,
            "total": str(self.order.total),
            "currency": self.order.currency,
        }


def authenticate(
    source_key: str, body: bytes, timestamp: str | None, signature: str | None
) -> OrderSource:
    """The active source ``source_key`` if the body is signed with its secret; else 401."""
    refused = Unauthorized(_("Unknown source or wrong signature."))
    if not isinstance(source_key, str) or len(source_key) > 40:
        raise refused
    source = (
        OrderSource.objects.select_related("owner", "price_list")
        .filter(key=source_key, is_active=True)
        .first()
    )
    if source is None or not verify(source.secret, timestamp, body, signature):
        raise refused
    if not source.owner.is_active:
        raise refused
    return source


def parse_body(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            _("The order is larger than %(n)d bytes.") % {"n": MAX_BODY_BYTES},
            fields={"body": [_("Too large.")]},
        )
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid({"body": [_("Send the order as a JSON object in UTF-8.")]}) from None
    if not isinstance(data, dict):
        raise invalid({"body": [_("Send the order as a JSON object in UTF-8.")]})
    return data


def _contact(raw: Mapping[str, Any]) -> tuple[str, str, str]:
    """(external id, normalised e-mail, E.164 phone) of the order's customer."""
    from vefa.customers.normalize import normalize_email, normalize_phone

    external = as_text(raw.get("external_id"), field="customer.external_id", max_length=80)
    email = as_text(raw.get("email"), field="customer.email", max_length=254)
    phone = as_text(raw.get("phone"), field="customer.phone", max_length=64)
    try:
        email = normalize_email(email) if email else ""
    except ValueError as exc:
        raise invalid({"customer.email": [str(exc)]}) from None
    try:
        phone = normalize_phone(phone).value if phone else ""
    except ValueError as exc:
        raise invalid({"customer.phone": [str(exc)]}) from None
    if not (external or email or phone):
        raise invalid({"customer": [_("Give the customer's external_id, email or phone.")]})
    return external, email, phone


def _find_customer(
    source: OrderSource, actor: User, external: str, email: str, phone: str
) -> Customer | None:
    from vefa.customers.models import ContactPoint
    from vefa.customers.selectors import visible_customers

    visible = visible_customers(actor)
    if external:
        mapped = (
            SourceCustomer.objects.filter(source=source, external_id=external)
            .values_list("customer_id", flat=True)
            .first()
        )
        if mapped is not None:
            found = visible.filter(pk=mapped).first()
            if found is not None:
                return found
    for kinds, value in ((("email",), email), (("phone", "mobile"), phone)):
        if not value:
            continue
        ids = ContactPoint.objects.filter(kind__in=kinds, normalized=value).values("customer_id")
        found = visible.filter(pk__in=ids).order_by("id").first()
        if found is not None:
            return found
    return None


def _new_customer(
    actor: User, raw: Mapping[str, Any], email: str, phone: str, external: str, currency: str
) -> Customer:
    from vefa.customers.services.customers import customer_create

    first = as_text(raw.get("first_name"), field="customer.first_name", max_length=100)
    last = as_text(raw.get("last_name"), field="customer.last_name", max_length=100)
    if not first and not last:
        last = (email or phone or external)[:100]
    data: dict[str, Any] = {
        "kind": "person",
        "first_name": first,
        "last_name": last,
        "source": "web",
        "currency": currency,
        "lifecycle_stage": "customer",
    }
    language = raw.get("language")
    if language not in (None, ""):
        data["language"] = as_text(language, field="customer.language", max_length=10)
    try:
        return customer_create(actor=actor, data=data, email=email, phone=phone)
    except ApplicationError as exc:
        raise invalid(
            {f"customer.{k}": v for k, v in exc.fields.items()} or {"customer": [str(exc.message)]}
        ) from None


def _lines(source: OrderSource, raw_lines: Any, currency: str) -> list[dict[str, Any]]:
    from vefa.sales.models import PriceListItem, Product

    if not isinstance(raw_lines, list) or not raw_lines:
        raise invalid({"lines": [_("Add at least one line.")]})
    if len(raw_lines) > MAX_LINES:
        raise invalid({"lines": [_("At most %(n)d lines per order.") % {"n": MAX_LINES}]})
    skus = {
        line["sku"].strip()
        for line in raw_lines
        if isinstance(line, Mapping) and isinstance(line.get("sku"), str) and line["sku"].strip()
    }
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    result: list[dict[str, Any]] = []
    for i, raw in enumerate(raw_lines):
        prefix = f"lines.{i}"
        if not isinstance(raw, Mapping):
            raise invalid({prefix: [_("Expected an object of line values.")]})
        unknown = sorted(str(k) for k in raw if k not in LINE_KEYS)
        if unknown:
            raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
        line = {k: raw[k] for k in raw if k != "sku"}
        sku = as_text(raw.get("sku"), field=f"{prefix}.sku", max_length=64)
        if sku:
            product = products.get(sku)
            if product is None or not product.is_active:
                raise invalid(
                    {
                        f"{prefix}.sku": [
                            _(
                                "Unknown SKU “%(sku)s”: add the product to the catalogue, or "
                                "send the line without SKU, with a description and a unit price."
                            )
                            % {"sku": sku}
                        ]
                    }
                )
            line["product"] = product
            if line.get("unit_price") in (None, "") and source.price_list_id is not None:
                pl = source.price_list
                if pl is not None and pl.currency == currency:
                    try:
                        quantity = Decimal(str(raw.get("quantity") or "1"))
                    except InvalidOperation:
                        quantity = Decimal(1)
                    item = (
                        PriceListItem.objects.filter(
                            price_list=pl, product=product, min_quantity__lte=quantity
                        )
                        .order_by("-min_quantity")
                        .first()
                    )
                    if item is not None:
                        line["unit_price"] = item.unit_price
        result.append(line)
    return result


def _check_total(order: Order, totals: Any) -> None:
    if totals in (None, ""):
        return
    if not isinstance(totals, Mapping):
        raise invalid({"totals": [_('Expected an object such as {"total": "120.00"}.')]})
    given = totals.get("total")
    if given in (None, ""):
        return
    if isinstance(given, bool | float) or not isinstance(given, int | str):
        raise invalid({"totals.total": [_('Send the amount as a string, e.g. "120.00".')]})
    try:
        amount = Decimal(str(given))
    except InvalidOperation:
        raise invalid({"totals.total": [_("Enter a number.")]}) from None
    if not amount.is_finite() or amount != order.total:
        raise invalid(
            {
                "totals.total": [
                    _("The lines add up to %(total)s %(currency)s, not %(given)s.")
                    % {"total": order.total, "currency": order.currency, "given": given}
                ]
            }
        )


def _existing(source: OrderSource, external: str) -> InboundOrder | None:
    return (
        InboundOrder.objects.select_related("order")
        .filter(source=source, external_number=external)
        .first()
    )


def inbound_order_receive(*, source: OrderSource, data: Mapping[str, Any]) -> InboundResult:
    """Take one order from an authenticated source (see the module text)."""
    from vefa.sales.services._common import as_currency
    from vefa.sales.services.orders import order_create

    unknown = sorted(str(k) for k in data if k not in ORDER_KEYS)
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    external = as_text(
        data.get("external_number"), field="external_number", max_length=80, required=True
    )
    found = _existing(source, external)
    if found is not None:
        return InboundResult("duplicate", found.order)
    actor = source.owner
    raw_customer = data.get("customer")
    if not isinstance(raw_customer, Mapping):
        raise invalid(
            {
                "customer": [
                    _("Give the customer as an object with an e-mail, phone or external_id.")
                ]
            }
        )
    unknown = sorted(str(k) for k in raw_customer if k not in CUSTOMER_KEYS)
    if unknown:
        raise invalid({f"customer.{k}": [_("Unknown field.")] for k in unknown})
    cust_external, email, phone = _contact(raw_customer)
    currency = as_currency(data.get("currency") or source.default_currency)
    lines = _lines(source, data.get("lines"), currency)
    try:
        with transaction.atomic():
            customer = _find_customer(source, actor, cust_external, email, phone)
            created = customer is None
            if customer is None:
                customer = _new_customer(actor, raw_customer, email, phone, cust_external, currency)
            if cust_external:
                SourceCustomer.objects.get_or_create(
                    source=source, external_id=cust_external, defaults={"customer": customer}
                )
            order = order_create(
                actor=actor,
                customer=customer,
                lines=lines,
                currency=currency,
                source=source.kind,
                external_id=f"{source.key}:{external}",
                ordered_at=data.get("ordered_at"),
                notes=data.get("notes") or "",
                shipping_address=data.get("shipping_address") or "",
                status=data.get("status") or "confirmed",
            )
            _check_total(order, data.get("totals"))
            InboundOrder.objects.create(source=source, external_number=external, order=order)
            OrderSource.objects.filter(pk=source.pk).update(last_order_at=timezone.now())
    except IntegrityError:
        # The same order arrived twice at once: the other request won; answer with its order.
        found = _existing(source, external)
        if found is None:
            raise
        return InboundResult("duplicate", found.order)
    return InboundResult("created", order, customer_created=created)
