"""Service visits: planned for a ticket, kept as appointments on the owner's calendar."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.service.conftest import HOSTILE
from vefa.common.errors import NotFound, ValidationFailed
from vefa.interactions.choices import ActivityKind, ActivityStatus
from vefa.interactions.models import Activity
from vefa.service.models import ServiceVisit, Ticket
from vefa.service.selectors.visits import ticket_visits
from vefa.service.services.visits import visit_cancel, visit_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, agent, team, queue) -> Ticket:
    return Ticket.objects.create(
        number="T-2026-000001",
        subject="Kombi arızalı",
        customer=customer,
        owner=agent,
        team=team,
        queue=queue,
    )


def _slot(hours_from_now: int = 24, length: int = 2) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=hours_from_now)
    return start, start + datetime.timedelta(hours=length)


def test_a_visit_is_an_appointment_on_the_owners_calendar(
    ticket, admin_user, agent, agent_same_team
):
    start, end = _slot()
    visit = visit_schedule(
        actor=admin_user,
        ticket_id=ticket.pk,
        start_at=start,
        end_at=end,
        location="Kadıköy, Moda Cd. 12",
        owner_id=agent_same_team.pk,
    )
    activity = Activity.objects.get(pk=visit.activity_id)
    assert activity.kind == ActivityKind.APPOINTMENT
    assert activity.customer_id == ticket.customer_id
    assert activity.owner_id == agent_same_team.pk
    assert (activity.start_at, activity.end_at) == (start, end)
    assert activity.location == "Kadıköy, Moda Cd. 12"
    assert ticket.number in activity.subject
    assert ticket_visits(actor=agent, ticket=ticket) == [visit]


def test_the_actor_is_the_default_visitor_and_may_not_send_a_colleague(
    ticket, agent_same_team, agent
):
    start, end = _slot()
    visit = visit_schedule(actor=agent_same_team, ticket_id=ticket.pk, start_at=start, end_at=end)
    assert visit.activity.owner_id == agent_same_team.pk
    with pytest.raises(ValidationFailed) as caught:
        visit_schedule(
            actor=agent_same_team,
            ticket_id=ticket.pk,
            start_at=start,
            end_at=end,
            owner_id=agent.pk,
        )
    assert "owner_id" in caught.value.fields


def test_times_are_checked_by_the_activity_rules(ticket, agent):
    start, end = _slot()
    with pytest.raises(ValidationFailed) as caught:
        visit_schedule(actor=agent, ticket_id=ticket.pk, start_at=end, end_at=start)
    assert "end_at" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        visit_schedule(actor=agent, ticket_id=ticket.pk, start_at="next tuesday", end_at=end)
    assert "start_at" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        visit_schedule(
            actor=agent, ticket_id=ticket.pk, start_at=start, end_at=end, location="x" * 201
        )
    assert "location" in caught.value.fields
    assert not ServiceVisit.objects.exists()
    assert not Activity.objects.exists()


def test_another_teams_agent_cannot_plan_or_cancel(ticket, agent, agent_other_team):
    start, end = _slot()
    with pytest.raises(NotFound):
        visit_schedule(actor=agent_other_team, ticket_id=ticket.pk, start_at=start, end_at=end)
    with pytest.raises(NotFound):
        visit_schedule(actor=agent_other_team, ticket_id="abc", start_at=start, end_at=end)
    visit = visit_schedule(actor=agent, ticket_id=ticket.pk, start_at=start, end_at=end)
    with pytest.raises(NotFound):
        visit_cancel(actor=agent_other_team, visit_id=visit.pk)


def test_cancel_cancels_the_calendar_activity_once(ticket, agent):
    start, end = _slot()
    visit = visit_schedule(actor=agent, ticket_id=ticket.pk, start_at=start, end_at=end)
    visit = visit_cancel(actor=agent, visit_id=visit.pk)
    assert visit.activity.status == ActivityStatus.CANCELLED
    with pytest.raises(ValidationFailed):
        visit_cancel(actor=agent, visit_id=visit.pk)


def test_the_section_plans_lists_and_escapes(client, ticket, agent):
    client.force_login(agent)
    url = reverse("service:ticket_visits", args=[ticket.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Plan a visit" in page.content.decode()
    start, end = _slot()
    hostile = HOSTILE[0]
    response = client.post(
        url,
        {
            "start_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "end_at": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
            "location": hostile,
            "owner": agent.pk,
            "description": "",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert ServiceVisit.objects.filter(ticket=ticket).count() == 1
    assert hostile not in body
    assert "&lt;script&gt;" in body


def test_the_section_shows_errors_and_keeps_input(client, ticket, agent):
    client.force_login(agent)
    start, end = _slot()
    response = client.post(
        reverse("service:ticket_visits", args=[ticket.pk]),
        {
            "start_at": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
            "end_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "location": "Moda",
            "owner": agent.pk,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "invalid-feedback" in body
    assert 'value="Moda"' in body
    assert not ServiceVisit.objects.exists()


def test_another_team_reads_the_section_but_cannot_plan(client, ticket, agent_other_team):
    client.force_login(agent_other_team)
    page = client.get(reverse("service:ticket_visits", args=[ticket.pk]))
    assert page.status_code == 200
    assert "Plan a visit" not in page.content.decode()
    start, end = _slot()
    response = client.post(
        reverse("service:ticket_visits", args=[ticket.pk]),
        {"start_at": start.strftime("%Y-%m-%dT%H:%M"), "end_at": end.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 404


def test_the_ticket_page_loads_the_visits_and_offers_a_return(client, ticket, agent):
    client.force_login(agent)
    body = client.get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    assert reverse("service:ticket_visits", args=[ticket.pk]) in body
    assert f"{reverse('service:return_create')}?ticket={ticket.pk}" in body
