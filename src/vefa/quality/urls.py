"""The quality pages under /quality/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "quality"

# One module per area in ``vefa.quality.views``.
AREAS: list[str] = ["dashboard", "checks"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.quality.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.quality.views.{_area}").urlpatterns
