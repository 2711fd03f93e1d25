"""Entity adapters: one module per kind of record an import can write.

``register`` adds an adapter class; ``adapter_for(entity)`` returns an instance;
``entities()`` lists the registered names. Modules named in ``ADAPTER_MODULES`` that exist
are imported on first use.
"""

from __future__ import annotations

import importlib.util
from importlib import import_module

from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.imports.entities.base import EntityAdapter

ADAPTER_MODULES = (
    "customers",
    "contacts",
    "leads",
    "products",
    "orders",
    "interactions",
    "tickets",
)
_registry: dict[str, type[EntityAdapter]] = {}
_loaded = False


def register(cls: type[EntityAdapter]) -> type[EntityAdapter]:
    _registry[cls.entity] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in ADAPTER_MODULES:
        if importlib.util.find_spec(f"vefa.imports.entities.{name}") is not None:
            import_module(f"vefa.imports.entities.{name}")


def entities() -> list[str]:
    _load()
    return sorted(_registry)


def adapter_for(entity: str) -> EntityAdapter:
    _load()
    cls = _registry.get(entity)
    if cls is None:
        message = _("Unknown kind of import: %(name)s.") % {"name": str(entity)[:50]}
        raise ValidationFailed(message, fields={"entity": [message]})
    return cls()
