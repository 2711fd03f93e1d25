"""A person's first steps in a real browser: log in, add a customer, log a call, read it on
the timeline, switch to Persian and see the page right to left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def sales_rep(transactional_db):
    return UserFactory(
        email="ayse@example.com",
        full_name="Ayşe Yılmaz",
        role=Role.SALES_REP,
        team=TeamFactory(name="Istanbul"),
    )


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_log_in_add_customer_log_call_and_read_it_in_persian(page, sales_rep):
    # Given a sales representative on the login page
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", sales_rep.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # When she adds a customer
    page.goto("/customers/new/?kind=person")
    page.fill("input[name=first_name]", "Mehmet")
    page.fill("input[name=last_name]", "Öztürk <b>VIP</b>")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/customers/*/")
    assert page.locator("h1").first.inner_text().strip().startswith("Mehmet Öztürk <b>VIP</b>")
    customer_url = page.url

    # And logs a call from the quick-add form on the customer page
    quick_add = page.locator("#quick-add")
    quick_add.locator("select[name=i-kind]").select_option("call")
    quick_add.locator("input[name=i-subject]").fill("Called about the spring offer")
    quick_add.locator("button[type=submit]").click()

    # Then the call is on the customer's timeline
    timeline = page.locator("#customer-timeline")
    timeline.get_by_text("Called about the spring offer").wait_for()
    _shot(page, "customer-360-ltr")

    # When she switches the interface to Persian
    page.locator("nav .dropdown-toggle").last.click()
    page.locator("button[lang=fa]").click()
    page.wait_for_load_state()
    page.goto(customer_url)

    # Then the page is right to left and the call is still there
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "fa"
    page.locator("#customer-timeline").get_by_text("Called about the spring offer").wait_for()
    _shot(page, "customer-360-rtl")
