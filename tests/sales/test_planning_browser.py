"""The contract, target and forecast pages in real Chromium, in English and Persian, on a
phone and a desktop screen: they render, follow the language's direction, do not overflow a
phone's width and raise no script errors. Screenshots go to ``test-results/screenshots``."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
D = datetime.timedelta(days=1)


@pytest.fixture
def chromium(browser):
    """The test process's one Chromium (see tests/conftest.py)."""
    return browser


@pytest.fixture
def planning_data(transactional_db):
    from vefa.sales.defaults import create_default_pipelines
    from vefa.sales.models import ExchangeRate, Opportunity, Pipeline, Stage
    from vefa.sales.services.contracts import contract_create, contract_renew_now
    from vefa.sales.services.planning import target_create

    create_default_pipelines(Pipeline, Stage, "en")
    team = TeamFactory(name="Tehran")
    manager = UserFactory(
        email="maryam@example.com", full_name="مریم کریمی", role=Role.SALES_MANAGER, team=team
    )
    rep = UserFactory(
        email="ali@example.com", full_name="Ali Rezaei", role=Role.SALES_REP, team=team
    )
    customer = make_customer(owner=rep, team=team, first_name="علی", last_name="رضایی")
    today = timezone.localdate()
    ExchangeRate.objects.create(day=today - 30 * D, currency="EUR", quote_currency="TRY", rate=35)
    long_title = "<script>x</script> قرارداد پشتیبانی سالانه with a very long title " * 2
    contract = contract_create(
        actor=manager,
        customer_id=customer.pk,
        owner_id=rep.pk,
        title=long_title.strip()[:200],
        start_date=today - 300 * D,
        end_date=today + 20 * D,
        value="125000000",
        currency="IRR",
        status="active",
    )
    contract_renew_now(actor=manager, contract_id=contract.pk)
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    for i in range(12):
        Opportunity.objects.create(
            name=f"Deal {i}",
            customer=customer,
            pipeline=pipeline,
            stage=stages[i % 4],
            amount=Decimal(10_000 * (i + 1)),
            currency="EUR" if i % 3 == 0 else "TRY",
            probability=stages[i % 4].probability,
            forecast_category=["commit", "best_case", "pipeline"][i % 3],
            expected_close_date=today + i * 30 * D,
            owner=rep,
            team=team,
        )
    target_create(
        actor=manager,
        team_id=team.pk,
        period_kind="quarter",
        period_start=today,
        amount="400000",
        currency="TRY",
    )
    target_create(actor=manager, user_id=rep.pk, period_start=today, amount="50000", currency="TRY")
    return {"manager": manager, "contract": contract}


def _pages(data) -> list[tuple[str, str]]:
    pk = data["contract"].pk
    return [
        ("contract-list", "/sales/contracts/"),
        ("contract-detail", f"/sales/contracts/{pk}/"),
        ("contract-edit", f"/sales/contracts/{pk}/edit/"),
        ("contract-create", "/sales/contracts/new/"),
        ("target-list", "/sales/targets/"),
        ("forecast", "/sales/forecast/"),
    ]


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("width", [390, 1280])
def test_pages_in_both_directions_and_widths(chromium, live_server, planning_data, language, width):
    from vefa.accounts.services import user_set_language

    user = planning_data["manager"]
    user_set_language(user=user, language=language)
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    direction = "rtl" if language == "fa" else "ltr"
    for name, url in _pages(planning_data):
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
                .filter(e => !e.closest('.table-responsive'))
                .filter(e => { const r = e.getBoundingClientRect();
                  return r.right > document.documentElement.clientWidth + 1 || r.left < -1; })
                .slice(0, 4).map(e => e.tagName + '.' + e.className)"""
            )
            problems.append(f"{name}: {overflow}px wider than the screen: {culprits}")
        if page.locator("script:text('x')").count():
            problems.append(f"{name}: a title became a script element")
        page.screenshot(
            path=str(SCREENSHOTS / f"planning-{width}-{language}-{name}.png"), full_page=True
        )
    context.close()
    assert errors == [], errors
    assert problems == [], "\n".join(problems)
