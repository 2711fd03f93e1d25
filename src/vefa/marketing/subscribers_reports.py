"""Conversions credited as orders are placed or cancelled, and an hourly catch-up for orders
written without events (see ``vefa.marketing.services.reports``)."""

from __future__ import annotations

import datetime
import logging

from vefa.common.events import DomainEvent, subscribe
from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@subscribe("sales.order.created", "sales.order.updated")
def credit_order(event: DomainEvent) -> None:
    """A new order, or one whose status changed, is attributed to the campaigns it converts."""
    if event.name.endswith(".updated") and "status" not in event.payload.get("changed", ["status"]):
        return
    from vefa.marketing.services.reports import attribute_order

    attribute_order(event.object_id)


@periodic("marketing.attribute_conversions", every=datetime.timedelta(hours=1))
def attribute_conversions() -> None:
    from vefa.marketing.services.reports import attribute_recent_orders

    converted = attribute_recent_orders()
    if converted:
        logger.info("campaign conversions credited by the catch-up: %d", converted)
