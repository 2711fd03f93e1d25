import importlib.util
from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules that register search documents, periodic jobs, job handlers and event subscribers
# when imported.
REGISTERING_MODULES = ["search", "tasks", "tasks_email", "tasks_surveys", "subscribers"]


class ServiceConfig(AppConfig):
    name = "vefa.service"
    label = "service"
    verbose_name = _("Service")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        for module in REGISTERING_MODULES:
            if importlib.util.find_spec(f"vefa.service.{module}") is not None:
                import_module(f"vefa.service.{module}")
