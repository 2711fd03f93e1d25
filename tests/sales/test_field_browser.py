"""The rep's day and the sales analysis in real Chromium: phone width (360 and 390 px) and
desktop, English (left to right) and Persian (right to left); nothing wider than the screen,
no script errors, the visit logged in two taps. Screenshots go to test-results/screenshots/."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
SIZES = {"phone360": (360, 780), "phone390": (390, 844), "desktop": (1280, 900)}


@pytest.fixture
def chromium(browser) -> object:
    """The test process's one Chromium (see tests/conftest.py)."""
    return browser


@pytest.fixture
def field_day(transactional_db):
    """A rep with a full day (two visits with long addresses, a call, an overdue task, a
    follow-up deal) and a few orders and deals for the analysis."""
    from tests.customers.factories import make_customer
    from vefa.customers.models import Address
    from vefa.interactions.services import activity_create
    from vefa.platform.records import record_create
    from vefa.sales.models import Opportunity, Order, OrderLine, Pipeline, Product
    from vefa.sales.services.field import visit_plan

    team = TeamFactory(name="Anadolu")
    rep = UserFactory(email="rep@example.com", full_name="Elif Şahin", role=Role.SALES_REP,
                      team=team)  # fmt: skip
    firm = make_customer(kind="organisation", trade_name="Kaya Tekstil Sanayi ve Ticaret A.Ş.",
                         owner=rep, team=team, primary_phone="+90 212 555 0101",
                         city="İstanbul", country="TR")  # fmt: skip
    persian = make_customer(first_name="علی", last_name="رضایی <script>x</script>", owner=rep,
                            team=team, city="تهران", country="IR")  # fmt: skip
    Address.objects.create(customer=firm, kind="office", is_primary=True, country="TR",
                           line1="Büyükdere Caddesi No: 185 Levent Plaza Kat 12 Daire 45",
                           district="Şişli", city="İstanbul", postal_code="34394")  # fmt: skip
    Address.objects.create(customer=persian, kind="office", is_primary=True, country="IR",
                           line1="خیابان ولیعصر، پلاک ۱۲۳۴، طبقه سوم", city="تهران")  # fmt: skip
    now = timezone.now()
    end = now.replace(hour=23, minute=50, second=0, microsecond=0)
    soon = min(now + datetime.timedelta(minutes=20), end)
    visit = visit_plan(actor=rep, customer_id=firm.pk, due_at=soon)
    visit_plan(actor=rep, customer_id=persian.pk, due_at=soon, subject="بازدید فصلی")
    activity_create(actor=rep, kind="call", subject="Teklif hakkında ara", customer_id=firm.pk,
                    due_at=soon)  # fmt: skip
    activity_create(actor=rep, kind="task", subject="Numune gönder", customer_id=firm.pk,
                    due_at=now - datetime.timedelta(days=2))  # fmt: skip
    if not Pipeline.objects.exists():  # a transactional test flushed the data migration's
        from vefa.sales.defaults import create_default_pipelines
        from vefa.sales.models import Stage

        create_default_pipelines(Pipeline, Stage, "en")
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    stage = pipeline.stages.order_by("order").first()
    record_create(
        Opportunity(name="Yıllık kumaş tedariki 2027", customer=firm, pipeline=pipeline,
                    stage=stage, owner=rep, team=team, amount=Decimal("250000"),
                    follow_up_date=now.date(), next_step="Fiyatı yeniden konuş"),
        actor=rep,
    )  # fmt: skip
    product = Product.objects.create(sku="KMS-01", name="Pamuklu kumaş — <b>ham</b>",
                                     list_price=Decimal("100"))  # fmt: skip
    for n, customer in enumerate([firm, persian, firm]):
        order = Order.objects.create(number=f"S-{n}", customer=customer, owner=rep, team=team,
                                     status="paid", currency="TRY",
                                     ordered_at=now - datetime.timedelta(days=20 * n),
                                     subtotal=Decimal(1000 * (n + 1)),
                                     total=Decimal(1000 * (n + 1)))  # fmt: skip
        OrderLine.objects.create(order=order, product=product, description="x", unit_price=1,
                                 net=Decimal(1000 * (n + 1)))  # fmt: skip
    return {"rep": rep, "visit": visit}


def _page(chromium, live_server, size: str, language: str):
    width, height = SIZES[size]
    viewport = {"width": width, "height": height}
    context = chromium.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(60_000)
    context.add_cookies([{"name": "vefa_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", "rep@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return context, page, errors


def _overflow(page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
@pytest.mark.parametrize("size", list(SIZES))
def test_my_day_and_analysis_fit_and_log_a_visit(
    chromium, live_server, field_day, language, direction, size
):
    from vefa.accounts.services import user_set_language
    from vefa.interactions.models import Interaction

    user_set_language(user=field_day["rep"], language=language)
    context, page, errors = _page(chromium, live_server, size, language)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/sales/field/my-day/")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("dir") == direction
    assert _overflow(page) <= 1
    assert page.locator("script:text('x')").count() == 0
    page.screenshot(path=str(SCREENSHOTS / f"sales-my-day-{size}-{language}.png"), full_page=True)

    # Two taps: "Visited", then save the prefilled outcome.
    card = page.locator(f"#visit-{field_day['visit'].pk}")
    card.locator("a.btn-success").click()
    page.wait_for_selector(f"#visit-{field_day['visit'].pk} form")
    assert _overflow(page) <= 1
    page.screenshot(path=str(SCREENSHOTS / f"sales-visit-log-{size}-{language}.png"))
    card.locator("button[type=submit]").click()
    page.wait_for_selector(f"#visit-{field_day['visit'].pk}.border-success")
    assert Interaction.objects.filter(kind="visit").count() == 1

    page.goto("/sales/analysis/")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("dir") == direction
    assert page.locator("svg.vefa-chart").count() >= 10
    assert _overflow(page) <= 1
    page.screenshot(path=str(SCREENSHOTS / f"sales-analysis-{size}-{language}.png"),
                    full_page=True)  # fmt: skip
    context.close()
    assert errors == [], errors
