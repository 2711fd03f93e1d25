"""Keeping the search index current: one record at a time, or everything in bulk."""

from __future__ import annotations

import contextvars
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max, Min
from django.db.models.base import ModelState

from vefa.platform.models import SearchEntry
from vefa.platform.search import backends
from vefa.platform.search.registry import (
    document_row,
    label_for_key,
    labels,
    model_for,
    model_key,
    owner_paths,
    related_paths,
    team_paths,
)

logger = logging.getLogger(__name__)

CUSTOMER_LABEL = "customers.customer"
# A change to one of these customer fields changes how its child records are found or who may
# find them (their documents carry the customer's name, owner and team).
CUSTOMER_IDENTITY_FIELDS = frozenset({"display_name", "merged_into"})

Progress = Callable[[str, int, int], None]


class FastLoader:
    """Loads every record of a model with its related records, for a bulk rebuild.

    A rebuild reads millions of rows; building model instances the usual way (``from_db``
    through ``__init__`` and ``select_related``) costs several times more than the search
    document itself. Here one ``values_list`` query reads the columns of the model and of
    every related model on the ``select_related`` paths (the database converts the values as
    usual), and each row becomes real model instances set up directly, with the related ones
    in their relation cache, just as ``select_related`` leaves them. Builders therefore see
    ordinary instances (methods, ``get_…_display``, properties all work).
    """

    def __init__(self, label: str) -> None:
        self.model = model_for(label)
        self.supported = True
        self.db = self.model._default_manager.db
        # (path, model, parent path, relation name) for the model and each related model.
        self.nodes: list[tuple[str, type[models.Model], str, str]] = [("", self.model, "", "")]
        models_by_path: dict[str, type[models.Model]] = {"": self.model}
        wanted: set[str] = set()
        for path in related_paths(label):
            parts = path.split("__")
            wanted.update("__".join(parts[: i + 1]) for i in range(len(parts)))
        for path in sorted(wanted, key=lambda p: (p.count("__"), p)):
            parent_path, _, name = path.rpartition("__")
            field = models_by_path[parent_path]._meta.get_field(name)
            forward = (field.many_to_one or field.one_to_one) and not field.auto_created
            if not forward or field.related_model is None:
                self.supported = False  # reverse relations: use the ORM
                return
            related = field.related_model
            assert isinstance(related, type)
            models_by_path[path] = related
            self.nodes.append((path, related, parent_path, name))
        self.lookups: list[str] = []
        self.slices: list[tuple[int, int, list[str]]] = []
        for path, model, _parent, _name in self.nodes:
            names = [f.attname for f in model._meta.concrete_fields]
            start = len(self.lookups)
            self.lookups += [f"{path}__{n}" if path else n for n in names]
            self.slices.append((start, len(self.lookups), names))

    def _bare(self, model: type[models.Model], names: list[str], values: Any) -> models.Model:
        obj = model.__new__(model)
        obj.__dict__.update(zip(names, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = self.db
        obj._state = state
        return obj

    def iterate(
        self, chunk_size: int, *, low: int | None = None, high: int | None = None
    ) -> Iterable[models.Model]:
        qs = self.model._default_manager.order_by("pk")
        if low is not None:
            qs = qs.filter(pk__gte=low)
        if high is not None:
            qs = qs.filter(pk__lt=high)
        rows = qs.values_list(*self.lookups).iterator(chunk_size=chunk_size)
        pk_names = [model._meta.pk.attname for _p, model, _pp, _n in self.nodes]
        for row in rows:
            made: dict[str, models.Model | None] = {}
            for (path, model, parent, name), (start, end, names), pk_name in zip(
                self.nodes, self.slices, pk_names, strict=True
            ):
                values = row[start:end]
                obj = None
                if path == "" or values[names.index(pk_name)] is not None:
                    obj = self._bare(model, names, values)
                made[path] = obj
                if path:
                    owner = made.get(parent)
                    if owner is not None:
                        owner._state.fields_cache[name] = obj
            record = made[""]
            assert record is not None
            yield record


def _queryset(label: str) -> models.QuerySet[Any]:
    model = model_for(label)
    related = related_paths(label)
    qs = model._default_manager.all()
    return qs.select_related(*related) if related else qs


def index_records(label: str, object_ids: Iterable[int]) -> None:
    """Re-index the given records of ``label``; ids that no longer exist leave the index."""
    ids = sorted({int(i) for i in object_ids})
    key = model_key(label)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = {obj.pk: obj for obj in _queryset(label).filter(pk__in=chunk)}
        rows = []
        drop = [pk for pk in chunk if pk not in found]
        for pk, obj in found.items():
            row = document_row(label, obj)
            if row is None:
                drop.append(pk)
            else:
                rows.append(row)
        with transaction.atomic():
            backends.delete(key, drop)
            backends.upsert(rows)


def index_record(label: str, object_id: int) -> None:
    index_records(label, [object_id])


def remove_record(label: str, object_id: int) -> None:
    backends.delete(model_key(label), [object_id])


def _child_fields() -> frozenset[str]:
    """Customer fields that child documents depend on, read from the children's access paths
    (``customer__owner`` → ``owner``)."""
    fields = set(CUSTOMER_IDENTITY_FIELDS)
    for label in labels():
        model = model_for(label)
        for path in (*owner_paths(model), *team_paths(model)):
            parts = path.split("__")
            if len(parts) == 2 and parts[0] in {"customer", "from_customer"}:
                fields.add(parts[1])
    return frozenset(fields)


def reindex_customer_children(customer_id: int) -> None:
    """Re-index every entry that belongs to the customer (contact points, interactions …).

    Used when the customer's owner, team or name changed, and when it was deleted (its child
    records went with it; entries whose record still exists, e.g. a converted lead, stay).
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    rows = (
        SearchEntry.objects.filter(customer_id=customer_id)
        .exclude(model=model_key(CUSTOMER_LABEL))
        .values_list("model", "object_id")
    )
    for key, object_id in rows.iterator(chunk_size=2000):
        by_key[key].append(object_id)
    for key, ids in by_key.items():
        label = label_for_key(key)
        if label is None:
            backends.delete(key, ids)
        else:
            index_records(label, ids)


# A customer with more child entries than this has them re-indexed by the worker, so the
# page that changed the customer does not wait for it (results are re-checked meanwhile).
INLINE_CHILDREN = 500


def _reindex_children_soon(customer_id: int) -> None:
    count = SearchEntry.objects.filter(customer_id=customer_id)[: INLINE_CHILDREN + 1].count()
    if count <= INLINE_CHILDREN:
        reindex_customer_children(customer_id)
        return
    from vefa.platform.tasks import reindex_customer_search

    reindex_customer_search.enqueue(customer_id=customer_id)


# Inside ``deferred()``: the records to index at the end of the block, by model label.
_pending: contextvars.ContextVar[dict[str, set[int]] | None] = contextvars.ContextVar(
    "search_index_pending", default=None
)


@contextmanager
def deferred() -> Iterator[None]:
    """Index the records changed inside the block once, at its end, model by model (one read
    and one write per model instead of a read, a write and a commit per record).

    For a batch of writes committed inside the block (the events are dispatched at the
    commit). Removals and a customer's child entries are handled at once as usual; a failure
    of the index is logged, never raised, like a failing subscriber.
    """
    pending: dict[str, set[int]] = {}
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        for label, ids in pending.items():
            try:
                index_records(label, ids)
            except Exception:
                logger.exception("search index: could not index %d %s records", len(ids), label)


def on_record_changed(
    label: str, verb: str, object_id: int, changed: Sequence[str], *, index: bool = True
) -> None:
    """Keep the index current after ``<label>.<verb>`` (created, updated, deleted …);
    ``index=False`` when the record was indexed already after this commit."""
    if verb == "deleted":
        remove_record(label, object_id)
        if label == CUSTOMER_LABEL:
            _reindex_children_soon(object_id)
        return
    pending = _pending.get()
    if pending is not None:
        pending.setdefault(label, set()).add(int(object_id))
    elif index:
        index_record(label, object_id)
    if label == CUSTOMER_LABEL and (
        verb == "merged" or (verb == "updated" and set(changed) & _child_fields())
    ):
        _reindex_children_soon(object_id)


def _records(label: str, batch_size: int, low: int | None, high: int | None) -> Iterable[Any]:
    """Every record of ``label`` (with ``low <= pk < high`` when given), by primary key."""
    loader = FastLoader(label)
    if loader.supported:
        return loader.iterate(batch_size, low=low, high=high)
    qs = _queryset(label).order_by("pk")
    if low is not None:
        qs = qs.filter(pk__gte=low)
    if high is not None:
        qs = qs.filter(pk__lt=high)
    return qs.iterator(chunk_size=batch_size)


def _rows_of_range(task: tuple[str, int, int, int]) -> tuple[int, list[dict[str, Any]]]:
    """Documents of one primary-key range; runs in a worker process of a parallel rebuild."""
    label, low, high, batch_size = task
    seen = 0
    rows: list[dict[str, Any]] = []
    for obj in _records(label, batch_size, low, high):
        seen += 1
        row = document_row(label, obj)
        if row is not None:
            rows.append(row)
    return seen, rows


def _parallel_workers(requested: int | None, total: int) -> int:
    """How many processes build documents: one for small loads, for tests (the test's data
    lives in its open transaction) and for in-memory databases; else one per CPU."""
    if requested is not None:
        workers = max(1, int(requested))
    else:
        workers = min(os.cpu_count() or 1, 8) if total >= PARALLEL_FROM else 1
    in_memory = connection.vendor == "sqlite" and getattr(connection, "is_in_memory_db", bool)()
    if workers > 1 and (connection.in_atomic_block or in_memory):
        return 1
    return workers


PARALLEL_FROM = 100_000


def rebuild(
    *,
    labels: Sequence[str] | None = None,
    batch_size: int = 5000,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Re-index every record of ``labels`` (default: every registered model) in bulk.

    Entries of the models are replaced; the full-text index is built once at the end. Large
    models are split into primary-key ranges whose documents are built by ``workers``
    processes (default: one per CPU) while this process writes them in key order. Returns the
    number of entries written per model label.
    """
    from vefa.platform.search import registry

    chosen = list(labels) if labels is not None else list(registry.labels())
    unknown = [label for label in chosen if label not in registry.registered()]
    if unknown:
        raise ValueError(f"not searchable: {', '.join(unknown)}")
    counts: dict[str, int] = {}
    batch_size = max(100, int(batch_size))
    totals = {label: model_for(label)._default_manager.count() for label in chosen}
    keys = [model_key(label) for label in chosen]
    with backends.BulkLoader(keys, expected_rows=sum(totals.values())) as loader:
        for label in chosen:
            started = time.monotonic()
            total = totals[label]
            processes = _parallel_workers(workers, total)
            if processes > 1:
                written = _rebuild_parallel(label, loader, batch_size, processes, total, progress)
            else:
                written = _rebuild_serial(label, loader, batch_size, total, progress)
            counts[label] = written
            logger.info(
                "search index: %s entries of %s in %.1fs (%d processes)",
                written,
                label,
                time.monotonic() - started,
                processes,
            )
    return counts


def _rebuild_serial(
    label: str,
    loader: backends.BulkLoader,
    batch_size: int,
    total: int,
    progress: Progress | None,
) -> int:
    written = seen = 0
    batch: list[dict[str, Any]] = []
    for obj in _records(label, batch_size, None, None):
        seen += 1
        row = document_row(label, obj)
        if row is not None:
            batch.append(row)
        if len(batch) >= batch_size:
            loader.write(batch)
            written += len(batch)
            batch = []
            if progress is not None:
                progress(label, seen, total)
    loader.write(batch)
    written += len(batch)
    if progress is not None:
        progress(label, seen, total)
    return written


def _rebuild_parallel(
    label: str,
    loader: backends.BulkLoader,
    batch_size: int,
    processes: int,
    total: int,
    progress: Progress | None,
) -> int:
    import multiprocessing

    from django.db import connections

    bounds = model_for(label)._default_manager.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        if progress is not None:
            progress(label, 0, total)
        return 0
    low, high = int(bounds["low"]), int(bounds["high"]) + 1
    # Ranges of about one batch each, so the pipe carries small messages and the writer
    # stays busy; results come back in key order, which keeps the index in key order.
    span = max(batch_size, (high - low) // max(1, total // batch_size or 1))
    tasks = [
        (label, start, min(start + span, high), batch_size) for start in range(low, high, span)
    ]
    # Children must not share this process's database connections, nor a connection pool
    # (a pooled connection used by two processes loses its protocol state).
    connections.close_all()
    for conn in connections.all(initialized_only=True):
        close_pool = getattr(conn, "close_pool", None)
        if callable(close_pool):
            close_pool()
    written = seen = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        for done, rows in pool.imap(_rows_of_range, tasks):
            loader.write(rows)
            written += len(rows)
            seen += done
            if progress is not None:
                progress(label, seen, total)
    return written
