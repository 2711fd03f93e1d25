"""A ticket in a real browser: an agent finds it in their queue, opens it, replies to the
customer and resolves it — the conversation and the status change without a page load."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.test_page_tour import PASSWORD
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(transactional_db):
    from tests.customers.factories import make_customer
    from vefa.service.models import Queue, SlaPolicy
    from vefa.service.services.tickets import ticket_create

    team = TeamFactory(name="Destek")
    agent = UserFactory(
        email="zeynep@example.com", full_name="Zeynep Kaya", role=Role.SERVICE_AGENT, team=team
    )
    Queue.objects.create(name="Destek", team=team, is_default=True)
    SlaPolicy.objects.create(name="Standart", first_response_minutes=60, resolution_minutes=480)
    customer = make_customer(
        owner=agent, team=team, first_name="Ayşe", last_name="Yılmaz", primary_email="a@example.com"
    )
    ticket = ticket_create(
        actor=None,
        data={
            "subject": "Sipariş <script>alert(1)</script> gelmedi",
            "description": "Siparişim bir haftadır yolda.",
            "customer": customer.pk,
            "type": "complaint",
            "channel": "email",
        },
    )
    return {"agent": agent, "ticket": ticket}


def test_agent_opens_replies_and_resolves(page, desk):
    from vefa.service.models import Ticket

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    ticket = desk["ticket"]
    assert ticket.owner_id == desk["agent"].pk

    page.goto("/accounts/login/")
    page.fill("input[name=username], input[name=email]", desk["agent"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # The ticket waits in her queue with its SLA target; the hostile subject is plain text.
    page.goto(reverse("service:ticket_queue"))
    link = page.locator("#queue-mine a", has_text=ticket.number)
    link.wait_for()
    assert "<script>" in link.inner_text()
    assert page.locator("#queue-mine [data-sla]").first.inner_text()
    link.click()
    page.wait_for_url(f"**{reverse('service:ticket_detail', args=[ticket.pk])}")
    assert page.locator("[data-status]").first.get_attribute("data-status") == "new"

    # She replies: the reply appears in the conversation and the ticket is open.
    page.fill("#reply-form textarea", "Merhaba Ayşe Hanım, kargonuzu yarın teslim ediyoruz.")
    page.click("#reply-form button[type=submit]")
    page.locator("#conversation [data-kind=reply]", has_text="yarın teslim").wait_for()
    page.locator("[data-status=open]").first.wait_for()

    # She resolves it.
    page.click("[data-status-action=resolved]")
    page.locator("[data-status=resolved]").first.wait_for()

    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == "resolved"
    assert fresh.first_responded_at is not None and fresh.resolved_at is not None
    assert fresh.messages.filter(kind="reply").count() == 1
    assert errors == []
