"""POST /api/v1/service/inbound/email: a raw message from a mail relay with an administrator's
token opens a ticket (201), threads (201), is a duplicate or ignored (200); other callers,
content types and oversized messages are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.service.models import Ticket, TicketMessage

EML = Path(__file__).parent / "eml"
URL = "/api/v1/service/inbound/email"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_key(admin_user):
    return api_token_create(actor=admin_user, user=admin_user, name="mail relay")[1]


def post(client, raw: bytes, key: str | None, content_type: str = "message/rfc822", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.generic("POST", URL, raw, content_type=content_type, **headers, **extra)


def test_a_new_message_opens_a_ticket_and_a_repeat_is_a_duplicate(
    client, admin_key, queue, agent, customer
):
    raw = (EML / "tr_new_ticket.eml").read_bytes()
    response = post(client, raw, admin_key)
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["status"] == "created" and body["threaded"] is False
    assert (body["ticket"], body["ticket_id"]) == (ticket.number, ticket.pk)
    assert body["message_id"] == TicketMessage.objects.get().pk
    again = post(client, raw, admin_key, content_type="application/octet-stream")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate" and again.json()["ticket"] is None
    assert Ticket.objects.count() == 1


def test_a_reply_threads(client, admin_key, queue, agent, customer):
    post(client, (EML / "tr_new_ticket.eml").read_bytes(), admin_key)
    raw = (EML / "tr_reply_references.eml").read_bytes()
    response = post(client, raw, admin_key)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "threaded" and body["threaded"] is True
    assert body["ticket"] == Ticket.objects.get().number


def test_automatic_mail_is_acknowledged_and_ignored(client, admin_key, queue):
    response = post(client, (EML / "auto_reply.eml").read_bytes(), admin_key)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert response.json()["reason"] == "auto-submitted"
    assert not Ticket.objects.exists()


def test_only_an_administrators_token_is_accepted(client, queue, admin_user):
    raw = (EML / "tr_new_ticket.eml").read_bytes()
    assert post(client, raw, None).status_code == 401
    assert post(client, raw, "vefa_not-a-real-token").status_code == 401
    agent = UserFactory(role=Role.SERVICE_AGENT)
    agent_key = api_token_create(actor=agent, user=agent, name="mine")[1]
    refused = post(client, raw, agent_key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    # A browser session is not enough, even an administrator's.
    client.force_login(admin_user)
    assert post(client, raw, None).status_code == 401
    assert not Ticket.objects.exists()


def test_the_x_api_key_header_works_too(client, admin_key, queue, agent):
    raw = (EML / "tr_windows1254.eml").read_bytes()
    response = client.generic(
        "POST", URL, raw, content_type="message/rfc822", HTTP_X_API_KEY=admin_key
    )
    assert response.status_code == 201


def test_another_content_type_is_refused(client, admin_key, queue):
    response = post(client, b'{"subject": "x"}', admin_key, content_type="application/json")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Ticket.objects.exists()


def test_an_empty_body_is_refused_with_a_field_error(client, admin_key, queue):
    response = post(client, b"  \r\n", admin_key)
    assert response.status_code == 422
    assert "message" in response.json()["fields"]


def test_an_oversized_message_is_413(client, admin_key, queue, settings):
    settings.VEFA_SERVICE_INBOUND_MAX_BYTES = 1024
    raw = (EML / "attachments_pdf_png.eml").read_bytes()
    response = post(client, raw, admin_key)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Ticket.objects.exists()


def test_a_message_larger_than_the_form_limit_is_still_taken(
    client, admin_key, queue, agent, customer, settings
):
    # Raw mail is limited by the mail limit, not by Django's form-data limit.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    raw = (EML / "attachments_pdf_png.eml").read_bytes()
    assert len(raw) > 1024
    response = post(client, raw, admin_key)
    assert response.status_code == 201


def test_hostile_content_comes_back_as_json_text(client, admin_key, queue, agent):
    response = post(client, (EML / "hostile_html_only.eml").read_bytes(), admin_key)
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    message = TicketMessage.objects.get()
    assert "onerror" not in message.body and "<iframe" not in message.body
