"""The webhook and order-source pages and the webhook API: administrators only, the secret
shown once, delivery log, escaping of hostile names."""

from __future__ import annotations

import pytest

from vefa.integrations.models import OrderSource, Webhook, WebhookDelivery
from vefa.integrations.services.sources import source_create
from vefa.integrations.services.webhooks import webhook_create

from .conftest import client_for

pytestmark = pytest.mark.django_db

HOOK = {
    "name": "<script>alert(1)</script>",
    "url": "https://hooks.example.com/in",
    "rules": [{"entity": "order", "event": "created"}],
}


def test_webhook_pages_for_an_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/integrations/webhooks/").status_code == 200
    form = client.get("/integrations/webhooks/new/")
    assert form.status_code == 200 and b"rule_0_event" in form.content
    response = client.post(
        "/integrations/webhooks/new/",
        {
            "name": "<script>alert(1)</script>",
            "url": "https://hooks.example.com/in",
            "is_active": "on",
            "rule_0_event": "order.status_changed",
            "rule_0_field": "total",
            "rule_0_operator": "gte",
            "rule_0_value": "100",
        },
    )
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert webhook.secret.encode() in response.content  # shown once, on this answer
    assert b"<script>alert(1)</script>" not in response.content
    assert response["Cache-Control"] == "no-store"
    detail = client.get(f"/integrations/webhooks/{webhook.pk}/")
    assert detail.status_code == 200
    assert webhook.secret.encode() not in detail.content
    assert b"&lt;script&gt;" in detail.content
    listing = client.get("/integrations/webhooks/")
    assert b"&lt;script&gt;" in listing.content and b"<script>alert" not in listing.content


def test_webhook_form_shows_rule_errors_on_the_row(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/integrations/webhooks/new/",
        {
            "name": "x",
            "url": "https://hooks.example.com/in",
            "rule_0_event": "order.created",
            "rule_0_field": "nope",
            "rule_0_operator": "eq",
            "rule_0_value": "1",
        },
    )
    assert response.status_code == 422
    assert "This record type has no such field." in response.content.decode()
    assert Webhook.objects.count() == 0


def test_webhook_edit_rotate_reset_delete(client, admin_user):
    made = webhook_create(actor=admin_user, data=HOOK)
    pk = made.webhook.pk
    client.force_login(admin_user)
    edit = client.get(f"/integrations/webhooks/{pk}/edit/")
    assert edit.status_code == 200
    response = client.post(
        f"/integrations/webhooks/{pk}/edit/",
        {
            "name": "Renamed",
            "url": "https://hooks.example.com/v2",
            "version": made.webhook.version,
            "rule_0_event": "ticket.created",
        },
    )
    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert webhook.name == "Renamed" and not webhook.is_active
    assert [r.label for r in webhook.rules.all()] == ["ticket.created"]
    stale = client.post(
        f"/integrations/webhooks/{pk}/edit/",
        {"name": "Again", "url": "https://hooks.example.com/v2", "version": 1},
    )
    assert stale.status_code == 422
    rotated = client.post(f"/integrations/webhooks/{pk}/secret/")
    webhook.refresh_from_db()
    assert webhook.secret != made.secret and webhook.secret.encode() in rotated.content
    assert client.post(f"/integrations/webhooks/{pk}/reset/").status_code == 302
    assert client.post(f"/integrations/webhooks/{pk}/delete/").status_code == 302
    assert Webhook.objects.count() == 0


def test_pages_are_404_for_everyone_else(client, admin_user, manager, rep):
    made = webhook_create(actor=admin_user, data=HOOK)
    source = source_create(
        actor=admin_user, data={"name": "Shop", "key": "shop", "owner": admin_user.pk}
    )
    for user in (manager, rep):
        client.force_login(user)
        for url in (
            "/integrations/webhooks/",
            "/integrations/webhooks/new/",
            f"/integrations/webhooks/{made.webhook.pk}/",
            f"/integrations/webhooks/{made.webhook.pk}/edit/",
            "/integrations/sources/",
            "/integrations/sources/new/",
            f"/integrations/sources/{source.source.pk}/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/integrations/webhooks/{made.webhook.pk}/delete/").status_code == 404
        assert client.post(f"/integrations/sources/{source.source.pk}/secret/").status_code == 404
    assert Webhook.objects.count() == 1 and OrderSource.objects.count() == 1


def test_source_pages(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/integrations/sources/new/").status_code == 200
    response = client.post(
        "/integrations/sources/new/",
        {
            "name": "Kasa",
            "key": "kasa-1",
            "kind": "epos",
            "default_currency": "TRY",
            "owner": admin_user.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    source = OrderSource.objects.get()
    assert source.secret.encode() in response.content
    assert b"/api/v1/integrations/orders/kasa-1" in response.content
    detail = client.get(f"/integrations/sources/{source.pk}/")
    assert detail.status_code == 200 and source.secret.encode() not in detail.content
    bad = client.post(
        "/integrations/sources/new/",
        {
            "name": "Dup",
            "key": "kasa-1",
            "kind": "epos",
            "default_currency": "TRY",
            "owner": admin_user.pk,
        },
    )
    assert bad.status_code == 422 and "Another source has this key." in bad.content.decode()
    edit = client.post(
        f"/integrations/sources/{source.pk}/edit/",
        {
            "name": "Kasa 2",
            "key": "kasa-1",
            "kind": "epos",
            "default_currency": "TRY",
            "owner": admin_user.pk,
            "version": source.version,
        },
    )
    assert edit.status_code == 302
    assert OrderSource.objects.get().name == "Kasa 2"


def test_webhook_api(admin_user, rep, receiver, django_capture_on_commit_callbacks):
    api = client_for(admin_user)
    created = api.post(
        "/api/v1/integrations/webhooks",
        {
            "name": "Hook",
            "url": receiver.url,
            "rules": [{"entity": "customer", "event": "created"}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and created["Location"].endswith(f"/{body['id']}")
    hook_id = body["id"]
    detail = api.get(f"/api/v1/integrations/webhooks/{hook_id}")
    assert "secret" not in detail.json()
    assert detail.json()["rules"][0]["entity"] == "customer"
    bad = api.post(
        "/api/v1/integrations/webhooks",
        {"name": "Hook", "url": "http://10.0.0.1/", "rules": [{"entity": "x", "event": "y"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    patched = api.patch(
        f"/api/v1/integrations/webhooks/{hook_id}",
        {"rules": [{"entity": "customer", "event": "updated"}]},
        content_type="application/json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = api.patch(
        f"/api/v1/integrations/webhooks/{hook_id}",
        {"name": "x"},
        content_type="application/json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    assert stale.status_code == 412
    # A delivery, then its log and a redelivery through the API.
    from vefa.customers.services.customers import customer_create, customer_update

    with django_capture_on_commit_callbacks(execute=True):
        customer = customer_create(
            actor=admin_user, data={"kind": "person", "first_name": "Api", "last_name": "Kişi"}
        )
        customer_update(actor=admin_user, customer_id=customer.pk, data={"notes": "x"})
    page = api.get(f"/api/v1/integrations/webhooks/{hook_id}/deliveries").json()
    assert len(page["items"]) == 1
    item = page["items"][0]
    assert item["status"] == "succeeded" and item["attempt_log"][0]["status_code"] == 200
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"/api/v1/integrations/deliveries/{item['id']}/redeliver")
    assert again.status_code == 202
    assert WebhookDelivery.objects.count() == 2 and len(receiver.requests) == 2
    rotated = api.post(f"/api/v1/integrations/webhooks/{hook_id}/secret")
    assert rotated.json()["secret"] != body["secret"]
    assert api.post(f"/api/v1/integrations/webhooks/{hook_id}/resume").status_code == 200
    # Everyone else: nothing there.
    other = client_for(rep)
    assert other.get(f"/api/v1/integrations/webhooks/{hook_id}").status_code == 404
    assert other.get(f"/api/v1/integrations/webhooks/{hook_id}/deliveries").status_code == 404
    assert other.post(f"/api/v1/integrations/deliveries/{item['id']}/redeliver").status_code == 404
    assert other.get("/api/v1/integrations/webhooks").json() == []
    denied = other.post(
        "/api/v1/integrations/webhooks",
        {
            "name": "Hook",
            "url": receiver.url,
            "rules": [{"entity": "customer", "event": "created"}],
        },
        content_type="application/json",
    )
    assert denied.status_code == 403
    assert api.delete(f"/api/v1/integrations/webhooks/{hook_id}").status_code == 204
    assert api.get(f"/api/v1/integrations/webhooks/{hook_id}").status_code == 404
