"""The integrations pages under /integrations/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "integrations"

# One module per area in ``vefa.integrations.views``.
AREAS: list[str] = ["webhooks", "sources", "vcard"]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.integrations.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.integrations.views.{_area}").urlpatterns
