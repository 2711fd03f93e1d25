"""The sender's fast path: the MIME message written directly, link signatures with a cached
key, URL patterns reversed once, recommendations per batch, the one-statement claim with
the cap counted in it, and the query count of a batch."""

from __future__ import annotations

import datetime
import email
import email.policy
import functools
from contextlib import closing

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tests.marketing_sending.conftest import HOSTILE, customer_with_consent, sending_campaign
from tests.smtp import Inbox, running
from vefa.marketing import rendering
from vefa.marketing.channels import build_email
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import Campaign, CampaignRecipient
from vefa.marketing.rendering import (
    RenderedMessage,
    click_url,
    link_signature,
    one_click_url,
    open_pixel_url,
    recommended_products_for,
    register_recommendation_source,
    unsubscribe_url,
    view_url,
)
from vefa.marketing.services.sending import _claim, send_batch

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def _parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


@pytest.mark.parametrize("subject", ["Spring sale", *HOSTILE, "ş" * 400, "a " * 600])
def test_built_message_parses_back_to_the_same_texts(subject):
    rendered = RenderedMessage(
        subject=subject,
        html="<p>Merhaba Ayşe — «özel»</p>" + "x" * 5000,
        text="Merhaba Ayşe\n.\n..leading dots\n" + "y" * 3000,
        headers={"List-Unsubscribe": "<https://crm.example/marketing/u/ab/one-click/>"},
    )
    data = build_email(
        rendered=rendered,
        sender="news@shop.example",
        sender_name="Bahar Mağazası",
        to="ayse@example.com",
        message_id="<abc@shop.example>",
        reply_to="help@shop.example",
        organisation="İstiklal Cd. 1, İstanbul",
    )
    assert data.isascii()
    lines = data.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    message = _parse(data)
    assert message["Subject"] == subject
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Bahar Mağazası", "news@shop.example")
    assert message["Organization"] == "İstiklal Cd. 1, İstanbul"
    assert message["Message-ID"] == "<abc@shop.example>"
    assert message["Reply-To"] == "help@shop.example"
    assert message["List-Unsubscribe"] == rendered.headers["List-Unsubscribe"]
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert parts["text/plain"] == rendered.text
    assert parts["text/html"] == rendered.html


def test_built_message_without_html_is_plain_text_and_headers_cannot_be_injected():
    rendered = RenderedMessage(subject="Hi\r\nBcc: evil@example.com", html="", text="")
    data = build_email(
        rendered=rendered,
        sender="news@shop.example",
        sender_name="Shop\nBcc: evil@example.com",
        to="a@example.com",
        message_id="<x@shop.example>",
    )
    message = _parse(data)
    assert message.get_content_type() == "text/plain"
    assert message["Bcc"] is None
    assert "evil@example.com" in message["Subject"]
    assert message.get_content().strip() == ""


def test_link_signature_is_djangos_salted_hmac_and_follows_the_secret_key():
    token = "ab" * 16
    expected = salted_hmac("vefa.marketing.click", f"{token}.42").hexdigest()[:24]
    assert link_signature(token, 42) == expected
    with override_settings(SECRET_KEY="another-secret-" + "k" * 40):
        other = link_signature(token, 42)
        assert other == salted_hmac("vefa.marketing.click", f"{token}.42").hexdigest()[:24]
    assert other != expected
    assert link_signature(token, 42) == expected


@override_settings(VEFA_BASE_URL="https://crm.example")
def test_recipient_urls_match_the_url_configuration():
    token = "cd" * 16
    signature = link_signature(token, 7)
    base = "https://crm.example"
    assert click_url(token, 7) == base + reverse(
        "marketing:track_click", kwargs={"token": token, "link_id": 7, "signature": signature}
    )
    for build, name in [
        (unsubscribe_url, "marketing:unsubscribe"),
        (one_click_url, "marketing:unsubscribe_one_click"),
        (view_url, "marketing:view_message"),
        (open_pixel_url, "marketing:track_open"),
    ]:
        assert build(token) == base + reverse(name, kwargs={"token": token})


def test_recommendations_for_a_batch_ask_a_batch_source_once(db, monkeypatch):
    monkeypatch.setattr(rendering, "_recommendation_sources", [])
    monkeypatch.setattr(rendering, "_recommendation_batches", {})
    calls: list[list[int]] = []

    def one(customer_id, limit):
        raise AssertionError("the batch form is used")

    def many(customer_ids, limit):
        calls.append(list(customer_ids))
        return {pk: [{"name": f"P{pk}", "sku": "S", "url": ""}] for pk in customer_ids if pk % 2}

    def fallback(customer_id, limit):
        return [{"name": "Tea", "sku": "T", "url": "", "extra": "dropped"}, "not a dict"]

    register_recommendation_source(one, many=many)
    register_recommendation_source(fallback)
    found = recommended_products_for([1, 2, 3, 4])
    assert calls == [[1, 2, 3, 4]]
    assert found[1] == [{"name": "P1", "sku": "S", "url": ""}]
    assert found[2] == [{"name": "Tea", "sku": "T", "url": ""}]
    assert recommended_products_for([]) == {}


def _pending_campaign(owner, template, customers):
    return sending_campaign(owner, template, customers, name="Fast")


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND=LOCMEM)
def test_batch_queries_grow_by_the_claims_only(marketer, template, rules):
    """Per message only the claim touches the database; the rest is per batch."""

    def queries(n: int, start: int) -> int:
        customers = [customer_with_consent(start + i) for i in range(n)]
        campaign = _pending_campaign(marketer, template, customers)
        send_batch(campaign.pk)  # warms the per-process caches (compiled templates, URLs)
        CampaignRecipient.objects.filter(campaign=campaign).update(
            status=RecipientStatus.PENDING, claimed_at=None, sent_at=None
        )
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        from vefa.interactions.models import Interaction

        Interaction.objects.filter(related_id=campaign.pk).delete()
        with CaptureQueriesContext(connection) as captured:
            result = send_batch(campaign.pk)
        assert result.sent == n
        return len(captured.captured_queries)

    small, large = queries(2, 0), queries(6, 100)
    # A claim is one round trip: one statement (on PostgreSQL with the customer's lock).
    assert large - small == 4
    rows = CampaignRecipient.objects.filter(status=RecipientStatus.SENT)
    assert all(row.sent_at == row.claimed_at for row in rows)
    assert len(mail.outbox) == 2 * 2 + 2 * 6


@pytest.mark.django_db
def test_claim_counts_the_cap_in_its_statement(marketer, template, rules):
    from vefa.marketing.services.sending import ContactCap

    customer = customer_with_consent(1, contact_frequency_days=7)
    first = _pending_campaign(marketer, template, [customer])
    second = _pending_campaign(marketer, template, [customer])
    row = CampaignRecipient.objects.select_related("customer").get(campaign=first)
    cap = ContactCap(messages=5, days=30)
    assert _claim(row, address="c1@example.com", language="tr", message_id="<a@x>", cap=cap)
    assert row.claimed_at is not None
    # Claimed once: a second claim of the same row is refused and changes nothing.
    assert not _claim(row, address="c1@example.com", language="tr", message_id="<b@x>", cap=cap)
    stored = CampaignRecipient.objects.get(pk=row.pk)
    assert stored.message_id == "<a@x>" and stored.attempts == 1
    assert stored.claimed_at == row.claimed_at
    # The customer wants one message a week: the other campaign's row is capped.
    other = CampaignRecipient.objects.select_related("customer").get(campaign=second)
    assert not _claim(other, address="c1@example.com", language="tr", message_id="<c@x>", cap=cap)
    other.refresh_from_db()
    assert other.status == RecipientStatus.CAPPED and "7" in other.reason
    assert other.claimed_at is None
    # A week later the interval is over; the global cap (one message) still stops it.
    CampaignRecipient.objects.filter(pk=row.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(days=8),
        sent_at=timezone.now() - datetime.timedelta(days=8),
        status=RecipientStatus.SENT,
    )
    CampaignRecipient.objects.filter(pk=other.pk).update(status=RecipientStatus.PENDING)
    other.refresh_from_db()
    tight = ContactCap(messages=1, days=30)
    assert not _claim(other, address="c1@example.com", language="tr", message_id="<d@x>", cap=tight)
    other.refresh_from_db()
    assert other.status == RecipientStatus.CAPPED and "1" in other.reason
    CampaignRecipient.objects.filter(pk=other.pk).update(status=RecipientStatus.PENDING)
    assert _claim(other, address="c1@example.com", language="tr", message_id="<e@x>", cap=cap)


class _RefusingInbox(Inbox):
    """Accepts every recipient except those named in ``refuse`` (code per address)."""

    def __init__(self, refuse: dict[str, str]) -> None:
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _claimed(claims: list[str], address: str) -> bool:
    claims.append(address)
    return True


@pytest.mark.parametrize("pipelining", [True, False])
def test_smtp_session_with_and_without_pipelining(pipelining, monkeypatch):
    import smtplib

    from vefa.marketing.channels import SmtpSession

    real_has_extn = smtplib.SMTP.has_extn

    def has_extn(self, name):
        if name.lower() == "pipelining":
            return pipelining
        return real_has_extn(self, name)

    monkeypatch.setattr(smtplib.SMTP, "has_extn", has_extn)
    sent_commands: list[bytes] = []
    real_send = smtplib.SMTP.send

    def send(self, data):
        sent_commands.append(data if isinstance(data, bytes) else data.encode())
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", send)
    inbox = _RefusingInbox(
        {"gone@example.com": "550 No such user", "busy@example.com": "450 Try later"}
    )
    claims: list[str] = []
    with running(inbox) as port, closing(SmtpSession(host="127.0.0.1", port=port)) as session:
        outcomes = {}
        for address in ["a@example.com", "gone@example.com", "busy@example.com", "b@example.com"]:
            outcomes[address] = session.deliver(
                sender="news@shop.example",
                recipient=address,
                data=b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n",
                claim=functools.partial(_claimed, claims, address),
            )
        declined = session.deliver(
            sender="news@shop.example",
            recipient="c@example.com",
            data=b"Subject: hi\r\n\r\nbody\r\n",
            claim=lambda: False,
        )
    assert outcomes["a@example.com"].result == "sent"
    assert outcomes["b@example.com"].result == "sent"
    assert outcomes["gone@example.com"].result == "refused"
    assert "550" in outcomes["gone@example.com"].detail
    assert outcomes["busy@example.com"].result == "deferred"
    assert declined.result == "skipped"
    # Claimed only what was accepted up to the final dot; delivered only what was claimed.
    assert claims == ["a@example.com", "b@example.com"]
    assert [address for envelope in inbox.messages for address in envelope.rcpt_tos] == claims
    assert all(b"..leading dot" not in envelope.content for envelope in inbox.messages)
    together = [data for data in sent_commands if data.startswith(b"MAIL FROM:")]
    assert bool(together) == pipelining
