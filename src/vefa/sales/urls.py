"""The sales pages under /sales/; each area's views module lists its own ``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "sales"

# One module per area in ``vefa.sales.views``; the order fixes nothing but readability.
AREAS = [
    "catalogue",
    "opportunities",
    "quotes",
    "orders",
    "contracts",
    "planning",
    "field",
    "customer",
]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.sales.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.sales.views.{_area}").urlpatterns
