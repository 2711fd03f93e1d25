"""Portal isolation: customer A's contact never reaches B's records on any page, file,
search, export or API call; internal notes never show; sessions do not cross to staff."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.portal.conftest import sign_in
from vefa.accounts.choices import Role
from vefa.portal.models import PortalAccount
from vefa.service.models import TicketMessage

pytestmark = pytest.mark.django_db


def _urls_of(world) -> list[tuple[str, str]]:
    """Every portal URL that names a record, with the record's ids."""
    return [
        ("get", reverse("portal:order", args=[world.order.pk])),
        ("get", reverse("portal:order", args=[world.draft_order.pk])),
        ("get", reverse("portal:return_new", args=[world.order.pk])),
        ("post", reverse("portal:return_new", args=[world.order.pk])),
        ("get", reverse("portal:ticket", args=[world.ticket.pk])),
        ("post", reverse("portal:ticket", args=[world.ticket.pk])),
        ("get", reverse("portal:attachment", args=[world.attachment.pk])),
        ("get", reverse("portal:return", args=[world.return_request.pk])),
    ]


def test_every_url_with_another_customers_ids_is_not_found(client_a, world_a, world_b):
    for method, url in _urls_of(world_b):
        data = {"body": "hello", "reason": "damaged", f"qty_{world_b.order.lines.first().pk}": "1"}
        response = client_a.get(url) if method == "get" else client_a.post(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    # The same URLs with A's own ids answer (the draft order is internal: not found either).
    own = [u for u in _urls_of(world_a) if u[0] == "get"]
    for _method, url in own:
        expected = 404 if str(world_a.draft_order.pk) in url.split("/") else 200
        assert client_a.get(url).status_code == expected, url
    # Nothing was written for B.
    assert TicketMessage.objects.filter(ticket=world_b.ticket, body="hello").count() == 0
    assert world_b.order.returns.count() == 1


def test_answering_another_customers_survey_is_not_found(client_a, world_b):
    response = client_a.post(
        reverse("portal:surveys"), {"invitation": world_b.invitation.pk, "score": "9"}
    )
    assert response.status_code == 404
    world_b.invitation.refresh_from_db()
    assert world_b.invitation.responded_at is None


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999999", "1.5", ""])
def test_bad_ids_are_not_found_never_errors(client_a, value):
    for name in ("portal:ticket", "portal:order", "portal:return", "portal:attachment"):
        url = reverse(name, args=[1]).replace("/1/", f"/{value}/")
        assert client_a.get(url).status_code == 404, url


def test_lists_show_only_own_records_and_never_internal_notes(client_a, world_a, world_b):
    pages = {
        "/portal/": [world_a.ticket.number],
        "/portal/orders/": [world_a.order.number],
        "/portal/documents/": [world_a.quote.number, world_a.contract.number],
        "/portal/tickets/": [world_a.ticket.number],
        "/portal/returns/": [world_a.return_request.number],
        "/portal/surveys/": [],
        f"/portal/tickets/{world_a.ticket.pk}/": ["A we are sending a new one", "A-label.txt"],
        f"/portal/orders/{world_a.order.pk}/": ["A-Kargo", "TRK-A-1"],
    }
    forbidden = [
        world_b.order.number,
        world_b.ticket.number,
        world_b.quote.number,
        world_b.contract.number,
        world_b.return_request.number,
        "B-Kargo",
        "INTERNAL-",
        world_a.draft_quote.number,
        world_a.draft_order.number,
    ]
    for url, expected in pages.items():
        html = client_a.get(url).content.decode()
        for text in expected:
            assert text in html, (url, text)
        for text in forbidden:
            assert text not in html, (url, text)


def test_data_download_holds_nothing_of_b_and_no_notes(client_a, world_a, world_b):
    response = client_a.get(reverse("portal:export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    text = response.content.decode()
    assert data["customer"]["name"] == world_a.customer.display_name
    assert [o["number"] for o in data["orders"]] == [world_a.order.number]
    assert [t["number"] for t in data["tickets"]] == [world_a.ticket.number]
    assert {m["kind"] for m in data["tickets"][0]["messages"]} == {"customer", "reply"}
    for secret in (
        world_b.customer.display_name,
        world_b.order.number,
        world_b.ticket.number,
        world_b.contact.display_name,
        "INTERNAL-",
        world_a.draft_quote.number,
    ):
        assert secret not in text, secret


def test_knowledge_search_finds_public_articles_only(client_a, agent):
    from vefa.service.services.knowledge import article_create

    for slug, visibility, title in (
        ("kahve-iade", "public", "Kahve makinesi iade"),
        ("kahve-gizli", "internal", "Kahve makinesi indirim kodlari"),
    ):
        article_create(
            actor=agent,
            data={
                "slug": slug,
                "visibility": visibility,
                "status": "published",
                "translations": {"en": {"title": title, "body": f"{title} text"}},
            },
        )
    html = client_a.get(reverse("portal:help"), {"q": "kahve makinesi"}).content.decode()
    assert "Kahve makinesi iade" in html
    assert "indirim" not in html
    assert client_a.get(reverse("portal:help_article", args=["kahve-gizli"])).status_code == 404
    assert client_a.get(reverse("portal:help_article", args=["kahve-iade"])).status_code == 200


def test_portal_session_reaches_no_staff_page_or_api(client_a, world_a):
    assert client_a.get(reverse("portal:home")).status_code == 200
    for url in (
        "/api/v1/customers/",
        "/api/v1/service/tickets/",
        f"/api/v1/customers/{world_a.customer.pk}",
    ):
        response = client_a.get(url)
        assert response.status_code in (401, 403, 404), (url, response.status_code)
    for url in ("/", "/customers/", f"/customers/{world_a.customer.pk}/", "/service/", "/admin/"):
        response = client_a.get(url)
        assert response.status_code == 302, url
        assert "/portal/" not in response["Location"]
    response = client_a.get(reverse("portal:staff_accounts"), {"customer": world_a.customer.pk})
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_a_staff_user_is_not_signed_in_to_the_portal(world_a, admin_user):
    staff = Client()
    staff.force_login(admin_user)
    response = staff.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert staff.get(reverse("portal:attachment", args=[world_a.attachment.pk])).status_code == 302


def test_staff_and_portal_sign_ins_in_one_browser_stay_apart(world_a, admin_user):
    browser = Client()
    browser.force_login(admin_user)
    sign_in(browser, world_a.account)
    assert browser.get("/customers/").status_code == 200
    browser.post(reverse("portal:logout"))
    assert browser.get(reverse("portal:home")).status_code == 302
    assert browser.get("/customers/").status_code == 200


def test_a_switched_off_account_loses_its_session(client_a, world_a):
    PortalAccount.objects.filter(pk=world_a.account.pk).update(is_active=False)
    assert client_a.get(reverse("portal:home")).status_code == 302


def test_staff_access_page_is_hidden_from_other_teams(world_a, other_team):
    outsider = UserFactory(role=Role.SALES_REP, team=other_team)
    client = Client()
    client.force_login(outsider)
    response = client.get(reverse("portal:staff_accounts"), {"customer": world_a.customer.pk})
    assert response.status_code == 404
