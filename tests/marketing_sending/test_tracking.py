"""Public endpoints: signed click redirects, opens, unsubscribe page and one-click POST,
bounces and replies; the suppressions page and its permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory
from tests.marketing_sending.conftest import customer_with_consent, make_campaign
from vefa.accounts.choices import Role
from vefa.customers.choices import ConsentStatus
from vefa.customers.models import Consent
from vefa.interactions.models import Interaction
from vefa.marketing.choices import MessageEventKind, SuppressionReason
from vefa.marketing.models import (
    CampaignLink,
    CampaignRecipient,
    MessageEvent,
    Suppression,
)
from vefa.marketing.rendering import click_url, link_signature
from vefa.marketing.services.tracking import (
    handle_bounce,
    parse_bounce,
    record_reply,
)

pytestmark = pytest.mark.django_db

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def sent(marketer, template, rules):
    customer = customer_with_consent(1)
    campaign = make_campaign(marketer, template, [customer])
    recipient = CampaignRecipient.objects.create(
        campaign=campaign,
        customer=customer,
        token=TOKEN,
        status="sent",
        address="c1@example.com",
        message_id=f"<{TOKEN}@vefa.example>",
    )
    link = CampaignLink.objects.create(
        campaign=campaign, url="https://shop.example/a?b=1", url_hash="h1"
    )
    return recipient, link


def test_click_redirects_only_to_the_stored_url(sent):
    recipient, link = sent
    client = Client()
    url = click_url(TOKEN, link.pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/a?b=1"
    client.get(url)
    link.refresh_from_db()
    recipient.refresh_from_db()
    assert link.clicks == 2
    assert recipient.clicked_at is not None
    assert MessageEvent.objects.filter(recipient=recipient, kind="clicked").count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/marketing/r/{t}/{l}/{bad}/",
        "/marketing/r/{other}/{l}/{sig}/",
        "/marketing/r/{t}/{l2}/{sig}/",
        "/marketing/r/%3Cscript%3E/{l}/{sig}/",
        "/marketing/r/{t}/{l}/'%20OR%201=1--/",
    ],
)
def test_forged_click_links_are_not_found(sent, path):
    recipient, link = sent
    other = make_campaign(recipient.campaign.owner, recipient.variant or _template(), [])
    foreign = CampaignLink.objects.create(campaign=other, url="https://evil.example", url_hash="e")
    url = path.format(
        t=TOKEN,
        l=link.pk,
        l2=foreign.pk,
        other="f" * 32,
        bad="0" * 24,
        sig=link_signature(TOKEN, link.pk),
    )
    response = Client().get(url)
    assert response.status_code == 404
    assert "evil.example" not in response.get("Location", "")


def _template():
    from vefa.marketing.models import MessageTemplate

    return MessageTemplate.objects.first()


def test_one_click_unsubscribe(sent):
    recipient, _link = sent
    client = Client(enforce_csrf_checks=True)
    url = reverse("marketing:unsubscribe_one_click", kwargs={"token": TOKEN})
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    again = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    suppression = Suppression.objects.get(channel="email", address="c1@example.com")
    assert suppression.reason == SuppressionReason.UNSUBSCRIBED
    latest = Consent.objects.filter(customer=recipient.customer, channel="email").first()
    assert latest.status == ConsentStatus.WITHDRAWN
    assert (
        MessageEvent.objects.filter(recipient=recipient, kind=MessageEventKind.UNSUBSCRIBED).count()
        == 1
    )
    assert Interaction.objects.filter(
        customer=recipient.customer, related_model="marketing.campaign", direction="inbound"
    ).exists()
    assert client.post(url, {"List-Unsubscribe": "Other"}).status_code == 400
    unknown = reverse("marketing:unsubscribe_one_click", kwargs={"token": "e" * 32})
    assert client.post(unknown, {"List-Unsubscribe": "One-Click"}).status_code == 404


def test_unsubscribe_page_asks_then_unsubscribes(sent):
    client = Client(enforce_csrf_checks=True)
    url = reverse("marketing:unsubscribe", kwargs={"token": TOKEN})
    page = client.get(url)
    assert page.status_code == 200
    assert b"unsubscribe-confirm" in page.content
    assert not Suppression.objects.exists()
    # The page's own form is protected by CSRF.
    assert client.post(url).status_code == 403
    token = page.cookies["csrftoken"].value
    done = client.post(url, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200
    assert b'id="unsubscribed"' in done.content
    assert Suppression.objects.filter(address="c1@example.com").exists()
    assert (
        Client().get(reverse("marketing:unsubscribe", kwargs={"token": "a" * 32})).status_code
        == 404
    )


@override_settings(VEFA_BASE_URL="https://crm.example")
def test_open_pixel_only_when_allowed(sent, rules):
    recipient, _link = sent
    url = reverse("marketing:track_open", kwargs={"token": TOKEN})
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    recipient.refresh_from_db()
    assert recipient.opened_at is None
    rules.track_opens = True
    rules.save()
    Client().get(url)
    recipient.refresh_from_db()
    assert recipient.opened_at is not None


def _dsn(address: str, action: str, status: str, message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example\r\n"
        "To: news@vefa.example\r\n"
        "Subject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <script>no such user</script>\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nSubject: Spring\r\n\r\n--B--\r\n"
    ).encode()


def test_hard_bounce_suppresses(sent):
    recipient, _link = sent
    raw = _dsn("C1@Example.com", "failed", "5.1.1", recipient.message_id)
    [bounce] = parse_bounce(raw)
    assert bounce.hard and bounce.message_id == recipient.message_id
    assert handle_bounce(raw) == 1
    row = Suppression.objects.get(channel="email", address="c1@example.com")
    assert row.reason == SuppressionReason.HARD_BOUNCE
    recipient.refresh_from_db()
    assert recipient.bounced_at is not None


def test_soft_bounces_counted_up_to_the_limit(sent, rules):
    recipient, _link = sent
    rules.soft_bounce_limit = 2
    rules.save()
    from vefa.marketing.selectors.sending import suppressed_addresses

    raw = _dsn("c1@example.com", "delayed", "4.2.2", recipient.message_id)
    handle_bounce(raw)
    assert suppressed_addresses("email", ["c1@example.com"]) == set()
    handle_bounce(raw)
    assert suppressed_addresses("email", ["c1@example.com"]) == {"c1@example.com"}


def test_not_a_bounce():
    assert parse_bounce(b"Subject: hi\r\n\r\nhello") == []
    assert parse_bounce(b"\x00\xff garbage") == []


def test_reply_recognised(sent):
    recipient, _link = sent
    assert record_reply(in_reply_to=recipient.message_id)
    assert not record_reply(in_reply_to="<other@x>")
    recipient.refresh_from_db()
    assert recipient.replied_at is not None


def test_suppressions_page_and_permissions(marketer, rules):
    client = Client()
    client.force_login(marketer)
    page = client.get(reverse("marketing:suppression_list"))
    assert page.status_code == 200
    added = client.post(
        reverse("marketing:suppression_add"),
        {"channel": "email", "address": " Bad@Example.com ", "note": "<script>x</script>"},
    )
    assert added.status_code == 302
    row = Suppression.objects.get(address="bad@example.com")
    listing = client.get(reverse("marketing:suppression_list"))
    assert b"&lt;script&gt;x&lt;/script&gt;" in listing.content
    invalid = client.post(
        reverse("marketing:suppression_add"), {"channel": "email", "address": "=1+1"}
    )
    assert invalid.status_code == 422
    no_reason = client.post(reverse("marketing:suppression_remove", args=[row.pk]), {})
    assert no_reason.status_code == 302
    assert Suppression.objects.filter(pk=row.pk).exists()
    rep = UserFactory(role=Role.SALES_REP)
    other = Client()
    other.force_login(rep)
    assert (
        other.post(
            reverse("marketing:suppression_remove", args=[row.pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    client.post(reverse("marketing:suppression_remove", args=[row.pk]), {"reason": "asked"})
    assert not Suppression.objects.filter(pk=row.pk).exists()
    assert Client().get(reverse("marketing:suppression_list")).status_code == 302


def test_view_in_browser(sent):
    recipient, _link = sent
    variant = recipient.campaign.variants.first()
    CampaignRecipient.objects.filter(pk=recipient.pk).update(variant=variant)
    response = Client().get(reverse("marketing:view_message", kwargs={"token": TOKEN}))
    assert response.status_code == 200
    assert "script-src 'none'" in response["Content-Security-Policy"]


def _queries(call) -> tuple[Any, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_click_queries_are_pinned(sent):
    """The first click: one read, the link's count, the recipient's first click and its
    event. A later click: the read and the count."""
    _recipient, link = sent
    client = Client()
    url = click_url(TOKEN, link.pk)
    response, first = _queries(lambda: client.get(url))
    assert response.status_code == 302
    assert len(first) == 4, first
    response, later = _queries(lambda: client.get(url))
    assert response.status_code == 302
    assert len(later) == 2, later
    link.refresh_from_db()
    assert link.clicks == 2
    forged = url.replace(link_signature(TOKEN, link.pk), "0" * 24)
    response, none = _queries(lambda: client.get(forged))
    assert response.status_code == 404 and none == []


def test_a_soft_bounce_row_becomes_an_unsubscribe_and_others_stay(sent):
    recipient, _link = sent
    Suppression.objects.create(
        channel="email", address="c1@example.com", reason=SuppressionReason.SOFT_BOUNCES
    )
    url = reverse("marketing:unsubscribe_one_click", kwargs={"token": TOKEN})
    response, queries = _queries(lambda: Client().post(url, {"List-Unsubscribe": "One-Click"}))
    assert response.status_code == 200
    # Recipient, suppression (insert and upgrade), consent (read, insert and its change
    # log), the recipient's time, its event and the contact history.
    assert len(queries) == 9, queries
    row = Suppression.objects.get(channel="email", address="c1@example.com")
    assert row.reason == SuppressionReason.UNSUBSCRIBED
    assert Suppression.objects.count() == 1
    # An address suppressed for another reason keeps that reason.
    Suppression.objects.filter(pk=row.pk).update(reason=SuppressionReason.HARD_BOUNCE)
    CampaignRecipient.objects.filter(pk=recipient.pk).update(unsubscribed_at=None)
    Client().post(url, {"List-Unsubscribe": "One-Click"})
    assert Suppression.objects.get(pk=row.pk).reason == SuppressionReason.HARD_BOUNCE
