"""Returns in a real browser: an agent records a return from an order's lines and moves it
requested → approved → pickup → in transit → received → inspected → completed through the
pages; then the return page on a phone screen in Persian (right to left)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def setup(transactional_db):
    team = TeamFactory(name="Destek")
    agent = UserFactory(
        email="zeynep@example.com", full_name="Zeynep Agent", role=Role.SERVICE_AGENT, team=team
    )
    customer = make_customer(owner=agent, team=team, first_name="Ayşe", last_name="Yılmaz")
    order = make_order(customer, [(make_product(), "3", "100")])
    return {"agent": agent, "order": order}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _step(page, status: str, fields: dict[str, str] | None = None, selects=None) -> None:
    form = page.locator(f"#step-{status}")
    for name, value in (fields or {}).items():
        form.locator(f"[name='step-{status}-{name}']").fill(value)
    for name, value in (selects or {}).items():
        form.locator(f"[name='step-{status}-{name}']").select_option(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")


def test_a_return_from_request_to_completion(page, setup):
    from vefa.service.models import ReturnRequest

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    order = setup["order"]
    line = order.lines.get()
    _log_in(page, "zeynep@example.com")

    page.goto("/service/returns/new/")
    page.fill("#order-number", order.number)
    page.click("#order-form button[type=submit]")
    page.wait_for_url(f"**/service/returns/new/?order={order.pk}")
    page.fill(f"#qty-{line.pk}", "4")
    page.select_option("select[name=reason]", "defective")
    page.fill("textarea[name=reason_detail]", "<b>Leaks</b> from the side")
    page.click("#return-form button[type=submit]")
    assert "At most 3 can still be returned" in page.locator("#line-errors").inner_text()
    page.fill(f"#qty-{line.pk}", "2")
    page.click("#return-form button[type=submit]")
    page.wait_for_url("**/service/returns/*/")
    record = ReturnRequest.objects.get()
    assert page.locator("#return-status").inner_text().strip() == "Requested"
    assert page.locator("#reason-detail").inner_text() == "<b>Leaks</b> from the side"

    _step(page, "approved")
    assert page.locator("#return-status").inner_text().strip() == "Approved"
    _step(page, "pickup", {"carrier": "Aras Kargo", "tracking_number": "AR-778"})
    _step(page, "in_transit")
    # A step without its data is refused on the page.
    _step(page, "received")
    assert page.locator("#step-received .invalid-feedback").count() >= 1
    _step(page, "received", {"storage_location": "Depo B-2"})
    _step(
        page,
        "inspected",
        {"inspection_notes": "Seal broken"},
        {"disposition": "refund"},
    )
    _step(page, "completed", {"refund_amount": "999"})
    assert "At most 240.00 TRY" in page.locator("#step-completed").inner_text()
    _step(page, "completed", {"refund_amount": "240"})
    assert page.locator("#return-status").inner_text().strip() == "Completed"
    assert page.locator("#return-steps li").count() == 7
    record.refresh_from_db()
    assert record.status == "completed" and record.refund_amount == Decimal("240.00")
    assert record.storage_location == "Depo B-2" and record.tracking_number == "AR-778"
    _shot(page, "service-return-completed")

    page.goto("/service/returns/")
    assert record.number in page.locator("#return-table-body").inner_text()
    page.locator("#rates-by-product").wait_for()
    assert "66.67" in page.locator("#rates-by-product").inner_text()
    assert errors == []


def test_return_page_on_a_phone_in_persian(page, setup):
    from vefa.service.services.returns import return_create

    order = setup["order"]
    record = return_create(
        actor=setup["agent"],
        data={"order": order.pk, "reason": "damaged", "reason_detail": "جعبه شکسته بود"},
        lines=[{"order_line": order.lines.get().pk, "quantity": "1"}],
    )
    from vefa.accounts.services import user_set_language

    user_set_language(user=setup["agent"], language="fa")
    _log_in(page, "zeynep@example.com")
    page.set_viewport_size(PHONE)
    page.goto(f"/service/returns/{record.pk}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    # Nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    assert page.locator("#step-approved").is_visible()
    _shot(page, "service-return-phone-fa")
