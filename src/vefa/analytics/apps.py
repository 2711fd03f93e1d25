from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def customer_value_class(customer_id: int) -> str:
    """The customer's value class ("A", "B", "C") from the latest scores; "" when unscored.

    The service app routes tickets and picks SLA policies by it (registered in ``ready``).
    """
    from vefa.analytics.models import CustomerScore

    value = (
        CustomerScore.objects.filter(customer_id=customer_id)
        .values_list("value_class", flat=True)
        .first()
    )
    return str(value or "")


def next_best_products(customer_id: int, limit: int) -> list[dict[str, str]]:
    """The customer's next-best products (name, SKU, page), best first; campaign messages
    show them in their product block (registered in ``ready``)."""
    from vefa.analytics.models import CustomerScore
    from vefa.sales.models import Product

    ids = (
        CustomerScore.objects.filter(customer_id=customer_id)
        .values_list("next_best", flat=True)
        .first()
    )
    wanted = [pk for pk in (ids if isinstance(ids, list) else []) if isinstance(pk, int)][:limit]
    products = Product.objects.filter(pk__in=wanted, is_active=True).only("pk", "sku", "name")
    found = {product.pk: product for product in products}
    return [
        {"name": found[pk].name, "sku": found[pk].sku, "url": ""} for pk in wanted if pk in found
    ]


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

        # New tickets record their customer's value class (routing and SLA policies use it).
        from vefa.service.services.assignment import register_value_class_source

        register_value_class_source(customer_value_class)

        # Campaign messages recommend the customer's next-best products.
        from vefa.marketing.rendering import register_recommendation_source

        register_recommendation_source(next_best_products)
