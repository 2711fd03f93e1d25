"""The privacy pages under /privacy/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "privacy"

# One module per area in ``vefa.privacy.views``.
AREAS: list[str] = ["requests"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.privacy.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.privacy.views.{_area}").urlpatterns
