"""Sending a quote from Vefa: a real SMTP server receives the PDF, the quote is marked sent and
the e-mail is in the customer's contact history; a refusing server changes nothing."""

from __future__ import annotations

import email
import io
from email import policy

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.customers.factories import make_customer
from tests.sales.test_quotes_fixtures import make_quote
from vefa.common.errors import ValidationFailed
from vefa.interactions.models import Interaction
from vefa.sales.choices import QuoteStatus
from vefa.sales.models import Quote
from vefa.sales.services import quotes as services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.smtp]


def _message(envelope):
    return email.message_from_bytes(envelope.content, policy=policy.default)


def test_sending_mails_the_pdf_and_logs_the_email(smtp_server, rep, team):
    customer = make_customer(
        owner=rep,
        team=team,
        first_name="Đorđe",
        last_name="Čolić",
        primary_email="djordje@example.rs",
    )
    quote = make_quote(rep, customer, language="sr-latn")
    sent = services.quote_send(actor=rep, quote_id=quote.pk, message="Poštovani,")
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["djordje@example.rs"]
    message = _message(envelope)
    assert quote.number in message["Subject"]
    attachments = [
        p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    assert len(attachments) == 1
    assert attachments[0].get_filename() == f"{quote.number}-1.pdf"
    pdf = attachments[0].get_content()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Đorđe Čolić" in text
    assert "Poštovani," in message.get_body(("plain",)).get_content()
    assert sent.status == QuoteStatus.SENT and sent.sent_at is not None
    logged = Interaction.objects.get(related_model="sales.quote", related_id=quote.pk)
    assert (logged.kind, logged.channel, logged.customer_id) == ("email", "email", customer.pk)
    assert logged.amount == quote.total and logged.currency == "TRY"
    customer.refresh_from_db()
    assert customer.last_interaction_at is not None


def test_the_contact_person_gets_it_first_and_the_address_can_be_given(
    smtp_server,
    rep,
    team,
):
    company = make_customer(
        owner=rep,
        team=team,
        kind="organisation",
        trade_name="Kahve A.Ş.",
        primary_email="info@kahve.example",
    )
    person = make_customer(owner=rep, team=team, primary_email="ayse@kahve.example")
    quote = make_quote(rep, company, contact=person.pk)
    assert services.recipient_of(quote) == "ayse@kahve.example"
    services.quote_send(actor=rep, quote_id=quote.pk, to="satin.alma@kahve.example")
    smtp_server.wait_for(1)
    assert smtp_server.messages[0].rcpt_tos == ["satin.alma@kahve.example"]


def test_no_address_or_a_bad_one_is_refused(smtp_server, rep, own_customer):
    quote = make_quote(rep, own_customer)
    with pytest.raises(ValidationFailed) as error:
        services.quote_send(actor=rep, quote_id=quote.pk)
    assert "to" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.quote_send(actor=rep, quote_id=quote.pk, to="not an address\r\nBcc: x@y.z")
    assert "to" in error.value.fields
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
    assert not smtp_server.messages


def test_a_refusing_mail_server_changes_nothing(settings, rep, team):
    customer = make_customer(owner=rep, team=team, primary_email="a@example.com")
    quote = make_quote(rep, customer)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens
    settings.EMAIL_TIMEOUT = 2
    with pytest.raises(services.MailFailed):
        services.quote_send(actor=rep, quote_id=quote.pk)
    stored = Quote.objects.get(pk=quote.pk)
    assert (stored.status, stored.sent_at, stored.version) == (
        QuoteStatus.DRAFT,
        None,
        quote.version,
    )
    assert not Interaction.objects.filter(related_model="sales.quote").exists()


def test_the_send_page_mails_and_redirects(smtp_server, client, rep, team):
    customer = make_customer(
        owner=rep, team=team, first_name="علی", last_name="رضایی", primary_email="ali@example.ir"
    )
    quote = make_quote(
        rep,
        customer,
        language="fa",
        currency="IRR",
        lines=[{"description": "خدمات", "unit_price": "1000"}],
    )
    client.force_login(rep)
    page = client.get(reverse("sales:quote_send", args=[quote.pk]))
    assert page.status_code == 200
    assert b"ali@example.ir" in page.content
    response = client.post(
        reverse("sales:quote_send", args=[quote.pk]),
        {"to": "ali@example.ir", "message": "<script>alert(1)</script>", "version": quote.version},
    )
    assert response.status_code == 302
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT


def test_the_api_sends_and_answers_502_when_the_server_refuses(settings, client, rep, team):
    customer = make_customer(owner=rep, team=team, primary_email="a@example.com")
    quote = make_quote(rep, customer)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9
    settings.EMAIL_TIMEOUT = 2
    client.force_login(rep)
    response = client.post(
        f"/api/v1/sales/quotes/{quote.pk}/send", {}, content_type="application/json"
    )
    assert response.status_code == 502
    assert response.json()["code"] == "mail_failed"
