"""How records become search documents: the registry apps fill.

Apps register how a record becomes a search document::

    search.register("customers.customer", customer_search_document, select_related=("owner",))

where the function returns a ``SearchDocument`` (or ``None`` to drop the record from the
index). The index is kept current by a subscriber to every ``*.created/updated/deleted``
domain event, so services do nothing special; ``rebuild()`` re-indexes everything (used after
bulk loads such as demo and benchmark data).

Who may find a record is *not* up to the builder: the access terms are computed from the
model's declared access paths (``access_owner_paths``/``access_team_paths``), the same
declaration ``vefa.accounts.access.restrict`` uses, so search and every other surface agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from vefa.platform.audit import customer_id_of
from vefa.platform.search.terms import access_terms, index_terms

MAX_TITLE = 300


@dataclass(frozen=True)
class SearchDocument:
    title: str
    subtitle: str
    text: str  # everything the record can be found by; folded by the index
    owner_id: int | None = None
    team_id: int | None = None
    customer_id: int | None = None


Builder = Callable[[Any], SearchDocument | None]
_registry: dict[str, Builder] = {}
# Extra queryset hints (select_related) per model for rebuilds.
_related: dict[str, tuple[str, ...]] = {}


def register(model_label: str, build: Builder, *, select_related: tuple[str, ...] = ()) -> None:
    """Make records of ``model_label`` searchable through ``build``."""
    _registry[model_label] = build
    _related[model_label] = select_related


def registered() -> dict[str, Builder]:
    return dict(_registry)


def labels() -> Iterable[str]:
    return list(_registry.keys())


def model_key(model_label: str) -> str:
    """The short key stored in the index (``customers.customer`` → ``customer``)."""
    return model_label.split(".", 1)[1]


def label_for_key(key: str) -> str | None:
    for label in _registry:
        if model_key(label) == key:
            return label
    return None


def model_for(label: str) -> type[models.Model]:
    return apps.get_model(label)


def owner_paths(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "access_owner_paths", ("owner",)))


def team_paths(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "access_team_paths", ("team",)))


def related_paths(label: str) -> tuple[str, ...]:
    """``select_related`` for loading records to index: the builder's hints plus every
    relation the access paths walk through (``customer__owner`` needs ``customer``)."""
    model = model_for(label)
    paths = set(_related.get(label, ()))
    for path in (*owner_paths(model), *team_paths(model)):
        parts = path.split("__")
        if len(parts) > 1:
            paths.add("__".join(parts[:-1]))
    return tuple(sorted(paths))


@functools.cache
def _path_steps(path: str) -> tuple[tuple[str, ...], str]:
    """``customer__owner`` → ((``customer``,), ``owner_id``): relations to walk, id to read."""
    parts = path.split("__")
    return tuple(parts[:-1]), f"{parts[-1]}_id"


def _resolve_id(instance: models.Model, path: str) -> int | None:
    """The id at the end of an access path, read from loaded relations (no query)."""
    value: Any = instance
    walk, last = _path_steps(path)
    for part in walk:
        value = getattr(value, part, None)
        if value is None:
            return None
    value = getattr(value, last, None)
    return int(value) if value is not None else None


def document_row(model_label: str, instance: models.Model) -> dict[str, Any] | None:
    """The index row of ``instance``, or ``None`` when it should not be in the index."""
    build = _registry.get(model_label)
    if build is None:
        return None
    doc = build(instance)
    if doc is None:
        return None
    model = type(instance)
    key = model_key(model_label)
    owners = [i for i in (_resolve_id(instance, p) for p in owner_paths(model)) if i is not None]
    teams = [i for i in (_resolve_id(instance, p) for p in team_paths(model)) if i is not None]
    customer_id = doc.customer_id if doc.customer_id is not None else customer_id_of(instance)
    return {
        "model": key,
        "object_id": int(instance.pk),
        "title": (doc.title or "")[:MAX_TITLE],
        "subtitle": (doc.subtitle or "")[:MAX_TITLE],
        "text": " ".join(index_terms(doc.title, doc.subtitle, doc.text)),
        "access": " ".join(access_terms(key, owners, teams)),
        "owner_id": doc.owner_id if doc.owner_id is not None else (owners[0] if owners else None),
        "team_id": doc.team_id if doc.team_id is not None else (teams[0] if teams else None),
        "customer_id": customer_id,
    }
