from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "vefa.interactions"
    label = "interactions"
    verbose_name = _("Contact history")

    def ready(self) -> None:
        # The search registration and the periodic reminder job register themselves on import.
        from vefa.interactions import search, tasks  # noqa: F401
