from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "vefa.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # The customer lists learn the analytic filters, and the job handlers and the nightly
        # refresh register themselves, without any domain app importing analytics.
        from vefa.analytics import tasks  # noqa: F401
        from vefa.analytics.filters import CustomerAnalyticsFilters
        from vefa.customers.filters import register_filter_extension

        register_filter_extension("customers.customer", CustomerAnalyticsFilters())
