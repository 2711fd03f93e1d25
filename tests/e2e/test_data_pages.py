"""The data pages in a real browser, in English (left to right) and Persian (right to left),
on a desktop and a phone screen:

- merging a customer with its duplicate from the customer's page (field values picked one
  by one), the merged record with the duplicate's related records, and the undo;
- a customer's privacy requests: the data-subject export downloaded, the erasure refused
  without its confirmation and done with it, after which a search for the e-mail finds
  nothing;
- a webhook to a real HTTP receiver on loopback and the delivery in its log.

Each page is checked for its direction and for nothing wider than the screen, and
photographed for people to look at."""

from __future__ import annotations

import datetime
import json
import os
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone, translation

from tests.e2e.test_page_tour import DESKTOP, PASSWORD, PHONE
from tests.factories import TeamFactory, UserFactory

# The real HTTP receiver on loopback of the integrations tests, as a fixture of this module.
from tests.integrations.conftest import receiver as webhook_receiver  # noqa: F401
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("VEFA_DATA_PAGES_SHOTS", "test-results/screenshots/data-pages"))
LANGUAGES = [("en", "ltr"), ("fa", "rtl")]
SCREENS = {"desktop": DESKTOP, "phone": PHONE}
HOSTILE = "<script>x</script>"


@pytest.fixture
def admin(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # The webhook receiver of these tests listens on 127.0.0.1.
    settings.VEFA_WEBHOOKS_ALLOW_PRIVATE = True
    return UserFactory(
        email="admin@example.com",
        full_name="Zeynep Kaya",
        role=Role.ADMIN,
        team=TeamFactory(name="Tahran"),
        is_staff=True,
        is_superuser=True,
    )


class Browser:
    """One signed-in browser context at one screen size, collecting layout problems."""

    def __init__(self, browser, live_server, user, language: str, direction: str, screen: str):
        from vefa.accounts.services import user_set_language

        user_set_language(user=user, language=language)
        self.language, self.direction, self.screen = language, direction, screen
        self.context = browser.new_context(
            base_url=live_server.url, viewport=SCREENS[screen], accept_downloads=True
        )
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.goto("/accounts/login/")
        self.page.fill("input[name=username], input[name=email]", user.email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/")

    def check(self, name: str) -> None:
        """Direction, width and escaping of the page as it is now; a screenshot."""
        page = self.page
        page.wait_for_load_state("networkidle")
        if page.locator("html").get_attribute("dir") != self.direction:
            self.problems.append(f"{name}: dir is not {self.direction}")
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
            self.problems.append(f"{name}: {overflow}px wider than the screen: {culprits}")
        if page.locator("script:text('x')").count():
            self.problems.append(f"{name}: a record's text became a script element")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SHOTS / f"{self.language}-{self.screen}-{name}.png"), full_page=True
        )

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture(params=list(SCREENS))
def screen(request) -> str:
    return str(request.param)


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_merge_with_a_duplicate_and_undo(browser, live_server, admin, language, direction, screen):
    from vefa.customers.models import Address, Customer, CustomerMerge
    from vefa.customers.services import address_create, customer_create
    from vefa.interactions.models import Activity
    from vefa.interactions.services import activity_create

    kept = customer_create(
        actor=admin,
        data={
            "kind": "person",
            "first_name": "Leyla",
            "last_name": "Sadeghi",
            "notes": "Met at the Tehran fair",
        },
        email="leyla@example.com",
    )
    duplicate = customer_create(
        actor=admin,
        data={
            "kind": "person",
            "first_name": "Leila",
            "last_name": "Sadeghi",
            "notes": "Prefers a call after five",
        },
        phone="+98 912 345 6789",
    )
    address_create(
        actor=admin,
        customer_id=duplicate.pk,
        data={"kind": "home", "line1": "Kheyabane Valiasr 1200", "city": "Tehran", "country": "IR"},
    )
    task = activity_create(
        actor=admin,
        kind="task",
        subject=f"Call back about the offer {HOSTILE}",
        customer_id=duplicate.pk,
        due_at=timezone.now() + datetime.timedelta(days=2),
    )

    b = Browser(browser, live_server, admin, language, direction, screen)
    page = b.page
    page.goto(f"/customers/{kept.pk}/")
    b.check("merge-1-customer")
    page.click(f"a[href='/customers/merge/?ids={kept.pk}']")
    page.wait_for_url("**/customers/merge/?ids=*")
    # Find the duplicate by the start of its name and add it to the merge.
    page.fill("#merge-search", "Leila")
    page.wait_for_selector(f"#pick-{duplicate.pk}")
    page.check(f"#pick-{duplicate.pk}")
    b.check("merge-2-pick-record")
    page.click("main form[method=get] button[type=submit]")
    page.wait_for_selector("input[name=survivor]")
    assert page.locator(f"#survivor-{kept.pk}").is_checked()
    # The first name and the notes of the duplicate, the rest of the kept record.
    assert page.locator(f"#pick-first_name-{kept.pk}").is_checked()
    page.check(f"#pick-first_name-{duplicate.pk}")
    page.check(f"#pick-notes-{duplicate.pk}")
    assert page.locator(f"#pick-last_name-{kept.pk}").is_checked()
    b.check("merge-3-side-by-side")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(f"**/customers/{kept.pk}/")

    # The merged record: the picked values and the duplicate's phone, address and task.
    page.wait_for_selector("#merges-heading")
    assert page.locator("h1").inner_text().strip() == "Leila Sadeghi"
    assert page.get_by_text("Prefers a call after five").count() == 1
    assert page.locator("a[href='tel:+989123456789']").count() == 1
    assert page.locator("#section-addresses").get_by_text("Kheyabane Valiasr 1200").count() == 1
    page.get_by_text(task.subject).first.wait_for()
    b.check("merge-4-merged")
    survivor = Customer.objects.get(pk=kept.pk)
    assert survivor.first_name == "Leila" and survivor.notes == "Prefers a call after five"
    assert survivor.primary_email == "leyla@example.com"
    assert survivor.primary_phone.startswith("+98")
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == kept.pk
    assert Activity.objects.get(pk=task.pk).customer_id == kept.pk
    # The duplicate's page leads to the merged record.
    page.goto(f"/customers/{duplicate.pk}/")
    page.wait_for_url(f"**/customers/{kept.pk}/")

    # Undo from the merged record's history: both records are back as they were.
    page.wait_for_selector("#merges-heading")
    with page.expect_navigation(url=f"**/customers/{kept.pk}/"):
        page.click("form[action$='/undo/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().strip() == "Leyla Sadeghi"
    assert page.locator("#section-addresses").get_by_text("Kheyabane Valiasr 1200").count() == 0
    assert page.locator("a[href='tel:+989123456789']").count() == 0
    b.check("merge-5-undone-kept")
    page.goto(f"/customers/{duplicate.pk}/")
    assert page.url.endswith(f"/customers/{duplicate.pk}/")
    assert page.locator("h1").inner_text().strip() == "Leila Sadeghi"
    assert page.locator("#section-addresses").get_by_text("Kheyabane Valiasr 1200").count() == 1
    assert page.locator("a[href='tel:+989123456789']").count() == 1
    page.get_by_text(task.subject).first.wait_for()
    b.check("merge-6-undone-duplicate")
    b.close()

    assert CustomerMerge.objects.get().undone_at is not None
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None
    assert Activity.objects.get(pk=task.pk).customer_id == duplicate.pk
    assert Address.objects.get(line1="Kheyabane Valiasr 1200").customer_id == duplicate.pk
    restored = Customer.objects.get(pk=kept.pk)
    assert restored.first_name == "Leyla" and restored.notes == "Met at the Tehran fair"
    assert restored.primary_phone == ""


def _privacy_request(b: Browser, customer_id: int, kind: str) -> int:
    """Record a request of ``kind`` from the customer's page; returns the request's number."""
    page = b.page
    page.goto(f"/customers/{customer_id}/")
    page.click("a[href*='/privacy/requests/?subject_kind=customer']")
    page.wait_for_url("**/privacy/requests/?*")
    assert page.locator("#pr-subject-id").input_value() == str(customer_id)
    assert page.locator("#pr-subject-kind").input_value() == "customer"
    page.select_option("#pr-kind", kind)
    b.check(f"privacy-{kind}-1-record")
    page.click("form[action$='/privacy/requests/'] button[type=submit]")
    page.wait_for_url("**/privacy/requests/*/")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_privacy_export_and_erasure(
    browser, live_server, admin, language, direction, screen, tmp_path
):
    from vefa.customers.models import Customer
    from vefa.customers.services import customer_create
    from vefa.interactions.services import interaction_create
    from vefa.privacy.models import PrivacyRequest

    email = "parisa.ahmadi@example.com"
    person = customer_create(
        actor=admin,
        data={"kind": "person", "first_name": "Parisa", "last_name": f"Ahmadi {HOSTILE}"},
        email=email,
        phone="+98 935 111 2233",
    )
    interaction_create(
        actor=admin, customer_id=person.pk, kind="call", subject="Parisa asked for her data"
    )
    b = Browser(browser, live_server, admin, language, direction, screen)
    page = b.page

    # Before: the search finds her by e-mail and by name.
    for query in (email, "Parisa Ahmadi"):
        page.goto(f"/search/?q={query}")
        hits = page.locator("section[aria-labelledby^=group-] a")
        assert hits.filter(has_text="Parisa Ahmadi").count() >= 1, query

    # The export: recorded, prepared (a background job), downloaded.
    export_id = _privacy_request(b, person.pk, "export")
    b.check("privacy-export-2-request")
    page.click(f"form[action$='/privacy/requests/{export_id}/export/'] button")
    page.wait_for_url("**/jobs/*/")
    b.check("privacy-export-3-job")
    page.goto(f"/privacy/requests/{export_id}/")
    b.check("privacy-export-4-ready")
    with page.expect_download() as info:
        page.click("#download-export")
    download = info.value
    assert download.suggested_filename == f"data-subject-export-{export_id}.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        texts = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".json")]
    assert any(email in text for text in texts)
    assert any("Parisa asked for her data" in text for text in texts)
    for text in texts:
        json.loads(text)

    # The erasure: refused without the typed confirmation, done with it.
    erase_id = _privacy_request(b, person.pk, "erasure")
    phrase = page.locator("label[for=erase-confirmation] code").inner_text().strip()
    assert phrase == f"ERASE {person.pk}"
    page.fill("#erase-confirmation", "ERASE 0")
    page.click(f"form[action$='/privacy/requests/{erase_id}/erase/'] button")
    page.wait_for_selector("#erase-confirmation.is-invalid")
    b.check("privacy-erasure-2-refused")
    assert PrivacyRequest.objects.get(pk=erase_id).status == "open"
    assert Customer.objects.filter(primary_email=email).exists()
    page.fill("#erase-confirmation", phrase)
    page.click(f"form[action$='/privacy/requests/{erase_id}/erase/'] button")
    page.wait_for_url("**/jobs/*/")
    b.check("privacy-erasure-3-job")
    page.goto(f"/privacy/requests/{erase_id}/")
    page.wait_for_selector("#deletion-counts")
    b.check("privacy-erasure-4-done")

    # After: nothing is found by the e-mail, nor by the full name (a first name alone in a
    # free text is left: a namesake's).
    for query in (email, "Parisa Ahmadi"):
        page.goto(f"/search/?q={query}")
        assert page.locator("section[aria-labelledby^=group-]").count() == 0, query
        assert page.locator("main p.text-body-secondary").filter(has_text=query).count() == 1
    b.check("privacy-erasure-5-search")
    b.close()
    assert PrivacyRequest.objects.get(pk=erase_id).status == "done"
    assert not Customer.objects.filter(primary_email=email).exists()


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_webhook_to_a_loopback_receiver(
    request, browser, live_server, admin, language, direction, screen
):
    from vefa.customers.services import customer_create
    from vefa.integrations.models import Webhook, WebhookDelivery
    from vefa.integrations.services.delivery import forget_watched_events

    receiver = request.getfixturevalue("webhook_receiver")
    forget_watched_events()
    b = Browser(browser, live_server, admin, language, direction, screen)
    page = b.page
    page.goto("/integrations/webhooks/")
    b.check("webhook-1-list-empty")
    page.click("a[href='/integrations/webhooks/new/']")
    page.wait_for_url("**/integrations/webhooks/new/")
    page.fill("input[name=name]", f"Shop {HOSTILE}")
    page.select_option("select[name=rule_0_event]", "customer.created")
    # Without an address: refused, nothing saved.
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_selector("input[name=url] + .invalid-feedback")
    b.check("webhook-2-form-refused")
    assert Webhook.objects.count() == 0
    page.fill("input[name=url]", receiver.url)
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_selector("#webhook-secret")
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    b.check("webhook-3-secret")
    webhook = Webhook.objects.get()
    page.click(f"a[href='/integrations/webhooks/{webhook.pk}/']")
    page.wait_for_url(f"**/integrations/webhooks/{webhook.pk}/")

    # A customer is created: one signed delivery reaches the receiver and shows in the log.
    customer = customer_create(
        actor=admin, data={"kind": "person", "first_name": "Reza", "last_name": "Karimi"}
    )
    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    assert received.json()["event"] == "customer.created"
    assert received.headers["x-vefa-signature"].startswith("sha256=")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.last_status_code == 200
    page.reload()
    row = page.locator("tbody tr").filter(has_text="customer.created").first
    row.wait_for()
    assert f"#{customer.pk}" in row.inner_text()
    assert "200" in row.inner_text()
    with translation.override(language):
        delivered = str(delivery.get_status_display())
    assert delivered in row.inner_text()
    b.check("webhook-4-delivered")
    b.close()
    forget_watched_events()
