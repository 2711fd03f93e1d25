"""Every read of the customer portal: each function takes the portal account and filters by
its customer (ADR 0009). A record of another customer is not found, exactly like a missing
one. Ticket messages are the public ones only (from the customer, public replies); internal
notes are never selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.sales.choices import ContractStatus, OrderStatus, QuoteStatus
from vefa.sales.models import Contract, Order, OrderLine, Product, Quote, Shipment

if TYPE_CHECKING:
    from vefa.interactions.models import Attachment
    from vefa.portal.models import PortalAccount
    from vefa.service.models import (
        ReturnRequest,
        SurveyInvitation,
        Ticket,
        TicketMessage,
    )

PAGE_SIZE = 20
# What a customer sees of their documents: nothing still being drafted inside the company.
VISIBLE_QUOTES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED)
HIDDEN_ORDERS = (OrderStatus.DRAFT,)
HIDDEN_CONTRACTS = (ContractStatus.DRAFT,)
# The data download holds the most recent records of each kind up to this many.
EXPORT_LIMIT = 5_000


def _pk(value: Any) -> int:
    if isinstance(value, bool):
        raise NotFound(_("Not found."))
    try:
        key = int(value)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    if key <= 0 or key > 2**63 - 1:
        raise NotFound(_("Not found."))
    return key


def _one(queryset: QuerySet[Any], pk: Any) -> Any:
    record = queryset.filter(pk=_pk(pk)).first()
    if record is None:
        raise NotFound(_("Not found."))
    return record


def _public_kinds() -> tuple[str, str]:
    from vefa.service.choices import MessageKind

    return (MessageKind.CUSTOMER, MessageKind.REPLY)


# --- orders, quotes, contracts -----------------------------------------------------------


def orders(*, account: PortalAccount) -> QuerySet[Order]:
    return Order.objects.filter(customer_id=account.customer_id).exclude(status__in=HIDDEN_ORDERS)


def order_page(*, account: PortalAccount, cursor: str | None, size: int = PAGE_SIZE) -> Page[Order]:
    qs = orders(account=account).only(
        "pk", "number", "status", "ordered_at", "total", "currency", "delivered_at", "shipped_at"
    )
    return keyset_page(qs, ordering="-ordered_at", cursor=cursor, size=size)


def order_get(*, account: PortalAccount, pk: Any) -> Order:
    return _one(orders(account=account), pk)


def order_lines(*, account: PortalAccount, order: Order) -> list[OrderLine]:
    if order.customer_id != account.customer_id:
        raise NotFound(_("Not found."))
    return list(OrderLine.objects.filter(order_id=order.pk).order_by("position", "pk"))


def order_shipments(*, account: PortalAccount, order: Order) -> list[Shipment]:
    if order.customer_id != account.customer_id:
        raise NotFound(_("Not found."))
    return list(Shipment.objects.filter(order_id=order.pk).order_by("pk"))


def ordered_products(*, account: PortalAccount, limit: int = 200) -> list[Product]:
    """Products on the customer's orders (the choices of a complaint's product)."""
    ids = OrderLine.objects.filter(
        order__customer_id=account.customer_id, product_id__isnull=False
    ).exclude(order__status__in=HIDDEN_ORDERS)
    return list(
        Product.objects.filter(pk__in=ids.values("product_id"))
        .order_by("name", "pk")
        .only("pk", "name", "sku")[:limit]
    )


def recent_orders(*, account: PortalAccount, limit: int = 5) -> list[Order]:
    return list(orders(account=account).order_by("-ordered_at", "-pk")[:limit])


def quotes(*, account: PortalAccount, limit: int = 100) -> list[Quote]:
    return list(
        Quote.objects.filter(customer_id=account.customer_id, status__in=VISIBLE_QUOTES).order_by(
            "-issued_on", "-pk"
        )[:limit]
    )


def contracts(*, account: PortalAccount, limit: int = 100) -> list[Contract]:
    return list(
        Contract.objects.filter(customer_id=account.customer_id)
        .exclude(status__in=HIDDEN_CONTRACTS)
        .order_by("-start_date", "-pk")[:limit]
    )


# --- tickets -----------------------------------------------------------------------------


def tickets(*, account: PortalAccount) -> QuerySet[Ticket]:
    from vefa.service.models import Ticket

    return Ticket.objects.filter(customer_id=account.customer_id, merged_into__isnull=True)


def ticket_page(
    *, account: PortalAccount, cursor: str | None, open_only: bool = False, size: int = PAGE_SIZE
) -> Page[Ticket]:
    from vefa.service.choices import OPEN_STATUSES

    qs = tickets(account=account).only(
        "pk", "number", "subject", "status", "type", "created_at", "updated_at", "customer_id"
    )
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return keyset_page(qs, ordering="-id", cursor=cursor, size=size)


def ticket_get(*, account: PortalAccount, pk: Any) -> Ticket:
    """One of the customer's tickets; a ticket merged into another leads to that one."""
    from vefa.service.models import Ticket

    ticket = _one(Ticket.objects.filter(customer_id=account.customer_id), pk)
    seen = 0
    while ticket.merged_into_id is not None and seen < 5:
        ticket = _one(Ticket.objects.filter(customer_id=account.customer_id), ticket.merged_into_id)
        seen += 1
    return ticket


def ticket_messages(*, account: PortalAccount, ticket: Ticket) -> list[TicketMessage]:
    """The conversation the customer may see: their messages and public replies, with the
    attachments of each, oldest first. Internal notes and system lines are never read."""
    from vefa.interactions.models import Attachment
    from vefa.service.models import TicketMessage

    if ticket.customer_id != account.customer_id:
        raise NotFound(_("Not found."))
    return list(
        TicketMessage.objects.filter(ticket_id=ticket.pk, kind__in=_public_kinds())
        .select_related("author", "interaction")
        .prefetch_related(
            Prefetch(
                "interaction__attachments",
                queryset=Attachment.objects.only(
                    "pk", "interaction_id", "original_name", "size", "content_type"
                ).order_by("pk"),
            )
        )
        .order_by("created_at", "pk")[:500]
    )


def open_tickets(*, account: PortalAccount, limit: int = 5) -> list[Ticket]:
    from vefa.service.choices import OPEN_STATUSES

    return list(tickets(account=account).filter(status__in=OPEN_STATUSES).order_by("-pk")[:limit])


def attachment_get(*, account: PortalAccount, pk: Any) -> Attachment:
    """A file of a public message on one of the customer's own tickets, else not found."""
    from vefa.interactions.models import Attachment

    return _one(
        Attachment.objects.filter(
            interaction__ticket_message__ticket__customer_id=account.customer_id,
            interaction__ticket_message__kind__in=_public_kinds(),
        ),
        pk,
    )


# --- returns and surveys -----------------------------------------------------------------


def returns(*, account: PortalAccount, limit: int = 100) -> list[ReturnRequest]:
    from vefa.service.models import ReturnRequest

    return list(
        ReturnRequest.objects.filter(customer_id=account.customer_id)
        .select_related("order")
        .only("pk", "number", "status", "reason", "created_at", "order__number", "customer_id")
        .order_by("-pk")[:limit]
    )


def return_get(*, account: PortalAccount, pk: Any) -> ReturnRequest:
    from vefa.service.models import ReturnRequest

    return _one(
        ReturnRequest.objects.filter(customer_id=account.customer_id).select_related("order"), pk
    )


def return_lines(*, account: PortalAccount, return_request: ReturnRequest) -> list[Any]:
    from vefa.service.models import ReturnLine

    if return_request.customer_id != account.customer_id:
        raise NotFound(_("Not found."))
    return list(
        ReturnLine.objects.filter(return_request_id=return_request.pk)
        .select_related("order_line")
        .order_by("pk")
    )


def pending_surveys(*, account: PortalAccount, limit: int = 20) -> list[SurveyInvitation]:
    from vefa.service.services.surveys import pending_invitations

    return list(
        pending_invitations(customer_id=account.customer_id)
        .filter(customer_id=account.customer_id)
        .select_related("ticket", "survey")[:limit]
    )


# --- the data download -------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def data_export(*, account: PortalAccount) -> dict[str, Any]:
    """Everything the portal shows about the customer and the contact, as plain JSON data."""
    from vefa.customers.models import Address, Consent, ContactPoint
    from vefa.service.models import ReturnLine, TicketMessage

    contact = account.contact
    customer = account.customer
    order_rows = list(orders(account=account).order_by("-ordered_at", "-pk")[:EXPORT_LIMIT])
    order_ids = [o.pk for o in order_rows]
    lines_by_order: dict[int, list[dict[str, Any]]] = {}
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("position", "pk"):
        lines_by_order.setdefault(line.order_id, []).append(
            {
                "sku": line.sku,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "total": str(line.total),
            }
        )
    shipments_by_order: dict[int, list[dict[str, Any]]] = {}
    for shipment in Shipment.objects.filter(order_id__in=order_ids).order_by("pk"):
        shipments_by_order.setdefault(shipment.order_id, []).append(
            {
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "status": shipment.status,
                "shipped_at": _iso(shipment.shipped_at),
                "delivered_at": _iso(shipment.delivered_at),
            }
        )
    ticket_rows = list(tickets(account=account).order_by("-pk")[:EXPORT_LIMIT])
    messages_by_ticket: dict[int, list[dict[str, Any]]] = {}
    for message in TicketMessage.objects.filter(
        ticket_id__in=[t.pk for t in ticket_rows], kind__in=_public_kinds()
    ).order_by("created_at", "pk"):
        messages_by_ticket.setdefault(message.ticket_id, []).append(
            {
                "kind": message.kind,
                "from": message.author_name
                or (str(message.author) if message.author_id else "")
                or message.author_email,
                "body": message.body,
                "at": _iso(message.created_at),
            }
        )
    return_rows = returns(account=account, limit=EXPORT_LIMIT)
    lines_by_return: dict[int, list[dict[str, Any]]] = {}
    for rline in ReturnLine.objects.filter(
        return_request_id__in=[r.pk for r in return_rows]
    ).select_related("order_line"):
        lines_by_return.setdefault(rline.return_request_id, []).append(
            {"item": rline.order_line.description, "quantity": str(rline.quantity)}
        )
    return {
        "account": {
            "email": account.email,
            "language": account.language,
            "last_login_at": _iso(account.last_login_at),
        },
        "contact": {
            "name": contact.display_name,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "contact_points": [
                {"kind": cp.kind, "value": cp.value}
                for cp in ContactPoint.objects.filter(customer_id=contact.pk).order_by("pk")
            ],
            "addresses": [
                {
                    "line1": a.line1,
                    "line2": a.line2,
                    "postal_code": a.postal_code,
                    "city": a.city,
                    "country": a.country,
                }
                for a in Address.objects.filter(customer_id=contact.pk).order_by("pk")
            ],
            "consents": [
                {
                    "channel": c.channel,
                    "purpose": c.purpose,
                    "status": c.status,
                    "source": c.source,
                    "recorded_at": _iso(c.recorded_at),
                }
                for c in Consent.objects.filter(customer_id=contact.pk).order_by(
                    "recorded_at", "pk"
                )
            ],
        },
        "customer": {"name": customer.display_name, "kind": customer.kind},
        "orders": [
            {
                "number": o.number,
                "status": o.status,
                "ordered_at": _iso(o.ordered_at),
                "currency": o.currency,
                "total": str(o.total),
                "lines": lines_by_order.get(o.pk, []),
                "shipments": shipments_by_order.get(o.pk, []),
            }
            for o in order_rows
        ],
        "quotes": [
            {
                "number": q.number,
                "revision": q.revision,
                "status": q.status,
                "issued_on": _iso(q.issued_on),
                "currency": q.currency,
                "total": str(q.total),
            }
            for q in quotes(account=account, limit=EXPORT_LIMIT)
        ],
        "contracts": [
            {
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "start_date": _iso(c.start_date),
                "end_date": _iso(c.end_date),
                "currency": c.currency,
                "value": str(c.value),
            }
            for c in contracts(account=account, limit=EXPORT_LIMIT)
        ],
        "tickets": [
            {
                "number": t.number,
                "subject": t.subject,
                "type": t.type,
                "status": t.status,
                "created_at": _iso(t.created_at),
                "messages": messages_by_ticket.get(t.pk, []),
            }
            for t in ticket_rows
        ],
        "returns": [
            {
                "number": r.number,
                "order": r.order.number,
                "status": r.status,
                "reason": r.reason,
                "created_at": _iso(r.created_at),
                "lines": lines_by_return.get(r.pk, []),
            }
            for r in return_rows
        ],
    }


# --- loyalty points ----------------------------------------------------------------------


def points_summary(*, account: PortalAccount) -> Any:
    """The balance, value and tier of the account's customer (never another customer's)."""
    from vefa.customers.models import Customer
    from vefa.marketing.selectors.loyalty import points_summary as summary_of

    customer = Customer.objects.get(pk=account.customer_id)
    return summary_of(customer, limit=1)


def points_page(*, account: PortalAccount, cursor: str | None, size: int = PAGE_SIZE) -> Page[Any]:
    """The account's customer's points history in the active programme, latest first."""
    from vefa.marketing.models import PointsEntry
    from vefa.marketing.services.loyalty import active_program

    program = active_program()
    qs = PointsEntry.objects.filter(customer_id=account.customer_id, program=program).only(
        "pk", "kind", "points", "description", "occurred_at", "expires_at"
    )
    return keyset_page(qs, ordering="-occurred_at", cursor=cursor, size=size)
