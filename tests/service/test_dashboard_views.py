"""The service dashboard page and its API: figures, charts, filters, escaping, bad input, access."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from tests.service.test_metrics_figures import (  # noqa: F401 (fixtures)
    HOUR,
    known,
    make_ticket,
    opened,
    policy,
    today,
)
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.service.choices import TicketStatus, TicketType
from vefa.service.models import Category

URL = reverse("service:dashboard")
API = "/api/v1/service/metrics"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def svgs(html: str) -> list[ET.Element]:
    """Every inline chart, parsed as XML (a broken escape would not parse)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def test_dashboard_is_at_service_root():
    assert URL == "/service/"


def test_page_shows_the_figures(known, agent):  # noqa: F811
    response = login(agent).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Service dashboard" in html
    # Medians and p90 of the known data (hours, one decimal).
    assert "median 3.0 h · p90 7.6 h" in html
    assert "median 5.0 h · p90 7.4 h" in html
    assert "50.0%" in html  # first contact
    assert "40.0%" in html  # reopen rate
    assert "75.0%" in html  # SLA resolution
    assert "80.0%" in html  # SLA first response
    assert "Zeynep Agent" in html and "Emre Agent" in html
    charts = svgs(html)
    assert charts, "the complaints chart is drawn"
    titles = [c.find("{http://www.w3.org/2000/svg}title").text for c in charts]
    assert "Complaints per day" in titles


def test_periods_and_custom_range(known, agent, today, opened):  # noqa: F811
    client = login(agent)
    make_ticket(opened=opened - datetime.timedelta(days=60), team=known[0].team)
    assert "Tickets opened" in client.get(URL, {"period": "30"}).content.decode()
    api = api_client(agent)
    assert api.get(API, {"period": "30"}).json()["summary"]["opened"] == 5
    assert api.get(API, {"period": "90"}).json()["summary"]["opened"] == 6
    custom = api.get(
        API,
        {
            "period": "custom",
            "start": (opened - datetime.timedelta(days=61)).date().isoformat(),
            "end": (opened - datetime.timedelta(days=59)).date().isoformat(),
        },
    ).json()
    assert custom["summary"]["opened"] == 1
    page = client.get(
        URL,
        {
            "period": "custom",
            "start": (opened - datetime.timedelta(days=61)).date().isoformat(),
            "end": (opened - datetime.timedelta(days=59)).date().isoformat(),
        },
    )
    assert page.status_code == 200


def test_api_answers_the_same_numbers(known, agent):  # noqa: F811
    body = api_client(agent).get(API).json()
    assert body["first_response_hours"] == {"count": 5, "median": 3.0, "p90": 7.6}
    assert body["resolution_hours"] == {"count": 4, "median": 5.0, "p90": 7.4}
    assert body["first_contact_resolution"]["share"] == 0.5
    assert body["reopen"]["rate"] == 0.4
    assert body["sla"]["resolution"]["share"] == 0.75
    assert len(body["complaints_per_day"]) == 30
    assert body["cached"] is False
    assert api_client(agent).get(API).json()["cached"] is True


def test_filters_by_team_and_agent(known, agent, agent_same_team, other_team):  # noqa: F811
    api = api_client(agent)
    assert api.get(API, {"agent": agent_same_team.pk}).json()["summary"]["opened"] == 2
    assert api.get(API, {"team": other_team.pk}).json()["summary"]["opened"] == 0
    page = login(agent).get(URL, {"period": "30", "agent": agent_same_team.pk})
    assert page.status_code == 200
    assert "median 7.0 h" in page.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "7"}, "period"),
        ({"period": "x" * 5000}, "period"),
        ({"period": "custom"}, "start"),
        ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"period": "custom", "start": "1900-01-01", "end": "2026-01-01"}, "start"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-01"}, "start"),
        ({"team": "north"}, "team"),
        ({"agent": "'; DROP TABLE service_ticket; --"}, "agent"),
        ({"team": "999999999"}, "team"),
    ],
)
def test_bad_filters_are_refused_with_the_field(db, agent, params, field):
    page = login(agent).get(URL, params)
    assert page.status_code == 422
    form = page.context["form"]
    assert field in form.errors
    response = api_client(agent).get(API, params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    if field in ("period", "start", "end"):
        assert field in body["fields"]


def test_hostile_names_are_shown_escaped(db, agent, team, customer, opened):  # noqa: F811
    team.name = HOSTILE[0]
    team.save()
    customer.display_name = HOSTILE[0]
    customer.save()
    agent.full_name = HOSTILE[2]
    agent.save()
    category = Category.objects.create(name=HOSTILE[0], path=HOSTILE[0])
    for text in HOSTILE:
        make_ticket(
            opened=opened,
            team=team,
            owner=agent,
            customer=customer,
            category=category,
            subject=text,
            type=TicketType.COMPLAINT,
            status=TicketStatus.OPEN,
            value_class="A",
        )
    response = login(agent).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#x27;; DROP TABLE service_ticket; --" in html
    svgs(html)  # every chart still parses
    body = api_client(agent).get(API).json()
    assert body["high_value_open_complaints"][0]["customer_name"] == HOSTILE[0]


def test_high_value_list_links_to_customers(db, agent, team, customer, opened):  # noqa: F811
    make_ticket(
        opened=opened,
        team=team,
        owner=agent,
        customer=customer,
        type=TicketType.COMPLAINT,
        value_class="A",
        subject="Cold radiator",
    )
    html = login(agent).get(URL).content.decode()
    assert "Cold radiator" in html
    assert reverse("customers:detail", args=[customer.pk]) in html


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().get(URL)
    assert response.status_code == 302
    assert Client().get(API).status_code == 401


def test_sales_rep_sees_only_their_team(known, other_team, opened):  # noqa: F811
    rep = UserFactory(role=Role.SALES_REP, team=other_team)
    make_ticket(opened=opened, team=other_team, type=TicketType.COMPLAINT)
    assert api_client(rep).get(API).json()["summary"]["opened"] == 1
    page = login(rep).get(URL)
    assert page.status_code == 200
    assert "Zeynep Agent" not in page.content.decode()  # the other team's agent has no row


def test_inactive_token_user_is_refused(db, agent):
    client = api_client(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(API).status_code == 401


def test_post_is_not_allowed(db, agent):
    assert login(agent).post(URL).status_code == 405


def test_menu_lists_the_dashboard(db, agent):
    html = login(agent).get(URL).content.decode()
    assert f'href="{URL}"' in html


def test_persian_page_is_right_to_left(known, agent):  # noqa: F811
    agent.language = "fa"
    agent.save()
    with translation.override("fa"):
        response = login(agent).get(URL, HTTP_ACCEPT_LANGUAGE="fa")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'direction="rtl"' in html


def test_page_query_count_is_constant(known, agent, team, opened):  # noqa: F811
    client = login(agent)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    cache.clear()
    for i in range(25):
        make_ticket(
            opened=opened + i * HOUR,
            team=team,
            owner=UserFactory(role=Role.SERVICE_AGENT, team=team),
            type=TicketType.COMPLAINT,
            value_class="A",
        )
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)
