"""The service configuration API: reads for service users, writes for administrators."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.service.models import Category, Queue, SlaPolicy

BASE = "/api/v1/service/setup"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client, method, url, data=None, **headers):
    return getattr(client, method)(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


@pytest.fixture
def admin(db, team):
    return UserFactory(role=Role.ADMIN, team=team, full_name="Admin")


def test_agent_reads_but_cannot_write(agent, queue):
    client = client_for(agent)
    listed = client.get(f"{BASE}/queues")
    assert listed.status_code == 200
    assert [q["name"] for q in listed.json()["items"]] == ["Support"]
    assert client.get(f"{BASE}/queues/{queue.pk}").status_code == 200
    assert send(client, "post", f"{BASE}/queues", {"name": "Mine"}).status_code == 404
    response = send(client, "patch", f"{BASE}/queues/{queue.pk}", {"name": "Hijacked"})
    assert response.status_code == 404
    response = send(
        client,
        "post",
        f"{BASE}/calendars/{queue.calendar_id}/holidays",
        {"date": "2026-12-31", "name": "x"},
    )
    assert response.status_code == 404
    queue.refresh_from_db()
    assert queue.name == "Support" and not Queue.objects.filter(name="Mine").exists()


def test_admin_creates_updates_with_etag(admin, team, calendar):
    client = client_for(admin)
    response = send(
        client,
        "post",
        f"{BASE}/queues",
        {"name": "Returns", "team": team.pk, "calendar": calendar.pk},
        **{"Idempotency-Key": "q-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/queues/{body['id']}")
    again = send(
        client,
        "post",
        f"{BASE}/queues",
        {"name": "Returns", "team": team.pk, "calendar": calendar.pk},
        **{"Idempotency-Key": "q-1"},
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    etag = client.get(f"{BASE}/queues/{body['id']}")["ETag"]
    patched = send(
        client, "patch", f"{BASE}/queues/{body['id']}", {"is_active": False}, **{"If-Match": etag}
    )
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    stale = send(
        client, "patch", f"{BASE}/queues/{body['id']}", {"name": "X"}, **{"If-Match": etag}
    )
    assert stale.status_code == 412
    cleared = send(client, "patch", f"{BASE}/queues/{body['id']}", {"calendar": None})
    assert cleared.status_code == 200 and cleared.json()["calendar_id"] is None


def test_calendar_and_holidays(admin):
    client = client_for(admin)
    response = send(
        client,
        "post",
        f"{BASE}/calendars",
        {"name": "Belgrade", "time_zone": "Europe/Belgrade", "hours": {"1": [["08:00", "25:00"]]}},
    )
    assert response.status_code == 422
    assert "hours" in response.json()["fields"]
    assert "25:00" in response.json()["fields"]["hours"][0]
    response = send(
        client,
        "post",
        f"{BASE}/calendars",
        {"name": "Belgrade", "time_zone": "Europe/Belgrade", "hours": {"1": [["08:00", "16:00"]]}},
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    added = send(
        client, "post", f"{BASE}/calendars/{pk}/holidays", {"date": "2026-12-31", "name": "NYE"}
    )
    assert added.status_code == 201
    calendar = client.get(f"{BASE}/calendars/{pk}").json()
    assert calendar["holidays"] == [{"id": added.json()["id"], "date": "2026-12-31", "name": "NYE"}]
    assert client.delete(f"{BASE}/holidays/{added.json()['id']}").status_code == 204
    assert client.delete(f"{BASE}/holidays/{added.json()['id']}").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"name": "P", "first_response_minutes": "soon", "resolution_minutes": 10},
        {"name": "P", "first_response_minutes": 0, "resolution_minutes": 10},
        {"name": "P", "first_response_minutes": 20, "resolution_minutes": 10},
        {"name": "P", "first_response_minutes": 1, "resolution_minutes": 10, "priority": "x"},
        {
            "name": "P",
            "first_response_minutes": 1,
            "resolution_minutes": 10,
            "escalation": "reassign",
        },
        {"name": "", "first_response_minutes": 1, "resolution_minutes": 10},
        {"name": "P" * 5000, "first_response_minutes": 1, "resolution_minutes": 10},
        {"first_response_minutes": 1, "resolution_minutes": 10},
    ],
)
def test_policy_invalid_input_is_422_with_fields(admin, data):
    response = send(client_for(admin), "post", f"{BASE}/sla-policies", data)
    assert response.status_code == 422
    assert response.json()["fields"]
    assert not SlaPolicy.objects.exists()


def test_category_cycle_refused_and_hostile_names_returned_as_data(admin):
    client = client_for(admin)
    root = send(client, "post", f"{BASE}/categories", {"name": HOSTILE[0]}).json()
    child = send(
        client, "post", f"{BASE}/categories", {"name": "Late", "parent": root["id"]}
    ).json()
    assert child["path"] == f"{HOSTILE[0]} › Late"
    response = send(client, "patch", f"{BASE}/categories/{root['id']}", {"parent": child["id"]})
    assert response.status_code == 422 and "parent" in response.json()["fields"]
    assert Category.objects.get(pk=root["id"]).parent_id is None
    response = client.get(f"{BASE}/categories")
    assert response["Content-Type"].startswith("application/json")


def test_rules_and_unknown_rows(admin, queue):
    client = client_for(admin)
    response = send(
        client,
        "post",
        f"{BASE}/assignment-rules",
        {"name": "A class", "value_class": "A", "queue": queue.pk},
    )
    assert response.status_code == 201
    assert client.get(f"{BASE}/assignment-rules/999999").status_code == 404
    assert send(client, "patch", f"{BASE}/sla-policies/999999", {"name": "x"}).status_code == 404


def test_anonymous_is_refused(db):
    assert Client().get(f"{BASE}/queues").status_code == 401
