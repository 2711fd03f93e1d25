"""The analytics pages in a real browser: from a cell of the RFM grid to a saved segment (by
the filtered customer list, and by the dashboard's action form), the PNG download of a
chart, and every analytics page in English and Persian on a phone and a desktop screen."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from django.urls import reverse

from tests.analytics.test_views import finished_refresh, sample_tables, write_results
from tests.e2e.test_page_tour import DESKTOP, PASSWORD, SCREENSHOTS, check_pages
from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.analytics.engine import month_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AS_OF = datetime.date(2026, 3, 1)


@pytest.fixture
def analytics(transactional_db, settings, tmp_path):
    """An administrator, five customers with scores, two products with hostile names and the
    results of a finished refresh in a temporary analytics folder."""
    from vefa.analytics import services
    from vefa.sales.services.catalogue import product_create

    settings.ANALYTICS_DIR = tmp_path / "analytics"
    admin = UserFactory(
        email="admin@example.com",
        full_name="Zeynep Kaya",
        role=Role.ADMIN,
        team=TeamFactory(name="Istanbul"),
        is_staff=True,
        is_superuser=True,
    )
    names = ["Ali Rezaei <script>x</script>", "Mehmet Öztürk", "سارا احمدی", "Ana Jović", "Bora"]
    customers = []
    for name in names:
        first, _space, last = name.partition(" ")
        customers.append(
            CustomerFactory(
                owner=admin, first_name=first, last_name=last, display_name=name, name_key=name
            )
        )
    products = [
        product_create(actor=admin, sku="KHV-1", name="Türk kahvesi <script>x</script>"),
        product_create(actor=admin, sku="KHV-2", name="فنجان قهوه =1+1"),
    ]
    refresh = finished_refresh(AS_OF)
    tables = sample_tables([c.pk for c in customers], [p.pk for p in products], as_of=AS_OF)
    tables["cohorts"] = _cohorts(12)
    write_results(Path(settings.ANALYTICS_DIR), refresh, tables)
    services.scores_write(tables["scores"], refresh=refresh, currency="TRY")
    return {"admin": admin, "customers": customers, "refresh": refresh, "settings": settings}


def _cohorts(months: int) -> pa.Table:
    """A year of monthly cohorts whose share of returning buyers fades month by month."""
    rows: dict[str, list] = {k: [] for k in ("cohort_month", "months_since", "customers")}
    first = month_number(AS_OF) - months
    shares: list[float] = []
    sizes: list[int] = []
    for k in range(months):
        size = 40 + 7 * k
        for since in range(months - k):
            share = 1.0 if since == 0 else round(0.55 * 0.85**since, 4)
            rows["cohort_month"].append(first + k)
            rows["months_since"].append(since)
            rows["customers"].append(round(size * share))
            shares.append(share)
            sizes.append(size)
    return pa.table(
        {
            "cohort_month": pa.array(rows["cohort_month"], pa.int32()),
            "months_since": pa.array(rows["months_since"], pa.int32()),
            "customers": pa.array(rows["customers"], pa.int64()),
            "revenue": pa.array([c * 10_000 for c in rows["customers"]], pa.int64()),
            "cohort_customers": pa.array(sizes, pa.int64()),
            "retained_share": pa.array(shares, pa.float64()),
            "revenue_share": pa.array(shares, pa.float64()),
        }
    )


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_rfm_cell_to_a_saved_segment(page, analytics):
    from vefa.platform.models import SavedView

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, analytics["admin"].email)
    page.click("nav >> text=Analytics")
    page.wait_for_url("**/analytics/")
    # The champion (R 5, F 1 in the sample) is in the top-left cell.
    page.click('#chart-rfm a[href="/customers/?r_score=5&f_score=1"]')
    page.wait_for_url("**/customers/?r_score=5&f_score=1")
    results = page.locator("#customer-results")
    assert results.get_by_text("Ali Rezaei <script>x</script>").count() == 1
    assert results.get_by_text("Mehmet Öztürk").count() == 0
    page.click("[data-saved-views=customers] >> text=Saved views")
    page.fill("#saved-view-name-customers", "Recent, rare")
    page.click("[data-saved-views=customers] >> button:has-text('Save view')")
    page.wait_for_url("**/customers/?view=*")
    view = SavedView.objects.get(name="Recent, rare")
    assert view.filters == {"r_score": "5", "f_score": "1"}

    # The same through the dashboard's action form.
    page.goto("/analytics/")
    page.select_option("#cell-r", "5")
    page.select_option("#cell-f", "1")
    page.click("text=Segment or calls for this cell")
    page.wait_for_url("**/analytics/act/?r_score=5&f_score=1")
    assert page.get_by_text("Ali Rezaei <script>x</script>").count() == 1
    page.fill("#id_name", "")
    page.click("text=Save the segment")
    assert page.locator(".invalid-feedback").first.is_visible()  # nothing lost, error shown
    page.fill("#id_name", "Champions from the grid")
    page.click("text=Save the segment")
    page.wait_for_url("**/customers/?view=*")
    saved = SavedView.objects.get(name="Champions from the grid")
    assert saved.filters == {"r_score": "5", "f_score": "1"}
    assert f"view={saved.pk}" in page.url
    assert page.locator("#customer-results").get_by_text("Ali Rezaei <script>x</script>").count()
    assert errors == []


def test_a_chart_downloads_as_png_and_csv(page, analytics, tmp_path):
    _log_in(page, analytics["admin"].email)
    page.goto("/analytics/")
    with page.expect_download() as info:
        page.click('[data-chart-png="chart-rfm"]')
    download = info.value
    assert download.suggested_filename == "analytics-rfm-2026-03-01.png"
    target = tmp_path / "rfm.png"
    download.save_as(target)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000  # a drawn chart, not an empty canvas
    with page.expect_download() as csv_info:
        page.click("#panel-rfm >> text=CSV")
    csv_file = tmp_path / "rfm.csv"
    csv_info.value.save_as(csv_file)
    assert csv_file.read_text(encoding="utf-8-sig").startswith("R score,F score,Customers")


def _pages(analytics) -> list[tuple[str, str]]:
    return [
        ("analytics-dashboard", reverse("analytics:dashboard")),
        ("analytics-settings", reverse("analytics:settings")),
        ("analytics-refreshes", reverse("analytics:refresh_history")),
        ("analytics-act-list", reverse("analytics:act") + "?declining=true"),
        ("analytics-act-cell", reverse("analytics:act") + "?r_score=5&f_score=1"),
        ("analytics-act-choose", reverse("analytics:act")),
    ]


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_every_analytics_page_in_both_directions(
    browser, live_server, analytics, tmp_path, language, direction
):
    from vefa.accounts.services import user_set_language

    admin = analytics["admin"]
    check_pages(browser, live_server, admin, language, direction, _pages(analytics))

    # The dashboard on a desktop screen, where the charts sit side by side.
    user_set_language(user=admin, language=language)
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    _log_in(page, admin.email)
    page.goto("/analytics/")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("dir") == direction
    svg_direction = page.locator("#chart-rfm").evaluate("e => getComputedStyle(e).direction")
    assert svg_direction == direction
    page.screenshot(
        path=str(SCREENSHOTS / f"desktop-{language}-analytics-dashboard.png"), full_page=True
    )
    context.close()

    # Before the first refresh: the empty state.
    empty = tmp_path / "empty"
    empty.mkdir()
    analytics["settings"].ANALYTICS_DIR = empty
    check_pages(
        browser,
        live_server,
        admin,
        language,
        direction,
        [("analytics-empty", reverse("analytics:dashboard"))],
    )
