"""The exports pages under /exports/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "exports"

# One module per area in ``vefa.exports.views``.
AREAS: list[str] = ["exports", "schedules"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.exports.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.exports.views.{_area}").urlpatterns
