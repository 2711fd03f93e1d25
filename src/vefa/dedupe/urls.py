"""The dedupe pages under /dedupe/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "dedupe"

# One module per area in ``vefa.dedupe.views``.
AREAS: list[str] = ["clusters"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.dedupe.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.dedupe.views.{_area}").urlpatterns
