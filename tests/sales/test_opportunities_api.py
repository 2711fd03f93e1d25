"""The opportunities API: CRUD, move with If-Match, lines, bids, access as 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Competitor, Opportunity
from vefa.sales.services.opportunities import opportunity_create

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales/opportunities"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: dict, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client: Client, url: str, data: dict, **headers):
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


@pytest.fixture
def opp(rep, own_customer):
    return opportunity_create(
        actor=rep, data={"name": "Filtre kahve", "customer": own_customer.pk, "amount": "500"}
    )


def test_create_with_lines_location_etag_and_idempotency(rep, own_customer, product, stages):
    client = client_for(rep)
    payload = {
        "name": "<b>Büyük</b> sipariş",
        "customer_id": own_customer.pk,
        "stage_id": stages[1].pk,
        "lines": [{"product_id": product.pk, "quantity": "2"}],
    }
    first = post(client, BASE, payload, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["name"] == "<b>Büyük</b> sipariş"
    assert body["amount"] in ("240.00", "240.0000", "240")
    assert body["stage_id"] == stages[1].pk and body["probability"] == stages[1].probability
    assert len(body["lines"]) == 1
    assert first["Location"] == f"{BASE}/{body['id']}"
    assert first["ETag"] == f'"{body["id"]}-1"'
    again = post(client, BASE, payload, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Opportunity.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x"},
        {"name": "x", "customer_id": "abc"},
        {"name": "x" * 201, "customer_id": 1},
        {"name": "x", "customer_id": 1, "probability": 500},
        {"name": "x", "customer_id": 1, "amount": "lots"},
        {"name": "x", "customer_id": 1, "lost_reason": "bored"},
    ],
)
def test_bad_create_is_422(rep, payload):
    response = post(client_for(rep), BASE, payload)
    assert response.status_code == 422
    assert "fields" in response.json()
    assert not Opportunity.objects.exists()


def test_list_filters_and_page(rep, rep_other_team, opp, own_customer, stages):
    client = client_for(rep)
    body = client.get(BASE).json()
    assert [item["id"] for item in body["items"]] == [opp.pk]
    assert client.get(BASE, {"stage": stages[2].pk}).json()["items"] == []
    assert client_for(rep_other_team).get(BASE).json()["items"] == []
    assert client.get(BASE, {"limit": 1, "sort": "amount"}).status_code == 200


def test_patch_with_if_match(rep, opp):
    client = client_for(rep)
    etag = client.get(f"{BASE}/{opp.pk}")["ETag"]
    response = patch(client, f"{BASE}/{opp.pk}", {"name": "Yeni ad"}, **{"If-Match": etag})
    assert response.status_code == 200
    assert response.json()["name"] == "Yeni ad"
    stale = patch(client, f"{BASE}/{opp.pk}", {"name": "Again"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "conflict"
    assert Opportunity.objects.get(pk=opp.pk).name == "Yeni ad"


def test_move_with_if_match_and_lost_reason(rep, opp, stages):
    client = client_for(rep)
    etag = client.get(f"{BASE}/{opp.pk}")["ETag"]
    lost = next(s for s in stages if s.kind == "lost")
    refused = post(client, f"{BASE}/{opp.pk}/move", {"stage_id": lost.pk}, **{"If-Match": etag})
    assert refused.status_code == 422
    assert "lost_reason" in refused.json()["fields"]
    moved = post(
        client,
        f"{BASE}/{opp.pk}/move",
        {"stage_id": stages[2].pk},
        **{"If-Match": etag},
    )
    assert moved.status_code == 200
    assert moved.json()["stage_id"] == stages[2].pk
    assert moved["ETag"] != etag
    stale = post(client, f"{BASE}/{opp.pk}/move", {"stage_id": stages[3].pk}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert Opportunity.objects.get(pk=opp.pk).stage == stages[2]


def test_move_by_patch_goes_through_the_same_service(rep, opp, stages):
    client = client_for(rep)
    won = next(s for s in stages if s.kind == "won")
    response = patch(client, f"{BASE}/{opp.pk}", {"stage_id": won.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "won" and body["closed_at"] is not None
    assert body["probability"] == 100


def test_lines_and_bids(rep, opp):
    client = client_for(rep)
    line = post(client, f"{BASE}/{opp.pk}/lines", {"description": "Kurulum", "unit_price": "50"})
    assert line.status_code == 201
    rival = Competitor.objects.create(name="Rakip")
    bid = post(client, f"{BASE}/{opp.pk}/bids", {"competitor_id": rival.pk, "price": "45"})
    assert bid.status_code == 201 and bid.json()["competitor_name"] == "Rakip"
    detail = client.get(f"{BASE}/{opp.pk}").json()
    assert len(detail["lines"]) == 1 and len(detail["competitor_bids"]) == 1
    assert client.delete(f"{BASE}/{opp.pk}/lines/{line.json()['id']}").status_code == 204
    assert client.delete(f"{BASE}/{opp.pk}/bids/{bid.json()['id']}").status_code == 204


@pytest.mark.parametrize("who", ["rep_other_team", "read_only", "service", "marketer"])
def test_not_allowed_is_404_and_nothing_changes(request, who, opp, stages, team):
    if who == "service":
        user = UserFactory(role=Role.SERVICE_AGENT, team=team)
    elif who == "marketer":
        user = UserFactory(role=Role.MARKETER, team=team)
    else:
        user = request.getfixturevalue(who)
    client = client_for(user)
    rows = ChangeLogEntry.objects.count()
    assert patch(client, f"{BASE}/{opp.pk}", {"name": "hack"}).status_code == 404
    assert post(client, f"{BASE}/{opp.pk}/move", {"stage_id": stages[1].pk}).status_code == 404
    assert client.delete(f"{BASE}/{opp.pk}").status_code == 404
    assert post(client, f"{BASE}/{opp.pk}/lines", {"description": "x"}).status_code == 404
    fresh = Opportunity.objects.get(pk=opp.pk)
    assert fresh.version == opp.version and fresh.name == opp.name
    assert ChangeLogEntry.objects.count() == rows
    expected = 200 if who == "read_only" else 404
    assert client.get(f"{BASE}/{opp.pk}").status_code == expected


def test_manager_changes_team_opportunity_and_delete(manager, rep, opp):
    client = client_for(manager)
    assert patch(client, f"{BASE}/{opp.pk}", {"next_step": "Call"}).status_code == 200
    assert client_for(rep).delete(f"{BASE}/{opp.pk}").status_code == 204
    assert client.get(f"{BASE}/{opp.pk}").status_code == 404
