from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "vefa.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # Search documents, periodic jobs and job handlers register themselves on import.
        from vefa.sales import search, tasks  # noqa: F401
        from vefa.sales.services import orders_import  # noqa: F401
