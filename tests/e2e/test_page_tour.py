"""Every page, in English (left to right) and Persian (right to left), on a phone-sized
screen: it answers 200, has the right direction, raises no script error and nothing is wider
than the screen. Screenshots land in test-results/screenshots/ for people to look at."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def tour(transactional_db):
    """An administrator with a little of everything: customers, a lead, a call, a meeting."""
    from vefa.customers.services import customer_create, lead_create
    from vefa.interactions.services import activity_create, interaction_create

    admin = UserFactory(
        email="admin@example.com",
        full_name="Zeynep Kaya",
        role=Role.ADMIN,
        team=TeamFactory(name="Istanbul"),
        is_staff=True,
        is_superuser=True,
    )
    person = customer_create(
        actor=admin,
        data={"kind": "person", "first_name": "Ali", "last_name": "Rezaei <script>x</script>"},
        email="ali@example.com",
        phone="+98 912 345 6789",
        tags=["VIP"],
    )
    firm = customer_create(
        actor=admin,
        data={"kind": "organisation", "legal_name": "Beograd Trgovina d.o.o.", "trade_name": "BT"},
    )
    lead = lead_create(
        actor=admin, data={"first_name": "Lale", "last_name": "Demir", "company_name": "Demir AŞ"}
    )
    call = interaction_create(
        actor=admin, customer_id=person.pk, kind="call", subject="سلام — تماس اول"
    )
    now = timezone.now()
    meeting = activity_create(
        actor=admin,
        kind="meeting",
        subject="Quarterly review",
        customer_id=firm.pk,
        start_at=now + datetime.timedelta(hours=2),
        end_at=now + datetime.timedelta(hours=3),
    )
    return {
        "admin": admin,
        "person": person,
        "firm": firm,
        "lead": lead,
        "call": call,
        "meeting": meeting,
    }


def _pages(t: dict) -> list[tuple[str, str]]:
    return [
        ("dashboard", reverse("platform:dashboard")),
        ("customer-list", reverse("customers:list")),
        ("customer-detail", reverse("customers:detail", args=[t["person"].pk])),
        ("organisation-detail", reverse("customers:detail", args=[t["firm"].pk])),
        ("customer-create", reverse("customers:create")),
        ("customer-edit", reverse("customers:edit", args=[t["person"].pk])),
        ("lead-list", reverse("customers:lead_list")),
        ("lead-detail", reverse("customers:lead_detail", args=[t["lead"].pk])),
        ("lead-create", reverse("customers:lead_create")),
        ("lead-convert", reverse("customers:lead_convert", args=[t["lead"].pk])),
        ("interaction-detail", reverse("interactions:detail", args=[t["call"].pk])),
        ("activity-list", reverse("interactions:activity_list")),
        ("activity-detail", reverse("interactions:activity_detail", args=[t["meeting"].pk])),
        ("activity-create", reverse("interactions:activity_create")),
        ("calendar-month", reverse("interactions:calendar") + "?view=month"),
        ("calendar-week", reverse("interactions:calendar") + "?view=week"),
        ("calendar-day", reverse("interactions:calendar") + "?view=day"),
        ("ics-info", reverse("interactions:ics_info")),
        ("search", reverse("platform:search") + "?q=ali"),
        ("notifications", reverse("platform:notifications")),
        ("changelog", reverse("platform:changelog")),
        ("tokens", reverse("accounts:tokens")),
        ("profile", reverse("accounts:profile")),
        ("record-access", reverse("accounts:record_access")),
    ]


def _log_in(page, email: str, language: str) -> None:
    page.context.add_cookies(
        [{"name": "vefa_language", "value": language, "url": page.context.base_url}]
        if hasattr(page.context, "base_url")
        else []
    )
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def check_pages(browser, live_server, user, language: str, direction: str, pages) -> None:
    """Open every page as ``user`` in ``language`` on a phone and report every problem."""
    from vefa.accounts.services import user_set_language

    user_set_language(user=user, language=language)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, user.email, language)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, url in pages:
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
            culprits = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                .filter(e => { const r = e.getBoundingClientRect();
                  return r.right > document.documentElement.clientWidth + 1 || r.left < -1; })
                .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
            )
            problems.append(f"{name}: {overflow}px wider than a phone screen: {culprits}")
        if page.locator("script:text('x')").count():
            problems.append(f"{name}: a customer's text became a script element")
        page.screenshot(path=str(SCREENSHOTS / f"phone-{language}-{name}.png"), full_page=True)
    context.close()
    assert errors == [], errors
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_every_page_renders_in_both_directions_on_a_phone(
    browser, live_server, tour, language, direction
):
    check_pages(browser, live_server, tour["admin"], language, direction, _pages(tour))


def test_desktop_screenshots_of_the_main_pages_in_persian(browser, live_server, tour):
    from vefa.accounts.services import user_set_language

    user_set_language(user=tour["admin"], language="fa")
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, tour["admin"].email, "fa")
    for name, url in _pages(tour)[:6]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("dir") == "rtl"
        page.screenshot(path=str(SCREENSHOTS / f"desktop-fa-{name}.png"), full_page=True)
    context.close()
