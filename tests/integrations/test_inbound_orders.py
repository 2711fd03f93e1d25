"""Orders posted by shops and tills: signature, idempotency, customer match, clear errors."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client

from tests.customers.factories import make_customer
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.customers.models import ContactPoint, Customer
from vefa.integrations.models import InboundOrder, OrderSource, SourceCustomer
from vefa.integrations.services.sources import (
    source_create,
    source_rotate_secret,
    source_update,
)
from vefa.integrations.signing import signature
from vefa.sales.models import Order, PriceList, PriceListItem, Product

from .conftest import HOSTILE, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/orders/{}"


@pytest.fixture
def product(db) -> Product:
    return Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi 250 g",
        list_price=Decimal("120.00"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )


@pytest.fixture
def shop(admin_user):
    return source_create(
        actor=admin_user,
        data={"name": "Web shop", "key": "web-shop", "owner": admin_user.pk},
    )


def _order(**extra):
    order = {
        "external_number": "WEB-1001",
        "customer": {
            "email": "Ayse@Example.com",
            "first_name": "Ayşe",
            "last_name": "Yılmaz",
            "external_id": "C-77",
        },
        "lines": [
            {"sku": "KHV-001", "quantity": "2"},
            {"description": "Shipping", "unit_price": "30.00", "tax_rate": "20"},
        ],
    }
    order.update(extra)
    return order


def _post(key, secret, data, *, stamp=None, body=None, sig=None):
    raw = body if body is not None else json.dumps(data).encode()
    stamp = stamp or str(int(time.time()))
    headers = {
        "HTTP_X_VEFA_TIMESTAMP": stamp,
        "HTTP_X_VEFA_SIGNATURE": sig or signature(secret, stamp, raw),
    }
    return Client().post(URL.format(key), raw, content_type="application/json", **headers)


def test_a_signed_order_is_created_with_a_new_customer(shop, product):
    response = _post("web-shop", shop.secret, _order(totals={"total": "324.00"}))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created" and body["customer_created"] is True
    order = Order.objects.get(pk=body["order_id"])
    assert order.source == "ecommerce"
    assert order.external_id == "web-shop:WEB-1001"
    assert order.total == Decimal("324.00")  # 2 × 120 + 30, plus 20 % tax
    assert order.lines.count() == 2
    customer = order.customer
    assert customer.display_name == "Ayşe Yılmaz"
    assert customer.owner == shop.source.owner
    assert ContactPoint.objects.get(customer=customer, kind="email").normalized == (
        "ayse@example.com"
    )
    assert SourceCustomer.objects.get(external_id="C-77").customer == customer
    assert OrderSource.objects.get().last_order_at is not None


def test_a_retry_creates_nothing_new(shop, product):
    first = _post("web-shop", shop.secret, _order()).json()
    again = _post("web-shop", shop.secret, _order())
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["order_id"] == first["order_id"]
    assert Order.objects.count() == 1 and Customer.objects.count() == 1
    assert InboundOrder.objects.count() == 1


def test_the_same_number_from_another_source_is_another_order(admin_user, shop, product):
    till = source_create(
        actor=admin_user,
        data={"name": "Till", "key": "till-1", "kind": "epos", "owner": admin_user.pk},
    )
    a = _post("web-shop", shop.secret, _order()).json()
    b = _post("till-1", till.secret, _order())
    assert b.status_code == 201
    assert b.json()["order_id"] != a["order_id"]
    assert Order.objects.get(pk=b.json()["order_id"]).source == "epos"
    # The same customer (same e-mail), not a second one.
    assert b.json()["customer_id"] == a["customer_id"]


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "sha256=" + "0" * 64},
        {"sig": "garbage"},
        {"stamp": str(int(time.time()) - 3600)},
        {"stamp": "abc"},
        {"secret": "ossec_wrong"},
        {"key": "no-such-shop"},
    ],
)
def test_a_wrong_signature_is_401_and_writes_nothing(shop, product, change):
    key = change.get("key", "web-shop")
    secret = change.get("secret", shop.secret)
    response = _post(key, secret, _order(), stamp=change.get("stamp"), sig=change.get("sig"))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert Order.objects.count() == 0 and Customer.objects.count() == 0


def test_a_signature_over_another_body_is_refused(shop, product):
    raw = json.dumps(_order()).encode()
    stamp = str(int(time.time()))
    sig = signature(shop.secret, stamp, raw)
    tampered = raw.replace(b'"2"', b'"200"')
    response = Client().post(
        URL.format("web-shop"),
        tampered,
        content_type="application/json",
        HTTP_X_VEFA_TIMESTAMP=stamp,
        HTTP_X_VEFA_SIGNATURE=sig,
    )
    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_an_inactive_source_or_rotated_secret_is_refused(admin_user, shop, product):
    rotated = source_rotate_secret(actor=admin_user, source_id=shop.source.pk)
    assert _post("web-shop", shop.secret, _order()).status_code == 401
    assert _post("web-shop", rotated.secret, _order()).status_code == 201
    source_update(actor=admin_user, source_id=shop.source.pk, data={"is_active": False})
    assert _post("web-shop", rotated.secret, _order(external_number="2")).status_code == 401


def test_an_unknown_sku_is_a_clear_error(shop, product):
    order = _order(lines=[{"sku": "KHV-001"}, {"sku": "NOPE-9", "quantity": "1"}])
    response = _post("web-shop", shop.secret, order)
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert "lines.1.sku" in fields and "NOPE-9" in fields["lines.1.sku"][0]
    assert Order.objects.count() == 0 and Customer.objects.count() == 0


@pytest.mark.parametrize(
    "order,field",
    [
        (_order(external_number=""), "external_number"),
        (_order(external_number=5), "external_number"),
        (_order(external_number="x" * 81), "external_number"),
        (_order(customer={}), "customer"),
        (_order(customer="ayse@example.com"), "customer"),
        (_order(customer={"email": "not-an-email"}), "customer.email"),
        (_order(customer={"phone": "12"}), "customer.phone"),
        (_order(customer={"email": "a@b.co", "admin": True}), "customer.admin"),
        (_order(lines=[]), "lines"),
        (_order(lines="KHV-001"), "lines"),
        (_order(lines=[{"sku": "KHV-001", "quantity": "abc"}]), "lines.0.quantity"),
        (_order(lines=[{"sku": "KHV-001", "quantity": 1.5}]), "lines.0.quantity"),
        (_order(lines=[{"description": "Fee"}]), "lines.0.unit_price"),
        (_order(lines=[{"sku": "KHV-001", "hack": 1}]), "lines.0.hack"),
        (_order(lines=[{"sku": "KHV-001"}] * 501), "lines"),
        (_order(currency="XXXX"), "currency"),
        (_order(status="paid"), "status"),
        (_order(totals={"total": "1.00"}), "totals.total"),
        (_order(totals={"total": 12.5}), "totals.total"),
        (_order(extra=1), "extra"),
    ],
)
def test_bad_orders_name_the_field(shop, product, order, field):
    response = _post("web-shop", shop.secret, order)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.json()
    assert Order.objects.count() == 0 and Customer.objects.count() == 0


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b"\xff\xfe", b'{"a":' * 5000, b"null"]
)
def test_a_body_that_is_no_json_object(shop, raw):
    response = _post("web-shop", shop.secret, None, body=raw)
    assert response.status_code == 422
    assert "body" in response.json()["fields"]


def test_a_huge_body_is_refused(shop):
    raw = b'{"notes": "' + b"x" * 1_100_000 + b'"}'
    response = _post("web-shop", shop.secret, None, body=raw)
    assert response.status_code == 413
    assert Order.objects.count() == 0


def test_customer_found_by_phone_and_by_external_id(admin_user, shop, product):
    known = make_customer(owner=admin_user, first_name="Ali", last_name="Kaya")
    ContactPoint.objects.create(
        customer=known, kind="mobile", value="+90 532 111 22 33", normalized="+905321112233"
    )
    order = _order(customer={"phone": "0532 111 22 33", "external_id": "C-1"})
    body = _post("web-shop", shop.secret, order).json()
    assert body["customer_id"] == known.pk and body["customer_created"] is False
    # Later the shop sends only its own customer number.
    order = _order(external_number="WEB-1002", customer={"external_id": "C-1"})
    assert _post("web-shop", shop.secret, order).json()["customer_id"] == known.pk


def test_price_list_of_the_source_prices_lines_without_price(admin_user, shop, product):
    pl = PriceList.objects.create(name="Web", currency="TRY")
    PriceListItem.objects.create(price_list=pl, product=product, unit_price=Decimal("100.00"))
    source_update(actor=admin_user, source_id=shop.source.pk, data={"price_list": pl.pk})
    body = _post("web-shop", shop.secret, _order(lines=[{"sku": "KHV-001", "quantity": "1"}]))
    assert Decimal(body.json()["total"]) == Decimal("120.00")  # 100 + 20 % tax


def test_hostile_text_is_stored_as_text(shop, product):
    for i, value in enumerate(HOSTILE):
        order = _order(
            external_number=f"H-{i}",
            notes=value,
            customer={"email": f"h{i}@example.com", "first_name": value[:100]},
        )
        response = _post("web-shop", shop.secret, order)
        assert response.status_code == 201, response.content
        created = Order.objects.get(pk=response.json()["order_id"])
        assert created.notes == value.strip()


def test_sources_are_for_administrators(admin_user, rep, manager, read_only):
    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            source_create(actor=user, data={"name": "x", "key": "x-1", "owner": user.pk})
    with pytest.raises(ValidationFailed) as err:
        source_create(actor=admin_user, data={"name": "x", "key": "x-2", "owner": read_only.pk})
    assert "owner" in err.value.fields
    for data, field in [
        ({"name": "x", "key": "Bad Key!", "owner": admin_user.pk}, "key"),
        ({"name": "x", "key": "ok-key", "owner": admin_user.pk, "kind": "fax"}, "kind"),
        ({"name": "x", "key": "ok-key", "owner": "abc"}, "owner"),
        ({"name": "x", "key": "ok-key", "owner": admin_user.pk, "price_list": 999}, "price_list"),
        ({"name": "", "key": "ok-key", "owner": admin_user.pk}, "name"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            source_create(actor=admin_user, data=data)
        assert field in err.value.fields


def test_source_api(admin_user, rep):
    api = client_for(admin_user)
    response = api.post(
        "/api/v1/integrations/sources",
        {"name": "Till", "key": "till-2", "kind": "epos", "owner": admin_user.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("ossec_")
    source_id = body["id"]
    listed = api.get("/api/v1/integrations/sources").json()
    assert [s["key"] for s in listed] == ["till-2"] and "secret" not in listed[0]
    detail = api.get(f"/api/v1/integrations/sources/{source_id}")
    patched = api.patch(
        f"/api/v1/integrations/sources/{source_id}",
        {"name": "Till 2"},
        content_type="application/json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Till 2"
    stale = api.patch(
        f"/api/v1/integrations/sources/{source_id}",
        {"name": "Till 3"},
        content_type="application/json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert stale.status_code == 412
    other = client_for(rep)
    assert other.get(f"/api/v1/integrations/sources/{source_id}").status_code == 404
    assert other.get("/api/v1/integrations/sources").json() == []
    assert api.delete(f"/api/v1/integrations/sources/{source_id}").status_code == 204
