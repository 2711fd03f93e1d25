"""The marketing API under /api/v1/marketing/; each area's module adds its own router."""

from __future__ import annotations

import importlib.util
from importlib import import_module

from ninja import Router

router = Router(tags=["marketing"])

# The order fixes the order of the committed OpenAPI document.
AREAS = ["segments", "templates", "campaigns", "reports", "suppressions", "journeys", "loyalty"]

for _area in AREAS:
    if importlib.util.find_spec(f"vefa.marketing.api.{_area}") is not None:
        router.add_router("/marketing", import_module(f"vefa.marketing.api.{_area}").router)
