"""Clusters follow customer merges made anywhere (the merge page, the API)."""

from __future__ import annotations

from vefa.common.events import DomainEvent, subscribe


@subscribe("customers.customer.merged")
def close_merged_clusters(event: DomainEvent) -> None:
    from vefa.dedupe.services import clusters_sync_merged

    ids = {int(event.object_id)}
    merged = event.payload.get("merged")
    if isinstance(merged, list):
        ids.update(int(v) for v in merged if isinstance(v, int))
    clusters_sync_merged(sorted(ids), None)
