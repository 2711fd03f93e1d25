"""The order pages in a real browser (Chromium via Playwright): add line rows with htmx, the
price filled from the catalogue, and every order page in English and Persian on a phone and
a desktop screen (no sideways scrolling, right-to-left in Persian, no script injection)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def shop(transactional_db):
    from vefa.sales.models import Product
    from vefa.sales.services.orders import (
        order_create,
        order_set_status,
        payment_create,
        shipment_create,
    )

    team = TeamFactory(name="Istanbul")
    rep = UserFactory(
        email="ayse@example.com", full_name="Ayşe Yılmaz", role=Role.SALES_REP, team=team
    )
    customer = make_customer(owner=rep, team=team, first_name="Mehmet", last_name="Öztürk")
    persian = make_customer(owner=rep, team=team, first_name="علی", last_name="رضایی")
    Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi 250 g",
        list_price=Decimal("120.00"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )
    order = order_create(
        actor=rep,
        customer=customer,
        lines=[
            {
                "sku": "KHV-001",
                "description": "Türk kahvesi 250 g",
                "quantity": "12",
                "unit_price": "120",
                "tax_rate": "20",
            },
            {
                "description": "<script>alert(1)</script> Kurulum ve eğitim hizmeti, iki gün",
                "quantity": "1",
                "unit_price": "4500",
                "discount_percent": "10",
            },
        ],
        currency="TRY",
        notes="Teslimat öncesi arayın. " * 10,
        shipping_address="Bağdat Caddesi 123\nKadıköy / İstanbul",
    )
    order_set_status(actor=rep, order_id=order.pk, status="confirmed")
    shipment_create(
        actor=rep,
        order_id=order.pk,
        carrier="Yurtiçi Kargo",
        tracking_number="YK-4471-2231-99",
        status="in_transit",
    )
    payment_create(actor=rep, order_id=order.pk, amount="1000", reference="EFT 20260501")
    rial = order_create(
        actor=rep,
        customer=persian,
        lines=[
            {"description": "قهوه ترک", "quantity": "3", "unit_price": "1250000", "tax_rate": "9"}
        ],
        currency="IRR",
        source="ecommerce",
        external_id="SHOP-99812",
    )
    return {"rep": rep, "customer": customer, "order": order, "rial": rial}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_add_lines_and_fill_the_price(browser, live_server, shop):
    from vefa.sales.models import Order

    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, shop["rep"].email)
    page.goto(reverse("sales:order_create") + f"?customer={shop['customer'].pk}")
    page.fill("input[name='lines-0-sku']", "KHV-001")
    page.press("input[name='lines-0-sku']", "Tab")
    page.wait_for_function(
        "document.querySelector(\"input[name='lines-0-unit_price']\").value === '120'"
    )
    assert page.input_value("input[name='lines-0-description']") == "Türk kahvesi 250 g"
    page.click("#add-line")
    page.wait_for_selector("input[name='lines-1-description']")
    page.fill("input[name='lines-1-description']", "Kurulum")
    page.fill("input[name='lines-1-unit_price']", "50")
    page.click("#add-line")
    page.wait_for_selector("input[name='lines-2-description']")
    assert page.locator("#order-lines tr").count() == 3
    page.click("form.row button.btn-primary[type=submit]")
    page.wait_for_url("**/sales/orders/*/")
    order = Order.objects.order_by("-pk").first()
    assert order is not None and order.lines.count() == 2
    assert order.total == Decimal("194.00")  # 120 + 20 % tax, plus 50
    context.close()
    assert errors == []


def _pages(shop):
    order, rial = shop["order"], shop["rial"]
    return [
        ("order-list", reverse("sales:order_list")),
        ("order-detail", reverse("sales:order_detail", args=[order.pk])),
        ("order-detail-irr", reverse("sales:order_detail", args=[rial.pk])),
        ("order-create", reverse("sales:order_create") + f"?customer={shop['customer'].pk}"),
        ("order-edit", reverse("sales:order_edit", args=[rial.pk])),
        ("order-import", reverse("sales:order_import")),
    ]


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_order_pages_on_phone_and_desktop(browser, live_server, shop, language, direction):
    from vefa.accounts.services import user_set_language

    user_set_language(user=shop["rep"], language=language)
    problems: list[str] = []
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        _log_in(page, shop["rep"].email)
        for name, url in _pages(shop):
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            if response is None or response.status != 200:
                problems.append(f"{label} {name}: HTTP {response.status if response else '?'}")
                continue
            if page.locator("html").get_attribute("dir") != direction:
                problems.append(f"{label} {name}: dir is not {direction}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 2:
                problems.append(f"{label} {name}: {overflow}px wider than the screen")
            if page.locator("script:text('alert(1)')").count():
                problems.append(f"{label} {name}: a description became a script element")
            _shot(page, f"orders-{label}-{language}-{name}")
        context.close()
        problems += [f"{label}: script error {e}" for e in errors]
    assert problems == [], "\n".join(problems)
