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


def next_best_products_many(customer_ids: list[int], limit: int) -> dict[int, list[dict[str, str]]]:
    """``next_best_products`` for a whole sending batch: two queries, whatever its size."""
    from vefa.analytics.models import CustomerScore
    from vefa.sales.models import Product

    wanted: dict[int, list[int]] = {}
    for customer_id, ids in CustomerScore.objects.filter(
        customer_id__in=list(customer_ids)
    ).values_list("customer_id", "next_best"):
        wanted[customer_id] = [
            pk for pk in (ids if isinstance(ids, list) else []) if isinstance(pk, int)
        ][:limit]
    every = {pk for ids in wanted.values() for pk in ids}
    found = {
        product.pk: product
        for product in Product.objects.filter(pk__in=every, is_active=True).only(
            "pk", "sku", "name"
        )
    }
    return {
        customer_id: [
            {"name": found[pk].name, "sku": found[pk].sku, "url": ""}
            for pk in wanted.get(customer_id, [])
            if pk in found
        ]
        for customer_id in customer_ids
    }


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

        register_recommendation_source(next_best_products, many=next_best_products_many)
