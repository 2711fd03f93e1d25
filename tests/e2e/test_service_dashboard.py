"""The service dashboard in a real browser: filters by period and agent, the high-value list
linking to its ticket, and the page on a phone in English and Persian (right to left)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.e2e.test_page_tour import DESKTOP, PASSWORD, check_pages
from tests.factories import TeamFactory, UserFactory
from tests.service.test_metrics_figures import make_ticket
from vefa.accounts.choices import Role
from vefa.service.choices import TicketStatus, TicketType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(transactional_db):
    team = TeamFactory(name="Destek")
    agent = UserFactory(
        email="zeynep@example.com", full_name="Zeynep Agent", role=Role.SERVICE_AGENT, team=team
    )
    other = UserFactory(full_name="Emre Agent", role=Role.SERVICE_AGENT, team=team)
    customer = make_customer(owner=agent, team=team, first_name="Ayşe", last_name="Yılmaz")
    now = timezone.now()
    for days, owner in ((2, agent), (10, agent), (50, other)):
        opened = now - datetime.timedelta(days=days)
        make_ticket(
            opened=opened,
            owner=owner,
            team=team,
            customer=customer,
            type=TicketType.COMPLAINT,
            status=TicketStatus.RESOLVED,
            first_responded_at=opened + datetime.timedelta(hours=2),
            resolved_at=opened + datetime.timedelta(hours=6),
            reply_count=1,
        )
    hot = make_ticket(
        opened=now - datetime.timedelta(days=1),
        owner=other,
        team=team,
        customer=customer,
        type=TicketType.COMPLAINT,
        status=TicketStatus.OPEN,
        value_class="A",
        subject="Soğuk radyatör <script>x</script>",
    )
    return {"agent": agent, "other": other, "hot": hot}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_filters_and_the_high_value_list(browser, live_server, desk):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, desk["agent"].email)
    page.goto(reverse("service:dashboard"))
    kpis = page.locator("#service-kpis")
    assert "median 4.0 h" not in kpis.inner_text()
    assert "median 2.0 h · p90 2.0 h" in kpis.inner_text()  # two tickets in 30 days
    page.select_option("select[name=period]", "90")
    page.click("#service-dashboard-filters button[type=submit]")
    page.wait_for_url("**period=90**")
    assert page.locator("#service-kpis .vefa-kpi").first.inner_text().strip().endswith("4")
    page.select_option("select[name=agent]", label="Emre Agent")
    page.click("#service-dashboard-filters button[type=submit]")
    page.wait_for_url("**agent=**")
    rows = page.locator("#panel-agents tbody tr")
    assert rows.count() == 1 and "Emre Agent" in rows.first.inner_text()
    link = page.locator("#panel-high-value tbody a").first
    assert "<script>" in page.locator("#panel-high-value tbody").inner_text()  # shown as text
    assert page.locator("#panel-high-value script").count() == 0
    link.click()
    page.wait_for_url(f"**/service/tickets/{desk['hot'].pk}/")
    context.close()
    assert errors == [], errors


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_dashboard_on_a_phone(browser, live_server, desk, language, direction):
    url = reverse("service:dashboard")
    check_pages(
        browser,
        live_server,
        desk["agent"],
        language,
        direction,
        [("service-dashboard", url), ("service-dashboard-year", url + "?period=365")],
    )
