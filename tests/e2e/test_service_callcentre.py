"""The call-centre screen in a real browser: the caller appears while the number is typed,
the agent logs the call and opens a ticket with the keyboard in one step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def setup(transactional_db):
    from vefa.customers.models import ContactPoint
    from vefa.service.models import Queue

    team = TeamFactory(name="Çağrı merkezi")
    agent = UserFactory(
        email="zeynep@example.com", full_name="Zeynep Agent", role=Role.SERVICE_AGENT, team=team
    )
    caller = make_customer(
        owner=agent,
        team=team,
        first_name="Mehmet",
        last_name="Arayan",
        primary_phone="+905321234567",
    )
    ContactPoint.objects.create(
        customer=caller, kind="mobile", value="0532 123 45 67", normalized="+905321234567"
    )
    Queue.objects.create(name="Destek", team=team, is_default=True)
    return {"agent": agent, "caller": caller}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_look_up_while_typing_then_log_the_call_and_open_a_ticket(page, setup):
    from vefa.interactions.models import Interaction
    from vefa.service.models import Ticket

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, "zeynep@example.com")
    page.goto("/service/call-centre/")
    phone = page.locator("#id_phone")
    assert phone.evaluate("el => el === document.activeElement")
    phone.press_sequentially("(0532) 123-45-67", delay=20)
    # Enter in the number field looks the caller up; it never saves an empty call.
    phone.press("Enter")
    match = page.locator(f".caller-match[data-customer='{setup['caller'].pk}']")
    match.wait_for()
    assert "Mehmet Arayan" in match.inner_text()
    # The only exact match is chosen already; the rest is done from the keyboard.
    assert page.locator(f"#caller-{setup['caller'].pk}").is_checked()
    assert not Interaction.objects.exists()
    page.locator("#id_notes").fill("The grinder is noisy")
    page.locator("#id_duration_minutes").fill("6")
    page.locator("#id_open_ticket").check()
    page.locator("#id_ticket_subject").fill("Noisy grinder")
    page.locator("#id_ticket_type").select_option("complaint")
    page.locator("#id_ticket_subject").press("Enter")
    page.wait_for_url("**/service/call-centre/")
    assert "opened" in page.content()
    ticket = Ticket.objects.get()
    assert ticket.channel == "call_centre" and ticket.customer == setup["caller"]
    call = Interaction.objects.get(kind="call")
    assert call.related_id == ticket.pk and call.duration_minutes == 6
    assert errors == []


def test_unknown_number_on_a_phone_offers_a_new_customer(page, setup):
    _log_in(page, "zeynep@example.com")
    page.set_viewport_size(PHONE)
    page.goto("/service/call-centre/")
    page.locator("#id_phone").press_sequentially("0212 555 00 00", delay=20)
    page.locator("#no-match").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "service-call-centre-phone.png"), full_page=True)
    page.locator("#no-match a").click()
    page.wait_for_url("**/customers/new/**")
    assert page.locator("input[name=phone]").input_value() == "0212 555 00 00"
