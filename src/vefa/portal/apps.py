from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "vefa.portal"
    label = "portal"
    verbose_name = _("Customer portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the background tasks and the periodic purge of old sign-in links.
        from vefa.portal import tasks  # noqa: F401
