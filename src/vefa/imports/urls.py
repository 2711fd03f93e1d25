"""The imports pages under /imports/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "imports"

# One module per area in ``vefa.imports.views``.
AREAS: list[str] = ["wizard"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.imports.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.imports.views.{_area}").urlpatterns
