"""The targets and forecast API: create, read with attainment, access as 404, bad input."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory
from vefa.accounts.services import api_token_create
from vefa.sales.models import Opportunity, SalesTarget

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def test_manager_creates_rep_reads_own(manager, rep, rep_same_team, own_customer, stages):
    Opportunity.objects.create(
        name="W",
        customer=own_customer,
        pipeline=stages[0].pipeline,
        stage=stages[4],
        status="won",
        amount=Decimal("250"),
        currency="TRY",
        owner=rep,
        team=rep.team,
        closed_at=timezone.now(),
    )
    client = client_for(manager)
    today = timezone.localdate()
    response = post(
        client,
        f"{BASE}/targets",
        {"user_id": rep.pk, "period_start": str(today), "amount": "1000", "currency": "TRY"},
        **{"Idempotency-Key": "t-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["achieved"] == "250.00" and body["percent"] == "25.0"
    assert body["period_start"] == str(today.replace(day=1))
    assert response["Location"] == f"{BASE}/targets/{body['id']}"
    other = post(
        client,
        f"{BASE}/targets",
        {"user_id": rep_same_team.pk, "period_start": str(today), "amount": "5", "metric": "count"},
    )
    assert other.status_code == 201, other.content
    rep_client = client_for(rep)
    items = rep_client.get(f"{BASE}/targets").json()["items"]
    assert [i["id"] for i in items] == [body["id"]]
    assert rep_client.get(f"{BASE}/targets/{other.json()['id']}").status_code == 404
    # a rep may read their target but not change or delete it: 404, nothing changed
    target_url = f"{BASE}/targets/{body['id']}"
    assert (
        rep_client.patch(
            target_url, data='{"amount": "1"}', content_type="application/json"
        ).status_code
        == 404
    )
    assert rep_client.delete(target_url).status_code == 404
    assert (
        post(
            rep_client,
            f"{BASE}/targets",
            {
                "user_id": rep.pk,
                "period_start": str(today),
                "amount": "1",
                "currency": "TRY",
                "metric": "revenue",
                "period_kind": "year",
            },
        ).status_code
        == 404
    )
    assert SalesTarget.objects.get(pk=body["id"]).amount == Decimal(1000)
    detail = client.get(target_url)
    changed = client.patch(
        target_url,
        data='{"amount": "2000"}',
        content_type="application/json",
        headers={"If-Match": detail["ETag"]},
    )
    assert changed.status_code == 200 and changed.json()["percent"] == "12.5"
    stale = client.patch(
        target_url,
        data='{"amount": "3000"}',
        content_type="application/json",
        headers={"If-Match": detail["ETag"]},
    )
    assert stale.status_code == 412
    assert client.delete(target_url).status_code == 204


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"user_id": None}, "user_id"),
        ({"user_id": "me"}, "user_id"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1" * 40}, "amount"),
        ({"currency": "QQQ"}, "currency"),
        ({"period_start": "2026-02-31"}, "period_start"),
        ({"period_kind": "week"}, "period_kind"),
    ],
)
def test_bad_target_input_is_422(manager, rep, over, field):
    body = {"user_id": rep.pk, "period_start": "2026-01-01", "amount": "1", "currency": "TRY"}
    body.update(over)
    response = post(client_for(manager), f"{BASE}/targets", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert not SalesTarget.objects.exists()


def test_forecast_api(manager, rep, own_customer, stages):
    today = timezone.localdate()
    Opportunity.objects.create(
        name="Open",
        customer=own_customer,
        pipeline=stages[0].pipeline,
        stage=stages[2],
        amount=Decimal("1000"),
        currency="TRY",
        probability=50,
        owner=rep,
        team=rep.team,
        expected_close_date=today,
        forecast_category="commit",
    )
    response = client_for(manager).get(f"{BASE}/forecast?currency=TRY")
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "TRY"
    assert len(body["months"]) == 12
    assert body["months"][0]["weighted"] == "500.00"
    assert body["months"][0]["commit"] == "1000.00"
    assert body["totals"]["weighted"] == "500.00"
    assert client_for(manager).get(f"{BASE}/forecast?currency=ZZZ").status_code == 422
    assert client_for(manager).get(f"{BASE}/forecast?owner=abc").status_code == 422
    marketer = client_for(UserFactory(role="marketer")).get(f"{BASE}/forecast").json()
    assert marketer["totals"]["weighted"] == "0.00"
    other = client_for(UserFactory(role="sales_rep")).get(f"{BASE}/forecast").json()
    assert other["totals"]["weighted"] == "0.00"
    assert datetime.date.fromisoformat(body["months"][0]["month"]) == today.replace(day=1)
