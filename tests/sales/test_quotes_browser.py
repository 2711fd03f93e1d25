"""Quote pages in a real browser: write a quote with htmx line rows (a product fills in its
price), and look at every quote page in English and Persian on a phone and a desktop."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def quotes(transactional_db):
    from vefa.sales.models import Product
    from vefa.sales.services.quotes import quote_create, quote_mark_sent

    team = TeamFactory(name="Tahran")
    rep = UserFactory(
        email="ayse@example.com", full_name="Ayşe Yılmaz", role=Role.SALES_REP, team=team
    )
    rep.set_password(PASSWORD)
    rep.save()
    customer = make_customer(
        owner=rep, team=team, first_name="علی", last_name="رضایی", primary_email="ali@example.ir"
    )
    product = Product.objects.create(
        sku="KHV-1", name="Türk kahvesi 250 g", list_price="120.00", currency="TRY", tax_rate="20"
    )
    draft = quote_create(
        actor=rep,
        customer=customer,
        currency="TRY",
        language="fa",
        lines=[
            {"product": product.pk, "quantity": "3"},
            {"description": "<script>alert(1)</script> خدمات نصب", "unit_price": "1500"},
        ],
        notes="تحویل در تهران",
    )
    sent = quote_create(
        actor=rep,
        customer=customer,
        currency="TRY",
        lines=[{"description": "Kurulum", "unit_price": "10"}],
    )
    sent = quote_mark_sent(actor=rep, quote_id=sent.pk)
    return {"rep": rep, "customer": customer, "product": product, "draft": draft, "sent": sent}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_write_a_quote_with_htmx_line_rows(browser, live_server, quotes):
    from vefa.sales.models import Quote

    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, quotes["rep"].email)
    page.goto(f"{reverse('sales:quote_create')}?customer={quotes['customer'].pk}")
    page.select_option("select[name=language]", "tr")
    rows = page.locator("#quote-lines tr")
    assert rows.count() == 1
    # Choosing a product fills its row from the price list through htmx.
    rows.nth(0).locator("select[name=line_product]").select_option(str(quotes["product"].pk))
    page.wait_for_function(
        "document.querySelector('#quote-lines input[name=line_unit_price]').value !== ''"
    )
    assert rows.nth(0).locator("input[name=line_unit_price]").input_value().startswith("120")
    # Add a row, fill it, add another and remove it again.
    page.click("text=Add a line")
    page.wait_for_function("document.querySelectorAll('#quote-lines tr').length === 2")
    second = page.locator("#quote-lines tr").nth(1)
    second.locator("input[name=line_description]").fill("Kurulum — İstanbul")
    second.locator("input[name=line_unit_price]").fill("250")
    page.click("text=Add a line")
    page.wait_for_function("document.querySelectorAll('#quote-lines tr').length === 3")
    page.locator("#quote-lines tr").nth(2).locator("text=Remove").click()
    page.wait_for_function("document.querySelectorAll('#quote-lines tr').length === 2")
    _shot(page, "quotes-desktop-en-form-filled")
    page.click("button:text('Save draft')")
    page.wait_for_url("**/sales/quotes/*/")
    quote = Quote.objects.exclude(pk__in=[quotes["draft"].pk, quotes["sent"].pk]).get()
    assert [x.description for x in quote.lines.all()] == [
        "Türk kahvesi 250 g",
        "Kurulum — İstanbul",
    ]
    assert str(quote.total) == "394.0000"  # 120 + 20 % tax + 250
    assert errors == []
    context.close()


def _pages(quotes) -> list[tuple[str, str]]:
    draft, sent = quotes["draft"], quotes["sent"]
    return [
        ("list", reverse("sales:quote_list")),
        ("detail-draft", reverse("sales:quote_detail", args=[draft.pk])),
        ("detail-sent", reverse("sales:quote_detail", args=[sent.pk])),
        ("create-choose", reverse("sales:quote_create")),
        ("create", f"{reverse('sales:quote_create')}?customer={quotes['customer'].pk}"),
        ("edit", reverse("sales:quote_edit", args=[draft.pk])),
        ("send", reverse("sales:quote_send", args=[draft.pk])),
    ]


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_quote_pages_on_phone_and_desktop(browser, live_server, quotes, language, direction):
    from vefa.accounts.services import user_set_language

    user_set_language(user=quotes["rep"], language=language)
    problems: list[str] = []
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        _log_in(page, quotes["rep"].email)
        for name, url in _pages(quotes):
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
                problems.append(f"{label} {name}: a text became a script element")
            _shot(page, f"quotes-{label}-{language}-{name}")
        context.close()
        problems += [f"{label}: script error {e}" for e in errors]
    assert problems == [], "\n".join(problems)
