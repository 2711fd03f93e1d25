"""Background and periodic work of the integrations app: webhook deliveries."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from vefa.integrations.services import vcards  # noqa: F401 (registers the import job)
from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@task()
def deliver_webhooks(*, delivery_ids: list[int]) -> int:
    """First attempt of freshly queued deliveries; returns how many were sent."""
    from vefa.integrations.services.delivery import delivery_attempt

    return sum(1 for pk in delivery_ids if delivery_attempt(pk).status == "sent")


@periodic("integrations.deliver_due", every=datetime.timedelta(minutes=1))
def deliver_due() -> None:
    """Every minute: retry deliveries whose backoff has passed, and pick up lost ones."""
    from vefa.integrations.services.delivery import deliver_due as run

    counts = run()
    if counts:
        logger.info("webhook deliveries: %s", counts)


@periodic("integrations.prune_deliveries", every=datetime.timedelta(hours=24))
def prune_deliveries() -> None:
    """Daily: drop the delivery log of finished deliveries older than the keep period."""
    from vefa.integrations.services.delivery import deliveries_prune

    removed = deliveries_prune()
    if removed:
        logger.info("webhook deliveries pruned: %d", removed)
