"""The sales API under /api/v1/sales/; each area's module adds its own router."""

from __future__ import annotations

import importlib.util
from importlib import import_module

from ninja import Router

router = Router(tags=["sales"])

# The order fixes the order of the committed OpenAPI document.
AREAS = ["catalogue", "opportunities", "quotes", "orders", "contracts", "planning", "field"]

for _area in AREAS:
    if importlib.util.find_spec(f"vefa.sales.api.{_area}") is not None:
        router.add_router("/sales", import_module(f"vefa.sales.api.{_area}").router)
