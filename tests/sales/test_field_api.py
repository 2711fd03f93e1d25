"""The field-sales and analysis API: plan, log (If-Match), my day, analysis JSON, access."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from tests.sales.test_analysis_figures import data  # noqa: F401 (fixture)
from vefa.accounts.services import api_token_create
from vefa.customers.models import Address
from vefa.interactions.models import Activity, Interaction

BASE = "/api/v1/sales"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, payload: dict, **headers):
    return client.post(url, json.dumps(payload), content_type="application/json", headers=headers)


def later_today() -> str:
    now = timezone.now()
    return min(now + datetime.timedelta(minutes=30), now.replace(hour=23, minute=59)).isoformat()


def test_plan_and_log_a_visit(rep, own_customer):
    Address.objects.create(customer=own_customer, kind="office", line1="Bağdat Cd. 1",
                           city="İstanbul", country="TR", is_primary=True)  # fmt: skip
    client = client_for(rep)
    payload = {"customer_id": own_customer.pk, "due_at": later_today()}
    created = post(client, f"{BASE}/visits", payload, **{"Idempotency-Key": "visit-1"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["location"]) == ("visit", "Bağdat Cd. 1, İstanbul, TR")
    assert created["Location"].endswith(f"/activities/{body['id']}")
    again = post(client, f"{BASE}/visits", payload, **{"Idempotency-Key": "visit-1"})
    assert again.json()["id"] == body["id"]
    assert Activity.objects.count() == 1

    day = client.get(f"{BASE}/my-day").json()
    assert [v["id"] for v in day["visits"]] == [body["id"]]

    stale = post(client, f"{BASE}/visits/{body['id']}/log", {"outcome": "ok"},
                 **{"If-Match": f'"{body["id"]}-99"'})  # fmt: skip
    assert stale.status_code == 412
    assert stale.json()["code"] == "conflict"
    logged = post(client, f"{BASE}/visits/{body['id']}/log", {"outcome": "Sipariş alındı"},
                  **{"If-Match": created["ETag"]})  # fmt: skip
    assert logged.status_code == 200, logged.content
    assert logged.json()["status"] == "done"
    assert Interaction.objects.get().kind == "visit"
    twice = post(client, f"{BASE}/visits/{body['id']}/log", {})
    assert twice.status_code == 422
    assert Interaction.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"customer_id": "x", "due_at": "2030-01-01T10:00:00Z"},
        {"customer_id": 1, "due_at": "soon"},
        {"customer_id": 1, "due_at": "2030-01-01T10:00:00Z", "location": "x" * 201},
    ],
)
def test_bad_visit_payloads(rep, own_customer, payload):
    payload = {k: (own_customer.pk if v == 1 else v) for k, v in payload.items()}
    response = post(client_for(rep), f"{BASE}/visits", payload)
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid", "validation_failed", "not_found"}
    assert not Activity.objects.exists()


def test_other_reps_visit_is_404(rep, rep_other_team, other_customer):
    visit = post(client_for(rep_other_team), f"{BASE}/visits",
                 {"customer_id": other_customer.pk, "due_at": later_today()}).json()  # fmt: skip
    response = post(client_for(rep), f"{BASE}/visits/{visit['id']}/log", {})
    assert response.status_code == 404
    assert not Interaction.objects.exists()
    assert client_for(rep).get(f"{BASE}/my-day").json()["visits"] == []


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips(rep, own_customer, text):
    response = post(client_for(rep), f"{BASE}/visits", {"customer_id": own_customer.pk,
                    "due_at": later_today(), "subject": text, "location": text})  # fmt: skip
    assert response.status_code == 201
    assert response.json()["subject"] == text.strip()


def test_analysis_json(data, admin_user, rep):  # noqa: F811
    cache.clear()
    params = {"start": "2026-01-01", "end": "2026-03-31", "currency": "TRY"}
    body = client_for(admin_user).get(f"{BASE}/analysis", params).json()
    assert body["revenue"]["total"] == "4800.00"
    assert body["missing_currencies"] == ["USD"]
    assert body["closed"]["win_rate"] == "66.7"
    assert body["closed"]["cycle_days"] == "44.5"
    assert [s["count"] for s in body["funnel"]["stages"]] == [4, 3, 3, 2, 2]
    assert {r["label"] for r in body["revenue"]["by_city"]} >= {"İstanbul, TR"}
    own = client_for(rep).get(f"{BASE}/analysis", params).json()
    assert own["revenue"]["total"] == "1260.00"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-01", "end": "2026-01-01"},
        {"currency": "12"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "nonsense"},
    ],
)
def test_analysis_bad_parameters(data, admin_user, params):  # noqa: F811
    response = client_for(admin_user).get(f"{BASE}/analysis", params)
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid", "validation_failed", "not_found"}


def test_analysis_hidden_from_roles_without_deals(data):  # noqa: F811
    response = client_for(UserFactory(role="marketer")).get(f"{BASE}/analysis")
    assert response.status_code == 404
    assert response.json()["code"] in {"invalid", "validation_failed", "not_found"}
