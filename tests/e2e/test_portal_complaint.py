"""The portal in a real browser: a contact signs in with the e-mailed link, opens a
complaint about an order, an agent answers it on the staff ticket page, the contact sees the
answer (and never the agent's internal note); then every portal page in Persian on a phone."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.e2e.test_page_tour import PASSWORD, PHONE, SCREENSHOTS
from tests.factories import TeamFactory, UserFactory
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role
from vefa.customers.models import CustomerRelationship
from vefa.portal.models import PortalAccount
from vefa.service.models import Queue, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^\s]+/portal/login/link/[^/\s]+/")


@pytest.fixture
def shop(transactional_db):
    team = TeamFactory(name="Destek")
    agent = UserFactory(
        email="agent@example.com", full_name="Zeynep Agent", role=Role.SERVICE_AGENT, team=team
    )
    Queue.objects.create(name="Support", team=team, is_default=True)
    firm = make_customer(
        kind="organisation", trade_name="Kahve Dünyası A.Ş.", owner=agent, team=team
    )
    person = make_customer(
        first_name="Ayşe",
        last_name="Yılmaz",
        primary_email="ayse@example.com",
        owner=agent,
        team=team,
    )
    CustomerRelationship.objects.create(from_customer=person, to_customer=firm, kind="works_at")
    account = PortalAccount.objects.create(
        contact=person, customer=firm, email="ayse@example.com", language="en"
    )
    order = make_order(firm, [(make_product(), "2", "150")], status="delivered")
    return {"agent": agent, "firm": firm, "account": account, "order": order}


def _sign_in(page, email: str) -> None:
    mail.outbox.clear()
    page.goto(reverse("portal:login"))
    page.fill("input[name=email]", email)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/portal/login/sent/")
    assert len(mail.outbox) == 1
    link = LINK.search(mail.outbox[0].body).group(0)
    page.goto(link)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/portal/")


def test_contact_opens_a_complaint_and_sees_the_agents_answer(browser, live_server, shop):
    contact = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    contact.set_default_timeout(15_000)
    errors: list[str] = []
    page = contact.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, "ayse@example.com")
    page.get_by_role("link", name="Open a complaint").click()
    page.wait_for_url("**/portal/tickets/new/**")
    page.fill("#id_subject", "Kahve makinesi bozuk geldi <script>x</script>")
    page.fill("#id_description", "Kutu ezik, makine çalışmıyor.")
    page.select_option("#id_order", str(shop["order"].pk))
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/tickets/\d+/$"))
    assert "Kutu ezik, makine çalışmıyor." in page.content()
    assert page.locator("script:text('x')").count() == 0
    ticket = Ticket.objects.get(channel="portal")
    assert ticket.customer_id == shop["firm"].pk and ticket.order_id == shop["order"].pk

    staff = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    staff.set_default_timeout(15_000)
    desk = staff.new_page()
    desk.goto("/accounts/login/")
    desk.fill("input[name=username], input[name=email]", "agent@example.com")
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/")
    desk.goto(reverse("service:ticket_detail", args=[ticket.pk]))
    assert "Kutu ezik" in desk.content()
    desk.fill("#reply-form textarea", "Yeni makineyi yarın gönderiyoruz.")
    desk.click("#reply-form button[type=submit]")
    desk.wait_for_selector("text=Yeni makineyi yarın gönderiyoruz.")
    desk.click("#tab-note")
    desk.fill("#note-form textarea", "INTERNAL: müşteri ikinci kez şikayet etti")
    desk.click("#note-form button[type=submit]")
    desk.wait_for_selector("text=INTERNAL: müşteri ikinci kez şikayet etti")
    staff.close()

    page.reload()
    assert "Yeni makineyi yarın gönderiyoruz." in page.content()
    assert "INTERNAL" not in page.content()
    page.fill("#id_body", "Teşekkürler!")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Teşekkürler!")
    contact.close()
    assert errors == [], errors


def test_every_portal_page_in_persian_on_a_phone(browser, live_server, shop):
    PortalAccount.objects.filter(pk=shop["account"].pk).update(language="fa")
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, "ayse@example.com")
    order = shop["order"]
    pages = [
        ("home", reverse("portal:home")),
        ("orders", reverse("portal:orders")),
        ("order", reverse("portal:order", args=[order.pk])),
        ("documents", reverse("portal:documents")),
        ("tickets", reverse("portal:tickets")),
        ("ticket-new", reverse("portal:ticket_new")),
        ("returns", reverse("portal:returns")),
        ("return-new", reverse("portal:return_new", args=[order.pk])),
        ("surveys", reverse("portal:surveys")),
        ("help", reverse("portal:help") + "?q=قهوه"),
        ("details", reverse("portal:details")),
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, url in pages:
        response = page.goto(url)
        if response is None or response.status != 200:
            problems.append(f"{name}: HTTP {response.status if response else '?'}")
            continue
        if page.locator("html").get_attribute("dir") != "rtl":
            problems.append(f"{name}: not right to left")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 2:
            problems.append(f"{name}: {overflow}px wider than a phone screen")
        page.screenshot(path=str(SCREENSHOTS / f"portal-phone-fa-{name}.png"), full_page=True)
    # The menu folds into a button on a phone and opens.
    page.goto(reverse("portal:home"))
    page.click("button.navbar-toggler")
    page.wait_for_selector("#portal-nav.show")
    context.close()
    assert errors == [], errors
    assert problems == [], problems
