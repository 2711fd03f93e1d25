"""Every sales page, in English and Persian on a phone: 200, right direction, no script
error, nothing wider than the screen, hostile text never becomes markup. Screenshots go to
test-results/screenshots/ next to the other pages'."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.e2e.test_page_tour import check_pages
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sales_tour(transactional_db):
    """An administrator with a product, a deal, a quote, an order, a contract and a visit."""
    from vefa.customers.services import customer_create
    from vefa.sales.models import Pipeline, PriceList
    from vefa.sales.services.catalogue import product_create
    from vefa.sales.services.contracts import contract_create
    from vefa.sales.services.field import visit_plan
    from vefa.sales.services.opportunities import opportunity_create
    from vefa.sales.services.orders import order_create
    from vefa.sales.services.quotes import quote_create

    admin = UserFactory(
        email="admin@example.com",
        full_name="Zeynep Kaya",
        role=Role.ADMIN,
        team=TeamFactory(name="Istanbul"),
        is_staff=True,
        is_superuser=True,
    )
    customer = customer_create(
        actor=admin,
        data={"kind": "person", "first_name": "Ali", "last_name": "Rezaei <script>x</script>"},
        email="ali@example.com",
    )
    product = product_create(
        actor=admin,
        sku="KHV-001",
        name="Türk kahvesi <script>x</script>",
        list_price="120.00",
        unit_cost="70.00",
        currency="TRY",
        tax_rate="20",
    )
    line = {"product": product.pk, "quantity": "2", "unit_price": "120.00"}
    opportunity = opportunity_create(
        actor=admin,
        data={
            "name": "Kahve makinesi — فروش",
            "customer": customer.pk,
            "amount": "2400",
            "expected_close_date": (timezone.localdate() + datetime.timedelta(days=20)),
        },
    )
    quote = quote_create(
        actor=admin, customer=customer, currency="TRY", opportunity=opportunity, lines=[line]
    )
    order = order_create(actor=admin, customer=customer, currency="TRY", lines=[line])
    contract = contract_create(
        actor=admin,
        customer_id=customer.pk,
        title="Bakım sözleşmesi",
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + datetime.timedelta(days=365),
        value=Decimal("12000"),
    )
    visit_plan(
        actor=admin,
        customer_id=customer.pk,
        due_at=timezone.now() + datetime.timedelta(hours=1),
        location="Bağdat Cd. 1, İstanbul",
    )
    return {
        "admin": admin,
        "customer": customer,
        "product": product,
        "opportunity": opportunity,
        "quote": quote,
        "order": order,
        "contract": contract,
        "pipeline": Pipeline.objects.get(kind="new_business", is_default=True),
        "price_list": PriceList.objects.first(),
    }


def _pages(t: dict) -> list[tuple[str, str]]:
    pages = [
        ("sales-my-day", reverse("sales:my_day")),
        ("sales-board", reverse("sales:board")),
        ("sales-opportunity-list", reverse("sales:opportunity_list")),
        (
            "sales-opportunity-detail",
            reverse("sales:opportunity_detail", args=[t["opportunity"].pk]),
        ),
        ("sales-opportunity-create", reverse("sales:opportunity_create")),
        ("sales-quote-list", reverse("sales:quote_list")),
        ("sales-quote-detail", reverse("sales:quote_detail", args=[t["quote"].pk])),
        ("sales-quote-create", reverse("sales:quote_create") + f"?customer={t['customer'].pk}"),
        ("sales-order-list", reverse("sales:order_list")),
        ("sales-order-detail", reverse("sales:order_detail", args=[t["order"].pk])),
        ("sales-order-create", reverse("sales:order_create") + f"?customer={t['customer'].pk}"),
        ("sales-order-import", reverse("sales:order_import")),
        ("sales-contract-list", reverse("sales:contract_list")),
        ("sales-contract-detail", reverse("sales:contract_detail", args=[t["contract"].pk])),
        ("sales-contract-create", reverse("sales:contract_create")),
        ("sales-target-list", reverse("sales:target_list")),
        ("sales-forecast", reverse("sales:forecast")),
        ("sales-analysis", reverse("sales:analysis")),
        ("sales-product-list", reverse("sales:product_list")),
        ("sales-product-detail", reverse("sales:product_detail", args=[t["product"].pk])),
        ("sales-product-create", reverse("sales:product_create")),
        ("sales-pricelist-list", reverse("sales:pricelist_list")),
        ("sales-exchange-rates", reverse("sales:exchange_rate_list")),
        ("sales-competitors", reverse("sales:competitor_list")),
        ("sales-pipelines", reverse("sales:pipeline_list")),
        ("sales-customer-360", reverse("customers:detail", args=[t["customer"].pk])),
    ]
    if t["price_list"] is not None:
        pages.append(
            ("sales-pricelist-detail", reverse("sales:pricelist_detail", args=[t["price_list"].pk]))
        )
    return pages


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_every_sales_page_renders_in_both_directions_on_a_phone(
    browser, live_server, sales_tour, language, direction
):
    check_pages(browser, live_server, sales_tour["admin"], language, direction, _pages(sales_tour))
