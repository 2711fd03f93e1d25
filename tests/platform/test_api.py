"""API of tags and custom-field definitions."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from vefa.accounts.services import api_token_create
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition, Tag

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client, method, url, data=None, **headers):
    body = json.dumps(data) if data is not None else ""
    return getattr(client, method)(url, body, content_type="application/json", **headers)


FIELD = {"model": "customers.customer", "key": "tier", "label": "Tier", "field_type": "text"}


def test_tags_list_create_and_delete(rep, admin_user):
    api = client_for(rep)
    created = send(api, "post", "/api/v1/tags", {"name": "  VIP  customers ", "color": "#aa0000"})
    assert created.status_code == 201
    tag = Tag.objects.get()
    assert created["Location"] == f"/api/v1/tags/{tag.pk}"
    assert created.json() == {
        "id": tag.pk,
        "name": "VIP customers",
        "slug": "vip-customers",
        "color": "#aa0000",
    }
    again = send(api, "post", "/api/v1/tags", {"name": "VIP customers"})
    assert again.status_code == 200
    assert Tag.objects.count() == 1

    listing = api.get("/api/v1/tags", {"q": "vip"})
    assert [t["name"] for t in listing.json()["items"]] == ["VIP customers"]

    # A rep may not delete: the tag is kept and the answer is "not found"
    assert api.delete(f"/api/v1/tags/{tag.pk}").status_code == 404
    assert Tag.objects.filter(pk=tag.pk).exists()
    assert client_for(admin_user).delete(f"/api/v1/tags/{tag.pk}").status_code == 204
    assert not Tag.objects.exists()
    assert list(
        ChangeLogEntry.objects.filter(model="platform.tag")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "delete"]


def test_read_only_users_may_not_create_tags(read_only):
    response = send(client_for(read_only), "post", "/api/v1/tags", {"name": "Nope"})
    assert response.status_code == 403
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "ok", "color": "red"}, "color"),
        ({"color": "#ffffff"}, "name"),
        ({"name": 12}, "name"),
    ],
)
def test_bad_tags_are_422_with_the_field(rep, payload, field):
    response = send(client_for(rep), "post", "/api/v1/tags", payload)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert not Tag.objects.exists()


def test_idempotent_tag_create_replays_the_first_answer(rep):
    api = client_for(rep)
    first = send(api, "post", "/api/v1/tags", {"name": "Once"}, HTTP_IDEMPOTENCY_KEY="k1")
    second = send(api, "post", "/api/v1/tags", {"name": "Once"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    assert second.status_code in (200, 201)
    assert Tag.objects.count() == 1


def test_custom_fields_crud_for_administrators_with_etags(admin_user, rep):
    api = client_for(admin_user)
    created = send(
        api,
        "post",
        "/api/v1/custom-fields",
        {**FIELD, "field_type": "choice", "choices": ["gold", "silver"]},
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created["Location"] == f"/api/v1/custom-fields/{pk}"

    detail = api.get(f"/api/v1/custom-fields/{pk}")
    etag = detail["ETag"]
    assert etag == f'"{pk}-1"'
    changed = send(
        api, "patch", f"/api/v1/custom-fields/{pk}", {"label": "Level"}, HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200
    assert changed.json()["label"] == "Level"
    assert changed["ETag"] == f'"{pk}-2"'
    stale = send(
        api, "patch", f"/api/v1/custom-fields/{pk}", {"label": "Stale"}, HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert CustomFieldDefinition.objects.get().label == "Level"

    # Everybody may read definitions (forms need them)
    listed = client_for(rep).get("/api/v1/custom-fields", {"model": "customers.customer"})
    assert [d["key"] for d in listed.json()] == ["tier"]

    assert api.delete(f"/api/v1/custom-fields/{pk}").status_code == 204
    assert api.get(f"/api/v1/custom-fields/{pk}").status_code == 404


def test_custom_field_writes_by_non_administrators_change_nothing(rep, admin_user):
    definition = CustomFieldDefinition.objects.create(**FIELD)
    api = client_for(rep)
    assert send(api, "post", "/api/v1/custom-fields", {**FIELD, "key": "other"}).status_code == 403
    assert (
        send(api, "patch", f"/api/v1/custom-fields/{definition.pk}", {"label": "X"}).status_code
        == 404
    )
    assert api.delete(f"/api/v1/custom-fields/{definition.pk}").status_code == 404
    definition.refresh_from_db()
    assert definition.label == "Tier"
    assert CustomFieldDefinition.objects.count() == 1
    assert not ChangeLogEntry.objects.filter(model="platform.customfielddefinition").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**FIELD, "field_type": "choice"}, "choices"),
        ({**FIELD, "key": "Bad Key"}, "key"),
        ({**FIELD, "model": "accounts.user"}, "model"),
        ({**FIELD, "field_type": "nope"}, "field_type"),
        ({**FIELD, "label": "x" * 101}, "label"),
        ({**FIELD, "order": -1}, "order"),
        ({k: v for k, v in FIELD.items() if k != "key"}, "key"),
    ],
)
def test_bad_definitions_are_422_naming_the_field(admin_user, payload, field):
    response = send(client_for(admin_user), "post", "/api/v1/custom-fields", payload)
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert not CustomFieldDefinition.objects.exists()


def test_the_api_needs_authentication():
    assert Client().get("/api/v1/tags").status_code == 401
    assert Client().get("/api/v1/custom-fields").status_code == 401
