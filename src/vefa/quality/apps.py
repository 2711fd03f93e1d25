import importlib.util
from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules that register job handlers, periodic jobs and event subscribers when imported.
REGISTERING_MODULES = ["tasks", "jobs", "subscribers", "filters"]


class QualityConfig(AppConfig):
    name = "vefa.quality"
    label = "quality"
    verbose_name = _("Data quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        for module in REGISTERING_MODULES:
            if importlib.util.find_spec(f"vefa.quality.{module}") is not None:
                import_module(f"vefa.quality.{module}")
