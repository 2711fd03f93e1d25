"""The customers API: CRUD, filters, keyset pages, ETag/If-Match, Idempotency-Key, 404s."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.customers.conftest import HOSTILE
from tests.customers.factories import make_customer
from vefa.accounts.services import api_token_create
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
)
from vefa.interactions.models import Activity
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, method: str, url: str, data: object = None, **headers) -> object:
    body = json.dumps(data) if data is not None else ""
    return client.generic(method, url, body, content_type="application/json", headers=headers)


class TestCustomers:
    def test_create_returns_201_location_etag_and_the_record(self, rep):
        client = client_for(rep)
        response = send(
            client,
            "POST",
            f"{BASE}/customers",
            {
                "kind": "person",
                "first_name": "Ayşe",
                "last_name": "Yılmaz",
                "email": "AYSE@example.com",
                "phone": "0532 123 45 67",
                "tags": ["vip"],
                "birth_date": "1990-05-17",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["display_name"] == "Ayşe Yılmaz"
        assert body["primary_email"] == "ayse@example.com"
        assert body["primary_phone"] == "+905321234567"
        assert body["tags"] == ["vip"]
        assert body["owner_id"] == rep.pk
        assert body["age"] is not None
        assert response["Location"] == f"{BASE}/customers/{body['id']}"
        assert response["ETag"] == f'"{body["id"]}-1"'

    def test_idempotent_create_replays_the_first_answer(self, rep):
        client = client_for(rep)
        payload = {"kind": "organisation", "legal_name": "Acme AŞ"}
        first = send(client, "POST", f"{BASE}/customers", payload, **{"Idempotency-Key": "k-1"})
        again = send(client, "POST", f"{BASE}/customers", payload, **{"Idempotency-Key": "k-1"})
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Customer.objects.count() == 1
        other = send(
            client,
            "POST",
            f"{BASE}/customers",
            {"kind": "organisation", "legal_name": "Other"},
            **{"Idempotency-Key": "k-1"},
        )
        assert other.status_code == 422
        assert Customer.objects.count() == 1

    def test_patch_with_stale_if_match_is_412_and_changes_nothing(self, rep, own_customer):
        client = client_for(rep)
        url = f"{BASE}/customers/{own_customer.pk}"
        etag = client.get(url)["ETag"]
        ok = send(client, "PATCH", url, {"pets": "cat"}, **{"If-Match": etag})
        assert ok.status_code == 200
        assert ok["ETag"] == f'"{own_customer.pk}-2"'
        stale = send(client, "PATCH", url, {"pets": "dog"}, **{"If-Match": etag})
        assert stale.status_code == 412
        assert stale.json()["code"] == "conflict"
        assert stale.json()["current_version"] == 2
        own_customer.refresh_from_db()
        assert own_customer.pets == "cat"

    def test_patch_sends_only_the_fields_given(self, rep, own_customer):
        client = client_for(rep)
        response = send(
            client, "PATCH", f"{BASE}/customers/{own_customer.pk}", {"lifecycle_stage": "lost"}
        )
        assert response.status_code == 200
        assert response.json()["lost_at"] is not None
        assert response.json()["first_name"] == "Ayşe"

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"kind": "person", "first_name": 12}, "first_name"),
            ({"kind": "person", "last_name": "A", "birth_date": "soon"}, "birth_date"),
            ({"kind": "person", "last_name": "A", "children_count": "two"}, "children_count"),
            ({"kind": "alien", "last_name": "A"}, "kind"),
            ({"last_name": "A"}, "kind"),
            ({"kind": "person", "first_name": "x" * 10_000}, "first_name"),
            ({"kind": "person", "last_name": "A", "phone": "12"}, "phone"),
            (
                {"kind": "person", "last_name": "A", "custom_fields": {"nope": 1}},
                "custom_fields.nope",
            ),
        ],
    )
    def test_bad_input_is_422_with_field_messages(self, rep, payload, field):
        response = send(client_for(rep), "POST", f"{BASE}/customers", payload)
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "validation_failed"
        assert field in body["fields"], body
        assert Customer.objects.count() == 0

    def test_malformed_json_is_an_error_not_a_crash(self, rep):
        response = client_for(rep).generic(
            "POST", f"{BASE}/customers", "{not json", content_type="application/json"
        )
        assert 400 <= response.status_code < 500
        assert Customer.objects.count() == 0

    @pytest.mark.parametrize("value", HOSTILE)
    def test_hostile_strings_round_trip_unchanged(self, rep, value):
        client = client_for(rep)
        response = send(client, "POST", f"{BASE}/customers", {"kind": "person", "last_name": value})
        assert response.status_code == 201
        assert response.json()["last_name"] == value

    def test_hidden_customer_is_404_on_every_operation(self, rep, other_customer):
        client = client_for(rep)
        url = f"{BASE}/customers/{other_customer.pk}"
        assert client.get(url).status_code == 404
        assert send(client, "PATCH", url, {"pets": "dog"}).status_code == 404
        assert send(client, "DELETE", url).status_code == 404
        for sub in ("addresses", "contact-points", "relationships", "consent", "consent/history"):
            assert client.get(f"{url}/{sub}").status_code == 404
        response = send(
            client,
            "POST",
            f"{url}/contact-points",
            {"kind": "email", "value": "x@y.com"},
        )
        assert response.status_code == 404
        assert ChangeLogEntry.objects.filter(model__startswith="customers.").count() == 0
        other_customer.refresh_from_db()
        assert other_customer.pets == "" and other_customer.version == 1

    def test_visible_but_read_only_customer_answers_404_on_writes(self, rep, team_customer):
        client = client_for(rep)
        url = f"{BASE}/customers/{team_customer.pk}"
        assert client.get(url).status_code == 200
        assert send(client, "PATCH", url, {"pets": "dog"}).status_code == 404
        assert send(client, "DELETE", url).status_code == 404
        assert ChangeLogEntry.objects.filter(model__startswith="customers.").count() == 0

    def test_manager_deletes_with_204(self, manager, own_customer):
        response = send(client_for(manager), "DELETE", f"{BASE}/customers/{own_customer.pk}")
        assert response.status_code == 204
        assert not Customer.objects.filter(pk=own_customer.pk).exists()

    def test_list_filters_pages_and_limit(self, rep, team):
        for i in range(5):
            make_customer(owner=rep, team=team, first_name=f"Kişi{i}", last_name="Test")
        make_customer(owner=rep, team=team, kind="organisation", trade_name="Firma")
        client = client_for(rep)
        first = client.get(f"{BASE}/customers", {"kind": "person", "limit": 2})
        assert first.status_code == 200
        body = first.json()
        assert [c["display_name"] for c in body["items"]] == ["Kişi0 Test", "Kişi1 Test"]
        second = client.get(
            f"{BASE}/customers", {"kind": "person", "limit": 2, "cursor": body["next_cursor"]}
        )
        assert [c["display_name"] for c in second.json()["items"]] == ["Kişi2 Test", "Kişi3 Test"]
        big = client.get(f"{BASE}/customers", {"limit": 1000})
        assert big.status_code == 200
        assert len(big.json()["items"]) == 6  # clamped to ≤ 100, all fit

    def test_list_filter_errors_are_422_with_the_parameter(self, rep):
        response = client_for(rep).get(
            f"{BASE}/customers", {"created_from": "nope", "sort": "drop table"}
        )
        assert response.status_code == 422
        assert set(response.json()["fields"]) == {"created_from", "sort"}

    def test_list_accepts_custom_field_filters(self, rep, team):
        from vefa.platform.models import CustomFieldDefinition

        CustomFieldDefinition.objects.create(
            model="customers.customer",
            key="tier",
            label="Tier",
            field_type="choice",
            choices=["a", "b"],
        )
        make_customer(owner=rep, team=team, last_name="A", custom_fields={"tier": "a"})
        make_customer(owner=rep, team=team, last_name="B", custom_fields={"tier": "b"})
        response = client_for(rep).get(f"{BASE}/customers", {"cf_tier": "b"})
        assert [c["last_name"] for c in response.json()["items"]] == ["B"]
        bad = client_for(rep).get(f"{BASE}/customers", {"cf_tier": "z"})
        assert bad.status_code == 422
        assert "cf_tier" in bad.json()["fields"]

    def test_bulk_assign_reports_refusals_without_naming_them(
        self, rep, own_customer, other_customer, rep_same_team
    ):
        response = send(
            client_for(rep),
            "POST",
            f"{BASE}/customers/bulk-assign",
            {"customer_ids": [own_customer.pk, other_customer.pk], "owner": rep_same_team.pk},
        )
        assert response.status_code == 200
        assert response.json() == {"changed": 1, "unchanged": 0, "refused": 1}

    def test_bulk_tag(self, rep, own_customer):
        response = send(
            client_for(rep),
            "POST",
            f"{BASE}/customers/bulk-tag",
            {"customer_ids": [own_customer.pk], "add": ["gold"]},
        )
        assert response.json() == {"changed": 1, "unchanged": 0, "refused": 0}
        assert list(own_customer.tags.values_list("name", flat=True)) == ["gold"]

    def test_unauthenticated_is_401(self, own_customer):
        assert Client().get(f"{BASE}/customers/{own_customer.pk}").status_code == 401


class TestChildren:
    def test_contact_point_crud_with_etag(self, rep, own_customer):
        client = client_for(rep)
        created = send(
            client,
            "POST",
            f"{BASE}/customers/{own_customer.pk}/contact-points",
            {"kind": "phone", "value": "0212 555 00 00"},
            **{"Idempotency-Key": "cp-1"},
        )
        assert created.status_code == 201
        point = created.json()
        assert point["normalized"] == "+902125550000"
        assert created["Location"] == f"{BASE}/contact-points/{point['id']}"
        url = created["Location"]
        etag = client.get(url)["ETag"]
        changed = send(client, "PATCH", url, {"label": "office"}, **{"If-Match": etag})
        assert changed.status_code == 200
        assert send(client, "PATCH", url, {"label": "x"}, **{"If-Match": etag}).status_code == 412
        listed = client.get(f"{BASE}/customers/{own_customer.pk}/contact-points").json()
        assert [p["label"] for p in listed["items"]] == ["office"]
        assert send(client, "DELETE", url).status_code == 204
        assert ContactPoint.objects.count() == 0

    def test_invalid_phone_is_a_field_error(self, rep, own_customer):
        response = send(
            client_for(rep),
            "POST",
            f"{BASE}/customers/{own_customer.pk}/contact-points",
            {"kind": "phone", "value": "123"},
        )
        assert response.status_code == 422
        assert "value" in response.json()["fields"]

    def test_address_crud(self, rep, own_customer):
        client = client_for(rep)
        created = send(
            client,
            "POST",
            f"{BASE}/customers/{own_customer.pk}/addresses",
            {"kind": "billing", "line1": "Knez Mihailova 1", "city": "Beograd", "country": "RS"},
        )
        assert created.status_code == 201
        assert created.json()["is_primary"] is True
        url = created["Location"]
        assert send(client, "PATCH", url, {"postal_code": "11000"}).json()["postal_code"] == "11000"
        assert client.get(f"{BASE}/customers/{own_customer.pk}").json()["city"] == "Beograd"
        assert send(client, "DELETE", url).status_code == 204
        assert Address.objects.count() == 0

    def test_relationship_crud(self, rep, own_customer, organisation):
        client = client_for(rep)
        created = send(
            client,
            "POST",
            f"{BASE}/customers/{own_customer.pk}/relationships",
            {"to_customer": organisation.pk, "kind": "works_at", "job_title": "Buyer"},
        )
        assert created.status_code == 201, created.content
        body = created.json()
        assert (body["from_customer_name"], body["to_customer_name"]) == ("Ayşe Yılmaz", "Acme Ltd")
        from_org = client.get(f"{BASE}/customers/{organisation.pk}/relationships").json()
        assert [r["id"] for r in from_org["items"]] == [body["id"]]
        url = created["Location"]
        assert send(client, "PATCH", url, {"role": "Champion"}).json()["role"] == "Champion"
        assert send(client, "DELETE", url).status_code == 204
        assert CustomerRelationship.objects.count() == 0

    def test_consent_grant_withdraw_and_current(self, rep, own_customer):
        client = client_for(rep)
        base = f"{BASE}/customers/{own_customer.pk}/consent"
        granted = send(
            client,
            "POST",
            f"{base}/grant",
            {"channel": "email", "purpose": "marketing", "source": "web form", "text_version": "3"},
        )
        assert granted.status_code == 200
        assert granted.json()["recorded_by_id"] == rep.pk
        withdrawn = send(
            client, "POST", f"{base}/withdraw", {"channel": "email", "purpose": "marketing"}
        )
        assert withdrawn.json()["status"] == "withdrawn"
        assert withdrawn.json()["text_version"] == "3"
        current = client.get(base).json()
        assert [(c["channel"], c["purpose"], c["status"]) for c in current] == [
            ("email", "marketing", "withdrawn")
        ]
        history = client.get(f"{base}/history").json()
        assert [c["status"] for c in history["items"]] == ["granted", "withdrawn"]
        bad = send(client, "POST", f"{base}/grant", {"channel": "fax", "purpose": "marketing"})
        assert bad.status_code == 422
        assert Consent.objects.count() == 2


class TestLeads:
    def test_lead_create_update_and_convert(self, rep, team):
        client = client_for(rep)
        created = send(
            client,
            "POST",
            f"{BASE}/leads",
            {
                "first_name": "Marko",
                "last_name": "Jovanović",
                "company_name": "Jovanović d.o.o.",
                "email": "marko@jovanovic.rs",
                "source": "referral",
                "tags": ["balkan"],
            },
            **{"Idempotency-Key": "lead-1"},
        )
        assert created.status_code == 201, created.content
        lead = created.json()
        url = created["Location"]
        assert url == f"{BASE}/leads/{lead['id']}"
        activity = Activity.objects.create(
            kind="task", subject="Send offer", owner=rep, team=team, lead_id=lead["id"]
        )
        etag = client.get(url)["ETag"]
        updated = send(client, "PATCH", url, {"status": "qualified"}, **{"If-Match": etag})
        assert updated.status_code == 200
        stale = send(client, "POST", f"{url}/convert", {}, **{"If-Match": etag})
        assert stale.status_code == 412
        converted = send(
            client,
            "POST",
            f"{url}/convert",
            {"lifecycle_stage": "customer"},
            **{"If-Match": updated["ETag"]},
        )
        assert converted.status_code == 200, converted.content
        body = converted.json()
        assert body["lead"]["status"] == "converted"
        assert body["customer"]["display_name"] == "Marko Jovanović"
        assert body["customer"]["tags"] == ["balkan"]
        assert body["organisation"]["display_name"] == "Jovanović d.o.o."
        assert body["relationship_id"] is not None
        activity.refresh_from_db()
        assert activity.customer_id == body["customer"]["id"]
        again = send(client, "POST", f"{url}/convert", {})
        assert again.status_code == 422
        assert Customer.objects.count() == 2

    def test_lead_list_filters(self, rep, own_lead):
        client = client_for(rep)
        assert [
            lead["id"] for lead in client.get(f"{BASE}/leads", {"q": "den"}).json()["items"]
        ] == [own_lead.pk]
        assert client.get(f"{BASE}/leads", {"score_min": "x"}).status_code == 422

    def test_hidden_lead_is_404(self, rep, other_lead):
        client = client_for(rep)
        url = f"{BASE}/leads/{other_lead.pk}"
        assert client.get(url).status_code == 404
        assert send(client, "PATCH", url, {"score": 9}).status_code == 404
        assert send(client, "POST", f"{url}/convert", {}).status_code == 404
        assert send(client, "DELETE", url).status_code == 404
        assert Lead.objects.get(pk=other_lead.pk).score == 0
        assert ChangeLogEntry.objects.filter(model__startswith="customers.").count() == 0


def test_a_tampered_cursor_is_not_a_server_error(rep, own_customer):
    import base64

    cursor = base64.urlsafe_b64encode(b'["abc", 1, 0]').decode().rstrip("=")
    client = client_for(rep)
    for url in (
        f"{BASE}/customers?sort=created&cursor={cursor}",
        f"{BASE}/customers/{own_customer.pk}/addresses?cursor={cursor}",
        f"{BASE}/leads?sort=score&cursor={cursor}",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("rows", [5, 50])
def test_api_list_query_count_is_constant(rep, team, rows, django_assert_num_queries):
    for i in range(rows):
        make_customer(owner=rep, team=team, last_name=f"R{i:03d}", tags=["a", "b"])
    client = client_for(rep)
    # token, token last-used, custom-field definitions, the rep's own and team's first
    # rows (one query each), page, tags
    with django_assert_num_queries(7):
        response = client.get(f"{BASE}/customers", {"limit": 100})
    assert len(response.json()["items"]) == rows
