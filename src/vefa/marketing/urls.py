"""The marketing pages under /marketing/; each area's views module lists its own
``urlpatterns``."""

from __future__ import annotations

import importlib.util
from importlib import import_module

app_name = "marketing"

# One module per area in ``vefa.marketing.views``.
AREAS = [
    "dashboard",
    "segments",
    "templates",
    "campaigns",
    "reports",
    "suppressions",
    "tracking",
    "journeys",
    "loyalty",
    "referrals",
    "setup",
    "customer",
]

urlpatterns: list[object] = []
for _area in AREAS:
    if importlib.util.find_spec(f"vefa.marketing.views.{_area}") is not None:
        urlpatterns += import_module(f"vefa.marketing.views.{_area}").urlpatterns
