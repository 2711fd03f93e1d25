"""The contracts API: create with Location/ETag/Idempotency-Key, bad input as 422, If-Match,
renew now and renew, and access (rep own, service reads all, marketer nothing) as 404."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from vefa.accounts.services import api_token_create
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Contract, Opportunity, Stage
from vefa.sales.services.contracts import contract_create

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"
TODAY = timezone.localdate()
D = datetime.timedelta(days=1)


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client, url, data, **headers):
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def payload(customer, **over):
    data = {
        "customer_id": customer.pk,
        "title": "Destek",
        "start_date": str(TODAY - 100 * D),
        "end_date": str(TODAY + 265 * D),
        "value": "2400.00",
        "currency": "TRY",
        "status": "active",
    }
    data.update(over)
    return data


def make(owner, customer, **over):
    values = {
        "customer_id": customer.pk,
        "title": "Sözleşme",
        "start_date": TODAY - 100 * D,
        "end_date": TODAY + 20 * D,
        "value": "1000",
        "status": "active",
    }
    values.update(over)
    return contract_create(actor=owner, **values)


def test_create_read_update_with_etag(rep, own_customer):
    client = client_for(rep)
    response = post(client, f"{BASE}/contracts", payload(own_customer), **{"Idempotency-Key": "k1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("C-")
    assert body["renewal_date"] == body["end_date"]
    assert body["value"] == "2400.0000" or body["value"] == "2400.00"
    assert response["Location"] == f"{BASE}/contracts/{body['id']}"
    again = post(client, f"{BASE}/contracts", payload(own_customer), **{"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Contract.objects.count() == 1
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and detail["ETag"] == f'"{body["id"]}-1"'
    changed = patch(client, response["Location"], {"value": "3000"}, **{"If-Match": detail["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] == f'"{body["id"]}-2"'
    stale = patch(client, response["Location"], {"value": "1"}, **{"If-Match": detail["ETag"]})
    assert stale.status_code == 412
    assert stale.json()["code"] == "conflict"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"end_date": str(TODAY - 500 * D)}, "end_date"),
        ({"value": "-1"}, "value"),
        ({"value": "1e30"}, "value"),
        ({"value": "Infinity"}, "value"),
        ({"currency": "ZZZ"}, "currency"),
        ({"title": ""}, "title"),
        ({"title": "x" * 300}, "title"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"status": "renewed"}, "status"),
        ({"remind_days_before": 1000}, "remind_days_before"),
        ({"customer_id": 999999}, "customer_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(rep, own_customer, over, field):
    response = post(client_for(rep), f"{BASE}/contracts", payload(own_customer, **over))
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert Contract.objects.count() == 0


def test_hostile_text_round_trips(rep, own_customer):
    client = client_for(rep)
    for text in HOSTILE:
        response = post(client, f"{BASE}/contracts", payload(own_customer, title=text, notes=text))
        assert response.status_code == 201
        assert response.json()["title"] == text.strip()


def test_access_rep_own_service_reads_marketer_nothing(
    rep, rep_same_team, team_customer, own_customer
):
    theirs = make(rep_same_team, team_customer)
    mine = make(rep, own_customer)
    rep_client = client_for(rep)
    assert rep_client.get(f"{BASE}/contracts/{theirs.pk}").status_code == 404
    assert patch(rep_client, f"{BASE}/contracts/{theirs.pk}", {"title": "x"}).status_code == 404
    ids = [c["id"] for c in rep_client.get(f"{BASE}/contracts").json()["items"]]
    assert ids == [mine.pk]
    service = client_for(UserFactory(role="service_agent"))
    listed = {c["id"] for c in service.get(f"{BASE}/contracts").json()["items"]}
    assert listed == {mine.pk, theirs.pk}
    before = ChangeLogEntry.objects.count()
    assert patch(service, f"{BASE}/contracts/{mine.pk}", {"title": "x"}).status_code == 404
    assert post(service, f"{BASE}/contracts/{mine.pk}/renew-now", {}).status_code == 404
    assert post(service, f"{BASE}/contracts", payload(own_customer)).status_code in (404, 422)
    assert ChangeLogEntry.objects.count() == before
    marketer = client_for(UserFactory(role="marketer"))
    assert marketer.get(f"{BASE}/contracts").json()["items"] == []
    assert marketer.get(f"{BASE}/contracts/{mine.pk}").status_code == 404
    manager = client_for(UserFactory(role="sales_manager", team=rep.team))
    listed = {c["id"] for c in manager.get(f"{BASE}/contracts").json()["items"]}
    assert listed == {mine.pk, theirs.pk}


def test_filters_status_owner_and_renewal_window(rep, own_customer):
    soon = make(rep, own_customer, end_date=TODAY + 20 * D)
    later = make(rep, own_customer, end_date=TODAY + 200 * D)
    draft = make(rep, own_customer, status="draft")
    client = client_for(rep)

    def ids(query: str) -> list[int]:
        return [c["id"] for c in client.get(f"{BASE}/contracts?{query}").json()["items"]]

    assert ids("renewal_within=30") == [soon.pk, draft.pk]
    assert ids("renewal_within=365") == [soon.pk, draft.pk, later.pk]
    assert ids("status=draft") == [draft.pk]
    assert ids("owner=mine") == [draft.pk, later.pk, soon.pk]
    assert client.get(f"{BASE}/contracts?status=bogus").status_code == 422
    page = client.get(f"{BASE}/contracts?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"{BASE}/contracts?limit=2&cursor={page['next_cursor']}").json()
    assert [c["id"] for c in rest["items"]] == [soon.pk]


def test_renew_now_then_renew_after_win(rep, own_customer):
    contract = make(rep, own_customer)
    client = client_for(rep)
    first = post(client, f"{BASE}/contracts/{contract.pk}/renew-now", {})
    assert first.status_code == 200
    again = post(client, f"{BASE}/contracts/{contract.pk}/renew-now", {})
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["renewal_of_id"] == contract.pk
    assert post(client, f"{BASE}/contracts/{contract.pk}/renew", {}).status_code == 422
    opportunity = Opportunity.objects.get(pk=first.json()["id"])
    won = Stage.objects.get(pipeline=opportunity.pipeline, kind="won")
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status="won", stage=won, closed_at=timezone.now()
    )
    renewed = post(client, f"{BASE}/contracts/{contract.pk}/renew", {})
    assert renewed.status_code == 201
    assert renewed.json()["status"] == "active"
    old = client.get(f"{BASE}/contracts/{contract.pk}").json()
    assert old["status"] == "renewed" and old["renewed_by_id"] == renewed.json()["id"]
