"""Reads of the integrations app for a person. Webhooks, deliveries and order sources are
administrators' records: for anyone else they do not exist (``NotFound``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, QuerySet

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.integrations.models import (
    DeliveryAttempt,
    InboundOrder,
    OrderSource,
    Webhook,
    WebhookDelivery,
)
from vefa.integrations.services._common import get_visible

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100


def webhook_list(*, actor: User, limit: int = 200) -> list[Webhook]:
    queryset: QuerySet[Webhook] = restrict(Webhook.objects.all(), actor, "view")
    return list(
        queryset.annotate(rule_count=Count("rules"))
        .prefetch_related("rules")
        .order_by("name", "id")[: max(1, limit)]
    )


def webhook_get(*, actor: User, pk: Any) -> Webhook:
    return get_visible(Webhook.objects.prefetch_related("rules"), actor=actor, pk=pk)


def delivery_list(
    *,
    actor: User,
    webhook: Webhook,
    cursor: str | None = None,
    limit: int = 25,
    status: str = "",
) -> Page[WebhookDelivery]:
    """A keyset page of a webhook's deliveries, newest first, with their attempts."""
    queryset = restrict(WebhookDelivery.objects.all(), actor, "view").filter(webhook=webhook)
    if status:
        queryset = queryset.filter(status=status)
    queryset = queryset.prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-number"))
    )
    size = max(1, min(int(limit), MAX_PAGE))
    try:
        return keyset_page(queryset, ordering="-id", cursor=cursor, size=size)
    except (ValueError, TypeError):
        return keyset_page(queryset, ordering="-id", cursor=None, size=size)


def delivery_get(*, actor: User, pk: Any) -> WebhookDelivery:
    return get_visible(
        WebhookDelivery.objects.select_related("webhook").prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-number"))
        ),
        actor=actor,
        pk=pk,
    )


def source_list(*, actor: User, limit: int = 200) -> list[OrderSource]:
    queryset: QuerySet[OrderSource] = restrict(OrderSource.objects.all(), actor, "view")
    return list(queryset.select_related("owner", "price_list").order_by("name", "id")[:limit])


def source_get(*, actor: User, pk: Any) -> OrderSource:
    return get_visible(
        OrderSource.objects.select_related("owner", "price_list"), actor=actor, pk=pk
    )


def source_recent_orders(*, actor: User, source: OrderSource, limit: int = 20) -> list[Any]:
    """The source's latest orders (the source is already checked for ``actor``)."""
    get_visible(OrderSource.objects.all(), actor=actor, pk=source.pk)
    return list(
        InboundOrder.objects.filter(source=source)
        .select_related("order", "order__customer")
        .order_by("-id")[:limit]
    )
