"""The catalogue pages in real Chromium: English and Persian, phone and desktop width,
nothing wider than the screen, no script errors; a price is added and removed in place.
Screenshots land in test-results/catalogue/ for people to look at."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "catalogue"
PASSWORD = "correct-horse-battery"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def catalogue(transactional_db):
    from vefa.platform.models import Tag
    from vefa.sales.models import (
        Competitor,
        ExchangeRate,
        PriceList,
        PriceListItem,
        Product,
        ProductCategory,
    )

    manager = UserFactory(
        email="manager@example.com",
        full_name="Zeynep Kaya",
        role=Role.SALES_MANAGER,
        team=TeamFactory(name="Istanbul"),
    )
    manager.set_password(PASSWORD)
    manager.save()
    drinks = ProductCategory.objects.create(name="İçecek")
    coffee = ProductCategory.objects.create(name="Kahve · قهوه", parent=drinks)
    product = Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi 250 g — قهوه ترک <script>x</script>",
        description="Orta kavrulmuş.\nبرشته متوسط",
        category=coffee,
        list_price=Decimal("120"),
        unit_cost=Decimal("70"),
        tax_rate=Decimal("20"),
    )
    Product.objects.create(
        sku="CAJ-2", name="Čaj od nane", list_price=Decimal("350"), currency="RSD"
    )
    Product.objects.create(
        sku="IRR-3", name="چای سبز", list_price=Decimal("1250000"), currency="IRR", is_active=False
    )
    group = Tag.objects.create(name="Toptan", slug="toptan")
    price_list = PriceList.objects.create(
        name="Toptan 2026",
        currency="TRY",
        customer_group=group,
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 12, 31),
    )
    PriceListItem.objects.create(
        price_list=price_list, product=product, min_quantity=Decimal(10), unit_price=Decimal("99.9")
    )
    ExchangeRate.objects.create(
        day=datetime.date(2026, 11, 24), currency="EUR", quote_currency="TRY", rate=Decimal("36.42")
    )
    Competitor.objects.create(name="Rakip Kahve A.Ş.", website="rakip.example", notes="Ucuz")
    return {"manager": manager, "product": product, "price_list": price_list}


def _pages(data) -> list[tuple[str, str]]:
    return [
        ("products", reverse("sales:product_list")),
        ("product", reverse("sales:product_detail", args=[data["product"].pk])),
        ("product-form", reverse("sales:product_edit", args=[data["product"].pk])),
        ("categories", reverse("sales:category_list")),
        ("price-lists", reverse("sales:pricelist_list")),
        ("price-list", reverse("sales:pricelist_detail", args=[data["price_list"].pk])),
        ("exchange-rates", reverse("sales:exchange_rate_list")),
        ("competitors", reverse("sales:competitor_list")),
        ("pipelines", reverse("sales:pipeline_list")),
    ]


def _context(browser, live_server, user, language: str, size: str):
    from vefa.accounts.services import user_set_language

    user_set_language(user=user, language=language)
    context = browser.new_context(base_url=live_server.url, viewport=SIZES[size])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return context, page


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_catalogue_pages_fit_the_screen_in_both_directions(
    browser,
    live_server,
    catalogue,
    language,
    direction,
    size,
):
    context, page = _context(browser, live_server, catalogue["manager"], language, size)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, url in _pages(catalogue):
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        if response is None or response.status != 200:
            problems.append(f"{name}: HTTP {response.status if response else '?'}")
            continue
        if page.locator("html").get_attribute("dir") != direction:
            problems.append(f"{name}: dir is not {direction}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 2:
            problems.append(f"{name}: {overflow}px wider than the screen")
        if page.locator("script:text('x')").count():
            problems.append(f"{name}: a product's text became a script element")
        page.screenshot(path=str(SCREENSHOTS / f"{size}-{language}-{name}.png"), full_page=True)
    context.close()
    assert errors == [], errors
    assert problems == [], "\n".join(problems)


def test_a_price_is_added_and_removed_in_place(browser, live_server, catalogue):
    from vefa.sales.models import PriceListItem

    context, page = _context(browser, live_server, catalogue["manager"], "en", "desktop")
    url = reverse("sales:pricelist_detail", args=[catalogue["price_list"].pk])
    page.goto(url)
    page.fill("#price-form input[name=product]", "KHV-001")
    page.fill("#price-form input[name=min_quantity]", "50")
    page.fill("#price-form input[name=unit_price]", "89,50")
    page.click("#price-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#price-rows tr[id^=price-]').length == 2")
    assert page.url.endswith(url)  # no page load: the row came in place
    added = PriceListItem.objects.get(min_quantity=Decimal(50))
    assert added.unit_price == Decimal("89.5")
    assert page.locator("#price-form input[name=product]").input_value() == ""
    page.click(f"#price-{added.pk} button[type=submit]")
    page.wait_for_selector(f"#price-{added.pk}", state="detached")
    assert not PriceListItem.objects.filter(pk=added.pk).exists()
    context.close()
