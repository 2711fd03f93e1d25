"""The segments API: create, read, change with ETags, count, members, static lists, errors."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.marketing_segments.conftest import HOSTILE
from vefa.accounts.services import api_token_create
from vefa.marketing.models import Segment

pytestmark = pytest.mark.django_db

BASE = "/api/v1/marketing/segments"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, method: str, url: str, data: object, **headers) -> object:
    return getattr(client, method)(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def test_create_read_count_and_members(marketer, rep, ankara, izmir, hidden):
    api = client_for(marketer)
    created = send(
        api,
        "post",
        BASE,
        {"name": "Ankara", "kind": "dynamic", "rules": [{"param": "city", "value": "Ankara"}]},
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created["Location"].endswith(f"{BASE}/{pk}")
    assert api.get(f"{BASE}/{pk}/count").json() == {"count": 2}
    assert client_for(rep).get(f"{BASE}/{pk}/count").json() == {"count": 1}
    members = client_for(rep).get(f"{BASE}/{pk}/members?limit=1").json()
    assert [m["id"] for m in members["items"]] == [ankara.pk]
    listed = api.get(f"{BASE}?q=ank").json()
    assert [s["id"] for s in listed["items"]] == [pk]


def test_bad_rules_in_the_error_shape(marketer):
    response = send(
        client_for(marketer),
        "post",
        BASE,
        {"name": "X", "kind": "dynamic", "rules": [{"param": "rfm_segment", "value": "nope"}]},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] and "rules.1" in body["fields"]
    assert "RFM segment" in body["fields"]["rules.1"][0]


def test_patch_needs_a_fresh_etag(marketer):
    api = client_for(marketer)
    pk = send(api, "post", BASE, {"name": "S", "kind": "static"}).json()["id"]
    read = api.get(f"{BASE}/{pk}")
    etag = read["ETag"]
    ok = send(api, "patch", f"{BASE}/{pk}", {"name": HOSTILE[0]}, **{"If-Match": etag})
    assert ok.status_code == 200 and ok.json()["name"] == HOSTILE[0]
    stale = send(api, "patch", f"{BASE}/{pk}", {"name": "again"}, **{"If-Match": etag})
    assert stale.status_code == 412


def test_static_members_through_the_api(marketer, rep, ankara, hidden):
    api = client_for(marketer)
    pk = send(api, "post", BASE, {"name": "L", "kind": "static"}).json()["id"]
    added = send(api, "post", f"{BASE}/{pk}/members", {"customer_ids": [ankara.pk, hidden.pk]})
    assert added.json() == {"changed": 2}
    again = send(api, "post", f"{BASE}/{pk}/members", {"customer_ids": [ankara.pk]})
    assert again.json() == {"changed": 0}
    unknown = send(api, "post", f"{BASE}/{pk}/members", {"customer_ids": [987654]})
    assert unknown.status_code == 422 and "customer_ids" in unknown.json()["fields"]
    # A sales rep may not change a marketer's list.
    denied = send(client_for(rep), "post", f"{BASE}/{pk}/members", {"customer_ids": [ankara.pk]})
    assert denied.status_code == 403
    removed = send(api, "post", f"{BASE}/{pk}/members/remove", {"customer_ids": [ankara.pk]})
    assert removed.json() == {"changed": 1}


def test_archive_and_unknown_segment(marketer, read_only):
    api = client_for(marketer)
    pk = send(api, "post", BASE, {"name": "A", "kind": "static"}).json()["id"]
    assert send(api, "post", f"{BASE}/{pk}/archive", {}).json()["is_archived"] is True
    assert Segment.objects.get(pk=pk).is_archived
    assert api.get(f"{BASE}/99999999").status_code == 404
    assert (
        send(client_for(read_only), "post", BASE, {"name": "R", "kind": "static"}).status_code
        == 403
    )
