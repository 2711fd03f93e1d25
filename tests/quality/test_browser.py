"""In a real browser: typing a new customer shows the possible duplicates under the form,
with links, and nothing for a record of another team."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.quality.services import customer_keys_rebuild

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    from tests.e2e.conftest import CHROMIUM_ARGS  # noqa: F401 (sets the async-unsafe flag)

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)  # a loaded machine serves the first page slowly
    page = context.new_page()
    yield page
    context.close()


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_typing_a_customer_shows_visible_duplicates_only(page):
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    rep = UserFactory(role=Role.SALES_REP, team=north, email="rep@vefa.example")
    other = UserFactory(role=Role.SALES_REP, team=south)
    mine = make_customer(
        first_name="Ayşe", last_name="Yılmaz", primary_phone="+905321112233", owner=rep, team=north
    )
    hidden = make_customer(first_name="Ayşe", last_name="Yılmaz", owner=other, team=south)
    customer_keys_rebuild([mine.pk, hidden.pk])

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, rep.email)
    page.goto("/customers/new/?kind=person")
    page.fill("input[name=first_name]", "Ayse")
    page.fill("input[name=last_name]", "Yilmas")
    page.fill("input[name=phone]", "0532 111 22 33")
    warnings = page.locator("[data-testid=duplicate-warnings]")
    warnings.wait_for()
    links = warnings.locator("a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == f"/customers/{mine.pk}/"
    text = warnings.inner_text()
    assert "same phone" in text
    assert "similar name" in text
    assert errors == []
