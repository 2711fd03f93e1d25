import importlib.util
from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules that register job handlers, periodic jobs and event subscribers when imported.
REGISTERING_MODULES = ["tasks", "subscribers"]


class IntegrationsConfig(AppConfig):
    name = "vefa.integrations"
    label = "integrations"
    verbose_name = _("Integrations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        for module in REGISTERING_MODULES:
            if importlib.util.find_spec(f"vefa.integrations.{module}") is not None:
                import_module(f"vefa.integrations.{module}")
