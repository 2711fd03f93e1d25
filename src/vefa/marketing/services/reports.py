"""Conversions: which campaign an order is credited to.

A customer who received a campaign message *converts* when they place an order (any status
but cancelled) within the conversion window after the message was sent: the campaign's own
``attribution_days`` or, when empty, the marketing settings' window. When several messages
are within the window before one order, the last one wins (last touch). A control-group
member converts with an order within the window after the campaign started sending, measured
the same way, so the two groups can be compared.

Each recipient converts once, with its first order; the recipient row keeps the order, the
time and the order's total in the campaign currency (``revenue``; empty when no exchange rate
converts it), and a ``converted`` message event is written. Marking is a conditional update,
so running the attribution of an order twice, or from two processes at once, changes nothing
the second time. An order that is cancelled gives its conversions back and the customer's
other orders are attributed again.

``attribute_order`` runs after every new or changed order (``vefa.marketing.subscribers_reports``)
and ``attribute_recent_orders`` catches up on orders written without events (imports) every
hour.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from vefa.marketing.choices import MessageEventKind, RecipientStatus
from vefa.marketing.models import Campaign, CampaignRecipient, MessageEvent
from vefa.marketing.selectors.reports import attribution_days, settings_row
from vefa.sales.choices import OrderStatus
from vefa.sales.models import Order
from vefa.sales.money import RateTable

__all__ = ["attribute_order", "attribute_recent_orders", "order_value"]

# The catch-up job reads at most this many orders per run (the next run continues).
CATCH_UP_BATCH = 5000


def order_value(order: Order, currency: str) -> Decimal | None:
    """The order's total in ``currency`` at the order's date; ``None`` without a rate."""
    if order.currency == currency:
        return Decimal(order.total)
    return RateTable.load(currency).convert(
        Decimal(order.total), order.currency, order.ordered_at.date()
    )


def _window(campaign: Campaign, cache: dict[int, int]) -> datetime.timedelta:
    if campaign.pk not in cache:
        cache[campaign.pk] = attribution_days(campaign, settings_row())
    return datetime.timedelta(days=cache[campaign.pk])


def _mark(recipient: CampaignRecipient, order: Order) -> bool:
    """Credit ``order`` to ``recipient`` unless it converted already; whether it did now."""
    revenue = order_value(order, recipient.campaign.currency)
    with transaction.atomic():
        updated = CampaignRecipient.objects.filter(
            pk=recipient.pk, converted_at__isnull=True
        ).update(converted_at=order.ordered_at, conversion_order=order, revenue=revenue)
        if updated:
            MessageEvent.objects.create(
                recipient_id=recipient.pk,
                kind=MessageEventKind.CONVERTED,
                occurred_at=order.ordered_at,
                detail=order.number[:300],
            )
    return bool(updated)


def _release(order: Order) -> list[int]:
    """Take back the conversions credited to a cancelled order; the customers touched."""
    with transaction.atomic():
        rows = list(
            CampaignRecipient.objects.select_for_update()
            .filter(conversion_order=order)
            .values_list("pk", "customer_id")
        )
        if not rows:
            return []
        ids = [pk for pk, _customer in rows]
        MessageEvent.objects.filter(recipient_id__in=ids, kind=MessageEventKind.CONVERTED).delete()
        CampaignRecipient.objects.filter(pk__in=ids).update(
            converted_at=None, conversion_order=None, revenue=None
        )
    return sorted({customer for _pk, customer in rows})


def attribute_order(order_id: int) -> list[int]:
    """Credit one order to the campaigns it converts; the recipient rows marked now.

    Safe to run any number of times and concurrently for the same order.
    """
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return []
    if order.status == OrderStatus.CANCELLED:
        for customer_id in _release(order):
            _reattribute_customer(customer_id)
        return []
    when = order.ordered_at
    windows: dict[int, int] = {}
    candidates = (
        CampaignRecipient.objects.filter(customer_id=order.customer_id)
        .filter(
            Q(status=RecipientStatus.SENT, sent_at__lte=when)
            | Q(status=RecipientStatus.CONTROL, campaign__started_at__lte=when)
        )
        .select_related("campaign")
        .order_by("-sent_at", "-id")
    )
    marked: list[int] = []
    last_touch: CampaignRecipient | None = None
    for recipient in candidates:
        window = _window(recipient.campaign, windows)
        if recipient.status == RecipientStatus.CONTROL:
            start = recipient.campaign.started_at
            if start is not None and when <= start + window and _mark(recipient, order):
                marked.append(recipient.pk)
            continue
        sent = recipient.sent_at
        if sent is None or when > sent + window:
            continue
        if last_touch is None or sent > (last_touch.sent_at or sent):
            last_touch = recipient
    if last_touch is not None and _mark(last_touch, order):
        marked.append(last_touch.pk)
    return marked


def _reattribute_customer(customer_id: int) -> None:
    """Attribute the customer's orders again, oldest first, since their earliest receipt."""
    earliest = (
        CampaignRecipient.objects.filter(customer_id=customer_id)
        .exclude(sent_at__isnull=True, campaign__started_at__isnull=True)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    orders = Order.objects.filter(customer_id=customer_id).exclude(status=OrderStatus.CANCELLED)
    if earliest is not None:
        orders = orders.filter(ordered_at__gte=earliest)
    for pk in orders.order_by("ordered_at", "id").values_list("pk", flat=True)[:CATCH_UP_BATCH]:
        attribute_order(pk)


def attribute_recent_orders(*, now: datetime.datetime | None = None) -> int:
    """Attribute the orders placed within the longest conversion window of the campaigns that
    sent in it (orders imported without events); how many recipients converted now."""
    now = now or timezone.now()
    longest = max(
        settings_row().attribution_days,
        Campaign.objects.aggregate(m=Max("attribution_days"))["m"] or 0,
    )
    since = now - datetime.timedelta(days=int(longest))
    customers = CampaignRecipient.objects.filter(
        Q(sent_at__gte=since) | Q(status=RecipientStatus.CONTROL, campaign__started_at__gte=since),
        converted_at__isnull=True,
    ).values("customer_id")
    orders = (
        Order.objects.filter(ordered_at__gte=since, customer_id__in=customers)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("ordered_at", "id")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return sum(len(attribute_order(pk)) for pk in orders)
