"""The orders API: create, status, shipments, payments, and the bulk intake."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from tests.sales.conftest import HOSTILE
from vefa.accounts.services import api_token_create
from vefa.customers.models import ContactPoint
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: dict, **headers) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def web_order(external_id: str, customer_id: int, **extra) -> dict:
    order = {
        "external_id": external_id,
        "customer_id": customer_id,
        "currency": "TRY",
        "ordered_at": "2026-05-01T10:00:00+03:00",
        "lines": [
            {"sku": "KHV-001", "quantity": "2", "unit_price": "100.00", "tax_rate": "20"},
            {"sku": "SHIP", "description": "Kargo", "quantity": "1", "unit_price": "30"},
        ],
    }
    order.update(extra)
    return order


def test_bulk_mixed_good_bad_and_duplicate(admin_user, own_customer, product):
    client = client_for(admin_user)
    ContactPoint.objects.create(
        customer=own_customer, kind="email", value="Ayse@Example.com", normalized="ayse@example.com"
    )
    payload = {
        "source": "ecommerce",
        "orders": [
            web_order("W-1", own_customer.pk),
            {
                **web_order("W-2", own_customer.pk),
                "customer_id": None,
                "customer_email": "AYSE@example.com",
            },
            web_order("W-3", own_customer.pk, currency="XX"),
            web_order("W-1", own_customer.pk),  # same order twice in one request
            "not an order",
            web_order("W-4", 999_999),
            web_order("W-5", own_customer.pk, lines=[{"sku": "NOPE", "quantity": "1"}]),
            web_order("W-6", own_customer.pk, lines=[{"sku": "KHV-001", "quantity": "0"}]),
            web_order("W-7", own_customer.pk, notes=HOSTILE[0]),
        ],
    }
    response = post(client, f"{BASE}/orders/bulk", payload)
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "created",
        "created",
        "error",
        "duplicate",
        "error",
        "error",
        "error",
        "error",
        "created",
    ]
    assert (body["created"], body["duplicate"], body["error"]) == (3, 1, 5)
    assert "currency" in body["results"][2]["errors"]
    assert body["results"][3]["id"] == body["results"][0]["id"]
    assert "customer_id" in body["results"][5]["errors"]
    assert "lines.0.sku" in body["results"][6]["errors"]
    assert "lines.0.quantity" in body["results"][7]["errors"]
    assert Order.objects.count() == 3
    first = Order.objects.get(external_id="W-1")
    assert first.source == "ecommerce"
    assert first.total == Decimal("270.00")  # 2×100 + 20 % tax, plus 30 shipping
    assert first.lines.count() == 2
    assert first.lines.get(sku="SHIP").product is None
    assert first.lines.get(sku="KHV-001").product == product
    assert first.owner == own_customer.owner
    assert Order.objects.get(external_id="W-7").notes == HOSTILE[0]
    assert Interaction.objects.filter(kind="purchase", related_model="sales.order").count() == 3
    assert ChangeLogEntry.objects.filter(model="sales.order", action="create").count() == 3
    own_customer.refresh_from_db()
    assert own_customer.last_interaction_at == first.ordered_at
    numbers = set(Order.objects.values_list("number", flat=True))
    assert len(numbers) == 3

    # The shop sends everything again: nothing new, the created ones are duplicates.
    again = post(client, f"{BASE}/orders/bulk", payload).json()
    assert (again["created"], again["duplicate"], again["error"]) == (0, 4, 5)
    assert again["results"][0]["id"] == first.pk
    assert Order.objects.count() == 3
    assert OrderLine.objects.count() == 6


def test_bulk_refuses_more_than_1000_and_wrong_shapes(admin_user, own_customer):
    client = client_for(admin_user)
    too_many = {"orders": [web_order(f"X-{i}", own_customer.pk) for i in range(1001)]}
    assert post(client, f"{BASE}/orders/bulk", too_many).status_code == 422
    assert post(client, f"{BASE}/orders/bulk", {"orders": "x"}).status_code == 422
    bad_source = {"source": "fax", "orders": []}
    assert post(client, f"{BASE}/orders/bulk", bad_source).status_code == 422
    assert Order.objects.count() == 0


def test_bulk_by_rep_sees_only_own_customers(rep, own_customer, other_customer, product):
    client = client_for(rep)
    body = post(
        client,
        f"{BASE}/orders/bulk",
        {"orders": [web_order("R-1", own_customer.pk), web_order("R-2", other_customer.pk)]},
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "error"]
    assert Order.objects.get().owner == rep


def test_bulk_denied_for_service_agent(own_customer):
    from tests.factories import UserFactory

    agent = UserFactory(role="service_agent")
    response = post(
        client_for(agent), f"{BASE}/orders/bulk", {"orders": [web_order("S-1", own_customer.pk)]}
    )
    assert response.status_code == 403
    assert Order.objects.count() == 0


def _create(client, customer_id, **extra):
    payload = {
        "customer_id": customer_id,
        "currency": "TRY",
        "lines": [{"description": "Çay", "quantity": "2", "unit_price": "10.005"}],
        **extra,
    }
    return post(client, f"{BASE}/orders", payload)


def test_create_read_update_with_etag_and_idempotency(rep, own_customer):
    client = client_for(rep)
    first = post(
        client,
        f"{BASE}/orders",
        {
            "customer_id": own_customer.pk,
            "currency": "TRY",
            "lines": [{"description": "Çay", "quantity": "2", "unit_price": "10.005"}],
        },
        **{"Idempotency-Key": "k-1"},
    )
    assert first.status_code == 201, first.content
    again = post(
        client,
        f"{BASE}/orders",
        {
            "customer_id": own_customer.pk,
            "currency": "TRY",
            "lines": [{"description": "Çay", "quantity": "2", "unit_price": "10.005"}],
        },
        **{"Idempotency-Key": "k-1"},
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    body = first.json()
    assert body["total"] == "20.01" or Decimal(body["total"]) == Decimal("20.01")
    assert body["next_statuses"] == ["confirmed", "cancelled"]
    url = first["Location"]
    etag = client.get(url)["ETag"]
    ok = client.patch(
        url,
        data=json.dumps({"notes": "x"}),
        content_type="application/json",
        headers={"If-Match": etag},
    )
    assert ok.status_code == 200
    stale = client.patch(
        url,
        data=json.dumps({"notes": "y"}),
        content_type="application/json",
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412
    skip = post(client, f"{url}/status", {"status": "shipped"})
    assert skip.status_code == 422
    assert post(client, f"{url}/status", {"status": "confirmed"}).status_code == 200
    shipment = post(client, f"{url}/shipments", {"carrier": "PTT", "status": "in_transit"})
    assert shipment.status_code == 201
    assert client.get(url).json()["status"] == "shipped"
    delivered = client.patch(
        f"{BASE}/shipments/{shipment.json()['id']}",
        data=json.dumps({"status": "delivered"}),
        content_type="application/json",
    )
    assert delivered.status_code == 200
    assert client.get(url).json()["status"] == "delivered"
    paid = post(client, f"{url}/payments", {"amount": "20.01", "method": "card"})
    assert paid.status_code == 201
    listed = client.get(f"{BASE}/orders?status=delivered").json()
    assert [o["id"] for o in listed["items"]] == [body["id"]]


def test_api_hides_what_the_caller_may_not_change(
    rep, rep_other_team, other_customer, own_customer
):
    from tests.factories import UserFactory

    theirs = _create(client_for(rep_other_team), other_customer.pk).json()
    client = client_for(rep)
    assert client.get(f"{BASE}/orders/{theirs['id']}").status_code == 404
    assert (
        post(client, f"{BASE}/orders/{theirs['id']}/status", {"status": "confirmed"}).status_code
        == 404
    )
    assert _create(client, other_customer.pk).status_code == 422
    agent = client_for(UserFactory(role="marketer"))
    assert agent.get(f"{BASE}/orders/{theirs['id']}").status_code == 200
    before = ChangeLogEntry.objects.count()
    assert (
        post(agent, f"{BASE}/orders/{theirs['id']}/status", {"status": "confirmed"}).status_code
        == 404
    )
    assert post(agent, f"{BASE}/orders/{theirs['id']}/payments", {"amount": "1"}).status_code == 404
    assert _create(agent, own_customer.pk).status_code == 403
    assert ChangeLogEntry.objects.count() == before
