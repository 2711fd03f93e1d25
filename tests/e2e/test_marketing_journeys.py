"""A journey and a customer's points in a real browser: a marketer builds a birthday journey
(trigger, a points step, a call step), switches it on, and adjusts points on a customer's
points card."""

from __future__ import annotations

import pytest

from tests.e2e.test_page_tour import PASSWORD
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(transactional_db):
    from decimal import Decimal

    from tests.customers.factories import make_customer
    from vefa.marketing.models import LoyaltyProgram
    from vefa.marketing.services.loyalty import points_award

    team = TeamFactory(name="Pazarlama")
    marketer = UserFactory(
        email="deniz@example.com", full_name="Deniz Kaya", role=Role.MARKETER, team=team
    )
    LoyaltyProgram.objects.create(name="Vefa Club", currency="TRY", point_value=Decimal("0.1"))
    customer = make_customer(owner=marketer, team=team, first_name="Ayşe", last_name="Yılmaz")
    points_award(customer_id=customer.pk, points=120, key="start", description="<b>hoş</b>")
    return {"marketer": marketer, "customer": customer}


def test_marketer_builds_a_journey_and_adjusts_points(page, shop):
    from vefa.marketing.models import Journey
    from vefa.marketing.services.loyalty import active_program, balance_of

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", shop["marketer"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    page.goto("/marketing/journeys/new/")
    page.fill("input[name=name]", "Doğum günü <script>")
    page.select_option("select[name=trigger]", "birthday")
    page.fill("input[name=days_before]", "3")
    page.click("main form[method=post] button.btn-primary")
    page.wait_for_url("**/marketing/journeys/*/")
    page.select_option("select[name=action]", "award_points")
    page.fill("input[name=points]", "50")
    page.click("form[action$='/steps/'] button[type=submit]")
    page.wait_for_selector("text=50 points")
    page.select_option("select[name=action]", "call_task")
    page.fill("input[name=wait_days]", "1")
    page.fill("input[name=task_subject]", "Tebrik araması")
    page.click("form[action$='/steps/'] button[type=submit]")
    page.wait_for_selector("text=Tebrik araması")
    page.click("text=Switch on")
    page.wait_for_selector(".badge.text-bg-success")
    journey = Journey.objects.get()
    assert journey.is_active and journey.steps.count() == 2
    assert "<script>" in page.inner_text("h1")

    page.goto(f"/marketing/loyalty/customer/{shop['customer'].pk}/")
    assert "&lt;b&gt;" in page.content() or "<b>hoş</b>" in page.inner_text("#customer-points")
    page.click("text=Adjust points")
    page.fill("input[name=adjust-points]", "-20")
    page.fill("input[name=adjust-reason]", "Kahve")
    page.click("#customer-points button:has-text('Adjust')")
    page.wait_for_selector("text=The points were adjusted.")
    assert balance_of(shop["customer"].pk, active_program()) == 100
    assert errors == []
