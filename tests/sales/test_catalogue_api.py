"""The catalogue API: CRUD, money as text, ETag/If-Match, Idempotency-Key, pages, the price
of a line, the daily exchange-rate upsert and the pipeline rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from vefa.accounts.services import api_token_create
from vefa.platform.models import ChangeLogEntry, Tag
from vefa.sales.models import (
    ExchangeRate,
    Opportunity,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    Stage,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, method: str, url: str, data=None, **headers):
    return getattr(client, method)(
        url, data=json.dumps(data or {}), content_type="application/json", headers=headers
    )


def test_create_product_returns_201_location_etag_and_money_as_text(manager, category):
    client = client_for(manager)
    response = send(
        client,
        "post",
        f"{BASE}/products",
        {
            "sku": "KHV-7",
            "name": "Dibek kahvesi",
            "category_id": category.pk,
            "list_price": "150.00",
            "unit_cost": 90,
            "currency": "TRY",
            "tax_rate": "20",
            "tags": ["Kahve"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["list_price"] == "150.0000"
    assert body["unit_cost"] == "90.0000"
    assert body["margin"] == "60.00"
    assert body["margin_percent"] == "40.0"
    assert body["category_name"] == "Kahve"
    assert body["tags"] == ["Kahve"]
    assert response["Location"] == f"{BASE}/products/{body['id']}"
    assert response["ETag"] == f'"{body["id"]}-1"'
    assert client.get(response["Location"]).json()["sku"] == "KHV-7"


def test_json_floats_are_refused_for_money(manager):
    response = send(
        client_for(manager),
        "post",
        f"{BASE}/products",
        {"sku": "F", "name": "F", "list_price": 9.99},
    )
    assert response.status_code == 422
    assert "list_price" in {k.split(".")[0] for k in response.json()["fields"]}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sku": "", "name": "x"}, "sku"),
        ({"sku": "A", "name": "x", "currency": "EURO"}, "currency"),
        ({"sku": "A", "name": "x", "tax_rate": "150"}, "tax_rate"),
        ({"sku": "A", "name": "x", "unit": "bucket"}, "unit"),
        ({"sku": "A", "name": "x", "category_id": 987654}, "category_id"),
        ({"sku": "A", "name": "x" * 201}, "name"),
        ({"sku": "A", "name": "x", "list_price": "1" * 30}, "list_price"),
    ],
)
def test_bad_product_input_is_422_naming_the_field(manager, payload, field):
    response = send(client_for(manager), "post", f"{BASE}/products", payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert field in body["fields"]
    assert not Product.objects.exists()


def test_missing_fields_and_wrong_types_are_422(manager):
    client = client_for(manager)
    assert send(client, "post", f"{BASE}/products", {"name": "x"}).status_code == 422
    assert send(client, "post", f"{BASE}/products", {"sku": ["a"], "name": "x"}).status_code == 422
    response = client.post(f"{BASE}/products", data="not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert not Product.objects.exists()


def test_idempotent_product_create_replays(manager):
    client = client_for(manager)
    payload = {"sku": "ID-1", "name": "Once"}
    first = send(client, "post", f"{BASE}/products", payload, **{"Idempotency-Key": "k1"})
    again = send(client, "post", f"{BASE}/products", payload, **{"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Product.objects.count() == 1


def test_stale_if_match_is_412_and_changes_nothing(manager, product):
    client = client_for(manager)
    url = f"{BASE}/products/{product.pk}"
    ok = send(client, "patch", url, {"list_price": "130"}, **{"If-Match": f'"{product.pk}-1"'})
    assert ok.status_code == 200
    assert ok["ETag"] == f'"{product.pk}-2"'
    stale = send(client, "patch", url, {"list_price": "1"}, **{"If-Match": f'"{product.pk}-1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    product.refresh_from_db()
    assert product.list_price == Decimal("130")


def test_patch_can_clear_the_category_and_unit_cost(manager, product):
    response = send(
        client_for(manager),
        "patch",
        f"{BASE}/products/{product.pk}",
        {"category_id": None, "unit_cost": None},
    )
    assert response.status_code == 200
    assert (response.json()["category_id"], response.json()["margin"]) == (None, None)


def test_product_list_filters_and_pages(manager, category):
    Product.objects.bulk_create(
        [Product(sku=f"P-{i:03}", name=f"Ürün {i:03}", category=category) for i in range(30)]
        + [Product(sku="OLD-1", name="Eski", is_active=False)]
    )
    client = client_for(manager)
    first = client.get(f"{BASE}/products", {"limit": 20, "category": category.pk}).json()
    assert len(first["items"]) == 20 and first["next_cursor"]
    second = client.get(
        f"{BASE}/products", {"limit": 20, "category": category.pk, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 10 and second["next_cursor"] is None
    inactive = client.get(f"{BASE}/products", {"active": "false"}).json()["items"]
    assert [p["sku"] for p in inactive] == ["OLD-1"]
    found = client.get(f"{BASE}/products", {"q": "p-01"}).json()["items"]
    assert [p["sku"] for p in found] == [f"P-01{i}" for i in range(10)]
    from vefa.platform.search.indexer import index_records

    index_records("sales.product", Product.objects.values_list("pk", flat=True))
    by_word = client.get(f"{BASE}/products", {"q": "ürün 02"}).json()["items"]
    assert [p["sku"] for p in by_word] == [f"P-02{i}" for i in range(10)]


def test_product_in_use_cannot_be_deleted_through_the_api(manager, product, own_customer, rep):
    stage = Stage.objects.filter(pipeline__is_default=True, kind="open").first()
    opportunity = Opportunity.objects.create(
        name="D", customer=own_customer, pipeline=stage.pipeline, stage=stage, owner=rep
    )
    opportunity.lines.create(product=product)
    response = client_for(manager).delete(f"{BASE}/products/{product.pk}")
    assert response.status_code == 422
    assert Product.objects.filter(pk=product.pk).exists()


def test_price_for_a_line(manager, rep, product, own_customer, other_customer):
    group = Tag.objects.create(name="Toptan", slug="toptan")
    own_customer.tags.add(group)
    other_customer.tags.add(group)
    general = PriceList.objects.create(name="Genel", currency="TRY")
    PriceListItem.objects.create(price_list=general, product=product, unit_price=Decimal("110"))
    PriceListItem.objects.create(
        price_list=general, product=product, unit_price=Decimal("100"), min_quantity=Decimal(10)
    )
    special = PriceList.objects.create(name="Toptan", currency="TRY", customer_group=group)
    PriceListItem.objects.create(price_list=special, product=product, unit_price=Decimal("90"))
    client = client_for(rep)
    url = f"{BASE}/products/{product.pk}/price"

    body = client.get(url, {"currency": "TRY"}).json()
    assert body == {
        "product_id": product.pk,
        "currency": "TRY",
        "quantity": "1.000",
        "unit_price": "110.0000",
        "source": "price_list",
        "price_list_id": general.pk,
        "price_list_name": "Genel",
        "tax_rate": "20.000",
    }
    assert client.get(url, {"currency": "TRY", "quantity": "12"}).json()["unit_price"] == (
        "100.0000"
    )
    group_price = client.get(url, {"currency": "try", "customer": own_customer.pk}).json()
    assert (group_price["unit_price"], group_price["price_list_id"]) == ("90.0000", special.pk)
    nothing = client.get(url, {"currency": "EUR"}).json()
    assert (nothing["unit_price"], nothing["source"]) == (None, "none")
    # The rep may not see another team's customer: refused like a missing one.
    hidden = client.get(url, {"currency": "TRY", "customer": other_customer.pk})
    assert hidden.status_code == 422
    assert hidden.json()["fields"] == {"customer": ["Choose an existing customer."]}
    assert client.get(url, {"currency": "TRY", "quantity": "0"}).status_code == 422
    assert client.get(url, {"currency": "XX"}).status_code == 422
    assert client.get(url).status_code == 422
    assert client.get(f"{BASE}/products/999999/price", {"currency": "TRY"}).status_code == 404


def test_price_lists_and_their_items(manager, product):
    client = client_for(manager)
    created = send(client, "post", f"{BASE}/price-lists", {"name": "Bayi", "currency": "EUR"})
    assert created.status_code == 201
    list_id = created.json()["id"]
    item = send(
        client,
        "post",
        f"{BASE}/price-lists/{list_id}/items",
        {"product_id": product.pk, "unit_price": "3.25", "min_quantity": "5"},
    )
    assert item.status_code == 201, item.content
    assert item.json()["product_sku"] == product.sku
    duplicate = send(
        client,
        "post",
        f"{BASE}/price-lists/{list_id}/items",
        {"product_id": product.pk, "unit_price": "3", "min_quantity": "5.000"},
    )
    assert duplicate.status_code == 422
    items = client.get(f"{BASE}/price-lists/{list_id}/items").json()["items"]
    assert [(i["min_quantity"], i["unit_price"]) for i in items] == [("5.000", "3.2500")]
    patched = send(
        client, "patch", f"{BASE}/price-list-items/{item.json()['id']}", {"unit_price": "3.5"}
    )
    assert patched.json()["unit_price"] == "3.5000"
    change = send(client, "patch", f"{BASE}/price-lists/{list_id}", {"currency": "TRY"})
    assert change.status_code == 422
    assert client.delete(f"{BASE}/price-list-items/{item.json()['id']}").status_code == 204
    assert client.delete(f"{BASE}/price-lists/{list_id}").status_code == 204
    assert not PriceList.objects.exists()


def test_daily_exchange_rates_upsert(manager):
    client = client_for(manager)
    url = f"{BASE}/exchange-rates/days/2026-11-24"
    first = send(
        client,
        "put",
        url,
        {
            "rates": [
                {"currency": "EUR", "quote_currency": "TRY", "rate": "36.5"},
                {"currency": "USD", "quote_currency": "TRY", "rate": "34.1"},
            ]
        },
    )
    assert first.status_code == 200, first.content
    assert [r["rate"] for r in first.json()["items"]] == ["36.5000000000", "34.1000000000"]
    again = send(
        client,
        "put",
        url,
        {"rates": [{"currency": "EUR", "quote_currency": "TRY", "rate": "36.6"}]},
    )
    assert again.status_code == 200
    assert ExchangeRate.objects.count() == 2
    assert ExchangeRate.objects.get(currency="EUR").rate == Decimal("36.6")
    bad = send(
        client,
        "put",
        url,
        {
            "rates": [
                {"currency": "EUR", "quote_currency": "TRY", "rate": "40"},
                {"currency": "GBP", "quote_currency": "GBP", "rate": "1"},
            ]
        },
    )
    assert bad.status_code == 422
    assert "rates.1.quote_currency" in bad.json()["fields"]
    assert ExchangeRate.objects.get(currency="EUR").rate == Decimal("36.6")
    assert (
        send(client, "put", f"{BASE}/exchange-rates/days/not-a-day", {"rates": []}).status_code
        == 422
    )
    listing = client.get(f"{BASE}/exchange-rates", {"currency": "usd"}).json()["items"]
    assert [r["currency"] for r in listing] == ["USD"]


def test_single_exchange_rates(manager):
    client = client_for(manager)
    created = send(
        client,
        "post",
        f"{BASE}/exchange-rates",
        {"day": "2026-11-24", "currency": "RSD", "quote_currency": "TRY", "rate": "0.3"},
    )
    assert created.status_code == 201
    rate_id = created.json()["id"]
    assert client.get(f"{BASE}/exchange-rates/{rate_id}").status_code == 200
    assert client.delete(f"{BASE}/exchange-rates/{rate_id}").status_code == 204
    assert client.get(f"{BASE}/exchange-rates/{rate_id}").status_code == 404


def test_competitors_crud(manager):
    client = client_for(manager)
    created = send(client, "post", f"{BASE}/competitors", {"name": "Rakip", "notes": "<b>x</b>"})
    assert created.status_code == 201
    url = created["Location"]
    assert send(client, "post", f"{BASE}/competitors", {"name": "RAKIP"}).status_code == 422
    assert send(client, "patch", url, {"website": "rakip.example"}).json()["website"] == (
        "rakip.example"
    )
    assert client.get(f"{BASE}/competitors", {"q": "rak"}).json()["items"][0]["notes"] == "<b>x</b>"
    assert client.delete(url).status_code == 204


def test_categories_crud(manager):
    client = client_for(manager)
    top = send(client, "post", f"{BASE}/categories", {"name": "İçecek"}).json()
    child = send(client, "post", f"{BASE}/categories", {"name": "Çay", "parent_id": top["id"]})
    assert child.status_code == 201
    names = [c["name"] for c in client.get(f"{BASE}/categories").json()["items"]]
    assert names == ["İçecek", "Çay"]
    loop = send(
        client, "patch", f"{BASE}/categories/{top['id']}", {"parent_id": child.json()["id"]}
    )
    assert loop.status_code == 422
    assert client.delete(f"{BASE}/categories/{top['id']}").status_code == 422
    assert client.delete(f"{BASE}/categories/{child.json()['id']}").status_code == 204


def test_pipelines_and_stages(manager, pipeline, stages, own_customer, rep):
    client = client_for(manager)
    listing = client.get(f"{BASE}/pipelines").json()["items"]
    assert [p["kind"] for p in listing] == ["new_business", "renewal"]
    assert [s["name"] for s in listing[0]["stages"]] == [s.name for s in stages]
    created = send(client, "post", f"{BASE}/pipelines", {"name": "Kurumsal", "is_default": True})
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert [s["kind"] for s in created.json()["stages"]] == ["open", "won", "lost"]
    assert Pipeline.objects.get(kind="new_business", is_default=True).pk == new_id
    stage = send(
        client,
        "post",
        f"{BASE}/pipelines/{new_id}/stages",
        {"name": "Teklif", "probability": 40},
    )
    assert stage.status_code == 201
    ids = [s["id"] for s in client.get(f"{BASE}/pipelines/{new_id}").json()["stages"]]
    reordered = send(
        client, "put", f"{BASE}/pipelines/{new_id}/stage-order", {"stage_ids": ids[::-1]}
    )
    assert [s["id"] for s in reordered.json()["stages"]] == ids[::-1]
    bad_order = send(
        client, "put", f"{BASE}/pipelines/{new_id}/stage-order", {"stage_ids": ids[:1]}
    )
    assert bad_order.status_code == 422
    patched = send(client, "patch", f"{BASE}/stages/{stage.json()['id']}", {"stale_after_days": 9})
    assert patched.json()["stale_after_days"] == 9
    Opportunity.objects.create(
        name="D", customer=own_customer, pipeline=pipeline, stage=stages[0], owner=rep
    )
    refused = client.delete(f"{BASE}/pipelines/{pipeline.pk}")
    assert refused.status_code == 422
    assert "Opportunities" in refused.json()["fields"]["__all__"][0]
    assert client.delete(f"{BASE}/stages/{stages[0].pk}").status_code == 422
    assert client.delete(f"{BASE}/pipelines/{new_id}").status_code == 204
    pipeline.refresh_from_db()
    assert pipeline.is_default
    assert ChangeLogEntry.objects.filter(model="sales.pipeline", object_id=new_id).count() >= 2
