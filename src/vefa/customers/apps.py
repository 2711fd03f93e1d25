from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "vefa.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Search documents register themselves on import.
        from vefa.customers import search  # noqa: F401
