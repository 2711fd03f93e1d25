"""The service API under /api/v1/service/; each area's module adds its own router."""

from __future__ import annotations

import importlib.util
from importlib import import_module

from ninja import Router

router = Router(tags=["service"])

# The order fixes the order of the committed OpenAPI document.
AREAS = ["tickets", "inbound", "returns", "surveys", "knowledge", "setup", "metrics"]

for _area in AREAS:
    if importlib.util.find_spec(f"vefa.service.api.{_area}") is not None:
        router.add_router("/service", import_module(f"vefa.service.api.{_area}").router)
