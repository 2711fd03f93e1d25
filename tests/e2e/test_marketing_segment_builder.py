"""The segment builder in a real browser: a marketer adds rules one by one (each row's value
widget follows the filter chosen), watches the count of matching customers change, removes a
rule, saves the segment and finds the same customers on its page; in English (left to right)
and Persian (right to left), on a desktop and a phone screen, with nothing wider than the
screen and hostile names shown as text (screenshots go where the import wizard's do)."""

from __future__ import annotations

import pytest

from tests.e2e.test_import_wizard import _check_layout, _log_in, admin  # noqa: F401 (fixture)
from tests.e2e.test_page_tour import DESKTOP, PHONE
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _count(page) -> str:
    return page.locator("#segment-count .fs-4").inner_text()


# htmx attaches a new row's listeners when the row settles, a moment after it appears; a
# choice made before that would go unheard, so the test waits for the row's htmx:load.
_COUNT_LOADS = """() => {
    if (window.ruleLoads === undefined) {
        window.ruleLoads = 0;
        document.addEventListener('htmx:load', (event) => {
            if (event.target.classList && event.target.classList.contains('segment-rule')) {
                window.ruleLoads += 1;
            }
        });
    }
    return window.ruleLoads;
}"""


def _wait_row_loaded(page, loads_before: int) -> None:
    page.wait_for_function(f"window.ruleLoads > {loads_before}")


def _add_rule(page, param: str, value: str) -> None:
    before = page.locator("#rule-rows .segment-rule").count()
    loads = page.evaluate(_COUNT_LOADS)
    page.click("#add-rule")
    page.wait_for_function(
        f"document.querySelectorAll('#rule-rows .segment-rule').length > {before}"
    )
    _wait_row_loaded(page, loads)
    loads = page.evaluate(_COUNT_LOADS)
    row = page.locator("#rule-rows .segment-rule").last
    row_id = row.get_attribute("id")
    row.evaluate("el => { el.dataset.before = '1'; }")
    row.locator("select[name=rule_param]").select_option(param)
    # The row is swapped for one whose value widget suits the chosen filter.
    page.wait_for_function(
        f"""() => {{
            const row = document.getElementById({row_id!r});
            return row && !row.dataset.before && row.querySelector('[name=rule_value]');
        }}"""
    )
    _wait_row_loaded(page, loads)
    assert page.locator(f"#{row_id} select[name=rule_param]").input_value() == param
    widget = page.locator(f"#{row_id} [name=rule_value]")
    if widget.evaluate("el => el.tagName") == "SELECT":
        widget.select_option(value)
    else:
        widget.fill(value)
        widget.dispatch_event("change")


def _remove_rule(page, param: str) -> None:
    rows = page.locator("#rule-rows .segment-rule")
    chosen = [
        rows.nth(i).locator("select[name=rule_param]").input_value() for i in range(rows.count())
    ]
    assert param in chosen, chosen
    rows.nth(chosen.index(param)).locator("button").click()


def _wait_count(page, expected: str) -> None:
    page.wait_for_function(
        "expected => { const el = document.querySelector('#segment-count .fs-4');"
        " return el && el.textContent.trim() === expected; }",
        arg=expected,
    )


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_rules_count_and_save_a_segment(browser, live_server, admin, language, direction):  # noqa: F811
    from vefa.accounts.services import user_set_language
    from vefa.marketing.models import Segment

    user_set_language(user=admin, language=language)
    for name, city, kind in (
        ("Ayşe <script>x</script>", "İzmir", "person"),
        ("Milica Jović", "İzmir", "person"),
        ("Kahve Ticaret", "İzmir", "organisation"),
        ("سارا احمدی", "Ankara", "person"),
    ):
        first, _space, last = name.partition(" ")
        CustomerFactory(
            owner=admin,
            team=admin.team,
            kind=kind,
            first_name=first if kind == "person" else "",
            last_name=last if kind == "person" else "",
            legal_name=name if kind == "organisation" else "",
            display_name=name,
            name_key=name,
            city=city,
        )
    problems: list[str] = []
    for number, viewport in enumerate((DESKTOP, PHONE), start=1):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(20_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        _log_in(page, admin.email)
        page.goto("/marketing/segments/new/")
        assert page.locator("#segment-count .fs-4").count() == 0  # no rule, no count yet
        page.fill("input[name=name]", f"İzmir people {number} <b>")
        _add_rule(page, "city", "İzmir")
        _wait_count(page, "3")
        _add_rule(page, "kind", "person")
        _wait_count(page, "2")
        _check_layout(page, direction, f"{number}-builder", language, problems)
        # Removing the city rule widens the segment again (the three persons).
        _remove_rule(page, "city")
        _wait_count(page, "3")
        _add_rule(page, "city", "İzmir")
        _wait_count(page, "2")
        page.click("#segment-form button[type=submit]")
        page.wait_for_url("**/marketing/segments/*/")
        segment = Segment.objects.get(name=f"İzmir people {number} <b>")
        assert {r["param"] for r in segment.rules} == {"city", "kind"}
        assert page.get_by_text(f"İzmir people {number} <b>").count() >= 1  # shown as text
        assert page.locator("b:text('İzmir people')").count() == 0
        _check_layout(page, direction, f"{number}-detail", language, problems)
        page.goto(f"/marketing/segments/{segment.pk}/members/")
        assert page.get_by_text("Ayşe <script>x</script>").count() == 1
        assert page.get_by_text("Milica Jović").count() == 1
        assert page.get_by_text("Kahve Ticaret").count() == 0
        _check_layout(page, direction, f"{number}-members", language, problems)
        assert not errors, errors
        context.close()
    assert not problems, problems
