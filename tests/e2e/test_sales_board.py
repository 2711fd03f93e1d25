"""The sales board in a real browser: drag a card to another column, be asked for the lost
reason, move with the keyboard select, see a conflict, and look at every opportunity page
in English and Persian on a phone and a desktop screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def deals(transactional_db):
    from vefa.sales.defaults import create_default_pipelines
    from vefa.sales.models import Competitor, Pipeline, Stage
    from vefa.sales.services.opportunities import opportunity_bid_add, opportunity_create

    team = TeamFactory(name="Istanbul")
    rep = UserFactory(
        email="ayse@example.com", full_name="Ayşe Yılmaz", role=Role.SALES_REP, team=team
    )
    customer = make_customer(owner=rep, team=team, first_name="Mehmet", last_name="Öztürk")
    persian = make_customer(owner=rep, team=team, first_name="علی", last_name="رضایی")
    # A transactional test before this one may have emptied the tables the migration filled.
    create_default_pipelines(Pipeline, Stage, "en")
    pipeline = Pipeline.objects.get(kind="new_business", is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    first = opportunity_create(
        actor=rep,
        data={"name": "Espresso machines", "customer": customer.pk, "amount": "12500"},
    )
    second = opportunity_create(
        actor=rep,
        data={
            "name": "<script>alert(1)</script> قهوه",
            "customer": persian.pk,
            "amount": "900000",
            "currency": "IRR",
            "expected_close_date": "2031-03-20",
        },
    )
    rival = Competitor.objects.create(name="Rakip Kahve")
    opportunity_bid_add(actor=rep, opportunity_id=first.pk, competitor_id=rival.pk, price="12000")
    return {"rep": rep, "stages": stages, "first": first, "second": second, "pipeline": pipeline}


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_drag_a_card_across_the_board(page, deals):
    from vefa.sales.models import Opportunity
    from vefa.sales.services.opportunities import opportunity_move

    # Wide enough for all six columns: a drag starts and ends on screen.
    page.set_viewport_size({"width": 1700, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    stages = deals["stages"]
    first, second = deals["first"], deals["second"]
    _log_in(page, deals["rep"].email)
    page.goto(reverse("sales:board"))
    card = page.locator(f"#card-{first.pk}")
    card.wait_for()
    assert page.locator(f"#column-{stages[0].pk} .sales-count").inner_text() == "2"

    # When she drags the first card to the third column
    page.drag_and_drop(f"#card-{first.pk}", f"#column-{stages[2].pk} .sales-cards")

    # Then the card is in that column, the counts follow, and the database agrees
    page.locator(f"#column-{stages[2].pk} #card-{first.pk}").wait_for()
    assert page.locator(f"#column-{stages[0].pk} .sales-count").inner_text() == "1"
    assert page.locator(f"#column-{stages[2].pk} .sales-count").inner_text() == "1"
    moved = Opportunity.objects.get(pk=first.pk)
    assert moved.stage_id == stages[2].pk
    assert moved.probability == stages[2].probability
    _shot(page, "sales-board-after-drag")

    # When she drags it to "lost", a dialog asks why; the move waits for the answer
    lost = next(s for s in stages if s.kind == "lost")
    page.drag_and_drop(f"#card-{first.pk}", f"#column-{lost.pk} .sales-cards")
    dialog = page.locator("#sales-lost-dialog")
    dialog.wait_for(state="visible")
    assert Opportunity.objects.get(pk=first.pk).status == "open"
    dialog.locator("select[name=lost_reason]").select_option("price")
    dialog.locator("input[name=lost_note]").fill("Too expensive for them")
    dialog.locator("button[type=submit]").click()
    page.locator(f"#column-{lost.pk} #card-{first.pk}").wait_for()
    lost_now = Opportunity.objects.get(pk=first.pk)
    assert lost_now.status == "lost" and lost_now.lost_reason == "price"
    assert lost_now.closed_at is not None

    # With the keyboard: the card's "move to" select and its button
    second_card = page.locator(f"#card-{second.pk}")
    second_card.locator("select[name=stage]").select_option(str(stages[1].pk))
    second_card.locator("button[type=submit]").click()
    page.locator(f"#column-{stages[1].pk} #card-{second.pk}").wait_for()
    assert Opportunity.objects.get(pk=second.pk).stage_id == stages[1].pk
    # the hostile name is text, not a script
    assert page.locator(f"#card-{second.pk} a").first.inner_text().startswith("<script>")

    # When someone else moves the card first, the board says so and reloads
    opportunity_move(actor=deals["rep"], opportunity_id=second.pk, stage_id=stages[3].pk)
    page.drag_and_drop(f"#card-{second.pk}", f"#column-{stages[0].pk} .sales-cards")
    status = page.locator("#sales-board-status")
    status.wait_for(state="visible")
    assert "Someone else changed" in status.inner_text()
    page.locator(f"#column-{stages[3].pk} #card-{second.pk}").wait_for()
    assert Opportunity.objects.get(pk=second.pk).stage_id == stages[3].pk

    # Quick add at the top of a column: name, a customer picked by typing, an amount
    column = page.locator(f"#column-{stages[1].pk}")
    column.locator("summary").click()
    column.locator("input[name=name]").fill("Grinder for the café")
    column.locator("input[name=customer_q]").fill("Meh")
    column.locator("input[name=customer][type=radio]").first.wait_for()
    column.locator("input[name=amount]").fill("750")
    column.locator("button[type=submit]", has_text="Add").click()
    page.locator(f"#column-{stages[1].pk} .sales-card", has_text="Grinder for the café").wait_for()
    added = Opportunity.objects.get(name="Grinder for the café")
    assert added.stage_id == stages[1].pk and added.amount == 750
    assert errors == []


def _pages(deals: dict) -> list[tuple[str, str]]:
    first = deals["first"]
    return [
        ("board", reverse("sales:board")),
        ("list", reverse("sales:opportunity_list")),
        ("detail", reverse("sales:opportunity_detail", args=[first.pk])),
        ("create", reverse("sales:opportunity_create")),
        ("edit", reverse("sales:opportunity_edit", args=[first.pk])),
        ("move", reverse("sales:opportunity_move", args=[first.pk])),
    ]


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_opportunity_pages_on_phone_and_desktop(browser, live_server, deals, language, direction):
    from vefa.accounts.services import user_set_language

    user_set_language(user=deals["rep"], language=language)
    problems: list[str] = []
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        _log_in(page, deals["rep"].email)
        for name, url in _pages(deals):
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            if response is None or response.status != 200:
                problems.append(f"{label} {name}: HTTP {response.status if response else '?'}")
                continue
            if page.locator("html").get_attribute("dir") != direction:
                problems.append(f"{label} {name}: dir is not {direction}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 2:
                problems.append(f"{label} {name}: {overflow}px wider than the screen")
            if page.locator("script:text('alert(1)')").count():
                problems.append(f"{label} {name}: a name became a script element")
            _shot(page, f"sales-{label}-{language}-{name}")
        context.close()
        problems += [f"{label}: script error {e}" for e in errors]
    assert problems == [], "\n".join(problems)
