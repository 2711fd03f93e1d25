"""Clusters follow customer merges made anywhere (the merge page, the API)."""

from __future__ import annotations

from vefa.common.events import DomainEvent, subscribe


@subscribe("*")
def close_merged_clusters(event: DomainEvent) -> None:
    if event.model != "customers.customer" and not event.name.startswith("customers.merge"):
        return
    if "merge" not in event.name:
        return
    from vefa.dedupe.services import clusters_sync_merged

    ids = {int(event.object_id)}
    for key in ("others", "merged", "customer_ids", "merged_ids"):
        values = event.payload.get(key)
        if isinstance(values, list):
            ids.update(int(v) for v in values if isinstance(v, int))
    clusters_sync_merged(sorted(ids))
