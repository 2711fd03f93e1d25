"""The CSAT invitation travels by SMTP after the ticket is resolved: a real server on
loopback receives one message in the customer's language with a link that works once."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.test import Client

from vefa.service.models import SurveyInvitation, Ticket
from vefa.service.services import surveys as services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.smtp]


def test_csat_invitation_is_mailed_once_with_a_working_link(
    smtp_server,
    settings,
    agent,
    team,
    queue,
    customer,
):
    settings.VEFA_BASE_URL = "https://crm.example.com"
    customer.language = "tr"
    customer.save()
    ticket = Ticket.objects.create(
        number="T-2026-000555",
        subject="İade",
        customer=customer,
        queue=queue,
        owner=agent,
        team=team,
        status="resolved",
    )
    invitation = services.csat_request(ticket_id=ticket.pk)
    assert services.csat_request(ticket_id=ticket.pk).pk == invitation.pk
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["ayse@example.com"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert "T-2026-000555" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    link = next(line for line in body.splitlines() if line.startswith("https://crm.example.com"))
    path = link.removeprefix("https://crm.example.com")
    client = Client()
    assert client.get(path).status_code == 200
    assert client.post(path, {"score": "5"}).status_code == 200
    assert client.post(path, {"score": "1"}).status_code == 404
    assert SurveyInvitation.objects.get(pk=invitation.pk).score == 5
    # The task ran once more (delivered twice): no second message.
    assert services.invitation_send(invitation_id=invitation.pk) is False
    assert len(smtp_server.messages) == 1
