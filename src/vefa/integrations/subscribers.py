"""Domain-event subscribers of the integrations app: committed events become webhook
deliveries."""

from __future__ import annotations

from vefa.common.events import DomainEvent, subscribe


@subscribe("*")
def queue_webhook_deliveries(event: DomainEvent) -> None:
    from vefa.integrations.services.delivery import deliveries_enqueue

    deliveries_enqueue(event)
