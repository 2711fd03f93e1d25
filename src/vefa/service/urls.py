"""The service pages under /service/; each area's views module lists its own ``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "service"

# One module per area in ``vefa.service.views``.
AREAS = [
    "dashboard",
    "tickets",
    "callcentre",
    "visits",
    "returns",
    "surveys",
    "knowledge",
    "setup",
    "inbound",
    "customer",
]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.service.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.service.views.{_area}").urlpatterns
