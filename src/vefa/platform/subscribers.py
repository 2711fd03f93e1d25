"""Platform subscribers to domain events.

The search index follows every event of a searchable model: ``<app>.<model>.deleted``
removes the record's entry, any other (created, updated, merged, assigned, converted …)
indexes the record again as it now is. Services do nothing special to keep search current.
"""

from __future__ import annotations

from vefa.common.events import DomainEvent, subscribe
from vefa.platform.search import indexer, registry


@subscribe("*")
def keep_search_index_current(event: DomainEvent) -> None:
    label, _, verb = event.name.rpartition(".")
    if not verb or label not in registry.registered():
        return
    changed = event.payload.get("changed") or []
    object_id = int(event.object_id)
    indexer.on_record_changed(
        label,
        verb,
        object_id,
        [str(c) for c in changed] if isinstance(changed, list) else [],
        # The first event of a record in a commit indexes it as the commit left it.
        index=event.first_in_commit("search", label, object_id),
    )
