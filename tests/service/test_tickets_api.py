# ruff: noqa: F811 (fixtures imported from the helpers module)
"""The ticket API: list with filters and keyset paging, create with Location, ETag and
Idempotency-Key, update with If-Match, messages, status, assign, merge; bad input as 422
naming the field; other teams' tickets as 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.service.conftest import HOSTILE
from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.accounts.services import api_token_create
from vefa.service.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db

BASE = "/api/v1/service/tickets"


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client, url, data, **headers):
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def test_create_returns_201_location_etag_and_replays_with_key(agent, queue, customer):
    client = client_for(agent)
    body = {"subject": "Fatura hatalı", "description": "Tutar yanlış", "customer_id": customer.pk}
    response = post(client, BASE, body, **{"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("T-") and data["status"] == "new"
    assert response["Location"].endswith(f"/tickets/{data['id']}")
    assert response["ETag"] == f'"{data["id"]}-{data["version"]}"'
    again = post(client, BASE, body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == data["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    other = post(client, BASE, {**body, "subject": "x"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject"),
        ({"subject": 42}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x", "customer_id": "abc"}, "customer_id"),
        ({"subject": "x", "type": "rage"}, "type"),
        ({"subject": "x", "priority": ["high"]}, "priority"),
        ({"subject": "x", "customer_id": 99999}, "customer"),
        ({"subject": "x", "description": "y" * 110_000}, "description"),
        ({"subject": "x", "tags": "one"}, "tags"),
    ],
)
def test_create_bad_input_is_422_naming_the_field(agent, queue, body, field):
    response = post(client_for(agent), BASE, body)
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    assert not Ticket.objects.exists()


def test_huge_body_is_refused_with_a_clear_message(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    response = post(
        client_for(agent), f"{BASE}/{ticket.pk}/messages", {"kind": "reply", "body": "é" * 60_000}
    )
    assert response.status_code == 422
    assert "100 kB" in response.json()["fields"]["body"][0]
    assert not TicketMessage.objects.filter(kind="reply").exists()


def test_read_only_cannot_create(read_only, queue):
    response = post(client_for(read_only), BASE, {"subject": "x"})
    assert response.status_code == 404


def test_get_and_update_with_if_match(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    client = client_for(agent)
    got = client.get(f"{BASE}/{ticket.pk}")
    assert got.status_code == 200
    etag = got["ETag"]
    changed = patch(client, f"{BASE}/{ticket.pk}", {"priority": "urgent"}, **{"If-Match": etag})
    assert changed.status_code == 200, changed.content
    assert changed.json()["priority"] == "urgent"
    stale = patch(client, f"{BASE}/{ticket.pk}", {"priority": "low"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "conflict"
    assert Ticket.objects.get().priority == "urgent"
    wrong = patch(client, f"{BASE}/{ticket.pk}", {"status": "closed"})
    assert wrong.status_code in (200, 422)
    assert Ticket.objects.get().status == "new"


def test_messages_add_and_list(agent, queue, customer, sent_replies):
    ticket = open_ticket(agent, owner=agent.pk, customer=customer.pk, description="İlk mesaj")
    client = client_for(agent)
    reply = post(client, f"{BASE}/{ticket.pk}/messages", {"kind": "reply", "body": "Cevap"})
    assert reply.status_code == 201, reply.content
    note = post(client, f"{BASE}/{ticket.pk}/messages", {"kind": "note", "body": "Not"})
    assert note.status_code == 201
    listed = client.get(f"{BASE}/{ticket.pk}/messages").json()["items"]
    assert [m["kind"] for m in listed] == ["customer", "reply", "note"]
    bad = post(client, f"{BASE}/{ticket.pk}/messages", {"kind": "system", "body": "x"})
    assert bad.status_code == 422
    missing = post(client, f"{BASE}/{ticket.pk}/messages", {"kind": "reply"})
    assert missing.status_code == 422 and "body" in missing.json()["fields"]


def test_status_assign_merge(agent, agent_same_team, queue, csat_requests):
    a = open_ticket(agent, owner=agent.pk)
    b = open_ticket(agent, owner=agent.pk)
    client = client_for(agent)
    etag = client.get(f"{BASE}/{a.pk}")["ETag"]
    moved = post(client, f"{BASE}/{a.pk}/status", {"status": "waiting"}, **{"If-Match": etag})
    assert moved.status_code == 200 and moved.json()["status"] == "waiting"
    stale = post(client, f"{BASE}/{a.pk}/status", {"status": "open"}, **{"If-Match": etag})
    assert stale.status_code == 412
    refused = post(client, f"{BASE}/{a.pk}/status", {"status": "closed"})
    assert refused.status_code == 422 and "status" in refused.json()["fields"]
    unknown = post(client, f"{BASE}/{a.pk}/status", {"status": "gone"})
    assert unknown.status_code == 422
    assigned = post(client, f"{BASE}/{a.pk}/assign", {"owner_id": agent_same_team.pk})
    assert assigned.status_code == 200 and assigned.json()["owner_id"] == agent_same_team.pk
    merged = post(client, f"{BASE}/{b.pk}/merge", {"target_id": a.pk})
    assert merged.status_code == 200 and merged.json()["id"] == a.pk
    assert Ticket.objects.get(pk=b.pk).merged_into_id == a.pk
    self_merge = post(client, f"{BASE}/{a.pk}/merge", {"target_id": a.pk})
    assert self_merge.status_code == 422


def test_other_team_gets_404_on_writes_and_reps_on_reads(
    agent, agent_other_team, rep_other_team, queue
):
    ticket = open_ticket(agent, owner=agent.pk)
    other = client_for(agent_other_team)
    # Agents read every ticket but work only their team's.
    assert other.get(f"{BASE}/{ticket.pk}").status_code == 200
    assert patch(other, f"{BASE}/{ticket.pk}", {"subject": "x"}).status_code == 404
    assert (
        post(other, f"{BASE}/{ticket.pk}/messages", {"kind": "note", "body": "x"}).status_code
        == 404
    )
    assert post(other, f"{BASE}/{ticket.pk}/status", {"status": "open"}).status_code == 404
    assert post(other, f"{BASE}/{ticket.pk}/assign", {}).status_code == 404
    rep = client_for(rep_other_team)
    assert rep.get(f"{BASE}/{ticket.pk}").status_code == 404
    assert rep.get(f"{BASE}/{ticket.pk}/messages").status_code == 404
    assert rep.get(BASE).json()["items"] == []
    assert Client().get(BASE).status_code == 401


def test_list_filters_and_paging(agent, agent_same_team, queue, customer):
    for i in range(5):
        open_ticket(agent, subject=f"Konu {i}", owner=agent.pk, priority="high")
    open_ticket(agent, subject="Müşterili", customer=customer.pk, owner=agent_same_team.pk)
    client = client_for(agent)
    first = client.get(BASE, {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    ids = [t["id"] for t in first["items"]]
    second = client.get(BASE, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert not set(ids) & {t["id"] for t in second["items"]}
    assert len(client.get(BASE, {"priority": "high"}).json()["items"]) == 5
    assert len(client.get(BASE, {"owner": "mine"}).json()["items"]) == 5
    assert len(client.get(BASE, {"customer": customer.pk}).json()["items"]) == 1
    assert len(client.get(BASE, {"q": "musterili"}).json()["items"]) == 1
    assert len(client.get(BASE, {"status": "active"}).json()["items"]) == 6
    assert client.get(BASE, {"status": "bogus"}).status_code == 422
    assert client.get(BASE, {"limit": 0}).status_code == 422


def test_hostile_text_round_trips(agent, queue):
    client = client_for(agent)
    for text in HOSTILE:
        response = post(client, BASE, {"subject": text, "description": text})
        assert response.status_code == 201
        assert response.json()["subject"] == text.strip()


def test_list_query_count_does_not_grow_with_the_page(agent, queue, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(agent)
    open_ticket(agent, owner=agent.pk, customer=customer.pk)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BASE, {"limit": 100}).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request also records the token's use
    few = count()
    for _ in range(15):
        open_ticket(agent, owner=agent.pk, customer=customer.pk)
    assert count() == few
