import importlib.util
from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules that register filter extensions, periodic jobs, job handlers and event subscribers
# when imported.
REGISTERING_MODULES = [
    "filters",
    "search",
    "tasks_segments",
    "tasks_sending",
    "tasks_journeys",
    "tasks_loyalty",
    "subscribers_sending",
    "subscribers_loyalty",
    "subscribers_reports",
]


class MarketingConfig(AppConfig):
    name = "vefa.marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        for module in REGISTERING_MODULES:
            if importlib.util.find_spec(f"vefa.marketing.{module}") is not None:
                import_module(f"vefa.marketing.{module}")
