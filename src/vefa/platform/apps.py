from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "vefa.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        # Subscribers and periodic jobs register themselves on import.
        from vefa.platform import subscribers, tasks  # noqa: F401
