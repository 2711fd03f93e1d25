"""Knowledge-base API: create with texts per language, read, folded search (public only for
the portal), If-Match, idempotent create, helpful votes, access as 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.service.models import Article

pytestmark = pytest.mark.django_db

BASE = "/api/v1/service/articles"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client, url, data, **headers):
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def payload(slug="iade", visibility="public", status="published", **texts):
    return {
        "slug": slug,
        "visibility": visibility,
        "status": status,
        "translations": texts
        or {
            "tr": {"title": "İade nasıl yapılır", "body": "Siparişlerim sayfasından."},
            "en": {"title": "How to return", "body": "From My orders."},
        },
    }


def test_create_read_search_update(agent):
    client = client_for(agent)
    created = post(client, BASE, payload(), **{"Idempotency-Key": "kb-1"})
    assert created.status_code == 201
    body = created.json()
    assert created["Location"].endswith(f"/articles/{body['id']}")
    assert [t["language"] for t in body["translations"]] == ["en", "tr"]
    replay = post(client, BASE, payload(), **{"Idempotency-Key": "kb-1"})
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Article.objects.count() == 1
    hits = client.get(f"{BASE}/search", {"q": "IADE nasil", "language": "tr"}).json()
    assert [(h["slug"], h["language"]) for h in hits] == [("iade", "tr")]
    detail = client.get(f"{BASE}/{body['id']}")
    etag = detail["ETag"]
    changed = patch(
        client,
        f"{BASE}/{body['id']}",
        {"translations": {"fa": {"title": "مرجوعی", "body": "از صفحه سفارش‌ها"}}},
        **{"If-Match": etag},
    )
    assert changed.status_code == 200
    assert {t["language"] for t in changed.json()["translations"]} == {"en", "tr", "fa"}
    stale = patch(client, f"{BASE}/{body['id']}", {"status": "archived"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert client.get(BASE, {"q": "مرجوعی"}).json()["items"][0]["slug"] == "iade"


def test_public_only_search_hides_internal(agent):
    client = client_for(agent)
    post(client, BASE, payload(slug="ic-not", visibility="internal"))
    assert client.get(f"{BASE}/search", {"q": "iade", "public_only": "true"}).json() == []
    assert len(client.get(f"{BASE}/search", {"q": "iade"}).json()) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"slug": "x"}, None),
        ({**payload(), "slug": "Not A Slug"}, "slug"),
        ({**payload(), "visibility": "secret"}, None),
        ({**payload(), "translations": {"xx": {"title": "a", "body": "b"}}}, "translations.xx"),
        ({**payload(), "translations": {"en": {"title": "a", "body": ""}}}, "body_en"),
        ({**payload(), "translations": {"en": {"title": "a" * 301, "body": "b"}}}, None),
        ({**payload(), "category": "abc"}, None),
    ],
)
def test_bad_input_is_422_naming_the_field(agent, data, field):
    response = post(client_for(agent), BASE, data)
    assert response.status_code == 422
    if field:
        assert field in response.json()["fields"]
    assert not Article.objects.exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_as_data(agent, text):
    client = client_for(agent)
    created = post(client, BASE, payload(en={"title": text, "body": text}))
    assert created.status_code == 201
    assert created.json()["translations"][0]["title"] == text.strip()


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.READ_ONLY])
def test_readers_cannot_write(agent, team, role):
    article = post(client_for(agent), BASE, payload()).json()
    client = client_for(UserFactory(role=role, team=team))
    assert client.get(f"{BASE}/{article['id']}").status_code == 200
    assert post(client, BASE, payload(slug="mine")).status_code == 404
    assert patch(client, f"{BASE}/{article['id']}", {"status": "archived"}).status_code == 404
    assert Article.objects.get(pk=article["id"]).status == "published"


def test_helpful_and_missing(agent):
    client = client_for(agent)
    article = post(client, BASE, payload()).json()
    assert client.post(f"{BASE}/{article['id']}/helpful").json() == {"helpful_count": 1}
    internal = post(client, BASE, payload(slug="internal", visibility="internal")).json()
    assert client.post(f"{BASE}/{internal['id']}/helpful").status_code == 404
    assert client.get(f"{BASE}/999999").status_code == 404


def test_needs_authentication():
    assert Client().get(BASE).status_code == 401
