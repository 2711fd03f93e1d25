"""Clusters follow customer merges made anywhere (the merge page, the API, a cluster's
merge button) and the undo of those merges."""

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


@subscribe("customers.customer.merge_undone")
def reopen_unmerged_clusters(event: DomainEvent) -> None:
    from vefa.accounts.models import User
    from vefa.dedupe.services import clusters_sync_unmerged

    unmerged = event.payload.get("unmerged")
    ids = (
        sorted(int(v) for v in unmerged if isinstance(v, int)) if isinstance(unmerged, list) else []
    )
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    clusters_sync_unmerged(int(event.object_id), ids, actor)
