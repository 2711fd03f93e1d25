"""The returns API: create, read, steps, list, rates; errors, ETags and access as 404."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from tests.service.conftest import HOSTILE
from tests.service.returns_helpers import make_order, make_product
from vefa.accounts.services import api_token_create
from vefa.service.models import ReturnRequest

pytestmark = pytest.mark.django_db

BASE = "/api/v1/service/returns"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: object, **headers) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


@pytest.fixture
def order(customer):
    return make_order(customer, [(make_product(), "3", "100")])


def _payload(order, qty="1", **extra):
    return {
        "order": order.pk,
        "reason": "defective",
        "lines": [{"order_line": order.lines.get().pk, "quantity": qty}],
        **extra,
    }


def test_create_read_and_walk_through_the_steps(agent, order):
    api = client_for(agent)
    response = post(api, BASE, _payload(order, "2", reason_detail=HOSTILE[0]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/returns/{body['id']}")
    assert body["status"] == "requested" and body["number"].startswith("R-")
    assert body["reason_detail"] == HOSTILE[0]
    assert body["next_statuses"] == ["approved", "rejected", "cancelled"]
    assert Decimal(body["lines"][0]["quantity"]) == Decimal("2")
    url = f"{BASE}/{body['id']}"
    etag = api.get(url)["ETag"]
    steps = [
        ("approved", {}),
        ("pickup", {"carrier": "Yurtiçi", "tracking_number": "YK1"}),
        ("in_transit", {}),
        ("received", {"storage_location": "R-1"}),
        ("inspected", {"inspection_notes": "ok", "disposition": "refund"}),
        ("completed", {"refund_amount": "240.00"}),
    ]
    for status, data in steps:
        response = post(api, f"{url}/steps", {"status": status, "data": data}, **{"If-Match": etag})
        assert response.status_code == 200, response.content
        etag = response["ETag"]
    assert response.json()["status"] == "completed"
    assert Decimal(response.json()["refund_amount"]) == Decimal("240.00")


def test_idempotent_create(agent, order):
    api = client_for(agent)
    first = post(api, BASE, _payload(order), **{"Idempotency-Key": "k1"})
    again = post(api, BASE, _payload(order), **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert ReturnRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order": "abc"}, "order"),
        ({"reason": "whatever"}, "reason"),
        ({"lines": []}, "lines"),
        ({"lines": "x"}, "lines"),
        ({"reason_detail": "x" * 20_001}, "reason_detail"),
        ({"order": 0}, "order"),
    ],
)
def test_bad_input_is_422_with_the_field(agent, order, change, field):
    response = post(client_for(agent), BASE, {**_payload(order), **change})
    assert response.status_code == 422
    assert any(key.startswith(field) for key in response.json()["fields"]), response.json()
    assert ReturnRequest.objects.count() == 0


def test_over_return_and_bad_steps_are_422(agent, order):
    api = client_for(agent)
    response = post(api, BASE, _payload(order, "4"))
    assert response.status_code == 422
    assert "lines.0.quantity" in response.json()["fields"]
    created = post(api, BASE, _payload(order, "1")).json()
    url = f"{BASE}/{created['id']}/steps"
    response = post(api, url, {"status": "completed", "data": {}})
    assert response.status_code == 422 and "status" in response.json()["fields"]
    response = post(api, url, {"status": "flying"})
    assert response.status_code == 422
    response = post(api, url, {"status": "approved", "data": {"carrier": "X"}})
    assert response.status_code == 422 and "carrier" in response.json()["fields"]
    response = post(api, url, {"status": "approved", "data": "nope"})
    assert response.status_code == 422


def test_stale_if_match_is_412(agent, order):
    api = client_for(agent)
    created = post(api, BASE, _payload(order)).json()
    url = f"{BASE}/{created['id']}/steps"
    response = post(api, url, {"status": "approved"}, **{"If-Match": f'"{created["id"]}-0"'})
    assert response.status_code == 412


def test_other_team_agent_gets_404_on_steps(agent, agent_other_team, order):
    created = post(client_for(agent), BASE, _payload(order)).json()
    other = client_for(agent_other_team)
    response = post(other, f"{BASE}/{created['id']}/steps", {"status": "approved"})
    assert response.status_code == 404
    assert other.get(f"{BASE}/999999").status_code == 404


def test_sales_rep_of_another_team_cannot_see_it(agent, order, other_team):
    from tests.factories import UserFactory

    created = post(client_for(agent), BASE, _payload(order)).json()
    rep = UserFactory(role="sales_rep", team=other_team)
    api = client_for(rep)
    assert api.get(f"{BASE}/{created['id']}").status_code == 404
    assert api.get(BASE).json()["items"] == []


def test_list_filters_and_paging(agent, order):
    api = client_for(agent)
    ids = [post(api, BASE, _payload(order, "1")).json()["id"] for _ in range(3)]
    page = api.get(BASE, {"limit": 2}).json()
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    rest = api.get(BASE, {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert api.get(BASE, {"status": "completed"}).json()["items"] == []
    assert api.get(BASE, {"status": "bogus"}).status_code == 422


def test_rates(agent, order):
    api = client_for(agent)
    post(api, BASE, _payload(order, "1"))
    body = api.get(f"{BASE}/rates").json()
    assert Decimal(body["sold"]) == 3 and Decimal(body["returned"]) == 1
    assert Decimal(body["rate"]) == Decimal("0.3333")
    assert body["by_reason"][0]["key"] == "defective"
    assert api.get(f"{BASE}/rates", {"date_from": "nope"}).status_code == 422
