"""A person's first steps in a real browser: log in, add a customer, log a call, read it on
the timeline, switch to Persian and see the page right to left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.interactions.models import Interaction

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


def test_a_call_logged_before_the_timeline_has_loaded_is_kept_and_shown(page, sales_rep):
    # Given a customer page whose timeline has not arrived yet (held back by the network)
    customer = CustomerFactory(owner=sales_rep, team=sales_rep.team)
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", sales_rep.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    held: list = []

    def hold(route) -> None:  # the first load waits; every later request goes through
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/interactions/customers/*/timeline/", hold)
    page.goto(f"/customers/{customer.pk}/")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the timeline was never requested"

    # When she logs a call while the timeline is still loading
    quick_add = page.locator("#quick-add")
    quick_add.locator("select[name=i-kind]").select_option("call")
    quick_add.locator("input[name=i-subject]").fill("Asked for the catalogue")
    assert page.locator("#customer-timeline").count() == 0
    quick_add.locator("button[type=submit]").click()
    page.wait_for_timeout(300)
    held[0].continue_()

    # Then the call is saved once and shown on the timeline, not hidden by the older list
    page.locator("#customer-timeline").get_by_text("Asked for the catalogue").wait_for()
    page.wait_for_timeout(500)
    assert page.locator("#customer-timeline").get_by_text("Asked for the catalogue").count() == 1
    assert Interaction.objects.filter(subject="Asked for the catalogue").count() == 1
