"""``POST /api/v1/quality/duplicates/check``: the same answer as the forms, errors in the one
error shape, nothing about records the caller may not see."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.quality.conftest import HOSTILE
from vefa.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/quality/duplicates/check"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, data: object):
    return client.post(URL, data=json.dumps(data), content_type="application/json")


def test_matches_with_score_reasons_and_link(create_customer, rep, team):
    ayse = create_customer(
        rep, first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com", owner=rep.pk
    )
    response = post(client_for(rep), {"first_name": "Ayse", "email": "AYSE@example.com"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checked"] is True
    [match] = body["matches"]
    assert match["kind"] == "customer"
    assert match["id"] == ayse.pk
    assert match["url"] == f"/customers/{ayse.pk}/"
    assert match["score"] >= 75
    assert match["reasons"][0] == {"code": "same_email", "value": None, "label": "same e-mail"}


def test_nothing_given_is_not_checked(rep):
    response = post(client_for(rep), {})
    assert response.status_code == 200
    assert response.json() == {"matches": [], "checked": False}


def test_hidden_records_are_not_mentioned(create_customer, rep, rep_other_team, other_team):
    create_customer(
        first_name="Jovana",
        last_name="Petrović",
        email="jovana@example.rs",
        owner=rep_other_team.pk,
        team=other_team.pk,
    )
    response = post(client_for(rep), {"first_name": "Jovana", "email": "jovana@example.rs"})
    assert response.status_code == 200
    assert response.json() == {"matches": [], "checked": True}
    assert b"Jovana" not in response.content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_name": "x" * 10_000}, "first_name"),
        ({"phone": 123}, "phone"),
        ({"exclude_customer": 0}, "exclude_customer"),
        ({"exclude_lead": "abc"}, "exclude_lead"),
    ],
)
def test_bad_input_names_the_field(rep, data, field):
    response = post(client_for(rep), data)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert field in body["fields"]


def test_too_long_text_says_nothing_was_checked(rep):
    response = post(client_for(rep), {"street": "x" * 301})
    assert response.status_code == 422
    assert "nothing was checked" in response.json()["fields"]["street"][0]


def test_not_json_and_not_signed_in(rep):
    response = client_for(rep).post(URL, data="{", content_type="application/json")
    assert response.status_code in (400, 422)
    assert Client().post(URL, data="{}", content_type="application/json").status_code == 401


def test_hostile_values_come_back_as_data(create_customer, admin_user):
    for text in HOSTILE:
        create_customer(first_name=text, last_name="Kaya")
    api = client_for(admin_user)
    for text in HOSTILE:
        response = post(api, {"first_name": text, "last_name": "Kaya"})
        assert response.status_code == 200
        names = [m["name"] for m in response.json()["matches"]]
        assert f"{text} Kaya".strip() in names or any(text.strip() in n for n in names)
