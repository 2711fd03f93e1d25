"""Global search over customers, leads, contact points and interactions.

- ``register(label, builder)``: an app makes its records searchable (``registry``);
- the index follows domain events by itself (``vefa.platform.subscribers``);
- ``search(actor=…, query=…)``: grouped, access-checked results (``query``);
- ``rebuild()``: re-index everything in bulk after a data load (``indexer``);
- how terms are folded and how each database indexes them: ``terms`` and ``backends``.
"""

from vefa.platform.search.indexer import (
    index_record,
    index_records,
    on_record_changed,
    rebuild,
    reindex_customer_children,
    remove_record,
)
from vefa.platform.search.query import SearchGroup, SearchHit, SearchResults, search
from vefa.platform.search.registry import (
    SearchDocument,
    document_row,
    labels,
    model_for,
    model_key,
    register,
    registered,
)

__all__ = [
    "SearchDocument",
    "SearchGroup",
    "SearchHit",
    "SearchResults",
    "document_row",
    "index_record",
    "index_records",
    "labels",
    "model_for",
    "model_key",
    "on_record_changed",
    "rebuild",
    "register",
    "registered",
    "reindex_customer_children",
    "remove_record",
    "search",
]
