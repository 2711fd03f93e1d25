"""The service section of the customer page: open tickets, recent returns, the latest CSAT
and NPS answers, the "open a ticket" link; escaped, restricted, hidden customers 404."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.choices import Role
from vefa.service.models import ReturnRequest, Survey, SurveyInvitation, Ticket
from vefa.service.services.surveys import _new_token


def _url(customer) -> str:
    return reverse("service:customer_service", kwargs={"customer_pk": customer.pk})


def _ticket(number, customer, agent, status="open", subject="Kargo"):
    return Ticket.objects.create(
        number=number,
        subject=subject,
        customer=customer,
        owner=agent,
        team=agent.team,
        status=status,
    )


def _answer(customer, kind, score, comment, days_ago=0, survey=None, ticket=None):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    return SurveyInvitation.objects.create(
        kind=kind,
        survey=survey,
        ticket=ticket,
        customer=customer,
        token_hash=_new_token()[1],
        expires_at=when + datetime.timedelta(days=30),
        responded_at=when,
        score=score,
        comment=comment,
        owner=customer.owner,
        team=customer.team,
    )


def test_section_shows_open_tickets_returns_and_latest_scores(client, agent, customer):
    open_ticket = _ticket("T-2026-000001", customer, agent, subject=HOSTILE[0])
    _ticket("T-2026-000002", customer, agent, status="closed", subject="Eski iş")
    resolved = _ticket("T-2026-000003", customer, agent, status="resolved")
    order = make_order(customer, [(make_product(), "1", "100")])
    ReturnRequest.objects.create(
        number="R-2026-000001",
        customer=customer,
        order=order,
        reason="damaged",
        owner=agent,
        team=agent.team,
    )
    _answer(customer, "csat", 2, "old one", days_ago=10, ticket=open_ticket)
    _answer(customer, "csat", 5, HOSTILE[0], ticket=resolved)
    survey = Survey.objects.create(kind="nps", name="NPS", owner=agent, team=agent.team)
    _answer(customer, "nps", 9, "Tavsiye ederim", survey=survey)
    client.force_login(agent)
    response = client.get(_url(customer))
    assert response.status_code == 200
    body = response.content.decode()
    assert "T-2026-000001" in body and "T-2026-000002" not in body
    assert reverse("service:ticket_detail", args=[open_ticket.pk]) in body
    assert "R-2026-000001" in body
    assert "5 / 5" in body and "old one" not in body and "T-2026-000003" in body
    assert "9 / 10" in body and "Tavsiye ederim" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert f"{reverse('service:ticket_create')}?customer={customer.pk}" in body


def test_empty_section(client, agent, customer):
    client.force_login(agent)
    body = client.get(_url(customer)).content.decode()
    assert "No open tickets." in body
    assert 'data-testid="satisfaction"' not in body


def test_hidden_or_missing_customer_is_404(client, agent, other_customer, team):
    rep = UserFactory(role=Role.SALES_REP, team=team)
    client.force_login(rep)
    assert client.get(_url(other_customer)).status_code == 404
    client.force_login(agent)
    missing = reverse("service:customer_service", kwargs={"customer_pk": 999_999})
    assert client.get(missing).status_code == 404


def test_what_a_rep_sees_follows_the_policies(client, agent, agent_other_team, team, customer):
    """A rep sees their team's tickets only, and cannot open one."""
    _ticket("T-2026-000010", customer, agent)
    _ticket("T-2026-000011", customer, agent_other_team)
    rep = UserFactory(role=Role.SALES_REP, team=team)
    customer.owner = rep
    customer.save()
    client.force_login(rep)
    body = client.get(_url(customer)).content.decode()
    assert "T-2026-000010" in body and "T-2026-000011" not in body
    assert reverse("service:ticket_create") not in body


def test_needs_login(client, customer):
    assert client.get(_url(customer)).status_code == 302


@pytest.mark.django_db
def test_query_count_does_not_grow_with_tickets(client, agent, customer):
    client.force_login(agent)
    _ticket("T-2026-000100", customer, agent)
    client.get(_url(customer))
    with CaptureQueriesContext(connection) as few:
        client.get(_url(customer))
    for i in range(8):
        _ticket(f"T-2026-0002{i:02d}", customer, agent)
    with CaptureQueriesContext(connection) as many:
        client.get(_url(customer))
    assert len(many) == len(few)
