"""The merge API: POST /customers/merge, GET /customers/merges/{id}, POST …/undo."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.customers.factories import make_customer
from vefa.accounts.services import api_token_create
from vefa.customers.models import Customer, CustomerMerge

pytestmark = pytest.mark.django_db
BASE = "/api/v1"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: object, **headers) -> object:
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


@pytest.fixture
def pair(rep, team):
    a = make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")
    b = make_customer(owner=rep, team=team, first_name="Ayse", last_name="Yilmaz")
    return a, b


def test_merge_read_undo(rep, pair):
    a, b = pair
    client = client_for(rep)
    response = post(
        client,
        f"{BASE}/customers/merge",
        {"survivor": a.pk, "others": [b.pk], "field_values": {"first_name": b.pk}},
        **{"Idempotency-Key": "m-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["survivor_id"] == a.pk and body["merged_ids"] == [b.pk]
    assert body["field_choices"]["first_name"] == b.pk
    assert response["Location"] == f"{BASE}/customers/merges/{body['id']}"
    replay = post(
        client,
        f"{BASE}/customers/merge",
        {"survivor": a.pk, "others": [b.pk], "field_values": {"first_name": b.pk}},
        **{"Idempotency-Key": "m-1"},
    )
    assert replay.status_code == 201 and replay.json()["id"] == body["id"]
    assert CustomerMerge.objects.count() == 1
    got = client.get(response["Location"])
    assert got.status_code == 200 and got.json()["id"] == body["id"]
    listed = client.get(f"{BASE}/customers/{a.pk}/merges")
    assert [m["id"] for m in listed.json()] == [body["id"]]
    undo = post(client, f"{BASE}/customers/merges/{body['id']}/undo", {})
    assert undo.status_code == 200, undo.content
    assert undo.json()["problems"] == [] and undo.json()["merge"]["undone_at"]
    assert Customer.objects.get(pk=b.pk).merged_into_id is None
    again = post(client, f"{BASE}/customers/merges/{body['id']}/undo", {})
    assert again.status_code == 422 and again.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"survivor": "abc", "others": [1]},
        {"survivor": 1, "others": "2"},
        {"survivor": 1, "others": []},
        {"survivor": 1, "others": list(range(2, 20))},
        {"survivor": 1, "others": [2], "field_values": {"first_name": "<script>"}},
        {"survivor": 1, "others": [2], "field_values": ["x"]},
        {"survivor": 1, "others": [1]},
    ],
)
def test_invalid_input(rep, pair, payload):
    a, b = pair
    text = json.dumps(payload).replace('"survivor": 1', f'"survivor": {a.pk}')
    text = text.replace("[2]", f"[{b.pk}]").replace("[1]", f"[{a.pk}]")
    response = client_for(rep).post(
        f"{BASE}/customers/merge", text, content_type="application/json"
    )
    assert response.status_code in (400, 422), response.content
    assert "code" in response.json()
    assert CustomerMerge.objects.count() == 0


def test_hidden_records_and_merges_are_404(rep, pair, rep_other_team, other_team):
    a, b = pair
    hidden = make_customer(owner=rep_other_team, team=other_team)
    client = client_for(rep)
    response = post(client, f"{BASE}/customers/merge", {"survivor": a.pk, "others": [hidden.pk]})
    assert response.status_code == 404
    merge = post(client, f"{BASE}/customers/merge", {"survivor": a.pk, "others": [b.pk]}).json()
    stranger = client_for(rep_other_team)
    assert stranger.get(f"{BASE}/customers/merges/{merge['id']}").status_code == 404
    assert post(stranger, f"{BASE}/customers/merges/{merge['id']}/undo", {}).status_code == 404
    assert client.get(f"{BASE}/customers/merges/999999").status_code == 404


def test_the_customer_routes_still_work(rep, pair):
    a, _b = pair
    assert client_for(rep).get(f"{BASE}/customers/{a.pk}").status_code == 200
