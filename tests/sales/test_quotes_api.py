"""The quote API: create (Idempotency-Key, Location), list filters and pages, ETag/If-Match,
lines, the PDF, accept into an order, reject, new versions, errors and hidden quotes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from tests.sales.test_quotes_fixtures import line, make_quote
from vefa.accounts.services import api_token_create
from vefa.sales.models import Order, Quote

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales/quotes"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: object, **headers) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client: Client, url: str, data: dict, **headers) -> object:
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def test_create_returns_201_with_location_etag_and_figures(rep, own_customer, product):
    client = client_for(rep)
    payload = {
        "customer_id": own_customer.pk,
        "language": "tr",
        "lines": [
            {"product": product.pk, "quantity": "2"},
            {"description": "Kurulum", "unit_price": "99.995", "discount_percent": "5"},
        ],
        "notes": "<b>Not</b>",
        "tags": ["sıcak"],
    }
    response = post(client, BASE, payload, **{"Idempotency-Key": "q-1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{BASE}/{body['id']}"
    assert response["ETag"] == f'"{body["id"]}-1"'
    assert body["status"] == "draft" and body["revision"] == 1
    assert body["lines"][0]["unit_price"] == "120.0000"
    assert Decimal(body["total"]) == Decimal("288.00") + Decimal("95.00")
    assert body["tags"] == ["sıcak"]
    again = post(client, BASE, payload, **{"Idempotency-Key": "q-1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Quote.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer_id": "x"}, "customer_id"),
        ({"lines": [{"description": "a", "unit_price": "abc"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "", "unit_price": "1"}]}, "lines.0.description"),
        ({"language": "xx"}, "language"),
        ({"valid_until": "not a date"}, "valid_until"),
        ({"lines": [{"description": "a", "unit_price": "1"}] * 501}, "lines"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(rep, own_customer, payload, field):
    client = client_for(rep)
    response = post(client, BASE, {"customer_id": own_customer.pk, **payload})
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert any(name == field or name.startswith(field) for name in fields), fields
    assert not Quote.objects.exists()


def test_list_filters_and_pages(rep, own_customer):
    client = client_for(rep)
    quotes = [make_quote(rep, own_customer) for _ in range(5)]
    make_quote(rep, own_customer, sent=True)
    first = client.get(f"{BASE}?status=draft&limit=3")
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    second = client.get(f"{BASE}?status=draft&limit=3&cursor={page['next_cursor']}").json()
    ids = [q["id"] for q in page["items"] + second["items"]]
    assert sorted(ids) == sorted(q.pk for q in quotes)
    assert client.get(f"{BASE}?status=sent").json()["items"][0]["status"] == "sent"
    assert client.get(f"{BASE}?customer={own_customer.pk}&limit=100").json()["items"]
    assert client.get(f"{BASE}?status=nonsense").status_code == 422


def test_patch_needs_the_current_etag(rep, own_customer):
    client = client_for(rep)
    quote = make_quote(rep, own_customer)
    url = f"{BASE}/{quote.pk}"
    etag = client.get(url)["ETag"]
    ok = patch(
        client, url, {"notes": "first", "lines": [line("Yeni", "5", "2")]}, **{"If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.json()["total"] == "10.0000"
    stale = patch(client, url, {"notes": "second"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert Quote.objects.get(pk=quote.pk).notes == "first"


def test_lines_are_added_changed_and_removed(rep, own_customer):
    client = client_for(rep)
    quote = make_quote(rep, own_customer, lines=[line("A", "10")])
    added = post(client, f"{BASE}/{quote.pk}/lines", line("B", "2.5", "4"))
    assert added.status_code == 201
    line_id = added.json()["id"]
    changed = patch(client, f"{BASE}/{quote.pk}/lines/{line_id}", {"quantity": "2"})
    assert changed.status_code == 200 and changed.json()["total"] == "5.0000"
    listed = client.get(f"{BASE}/{quote.pk}/lines").json()["items"]
    assert [x["description"] for x in listed] == ["A", "B"]
    assert client.delete(f"{BASE}/{quote.pk}/lines/{line_id}").status_code == 204
    assert client.delete(f"{BASE}/{quote.pk}/lines/{line_id}").status_code == 404
    assert Quote.objects.get(pk=quote.pk).total == Decimal("10.00")


def test_the_pdf_is_served(rep, own_customer):
    client = client_for(rep)
    quote = make_quote(rep, own_customer)
    response = client.get(f"{BASE}/{quote.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_accept_makes_the_order_with_the_same_figures(rep, own_customer):
    client = client_for(rep)
    quote = make_quote(rep, own_customer, lines=[line("A", "33.333", "3", tax_rate="18")])
    assert post(client, f"{BASE}/{quote.pk}/accept", {}).status_code == 422  # still a draft
    assert post(client, f"{BASE}/{quote.pk}/mark-sent", {}).status_code == 200
    response = post(client, f"{BASE}/{quote.pk}/accept", {})
    assert response.status_code == 200, response.content
    body = response.json()
    order = Order.objects.get(pk=body["order_id"])
    assert body["quote"]["status"] == "accepted"
    assert order.total == Decimal(body["quote"]["total"]) == Quote.objects.get(pk=quote.pk).total


def test_reject_and_new_version(rep, own_customer):
    client = client_for(rep)
    quote = make_quote(rep, own_customer, sent=True)
    assert post(client, f"{BASE}/{quote.pk}/reject", {"reason": ""}).status_code == 422
    rejected = post(client, f"{BASE}/{quote.pk}/reject", {"reason": "Fiyat yüksek"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    new = post(client, f"{BASE}/{quote.pk}/versions", {})
    assert new.status_code == 201
    assert new.json()["revision"] == 2 and new.json()["previous_id"] == quote.pk
    assert new["Location"] == f"{BASE}/{new.json()['id']}"
    assert client.get(f"{BASE}/{quote.pk}").json()["status"] == "superseded"


def test_hidden_and_read_only_quotes_answer_404_to_writes(
    rep, rep_other_team, read_only, own_customer
):
    quote = make_quote(rep, own_customer)
    url = f"{BASE}/{quote.pk}"
    other = client_for(rep_other_team)
    assert other.get(url).status_code == 404
    assert other.get(f"{url}/pdf").status_code == 404
    assert patch(other, url, {"notes": "x"}).status_code == 404
    viewer = client_for(read_only)
    assert viewer.get(url).status_code == 200
    assert patch(viewer, url, {"notes": "x"}).status_code == 404
    assert viewer.delete(url).status_code == 404
    assert post(viewer, f"{url}/mark-sent", {}).status_code == 404
    assert post(viewer, BASE, {"customer_id": own_customer.pk}).status_code in (403, 404, 422)
    assert Quote.objects.get(pk=quote.pk).version == quote.version
    assert Quote.objects.count() == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips(rep, team, text):
    client = client_for(rep)
    customer = make_customer(owner=rep, team=team, first_name=text[:100])
    response = post(
        client,
        BASE,
        {"customer_id": customer.pk, "notes": text, "lines": [line(text[:300], "1")]},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["notes"] == text.strip()
    assert body["customer_name"] == customer.display_name
