"""The import wizard in a real browser: a Windows-1254 Turkish customer file goes through
upload → mapping (the detected encoding shown) → preview → run → undo, in English (left to
right) and Persian (right to left); each page is checked for its direction and for nothing
wider than the screen, and photographed for people to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_page_tour import DESKTOP, PASSWORD, PHONE
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VEFA_WIZARD_SHOTS", "test-results/screenshots/import-wizard"))
PEOPLE = [
    ("Ğülşen", "Çağlayan", "gulsen@example.com", "0532 111 22 33"),
    ("Işıl", "Öztürk", "isil@example.com", "0533 222 33 44"),
    ("İbrahim", "Şükrüoğlu", "ibrahim@example.com", ""),
    ("Gönül", "Ilıcak <script>x</script>", "gonul@example.com", ""),
]


@pytest.fixture
def admin(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return UserFactory(
        email="admin@example.com",
        full_name="Zeynep Kaya",
        role=Role.ADMIN,
        team=TeamFactory(name="İstanbul"),
        is_staff=True,
        is_superuser=True,
    )


def _turkish_file(path: Path) -> Path:
    lines = ["Ad;Soyad;E-posta;Telefon"] + [";".join(p) for p in PEOPLE]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1254"))
    return path


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _check_layout(page, direction: str, name: str, language: str, problems: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    if page.locator("html").get_attribute("dir") != direction:
        problems.append(f"{name}: dir is not {direction}")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 2:
        problems.append(f"{name}: {overflow}px wider than the screen")
    if page.locator("script:text('x')").count():
        problems.append(f"{name}: a cell became a script element")
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{language}-{width}-{name}.png"), full_page=True)


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_turkish_windows_1254_file_through_the_wizard(
    browser, live_server, admin, tmp_path, language, direction
):
    from vefa.accounts.services import user_set_language
    from vefa.customers.models import Customer
    from vefa.imports.models import ImportRun

    user_set_language(user=admin, language=language)
    csv_path = _turkish_file(tmp_path / "müşteriler.csv")
    problems: list[str] = []
    for viewport in (DESKTOP, PHONE):
        Customer.objects.all().delete()
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(20_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        _log_in(page, admin.email)

        page.goto("/imports/")
        _check_layout(page, direction, "1-list-empty", language, problems)
        page.click('a[href="/imports/new/"]')
        page.wait_for_url("**/imports/new/")
        page.select_option("select[name=entity]", "customers")
        page.set_input_files("input[name=file]", str(csv_path))
        _check_layout(page, direction, "2-upload", language, problems)
        page.click("form[enctype] button[type=submit]")
        page.wait_for_url("**/mapping/")

        # Mapping: the detected layout and the automatic mapping of the Turkish headers.
        assert page.locator("[data-testid=encoding]").inner_text() == "Windows-1254"
        assert page.locator("select[name=encoding]").input_value() == "cp1254"
        assert page.locator("select[name=delimiter]").input_value() == ";"
        assert page.locator("select[name=col-0]").input_value() == "first_name"
        assert page.locator("select[name=col-2]").input_value() == "email"
        assert page.get_by_text("Ğülşen").count() >= 1  # an example value, read right
        # The filter box narrows a picker's options without losing the chosen one.
        page.fill("input[data-field-filter=id_col-3]", "zzzz-no-such-field")
        visible = page.locator("#id_col-3 option").evaluate_all(
            "options => options.filter(o => !o.hidden).map(o => o.value)"
        )
        assert set(visible) <= {"", "phone"}, visible
        page.fill("input[data-field-filter=id_col-3]", "")
        page.fill("input[name=source]", "Muhasebe (Windows)")
        _check_layout(page, direction, "3-mapping", language, problems)
        page.click("form[action$='/mapping/'] button[type=submit]")
        page.wait_for_url("**/preview/")

        # Preview: four rows to create, the hostile name shown as text.
        assert page.locator("[data-count=create]").inner_text().endswith(": 4")
        assert page.locator("#preview-table").get_by_text("Ilıcak <script>x</script>").count() == 1
        _check_layout(page, direction, "4-preview", language, problems)
        page.click("form[action$='/start/'] button")
        page.wait_for_url("**/imports/*/")
        page.wait_for_selector("#import-result")  # shown once the run has finished
        status_class = page.locator("[data-testid=run-status]").get_attribute("class") or ""
        assert status_class.endswith("success")
        assert page.locator("[data-count=created]").inner_text() == "4"
        _check_layout(page, direction, "5-result", language, problems)

        names = set(Customer.objects.values_list("first_name", "last_name"))
        assert {(p[0], p[1]) for p in PEOPLE} <= names
        assert Customer.objects.filter(display_name="Ğülşen Çağlayan").exists()

        page.goto("/imports/")
        _check_layout(page, direction, "6-list", language, problems)
        run = ImportRun.objects.order_by("-pk").first()
        assert run is not None
        page.goto(f"/imports/{run.pk}/")
        page.click("form[action$='/undo/'] button")
        page.wait_for_url(f"**/imports/{run.pk}/")
        page.wait_for_load_state("networkidle")
        _check_layout(page, direction, "7-undone", language, problems)
        assert not Customer.objects.filter(display_name="Ğülşen Çağlayan").exists()
        context.close()
        assert errors == [], errors
    assert problems == [], "\n".join(problems)
